//! The protocol eras: which one the server speaks, and translation wherever the host speaks
//! the other one. [`Era`] is the relay's upstream: it wraps the transports and decides, with
//! the host's first message, which pairing this is.
//!
//! | host | server | what happens |
//! |---|---|---|
//! | `initialize` era | `initialize` era | [`Legacy`] as it is |
//! | `initialize` era | 2026-07-28 | [`legacy_host`]: the bridge answers the handshake and runs "input required" rounds |
//! | 2026-07-28 | `initialize` era | [`modern_host`]: the bridge initializes upstream and parks the server's questions |
//! | 2026-07-28 | 2026-07-28 | [`Modern`] calls, one task per request |
//!
//! Detection follows the 2026-07-28 compatibility rules ([`probe`]); the answer is
//! remembered per server ([`memory`]). This module knows nothing of stdio; the transports
//! know nothing of it.

mod legacy_host;
mod memory;
pub(crate) use memory::{Memory, helper_servers};
mod modern_host;
mod probe;
mod shapes;

use crate::jsonrpc::{self, Id, Kind, Message};
use crate::mcp::MODERN_VERSION;
use crate::transport::{self, Http, Inbox, Legacy, Mode, Modern, Wire};
use crate::upstream;
use legacy_host::LegacyHost;
use memory::Spoken;
use modern_host::{Broker, ModernHost};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long the server may take to answer a keepalive `ping`.
const KEEPALIVE_ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

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

/// Failures of the translation between eras, beside the transports' own.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Transport(#[from] transport::Error),
    /// `--protocol modern`, and the server is of the `initialize` era.
    #[error("the server does not speak MCP {MODERN_VERSION} (pinned with --protocol modern)")]
    NotModern,
    /// A second `initialize` from a host already initialized against a modern server.
    #[error("invalid message from the server: the session is already initialized")]
    AlreadyInitialized,
    /// The host answered the server's question with an error (its text is kept).
    #[error("the host could not provide the input the server asked for: {0}")]
    NoInput(String),
    /// The host never answered the server's question.
    #[error("the host did not answer")]
    HostSilent,
    /// The server kept asking for input.
    #[error("invalid message from the server: the server asked for input more than {0} times")]
    TooManyInputRounds(usize),
    /// A result type the host's protocol version does not have.
    #[error(
        "invalid message from the server: the server answered with result type {0:?}, which the host's protocol version does not have"
    )]
    ResultType(String),
}

impl Error {
    /// The JSON-RPC error code for a request this error failed.
    pub(crate) fn code(&self) -> i64 {
        match self {
            Error::Transport(e) => e.code(),
            Error::NotModern => jsonrpc::INVALID_PARAMS,
            Error::AlreadyInitialized | Error::TooManyInputRounds(_) | Error::ResultType(_) => {
                jsonrpc::INTERNAL_ERROR
            }
            Error::NoInput(_) | Error::HostSilent => jsonrpc::BRIDGE_ERROR,
        }
    }
}

/// What the era decided with the first message, and why, in words (for `check`: what the
/// bridge's own code decided, not a guess made beside it).
#[derive(Debug, Clone, Default)]
pub(crate) struct Decision {
    /// Whether the server speaks 2026-07-28; `None` before anything was decided.
    pub(crate) modern: Option<bool>,
    /// Why that era.
    pub(crate) era_why: String,
    /// The transport of an `initialize`-era connection, once connected.
    pub(crate) wire: Option<Wire>,
    /// Why that transport.
    pub(crate) wire_why: String,
    /// A 2026-07-28 server's DiscoverResult.
    pub(crate) discovered: Option<serde_json::Value>,
}

/// Where the connection stands.
enum State {
    /// Nothing decided yet: the next message asks.
    Undecided,
    /// Both sides speak the `initialize` era (or the host skipped `initialize`).
    Legacy(Legacy),
    /// A 2026-07-28 host on an `initialize`-era server.
    ModernHost(ModernHost),
    /// An `initialize`-era host on a 2026-07-28 server.
    LegacyHost(Arc<LegacyHost>),
    /// Both speak 2026-07-28.
    Modern(Arc<Modern>),
}

