//! The Streamable HTTP transport as servers of 2025-03-26 to 2025-11-25 speak it.
//!
//! One POST per message; the answer comes back as JSON or as an event stream read by its own
//! task. The session id from the `initialize` answer and the negotiated protocol version go
//! on every later request. After `notifications/initialized` the optional GET stream is
//! opened and kept open. Streams that drop are resumed with `Last-Event-ID`. A 404 on a live
//! session replays the host's handshake privately and retries the message once. The session
//! is deleted on shutdown.

use super::events::{Cursor, is_message};
use super::http::{self, ERROR_BODY_LIMIT, LAST_EVENT_ID, PROTOCOL_VERSION, SESSION};
use super::legacy::Connection;
use super::{Error, HANDSHAKE_TIMEOUT};
use crate::budget::Held;
use crate::jsonrpc::{Id, Kind, Message};
use crate::net;
use reqwest::StatusCode;
use reqwest::header::{HeaderName, HeaderValue};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::task::TaskTracker;

/// Attempts to resume a dropped response stream before the request is failed.
const MAX_RESUME_ATTEMPTS: u32 = 5;
/// How long the first GET for the stream may take before the host's messages go on.
const LISTEN_OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Failed attempts in a row after which the GET stream is given up.
const MAX_LISTEN_FAILURES: u32 = 8;
/// How long the DELETE of the session may take at shutdown.
const DELETE_TIMEOUT: Duration = Duration::from_secs(2);

/// The session as the server sees it.
#[derive(Debug, Default, Clone)]
struct Session {
    id: Option<HeaderValue>,
    protocol_version: Option<HeaderValue>,
    /// Bumped each time the handshake is replayed; tells a task whether the session it used
    /// is still the current one.
    generation: u64,
}

impl Session {
    /// The headers every request of this session carries.
    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut out = Vec::with_capacity(3);
        if let Some(id) = &self.id {
            out.push((SESSION, id.clone()));
        }
        if let Some(v) = &self.protocol_version {
            out.push((PROTOCOL_VERSION, v.clone()));
        }
        out
    }
}

/// What the first POST said about the server.
pub(super) enum FirstPost {
    /// It answered: this is a Streamable HTTP server.
    Speaks,
    /// It refused the POST with this status (the message is handed back unanswered).
    Refused(u16, Message),
    /// It could not be reached, or the connection failed before any answer (a reset): the
    /// message was answered with an error and nothing is decided yet.
    Unreachable,
}

/// The result of one attempt to open the GET stream.
enum GetStream {
    Open(reqwest::Response),
    /// The server does not offer the stream (or not to us, or not for this session).
    Stop,
    /// The server answered with a passing failure: try again after a delay.
    Retry,
    /// The server could not be reached or gave no answer (down, cut off): try again after
    /// a delay, for as long as the session lasts.
    Unreachable,
}

/// What a POST produced.
enum Outcome {
    /// 202 or an empty 2xx body: nothing to read.
    Accepted,
    /// A JSON body (one message or a batch), with its bytes' reservation.
    Json(bytes::Bytes, Held),
    /// An event stream that carries the answer.
    Stream(reqwest::Response),
}

pub(super) struct Streamable {
    conn: Arc<Connection>,
    session: Mutex<Session>,
    /// Held while the handshake is replayed, so concurrent 404s replay it once.
    reinit: tokio::sync::Mutex<()>,
    /// Every task this transport starts, so shutdown can wait for them.
    tasks: TaskTracker,
}

impl Streamable {
    pub(super) fn new(conn: Arc<Connection>) -> Self {
        Streamable {
            conn,
            session: Mutex::new(Session::default()),
            reinit: tokio::sync::Mutex::new(()),
            tasks: TaskTracker::new(),
        }
    }

    fn session(&self) -> Session {
        self.session
            .lock()
            .expect("session lock is never poisoned")
            .clone()
    }

    /// Sends a message in the background; its answer (or a bridge-made error) reaches the
    /// host through the inbox.
    pub(super) fn send(self: &Arc<Self>, msg: Message) {
        let me = self.clone();
        // Boxed: the exchange's state is large, and the task would copy all of it when it
        // starts and again when it ends; boxed, it copies a pointer.
        self.tasks
            .spawn(Box::pin(async move { me.exchange(msg).await }));
    }

