//! Talking to the remote MCP server: the two HTTP transports, choosing between them, and
//! handing what the server sends to the relay.
//!
//! The relay calls [`Transport::send`] for each message from the host, in order. Sending
//! never waits for a request's answer (except `initialize`, which must finish before anything
//! else goes out); answers, server requests and notifications arrive on the [`Inbox`]'s
//! channel from reader tasks. When a request cannot be delivered or answered, the transport
//! puts a JSON-RPC error for it on the same channel, so the host always hears back.
//!
//! This module knows nothing of stdio or the command line.

mod eras;
pub(crate) mod http;
pub(crate) mod modern;
mod mrtr;
pub(crate) mod sse;
pub(crate) mod sse_parse;
pub(crate) mod stream;
pub(crate) mod streamable;

use crate::endpoint;
use crate::jsonrpc::{self, Id, Message};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Which protocol era to speak to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Protocol {
    /// Ask with `server/discover` first (2026-07-28), fall back to `initialize`.
    #[default]
    Auto,
    /// Only the `initialize` era (2024-11-05 to 2025-11-25).
    Legacy,
    /// Only 2026-07-28.
    Modern,
}

/// Which transport to use, and in what order to try them (mcp-remote's `--transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Streamable HTTP, falling back to HTTP+SSE when the server answers 400/404/405.
    #[default]
    HttpFirst,
    /// HTTP+SSE, falling back to Streamable HTTP when the SSE stream cannot be opened.
    SseFirst,
    /// Streamable HTTP only.
    HttpOnly,
    /// HTTP+SSE only (2024-11-05 servers).
    SseOnly,
}

/// Failures the transports branch on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("could not reach the server: {0}")]
    Connect(String),
    #[error("HTTP request failed: {0}")]
    Http(String),
    #[error("server answered HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status { status: u16, body: String },
    #[error("authorization failed: {0}")]
    Unauthorized(String),
    #[error("server refused the request as unauthorized (HTTP {status})")]
    AuthRequired {
        status: u16,
        www_authenticate: Option<String>,
    },
    #[error("the session expired (HTTP 404)")]
    SessionExpired,
    #[error("server redirected to another origin ({location}); not following with credentials")]
    Redirected { location: String },
    #[error("unexpected content type {0:?} from the server")]
    ContentType(String),
    #[error("message from the server larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("invalid message from the server: {0}")]
    Protocol(String),
    #[error(
        "the HTTP+SSE endpoint {0} is on another origin than the server; refusing to send messages or credentials there"
    )]
    CrossOriginEndpoint(String),
    #[error("{0}")]
    Closed(String),
    #[error("{0}")]
    Refused(String),
}

impl Error {
    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        // reqwest's Display includes the URL; strip query values that may hold keys.
        let mut e = e;
        if let Some(url) = e.url_mut() {
            let shown = url::Url::parse(&endpoint::for_log(url)).ok();
            if let Some(shown) = shown {
                *url = shown;
            }
        }
        let text = error_chain(&e);
        if e.is_connect() || e.is_timeout() {
            Error::Connect(text)
        } else {
            Error::Http(text)
        }
    }

    /// The JSON-RPC error code for a request this error failed.
    pub(crate) fn code(&self) -> i64 {
        match self {
            Error::Protocol(_) | Error::TooLarge { .. } | Error::ContentType(_) => {
                jsonrpc::INTERNAL_ERROR
            }
            Error::Refused(_) => jsonrpc::INVALID_PARAMS,
            _ => jsonrpc::BRIDGE_ERROR,
        }
    }
}

