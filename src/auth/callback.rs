//! The loopback redirect receiver: the one-route HTTP server the browser comes back to after
//! the user signs in.
//!
//! [`bind`] listens on 127.0.0.1 only (never on another interface, even when the redirect URI
//! says `localhost`), so the flow can put [`CallbackServer::redirect_uri`] in the
//! authorization request before the browser opens. [`CallbackServer::wait`] then serves
//! `GET /oauth/callback` until exactly one request settles the login: a code with the right
//! `state`, an `error` with the right `state`, or a malformed answer with the right `state`.
//! A request with a wrong `state` gets an error page and changes nothing (any local process
//! can make one). It also ends on a timeout or cancellation, and the port is released
//! whenever it returns.
//!
//! This module checks `state`; it does not check `iss` against the issuer or exchange the code
//! (the flow does both). The code is never logged and never shown on a page; the pages are
//! static, so nothing the authorization server sends is reflected into them.

use super::peer;
use crate::secret::Secret;
use axum::Router;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, instrument, warn};
use url::Url;
use zeroize::Zeroize as _;

/// The path of the redirect URI.
pub(crate) const CALLBACK_PATH: &str = "/oauth/callback";

/// How long the page that settled the login may take to reach the browser after `wait` has
/// its answer; after that the server is dropped regardless.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How much of an `error` code we keep (RFC 6749 codes are short ASCII words).
const MAX_ERROR_LEN: usize = 64;

/// How much of an `error_description` we keep.
const MAX_DESCRIPTION_LEN: usize = 300;

/// Why no authorization code was received.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallbackError {
    #[error(
        "port {0} on 127.0.0.1 is already in use, so the login callback cannot listen there; choose another with --callback-port"
    )]
    PortInUse(u16),
    #[error("could not listen for the login callback on 127.0.0.1:{port}")]
    Bind {
        port: u16,
        #[source]
        source: io::Error,
    },
    #[error("unsupported callback host {0:?}: use 127.0.0.1 or localhost")]
    Host(String),
    #[error("{0}")]
    Path(String),
    #[error(
        "the login callback carried the wrong state (an old browser tab or a forged request); log in again"
    )]
    StateMismatch,
    /// The server sent `error`. `description` is untrusted text from the authorization
    /// server (sanitised and shortened); the flow decides whether to show it.
    #[error("the authorization server refused the login: {error}")]
    Denied {
        error: String,
        description: Option<String>,
        /// The RFC 9207 `iss` that came with the error, raw: the flow must check it before
        /// showing anything.
        iss: Option<String>,
    },
    #[error("the login callback was malformed: {0}")]
    Malformed(&'static str),
    #[error("no login callback arrived within {0:?}; log in again")]
    Timeout(Duration),
    #[error("login cancelled")]
    Cancelled,
    #[error("the login callback server stopped")]
    Server(#[source] io::Error),
}

/// What a successful redirect carried.
#[derive(Debug)]
pub(crate) struct CallbackParams {
    /// The authorization code, for the token request only.
    pub(crate) code: Secret,
    /// The RFC 9207 `iss` parameter, exactly as received. Untrusted: the flow compares it with
    /// the issuer and must not print it raw (see [`crate::net::excerpt`]).
    pub(crate) iss: Option<String>,
}

/// A bound, not yet serving, callback listener.
#[derive(Debug)]
pub(crate) struct CallbackServer {
    listener: TcpListener,
    redirect_uri: Url,
    /// Redirect URLs the user pastes (a login with no local browser), judged like requests.
    pasted: Option<mpsc::Receiver<String>>,
}

/// [`bind_at`] the usual path, [`CALLBACK_PATH`].
#[cfg(test)]
pub(crate) async fn bind(host: &str, port: u16) -> Result<CallbackServer, CallbackError> {
    bind_at(host, port, CALLBACK_PATH).await
}

/// Checks a `--callback-path`: an absolute path of plain URL characters (letters, digits,
/// `/`, `-`, `_`, `.`, `~`), without empty segments, dot segments, query or fragment, so the
/// redirect URI is exactly what a client was registered with.
pub(crate) fn check_path(path: &str) -> Result<(), String> {
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~'));
    let segments_ok =
        path.split('/').skip(1).all(|s| !matches!(s, "." | "..")) && !path.contains("//");
    if !path.starts_with('/') || path.len() > 200 || !plain || !segments_ok {
        let shown: String = path.chars().take(64).collect();
        return Err(format!(
            "--callback-path {shown:?} must be a path like /oauth/callback: it starts with '/' and has only letters, digits and - _ . ~ between single slashes"
        ));
    }
    Ok(())
}

/// Listens on `127.0.0.1:<port>` (0 picks a free port) for `GET <path>` (checked by
/// [`check_path`]). The redirect URI names `host`, which is `127.0.0.1` or `localhost` (for
/// authorization servers that register it that way); the socket is bound to 127.0.0.1
/// either way.
pub(crate) async fn bind_at(
    host: &str,
    port: u16,
    path: &str,
) -> Result<CallbackServer, CallbackError> {
    check_path(path).map_err(CallbackError::Path)?;
    let host = if host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost") {
        host.to_ascii_lowercase()
    } else {
        return Err(CallbackError::Host(host.chars().take(64).collect()));
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|source| match source.kind() {
            io::ErrorKind::AddrInUse => CallbackError::PortInUse(port),
            _ => CallbackError::Bind { port, source },
        })?;
    let port = listener
        .local_addr()
        .map_err(|source| CallbackError::Bind { port, source })?
        .port();
    let redirect_uri = Url::parse(&format!("http://{host}:{port}{path}"))
        .expect("a loopback host, a port and a checked path form a valid URL");
    debug!(%redirect_uri, "login callback listening");
    Ok(CallbackServer {
        listener,
        redirect_uri,
        pasted: None,
    })
}

