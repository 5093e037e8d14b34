//! Client identity at the authorization server, in the MCP specification's priority order:
//! a pre-registered client (from the user), a Client ID Metadata Document (an https URL the
//! user names, when the server supports them), a registration cached from before, and last
//! Dynamic Client Registration (RFC 7591).
//!
//! Registrations are cached per issuer and redirect URI, so a changed redirect URI (another
//! callback port) registers afresh and two authorization servers never share a client.

use super::AuthError;
use super::discovery::{AsMetadata, check_endpoint};
use crate::net;
use crate::secret::Secret;
use crate::store::{Registration, Store, Tokens};
use serde::Deserialize;
use url::Url;

/// Largest registration response accepted.
const RESPONSE_LIMIT: usize = 64 * 1024;

/// What the user told us about the client.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientIdentity {
    /// A pre-registered client id (`--client-id`, or mcp-remote's static client info).
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    /// The private key the client authenticates with instead (`--client-key`,
    /// `private_key_jwt`).
    pub(crate) key: Option<std::sync::Arc<super::assertion::ClientKey>>,
    /// The token endpoint auth method of the pre-registered client, if known.
    pub(crate) auth_method: Option<String>,
    /// An https URL serving our Client ID Metadata Document (`--client-metadata-url`).
    pub(crate) metadata_url: Option<Url>,
    /// Extra client metadata merged into the registration request (mcp-remote's
    /// `--static-oauth-client-metadata`).
    pub(crate) extra_metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Register for the device authorization grant too (`--device-code`).
    pub(crate) device_grant: bool,
}

/// Where a client identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    PreRegistered,
    MetadataDocument,
    Cached,
    Registered,
}

/// Picks (or obtains) the client identity to use with this authorization server.
pub(crate) async fn client_for(
    http: &net::Client,
    store: &Store,
    metadata: &AsMetadata,
    redirect_uri: &Url,
    options: &ClientIdentity,
    scopes: &[String],
) -> Result<(Registration, Source), AuthError> {
    if let Some(configured) = configured(metadata, redirect_uri, options) {
        return Ok(configured);
    }
    if let Some(cached) = store
        .registration(&metadata.issuer, redirect_uri.as_str())
        .await?
    {
        return Ok((cached, Source::Cached));
    }
    let Some(endpoint) = &metadata.registration_endpoint else {
        return Err(AuthError::Registration(format!(
            "the authorization server {} offers no way for mcp-bridge to register (no registration endpoint{}); pass --client-id{}",
            metadata.issuer,
            if metadata.client_id_metadata_document_supported {
                ""
            } else {
                ", no client ID metadata documents"
            },
            if metadata.client_id_metadata_document_supported {
                " or --client-metadata-url"
            } else {
                ""
            },
        )));
    };
    let registration = register(http, metadata, endpoint, redirect_uri, options, scopes).await?;
    store.put_registration(&registration).await?;
    Ok((registration, Source::Registered))
}

/// The client identity the user configured: a pre-registered client, or a Client ID
/// Metadata Document when the server supports them.
pub(crate) fn configured(
    metadata: &AsMetadata,
    redirect_uri: &Url,
    options: &ClientIdentity,
) -> Option<(Registration, Source)> {
    let registration =
        |client_id: String, client_secret: Option<Secret>, method: String| Registration {
            issuer: metadata.issuer.clone(),
            client_id,
            client_secret,
            redirect_uri: redirect_uri.to_string(),
            token_endpoint_auth_method: method,
            registration_access_token: None,
            created_at: crate::clock::now(),
        };
    if let Some(client_id) = &options.client_id {
        let method = options
            .auth_method
            .clone()
            .unwrap_or_else(|| match &options.client_secret {
                Some(_) => secret_method(metadata),
                None => "none".to_owned(),
            });
        let r = registration(client_id.clone(), options.client_secret.clone(), method);
        return Some((r, Source::PreRegistered));
    }
    match &options.metadata_url {
        Some(url) if metadata.client_id_metadata_document_supported => Some((
            registration(url.to_string(), None, "none".to_owned()),
            Source::MetadataDocument,
        )),
        _ => None,
    }
}

