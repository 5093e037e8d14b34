//! What every request to the MCP server carries besides its body (the user's headers, a
//! static token, a token helper's token, or the OAuth client's token), and the one way to
//! send such a request.
//!
//! [`Credentials::send`] attaches the credentials (only to URLs with the server's origin),
//! sends, and handles the answers that are about authorization: a 401 lets the OAuth client
//! refresh or log in (or runs the token helper again), a 403 `insufficient_scope` lets the
//! OAuth client step up, and the request is sent
//! again, a bounded number of times. Every other answer is handed back as it is. Transports
//! send everything through here; none of them looks at a 401 or a 403 itself.

use super::bearer_command::{BearerCommand, CommandError};
use super::dpop::{self, DpopKey};
use super::oauth::OAuth;
use super::{AuthError, challenge};
use crate::endpoint;
use crate::headers::Header;
use crate::net;
use crate::secret::Secret;
use reqwest::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use std::sync::Arc;
use url::Url;

/// Authorization rounds (login, refresh, step-up) for one request before its 401/403 stands.
const MAX_AUTH_ROUNDS: u32 = 3;
/// Fresh tokens from `--bearer-command` for one request after a 401 before the 401 stands.
const MAX_COMMAND_ROUNDS: u32 = 1;
/// Times one request is sent again with a new DPoP nonce the server asked for.
const MAX_NONCE_ROUNDS: u32 = 1;

/// The credentials for one MCP server.
#[derive(Debug)]
pub(crate) struct Credentials {
    /// The server URL the user gave; its origin is the only place credentials go.
    server: Url,
    /// The user's extra headers (`--header`, `--header-file`).
    headers: Vec<Header>,
    /// A static bearer token (`--bearer`).
    bearer: Option<Secret>,
    /// A token helper (`--bearer-command`).
    command: Option<BearerCommand>,
    /// The OAuth client, when the user gave no static credentials.
    oauth: Option<Arc<OAuth>>,
}