impl CallbackServer {
    /// `http://127.0.0.1:<port>/oauth/callback` (or `localhost`, see [`bind`]).
    pub(crate) fn redirect_uri(&self) -> Url {
        self.redirect_uri.clone()
    }

    /// Also accepts the redirect URL as pasted lines (see [`super::paste`]): whichever of a
    /// request and a pasted URL settles the login first wins.
    pub(crate) fn accept_pasted(&mut self, lines: mpsc::Receiver<String>) {
        self.pasted = Some(lines);
    }

    /// The port actually bound (useful after binding port 0).
    pub(crate) fn port(&self) -> u16 {
        self.redirect_uri
            .port()
            .expect("the redirect URI is built with an explicit port")
    }

    /// Serves the callback until one request settles the login, `timeout` passes or `cancel`
    /// fires, then shuts the server down (the port is free when this returns, or when this
    /// future is dropped).
    #[instrument(skip_all, fields(port = self.port()))]
    pub(crate) async fn wait(
        self,
        expected_state: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<CallbackParams, CallbackError> {
        let (result_tx, mut result_rx) = oneshot::channel();
        let shared = Arc::new(Waiting {
            expected_state: expected_state.to_owned(),
            result_tx: Mutex::new(Some(result_tx)),
            mismatches: AtomicUsize::new(0),
            port: self.port(),
        });
        // Stops the server; cancelled below, or by the guard if this future is dropped.
        let stop = CancellationToken::new();
        let _stop_on_drop = stop.clone().drop_guard();
        let path = self.redirect_uri.path().to_owned();
        let server = axum::serve(self.listener, service(shared.clone(), &path))
            .with_graceful_shutdown(stop.clone().cancelled_owned());
        let mut server = std::pin::pin!(server.into_future());

        let mut server_ended = false;
        let deadline = tokio::time::sleep(timeout);
        let mut deadline = std::pin::pin!(deadline);
        let mut pasted = self.pasted;
        let outcome = loop {
            let next_paste = async {
                match pasted.as_mut() {
                    Some(lines) => lines.recv().await,
                    None => std::future::pending().await,
                }
            };
            break tokio::select! {
                biased;
                () = cancel.cancelled() => Err(CallbackError::Cancelled),
                received = &mut result_rx => received.unwrap_or_else(|_| {
                    Err(CallbackError::Server(io::Error::other("the callback handler went away")))
                }),
                line = next_paste => {
                    let Some(mut line) = line else {
                        // The terminal closed: only the callback can settle the login now.
                        pasted = None;
                        continue;
                    };
                    let judged = super::paste::judge(&line, &self.redirect_uri, expected_state);
                    line.zeroize();
                    match judged {
                        Some(Err(CallbackError::StateMismatch)) => {
                            shared.mismatches.fetch_add(1, Ordering::Relaxed);
                            super::paste::say(
                                "that address is from another login (its state does not match); still waiting",
                            );
                            continue;
                        }
                        None => continue,
                        Some(outcome) => {
                            // The browser request, if it comes later, finds the login settled.
                            shared.result_tx.lock().expect("result lock is never poisoned").take();
                            outcome
                        }
                    }
                }
                // A login that saw only wrong-state callbacks says so rather than just timing out.
                () = &mut deadline => Err(match shared.mismatches.load(Ordering::Relaxed) {
                    0 => CallbackError::Timeout(timeout),
                    _ => CallbackError::StateMismatch,
                }),
                ended = &mut server => {
                    server_ended = true;
                    Err(CallbackError::Server(
                        ended.err().unwrap_or_else(|| io::Error::other("the server ended early")),
                    ))
                }
            };
        };

        // The listener closes at once; the connection that settled the login gets a moment to
        // deliver its page.
        stop.cancel();
        if !server_ended && tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err() {
            debug!("a browser connection outlived the shutdown grace period");
        }
        debug!(ok = outcome.is_ok(), "login callback finished");
        outcome
    }
}

/// What the handler shares with [`CallbackServer::wait`].
struct Waiting {
    /// The `state` sent in the authorization request.
    expected_state: String,
    /// Taken by the first request that settles the login; `wait` holds the receiver.
    result_tx: Mutex<Option<oneshot::Sender<Result<CallbackParams, CallbackError>>>>,
    /// Callbacks that carried the wrong state (ignored; reported if the login times out).
    mismatches: AtomicUsize,
    /// The port the callback listens on.
    port: u16,
}

/// The router with each connection's peer address, for [`receive`]'s owner check.
fn service(
    shared: Arc<Waiting>,
    path: &str,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    router(shared, path).into_make_service_with_connect_info::<SocketAddr>()
}

fn router(shared: Arc<Waiting>, path: &str) -> Router {
    Router::new()
        .route(path, get(receive))
        .fallback(|| async { Page::NotFound })
        .with_state(shared)
}

/// The `GET <callback path>` handler.
async fn receive(
    State(shared): State<Arc<Waiting>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
) -> Page {
    // Another user's program can read `state` from the browser's command line; only this
    // user's may answer (where the system says who is on the other end).
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, shared.port));
    if let (Some(owner), Some(me)) = (peer::owner(peer, local), peer::current_user())
        && owner != me
    {
        warn!(
            uid = owner,
            "refused a login callback from another user's program"
        );
        return Page::OtherUser;
    }
    let mut query = query.unwrap_or_default();
    let outcome = judge(&query, &shared.expected_state);
    query.zeroize();
    debug!(
        settled = match &outcome {
            Ok(_) => "code",
            Err(CallbackError::StateMismatch) => "state mismatch",
            Err(CallbackError::Denied { .. }) => "denied",
            Err(_) => "malformed",
        },
        "login callback arrived"
    );
    let page = match &outcome {
        Ok(_) => Page::Success,
        Err(CallbackError::StateMismatch) => Page::StateMismatch,
        Err(CallbackError::Denied { error, .. }) => Page::Denied(denied_message(error)),
        Err(_) => Page::Malformed,
    };
    let mut result_tx = shared
        .result_tx
        .lock()
        .expect("result lock is never poisoned");
    if result_tx.is_none() {
        // Settled already, or `wait` is no longer listening.
        return Page::Finished;
    }
    if matches!(outcome, Err(CallbackError::StateMismatch)) {
        // Not the answer to our request (an old tab, or any local process guessing): it gets
        // the error page and the login goes on waiting for the real callback.
        shared.mismatches.fetch_add(1, Ordering::Relaxed);
        warn!("ignored a login callback with the wrong state; still waiting for the right one");
        return page;
    }
    match result_tx.take().map(|tx| tx.send(outcome)) {
        Some(Ok(())) => page,
        _ => Page::Finished,
    }
}