/// The client `tokens` were issued to, for authenticating a refresh: the configured one if
/// it is that client, else its stored registration, else a public client with that id.
pub(crate) async fn issued_to(
    store: &Store,
    metadata: &AsMetadata,
    redirect_uri: &Url,
    options: &ClientIdentity,
    tokens: &Tokens,
) -> Result<Registration, AuthError> {
    if let Some((registration, _)) =
        configured(metadata, redirect_uri, options).filter(|(r, _)| r.client_id == tokens.client_id)
    {
        return Ok(registration);
    }
    if let Some(found) = store
        .registration_of(&tokens.issuer, &tokens.client_id)
        .await?
    {
        return Ok(found);
    }
    // A public client needs nothing more than its id.
    Ok(Registration {
        issuer: tokens.issuer.clone(),
        client_id: tokens.client_id.clone(),
        client_secret: None,
        redirect_uri: String::new(),
        token_endpoint_auth_method: "none".into(),
        registration_access_token: None,
        created_at: crate::clock::now(),
    })
}

/// The auth method for a client that has a secret: basic unless the server only takes post.
fn secret_method(metadata: &AsMetadata) -> String {
    match &metadata.token_endpoint_auth_methods_supported {
        Some(m)
            if !m.iter().any(|m| m == "client_secret_basic")
                && m.iter().any(|m| m == "client_secret_post") =>
        {
            "client_secret_post".to_owned()
        }
        _ => "client_secret_basic".to_owned(),
    }
}

/// The auth method to ask for when registering: a public client ("none") where allowed,
/// else what the server supports.
fn registration_method(metadata: &AsMetadata) -> String {
    match &metadata.token_endpoint_auth_methods_supported {
        None => "none".to_owned(),
        Some(m) if m.iter().any(|m| m == "none") => "none".to_owned(),
        Some(m) if m.iter().any(|m| m == "client_secret_basic") => "client_secret_basic".to_owned(),
        Some(m) if m.iter().any(|m| m == "client_secret_post") => "client_secret_post".to_owned(),
        Some(m) => m.first().cloned().unwrap_or_else(|| "none".to_owned()),
    }
}

#[derive(Deserialize)]
struct RegistrationResponse {
    client_id: String,
    client_secret: Option<String>,
    token_endpoint_auth_method: Option<String>,
    registration_access_token: Option<String>,
}

