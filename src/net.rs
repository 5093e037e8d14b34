//! HTTP plumbing every layer shares: the clients (TLS roots, proxies, redirect policy, built
//! only when first needed), reading bodies within a size limit, media types, and excerpts of
//! untrusted text for messages and logs.
//!
//! This module knows nothing of MCP, OAuth or credentials; it never attaches a header of its
//! own beyond the user agent.

use crate::budget::{Budget, Held};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::header::CONTENT_TYPE;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use url::Url;

/// How long a TCP+TLS connection may take to establish, unless `--connect-timeout` says.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one authorization request (metadata, registration, token) may take.
const OAUTH_TIMEOUT: Duration = Duration::from_secs(30);
/// Most redirects followed for one request (all within the first URL's origin).
const MAX_REDIRECTS: usize = 5;

/// Trust settings shared by every client of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsConfig {
    /// Extra trusted roots (`--ca-cert`, `SSL_CERT_FILE`) as read from their files. They are
    /// read and checked for a certificate at start-up, so a missing or empty file is a usage
    /// error at once, but decoded only when the first `https` client is built: a system-wide
    /// `SSL_CERT_FILE` holds well over a hundred roots that an `http://` server never needs.
    extra_roots: Arc<[PemFile]>,
}

/// One file of extra trusted roots.
#[derive(Debug)]
struct PemFile {
    path: PathBuf,
    pem: Vec<u8>,
}

impl PemFile {
    fn certificates(&self) -> anyhow::Result<Vec<reqwest::Certificate>> {
        use anyhow::Context;
        let path = self.path.display();
        let found = reqwest::Certificate::from_pem_bundle(&self.pem)
            .with_context(|| format!("no usable PEM certificate in {path}"))?;
        if found.is_empty() {
            anyhow::bail!("no PEM certificate found in {path}");
        }
        Ok(found)
    }
}

impl TlsConfig {
    /// Reads the PEM files of extra trusted roots.
    pub(crate) fn from_files(paths: &[PathBuf]) -> anyhow::Result<TlsConfig> {
        use anyhow::Context;
        let mut extra_roots = Vec::new();
        for path in paths {
            let pem = std::fs::read(path).with_context(|| {
                format!("failed to read CA certificate file {}", path.display())
            })?;
            if !contains(&pem, b"-----BEGIN CERTIFICATE-----") {
                anyhow::bail!("no PEM certificate found in {}", path.display());
            }
            extra_roots.push(PemFile {
                path: path.clone(),
                pem,
            });
        }
        Ok(TlsConfig {
            extra_roots: extra_roots.into(),
        })
    }

    /// Every extra root, as DER, for a TLS handshake of our own (`check`).
    pub(crate) fn der_roots(
        &self,
    ) -> anyhow::Result<Vec<rustls_pki_types::CertificateDer<'static>>> {
        use rustls_pki_types::pem::PemObject;
        let mut all = Vec::new();
        for file in self.extra_roots.iter() {
            for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&file.pem) {
                all.push(cert.map_err(|e| {
                    anyhow::anyhow!("no usable PEM certificate in {}: {e}", file.path.display())
                })?);
            }
        }
        Ok(all)
    }

    /// Decodes every extra root.
    fn certificates(&self) -> anyhow::Result<Vec<reqwest::Certificate>> {
        let mut all = Vec::new();
        for file in self.extra_roots.iter() {
            all.extend(file.certificates()?);
        }
        Ok(all)
    }
}

/// Connection settings shared by every client of a run.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) tls: TlsConfig,
    /// How long a TCP+TLS connection may take to establish (`--connect-timeout`).
    pub(crate) connect_timeout: Duration,
    /// Whether requests to the MCP server keep the cookies it sets, for the run only (load
    /// balancers pin a session with one); `--no-cookies` turns it off. Authorization
    /// requests never carry cookies.
    pub(crate) cookies: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            tls: TlsConfig::default(),
            connect_timeout: CONNECT_TIMEOUT,
            cookies: true,
        }
    }
}

/// Which redirects a client follows, and whether its requests are bounded in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// Requests to the MCP server: no overall timeout (a tool call or a stream may last as
    /// long as it likes), redirects followed within the first URL's origin only.
    Streaming,
    /// Authorization requests (discovery, registration, tokens): bounded in time, no
    /// redirect followed at all.
    OAuth,
}

