//! Finding the authorization server: Protected Resource Metadata (RFC 9728), then
//! Authorization Server Metadata (RFC 8414 and OpenID Connect Discovery), in the exact order
//! the MCP specification gives, with the 2025-03-26 fallback for servers without PRM.
//!
//! Everything fetched here comes from parties we do not trust yet, so it is validated: the
//! PRM `resource` must name the server we are talking to, the metadata `issuer` must equal
//! the URL it was fetched for, and every endpoint must be https (or http on loopback) with
//! no user info. No credential is ever sent to these URLs.

use super::AuthError;
use super::challenge::Challenge;
use crate::endpoint;
use crate::net;
use serde::Deserialize;
use url::Url;

/// Largest metadata document accepted.
const METADATA_LIMIT: usize = 256 * 1024;

/// Protected Resource Metadata, the members we use.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ResourceMetadata {
    pub(crate) resource: String,
    #[serde(default)]
    pub(crate) authorization_servers: Vec<String>,
    #[serde(default)]
    pub(crate) scopes_supported: Option<Vec<String>>,
    /// RFC 9449 section 5.2: the resource takes only DPoP-bound tokens.
    #[serde(default)]
    pub(crate) dpop_bound_access_tokens_required: bool,
}

/// Authorization Server Metadata, validated.
#[derive(Debug, Clone)]
pub(crate) struct AsMetadata {
    pub(crate) issuer: String,
    pub(crate) authorization_endpoint: Url,
    pub(crate) token_endpoint: Url,
    pub(crate) registration_endpoint: Option<Url>,
    pub(crate) revocation_endpoint: Option<Url>,
    pub(crate) scopes_supported: Option<Vec<String>>,
    pub(crate) code_challenge_methods_supported: Option<Vec<String>>,
    pub(crate) token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The JWS algorithms the token endpoint takes for `private_key_jwt` assertions.
    pub(crate) token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    pub(crate) client_id_metadata_document_supported: bool,
    pub(crate) iss_parameter_supported: bool,
    pub(crate) grant_types_supported: Option<Vec<String>>,
    pub(crate) dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Where a device code login starts (RFC 8628), as published; checked when used.
    pub(crate) device_authorization_endpoint: Option<String>,
}

/// Authorization Server Metadata as fetched, before [`validate_metadata`] checks it.
#[derive(Deserialize)]
pub(crate) struct RawAsMetadata {
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    registration_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    scopes_supported: Option<Vec<String>>,
    code_challenge_methods_supported: Option<Vec<String>>,
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    client_id_metadata_document_supported: bool,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    grant_types_supported: Option<Vec<String>>,
    dpop_signing_alg_values_supported: Option<Vec<String>>,
    device_authorization_endpoint: Option<String>,
}

/// What discovery found: where to authorize, for which resource, with which scopes.
#[derive(Debug, Clone)]
pub(crate) struct Discovery {
    /// The `resource` parameter to send (RFC 8707).
    pub(crate) resource: String,
    pub(crate) metadata: AsMetadata,
    /// `scopes_supported` from the PRM, if it had one.
    pub(crate) prm_scopes: Option<Vec<String>>,
    /// The PRM says the resource takes only DPoP-bound tokens.
    pub(crate) dpop_required: bool,
    /// The server published no OAuth metadata at all and the endpoints are the 2025-03-26
    /// defaults: a server that answers 401 this way often wants a static token instead.
    pub(crate) guessed: bool,
}

/// Runs discovery for `server`, starting from the challenge of its 401 (if any).
pub(crate) async fn discover(
    client: &net::Client,
    server: &Url,
    challenge: Option<&Challenge>,
) -> Result<Discovery, AuthError> {
    let Some(prm) = fetch_resource_metadata(client, server, challenge).await? else {
        return legacy_discovery(client, server).await;
    };
    let resource = check_resource(&prm.resource, server)?;
    // The client picks; we take the first the server lists.
    let issuer = prm.authorization_servers.first().ok_or_else(|| {
        AuthError::Discovery("the protected resource metadata names no authorization server".into())
    })?;
    let metadata = fetch_as_metadata(client, issuer).await?;
    Ok(Discovery {
        resource,
        metadata,
        prm_scopes: prm.scopes_supported,
        dpop_required: prm.dpop_bound_access_tokens_required,
        guessed: false,
    })
}