/// The relay's upstream: the server, in whichever era it speaks.
pub(crate) struct Era {
    http: Arc<Http>,
    inbox: Inbox,
    mode: Mode,
    protocol: Protocol,
    /// What this server spoke last time, if remembered.
    memory: Option<Memory>,
    /// Turns the server's mid-call questions into "input required" for a 2026-07-28 host on
    /// an `initialize`-era server; shared with [`EraInbound`].
    broker: Arc<Broker>,
    /// Cancelled when the relay stops: every task of every transport ends.
    stop: CancellationToken,
    state: State,
    decision: Decision,
}

/// What the era has for the host: the transports' messages, after translation.
pub(crate) struct EraInbound {
    from_server_rx: mpsc::Receiver<transport::Inbound>,
    broker: Arc<Broker>,
}

impl upstream::Inbound for EraInbound {
    async fn recv(&mut self) -> Option<Message> {
        loop {
            let item = self.from_server_rx.recv().await?;
            if let Some(msg) = self.broker.inbound(item) {
                return Some(msg);
            }
        }
    }
}

impl Era {
    /// The upstream for `http`, and its inbound side for the relay. `stop` ends every task;
    /// `config_dir` is where the era memory lives (none: nothing is remembered).
    pub(crate) fn new(
        http: Arc<Http>,
        mode: Mode,
        protocol: Protocol,
        config_dir: Option<PathBuf>,
        stop: CancellationToken,
    ) -> (Era, EraInbound) {
        let (to_host_tx, from_server_rx) = mpsc::channel(upstream::CHANNEL_CAPACITY);
        let server = crate::endpoint::canonical_resource(http.url());
        let broker = Arc::new(Broker::default());
        let era = Era {
            http,
            inbox: Inbox::new(to_host_tx),
            mode,
            protocol,
            memory: config_dir.map(|dir| Memory::new(dir, server)),
            broker: broker.clone(),
            stop,
            state: State::Undecided,
            decision: Decision::default(),
        };
        let inbound = EraInbound {
            from_server_rx,
            broker,
        };
        (era, inbound)
    }

    /// What was decided so far, and why.
    pub(crate) fn decision(&self) -> Decision {
        self.decision.clone()
    }

    /// Records the era, and why.
    fn decided(&mut self, modern: bool, why: impl Into<String>) {
        self.decision.modern = Some(modern);
        self.decision.era_why = why.into();
    }

    fn legacy(&self) -> Legacy {
        self.legacy_in(self.mode)
    }

    fn legacy_in(&self, mode: Mode) -> Legacy {
        Legacy::new(
            self.http.clone(),
            self.inbox.clone(),
            mode,
            self.stop.clone(),
        )
    }

    /// The transport order for a server remembered as initialize-era: straight to the event
    /// stream if that is what worked last time and the user did not choose.
    async fn remembered_mode(&self) -> Mode {
        let Some(memory) = &self.memory else {
            return self.mode;
        };
        match memory.recall().await {
            Some(seen) if self.mode == Mode::HttpFirst && seen.wire == Some(Wire::Sse) => {
                tracing::debug!(
                    "this server spoke HTTP+SSE last time; opening the event stream first"
                );
                Mode::SseFirst
            }
            _ => self.mode,
        }
    }

    /// Remembers which transport an initialize-era connection ended up on.
    async fn remember_wire(&mut self, legacy: &Legacy, mode: Mode) {
        if let Some(wire) = legacy.wire() {
            self.decision.wire = Some(wire);
            let why = legacy.why().unwrap_or_default();
            self.decision.wire_why = if mode != self.mode {
                format!("HTTP+SSE worked last time, so it was tried first: {why}")
            } else {
                why.to_owned()
            };
        }
        if let (Some(memory), Some(wire)) = (&self.memory, legacy.wire()) {
            memory.remember_wire(wire).await;
        }
    }