/// Decides what a callback query means. The state is checked first, so nothing else in a
/// request with the wrong state is looked at.
pub(crate) fn judge(query: &str, expected_state: &str) -> Result<CallbackParams, CallbackError> {
    let mut p = Params::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match &*name {
            "code" => &mut p.code,
            "state" => &mut p.state,
            "iss" => &mut p.iss,
            "error" => &mut p.error,
            "error_description" => &mut p.error_description,
            // `error_uri` is an untrusted link; we never show or follow it.
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            p.repeated.push(name.into_owned());
        }
    }
    let state_ok = p
        .state
        .as_deref()
        .is_some_and(|s| same_secret(s, expected_state));
    if !state_ok || p.repeated.iter().any(|n| n == "state") {
        return Err(CallbackError::StateMismatch);
    }
    if !p.repeated.is_empty() {
        return Err(CallbackError::Malformed(
            "a parameter appears more than once",
        ));
    }
    if let Some(error) = p.error.take() {
        return Err(CallbackError::Denied {
            error: crate::net::excerpt(&error, MAX_ERROR_LEN),
            description: p
                .error_description
                .take()
                .filter(|d| !d.is_empty())
                .map(|d| crate::net::excerpt(&d, MAX_DESCRIPTION_LEN)),
            iss: p.iss.take(),
        });
    }
    match p.code.take() {
        Some(code) if !code.is_empty() => Ok(CallbackParams {
            code: Secret::new(code),
            iss: p.iss.take(),
        }),
        _ => Err(CallbackError::Malformed("it has no authorization code")),
    }
}

