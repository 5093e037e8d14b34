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
    /// Whether RFC 8707 `resource` is sent (`--no-resource` clears it).
    pub(crate) send_resource: bool,
    /// Parameters the user added to the authorization request (`--authorize-param`).
    pub(crate) extra_params: &'a [(String, String)],
    /// Also take the redirect address pasted on the terminal (see [`super::paste`]).
    pub(crate) paste: bool,
    pub(crate) launcher: &'a Launcher,
    /// How long to wait for the user.
    pub(crate) timeout: Duration,
    /// Fires when the host goes away: stop at once and free the port.
    pub(crate) cancel: &'a CancellationToken,
    /// The key the tokens are to be bound to (DPoP), if any.
    pub(crate) dpop: Option<&'a super::dpop::DpopKey>,
}

/// Runs the browser login on an already bound callback server.
pub(crate) async fn browser_login(
    http: &crate::net::Client,
    mut callback: CallbackServer,
    login: Login<'_>,
) -> Result<Issued, AuthError> {
    let metadata = &login.discovery.metadata;
    require_s256(metadata.code_challenge_methods_supported.as_deref())?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = CsrfToken::new_random();
    let redirect_uri = callback.redirect_uri();
    let resource = login
        .send_resource
        .then_some(login.discovery.resource.as_str());
    let url = authorization_url(
        &metadata.authorization_endpoint,
        &Request {
            registration: login.registration,
            redirect_uri: &redirect_uri,
            scopes: login.scopes,
            state: state.secret(),
            code_challenge: challenge.as_str(),
            resource,
            extra: login.extra_params,
        },
    );
    let url = browser::check_url(url.as_str()).map_err(|e| AuthError::Refused(e.to_string()))?;
    if let Err(e) = browser::open(login.launcher, &url) {
        tracing::warn!("{e}");
    }
    // The issuer we expect is recorded with the verifier and state, before redirecting.
    let issuer = metadata.issuer.clone();
    let shown = if login.paste {
        callback.accept_pasted(super::paste::terminal_lines());
        super::paste::say(&format!(
            "Open that address in a browser on any machine and log in. If the browser then shows a page that cannot be reached (it is this machine's {}), paste its address here and press Enter. Waiting up to {} (Ctrl-C to cancel).",
            redirect_uri.host_str().unwrap_or("127.0.0.1"),
            crate::terminal::clock_duration(login.timeout.as_secs()),
        ));
        None
    } else {
        Some(crate::terminal::waiting(
            &format!("the browser login at {issuer}"),
            login.timeout,
        ))
    };
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
        token::Via {
            http,
            dpop: login.dpop,
        },
        metadata,
        login.registration,
        &params.code,
        verifier,
        &redirect_uri,
        resource,
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

/// What goes into one authorization request.
struct Request<'a> {
    registration: &'a Registration,
    redirect_uri: &'a Url,
    scopes: &'a [String],
    state: &'a str,
    code_challenge: &'a str,
    resource: Option<&'a str>,
    extra: &'a [(String, String)],
}

/// Builds the authorization request URL, keeping any query the endpoint already has.
fn authorization_url(endpoint: &Url, request: &Request<'_>) -> Url {
    let mut url = endpoint.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &request.registration.client_id)
            .append_pair("redirect_uri", request.redirect_uri.as_str())
            .append_pair("state", request.state)
            .append_pair("code_challenge", request.code_challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(resource) = request.resource {
            q.append_pair("resource", resource);
        }
        let scopes = request.scopes;
        if !scopes.is_empty() {
            q.append_pair("scope", &scopes.join(" "));
        }
        let user_prompt = request.extra.iter().any(|(k, _)| k == "prompt");
        if !user_prompt && scopes.iter().any(|s| s == "offline_access") {
            // OpenID Connect servers only issue refresh tokens for offline_access after consent.
            q.append_pair("prompt", "consent");
        }
        for (key, value) in request.extra {
            q.append_pair(key, value);
        }
    }
    url
}