    /// Sends the first message and reports whether the server speaks Streamable HTTP. The
    /// statuses that mean it does not (400, 404, 405) are returned, not answered, so the
    /// caller can fall back to HTTP+SSE; every other outcome is answered in-band.
    pub(super) async fn send_first(self: &Arc<Self>, msg: Message) -> FirstPost {
        let result = self.post(&msg).await;
        let first = match &result {
            Err(Error::Status {
                status: s @ (400 | 404 | 405),
                ..
            }) => {
                return FirstPost::Refused(*s, msg);
            }
            // No HTTP answer at all says nothing about the transport.
            Err(e) if e.is_unreachable() || e.is_unanswered() => FirstPost::Unreachable,
            _ => FirstPost::Speaks,
        };
        let me = self.clone();
        self.tasks
            .spawn(async move { me.finish(result, &msg).await });
        first
    }

    /// Sends a message and waits until it is delivered (used for the handshake, whose order
    /// matters).
    pub(super) async fn send_now(self: &Arc<Self>, msg: Message) {
        self.clone().exchange(msg).await;
    }

    /// Posts a message, replaying the handshake once if the session expired.
    async fn exchange(self: Arc<Self>, msg: Message) {
        // Wait out a handshake replay in progress, so the message goes to the new session.
        drop(self.reinit.lock().await);
        let generation = self.session().generation;
        let mut result = self.post(&msg).await;
        if matches!(result, Err(Error::SessionExpired)) {
            tracing::info!("server lost the session; initializing a new one");
            // Boxed (rare, and its state would double every exchange's future).
            result = match Box::pin(self.reinitialize(generation)).await {
                Ok(()) => self.post(&msg).await,
                Err(e) => Err(e),
            };
        }
        self.finish(result, &msg).await;
    }

    /// Handles a POST's result: delivers the answer, reads the stream, or fails the request.
    async fn finish(self: &Arc<Self>, result: Result<Outcome, Error>, msg: &Message) {
        let request_id = msg.id().filter(|_| msg.kind() == Kind::Request);
        match result {
            Err(e) => match request_id {
                Some(id) => self.conn.inbox.fail(id, &e).await,
                None => tracing::warn!(
                    method = msg.method(),
                    "could not deliver a message to the server: {e}"
                ),
            },
            Ok(Outcome::Accepted) => {
                if msg.method() == Some("notifications/initialized") {
                    Box::pin(self.open_listener()).await;
                } else if request_id.is_some() {
                    tracing::warn!(id = ?request_id, "server accepted a request without answering; expecting the answer on the GET stream");
                }
            }
            Ok(Outcome::Json(body, held)) => {
                let text = String::from_utf8_lossy(&body);
                match self.conn.inbox.deliver_text(&text, None, held).await {
                    Ok(answered) => {
                        if let Some(id) = request_id.filter(|id| !answered.contains(id)) {
                            let e =
                                Error::Protocol("the JSON reply did not answer the request".into());
                            self.conn.inbox.fail(id, &e).await;
                        }
                    }
                    Err(e) => match request_id {
                        Some(id) => self.conn.inbox.fail(id, &e).await,
                        None => tracing::warn!("{e}"),
                    },
                }
            }
            Ok(Outcome::Stream(resp)) => self.read_answer_stream(resp, request_id).await,
        }
    }

    /// Sends a POST for `msg` and classifies the reply.
    async fn post(&self, msg: &Message) -> Result<Outcome, Error> {
        let session = self.session();
        tracing::debug!(method = msg.method(), id = ?msg.id(), "POST");
        tracing::trace!(body = msg.as_str(), "POST body");
        let http = &self.conn.http;
        let headers = session.headers();
        let resp = tokio::select! {
            biased;
            _ = self.conn.stop.cancelled() => return Err(Error::ShuttingDown),
            r = http.post(http.url(), msg.as_str(), &headers) => r?,
        };
        let status = resp.status();
        if !status.is_success() {
            return self.classify_failure(resp, msg, &session).await;
        }
        if msg.method() == Some("initialize") {
            self.capture_session(&resp);
        }
        if status == StatusCode::ACCEPTED {
            return Ok(Outcome::Accepted);
        }
        match net::media_type(&resp).as_str() {
            "text/event-stream" => Ok(Outcome::Stream(resp)),
            "application/json" => {
                let (body, held) = http.read_body(resp).await?;
                if body.iter().all(u8::is_ascii_whitespace) {
                    Ok(Outcome::Accepted)
                } else {
                    Ok(Outcome::Json(body, held))
                }
            }
            other => {
                let other = other.to_owned();
                let body = net::read_body(resp, ERROR_BODY_LIMIT)
                    .await
                    .unwrap_or_default();
                if body.iter().all(u8::is_ascii_whitespace) {
                    Ok(Outcome::Accepted)
                } else {
                    Err(Error::ContentType(other))
                }
            }
        }
    }