/// Dynamic Client Registration (RFC 7591) as a native application.
async fn register(
    http: &net::Client,
    metadata: &AsMetadata,
    endpoint: &Url,
    redirect_uri: &Url,
    options: &ClientIdentity,
    scopes: &[String],
) -> Result<Registration, AuthError> {
    check_endpoint(endpoint, "registration endpoint")?;
    let method = registration_method(metadata);
    let mut grant_types = vec!["authorization_code", "refresh_token"];
    if options.device_grant {
        grant_types.push(super::device::GRANT);
    }
    let mut body = serde_json::json!({
        "client_name": "mcp-bridge",
        "redirect_uris": [redirect_uri.as_str()],
        "grant_types": grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
        "application_type": "native",
        "software_id": "mcp-bridge",
        "software_version": env!("CARGO_PKG_VERSION"),
    });
    // The client's `scope` (RFC 7591) may only hold scopes the authorization server knows:
    // the resource's own scopes are often not in its list, and some servers refuse a
    // registration over them. The authorization request asks for them all the same.
    let registrable: Vec<&str> = scopes
        .iter()
        .map(String::as_str)
        .filter(|s| {
            metadata
                .scopes_supported
                .as_ref()
                .is_none_or(|known| known.iter().any(|k| k == s))
        })
        .collect();
    if !registrable.is_empty() {
        body["scope"] = serde_json::Value::String(registrable.join(" "));
    }
    if let (Some(extra), Some(object)) = (&options.extra_metadata, body.as_object_mut()) {
        for (k, v) in extra {
            object.insert(k.clone(), v.clone());
        }
    }
    tracing::info!(issuer = %metadata.issuer, "registering mcp-bridge with the authorization server");
    let what = "the client registration request";
    let bytes = loop {
        let resp = http
            .for_url(endpoint)?
            .post(endpoint.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| AuthError::send(what, e))?;
        let status = resp.status();
        let bytes = net::read_body(resp, RESPONSE_LIMIT)
            .await
            .map_err(|e| AuthError::body(what, e))?;
        if status.is_success() {
            break bytes;
        }
        let error = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
        let code = error.as_ref().and_then(|v| v.get("error")?.as_str());
        // A server that still finds fault with the scope registers the client without one.
        if code == Some("invalid_client_metadata")
            && let Some(object) = body.as_object_mut()
            && object.remove("scope").is_some()
        {
            tracing::info!(
                "the authorization server refused the registration's scope; registering without one"
            );
            continue;
        }
        let detail = error
            .as_ref()
            .and_then(|v| {
                let error = v.get("error")?.as_str()?.to_owned();
                let description = v
                    .get("error_description")
                    .and_then(|d| d.as_str())
                    .unwrap_or("");
                Some(net::excerpt(&format!("{error} {description}"), 300))
            })
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        return Err(AuthError::Registration(format!(
            "the authorization server refused to register mcp-bridge: {detail}"
        )));
    };
    let parsed: RegistrationResponse = serde_json::from_slice(&bytes).map_err(|e| {
        AuthError::Registration(format!("the registration response is not valid: {e}"))
    })?;
    let method = parsed.token_endpoint_auth_method.unwrap_or(
        if parsed.client_secret.is_some() && method == "none" {
            "client_secret_basic".to_owned()
        } else {
            method
        },
    );
    Ok(Registration {
        issuer: metadata.issuer.clone(),
        client_id: parsed.client_id,
        client_secret: parsed.client_secret.map(Secret::new),
        redirect_uri: redirect_uri.to_string(),
        token_endpoint_auth_method: method,
        registration_access_token: parsed.registration_access_token.map(Secret::new),
        created_at: crate::clock::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(methods: Option<&[&str]>) -> AsMetadata {
        AsMetadata {
            issuer: "https://as.example".into(),
            authorization_endpoint: Url::parse("https://as.example/a").unwrap(),
            token_endpoint: Url::parse("https://as.example/t").unwrap(),
            registration_endpoint: None,
            revocation_endpoint: None,
            scopes_supported: None,
            code_challenge_methods_supported: None,
            token_endpoint_auth_methods_supported: methods
                .map(|m| m.iter().map(|s| s.to_string()).collect()),
            token_endpoint_auth_signing_alg_values_supported: None,
            client_id_metadata_document_supported: false,
            iss_parameter_supported: false,
            grant_types_supported: None,
            dpop_signing_alg_values_supported: None,
            device_authorization_endpoint: None,
        }
    }

    /// Registration asks for a public client where possible, else what the server takes.
    #[test]
    fn picks_registration_methods() {
        assert_eq!(registration_method(&meta(None)), "none");
        assert_eq!(
            registration_method(&meta(Some(&["client_secret_basic", "none"]))),
            "none"
        );
        assert_eq!(
            registration_method(&meta(Some(&["client_secret_post", "client_secret_basic"]))),
            "client_secret_basic"
        );
        assert_eq!(
            registration_method(&meta(Some(&["client_secret_post"]))),
            "client_secret_post"
        );
        assert_eq!(
            registration_method(&meta(Some(&["private_key_jwt"]))),
            "private_key_jwt"
        );
    }

    /// A pre-registered secret uses basic unless the server only takes post.
    #[test]
    fn picks_secret_methods() {
        assert_eq!(secret_method(&meta(None)), "client_secret_basic");
        assert_eq!(
            secret_method(&meta(Some(&["client_secret_post"]))),
            "client_secret_post"
        );
        assert_eq!(
            secret_method(&meta(Some(&["client_secret_post", "client_secret_basic"]))),
            "client_secret_basic"
        );
    }
}
