//! The device authorization grant (RFC 8628, `--device-code`): for a person whose browser
//! is on another device (an SSH session, a container). The bridge asks the authorization
//! server for a user code, shows where to enter it on stderr, and polls the token endpoint
//! at the server's pace until the person has approved, refused, or the code expired. It
//! stops at once when the host goes away or a signal arrives.
//!
//! The addresses the server gives are only printed, never opened or handed to a shell, and
//! only after they pass the same checks as an authorization URL.

use super::discovery::{AsMetadata, check_endpoint};
use super::dpop::DpopKey;
use super::token::{self, Issued, Via};
use super::{AuthError, browser};
use crate::net;
use crate::store::Registration;
use serde::Deserialize;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

/// The grant type of the token requests that poll (RFC 8628 section 3.4).
pub(crate) const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Polling interval when the server names none (RFC 8628 section 3.2).
const DEFAULT_INTERVAL: u64 = 5;
/// What `slow_down` adds to the interval (RFC 8628 section 3.5).
const SLOW_DOWN: u64 = 5;
/// Bounds on the interval a server may ask for.
const MIN_INTERVAL: u64 = 1;
const MAX_INTERVAL: u64 = 60;
/// How long a code lives when the server does not say, and at most.
const DEFAULT_LIFETIME: u64 = 600;
const MAX_LIFETIME: u64 = 1800;
/// Longest user code shown.
const MAX_USER_CODE: usize = 64;

/// The device authorization response (RFC 8628 section 3.2).
#[derive(Deserialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    /// Some servers (Google) spell it `verification_url`.
    #[serde(alias = "verification_url")]
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_in: Option<u64>,
    interval: Option<u64>,
}

/// One device login.
pub(crate) struct DeviceLogin<'a> {
    pub(crate) metadata: &'a AsMetadata,
    pub(crate) registration: &'a Registration,
    pub(crate) scopes: &'a [String],
    /// RFC 8707 `resource`, unless `--no-resource`.
    pub(crate) resource: Option<&'a str>,
    /// The server, for the message.
    pub(crate) server: &'a str,
    /// How long to wait for the person at most (`--auth-timeout`).
    pub(crate) timeout: Duration,
    pub(crate) cancel: &'a CancellationToken,
    /// The key the tokens are to be bound to (DPoP), if any.
    pub(crate) dpop: Option<&'a DpopKey>,
}

/// Runs the device flow to its end: the tokens, or why there are none.
pub(crate) async fn device_login(
    http: &net::Client,
    login: DeviceLogin<'_>,
) -> Result<Issued, AuthError> {
    let metadata = login.metadata;
    let Some(raw) = &metadata.device_authorization_endpoint else {
        return Err(AuthError::Refused(format!(
            "the authorization server {} offers no device authorization (its metadata has no device_authorization_endpoint); log in with the browser instead, or with `mcp-bridge login --no-browser`",
            metadata.issuer
        )));
    };
    let endpoint = Url::parse(raw).map_err(|e| {
        AuthError::Discovery(format!(
            "the device authorization endpoint {:?} is not a URL: {e}",
            net::excerpt(raw, 200)
        ))
    })?;
    check_endpoint(&endpoint, "device authorization endpoint")?;
    let scope = login.scopes.join(" ");
    let mut params = Vec::new();
    if !scope.is_empty() {
        params.push(("scope", scope.as_str()));
    }
    if let Some(resource) = login.resource {
        params.push(("resource", resource));
    }
    // The code request carries no proof: RFC 9449 binds at the token endpoint.
    let plain = Via { http, dpop: None };
    tracing::debug!(issuer = %metadata.issuer, "asking for a device code");
    let response = token::post_form(plain, &endpoint, login.registration, &params, None).await?;
    if !response.status().is_success() {
        return Err(token::token_response(&response).err().unwrap_or_else(|| {
            AuthError::Login("the device authorization request failed".into())
        }));
    }
    let answer: DeviceAuthorization = serde_json::from_slice(response.body()).map_err(|e| {
        AuthError::Login(format!(
            "the device authorization response is not valid: {e}"
        ))
    })?;
    show(&answer, login.server)?;

    let lifetime = answer
        .expires_in
        .unwrap_or(DEFAULT_LIFETIME)
        .clamp(1, MAX_LIFETIME);
    let wait = Duration::from_secs(lifetime).min(login.timeout);
    let deadline = tokio::time::Instant::now() + wait;
    let mut interval = answer
        .interval
        .unwrap_or(DEFAULT_INTERVAL)
        .clamp(MIN_INTERVAL, MAX_INTERVAL);
    let via = Via {
        http,
        dpop: login.dpop,
    };
    let mut poll = vec![
        ("grant_type", GRANT),
        ("device_code", answer.device_code.as_str()),
    ];
    if let Some(resource) = login.resource {
        poll.push(("resource", resource));
    }
    loop {
        let next = tokio::time::Instant::now() + Duration::from_secs(interval);
        if next > deadline {
            return Err(AuthError::Login(format!(
                "the code was not approved within {} s (the authorization server's limit, or --auth-timeout)",
                wait.as_secs()
            )));
        }
        tokio::select! {
            () = login.cancel.cancelled() => return Err(AuthError::Cancelled),
            () = tokio::time::sleep_until(next) => {}
        }
        let response = token::post_form(
            via,
            &metadata.token_endpoint,
            login.registration,
            &poll,
            None,
        )
        .await?;
        if response.status().is_success() {
            return token::token_response(&response);
        }
        match token::error_code(response.body()).as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => {
                interval = (interval + SLOW_DOWN).min(MAX_INTERVAL);
                tracing::debug!(
                    interval,
                    "the authorization server asks to poll more slowly"
                );
            }
            Some("access_denied") => {
                return Err(AuthError::Login(
                    "the request was denied on the device".into(),
                ));
            }
            Some("expired_token") => {
                return Err(AuthError::Login(
                    "the code expired before it was approved; run the login again".into(),
                ));
            }
            _ => {
                return Err(token::token_response(&response).err().unwrap_or_else(|| {
                    AuthError::Login("the device code was not redeemed".into())
                }));
            }
        }
    }
}

/// Tells the person where to go and what code to check or enter (on stderr, as the
/// authorization URL of a browser login is).
fn show(answer: &DeviceAuthorization, server: &str) -> Result<(), AuthError> {
    let code = answer.user_code.trim();
    if code.is_empty()
        || code.len() > MAX_USER_CODE
        || !code.bytes().all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(AuthError::Login(
            "the authorization server gave a user code that cannot be shown".into(),
        ));
    }
    let checked = |raw: &str| {
        browser::check_url(raw).map_err(|e| {
            AuthError::Login(format!(
                "the authorization server gave a verification address that will not be shown ({e})"
            ))
        })
    };
    let uri = checked(&answer.verification_uri)?;
    // The complete address (with the code in it) is a convenience: a bad one is skipped.
    let complete = answer
        .verification_uri_complete
        .as_deref()
        .and_then(|raw| browser::check_url(raw).ok());
    let whose = if crate::terminal::style().person {
        ""
    } else {
        "mcp-bridge: "
    };
    let text = match complete {
        Some(complete) => format!(
            "{whose}to authorize {server}, open this address in a browser on any device:\n\n    {complete}\n\nand check that it shows the code: {code}"
        ),
        None => format!(
            "{whose}to authorize {server}, open this address in a browser on any device:\n\n    {uri}\n\nand enter the code: {code}"
        ),
    };
    crate::terminal::line(&text);
    Ok(())
}