/// An error's message followed by its sources, skipping repeats.
fn error_chain(e: &dyn std::error::Error) -> String {
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

/// Where messages from the server go: the channel to the relay, with watchers that let the
/// transport see (or privately consume) the answer to a particular request.
pub(crate) struct Inbox {
    /// Sender half of the relay's inbound channel; the relay's writer holds the receiver.
    to_host_tx: mpsc::Sender<Message>,
    watchers: Mutex<HashMap<Id, Watcher>>,
    /// For a 2026-07-28 host on an `initialize`-era server: turns the server's requests into
    /// "input required" answers.
    broker: std::sync::OnceLock<Arc<mrtr::InputBroker>>,
}

struct Watcher {
    tx: oneshot::Sender<Message>,
    /// Whether the host should also get the answer (false for the bridge's own requests).
    forward: bool,
}

impl Inbox {
    pub(crate) fn new(to_host_tx: mpsc::Sender<Message>) -> Arc<Self> {
        Arc::new(Inbox {
            to_host_tx,
            watchers: Mutex::new(HashMap::new()),
            broker: std::sync::OnceLock::new(),
        })
    }

    /// Hands a message from the server on. Waits when the host is slow (backpressure).
    pub(crate) async fn deliver(&self, msg: Message) {
        if msg.is_response()
            && let Some(id) = msg.id()
        {
            let watcher = self
                .watchers
                .lock()
                .expect("watcher lock is never poisoned")
                .remove(id);
            if let Some(w) = watcher {
                let forward = w.forward;
                let _ = w.tx.send(msg.clone());
                if !forward {
                    return;
                }
            }
        }
        self.deliver_to_host(msg).await;
    }

    /// Hands a message to the relay as it is, past any watcher.
    async fn deliver_to_host(&self, msg: Message) {
        // A closed channel means the relay is shutting down; nothing is waiting any more.
        let _ = self.to_host_tx.send(msg).await;
    }

    /// Delivers a message the server sent while answering `related` (None for the GET
    /// stream). A server request may be parked by the input broker instead.
    async fn deliver_related(&self, msg: Message, related: Option<&Id>) {
        match self.broker.get() {
            Some(broker) if msg.kind() == jsonrpc::Kind::Request => match broker.park(msg, related)
            {
                Ok(input_required) => self.deliver_to_host(input_required).await,
                Err(msg) => self.deliver(msg).await,
            },
            _ => self.deliver(msg).await,
        }
    }

    /// Delivers a bridge-made error answer for request `id`.
    pub(crate) async fn fail(&self, id: &Id, error: &Error) {
        tracing::warn!(%id, "request failed: {error}");
        self.deliver(Message::error_response(
            id,
            error.code(),
            &error.to_string(),
        ))
        .await;
    }

    /// Returns a receiver that gets the answer to `id` once it arrives.
    pub(crate) fn watch(&self, id: &Id, forward: bool) -> oneshot::Receiver<Message> {
        let (tx, rx) = oneshot::channel();
        self.watchers
            .lock()
            .expect("watcher lock is never poisoned")
            .insert(id.clone(), Watcher { tx, forward });
        rx
    }

    /// Parses a body or event data from the server and delivers each message in it.
    /// Returns the ids of the responses it delivered.
    pub(crate) async fn deliver_text(&self, text: &str) -> Result<Vec<Id>, Error> {
        self.deliver_text_related(text, None).await
    }

    /// [`Inbox::deliver_text`] for a body or stream that answers `related`.
    pub(crate) async fn deliver_text_related(
        &self,
        text: &str,
        related: Option<&Id>,
    ) -> Result<Vec<Id>, Error> {
        let items = jsonrpc::parse_batch(text).map_err(|e| Error::Protocol(e.to_string()))?;
        let mut answered = Vec::new();
        for item in items {
            match item {
                Ok(msg) => {
                    if msg.is_response()
                        && let Some(id) = msg.id()
                    {
                        answered.push(id.clone());
                    }
                    self.deliver_related(msg, related).await;
                }
                Err(e) => tracing::warn!("dropping an invalid message from the server: {e}"),
            }
        }
        Ok(answered)
    }
}

/// The host's own handshake, kept so it can be replayed when the server loses the session.
#[derive(Default, Clone)]
pub(crate) struct Handshake {
    pub(crate) initialize: Option<Message>,
    pub(crate) initialized: Option<Message>,
}

/// Shared state of a live connection, whichever transport it uses.
pub(crate) struct Shared {
    pub(crate) http: http::Http,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) handshake: Mutex<Handshake>,
    /// Cancelled when the bridge shuts down; every transport task watches it.
    pub(crate) shutdown: CancellationToken,
    /// Counter for the bridge's own request ids.
    next_internal: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        http: http::Http,
        inbox: Arc<Inbox>,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Shared {
            http,
            inbox,
            handshake: Mutex::new(Handshake::default()),
            shutdown,
            next_internal: std::sync::atomic::AtomicU64::new(1),
        })
    }

    pub(crate) fn internal_id(&self, label: &str) -> Id {
        let n = self
            .next_internal
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Id::internal(label, n)
    }

    pub(crate) fn handshake(&self) -> Handshake {
        self.handshake
            .lock()
            .expect("handshake lock is never poisoned")
            .clone()
    }

    /// Records the handshake messages as the host (or the bridge, for a 2026-07-28 host)
    /// sends them.
    fn remember(&self, msg: &Message) {
        let mut hs = self
            .handshake
            .lock()
            .expect("handshake lock is never poisoned");
        match msg.method() {
            Some("initialize") if msg.kind() == jsonrpc::Kind::Request => {
                hs.initialize = Some(msg.clone())
            }
            Some("notifications/initialized") => hs.initialized = Some(msg.clone()),
            _ => {}
        }
    }
}