/// Where to look for the PRM, in order: the challenge's URL, the path-aware well-known URL,
/// the root well-known URL.
pub(crate) fn prm_candidates(server: &Url, challenge: Option<&Challenge>) -> Vec<Url> {
    let mut out = Vec::new();
    if let Some(url) = challenge
        .and_then(Challenge::resource_metadata)
        .and_then(|u| server.join(u).ok())
    {
        out.push(url);
    }
    let path = server.path().trim_end_matches('/');
    let mut origin = server.clone();
    origin.set_query(None);
    origin.set_fragment(None);
    if !path.is_empty() {
        origin.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
        out.push(origin.clone());
    }
    origin.set_path("/.well-known/oauth-protected-resource");
    out.push(origin);
    out.dedup();
    out
}

pub(crate) async fn fetch_resource_metadata(
    client: &net::Client,
    server: &Url,
    challenge: Option<&Challenge>,
) -> Result<Option<ResourceMetadata>, AuthError> {
    for url in prm_candidates(server, challenge) {
        check_endpoint(&url, "protected resource metadata URL")?;
        match fetch_json::<ResourceMetadata>(client, &url).await? {
            Some(prm) => {
                tracing::debug!(url = %endpoint::for_log(&url), "protected resource metadata found");
                return Ok(Some(prm));
            }
            None => {
                tracing::debug!(url = %endpoint::for_log(&url), "no protected resource metadata here")
            }
        }
    }
    Ok(None)
}

/// The PRM `resource` must be this server: same origin, and a path prefix of the server URL
/// at a segment boundary (RFC 9728 section 3.3 and the MCP specification). Returns the value
/// to send as `resource`.
pub(crate) fn check_resource(resource: &str, server: &Url) -> Result<String, AuthError> {
    let mismatch = || {
        AuthError::Discovery(format!(
            "the protected resource metadata is for {resource:?}, not for {}; refusing to authorize",
            endpoint::for_log(server)
        ))
    };
    // URL parsing silently drops tabs and line breaks (and trims spaces), so the text sent as
    // `resource` would not be the URL checked below; it is refused, as such endpoints are.
    if resource
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(AuthError::Discovery(format!(
            "the protected resource metadata's resource {} contains control characters or whitespace; refusing to authorize",
            net::excerpt(resource, 200)
        )));
    }
    let parsed = Url::parse(resource).map_err(|_| mismatch())?;
    if !endpoint::same_origin(&parsed, server) || parsed.fragment().is_some() {
        return Err(mismatch());
    }
    // RFC 8707 section 2: a resource indicator names the resource, nothing more. User info
    // would hand credentials to the authorization server; a query is not part of the name.
    if !parsed.username().is_empty() || parsed.password().is_some() || parsed.query().is_some() {
        let mut shown = parsed.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.set_query(None);
        return Err(AuthError::Discovery(format!(
            "the protected resource metadata's resource for {} carries user info or a query, which a resource indicator must not (RFC 8707); refusing to authorize",
            net::excerpt(shown.as_str(), 200)
        )));
    }
    let want = parsed.path().trim_end_matches('/');
    let have = server.path().trim_end_matches('/');
    let prefix =
        have == want || (have.starts_with(want) && have.as_bytes().get(want.len()) == Some(&b'/'));
    if !prefix {
        return Err(mismatch());
    }
    Ok(resource.to_owned())
}