/// An HTTP client that builds its parts on first use: plain `http://` requests never load
/// the system's trusted roots (which costs tens of millions of instructions), and `https://`
/// loads them once, when the first such request is made. Requests to this machine never go
/// through a proxy (`HTTP_PROXY` and the like): plain http is allowed there only because it
/// never leaves the machine, and a proxy would carry its tokens elsewhere in clear text.
#[derive(Debug)]
pub(crate) struct Client {
    purpose: Purpose,
    settings: Settings,
    /// For `http://` URLs: no trusted roots at all.
    plain: OnceLock<Result<reqwest::Client, String>>,
    /// For `https://` URLs: the system's roots plus the extra ones.
    secure: OnceLock<Result<reqwest::Client, String>>,
    /// The same two for loopback URLs, with no proxy.
    local_plain: OnceLock<Result<reqwest::Client, String>>,
    local_secure: OnceLock<Result<reqwest::Client, String>>,
}

/// The client for a URL could not be set up (for example, no trusted roots on this system).
#[derive(Debug, Clone, thiserror::Error)]
#[error("failed to set up the HTTP client: {0}")]
pub(crate) struct ClientError(String);

impl Client {
    /// The client for requests to the MCP server.
    pub(crate) fn streaming(settings: Settings) -> Client {
        Client::new(Purpose::Streaming, settings)
    }

    /// The client for authorization requests.
    pub(crate) fn oauth(settings: Settings) -> Client {
        Client::new(Purpose::OAuth, settings)
    }

    fn new(purpose: Purpose, settings: Settings) -> Client {
        Client {
            purpose,
            settings,
            plain: OnceLock::new(),
            secure: OnceLock::new(),
            local_plain: OnceLock::new(),
            local_secure: OnceLock::new(),
        }
    }

    /// The client to send a request to `url` with, built now if it was not yet.
    pub(crate) fn for_url(&self, url: &Url) -> Result<&reqwest::Client, ClientError> {
        let secure = url.scheme() != "http";
        let local = crate::endpoint::is_loopback(url);
        let cell = match (secure, local) {
            (false, false) => &self.plain,
            (true, false) => &self.secure,
            (false, true) => &self.local_plain,
            (true, true) => &self.local_secure,
        };
        cell.get_or_init(|| self.build(secure, local).map_err(|e| error_chain(&*e)))
            .as_ref()
            .map_err(|e| ClientError(e.clone()))
    }

    fn build(&self, secure: bool, local: bool) -> anyhow::Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("mcp-bridge/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(LoopbackNames)
            .connect_timeout(self.settings.connect_timeout)
            .tcp_nodelay(true);
        if local {
            builder = builder.no_proxy();
        }
        builder = match self.purpose {
            Purpose::Streaming => builder.cookie_store(self.settings.cookies).redirect(
                reqwest::redirect::Policy::custom(|attempt| {
                    let first = &attempt.previous()[0];
                    if attempt.previous().len() > MAX_REDIRECTS {
                        attempt.error("too many redirects")
                    } else if crate::endpoint::same_origin(first, attempt.url()) {
                        attempt.follow()
                    } else {
                        // Returning the 3xx makes the caller report it; credentials never travel on.
                        attempt.stop()
                    }
                }),
            ),
            Purpose::OAuth => builder
                .timeout(OAUTH_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none()),
        };
        builder = if secure {
            builder.tls_certs_merge(self.settings.tls.certificates()?)
        } else {
            // A plain-http client never verifies a certificate: give it an empty root store
            // instead of loading the system's.
            builder.tls_certs_only(Vec::new())
        };
        Ok(builder.build()?)
    }
}

/// Name resolution that keeps `localhost` and `*.localhost` on this machine (RFC 6761): the
/// URL policy lets plain `http://` go to them because they are loopback, so DNS (or a
/// poisoned resolver) must never send them elsewhere. Every other name goes to the system
/// resolver.
struct LoopbackNames;