    fn modern(&self) -> Arc<Modern> {
        Modern::new(self.http.clone(), self.inbox.clone(), self.stop.clone())
    }

    /// Decides the era with the first message (per the 2026-07-28 compatibility rules) and
    /// hands the message on in it.
    async fn decide(&mut self, first: Message) -> Result<(), Error> {
        let is_initialize = first.method() == Some("initialize") && first.kind() == Kind::Request;
        let modern_host = shapes::modern_version_of(&first).is_some();
        // Pinned to the initialize era: no probe, but a 2026-07-28 host is still translated.
        let pinned = if self.protocol == Protocol::Legacy {
            Some("--protocol legacy")
        } else if self.mode.sse_first() {
            Some("HTTP+SSE was asked for, and it has only the initialize era")
        } else {
            None
        };
        if let Some(why) = pinned {
            self.decided(false, why);
            if modern_host {
                let meta = shapes::meta_of(&first);
                return self.connect_modern_host(first, &meta).await;
            }
            return self.pass_through(first).await;
        }
        // The memory is a hint for an initialize-era host only: a 2026-07-28 host needs the
        // probe's answer whatever the server spoke last time (it may have moved on).
        let remembered = match &self.memory {
            Some(memory) if self.protocol == Protocol::Auto && !modern_host => {
                memory.known_legacy().await
            }
            _ => false,
        };
        if remembered {
            tracing::debug!("this server spoke the initialize era last time; not probing");
            self.decided(
                false,
                "it spoke the initialize era last time (remembered; not probed)",
            );
            if !is_initialize {
                return self.pass_through(first).await;
            }
            if self.connect_remembered(&first).await? {
                return Ok(());
            }
            // The remembered era failed (the server changed): ask the server, as if new.
            tracing::info!(
                "the server no longer answers initialize as it did last time; asking which era it speaks"
            );
            if let Some(memory) = &self.memory {
                memory.forget().await;
            }
            self.state = State::Undecided;
        }
        let host = is_initialize.then(|| shapes::HostIdentity::from_initialize(&first));
        let meta = match (&host, modern_host) {
            (Some(host), _) => host.meta(MODERN_VERSION),
            (None, true) => shapes::meta_of(&first),
            // A legacy host that skipped initialize: nothing to translate with.
            (None, false) => {
                self.decided(
                    false,
                    "the host's first message was not initialize; not probed",
                );
                return self.pass_through(first).await;
            }
        };
        let modern = self.modern();
        let found = match probe::probe(&modern, &meta).await {
            Ok(found) => found,
            Err(e) => return self.fail_first(&first, e.into()).await,
        };
        match &found {
            probe::Found::Modern(discovered) => {
                self.decided(
                    true,
                    format!(
                        "server/discover answered with {MODERN_VERSION} among supportedVersions"
                    ),
                );
                self.decision.discovered = Some(discovered.clone());
                self.decision.wire_why =
                    format!("a {MODERN_VERSION} server takes every request as a POST");
            }
            probe::Found::Legacy(why) => self.decided(false, why.clone()),
        }
        if let Some(memory) = &self.memory {
            let spoken = match found {
                probe::Found::Modern(_) => Spoken::Modern,
                probe::Found::Legacy(_) => Spoken::Legacy,
            };
            memory.remember(spoken).await;
        }
        match (found, host) {
            (probe::Found::Modern(discovered), Some(host)) => {
                let link = LegacyHost::new(modern, host);
                link.answer_initialize(&first, &discovered).await;
                self.state = State::LegacyHost(link);
            }
            (probe::Found::Modern(_), None) => {
                tracing::info!("the server speaks MCP {MODERN_VERSION}, like the host");
                forward_modern(&modern, first);
                self.state = State::Modern(modern);
            }
            (probe::Found::Legacy(_), _) if self.protocol == Protocol::Modern => {
                self.fail_first(&first, Error::NotModern).await?;
            }
            (probe::Found::Legacy(_), _) if modern_host => {
                self.connect_modern_host(first, &meta).await?;
            }
            (probe::Found::Legacy(_), _) => return self.pass_through(first).await,
        }
        Ok(())
    }

