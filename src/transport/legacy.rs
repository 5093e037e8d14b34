//! An `initialize`-era connection: Streamable HTTP or HTTP+SSE, chosen with the first
//! message per the 2025-11-25 compatibility rules (and `--transport`), plus what both share
//! (the host's handshake, kept for replaying it on a new session).
//!
//! `initialize` is special: nothing else goes out until its answer has arrived (or the
//! request failed in-band), because the session it opens must be on every later request.

use super::sse::LegacySse;
use super::streamable::{FirstPost, Streamable};
use super::{Error, HANDSHAKE_TIMEOUT, Http, Inbox, Mode};
use crate::endpoint;
use crate::jsonrpc::{Id, Kind, Message};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// The host's own handshake, kept so it can be replayed when the server loses the session.
#[derive(Default, Clone)]
pub(super) struct Handshake {
    pub(super) initialize: Option<Message>,
    pub(super) initialized: Option<Message>,
}

/// What every task of one `initialize`-era connection shares.
pub(super) struct Connection {
    pub(super) http: Arc<Http>,
    pub(super) inbox: Inbox,
    handshake: Mutex<Handshake>,
    /// Cancelled when the bridge shuts down; every task of the connection watches it.
    pub(super) stop: CancellationToken,
}

impl Connection {
    pub(super) fn handshake(&self) -> Handshake {
        self.handshake
            .lock()
            .expect("handshake lock is never poisoned")
            .clone()
    }

    /// Records the handshake messages as they go out.
    fn remember(&self, msg: &Message) {
        let mut hs = self
            .handshake
            .lock()
            .expect("handshake lock is never poisoned");
        match msg.method() {
            Some("initialize") if msg.kind() == Kind::Request => hs.initialize = Some(msg.clone()),
            Some("notifications/initialized") => hs.initialized = Some(msg.clone()),
            _ => {}
        }
    }
}

/// Which transport is in use.
#[derive(Clone)]
enum Active {
    Streamable(Arc<Streamable>),
    Sse(Arc<LegacySse>),
}

/// A handle that sends the server answers to its own requests, in the background, on the
/// transport in use (for replies the bridge makes without the host).
#[derive(Clone)]
pub(crate) struct Replier(Active);

impl Replier {
    /// Sends `msg` (a response) to the server; failures are logged.
    pub(crate) fn send(&self, msg: Message) {
        match &self.0 {
            Active::Streamable(s) => s.send(msg),
            Active::Sse(s) => s.send(msg),
        }
    }
}

/// An `initialize`-era connection to the server.
pub(crate) struct Legacy {
    conn: Arc<Connection>,
    mode: Mode,
    active: Option<Active>,
    /// The last attempt to connect could not reach the server at all.
    unreachable: bool,
    /// Why the transport in use was chosen, in words (for `check`).
    why: Option<String>,
}

impl Legacy {
    pub(crate) fn new(http: Arc<Http>, inbox: Inbox, mode: Mode, stop: CancellationToken) -> Self {
        Legacy {
            conn: Arc::new(Connection {
                http,
                inbox,
                handshake: Mutex::new(Handshake::default()),
                stop,
            }),
            mode,
            active: None,
            unreachable: false,
            why: None,
        }
    }

    /// The transport in use, once connected.
    pub(crate) fn wire(&self) -> Option<super::Wire> {
        match self.active {
            Some(Active::Streamable(_)) => Some(super::Wire::Streamable),
            Some(Active::Sse(_)) => Some(super::Wire::Sse),
            None => None,
        }
    }

    /// Why the transport in use was chosen, once connected ("the POST answered 405, so
    /// HTTP+SSE").
    pub(crate) fn why(&self) -> Option<&str> {
        self.why.as_deref()
    }

    /// Whether the last attempt to connect found the server unreachable (down, not another
    /// era or transport).
    pub(crate) fn unreachable(&self) -> bool {
        self.unreachable
    }

    /// Sends one message. Returns an error only when the connection cannot continue at all;
    /// per-request failures are answered in-band.
    pub(crate) async fn send(&mut self, msg: Message) -> Result<(), Error> {
        self.conn.remember(&msg);
        let initialize = (msg.method() == Some("initialize") && msg.kind() == Kind::Request)
            .then(|| msg.id().cloned())
            .flatten();
        let answered = initialize
            .as_ref()
            .map(|id| self.conn.inbox.watch(id, true));
        let is_initialized = msg.method() == Some("notifications/initialized");
        match &self.active {
            // The handshake's last message reaches the server before any request that follows
            // it (a server may refuse requests until then), and on Streamable HTTP the GET
            // stream is open before the next message goes out.
            Some(Active::Streamable(s)) if is_initialized => s.send_now(msg).await,
            Some(Active::Sse(s)) if is_initialized => s.send_now(msg).await,
            Some(Active::Streamable(s)) => s.send(msg),
            Some(Active::Sse(s)) => s.send(msg),
            None => self.connect(msg).await?,
        }
        if let Some(answered) = answered {
            // Nothing else goes out until the handshake is answered (or fails in-band).
            let reply = tokio::select! {
                biased;
                _ = self.conn.stop.cancelled() => None,
                reply = tokio::time::timeout(HANDSHAKE_TIMEOUT, answered) => reply.ok().and_then(Result::ok),
            };
            if let (Some(reply), Some(Active::Streamable(s))) = (reply, &self.active) {
                s.record_initialize_result(&reply);
            }
        }
        Ok(())
    }