/// The parameters a callback may carry. The code is wiped when this is dropped.
#[derive(Default)]
struct Params {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// Names seen more than once.
    repeated: Vec<String>,
}

impl Drop for Params {
    fn drop(&mut self) {
        if let Some(code) = &mut self.code {
            code.zeroize();
        }
    }
}

/// Compares two strings in time that depends only on their lengths.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// The page for an RFC 6749 error code: what it means, in words of our own (nothing the
/// server sent is shown), and what to do next.
fn denied_message(code: &str) -> &'static str {
    match code {
        "access_denied" => {
            "Access was declined (at the consent screen, or by a policy). You can close this tab; your application shows the details."
        }
        "invalid_scope" => {
            "The permissions asked for are not ones this server grants. You can close this tab; your application shows the details."
        }
        "unauthorized_client" => {
            "This application is not allowed to sign in this way. You can close this tab; your application shows the details."
        }
        "server_error" | "temporarily_unavailable" => {
            "The authorization server had a problem. You can close this tab and try again later."
        }
        "login_required" | "interaction_required" | "consent_required" => {
            "The authorization server needs you to sign in or consent first. You can close this tab and start the login again from your application."
        }
        _ => {
            "The authorization server did not grant access. You can close this tab; your application shows the details."
        }
    }
}