    /// Maps a non-2xx reply to an error, or to the server's own JSON-RPC error when the body
    /// carries one for this request.
    async fn classify_failure(
        &self,
        resp: reqwest::Response,
        msg: &Message,
        session: &Session,
    ) -> Result<Outcome, Error> {
        let status = resp.status();
        if status == StatusCode::NOT_FOUND && session.id.is_some() {
            return Err(Error::SessionExpired);
        }
        if status.is_redirection() {
            return Err(http::failure(resp).await);
        }
        let body = net::read_body(resp, ERROR_BODY_LIMIT)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        // Servers built on the TypeScript SDK's examples answer an unknown session with 400
        // "No valid session ID provided" instead of the specified 404; it means the same.
        if status == StatusCode::BAD_REQUEST
            && session.id.is_some()
            && text.to_ascii_lowercase().contains("session")
        {
            return Err(Error::SessionExpired);
        }
        if let (Ok(reply), Some(id)) = (Message::parse(&text), msg.id())
            && reply.kind() == Kind::Error
            && reply.id() == Some(id)
        {
            // The server explained the failure in JSON-RPC: that is the answer.
            return Ok(Outcome::Json(body, Held::default()));
        }
        Err(Error::Status {
            status: status.as_u16(),
            body: http::excerpt(&body),
        })
    }

    fn capture_session(&self, resp: &reqwest::Response) {
        let id = resp
            .headers()
            .get(SESSION)
            .and_then(|v| v.to_str().ok())
            .and_then(http::echo_value);
        let mut session = self.session.lock().expect("session lock is never poisoned");
        session.id = id;
        if session.id.is_some() {
            tracing::debug!("session established");
        }
    }

    /// Records the protocol version the server chose in its `initialize` answer.
    pub(super) fn record_initialize_result(&self, reply: &Message) {
        #[derive(serde::Deserialize)]
        struct InitResult {
            #[serde(rename = "protocolVersion")]
            protocol_version: String,
        }
        if let Some(result) = reply.result::<InitResult>() {
            tracing::info!(version = %result.protocol_version, "server initialized");
            self.session
                .lock()
                .expect("session lock is never poisoned")
                .protocol_version = http::echo_value(&result.protocol_version);
        }
    }

    /// Reads a POST's event stream until the request is answered, resuming with
    /// `Last-Event-ID` when the stream drops early.
    async fn read_answer_stream(&self, resp: reqwest::Response, request_id: Option<&Id>) {
        let mut cursor = Cursor::default();
        let mut resp = resp;
        loop {
            let outcome = self.pump(resp, &mut cursor, request_id).await;
            let Some(id) = request_id else { return };
            let broke = match outcome {
                Ok(true) => return,
                Ok(false) => Error::StreamEnded,
                Err(e @ Error::TooLarge { .. }) | Err(e @ Error::Protocol(_)) => {
                    return self.conn.inbox.fail(id, &e).await;
                }
                Err(e) => e,
            };
            if self.conn.stop.is_cancelled() {
                return;
            }
            let Some(last) = cursor.last_event_id.clone() else {
                tracing::debug!(%id, "the answer stream broke ({broke}) and has no event id to resume from");
                return self.conn.inbox.fail(id, &Error::StreamEnded).await;
            };
            if cursor.failures >= MAX_RESUME_ATTEMPTS {
                let e = Error::ResumeFailed(Box::new(broke));
                return self.conn.inbox.fail(id, &e).await;
            }
            tracing::debug!(%id, "stream ended early ({broke}); resuming");
            resp = loop {
                if !self.sleep(cursor.delay()).await {
                    return;
                }
                cursor.failures += 1;
                match self.resume(&last).await {
                    Ok(r) => break r,
                    // Nobody is listening any more: waiting out the backoff helps no one.
                    Err(e) if e.is_unreachable() => {
                        let e = Error::ResumeFailed(Box::new(e));
                        return self.conn.inbox.fail(id, &e).await;
                    }
                    Err(e) if cursor.failures >= MAX_RESUME_ATTEMPTS => {
                        let e = Error::ResumeFailed(Box::new(e));
                        return self.conn.inbox.fail(id, &e).await;
                    }
                    Err(e) => tracing::debug!("resume failed: {e}"),
                }
            };
        }
    }