    /// A 2026-07-28 host on an `initialize`-era server: the handshake upstream with what the
    /// host's `_meta` says, then its first message.
    async fn connect_modern_host(
        &mut self,
        first: Message,
        meta: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), Error> {
        let legacy = self.legacy();
        let connected =
            ModernHost::connect(legacy, self.inbox.clone(), self.broker.clone(), first, meta)
                .await?;
        if let Some(connected) = connected {
            self.state = State::ModernHost(connected);
        }
        Ok(())
    }

    /// Both sides of the `initialize` era: the legacy transports take it from here.
    async fn pass_through(&mut self, first: Message) -> Result<(), Error> {
        let mode = self.remembered_mode().await;
        let mut legacy = self.legacy_in(mode);
        legacy.send(first).await?;
        self.remember_wire(&legacy, mode).await;
        self.state = State::Legacy(legacy);
        Ok(())
    }

    /// Connects in the `initialize` era this server was remembered to speak, with the host's
    /// `initialize`. Returns false, without answering the host, when that era no longer
    /// works, so the caller can probe instead.
    async fn connect_remembered(&mut self, first: &Message) -> Result<bool, Error> {
        let host_id = first.id().expect("initialize is a request");
        // Sent under an id of the bridge's, so that a failure (and any second answer the
        // failed transport gives) stays between the bridge and the server.
        let id = self.inbox.internal_id("initialize");
        let mut answer = self.inbox.watch(&id, false);
        let mode = self.remembered_mode().await;
        let mut legacy = self.legacy_in(mode);
        // Returns once the answer is in (or the wait for it ran out).
        legacy.send(first.with_id(&id)).await?;
        if self.stop.is_cancelled() {
            return Ok(true);
        }
        match answer.try_recv() {
            Ok(reply) if reply.kind() == Kind::Result => {
                self.inbox.deliver(reply.with_id(host_id)).await;
                self.remember_wire(&legacy, mode).await;
                self.state = State::Legacy(legacy);
                Ok(true)
            }
            // A server that is down has not changed era: say so once, and let the next
            // message try again.
            Ok(reply) if legacy.unreachable() => {
                // Failed under the bridge's id, so the inbox left the report to us.
                let error = reply.error_object().unwrap_or_default();
                let text = error["message"].as_str().unwrap_or("the server is down");
                tracing::warn!(id = %host_id, "request failed: {text}");
                self.inbox.deliver(reply.with_id(host_id)).await;
                Ok(true)
            }
            Ok(reply) => {
                tracing::debug!("initialize failed in the remembered era");
                tracing::trace!(answer = reply.as_str());
                Ok(false)
            }
            Err(_) => Ok(false),
        }
    }

    /// Answers the first message with an error; the next message tries again, unless the
    /// error means the server can never be used safely.
    async fn fail_first(&mut self, first: &Message, e: Error) -> Result<(), Error> {
        if let Some(id) = first.id().filter(|_| first.kind() == Kind::Request) {
            self.inbox.fail_with(id, e.code(), &e).await;
        }
        match e {
            Error::Transport(t) if t.is_fatal() => Err(Error::Transport(t)),
            _ => Ok(()),
        }
    }
}

impl upstream::Upstream for Era {
    type Error = Error;

    async fn send(&mut self, msg: Message) -> Result<(), Error> {
        match &mut self.state {
            State::Undecided => self.decide(msg).await,
            State::Legacy(legacy) => Ok(legacy.send(msg).await?),
            State::ModernHost(host) => host.send(msg).await,
            State::LegacyHost(link) => {
                link.send(msg).await;
                Ok(())
            }
            State::Modern(modern) => {
                forward_modern(modern, msg);
                Ok(())
            }
        }
    }