impl reqwest::dns::Resolve for LoopbackNames {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = resolve(&host, 0).await?;
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The addresses the clients connect to for `host`: loopback for `localhost` and names
/// under it, the system resolver's answer for every other name.
pub(crate) async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
    if crate::endpoint::is_localhost_name(host) {
        return Ok(vec![
            std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)),
            std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
        ]);
    }
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// The body grew past the limit; reading stopped there.
    #[error("message from the server larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The connection failed while reading.
    #[error("reading the response failed")]
    Read(#[source] reqwest::Error),
}

/// Reads a whole body, failing once it grows past `limit` bytes.
pub(crate) async fn read_body(resp: reqwest::Response, limit: usize) -> Result<Bytes, BodyError> {
    let (body, _) = read_body_within(resp, limit, &Budget::unbounded()).await?;
    Ok(body)
}

/// [`read_body`], reserving every chunk from `budget` as it arrives; the bytes stay
/// reserved for as long as the returned [`Held`] lives.
pub(crate) async fn read_body_within(
    resp: reqwest::Response,
    limit: usize,
    budget: &Budget,
) -> Result<(Bytes, Held), BodyError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = BytesMut::new();
    let mut held = Held::default();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(BodyError::Read)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        budget.reserve(&mut held, chunk.len()).await;
        body.extend_from_slice(&chunk);
    }
    Ok((body.freeze(), held))
}

/// The media type of a response, lowercased, without parameters (empty if none).
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

/// Untrusted text (an error body, a server's error description, a URL from metadata) made
/// safe to show on a terminal or in a log line: line breaks and tabs become spaces, other
/// control characters and the invisible marks that hide or reorder text become `?`, runs of
/// spaces shrink to one, and the result is cut to `max` characters, marked with `…`.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 4));
    let mut shown = 0;
    let mut pending_space = false;
    for c in text.chars() {
        let c = if c.is_whitespace() {
            ' '
        } else if c.is_control() || is_invisible_mark(c) {
            '?'
        } else {
            c
        };
        if c == ' ' {
            pending_space = shown > 0;
            continue;
        }
        if shown + usize::from(pending_space) >= max {
            out.push('…');
            return out;
        }
        if std::mem::take(&mut pending_space) {
            out.push(' ');
            shown += 1;
        }
        out.push(c);
        shown += 1;
    }
    out
}

/// Characters that render as nothing or reorder the text around them.
pub(crate) fn is_invisible_mark(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// An error's message followed by its sources, each once, joined with `: ` (for the text of
/// a JSON-RPC error, where there are no `caused by:` lines).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Controls, escapes and reordering marks cannot reach a terminal; length is bounded.
    #[test]
    fn excerpts_are_safe() {
        assert_eq!(excerpt("a\u{1b}[2Jb\r\n\u{202e}c", 100), "a?[2Jb ?c");
        assert_eq!(excerpt("  padded\n\n\tbody  ", 100), "padded body");
        assert_eq!(excerpt("Не найдено", 100), "Не найдено");
        let long = excerpt(&"x".repeat(400), 300);
        assert_eq!(long.chars().count(), 301);
        assert!(long.ends_with('…'));
        assert_eq!(excerpt("short", 300), "short");
        assert_eq!(excerpt("", 3), "");
        assert_eq!(excerpt("abc def", 3), "abc…");
    }

    /// The chain names each cause once.
    #[test]
    fn chains_errors() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(error_chain(&e), "outer: inner");
    }

    /// A plain-http client is built without the system's roots; this machine's URLs get the
    /// clients without a proxy; every kind builds.
    #[test]
    fn builds_clients_lazily() {
        let client = Client::streaming(Settings::default());
        assert!(client.plain.get().is_none() && client.secure.get().is_none());
        let url = Url::parse("http://127.0.0.1:1/").unwrap();
        assert!(client.for_url(&url).is_ok());
        assert!(client.local_plain.get().is_some() && client.plain.get().is_none());
        for other in ["http://app.localhost:1/", "http://[::1]:1/"] {
            assert!(client.for_url(&Url::parse(other).unwrap()).is_ok());
        }
        assert!(client.plain.get().is_none() && client.secure.get().is_none());
        assert!(
            client
                .for_url(&Url::parse("http://example.com/").unwrap())
                .is_ok()
        );
        assert!(client.plain.get().is_some() && client.secure.get().is_none());
    }
}