    /// Picks the transport with the first message, per the 2025-11-25 compatibility rules.
    async fn connect(&mut self, first: Message) -> Result<(), Error> {
        let streamable = || Arc::new(Streamable::new(self.conn.clone()));
        match self.mode {
            Mode::HttpOnly => {
                let s = streamable();
                s.send(first);
                self.why = Some("--transport http-only".into());
                self.use_streamable(s);
            }
            Mode::HttpFirst => {
                let s = streamable();
                self.unreachable = false;
                match s.send_first(first).await {
                    FirstPost::Speaks => {
                        self.why =
                            Some("the server answered the first POST as Streamable HTTP".into());
                        self.use_streamable(s);
                    }
                    FirstPost::Unreachable => self.unreachable = true, // the next message tries again
                    // A 400 for a first request that is not `initialize` is about the missing
                    // session, not about the transport.
                    FirstPost::Refused(400, first)
                        if first.kind() == Kind::Request
                            && first.method() != Some("initialize") =>
                    {
                        let method = first.method().unwrap_or("the request").to_owned();
                        let e = Error::InitializeFirst { method };
                        return self.fail_first(&first, e).await;
                    }
                    FirstPost::Refused(status, first) => {
                        tracing::info!(status, "server refused Streamable HTTP; trying HTTP+SSE");
                        match LegacySse::connect(self.conn.clone()).await {
                            Ok(sse) => {
                                sse.send(first);
                                self.why = Some(format!(
                                    "the Streamable HTTP POST answered {status}, so HTTP+SSE"
                                ));
                                self.use_sse(sse);
                            }
                            Err(e) => {
                                let e = Error::NoTransport {
                                    status,
                                    sse: Box::new(e),
                                };
                                return self.fail_first(&first, e).await;
                            }
                        }
                    }
                }
            }
            Mode::SseOnly => match LegacySse::connect(self.conn.clone()).await {
                Ok(sse) => {
                    sse.send(first);
                    self.why = Some("--transport sse-only".into());
                    self.use_sse(sse);
                }
                Err(e) => return self.fail_first(&first, e).await,
            },
            Mode::SseFirst => match LegacySse::connect(self.conn.clone()).await {
                Ok(sse) => {
                    sse.send(first);
                    self.why = Some("HTTP+SSE was tried first, and the event stream opened".into());
                    self.use_sse(sse);
                }
                Err(e) if e.is_fatal() => return self.fail_first(&first, e).await,
                Err(e) => {
                    tracing::info!("HTTP+SSE failed ({e}); trying Streamable HTTP");
                    let s = streamable();
                    s.send(first);
                    self.why = Some(format!("HTTP+SSE failed ({e}), so Streamable HTTP"));
                    self.use_streamable(s);
                }
            },
        }
        Ok(())
    }

    /// Answers the first message with an error; the next message tries to connect again,
    /// unless the error means the server can never be used safely.
    async fn fail_first(&mut self, first: &Message, e: Error) -> Result<(), Error> {
        if let Some(id) = first.id().filter(|_| first.kind() == Kind::Request) {
            self.conn.inbox.fail(id, &e).await;
        }
        if e.is_fatal() { Err(e) } else { Ok(()) }
    }

    fn use_streamable(&mut self, s: Arc<Streamable>) {
        tracing::info!(url = %endpoint::for_log(self.conn.http.url()), "using Streamable HTTP");
        self.active = Some(Active::Streamable(s));
    }

    fn use_sse(&mut self, s: Arc<LegacySse>) {
        tracing::info!(url = %endpoint::for_log(self.conn.http.url()), "using HTTP+SSE (2024-11-05)");
        self.active = Some(Active::Sse(s));
    }

    /// Sends a `ping` of the bridge's own (to keep an idle session alive) and returns where
    /// its answer will arrive; the host never sees it. `None` until the handshake is done.
    /// A session the server lost on the way is recovered as for any request.
    pub(crate) fn ping(&self) -> Option<(Id, oneshot::Receiver<Message>)> {
        let active = self.active.as_ref()?;
        self.conn.handshake().initialized.as_ref()?;
        let id = self.conn.inbox.internal_id("keepalive");
        let answer = self.conn.inbox.watch(&id, false);
        let ping = Message::request(&id, "ping", None);
        match active {
            Active::Streamable(s) => s.send(ping),
            Active::Sse(s) => s.send(ping),
        }
        Some((id, answer))
    }

    /// Ends the connection: for Streamable HTTP, deletes the session (bounded in time). The
    /// caller has cancelled `stop` already, which ends every task.
    pub(crate) async fn close(&mut self) {
        if let Some(Active::Streamable(s)) = &self.active {
            s.delete_session().await;
        }
    }

    /// A handle for answering the server's requests from elsewhere, once connected.
    pub(crate) fn replier(&self) -> Option<Replier> {
        self.active.clone().map(Replier)
    }

    /// Resolves when the connection has failed for good.
    pub(crate) async fn failed(&self) -> Error {
        match &self.active {
            Some(Active::Sse(s)) => s.failed().await,
            _ => std::future::pending().await,
        }
    }
}
