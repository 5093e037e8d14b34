//! The HTTP side shared by both transports: the client (TLS roots, proxies, redirects), the
//! headers every request to the MCP server carries, and reading bodies within a size limit.
//!
//! Credentials (the bearer token and the user's headers) are attached only to URLs with the
//! server's origin, and redirects are followed only within that origin, so a server cannot
//! bounce them to another host.

use super::Error;
use crate::auth::Auth;
use crate::endpoint;
use crate::headers::Header;
use crate::secret::Secret;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How long a TCP+TLS connection may take to establish.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one authorization request (metadata, registration, token) may take.
const OAUTH_TIMEOUT: Duration = Duration::from_secs(30);
/// Authorization rounds (login, refresh, step-up) for one request before its 401/403 stands.
const MAX_AUTH_ROUNDS: u32 = 3;
/// Most redirects followed for one request (all within the server's origin).
const MAX_REDIRECTS: usize = 5;

/// Options for building the HTTP client.
#[derive(Debug, Default, Clone)]
pub(crate) struct ClientOptions {
    /// Extra PEM files of trusted root certificates (`--ca-cert`, `SSL_CERT_FILE`).
    pub(crate) ca_certs: Vec<PathBuf>,
}

/// Builds the streaming client: a connect timeout but no overall timeout (a tool call or a
/// GET stream may last as long as it likes), same-origin redirects only, proxies from the
/// environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`).
pub(crate) fn build_client(options: &ClientOptions) -> anyhow::Result<reqwest::Client> {
    let builder = base_builder().redirect(reqwest::redirect::Policy::custom(|attempt| {
        let first = &attempt.previous()[0];
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if endpoint::same_origin(first, attempt.url()) {
            attempt.follow()
        } else {
            // Returning the 3xx makes the caller report it; credentials never travel on.
            attempt.stop()
        }
    }));
    finish_builder(builder, options)
}

/// Builds the client for authorization requests (discovery, registration, tokens): every
/// request bounded in time, and no redirect followed at all.
pub(crate) fn build_oauth_client(options: &ClientOptions) -> anyhow::Result<reqwest::Client> {
    let builder = base_builder()
        .timeout(OAUTH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    finish_builder(builder, options)
}

fn base_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("mcp-bridge/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
}

/// Adds the extra trusted roots and builds.
fn finish_builder(
    mut builder: reqwest::ClientBuilder,
    options: &ClientOptions,
) -> anyhow::Result<reqwest::Client> {
    use anyhow::Context;
    let mut certs = Vec::new();
    for path in &options.ca_certs {
        let pem = std::fs::read(path)
            .with_context(|| format!("failed to read CA certificate file {}", path.display()))?;
        let found = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("no usable PEM certificate in {}", path.display()))?;
        if found.is_empty() {
            anyhow::bail!("no PEM certificate found in {}", path.display());
        }
        certs.extend(found);
    }
    if !certs.is_empty() {
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().context("failed to set up the HTTP client")
}

/// Everything needed to make a request to the MCP server.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub(crate) client: reqwest::Client,
    /// The server URL the user gave; its origin is where credentials may go.
    pub(crate) url: Url,
    /// The user's extra headers.
    pub(crate) headers: Vec<Header>,
    /// A static bearer token, sent as `Authorization: Bearer`.
    pub(crate) bearer: Option<Secret>,
    /// The OAuth client, when the user gave no static credentials.
    pub(crate) auth: Option<Arc<Auth>>,
    /// Largest message (JSON body or SSE event) accepted from the server.
    pub(crate) max_message: usize,
}

impl Http {
    /// Starts a request to `url`, adding credentials only when it has the server's origin.
    pub(crate) fn request(&self, method: reqwest::Method, url: &Url) -> reqwest::RequestBuilder {
        let mut req = self.client.request(method, url.clone());
        if !endpoint::same_origin(url, &self.url) {
            tracing::warn!(url = %endpoint::for_log(url), "not sending credentials to another origin");
            return req;
        }
        for h in &self.headers {
            req = req.header(h.name.clone(), h.to_value());
        }
        if let Some(token) = &self.token() {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
        }
        req
    }

    /// The bearer token requests carry now: the static one, or the OAuth client's.
    pub(crate) fn token(&self) -> Option<Secret> {
        self.bearer
            .clone()
            .or_else(|| self.auth.as_ref().and_then(|a| a.bearer()))
    }

    /// Before a request: lets the OAuth client load or refresh its token.
    pub(crate) async fn prepare(&self) {
        if let Some(auth) = &self.auth {
            auth.prepare().await;
        }
    }

    /// After a failed request sent with `sent`: when it was a 401/403 and OAuth is on, gets
    /// a new token. `Ok(true)` means retry; `Ok(false)` means the error stands as it is.
    pub(crate) async fn reauthorize(
        &self,
        err: &Error,
        sent: Option<Secret>,
        rounds: &mut u32,
    ) -> Result<bool, Error> {
        let (
            Some(auth),
            Error::AuthRequired {
                status,
                www_authenticate,
            },
        ) = (&self.auth, err)
        else {
            return Ok(false);
        };
        if *rounds >= MAX_AUTH_ROUNDS {
            return Ok(false);
        }
        *rounds += 1;
        match auth
            .on_challenge(*status, www_authenticate.as_deref(), sent)
            .await
        {
            Ok(()) => Ok(true),
            Err(e) => Err(Error::Unauthorized(e.to_string())),
        }
    }

    /// A POST of one JSON-RPC message, accepting JSON or an event stream in reply.
    pub(crate) fn post_json(&self, url: &Url, body: String) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, url)
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
    }

    /// A GET that opens an event stream.
    pub(crate) fn get_stream(&self, url: &Url) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, url)
            .header(ACCEPT, "text/event-stream")
    }
}

/// The error for a 401 or 403, with the challenge the server sent.
pub(crate) fn auth_required(resp: &reqwest::Response) -> Error {
    let www_authenticate = resp
        .headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    Error::AuthRequired {
        status: resp.status().as_u16(),
        www_authenticate: Some(www_authenticate).filter(|w| !w.is_empty()),
    }
}

/// The media type of a response, lowercased, without parameters.
pub(crate) fn media_type(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// Reads a whole body, failing once it grows past `limit` bytes.
pub(crate) async fn read_body(resp: reqwest::Response, limit: usize) -> Result<Bytes, Error> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(Error::TooLarge { limit });
    }
    let mut body = BytesMut::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(Error::from_reqwest)?;
        if body.len() + chunk.len() > limit {
            return Err(Error::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A short, printable excerpt of an error body for messages and logs.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    match clean.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &clean[..i]),
        None => clean.to_owned(),
    }
}