    /// Opens a GET stream resuming after `last_event_id`.
    async fn resume(&self, last_event_id: &str) -> Result<reqwest::Response, Error> {
        let mut headers = self.session().headers();
        let last = HeaderValue::from_str(last_event_id)
            .map_err(|_| Error::Protocol("the server sent an unusable event id".into()))?;
        headers.push((LAST_EVENT_ID, last));
        let http = &self.conn.http;
        let resp = http.get_stream(http.url(), &headers).await?;
        if http::is_event_stream(&resp) {
            Ok(resp)
        } else {
            Err(Error::Status {
                status: resp.status().as_u16(),
                body: String::new(),
            })
        }
    }

    /// Delivers the events of one stream. Returns whether `wanted` was answered (the stream
    /// is then left, as the server should end it there anyway).
    async fn pump(
        &self,
        resp: reqwest::Response,
        cursor: &mut Cursor,
        wanted: Option<&Id>,
    ) -> Result<bool, Error> {
        let mut events = self.conn.http.events(resp);
        loop {
            let event = tokio::select! {
                biased;
                _ = self.conn.stop.cancelled() => return Ok(false),
                e = events.next_event() => e?,
            };
            let Some(event) = event else { return Ok(false) };
            cursor.note(&event);
            if !is_message(&event) {
                continue; // priming events and other types carry no message
            }
            let held = events.take_held();
            match self
                .conn
                .inbox
                .deliver_text(&event.data, wanted, held)
                .await
            {
                Ok(answered) => {
                    if wanted.is_some_and(|id| answered.contains(id)) {
                        return Ok(true);
                    }
                }
                Err(e) => tracing::warn!("dropping an invalid event from the server: {e}"),
            }
        }
    }

    /// Opens the GET stream for server-initiated messages. The first attempt is awaited, so
    /// the stream is open before the host's next message goes out (a server may send its
    /// requests only there); reading and reconnecting go on in the background.
    async fn open_listener(self: &Arc<Self>) {
        let generation = self.session().generation;
        let cursor = Cursor::default();
        // Bounded: a server that never answers the GET must not hold up the host.
        let first = tokio::time::timeout(LISTEN_OPEN_TIMEOUT, self.connect_listener(&cursor))
            .await
            .unwrap_or(GetStream::Retry);
        let me = self.clone();
        self.tasks
            .spawn(async move { me.listen(generation, cursor, first).await });
    }