/// Parameters of the authorization request that the flow sets itself; `--authorize-param`
/// may not replace them.
pub(crate) const OWNED_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "scope",
];

/// Reads one `--authorize-param KEY=VALUE`; refuses a parameter the flow owns, saying which
/// option sets it instead.
pub(crate) fn authorize_param(text: &str) -> Result<(String, String), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!("--authorize-param {text:?} must be KEY=VALUE"));
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("--authorize-param {text:?} has no name before '='"));
    }
    if OWNED_PARAMS.contains(&key) {
        let instead = match key {
            "resource" => "; use --resource or --no-resource",
            "scope" => "; use --scope",
            "redirect_uri" => "; use --callback-port and --host",
            "client_id" => "; use --client-id",
            _ => "",
        };
        return Err(format!(
            "--authorize-param cannot set {key:?}: the login sets it itself{instead}"
        ));
    }
    Ok((key.to_owned(), value.to_owned()))
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

    fn registration() -> Registration {
        Registration {
            issuer: "https://as.example".into(),
            client_id: "cid".into(),
            client_secret: None,
            redirect_uri: "http://127.0.0.1:1/oauth/callback".into(),
            token_endpoint_auth_method: "none".into(),
            registration_access_token: None,
            created_at: 0,
        }
    }

    fn query(
        resource: Option<&str>,
        scopes: &[String],
        extra: &[(String, String)],
    ) -> Vec<(String, String)> {
        let reg = registration();
        let redirect = Url::parse("http://127.0.0.1:1/oauth/callback").unwrap();
        let url = authorization_url(
            &Url::parse("https://as.example/authorize?tenant=t1").unwrap(),
            &Request {
                registration: &reg,
                redirect_uri: &redirect,
                scopes,
                state: "st",
                code_challenge: "ch",
                resource,
                extra,
            },
        );
        url.query_pairs().into_owned().collect()
    }

    /// The request carries every parameter the specification requires.
    #[test]
    fn builds_the_request() {
        let scopes = ["a".into(), "offline_access".into()];
        let pairs = query(Some("https://h.example/mcp"), &scopes, &[]);
        let q: std::collections::HashMap<_, _> = pairs.into_iter().collect();
        assert_eq!(q["tenant"], "t1");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "cid");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["resource"], "https://h.example/mcp");
        assert_eq!(q["scope"], "a offline_access");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["state"], "st");
    }

    /// `--no-resource` leaves `resource` out; `--authorize-param` adds parameters once, and
    /// a `prompt` of the user's replaces the one the flow would add.
    #[test]
    fn quirks_shape_the_request() {
        let scopes = ["offline_access".into()];
        let extra = [
            ("prompt".to_owned(), "login".to_owned()),
            ("audience".to_owned(), "api://x".to_owned()),
        ];
        let pairs = query(None, &scopes, &extra);
        let named = |name: &str| {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert!(named("resource").is_empty(), "{pairs:?}");
        assert_eq!(named("prompt"), ["login"]);
        assert_eq!(named("audience"), ["api://x"]);
    }

    /// `--authorize-param` takes KEY=VALUE (the value may hold '=' or be empty) and refuses
    /// what the flow sets itself, naming the option that does.
    #[test]
    fn authorize_params_are_checked() {
        assert_eq!(
            authorize_param("audience=a=b").unwrap(),
            ("audience".to_owned(), "a=b".to_owned())
        );
        assert_eq!(
            authorize_param("login_hint=").unwrap(),
            ("login_hint".to_owned(), String::new())
        );
        assert!(authorize_param("novalue").is_err());
        assert!(authorize_param("=x").is_err());
        for owned in OWNED_PARAMS {
            let e = authorize_param(&format!("{owned}=x")).unwrap_err();
            assert!(e.contains("sets it itself"), "{e}");
        }
        assert!(
            authorize_param("resource=x")
                .unwrap_err()
                .contains("--no-resource")
        );
    }
}
