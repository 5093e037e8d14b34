//! Authorization as the bridge meets it: whether the server challenged, what its protected
//! resource metadata and authorization server say (through `auth::discovery`, the bridge's
//! own discovery), and what the store holds for it (never a secret).

use super::report::{Authorization, AuthorizationServer, ResourceMetadata, Stored, Verdict};
use crate::auth::OAuth;
use crate::auth::discovery;
use crate::net;
use crate::store::{IndexEntry, Location, StoreChoice};
use url::Url;

/// The authorization step. `oauth` is the bridge's OAuth client (none with a static token).
pub(super) async fn inspect(
    oauth: Option<&OAuth>,
    url: &Url,
    settings: &net::Settings,
    store: StoreChoice,
    failure: Option<&str>,
) -> Authorization {
    let Some(oauth) = oauth else {
        let refused = failure.and_then(unauthorized_status);
        return Authorization {
            required: refused.is_some(),
            method: "bearer".into(),
            status: refused,
            ..Authorization::default()
        };
    };
    let challenged = oauth.challenged();
    let mut report = Authorization {
        required: challenged.is_some() || oauth.bearer().is_some(),
        method: "oauth".into(),
        status: challenged.as_ref().map(|(status, _)| *status),
        ..Authorization::default()
    };
    report.stored = stored(store, url).await;
    let Some((_, challenge)) = challenged else {
        return report;
    };
    let client = net::Client::oauth(settings.clone());
    if let Ok(Some(prm)) =
        discovery::fetch_resource_metadata(&client, url, challenge.as_ref()).await
    {
        report.resource_metadata = Some(ResourceMetadata {
            resource: prm.resource,
            authorization_servers: prm.authorization_servers,
            scopes_supported: prm.scopes_supported,
        });
    }
    match discovery::discover(&client, url, challenge.as_ref()).await {
        Ok(found) => {
            let m = found.metadata;
            report.authorization_server = Some(AuthorizationServer {
                issuer: m.issuer,
                guessed: found.guessed,
                authorization_endpoint: m.authorization_endpoint.to_string(),
                token_endpoint: m.token_endpoint.to_string(),
                registration_endpoint: m.registration_endpoint.map(|u| u.to_string()),
                device_authorization_endpoint: m
                    .device_authorization_endpoint
                    .map(|u| net::excerpt(&u, 300)),
                grant_types: m.grant_types_supported,
                pkce_methods: m.code_challenge_methods_supported,
                client_id_metadata_documents: m.client_id_metadata_document_supported,
                dpop_algs: m.dpop_signing_alg_values_supported,
                scopes_supported: m.scopes_supported,
            });
        }
        Err(e) => report.discovery_error = Some(net::error_chain(&e)),
    }
    report
}

/// What the store holds for the server.
async fn stored(kind: StoreChoice, url: &Url) -> Vec<Stored> {
    let Ok(store) = crate::commands::open_store(kind) else {
        return Vec::new();
    };
    let server_id = crate::endpoint::canonical_resource(url);
    let entries = crate::commands::status::tokens_of(&store, &server_id)
        .await
        .unwrap_or_default();
    let now = crate::clock::now();
    entries.iter().map(|e| stored_entry(e, now)).collect()
}

fn stored_entry(e: &IndexEntry, now: u64) -> Stored {
    Stored {
        issuer: Some(e.issuer.clone()),
        client_id: Some(e.client_id.clone()),
        scopes: e.scopes.clone(),
        expires_at: e.expires_at,
        expired: e.expires_at.map(|at| at <= now),
        backend: match e.backend {
            Location::Keyring => "keyring",
            Location::File => "file",
            Location::Memory => "memory",
        }
        .into(),
    }
}

/// The HTTP status of a refusal as unauthorized, from the bridge's error text.
fn unauthorized_status(failure: &str) -> Option<u16> {
    let at = failure.find("unauthorized (HTTP ")? + "unauthorized (HTTP ".len();
    failure.get(at..at + 3)?.parse().ok()
}

/// The verdict when the connection failed over authorization, if it did.
pub(super) fn verdict(auth: &Authorization, failure: &str, url: &str) -> Option<Verdict> {
    if auth.method == "bearer" {
        let status = auth.status?;
        return Some(Verdict::fail(
            format!("the server refused the token (HTTP {status})"),
            "check the token given with --bearer (or MCP_BRIDGE_BEARER) or the Authorization header",
        ));
    }
    if !auth.required {
        return None;
    }
    if let Some(e) = &auth.discovery_error {
        return Some(Verdict::fail(
            format!(
                "the server asks for authorization, but its OAuth metadata cannot be used: {e}"
            ),
            "tell the server's operator; or pass a token with --bearer if you have one",
        ));
    }
    let guessed = auth
        .authorization_server
        .as_ref()
        .is_some_and(|a| a.guessed);
    if guessed {
        let status = auth.status.unwrap_or(401);
        return Some(Verdict::fail(
            format!(
                "this server answered {status} without OAuth metadata: it probably wants a static token"
            ),
            "pass `--bearer` or set `MCP_BRIDGE_BEARER`",
        ));
    }
    if failure.contains(&crate::auth::AuthError::LoginNeeded.to_string()) {
        return Some(Verdict::fail(
            "the server needs a login",
            format!("run `mcp-bridge login {url}` (or `mcp-bridge check --login {url}`)"),
        ));
    }
    Some(Verdict::fail(
        format!("authorization failed: {failure}"),
        format!("run `mcp-bridge login {url}` to log in again"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth(guessed: bool) -> Authorization {
        Authorization {
            required: true,
            method: "oauth".into(),
            status: Some(401),
            authorization_server: Some(AuthorizationServer {
                guessed,
                ..AuthorizationServer::default()
            }),
            ..Authorization::default()
        }
    }

    /// A 401 without OAuth metadata asks for a static token, in the words.
    #[test]
    fn static_token_hint() {
        let v = verdict(&oauth(true), "authorization failed: a login is needed", "u").unwrap();
        assert_eq!(
            v.line(),
            "this server answered 401 without OAuth metadata: it probably wants a static token; pass `--bearer` or set `MCP_BRIDGE_BEARER`"
        );
    }

    /// With metadata, the fix is a login; a refused static token names the token options.
    #[test]
    fn login_and_token_verdicts() {
        let v = verdict(
            &oauth(false),
            "authorization failed: a login is needed",
            "https://h/mcp",
        );
        assert!(v.unwrap().line().contains("mcp-bridge login https://h/mcp"));
        assert_eq!(
            unauthorized_status(
                "could not connect: server refused the request as unauthorized (HTTP 401)"
            ),
            Some(401)
        );
        let bearer = Authorization {
            required: true,
            method: "bearer".into(),
            status: Some(401),
            ..Authorization::default()
        };
        assert!(
            verdict(&bearer, "", "u")
                .unwrap()
                .line()
                .contains("--bearer")
        );
        let open = Authorization {
            method: "oauth".into(),
            ..Authorization::default()
        };
        assert_eq!(verdict(&open, "HTTP 500", "u"), None);
    }
}