    /// One GET for the stream, classified.
    async fn connect_listener(&self, cursor: &Cursor) -> GetStream {
        let mut headers = self.session().headers();
        if let Some(last) = cursor
            .last_event_id
            .as_deref()
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            headers.push((LAST_EVENT_ID, last));
        }
        let http = &self.conn.http;
        let resp = tokio::select! {
            biased;
            _ = self.conn.stop.cancelled() => return GetStream::Stop,
            r = http.get_stream(http.url(), &headers) => r,
        };
        let resp = match resp {
            Ok(resp) => resp,
            Err(Error::Send(crate::auth::SendError::Unauthorized { status, .. })) => {
                tracing::debug!(status, "GET stream not authorized");
                return GetStream::Stop;
            }
            Err(e) if e.is_unreachable() || e.is_unanswered() => {
                tracing::debug!("GET stream: {e}");
                return GetStream::Unreachable;
            }
            Err(e) => {
                tracing::debug!("GET stream: {e}");
                return GetStream::Retry;
            }
        };
        if http::is_event_stream(&resp) {
            tracing::debug!("GET stream open");
            return GetStream::Open(resp);
        }
        match resp.status().as_u16() {
            // Not offered (405 is the spec's answer; some servers say 400 or 404), or the
            // session is gone (the next request starts a new one and a new stream).
            status @ (400 | 404 | 405) => {
                tracing::debug!(status, "no GET stream from this server");
                GetStream::Stop
            }
            status => {
                tracing::debug!(status, "GET stream refused");
                GetStream::Retry
            }
        }
    }

    /// Reads the GET stream and reopens it when it ends, until shutdown or a new session.
    async fn listen(&self, generation: u64, mut cursor: Cursor, mut step: GetStream) {
        // Attempts in a row that did not open a stream; too many and the GET stream is given up.
        let mut refused = 0;
        loop {
            match step {
                GetStream::Stop => return,
                GetStream::Open(resp) => {
                    refused = 0;
                    match self.pump(resp, &mut cursor, None).await {
                        Ok(_) => tracing::debug!("GET stream ended; reconnecting"),
                        Err(e) => tracing::debug!("GET stream failed: {e}; reconnecting"),
                    }
                    // Paced like a failure unless messages came (they reset the count).
                    cursor.failures = cursor.failures.saturating_add(1);
                }
                // A server that is down or cut off is waited for at the capped pace: the
                // stream comes back with it.
                GetStream::Unreachable => cursor.failures = cursor.failures.saturating_add(1),
                GetStream::Retry => {
                    cursor.failures = cursor.failures.saturating_add(1);
                    refused += 1;
                    if refused > MAX_LISTEN_FAILURES {
                        tracing::info!(
                            "giving up on the GET stream; server messages arrive only with answers"
                        );
                        return;
                    }
                }
            }
            if self.session().generation != generation || !self.sleep(cursor.delay()).await {
                return; // shutting down, or a replayed handshake opened its own stream
            }
            step = self.connect_listener(&cursor).await;
        }
    }

    /// Replays the host's handshake under a private id after the server lost the session.
    /// Several tasks may hit the 404 at once; only the first replays, the rest reuse it.
    async fn reinitialize(self: &Arc<Self>, seen_generation: u64) -> Result<(), Error> {
        let _guard = self.reinit.lock().await;
        if self.session().generation != seen_generation {
            return Ok(());
        }
        let handshake = self.conn.handshake();
        let Some(initialize) = handshake.initialize else {
            return Err(Error::SessionExpired);
        };
        // The replay goes out without a session; if it fails, the old id is put back, so the
        // next request meets the same 404 and tries again instead of going out with none.
        let previous = self
            .session
            .lock()
            .expect("session lock is never poisoned")
            .id
            .take();
        let restore = |me: &Self| {
            me.session
                .lock()
                .expect("session lock is never poisoned")
                .id
                .clone_from(&previous);
        };
        let id = self.conn.inbox.internal_id("reinit");
        let replay = initialize.with_id(&id);
        let answer = self.conn.inbox.watch(&id, false);
        let outcome = match self.post(&replay).await {
            Ok(outcome) => outcome,
            Err(e) => {
                restore(self);
                return Err(e);
            }
        };
        self.finish(Ok(outcome), &replay).await;
        let reply = match tokio::time::timeout(HANDSHAKE_TIMEOUT, answer).await {
            Ok(Ok(reply)) if reply.kind() != Kind::Error => reply,
            Ok(Ok(reply)) => {
                restore(self);
                return Err(Error::HandshakeRefused(reply.as_str().to_owned()));
            }
            _ => {
                restore(self);
                return Err(Error::HandshakeUnanswered);
            }
        };
        self.record_initialize_result(&reply);
        let result = match &handshake.initialized {
            Some(initialized) => Some(self.post(initialized).await),
            None => None,
        };
        // Bump first so the new listener this starts is not mistaken for a stale one.
        self.session
            .lock()
            .expect("session lock is never poisoned")
            .generation += 1;
        if let (Some(result), Some(initialized)) = (result, &handshake.initialized) {
            self.finish(result, initialized).await;
        }
        Ok(())
    }

    /// Sleeps unless shutdown comes first; returns false on shutdown.
    async fn sleep(&self, delay: Duration) -> bool {
        tokio::select! {
            biased;
            _ = self.conn.stop.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }

    /// Deletes the session at shutdown (405 means the server does not allow it; fine).
    pub(super) async fn delete_session(&self) {
        self.tasks.close();
        let session = self.session();
        if session.id.is_none() {
            return;
        }
        match self
            .conn
            .http
            .delete(&session.headers(), DELETE_TIMEOUT)
            .await
        {
            Ok(resp) => tracing::debug!(status = resp.status().as_u16(), "session deleted"),
            Err(e) => tracing::debug!("could not delete the session: {e}"),
        }
    }
}