    async fn failed(&self) -> Error {
        match &self.state {
            State::Legacy(legacy) => legacy.failed().await.into(),
            State::ModernHost(host) => host.failed().await.into(),
            _ => std::future::pending().await,
        }
    }

    async fn keepalive(&mut self) {
        let legacy = match &self.state {
            State::Legacy(legacy) => legacy,
            State::ModernHost(host) => host.legacy(),
            // A 2026-07-28 server keeps no session to lose; before the first message there
            // is no connection to keep.
            _ => return,
        };
        let Some((id, answer)) = legacy.ping() else {
            return;
        };
        tracing::debug!("pinging the server to keep the session alive");
        let (inbox, stop) = (self.inbox.clone(), self.stop.clone());
        tokio::spawn(async move {
            let answer = tokio::select! {
                _ = stop.cancelled() => return,
                answer = tokio::time::timeout(KEEPALIVE_ANSWER_TIMEOUT, answer) => answer,
            };
            match answer {
                Ok(Ok(reply)) if reply.kind() == Kind::Result => {
                    tracing::debug!("the server answered the keepalive ping");
                }
                Ok(Ok(reply)) => {
                    let why = reply
                        .error_object()
                        .and_then(|e| {
                            e.get("message")
                                .and_then(|m| m.as_str())
                                .map(|m| crate::net::excerpt(m, 200))
                        })
                        .unwrap_or_default();
                    tracing::warn!("the keepalive ping failed: {why}");
                }
                Ok(Err(_)) => {}
                Err(_) => {
                    inbox.unwatch(&id);
                    tracing::warn!(
                        "the server did not answer the keepalive ping within {} s",
                        KEEPALIVE_ANSWER_TIMEOUT.as_secs()
                    );
                }
            }
        });
    }

    async fn close(&mut self) {
        match &mut self.state {
            State::Legacy(legacy) => legacy.close().await,
            State::ModernHost(host) => host.close().await,
            State::LegacyHost(link) => link.close(),
            State::Modern(modern) => modern.close(),
            State::Undecided => {}
        }
    }
}

/// A 2026-07-28 host's message for a 2026-07-28 server: each request runs as a task of its
/// own and its answer goes to the host; `notifications/cancelled` closes the request's
/// stream; nothing else is sent (such a server takes no other notifications and no
/// responses over HTTP).
fn forward_modern(modern: &Arc<Modern>, msg: Message) {
    match msg.kind() {
        Kind::Request => {
            let link = modern.clone();
            modern.spawn(async move {
                let id = msg.id().expect("requests have ids").clone();
                let cancel = link.track(&id);
                let answer = link.call(&msg, &cancel).await;
                link.untrack(&id);
                deliver_answer(link.inbox(), &id, answer.map_err(Error::from)).await;
            });
        }
        Kind::Notification if msg.method() == Some("notifications/cancelled") => {
            modern.cancel(&msg);
        }
        Kind::Notification => tracing::debug!(
            method = msg.method(),
            "not forwarding a notification: a 2026-07-28 server takes none over HTTP"
        ),
        Kind::Result | Kind::Error => {
            tracing::debug!(id = ?msg.id(), "dropping a response: a 2026-07-28 server takes none");
        }
    }
}

/// Delivers a request's one answer under the host's id: the server's, or the error.
async fn deliver_answer(inbox: &Inbox, host_id: &Id, answer: Result<Message, Error>) {
    match answer {
        Ok(answer) if answer.id() == Some(host_id) => inbox.deliver(answer).await,
        Ok(answer) => inbox.deliver(answer.with_id(host_id)).await,
        Err(e) => inbox.fail_with(host_id, e.code(), &e).await,
    }
}