/// Where to look for the metadata of `issuer`, in the specification's order.
pub(crate) fn as_metadata_candidates(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let at = |p: &str| {
        let mut u = issuer.clone();
        u.set_path(p);
        u.set_query(None);
        u.set_fragment(None);
        u
    };
    if path.is_empty() {
        vec![
            at("/.well-known/oauth-authorization-server"),
            at("/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            at(&format!("/.well-known/oauth-authorization-server{path}")),
            at(&format!("/.well-known/openid-configuration{path}")),
            at(&format!("{path}/.well-known/openid-configuration")),
        ]
    }
}

/// Fetches and validates the metadata of `issuer`; its `issuer` must be identical.
pub(crate) async fn fetch_as_metadata(
    client: &net::Client,
    issuer: &str,
) -> Result<AsMetadata, AuthError> {
    let issuer_url = Url::parse(issuer).map_err(|e| {
        AuthError::Discovery(format!("authorization server {issuer:?} is not a URL: {e}"))
    })?;
    check_endpoint(&issuer_url, "authorization server")?;
    for url in as_metadata_candidates(&issuer_url) {
        if let Some(raw) = fetch_json::<RawAsMetadata>(client, &url).await? {
            tracing::debug!(url = %endpoint::for_log(&url), "authorization server metadata found");
            return validate_metadata(raw, issuer);
        }
    }
    Err(AuthError::Discovery(format!(
        "authorization server {issuer} publishes no metadata"
    )))
}

/// Checks fetched metadata: the issuer must be `issuer` exactly, the endpoints usable.
pub(crate) fn validate_metadata(raw: RawAsMetadata, issuer: &str) -> Result<AsMetadata, AuthError> {
    let got = raw.issuer.unwrap_or_default();
    if got != issuer {
        return Err(AuthError::Discovery(format!(
            "authorization server metadata names issuer {got:?}, but it was fetched for {issuer:?}; refusing it"
        )));
    }
    let required = |v: Option<String>, what: &str| -> Result<Url, AuthError> {
        let v = v.ok_or_else(|| {
            AuthError::Discovery(format!("authorization server metadata has no {what}"))
        })?;
        parse_endpoint(&v, what)
    };
    let optional = |v: Option<String>, what: &str| v.map(|v| parse_endpoint(&v, what)).transpose();
    Ok(AsMetadata {
        issuer: got,
        authorization_endpoint: required(raw.authorization_endpoint, "authorization_endpoint")?,
        token_endpoint: required(raw.token_endpoint, "token_endpoint")?,
        registration_endpoint: optional(raw.registration_endpoint, "registration_endpoint")?,
        revocation_endpoint: optional(raw.revocation_endpoint, "revocation_endpoint")?,
        scopes_supported: raw.scopes_supported,
        code_challenge_methods_supported: raw.code_challenge_methods_supported,
        token_endpoint_auth_methods_supported: raw.token_endpoint_auth_methods_supported,
        token_endpoint_auth_signing_alg_values_supported: raw
            .token_endpoint_auth_signing_alg_values_supported,
        client_id_metadata_document_supported: raw.client_id_metadata_document_supported,
        iss_parameter_supported: raw.authorization_response_iss_parameter_supported,
        grant_types_supported: raw.grant_types_supported,
        dpop_signing_alg_values_supported: raw.dpop_signing_alg_values_supported,
        device_authorization_endpoint: raw.device_authorization_endpoint,
    })
}

/// The 2025-03-26 behaviour for servers without PRM: the authorization server lives at the
/// server's origin; its metadata is tried there, else the default endpoints are used.
async fn legacy_discovery(client: &net::Client, server: &Url) -> Result<Discovery, AuthError> {
    let origin = server.origin().ascii_serialization();
    tracing::info!(
        "the server publishes no protected resource metadata; using {origin} as the authorization server"
    );
    let base =
        Url::parse(&origin).map_err(|e| AuthError::Discovery(format!("bad server origin: {e}")))?;
    let resource = endpoint::canonical_resource(server);
    for url in as_metadata_candidates(&base) {
        if let Some(raw) = fetch_json::<RawAsMetadata>(client, &url).await? {
            // Older servers' metadata may spell the issuer with a trailing slash.
            let issuer = raw
                .issuer
                .clone()
                .filter(|i| i.trim_end_matches('/') == origin)
                .unwrap_or(origin.clone());
            let metadata = validate_metadata(raw, &issuer)?;
            return Ok(Discovery {
                resource,
                metadata,
                prm_scopes: None,
                dpop_required: false,
                guessed: false,
            });
        }
    }
    tracing::info!("no authorization server metadata at {origin}; using the default endpoints");
    let at = |p: &str| {
        base.join(p)
            .expect("joining a fixed path to an origin cannot fail")
    };
    let metadata = AsMetadata {
        issuer: origin.clone(),
        authorization_endpoint: at("/authorize"),
        token_endpoint: at("/token"),
        registration_endpoint: Some(at("/register")),
        revocation_endpoint: None,
        scopes_supported: None,
        // The 2025-03-26 defaults require PKCE S256.
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        token_endpoint_auth_methods_supported: None,
        token_endpoint_auth_signing_alg_values_supported: None,
        client_id_metadata_document_supported: false,
        iss_parameter_supported: false,
        grant_types_supported: None,
        dpop_signing_alg_values_supported: None,
        device_authorization_endpoint: None,
    };
    Ok(Discovery {
        resource,
        metadata,
        prm_scopes: None,
        dpop_required: false,
        guessed: true,
    })
}

/// GETs a JSON document. `Ok(None)` means "not here" (any 4xx or 5xx, or not JSON of the
/// expected shape); transport failures are errors.
async fn fetch_json<T: serde::de::DeserializeOwned>(
    client: &net::Client,
    url: &Url,
) -> Result<Option<T>, AuthError> {
    let what = || format!("fetching {}", endpoint::for_log(url));
    let resp = client
        .for_url(url)?
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .header(
            crate::mcp::PROTOCOL_VERSION_HEADER,
            crate::mcp::LATEST_LEGACY_VERSION,
        )
        .send()
        .await
        .map_err(|e| AuthError::send(what(), e))?;
    if !resp.status().is_success() {
        return Ok(None);
    }
    let body = net::read_body(resp, METADATA_LIMIT)
        .await
        .map_err(|e| AuthError::body(what(), e))?;
    match serde_json::from_slice(&body) {
        Ok(doc) => Ok(Some(doc)),
        Err(e) => {
            tracing::debug!(url = %endpoint::for_log(url), "not usable metadata: {e}");
            Ok(None)
        }
    }
}

/// Parses and checks an endpoint from metadata.
fn parse_endpoint(value: &str, what: &str) -> Result<Url, AuthError> {
    // URL parsing silently drops tabs and newlines (and trims spaces), so a value with them
    // would pass the checks below; an endpoint like that is refused outright.
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(AuthError::Discovery(format!(
            "refusing {what} {}: it contains control characters or whitespace",
            net::excerpt(value, 120)
        )));
    }
    let url = Url::parse(value)
        .map_err(|_| AuthError::Discovery(format!("{what} {value:?} is not a URL")))?;
    check_endpoint(&url, what)?;
    Ok(url)
}