/// The pages the browser sees. All are static: nothing from the request is reflected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Success,
    StateMismatch,
    /// With what the server's error code means ([`denied_message`]).
    Denied(&'static str),
    Malformed,
    Finished,
    NotFound,
    OtherUser,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Page::Success => (
                StatusCode::OK,
                "Authorization complete",
                "Authorization complete — you can close this tab and return to your application.",
            ),
            Page::StateMismatch => (
                StatusCode::BAD_REQUEST,
                "Not this login",
                "This sign-in response does not belong to the login in progress (it may come from an old tab). It was ignored: finish signing in from the newest tab the application opened, and close this one.",
            ),
            Page::Denied(message) => (StatusCode::BAD_REQUEST, "Login failed", message),
            Page::Malformed => (
                StatusCode::BAD_REQUEST,
                "Login failed",
                "The sign-in response was incomplete. You can close this tab and start the login again from your application.",
            ),
            Page::Finished => (
                StatusCode::GONE,
                "Login already finished",
                "This login attempt is already finished. You can close this tab.",
            ),
            Page::NotFound => (StatusCode::NOT_FOUND, "Not found", "There is nothing here."),
            Page::OtherUser => (
                StatusCode::FORBIDDEN,
                "Not this user",
                "This sign-in response came from a program of another user on this machine. It was ignored; you can close this tab.",
            ),
        };
        let body = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>mcp-bridge: {title}</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;\
             padding:0 1em;line-height:1.5}}h1{{font-size:1.4em}}</style></head>\
             <body><h1>{title}</h1><p>{message}</p></body></html>\n"
        );
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        for (name, value) in [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = "s7-expected-state";
    const LONG: Duration = Duration::from_secs(30);

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a plain client builds")
    }

    /// GETs `redirect_uri` with `query`, returning the status and the body.
    async fn hit(redirect_uri: &Url, query: &str) -> (u16, String) {
        let mut url = redirect_uri.clone();
        url.set_query(Some(query));
        let response = client().get(url).send().await.expect("server answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }

    /// Runs `wait` and one request side by side.
    async fn wait_and_hit(query: &str) -> (Result<CallbackParams, CallbackError>, u16, String) {
        let server = bind("127.0.0.1", 0).await.unwrap();
        let uri = server.redirect_uri();
        let cancel = CancellationToken::new();
        let (result, (status, body)) =
            tokio::join!(server.wait(STATE, LONG, &cancel), hit(&uri, query));
        assert_port_free(uri.port().unwrap());
        (result, status, body)
    }

    fn assert_port_free(port: u16) {
        std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .unwrap_or_else(|e| panic!("port {port} is still held: {e}"));
    }

    /// The redirect URI names 127.0.0.1 and the bound port; the socket is on 127.0.0.1.
    #[tokio::test]
    async fn binds_loopback_only() {
        let server = bind("127.0.0.1", 0).await.unwrap();
        let port = server.port();
        assert_ne!(port, 0);
        assert_eq!(
            server.redirect_uri().as_str(),
            format!("http://127.0.0.1:{port}/oauth/callback")
        );
        assert!(server.listener.local_addr().unwrap().ip().is_loopback());

        let server = bind("localhost", 0).await.unwrap();
        let port = server.port();
        assert_eq!(
            server.redirect_uri().as_str(),
            format!("http://localhost:{port}/oauth/callback")
        );
        assert_eq!(
            server.listener.local_addr().unwrap().ip(),
            std::net::IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert!(matches!(
            bind("0.0.0.0", 0).await,
            Err(CallbackError::Host(_))
        ));
    }

    /// A busy port is a clear error naming the port, not a panic.
    #[tokio::test]
    async fn busy_port_is_an_error() {
        let taken = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let e = bind("127.0.0.1", port).await.unwrap_err();
        assert!(
            matches!(e, CallbackError::PortInUse(p) if p == port),
            "{e:?}"
        );
        assert!(e.to_string().contains(&format!("port {port}")));
    }

    /// The code and `iss` arrive; the browser gets the success page; the port is freed.
    #[tokio::test]
    async fn success() {
        let (result, status, body) = wait_and_hit(&format!(
            "code=abc%2B123&state={STATE}&iss=https%3A%2F%2Fas.example"
        ))
        .await;
        let params = result.unwrap();
        assert_eq!(params.code.expose(), "abc+123");
        assert_eq!(params.iss.as_deref(), Some("https://as.example"));
        assert_eq!(status, 200);
        assert!(body.contains("Authorization complete — you can close this tab"));
        assert!(!body.contains("abc"), "the code must not be echoed");
        assert!(!body.contains("<script") && !body.contains("src="));
    }

    /// The success page forbids caching, scripts, framing and referrers.
    #[tokio::test]
    async fn success_page_headers() {
        let server = bind("127.0.0.1", 0).await.unwrap();
        let mut url = server.redirect_uri();
        url.set_query(Some(&format!("code=c&state={STATE}")));
        let cancel = CancellationToken::new();
        let (result, response) =
            tokio::join!(server.wait(STATE, LONG, &cancel), client().get(url).send());
        result.unwrap();
        let response = response.unwrap();
        let h = response.headers();
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; style-src 'unsafe-inline'"
        );
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
    }

    /// A wrong or missing state gets an error page, code unseen, and is otherwise ignored:
    /// the login goes on and the right callback still settles it.
    #[tokio::test]
    async fn state_mismatch_is_ignored() {
        let server = bind("127.0.0.1", 0).await.unwrap();
        let uri = server.redirect_uri();
        let cancel = CancellationToken::new();
        let forged = async {
            for query in [
                "code=secretcode&state=wrong".to_owned(),
                "code=secretcode".to_owned(),
                format!("code=secretcode&state={STATE}x"),
                format!("code=secretcode&state={STATE}&state=other"),
            ] {
                let (status, body) = hit(&uri, &query).await;
                assert_eq!(status, 400, "{query}");
                assert!(!body.contains("secretcode"));
            }
            hit(&uri, &format!("code=real&state={STATE}")).await
        };
        let (result, (status, _)) = tokio::join!(server.wait(STATE, LONG, &cancel), forged);
        assert_eq!(status, 200);
        assert_eq!(result.unwrap().code.expose(), "real");
    }

    /// A login that only ever saw wrong-state callbacks ends, at its timeout, saying so.
    #[tokio::test]
    async fn only_mismatches_then_timeout() {
        let server = bind("127.0.0.1", 0).await.unwrap();
        let uri = server.redirect_uri();
        let cancel = CancellationToken::new();
        let (result, _) = tokio::join!(
            server.wait(STATE, Duration::from_millis(300), &cancel),
            hit(&uri, "code=c&state=wrong")
        );
        assert!(
            matches!(result, Err(CallbackError::StateMismatch)),
            "{result:?}"
        );
    }

    /// An `error` with the right state is a refusal; the description is kept, sanitised.
    #[tokio::test]
    async fn error_param() {
        let (result, status, body) = wait_and_hit(&format!(
            "error=access_denied&error_description=User%20said%20no%1B%5B31m%0A&error_uri=https%3A%2F%2Fevil&state={STATE}"
        ))
        .await;
        let Err(CallbackError::Denied {
            error, description, ..
        }) = result
        else {
            panic!("expected Denied, got {result:?}");
        };
        assert_eq!(error, "access_denied");
        assert_eq!(description.as_deref(), Some("User said no?[31m"));
        assert_eq!(status, 400);
        assert!(!body.contains("User said no") && !body.contains("evil"));
    }

    /// A right state without a code (or with an empty one) is malformed.
    #[tokio::test]
    async fn missing_code() {
        for query in [format!("state={STATE}"), format!("code=&state={STATE}")] {
            let (result, status, _) = wait_and_hit(&query).await;
            assert!(
                matches!(result, Err(CallbackError::Malformed(_))),
                "{query}: {result:?}"
            );
            assert_eq!(status, 400);
        }
    }

    /// `--callback-path` moves the callback: the redirect URI names it, only it settles the
    /// login, and a path that could not be registered exactly is refused.
    #[tokio::test]
    async fn custom_path() {
        let server = bind_at("127.0.0.1", 0, "/cb/mcp-bridge").await.unwrap();
        let port = server.port();
        assert_eq!(
            server.redirect_uri().as_str(),
            format!("http://127.0.0.1:{port}/cb/mcp-bridge")
        );
        let probe = async {
            let base = format!("http://127.0.0.1:{port}");
            let r = client()
                .get(format!("{base}{CALLBACK_PATH}?code=c&state={STATE}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404);
            let r = client()
                .get(format!("{base}/cb/mcp-bridge?code=c&state={STATE}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        };
        let cancel = CancellationToken::new();
        let (result, ()) = tokio::join!(server.wait(STATE, LONG, &cancel), probe);
        assert_eq!(result.unwrap().code.expose(), "c");
        for bad in [
            "", "cb", "/a//b", "/a/../b", "/./a", "/a?x=1", "/a#f", "/{id}", "/*rest", "/a b",
            "/%2e%2e",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
            assert!(matches!(
                bind_at("127.0.0.1", 0, bad).await,
                Err(CallbackError::Path(_))
            ));
        }
        for good in ["/", "/callback", "/oauth2/redirect/", "/a-b_c.d~e"] {
            assert!(check_path(good).is_ok(), "{good:?}");
        }
    }

    /// Other paths are 404 and do not settle the login.
    #[tokio::test]
    async fn wrong_path_is_404() {
        let server = bind("127.0.0.1", 0).await.unwrap();
        let port = server.port();
        let cancel = CancellationToken::new();
        let probe = async {
            let base = format!("http://127.0.0.1:{port}");
            for path in ["/", "/favicon.ico", "/oauth/callback/x", "/oauth"] {
                let r = client()
                    .get(format!("{base}{path}?code=c&state={STATE}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 404, "{path}");
            }
            cancel.cancel();
        };
        let (result, ()) = tokio::join!(server.wait(STATE, LONG, &cancel), probe);
        assert!(
            matches!(result, Err(CallbackError::Cancelled)),
            "{result:?}"
        );
    }

    /// No callback within the timeout: a timeout error, and the port is freed.
    #[tokio::test]
    async fn timeout_frees_port() {
        let server = bind("127.0.0.1", 0).await.unwrap();
        let port = server.port();
        let timeout = Duration::from_millis(100);
        let result = server.wait(STATE, timeout, &CancellationToken::new()).await;
        assert!(matches!(result, Err(CallbackError::Timeout(t)) if t == timeout));
        assert_port_free(port);
    }

    /// Cancellation ends the wait and frees the port; so does dropping the wait.
    #[tokio::test]
    async fn cancellation_frees_port() {
        let server = bind("127.0.0.1", 0).await.unwrap();
        let port = server.port();
        let cancel = CancellationToken::new();
        let canceller = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            cancel.cancel();
        };
        let (result, ()) = tokio::join!(server.wait(STATE, LONG, &cancel), canceller);
        assert!(
            matches!(result, Err(CallbackError::Cancelled)),
            "{result:?}"
        );
        assert_port_free(port);

        let server = bind("127.0.0.1", 0).await.unwrap();
        let port = server.port();
        let never = CancellationToken::new();
        let dropped =
            tokio::time::timeout(Duration::from_millis(50), server.wait(STATE, LONG, &never)).await;
        assert!(dropped.is_err());
        assert_port_free(port);
    }

    /// Exactly one request settles the login; any later hit gets the "finished" page.
    #[tokio::test]
    async fn exactly_once() {
        let (result_tx, mut result_rx) = oneshot::channel();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Waiting {
            expected_state: STATE.into(),
            result_tx: Mutex::new(Some(result_tx)),
            mismatches: AtomicUsize::new(0),
            port,
        });
        let server =
            tokio::spawn(axum::serve(listener, service(shared, CALLBACK_PATH)).into_future());
        let uri = Url::parse(&format!("http://127.0.0.1:{port}{CALLBACK_PATH}")).unwrap();

        let (status, _) = hit(&uri, &format!("code=first&state={STATE}")).await;
        assert_eq!(status, 200);
        for query in [
            format!("code=second&state={STATE}"),
            "code=x&state=wrong".to_owned(),
            "error=access_denied".to_owned(),
        ] {
            let (status, body) = hit(&uri, &query).await;
            assert_eq!(status, 410, "{query}");
            assert!(body.contains("already finished"));
        }
        let params = result_rx.try_recv().unwrap().unwrap();
        assert_eq!(params.code.expose(), "first");
        server.abort();
    }

    /// The comparison is exact: prefixes, case and length all matter.
    #[test]
    fn state_compare_is_exact() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("abc", "ABC"));
        assert!(same_secret("", ""));
    }

    /// `CallbackParams` never prints the code.
    #[test]
    fn params_debug_hides_code() {
        let p = judge(&format!("code=hunter2&state={STATE}"), STATE).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