/// How long the bridge waits for the server to answer its own `initialize` replay.
pub(crate) const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A connection to the server over one of the transports, chosen on the first message.
pub(crate) struct Transport {
    shared: Arc<Shared>,
    mode: Mode,
    protocol: Protocol,
    active: Option<Active>,
    /// For a 2026-07-28 host on an `initialize`-era server: the server's `initialize`
    /// result, from which `server/discover` is answered.
    legacy_for_modern_host: Option<serde_json::Value>,
    /// The era this server spoke last time, if known.
    era_cache: Option<eras::EraCache>,
}

enum Active {
    Streamable(Arc<streamable::Streamable>),
    Sse(Arc<sse::LegacySse>),
    Modern(Arc<modern::ModernLink>),
}

impl Transport {
    pub(crate) fn new(
        shared: Arc<Shared>,
        mode: Mode,
        protocol: Protocol,
        config_dir: Option<std::path::PathBuf>,
    ) -> Self {
        let server = crate::auth::discovery::canonical_resource(&shared.http.url);
        Transport {
            shared,
            mode,
            protocol,
            active: None,
            legacy_for_modern_host: None,
            era_cache: config_dir.map(|dir| eras::EraCache::new(dir, server)),
        }
    }

    /// Sends one message from the host. Returns an error only when the connection cannot
    /// continue at all (the relay then ends); per-request failures are answered in-band.
    pub(crate) async fn send(&mut self, msg: Message) -> Result<(), Error> {
        if self.answer_discover_locally(&msg).await {
            return Ok(());
        }
        let msg = self.for_legacy_server(msg);
        let Some(msg) = self.route_input(msg) else {
            return Ok(());
        };
        self.shared.remember(&msg);
        let is_initialize =
            msg.method() == Some("initialize") && msg.kind() == jsonrpc::Kind::Request;
        let answered = match (is_initialize, msg.id()) {
            (true, Some(id)) => Some(self.shared.inbox.watch(id, true)),
            _ => None,
        };
        let is_initialized = msg.method() == Some("notifications/initialized");
        match &self.active {
            // The GET stream must be open before the next message goes out.
            Some(Active::Streamable(s)) if is_initialized => s.send_now(msg).await,
            Some(Active::Streamable(s)) => s.send(msg),
            Some(Active::Sse(s)) => s.send(msg),
            Some(Active::Modern(m)) => m.send(msg).await,
            None => {
                if let Some(first) = self.connect_by_era(msg).await? {
                    self.connect(first).await?;
                }
            }
        }
        if let Some(answered) = answered {
            // Nothing else goes out until the handshake is answered (or fails in-band).
            tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => {}
                reply = answered => {
                    if let (Ok(reply), Some(Active::Streamable(s))) = (reply, &self.active) {
                        s.record_initialize_result(&reply);
                    }
                }
            }
        }
        Ok(())
    }

    /// Picks the transport with the first message, per the 2025-11-25 compatibility rules.
    async fn connect(&mut self, first: Message) -> Result<(), Error> {
        let streamable = || Arc::new(streamable::Streamable::new(self.shared.clone()));
        match self.mode {
            Mode::HttpOnly => {
                let s = streamable();
                s.send(first);
                self.use_streamable(s);
            }
            Mode::HttpFirst => {
                let s = streamable();
                match s.send_probe(first).await {
                    streamable::Probe::Speaks => self.use_streamable(s),
                    streamable::Probe::Unreachable => {} // the next message probes again
                    streamable::Probe::Refused(status, first) => {
                        tracing::info!(status, "server refused Streamable HTTP; trying HTTP+SSE");
                        match sse::LegacySse::connect(self.shared.clone()).await {
                            Ok(sse) => {
                                sse.send(first);
                                self.use_sse(sse);
                            }
                            Err(e) => {
                                let e = Error::Closed(format!(
                                    "server answered the Streamable HTTP POST with HTTP {status}, and HTTP+SSE failed too: {e}"
                                ));
                                return self.fail_first(&first, e).await;
                            }
                        }
                    }
                }
            }
            Mode::SseOnly => match sse::LegacySse::connect(self.shared.clone()).await {
                Ok(sse) => {
                    sse.send(first);
                    self.use_sse(sse);
                }
                Err(e) => return self.fail_first(&first, e).await,
            },
            Mode::SseFirst => match sse::LegacySse::connect(self.shared.clone()).await {
                Ok(sse) => {
                    sse.send(first);
                    self.use_sse(sse);
                }
                Err(e) if e.is_fatal() => return self.fail_first(&first, e).await,
                Err(e) => {
                    tracing::info!("HTTP+SSE failed ({e}); trying Streamable HTTP");
                    let s = streamable();
                    s.send(first);
                    self.use_streamable(s);
                }
            },
        }
        Ok(())
    }

    /// Answers the first message with an error; the next message tries to connect again,
    /// unless the error means the server can never be used safely.
    async fn fail_first(&mut self, first: &Message, e: Error) -> Result<(), Error> {
        if let Some(id) = first
            .id()
            .filter(|_| first.kind() == jsonrpc::Kind::Request)
        {
            self.shared.inbox.fail(id, &e).await;
        }
        if e.is_fatal() { Err(e) } else { Ok(()) }
    }

    fn use_streamable(&mut self, s: Arc<streamable::Streamable>) {
        tracing::info!(url = %endpoint::for_log(&self.shared.http.url), "using Streamable HTTP");
        self.active = Some(Active::Streamable(s));
    }

    fn use_sse(&mut self, s: Arc<sse::LegacySse>) {
        tracing::info!(url = %endpoint::for_log(&self.shared.http.url), "using HTTP+SSE (2024-11-05)");
        self.active = Some(Active::Sse(s));
    }

    /// Ends the connection: stops the reader tasks and, for Streamable HTTP, deletes the
    /// session. Bounded in time.
    pub(crate) async fn close(&mut self) {
        self.shared.shutdown.cancel();
        match &self.active {
            Some(Active::Streamable(s)) => s.delete_session().await,
            Some(Active::Modern(m)) => m.close(),
            _ => {}
        }
    }

    /// Resolves when the transport has failed for good (the relay then ends).
    pub(crate) async fn failed(&self) -> Error {
        match &self.active {
            Some(Active::Sse(s)) => s.failed().await,
            _ => std::future::pending().await,
        }
    }
}

impl Error {
    /// Errors after which the bridge must stop rather than retry.
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(self, Error::CrossOriginEndpoint(_))
    }
}
