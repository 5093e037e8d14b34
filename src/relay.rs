//! The pump between the host (stdio) and an [`Upstream`], and the exactly-one-response rule.
//!
//! Three tasks: the reader owns stdin and turns lines into messages (answering bad input
//! itself), the pump hands messages to the upstream in order, and the writer owns stdout.
//! Every request id the host sends is recorded in the pending table until one answer for it
//! has been written; a second answer for the same id is dropped, an answer for an id nobody
//! asked is dropped, and ids still pending at exit are answered with an error. Answers go
//! out under the id text the host used. Nothing but JSON-RPC messages is ever written to
//! stdout.
//!
//! Two timers are optional: a request the server leaves unanswered past
//! [`Options::request_timeout`] is answered with an error (and cancelled upstream), and after
//! [`Options::keepalive`] without a message either way the upstream is asked to keep the
//! connection alive.
//!
//! The relay knows the envelope and two small traits; it knows nothing of HTTP, eras or
//! authorization.

use crate::jsonrpc::{self, Id, Kind, Message, ParseError};
use crate::stdio::{Line, LineReader, write_line};
use crate::tool_filter::ToolFilter;
use crate::upstream::{CHANNEL_CAPACITY, Inbound, Upstream};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long a send that is under way may take to finish once a signal has arrived.
const SIGNAL_GRACE: Duration = Duration::from_millis(500);
/// How long the final answers may take to be written at exit.
const FINAL_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The one shutdown handle of a bridge run. A signal and the host going away are
/// announced through it, and everything it hands out ends when the relay stops.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shutdown {
    /// Cancelled when the relay has stopped the upstream; the parent of everything below.
    stopped: CancellationToken,
    /// Cancelled by SIGINT or SIGTERM.
    signalled: CancellationToken,
    /// Cancelled when the host is gone: stdin closed, or a signal.
    host_gone: CancellationToken,
}

impl Shutdown {
    pub(crate) fn new() -> Shutdown {
        let stopped = CancellationToken::new();
        Shutdown {
            signalled: stopped.child_token(),
            host_gone: stopped.child_token(),
            stopped,
        }
    }

    /// A signal arrived: stop reading, answer what is pending, exit.
    pub(crate) fn signal(&self) {
        self.signalled.cancel();
        self.host_gone.cancel();
    }

    /// Fires when the host is gone (stdin closed, or a signal): a login waiting for the
    /// user stops at once.
    pub(crate) fn host_gone(&self) -> CancellationToken {
        self.host_gone.clone()
    }

    /// Fires when the relay stops the upstream: every task of the upstream ends.
    pub(crate) fn stopped(&self) -> CancellationToken {
        self.stopped.clone()
    }
}

/// Why the relay stopped.
#[derive(Debug)]
pub(crate) enum QuitReason<E> {
    /// The host closed stdin: the normal end.
    StdinClosed,
    /// SIGINT or SIGTERM.
    Signal,
    /// The host stopped reading stdout.
    StdoutClosed,
    /// The upstream cannot continue.
    Fatal(E),
}

/// Relay settings from the command line.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Largest message accepted on stdin, in bytes.
    pub(crate) max_message: usize,
    /// Most host requests in flight at once; stdin waits past it.
    pub(crate) max_in_flight: usize,
    /// Most bytes of host requests in flight at once; stdin waits past it.
    pub(crate) max_bytes_in_flight: usize,
    /// How long to wait for answers still in flight after stdin closes or a signal arrives.
    pub(crate) drain_timeout: Duration,
    /// Tools hidden from the host.
    pub(crate) tool_filter: ToolFilter,
    /// How long a request may wait for the server's answer before the bridge answers it with
    /// an error and cancels it upstream (`None`: as long as it takes).
    pub(crate) request_timeout: Option<Duration>,
    /// How long the connection may be quiet before the upstream is asked to keep it alive.
    pub(crate) keepalive: Option<Duration>,
}

/// A request from the host that still needs its one answer.
#[derive(Debug)]
struct Pending {
    /// The id as the host wrote it; the answer goes out under this text.
    id: Id,
    method: Box<str>,
    /// The request's size, counted against [`Options::max_bytes_in_flight`].
    bytes: usize,
    /// When the bridge stops waiting for the server's answer ([`Options::request_timeout`]).
    deadline: Option<Instant>,
}

/// How much the host may have in flight before stdin waits.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    requests: usize,
    bytes: usize,
}

