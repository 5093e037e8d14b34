//! The browser login: an authorization code request with PKCE (S256 only), `state`,
//! `resource` and the chosen scopes, answered on the loopback callback, checked (state, RFC
//! 9207 `iss`) before the code is redeemed.

use super::AuthError;
use super::browser::{self, Launcher};
use super::callback::{CallbackError, CallbackServer};
use super::discovery::Discovery;
use super::token::{self, Issued};
use crate::store::Registration;
use oauth2::{CsrfToken, PkceCodeChallenge};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

/// One login attempt's inputs.
pub(crate) struct Login<'a> {
    pub(crate) discovery: &'a Discovery,
    pub(crate) registration: &'a Registration,
    pub(crate) scopes: &'a [String],
    pub(crate) launcher: &'a Launcher,
    /// How long to wait for the user.
    pub(crate) timeout: Duration,
    /// Fires when the host goes away: stop at once and free the port.
    pub(crate) cancel: &'a CancellationToken,
}

/// Runs the browser login on an already bound callback server.
pub(crate) async fn browser_login(
    http: &crate::net::Client,
    callback: CallbackServer,
    login: Login<'_>,
) -> Result<Issued, AuthError> {
    let metadata = &login.discovery.metadata;
    require_s256(metadata.code_challenge_methods_supported.as_deref())?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = CsrfToken::new_random();
    let redirect_uri = callback.redirect_uri();
    let url = authorization_url(
        &metadata.authorization_endpoint,
        login.registration,
        &redirect_uri,
        login.scopes,
        state.secret(),
        challenge.as_str(),
        &login.discovery.resource,
    );
    let url = browser::check_url(url.as_str()).map_err(|e| AuthError::Refused(e.to_string()))?;
    if let Err(e) = browser::open(login.launcher, &url) {
        tracing::warn!("{e}");
    }
    // The issuer we expect is recorded with the verifier and state, before redirecting.
    let issuer = metadata.issuer.clone();
    let shown = crate::terminal::waiting(&format!("the browser login at {issuer}"), login.timeout);
    let waited = callback
        .wait(state.secret(), login.timeout, login.cancel)
        .await;
    drop(shown);
    let params = match waited {
        Ok(params) => params,
        Err(CallbackError::Cancelled) => return Err(AuthError::Cancelled),
        Err(CallbackError::Denied {
            error,
            description,
            iss,
        }) => {
            // An error from the wrong issuer must not be acted on or shown.
            check_iss(metadata.iss_parameter_supported, iss.as_deref(), &issuer)?;
            let description = description.map(|d| format!(": {d}")).unwrap_or_default();
            let message = format!("the authorization server answered {error}{description}");
            // A server that no longer knows the client says so here; the caller registers again.
            return Err(match error.as_str() {
                "invalid_client" | "unauthorized_client" => AuthError::InvalidClient(message),
                _ => AuthError::Login(message),
            });
        }
        Err(e) => return Err(e.into()),
    };
    check_iss(
        metadata.iss_parameter_supported,
        params.iss.as_deref(),
        &issuer,
    )?;
    tracing::debug!("authorization code received; redeeming it");
    token::redeem_code(
        http,
        metadata,
        login.registration,
        &params.code,
        verifier,
        &redirect_uri,
        &login.discovery.resource,
    )
    .await
}

/// PKCE with S256 is required; an authorization server that does not say it supports S256
/// is refused (the MCP specification requires clients to check).
pub(crate) fn require_s256(methods: Option<&[String]>) -> Result<(), AuthError> {
    match methods {
        Some(m) if m.iter().any(|m| m == "S256") => Ok(()),
        Some(_) => Err(AuthError::Refused(
            "the authorization server does not support PKCE with S256; refusing to log in without it".into(),
        )),
        None => Err(AuthError::Refused(
            "the authorization server does not advertise PKCE support (code_challenge_methods_supported); refusing to log in without it".into(),
        )),
    }
}

/// Builds the authorization request URL, keeping any query the endpoint already has.
fn authorization_url(
    endpoint: &Url,
    registration: &Registration,
    redirect_uri: &Url,
    scopes: &[String],
    state: &str,
    code_challenge: &str,
    resource: &str,
) -> Url {
    let mut url = endpoint.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &registration.client_id)
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("state", state)
            .append_pair("code_challenge", code_challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("resource", resource);
        if !scopes.is_empty() {
            q.append_pair("scope", &scopes.join(" "));
        }
        if scopes.iter().any(|s| s == "offline_access") {
            // OpenID Connect servers only issue refresh tokens for offline_access after consent.
            q.append_pair("prompt", "consent");
        }
    }
    url
}

/// RFC 9207 as the MCP specification tabulates it: compare a present `iss` exactly (no
/// normalization); reject an absent one when the server says it sends it.
pub(crate) fn check_iss(supported: bool, iss: Option<&str>, issuer: &str) -> Result<(), AuthError> {
    match iss {
        Some(iss) if iss == issuer => Ok(()),
        Some(_) => Err(AuthError::Refused(format!(
            "the authorization response came from a different issuer than {issuer}; refusing it (possible mix-up attack)"
        ))),
        None if supported => Err(AuthError::Refused(format!(
            "the authorization response lacks the iss parameter that {issuer} promises; refusing it"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 9207 table, including "no normalization".
    #[test]
    fn iss_table() {
        let i = "https://as.example";
        assert!(check_iss(true, Some(i), i).is_ok());
        assert!(check_iss(true, None, i).is_err());
        assert!(check_iss(false, Some(i), i).is_ok());
        assert!(check_iss(false, Some("https://evil.example"), i).is_err());
        assert!(check_iss(false, None, i).is_ok());
        assert!(check_iss(true, Some("https://as.example/"), i).is_err());
        assert!(check_iss(true, Some("https://AS.example"), i).is_err());
        assert!(check_iss(true, Some("https://as.example:443"), i).is_err());
    }

    /// S256 must be advertised.
    #[test]
    fn requires_s256() {
        assert!(require_s256(Some(&["S256".to_owned()])).is_ok());
        assert!(require_s256(Some(&["plain".to_owned()])).is_err());
        assert!(require_s256(None).is_err());
    }

    /// The request carries every parameter the specification requires.
    #[test]
    fn builds_the_request() {
        let reg = Registration {
            issuer: "https://as.example".into(),
            client_id: "cid".into(),
            client_secret: None,
            redirect_uri: "http://127.0.0.1:1/oauth/callback".into(),
            token_endpoint_auth_method: "none".into(),
            registration_access_token: None,
            created_at: 0,
        };
        let url = authorization_url(
            &Url::parse("https://as.example/authorize?tenant=t1").unwrap(),
            &reg,
            &Url::parse("http://127.0.0.1:1/oauth/callback").unwrap(),
            &["a".into(), "offline_access".into()],
            "st",
            "ch",
            "https://h.example/mcp",
        );
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["tenant"], "t1");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "cid");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["resource"], "https://h.example/mcp");
        assert_eq!(q["scope"], "a offline_access");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["state"], "st");
    }
}
