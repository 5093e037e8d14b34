//! The pump between the host (stdio) and the transport, and the exactly-one-response rule.
//!
//! Three tasks: the reader owns stdin and turns lines into messages (answering bad input
//! itself), the pump hands messages to the transport in order, and the writer owns stdout.
//! Every request id the host sends is recorded in the pending table until one answer for it
//! has been written; a second answer for the same id is dropped, and ids still pending at
//! exit are answered with an error. Nothing but JSON-RPC messages is ever written to stdout.
//!
//! The relay knows the transport and the envelope; it knows nothing of HTTP.

use crate::jsonrpc::{self, Id, Kind, Message, ParseError};
use crate::stdio::{Line, LineReader, write_line};
use crate::tool_filter::ToolFilter;
use crate::transport::{self, Transport};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// How long a send that is under way may take to finish once a signal has arrived.
const SIGNAL_GRACE: Duration = Duration::from_millis(500);

/// Capacity of each channel between the tasks; a full channel stops the side feeding it.
pub(crate) const CHANNEL_CAPACITY: usize = 64;

/// Why the relay stopped.
#[derive(Debug)]
pub(crate) enum QuitReason {
    /// The host closed stdin: the normal end.
    StdinClosed,
    /// SIGINT or SIGTERM.
    Signal,
    /// The host stopped reading stdout.
    StdoutClosed,
    /// The transport cannot continue.
    Fatal(transport::Error),
}

/// Relay settings from the command line.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Largest message accepted on stdin, in bytes.
    pub(crate) max_message: usize,
    /// How long to wait for answers still in flight after stdin closes or a signal arrives.
    pub(crate) drain_timeout: Duration,
    /// Tools hidden from the host.
    pub(crate) tool_filter: ToolFilter,
}

/// Requests from the host that still need their one answer, with their method.
type PendingTable = watch::Sender<HashMap<Id, String>>;

/// Runs the bridge until stdin closes, a signal arrives, stdout closes or the transport
/// fails. Every pending request is answered before this returns.
pub(crate) async fn run<R, W>(
    stdin: R,
    stdout: W,
    mut transport: Transport,
    from_server_rx: mpsc::Receiver<Message>,
    options: Options,
    signal: CancellationToken,
    host_gone: CancellationToken,
) -> QuitReason
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let pending: PendingTable = watch::Sender::new(HashMap::new());
    // Bridge-made replies to bad input; written without the pending check.
    let (local_tx, local_rx) = mpsc::channel::<Message>(CHANNEL_CAPACITY);
    // Messages from the host, in stdin order, for the pump.
    let (from_host_tx, mut from_host_rx) = mpsc::channel::<Message>(CHANNEL_CAPACITY);
    let stdout_closed = CancellationToken::new();
    // Cancelled when stdin closes; `host_gone` (the caller's, for a login in progress)
    // follows it.
    let stdin_closed = host_gone.child_token();
    let host_gone_on_eof = {
        let (closed, gone) = (stdin_closed.clone(), host_gone.clone());
        tokio::spawn(async move {
            closed.cancelled().await;
            gone.cancel();
        })
    };

    let reader = tokio::spawn(read_stdin(
        LineReader::new(
            BufReader::with_capacity(64 * 1024, stdin),
            options.max_message,
        ),
        from_host_tx,
        local_tx.clone(),
        pending.clone(),
        options.tool_filter.clone(),
        stdin_closed.clone(),
    ));
    let writer = tokio::spawn(write_stdout(
        stdout,
        from_server_rx,
        local_rx,
        pending.clone(),
        options.tool_filter.clone(),
        stdout_closed.clone(),
    ));

    // Set when the drain already ran out while a send was blocked.
    let mut drained = false;
    let quit = 'pump: loop {
        tokio::select! {
            biased;
            _ = signal.cancelled() => break 'pump QuitReason::Signal,
            _ = stdout_closed.cancelled() => break 'pump QuitReason::StdoutClosed,
            e = transport.failed() => break 'pump QuitReason::Fatal(e),
            msg = from_host_rx.recv() => {
                let Some(msg) = msg else { break 'pump QuitReason::StdinClosed };
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
                    r = transport.send(msg) => if let Err(e) = r { break 'pump QuitReason::Fatal(e) },
                }
            }
        }
    };
    tracing::debug!(reason = ?quit, "stopping");
    reader.abort();

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
    transport.close().await;

    // Whatever is still pending gets its one answer now.
    let leftover: Vec<Id> = pending.send_modify_ret(|p| p.drain().map(|(id, _)| id).collect());
    let message = match &quit {
        QuitReason::Fatal(e) => format!("mcp-bridge: {e}"),
        _ => "mcp-bridge is shutting down; the request was not answered".to_owned(),
    };
    for id in leftover {
        let _ = local_tx
            .send(Message::error_response(
                &id,
                jsonrpc::BRIDGE_ERROR,
                &message,
            ))
            .await;
    }
    drop(local_tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    host_gone_on_eof.abort();
    quit
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
async fn read_stdin<R: tokio::io::AsyncBufRead + Unpin>(
    mut lines: LineReader<R>,
    to_pump_tx: mpsc::Sender<Message>,
    local_tx: mpsc::Sender<Message>,
    pending: PendingTable,
    filter: ToolFilter,
    stdin_closed: CancellationToken,
) {
    let _closed_on_return = stdin_closed.drop_guard();
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => return tracing::debug!("stdin closed"),
            Err(e) => return tracing::warn!("stdin failed: {e}"),
        };
        let text = match line {
            Line::Text(text) => text,
            Line::TooLong(n) => {
                tracing::warn!(bytes = n, "message from the host is too large; dropped");
                let reply = Message::error_response(
                    &Id::null(),
                    jsonrpc::INVALID_REQUEST,
                    &format!("message of {n} bytes exceeds the limit (see --max-message-size)"),
                );
                let _ = local_tx.send(reply).await;
                continue;
            }
        };
        tracing::trace!(body = %text, "from host");
        let items = match jsonrpc::parse_batch(&text) {
            Ok(items) => items,
            Err(e) => vec![Err(e)],
        };
        for item in items {
            let msg = match item {
                Ok(msg) => msg,
                Err(e) => {
                    tracing::warn!("bad message from the host: {e}");
                    let _ = local_tx.send(reply_to_bad_input(&e)).await;
                    continue;
                }
            };
            if msg.kind() == Kind::Request {
                let id = msg.id().expect("requests have ids").clone();
                if let Some(reason) = filter.refuse_call(&msg) {
                    let _ = local_tx
                        .send(Message::error_response(
                            &id,
                            jsonrpc::METHOD_NOT_FOUND,
                            &reason,
                        ))
                        .await;
                    continue;
                }
                let method = msg.method().unwrap_or_default().to_owned();
                let duplicate = pending.send_modify_ret(|p| p.insert(id.clone(), method).is_some());
                if duplicate {
                    tracing::warn!(%id, "the host reused the id of a request still in flight");
                }
            }
            if to_pump_tx.send(msg).await.is_err() {
                return; // the pump has stopped
            }
        }
    }
}