/// Why an authorized send produced no answer to hand back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// The HTTP client for the URL could not be set up.
    #[error(transparent)]
    Client(#[from] net::ClientError),
    /// The request could not be built (a header or URL the server gave cannot be used).
    #[error("the request could not be built")]
    Build(#[source] reqwest::Error),
    /// The server could not be reached (connection refused, DNS, TLS, timeout).
    #[error("could not reach the server")]
    Connect(#[source] reqwest::Error),
    /// The request failed after connecting.
    #[error("HTTP request failed")]
    Http(#[source] reqwest::Error),
    /// The server still refuses: 401 or 403 with no authorization left to try.
    #[error("server refused the request as unauthorized (HTTP {status})")]
    Unauthorized {
        status: u16,
        www_authenticate: Option<String>,
    },
    /// Authorizing (discovery, login, refresh, step-up) failed.
    #[error("authorization failed")]
    Auth(#[source] AuthError),
    /// The token helper gave no token.
    #[error("no token for the server")]
    BearerCommand(#[source] CommandError),
}

impl SendError {
    /// Classifies a reqwest failure: unreachable, or failed along the way.
    pub(crate) fn from_reqwest(e: reqwest::Error) -> SendError {
        // reqwest's Display includes the URL; hide query values that may hold keys.
        let mut e = e;
        if let Some(url) = e.url_mut()
            && let Ok(shown) = Url::parse(&endpoint::for_log(url))
        {
            *url = shown;
        }
        if e.is_connect() || e.is_timeout() {
            SendError::Connect(e)
        } else if e.is_builder() {
            SendError::Build(e)
        } else {
            SendError::Http(e)
        }
    }
}

impl Credentials {
    pub(crate) fn new(
        server: Url,
        headers: Vec<Header>,
        bearer: Option<Secret>,
        oauth: Option<Arc<OAuth>>,
    ) -> Credentials {
        Credentials {
            server,
            headers,
            bearer,
            command: None,
            oauth,
        }
    }

    /// Takes tokens from a helper (`--bearer-command`) instead.
    pub(crate) fn with_command(mut self, command: BearerCommand) -> Credentials {
        self.command = Some(command);
        self
    }

    /// Sends a request to `url`, built by `build` from a fresh request builder (called once
    /// per attempt), with the credentials attached when `url` has the server's origin.
    /// Answers other than an authorization challenge come back as they are, whatever their
    /// status.
    pub(crate) async fn send(
        &self,
        client: &net::Client,
        method: reqwest::Method,
        url: &Url,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SendError> {
        let client = client.for_url(url)?;
        let ours = endpoint::same_origin(url, &self.server);
        if !ours {
            tracing::warn!(url = %endpoint::for_log(url), "not sending credentials to another origin");
        }
        let mut rounds = 0;
        let mut nonce_rounds = 0;
        loop {
            let mut request = build(client.request(method.clone(), url.clone()));
            let mut sent = None;
            let mut dpop = None;
            if ours {
                if let Some(oauth) = &self.oauth {
                    oauth.prepare().await;
                }
                sent = match &self.command {
                    Some(command) => Some(command.token().await.map_err(SendError::BearerCommand)?),
                    None => self.token(),
                };
                // OAuth tokens may be bound to a key; static and helper tokens never are.
                dpop = (self.bearer.is_none() && self.command.is_none())
                    .then(|| self.oauth.as_ref().and_then(|o| o.dpop()))
                    .flatten()
                    .filter(|_| sent.is_some());
                request = self.attach(request, sent.as_ref(), dpop.is_some());
                if let (Some(key), Some(token)) = (&dpop, &sent) {
                    request = with_proof(request, key, &method, url, token)?;
                }
            }
            let resp = request.send().await.map_err(SendError::from_reqwest)?;
            let status = resp.status().as_u16();
            let new_nonce = dpop
                .as_ref()
                .is_some_and(|key| key.take_nonce(url, resp.headers()));
            if status != 401 && status != 403 {
                return Ok(resp);
            }
            let www_authenticate = challenge_text(&resp);
            if status == 401
                && new_nonce
                && nonce_rounds < MAX_NONCE_ROUNDS
                && wants_nonce(www_authenticate.as_deref())
            {
                // RFC 9449 section 9: the same request once more, with the server's nonce.
                tracing::debug!("the server wants a DPoP nonce; sending the request again with it");
                nonce_rounds += 1;
                continue;
            }
            if let (Some(command), Some(sent), 401, true) =
                (&self.command, &sent, status, rounds < MAX_COMMAND_ROUNDS)
            {
                // The helper's token was refused: ask it for a new one, once.
                tracing::info!("the server refused the bearer command's token; running it again");
                rounds += 1;
                Box::pin(command.rejected(sent)).await;
                continue;
            }
            let (Some(oauth), true) = (&self.oauth, ours && rounds < MAX_AUTH_ROUNDS) else {
                return Err(SendError::Unauthorized {
                    status,
                    www_authenticate,
                });
            };
            rounds += 1;
            let challenge = www_authenticate
                .as_deref()
                .and_then(challenge::authorization);
            // Boxed, like every rare path here: a login's state would otherwise be part of
            // every request's future.
            Box::pin(oauth.on_challenge(status, challenge.as_ref(), sent))
                .await
                .map_err(SendError::Auth)?;
        }
    }

    /// The token requests carry now: the static one, or the OAuth client's.
    fn token(&self) -> Option<Secret> {
        self.bearer
            .clone()
            .or_else(|| self.oauth.as_ref().and_then(|o| o.bearer()))
    }

    /// Adds the user's headers and the token, with the `DPoP` scheme when it is bound to a
    /// key, else as a bearer token.
    fn attach(
        &self,
        mut request: reqwest::RequestBuilder,
        token: Option<&Secret>,
        bound: bool,
    ) -> reqwest::RequestBuilder {
        for h in &self.headers {
            request = request.header(h.name.clone(), h.to_value());
        }
        let scheme = if bound { "DPoP" } else { "Bearer" };
        if let Some(value) = token.and_then(|t| authorization(scheme, t)) {
            request = request.header(AUTHORIZATION, value);
        }
        request
    }
}

/// `Authorization: SCHEME TOKEN`, marked sensitive. A token with characters a header cannot
/// hold never gets here: static tokens are checked at start-up and issued ones on arrival.
fn authorization(scheme: &str, token: &Secret) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("{scheme} {}", token.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Adds a fresh DPoP proof for this method and URL with the token's hash (RFC 9449
/// section 7).
fn with_proof(
    request: reqwest::RequestBuilder,
    key: &DpopKey,
    method: &reqwest::Method,
    url: &Url,
    token: &Secret,
) -> Result<reqwest::RequestBuilder, SendError> {
    let proof = key
        .proof(method.as_str(), url, Some(token))
        .map_err(SendError::Auth)?;
    let proof = HeaderValue::from_str(&proof).map_err(|_| {
        SendError::Auth(AuthError::Token(
            "a DPoP proof that is no header value".into(),
        ))
    })?;
    Ok(request.header(dpop::PROOF_HEADER, proof))
}

/// Whether a 401's challenges ask for a DPoP nonce (`error="use_dpop_nonce"`).
fn wants_nonce(www_authenticate: Option<&str>) -> bool {
    www_authenticate.is_some_and(|w| {
        challenge::parse(w)
            .iter()
            .any(|c| c.error() == Some("use_dpop_nonce"))
    })
}

/// Every `WWW-Authenticate` value of a response, joined.
fn challenge_text(resp: &reqwest::Response) -> Option<String> {
    let joined = resp
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    Some(joined).filter(|w| !w.is_empty())
}