impl Bounds {
    /// Whether a request of `size` bytes may join the table now. An empty table always
    /// takes one, so a request larger than the byte bound still goes (alone).
    fn admits(&self, table: &HashMap<Id, Pending>, size: usize) -> bool {
        let held: usize = table.values().map(|p| p.bytes).sum();
        table.is_empty() || (table.len() < self.requests && held.saturating_add(size) <= self.bytes)
    }
}

/// Requests from the host that still need their one answer, by id.
type PendingTable = watch::Sender<HashMap<Id, Pending>>;

/// When a message last passed between the bridge and the upstream, for the keepalive.
#[derive(Clone)]
struct Activity {
    start: Instant,
    /// Milliseconds after `start`.
    last: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    /// Resolves once nothing has passed for `quiet`.
    async fn quiet_for(&self, quiet: Duration) {
        loop {
            let last = self.start + Duration::from_millis(self.last.load(Ordering::Relaxed));
            let due = last + quiet;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due).await;
        }
    }
}

/// Runs the bridge until stdin closes, a signal arrives, stdout closes or the upstream
/// fails. Every pending request is answered before this returns.
pub(crate) async fn run<R, W, U, I>(
    stdin: R,
    stdout: W,
    mut upstream: U,
    inbound: I,
    options: Options,
    shutdown: Shutdown,
) -> QuitReason<U::Error>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
    U: Upstream,
    I: Inbound,
{
    let pending: PendingTable = watch::Sender::new(HashMap::new());
    // Bridge-made replies (to bad input, and at exit); written without the pending check.
    let (local_tx, local_rx) = mpsc::channel::<Message>(CHANNEL_CAPACITY);
    // Messages from the host, in stdin order, for the pump.
    let (from_host_tx, mut from_host_rx) = mpsc::channel::<Message>(CHANNEL_CAPACITY);
    let stdout_closed = CancellationToken::new();
    let stdin_closed = CancellationToken::new();
    let activity = Activity::new();
    // Holds the pump's channel weakly, so that stdin closing still ends the pump.
    let expiry = options.request_timeout.map(|timeout| {
        tokio::spawn(expire_requests(
            pending.clone(),
            local_tx.clone(),
            from_host_tx.downgrade(),
            timeout,
        ))
    });

    let reader = tokio::spawn(read_stdin(
        LineReader::new(
            BufReader::with_capacity(64 * 1024, stdin),
            options.max_message,
        ),
        from_host_tx,
        local_tx.clone(),
        pending.clone(),
        Bounds {
            requests: options.max_in_flight.max(1),
            bytes: options.max_bytes_in_flight,
        },
        options.tool_filter.clone(),
        options.request_timeout,
        stdin_closed.clone(),
    ));
    let writer = tokio::spawn(write_stdout(
        stdout,
        inbound,
        local_rx,
        pending.clone(),
        options.tool_filter.clone(),
        activity.clone(),
        stdout_closed.clone(),
    ));
    let host_gone_on_eof = {
        let (closed, shutdown) = (stdin_closed.clone(), shutdown.clone());
        tokio::spawn(async move {
            closed.cancelled().await;
            shutdown.host_gone.cancel();
        })
    };

    let signal = shutdown.signalled.clone();
    let keepalive = options.keepalive.unwrap_or(Duration::MAX);
    // Set when the drain already ran out while a send was blocked.
    let mut drained = false;
    let quit = 'pump: loop {
        tokio::select! {
            biased;
            _ = signal.cancelled() => break 'pump QuitReason::Signal,
            _ = stdout_closed.cancelled() => break 'pump QuitReason::StdoutClosed,
            e = upstream.failed() => break 'pump QuitReason::Fatal(e),
            _ = activity.quiet_for(keepalive), if options.keepalive.is_some() => {
                upstream.keepalive().await;
                activity.touch();
            }
            msg = from_host_rx.recv() => {
                let Some(msg) = msg else { break 'pump QuitReason::StdinClosed };
                activity.touch();
                tokio::select! {
                    biased;
                    // A login in progress stops on the same signal and fails its request;
                    // give it a moment to do so rather than dropping it unanswered.
                    _ = after(&signal, SIGNAL_GRACE) => break 'pump QuitReason::Signal,
                    // A send only blocks while the server has not answered `initialize`; a
                    // host that has gone away waits no longer than the drain allows.
                    _ = after(&stdin_closed, options.drain_timeout) => {
                        drained = true;
                        break 'pump QuitReason::StdinClosed;
                    }
                    r = upstream.send(msg) => if let Err(e) = r { break 'pump QuitReason::Fatal(e) },
                }
            }
        }
    };
    tracing::debug!(reason = ?quit, "stopping");
    reader.abort();
    if let Some(expiry) = &expiry {
        expiry.abort();
    }

    // Give answers in flight a bounded time to arrive (not when the host is gone).
    if !drained && !matches!(quit, QuitReason::StdoutClosed | QuitReason::Fatal(_)) {
        let mut watcher = pending.subscribe();
        tokio::select! {
            _ = watcher.wait_for(HashMap::is_empty) => {}
            _ = tokio::time::sleep(options.drain_timeout) => {
                tracing::info!("answers still pending after {:?}; giving up on them", options.drain_timeout);
            }
            _ = signal.cancelled(), if matches!(quit, QuitReason::StdinClosed) => {}
        }
    }
    // Every upstream task ends; the upstream then says goodbye (DELETE), bounded in time.
    shutdown.stopped.cancel();
    upstream.close().await;

    // Whatever is still pending gets its one answer now.
    let leftover: Vec<Pending> = pending.send_modify_ret(|p| p.drain().map(|(_, p)| p).collect());
    let message = match &quit {
        QuitReason::Fatal(e) => format!("mcp-bridge: {}", crate::net::error_chain(e)),
        _ => "mcp-bridge is shutting down; the request was not answered".to_owned(),
    };
    let final_answers = async {
        for p in leftover {
            let answer = Message::error(&p.id, jsonrpc::BRIDGE_ERROR, &message);
            if local_tx.send(answer).await.is_err() {
                break;
            }
        }
        drop(local_tx);
        let _ = writer.await;
    };
    if tokio::time::timeout(FINAL_WRITE_TIMEOUT, final_answers)
        .await
        .is_err()
    {
        tracing::info!("the host is not reading stdout; exiting without the last answers");
    }
    host_gone_on_eof.abort();
    quit
}

/// The request timeout: a request the server has not answered in time gets an error answer
/// now (a late answer is then dropped, like any second one), and the server is told it is
/// cancelled, except for `initialize`, which may not be cancelled.
async fn expire_requests(
    pending: PendingTable,
    local_tx: mpsc::Sender<Message>,
    to_pump: mpsc::WeakSender<Message>,
    timeout: Duration,
) {
    let mut changes = pending.subscribe();
    loop {
        let next = changes
            .borrow_and_update()
            .values()
            .filter_map(|p| p.deadline)
            .min();
        let Some(next) = next else {
            if changes.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep_until(next) => {}
        }
        let now = Instant::now();
        let expired: Vec<Pending> = pending.send_modify_ret(|table| {
            let due: Vec<Id> = table
                .iter()
                .filter(|(_, p)| p.deadline.is_some_and(|d| d <= now))
                .map(|(id, _)| id.clone())
                .collect();
            due.iter().filter_map(|id| table.remove(id)).collect()
        });
        for p in expired {
            tracing::warn!(id = %p.id, method = &*p.method, "no answer from the server within {timeout:?} (--request-timeout)");
            let text = format!(
                "mcp-bridge: the server did not answer within {timeout:?} (--request-timeout); the request was cancelled"
            );
            if local_tx
                .send(Message::error(&p.id, jsonrpc::BRIDGE_ERROR, &text))
                .await
                .is_err()
            {
                return;
            }
            if &*p.method != "initialize"
                && let Some(pump) = to_pump.upgrade()
            {
                let reason = format!("no answer within {timeout:?}");
                let _ = pump.send(Message::cancelled(&p.id, &reason)).await;
            }
        }
    }
}

/// Resolves `delay` after `token` is cancelled.
async fn after(token: &CancellationToken, delay: Duration) {
    token.cancelled().await;
    tokio::time::sleep(delay).await;
}

/// Extension used above: modify the table and return a value in one step.
trait SendModifyRet<T> {
    fn send_modify_ret<U>(&self, f: impl FnOnce(&mut T) -> U) -> U;
}

impl<T> SendModifyRet<T> for watch::Sender<T> {
    fn send_modify_ret<U>(&self, f: impl FnOnce(&mut T) -> U) -> U {
        let mut out = None;
        self.send_modify(|v| out = Some(f(v)));
        out.expect("send_modify always runs the closure")
    }
}

/// The stdin task: frames, parses, records pending requests and feeds the pump.
///
/// Past the bounds on requests in flight, requests wait (in stdin order, with whatever the
/// host sent after them) in a room as large as the bounds, and when that is full stdin is
/// not read at all: the host feels backpressure and nothing is dropped. A request still
/// waiting when stdin closes is answered with an error, since it never went out.
#[allow(clippy::too_many_arguments)]
async fn read_stdin<R: tokio::io::AsyncBufRead + Unpin>(
    lines: LineReader<R>,
    to_pump_tx: mpsc::Sender<Message>,
    local_tx: mpsc::Sender<Message>,
    pending: PendingTable,
    bounds: Bounds,
    filter: ToolFilter,
    request_timeout: Option<Duration>,
    stdin_closed: CancellationToken,
) {
    let _closed_on_return = stdin_closed.drop_guard();
    let mut in_flight = pending.subscribe();
    // A stream, so that waiting for room never cancels a half-read line.
    let lines = futures::stream::unfold(lines, |mut lines| async move {
        let next = lines.next_line().await;
        Some((next, lines))
    });
    let mut lines = std::pin::pin!(lines);
    let mut waiting = WaitingRoom::default();
    let host = HostSide {
        to_pump_tx,
        local_tx,
        pending,
        request_timeout,
    };
    loop {
        while let Some(front) = waiting.queue.front() {
            let is_request = front.kind() == Kind::Request;
            if is_request && !bounds.admits(&in_flight.borrow_and_update(), front.as_str().len()) {
                break;
            }
            let msg = waiting.pop();
            if !host.forward(msg).await {
                return;
            }
        }
        let room = waiting.queue.len() < bounds.requests && waiting.bytes < bounds.bytes;
        let line = tokio::select! {
            changed = in_flight.changed(), if !waiting.queue.is_empty() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
            line = futures::StreamExt::next(&mut lines), if room => line,
        };
        let line = match line {
            Some(Ok(Some(line))) => line,
            Some(Ok(None)) | None => {
                tracing::debug!("stdin closed");
                break;
            }
            Some(Err(e)) => {
                tracing::warn!("stdin failed: {e}");
                break;
            }
        };
        let text = match line {
            Line::Text(text) => text,
            Line::TooLong(n) => {
                tracing::warn!(bytes = n, "message from the host is too large; dropped");
                let reply = Message::error(
                    &Id::null(),
                    jsonrpc::INVALID_REQUEST,
                    &format!("message of {n} bytes exceeds the limit (see --max-message-size)"),
                );
                let _ = host.local_tx.send(reply).await;
                continue;
            }
        };
        tracing::trace!(body = %text, "from host");
        let items = if text.trim_start().starts_with('[') {
            jsonrpc::parse_batch(&text).unwrap_or_else(|e| vec![Err(e)])
        } else {
            vec![Message::parse_owned(text)]
        };
        for item in items {
            let msg = match item {
                Ok(msg) => msg,
                Err(e) => {
                    tracing::warn!("bad message from the host: {e}");
                    let _ = host.local_tx.send(reply_to_bad_input(&e)).await;
                    continue;
                }
            };
            if let Some(id) = msg.id().filter(|_| msg.kind() == Kind::Request)
                && let Some(reason) = filter.refuse_call(&msg)
            {
                let refusal = Message::error(id, jsonrpc::METHOD_NOT_FOUND, &reason);
                let _ = host.local_tx.send(refusal).await;
                continue;
            }
            let must_wait = !waiting.queue.is_empty()
                || (msg.kind() == Kind::Request
                    && !bounds.admits(&in_flight.borrow_and_update(), msg.as_str().len()));
            if must_wait {
                if waiting.queue.is_empty() {
                    tracing::debug!(
                        "the host has as much in flight as allowed; waiting for answers"
                    );
                }
                waiting.push(msg);
            } else if !host.forward(msg).await {
                return;
            }
        }
    }
    for msg in waiting.queue {
        if let Some(id) = msg.id().filter(|_| msg.kind() == Kind::Request) {
            let e = Message::error(
                id,
                jsonrpc::BRIDGE_ERROR,
                "mcp-bridge: stdin closed before this request could be sent (the host had as many requests in flight as allowed; see --max-in-flight)",
            );
            let _ = host.local_tx.send(e).await;
        }
    }
}

/// Messages from the host waiting for room in flight, in stdin order.
#[derive(Default)]
struct WaitingRoom {
    queue: VecDeque<Message>,
    bytes: usize,
}

impl WaitingRoom {
    fn push(&mut self, msg: Message) {
        self.bytes += msg.as_str().len();
        self.queue.push_back(msg);
    }

    fn pop(&mut self) -> Message {
        let msg = self.queue.pop_front().expect("checked by the caller");
        self.bytes -= msg.as_str().len();
        msg
    }
}

/// Where the stdin task sends what it read.
struct HostSide {
    to_pump_tx: mpsc::Sender<Message>,
    local_tx: mpsc::Sender<Message>,
    pending: PendingTable,
    request_timeout: Option<Duration>,
}

impl HostSide {
    /// Records a request as pending (refusing a duplicate id) and hands the message to the
    /// pump. False when the pump has stopped.
    async fn forward(&self, msg: Message) -> bool {
        if let Some(id) = msg.id().filter(|_| msg.kind() == Kind::Request) {
            let entry = Pending {
                id: id.clone(),
                method: msg.method().unwrap_or_default().into(),
                bytes: msg.as_str().len(),
                deadline: self.request_timeout.map(|t| Instant::now() + t),
            };
            let taken = self.pending.send_modify_ret(|p| {
                if p.contains_key(id) {
                    return true;
                }
                p.insert(id.clone(), entry);
                false
            });
            if taken {
                tracing::warn!(%id, "the host reused the id of a request still in flight");
                let refusal = Message::error(
                    id,
                    jsonrpc::INVALID_REQUEST,
                    "a request with this id is still in flight; ids must be unique",
                );
                let _ = self.local_tx.send(refusal).await;
                return true;
            }
        }
        self.to_pump_tx.send(msg).await.is_ok()
    }
}

/// The stdout task: the only writer of stdout. Upstream answers pass the pending check.
async fn write_stdout<W: AsyncWrite + Unpin, I: Inbound>(
    mut stdout: W,
    mut inbound: I,
    mut local_rx: mpsc::Receiver<Message>,
    pending: PendingTable,
    filter: ToolFilter,
    activity: Activity,
    stdout_closed: CancellationToken,
) {
    let mut upstream_open = true;
    loop {
        let msg = tokio::select! {
            biased;
            m = local_rx.recv() => match m {
                Some(m) => m,
                None => break, // the relay is done
            },
            m = inbound.recv(), if upstream_open => {
                let Some(m) = m else {
                    upstream_open = false;
                    continue;
                };
                activity.touch();
                match admit(m, &pending, &filter) {
                    Some(m) => m,
                    None => continue,
                }
            }
        };
        tracing::trace!(body = msg.as_str(), "to host");
        if let Err(e) = write_line(&mut stdout, msg.as_str()).await {
            tracing::info!("stdout closed: {e}");
            stdout_closed.cancel();
            return;
        }
    }
}

/// The exactly-one-response check: an answer passes only if its id is still pending, and
/// leaves under the id text the host used.
fn admit(msg: Message, pending: &PendingTable, filter: &ToolFilter) -> Option<Message> {
    if !msg.is_response() {
        return Some(msg);
    }
    let id = msg.id().expect("responses have ids");
    let Some(asked) = pending.send_modify_ret(|p| p.remove(id)) else {
        tracing::debug!(%id, "dropping an answer for a request that is not pending (already answered, or unknown)");
        return None;
    };
    let msg = if asked.id.same_text(id) {
        msg
    } else {
        msg.with_id(&asked.id)
    };
    if &*asked.method == "tools/list" && msg.kind() == Kind::Result {
        return Some(filter.filter_list(msg));
    }
    Some(msg)
}

/// The error reply for a line that is not a valid message.
fn reply_to_bad_input(e: &ParseError) -> Message {
    match e {
        ParseError::NotJson(_) => Message::error(
            &Id::null(),
            jsonrpc::PARSE_ERROR,
            &format!("parse error: {e}"),
        ),
        ParseError::Invalid { id, .. } => {
            let id = id.clone().unwrap_or_else(Id::null);
            Message::error(
                &id,
                jsonrpc::INVALID_REQUEST,
                &format!("invalid request: {e}"),
            )
        }
    }
}

#[cfg(test)]
mod tests;