/// The stdout task: the only writer of stdout. Server answers pass the pending check.
async fn write_stdout<W: AsyncWrite + Unpin>(
    mut stdout: W,
    mut from_server_rx: mpsc::Receiver<Message>,
    mut local_rx: mpsc::Receiver<Message>,
    pending: PendingTable,
    filter: ToolFilter,
    stdout_closed: CancellationToken,
) {
    let mut server_open = true;
    loop {
        let msg = tokio::select! {
            biased;
            m = local_rx.recv() => match m {
                Some(m) => m,
                None => break, // the relay is done
            },
            m = from_server_rx.recv(), if server_open => match m {
                Some(m) => match admit(m, &pending, &filter) {
                    Some(m) => m,
                    None => continue,
                },
                None => { server_open = false; continue }
            },
        };
        tracing::trace!(body = msg.as_str(), "to host");
        if let Err(e) = write_line(&mut stdout, msg.as_str()).await {
            tracing::info!("stdout closed: {e}");
            stdout_closed.cancel();
            return;
        }
    }
}

/// The exactly-one-response check: an answer passes only if its id is still pending.
fn admit(msg: Message, pending: &PendingTable, filter: &ToolFilter) -> Option<Message> {
    if !msg.is_response() {
        return Some(msg);
    }
    let id = msg.id().expect("responses have ids");
    let Some(method) = pending.send_modify_ret(|p| p.remove(id)) else {
        tracing::debug!(%id, "dropping an answer for a request that is not pending (already answered, or unknown)");
        return None;
    };
    if method == "tools/list" && msg.kind() == Kind::Result {
        return Some(filter.filter_list(msg));
    }
    Some(msg)
}

/// The error reply for a line that is not a valid message.
fn reply_to_bad_input(e: &ParseError) -> Message {
    match e {
        ParseError::NotJson(_) => Message::error_response(
            &Id::null(),
            jsonrpc::PARSE_ERROR,
            &format!("parse error: {e}"),
        ),
        ParseError::Invalid { id, .. } => {
            let id = id.clone().unwrap_or_else(Id::null);
            Message::error_response(
                &id,
                jsonrpc::INVALID_REQUEST,
                &format!("invalid request: {e}"),
            )
        }
    }
}