/// Endpoints must be https (http only on loopback), with no user info and no control
/// characters. The authorization endpoint gets the stricter browser check before opening.
pub(crate) fn check_endpoint(url: &Url, what: &str) -> Result<(), AuthError> {
    let ok_scheme =
        url.scheme() == "https" || (url.scheme() == "http" && endpoint::is_loopback(url));
    if !ok_scheme {
        return Err(AuthError::Discovery(format!(
            "refusing {what} {}: it must be https (or http on this machine)",
            net::excerpt(url.as_str(), 120)
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AuthError::Discovery(format!(
            "refusing {what}: it contains user info"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// PRM candidates: the challenge's URL first, then path-aware, then root.
    #[test]
    fn prm_candidate_order() {
        let server = url("https://h.example/public/mcp");
        let c = Challenge {
            scheme: "Bearer".into(),
            params: vec![("resource_metadata".into(), "https://h.example/prm".into())],
        };
        let got: Vec<String> = prm_candidates(&server, Some(&c))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            got,
            vec![
                "https://h.example/prm",
                "https://h.example/.well-known/oauth-protected-resource/public/mcp",
                "https://h.example/.well-known/oauth-protected-resource",
            ]
        );
        let root: Vec<String> = prm_candidates(&url("https://h.example/"), None)
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            root,
            vec!["https://h.example/.well-known/oauth-protected-resource"]
        );
    }

    /// AS metadata candidates follow the specification's order for issuers with and without
    /// a path.
    #[test]
    fn as_candidate_order() {
        let got: Vec<String> = as_metadata_candidates(&url("https://as.example/tenant1"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            got,
            vec![
                "https://as.example/.well-known/oauth-authorization-server/tenant1",
                "https://as.example/.well-known/openid-configuration/tenant1",
                "https://as.example/tenant1/.well-known/openid-configuration",
            ]
        );
        let got: Vec<String> = as_metadata_candidates(&url("https://as.example"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            got,
            vec![
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration"
            ]
        );
    }

    /// The PRM resource must be this server's origin and a path prefix at a segment boundary.
    #[test]
    fn resource_must_match() {
        let server = url("https://h.example/api/mcp");
        assert!(check_resource("https://h.example/api/mcp", &server).is_ok());
        assert!(check_resource("https://h.example/api", &server).is_ok());
        assert!(check_resource("https://h.example", &server).is_ok());
        assert!(check_resource("https://h.example/", &server).is_ok());
        assert!(check_resource("https://h.example/ap", &server).is_err());
        assert!(check_resource("https://h.example/api/mcp/extra", &server).is_err());
        assert!(check_resource("https://evil.example/api/mcp", &server).is_err());
        assert!(check_resource("http://h.example/api/mcp", &server).is_err());
        assert!(check_resource("https://u:p@h.example/api/mcp", &server).is_err());
        assert!(check_resource("https://u@h.example/api", &server).is_err());
        assert!(check_resource("https://h.example/api?tenant=x", &server).is_err());
        assert!(check_resource("not a url", &server).is_err());
    }

    /// A resource the URL parser would read without some of its characters (tabs, line
    /// breaks, surrounding spaces) is refused: the text sent would not be the URL checked.
    /// Found by the `url_policy` fuzz target.
    #[test]
    fn resource_text_is_the_url_checked() {
        let server = url("https://h.example/api/mcp");
        for bad in [
            "https://h.example/a\tpi",
            "https://h.example/api\n",
            "https://h.exa\r\nmple/api",
            " https://h.example/api",
            "https://h.example/api\u{1}",
        ] {
            assert!(check_resource(bad, &server).is_err(), "{bad:?}");
        }
        assert!(check_resource("https://h.example/api", &server).is_ok());
    }

    fn raw(issuer: &str, authz: &str) -> RawAsMetadata {
        RawAsMetadata {
            issuer: Some(issuer.into()),
            authorization_endpoint: Some(authz.into()),
            token_endpoint: Some("https://as.example/token".into()),
            registration_endpoint: None,
            revocation_endpoint: None,
            scopes_supported: None,
            code_challenge_methods_supported: Some(vec!["S256".into()]),
            token_endpoint_auth_methods_supported: None,
            token_endpoint_auth_signing_alg_values_supported: None,
            client_id_metadata_document_supported: false,
            authorization_response_iss_parameter_supported: false,
            grant_types_supported: None,
            dpop_signing_alg_values_supported: None,
            device_authorization_endpoint: None,
        }
    }

    /// The issuer must be identical to the one the metadata was fetched for, and endpoints
    /// must be https or loopback http without user info.
    #[test]
    fn validates_metadata() {
        assert!(
            validate_metadata(
                raw("https://as.example", "https://as.example/authorize"),
                "https://as.example"
            )
            .is_ok()
        );
        assert!(
            validate_metadata(
                raw("https://as.example/", "https://as.example/a"),
                "https://as.example"
            )
            .is_err()
        );
        assert!(
            validate_metadata(
                raw("https://evil.example", "https://as.example/a"),
                "https://as.example"
            )
            .is_err()
        );
        for bad in [
            "http://as.example/a",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://u:p@as.example/a",
            "https://as.example/a\nb",
            "https://as.example/a\tb",
            " https://as.example/a",
        ] {
            assert!(
                validate_metadata(raw("https://as.example", bad), "https://as.example").is_err(),
                "{bad}"
            );
        }
        assert!(
            validate_metadata(
                raw("https://as.example", "http://127.0.0.1:9/a"),
                "https://as.example"
            )
            .is_ok()
        );
    }
}
