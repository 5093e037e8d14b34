//! The Streamable HTTP transport as servers of 2025-03-26 to 2025-11-25 speak it.
//!
//! One POST per message; the answer comes back as JSON or as an event stream read by its own
//! task. The session id from the `initialize` answer and the negotiated protocol version go
//! on every later request. After `notifications/initialized` the optional GET stream is
//! opened and kept open. Streams that drop are resumed with `Last-Event-ID`. A 404 on a live
//! session replays the host's handshake privately and retries the message once. The session
//! is deleted on shutdown.

use super::http::{auth_required, excerpt, media_type, read_body};
use super::stream::{Cursor, EventReader};
use super::{Error, HANDSHAKE_TIMEOUT, Shared};
use crate::jsonrpc::{self, Id, Message};
use reqwest::StatusCode;
use reqwest::header::{HeaderValue, LOCATION};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::task::TaskTracker;

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
/// Attempts to resume a dropped response stream before the request is failed.
const MAX_RESUME_ATTEMPTS: u32 = 5;
/// How long the first GET for the stream may take before the host's messages go on.
const LISTEN_OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Failed attempts in a row after which the GET stream is given up.
const MAX_LISTEN_FAILURES: u32 = 8;
/// How long the DELETE of the session may take at shutdown.
const DELETE_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest error body read to look for a JSON-RPC error inside.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The session as the server sees it.
#[derive(Debug, Default, Clone)]
struct Session {
    id: Option<String>,
    protocol_version: Option<String>,
    /// Bumped each time the handshake is replayed; tells a task whether the session it used
    /// is still the current one.
    generation: u64,
}

/// What the first POST said about the server.
pub(crate) enum Probe {
    /// It answered: this is a Streamable HTTP server.
    Speaks,
    /// It refused the POST with this status (the message is handed back unanswered).
    Refused(u16, Message),
    /// It could not be reached; the message was answered with an error and nothing is
    /// decided yet.
    Unreachable,
}

/// The result of one attempt to open the GET stream.
enum Listen {
    Open(reqwest::Response),
    /// The server does not offer the stream (or not to us, or not for this session).
    Stop,
    /// A passing failure: try again after a delay.
    Retry,
}

/// What a POST produced.
enum Outcome {
    /// 202 or an empty 2xx body: nothing to read.
    Accepted,
    /// A JSON body (one message or a batch).
    Json(bytes::Bytes),
    /// An event stream that carries the answer.
    Stream(reqwest::Response),
}

pub(crate) struct Streamable {
    shared: Arc<Shared>,
    session: Mutex<Session>,
    /// Held while the handshake is replayed, so concurrent 404s replay it once.
    reinit: tokio::sync::Mutex<()>,
    /// Every task this transport starts, so shutdown can wait for them.
    tasks: TaskTracker,
}

impl Streamable {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Streamable {
            shared,
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
    pub(crate) fn send(self: &Arc<Self>, msg: Message) {
        let me = self.clone();
        self.tasks.spawn(async move { me.exchange(msg).await });
    }

    /// Sends the first message and reports whether the server speaks Streamable HTTP. The
    /// statuses that mean it does not (400, 404, 405) are returned, not answered, so the
    /// caller can fall back to HTTP+SSE; every other outcome is answered in-band.
    pub(crate) async fn send_probe(self: &Arc<Self>, msg: Message) -> Probe {
        let result = self.post_authorized(&msg).await;
        let probe = match &result {
            Err(Error::Status {
                status: s @ (400 | 404 | 405),
                ..
            }) => {
                return Probe::Refused(*s, msg);
            }
            Err(Error::Connect(_)) => Probe::Unreachable,
            _ => Probe::Speaks,
        };
        let me = self.clone();
        self.tasks
            .spawn(async move { me.finish(result, &msg).await });
        probe
    }

    /// Sends a message and waits until it is delivered (used for the handshake, whose order
    /// matters).
    pub(crate) async fn send_now(self: &Arc<Self>, msg: Message) {
        self.clone().exchange(msg).await;
    }

    /// Posts a message, replaying the handshake once if the session expired.
    async fn exchange(self: Arc<Self>, msg: Message) {
        // Wait out a handshake replay in progress, so the message goes to the new session.
        drop(self.reinit.lock().await);
        let generation = self.session().generation;
        let mut result = self.post_authorized(&msg).await;
        if matches!(result, Err(Error::SessionExpired)) {
            tracing::info!("server lost the session; initializing a new one");
            result = match self.reinitialize(generation).await {
                Ok(()) => self.post_authorized(&msg).await,
                Err(e) => Err(e),
            };
        }
        self.finish(result, &msg).await;
    }

    /// Posts a message with the current token; on 401/403 lets the OAuth client log in,
    /// refresh or step up, and posts again.
    async fn post_authorized(&self, msg: &Message) -> Result<Outcome, Error> {
        let mut rounds = 0;
        loop {
            self.shared.http.prepare().await;
            let sent = self.shared.http.token();
            let result = self.post(msg).await;
            if let Err(e @ Error::AuthRequired { .. }) = &result
                && self.shared.http.reauthorize(e, sent, &mut rounds).await?
            {
                continue;
            }
            return result;
        }
    }

    /// Handles a POST's result: delivers the answer, reads the stream, or fails the request.
    async fn finish(self: &Arc<Self>, result: Result<Outcome, Error>, msg: &Message) {
        let request_id = msg.id().filter(|_| msg.kind() == jsonrpc::Kind::Request);
        match result {
            Err(e) => match request_id {
                Some(id) => self.shared.inbox.fail(id, &e).await,
                None => tracing::warn!(
                    method = msg.method(),
                    "could not deliver a message to the server: {e}"
                ),
            },
            Ok(Outcome::Accepted) => {
                if msg.method() == Some("notifications/initialized") {
                    self.open_listener().await;
                } else if request_id.is_some() {
                    tracing::warn!(id = ?request_id, "server accepted a request without answering; expecting the answer on the GET stream");
                }
            }
            Ok(Outcome::Json(body)) => {
                let text = String::from_utf8_lossy(&body);
                match self.shared.inbox.deliver_text(&text).await {
                    Ok(answered) => {
                        if let Some(id) = request_id.filter(|id| !answered.contains(id)) {
                            let e =
                                Error::Protocol("the JSON reply did not answer the request".into());
                            self.shared.inbox.fail(id, &e).await;
                        }
                    }
                    Err(e) => match request_id {
                        Some(id) => self.shared.inbox.fail(id, &e).await,
                        None => tracing::warn!("{e}"),
                    },
                }
            }
            Ok(Outcome::Stream(resp)) => self.read_answer_stream(resp, request_id).await,
        }
    }

    /// Builds and sends a POST for `msg` and classifies the reply.
    async fn post(&self, msg: &Message) -> Result<Outcome, Error> {
        let session = self.session();
        let mut req = self
            .shared
            .http
            .post_json(&self.shared.http.url, msg.as_str().to_owned());
        req = self.with_session_headers(req, &session);
        tracing::debug!(method = msg.method(), id = ?msg.id(), "POST");
        tracing::trace!(body = msg.as_str(), "POST body");
        let resp = tokio::select! {
            biased;
            _ = self.shared.shutdown.cancelled() => return Err(Error::Closed("the bridge is shutting down".into())),
            r = req.send() => r.map_err(Error::from_reqwest)?,
        };
        let status = resp.status();
        if status.is_success() {
            if msg.method() == Some("initialize") {
                self.capture_session(&resp);
            }
            if status == StatusCode::ACCEPTED {
                return Ok(Outcome::Accepted);
            }
            return match media_type(&resp).as_str() {
                "text/event-stream" => Ok(Outcome::Stream(resp)),
                "application/json" => {
                    let body = read_body(resp, self.shared.http.max_message).await?;
                    if body.iter().all(u8::is_ascii_whitespace) {
                        Ok(Outcome::Accepted)
                    } else {
                        Ok(Outcome::Json(body))
                    }
                }
                other => {
                    let body = read_body(resp, ERROR_BODY_LIMIT).await.unwrap_or_default();
                    if body.iter().all(u8::is_ascii_whitespace) {
                        Ok(Outcome::Accepted)
                    } else {
                        Err(Error::ContentType(other.to_owned()))
                    }
                }
            };
        }
        self.classify_failure(resp, msg, &session).await
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
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(auth_required(&resp));
        }
        if status == StatusCode::NOT_FOUND && session.id.is_some() {
            return Err(Error::SessionExpired);
        }
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            return Err(Error::Redirected {
                location: location.to_owned(),
            });
        }
        let body = read_body(resp, ERROR_BODY_LIMIT).await.unwrap_or_default();
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
            && reply.kind() == jsonrpc::Kind::Error
            && reply.id() == Some(id)
        {
            // The server explained the failure in JSON-RPC: that is the answer.
            return Ok(Outcome::Json(body));
        }
        Err(Error::Status {
            status: status.as_u16(),
            body: excerpt(&body),
        })
    }

    fn with_session_headers(
        &self,
        mut req: reqwest::RequestBuilder,
        session: &Session,
    ) -> reqwest::RequestBuilder {
        if let Some(id) = &session.id {
            req = req.header(SESSION_HEADER, id);
        }
        if let Some(v) = &session.protocol_version {
            req = req.header(VERSION_HEADER, v);
        }
        req
    }

    fn capture_session(&self, resp: &reqwest::Response) {
        let id = resp
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v: &HeaderValue| v.to_str().ok());
        let mut session = self.session.lock().expect("session lock is never poisoned");
        // Visible ASCII only (the spec's rule); anything else is ignored rather than echoed.
        session.id = id
            .filter(|id| !id.is_empty() && id.bytes().all(|b| (0x21..=0x7e).contains(&b)))
            .map(str::to_owned);
        if session.id.is_some() {
            tracing::debug!("session established");
        }
    }

    /// Records the protocol version the server chose in its `initialize` answer.
    pub(crate) fn record_initialize_result(&self, reply: &Message) {
        #[derive(serde::Deserialize)]
        struct InitResult {
            #[serde(rename = "protocolVersion")]
            protocol_version: String,
        }
        if let Some(result) = reply.field::<InitResult>("result") {
            tracing::info!(version = %result.protocol_version, "server initialized");
            self.session
                .lock()
                .expect("session lock is never poisoned")
                .protocol_version =
                Some(result.protocol_version).filter(|v| HeaderValue::from_str(v).is_ok());
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
            let reason = match outcome {
                Ok(true) => return,
                Ok(false) => "the server closed the stream before answering".to_owned(),
                Err(e @ Error::TooLarge { .. }) | Err(e @ Error::Protocol(_)) => {
                    return self.shared.inbox.fail(id, &e).await;
                }
                Err(e) => e.to_string(),
            };
            if self.shared.shutdown.is_cancelled() {
                return;
            }
            let Some(last) = cursor.last_event_id.clone() else {
                let e = Error::Closed(format!(
                    "{reason}, and the stream cannot be resumed (no event id)"
                ));
                return self.shared.inbox.fail(id, &e).await;
            };
            if cursor.failures >= MAX_RESUME_ATTEMPTS {
                let e = Error::Closed(format!(
                    "{reason}; gave up resuming after {MAX_RESUME_ATTEMPTS} attempts"
                ));
                return self.shared.inbox.fail(id, &e).await;
            }
            tracing::debug!(%id, "stream ended early ({reason}); resuming");
            resp = loop {
                if !self.sleep(cursor.delay()).await {
                    return;
                }
                cursor.failures += 1;
                match self.resume(&last).await {
                    Ok(r) => break r,
                    // Nobody is listening any more: waiting out the backoff helps no one.
                    Err(e @ Error::Connect(_)) => {
                        let e = Error::Closed(format!("{reason}, and the server is gone: {e}"));
                        return self.shared.inbox.fail(id, &e).await;
                    }
                    Err(e) if cursor.failures >= MAX_RESUME_ATTEMPTS => {
                        let e = Error::Closed(format!("could not resume the stream: {e}"));
                        return self.shared.inbox.fail(id, &e).await;
                    }
                    Err(e) => tracing::debug!("resume failed: {e}"),
                }
            };
        }
    }

    /// Opens a GET stream resuming after `last_event_id`.
    async fn resume(&self, last_event_id: &str) -> Result<reqwest::Response, Error> {
        let session = self.session();
        let req = self
            .with_session_headers(self.shared.http.get_stream(&self.shared.http.url), &session)
            .header("last-event-id", last_event_id);
        let resp = req.send().await.map_err(Error::from_reqwest)?;
        if resp.status().is_success() && media_type(&resp) == "text/event-stream" {
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
        let mut events = EventReader::new(resp, self.shared.http.max_message);
        loop {
            let event = tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => return Ok(false),
                e = events.next_event() => e?,
            };
            let Some(event) = event else { return Ok(false) };
            cursor.note(&event);
            if event.data.is_empty() || event.kind() != "message" {
                continue; // priming events and other types carry no message
            }
            match self
                .shared
                .inbox
                .deliver_text_related(&event.data, wanted)
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
            .unwrap_or(Listen::Retry);
        let me = self.clone();
        self.tasks
            .spawn(async move { me.listen(generation, cursor, first).await });
    }

    /// One GET for the stream, classified.
    async fn connect_listener(&self, cursor: &Cursor) -> Listen {
        let session = self.session();
        let mut req =
            self.with_session_headers(self.shared.http.get_stream(&self.shared.http.url), &session);
        if let Some(last) = &cursor.last_event_id {
            req = req.header("last-event-id", last);
        }
        let resp = tokio::select! {
            biased;
            _ = self.shared.shutdown.cancelled() => return Listen::Stop,
            r = req.send() => r,
        };
        let resp = match resp {
            Ok(resp) => resp,
            Err(e) => {
                tracing::debug!("GET stream: {}", Error::from_reqwest(e));
                return Listen::Retry;
            }
        };
        let status = resp.status();
        if status.is_success() && media_type(&resp) == "text/event-stream" {
            tracing::debug!("GET stream open");
            return Listen::Open(resp);
        }
        match status.as_u16() {
            // Not offered (405 is the spec's answer; some servers say 400 or 404), or the
            // session is gone (the next request starts a new one and a new stream).
            400 | 404 | 405 => {
                tracing::debug!(status = status.as_u16(), "no GET stream from this server");
                Listen::Stop
            }
            401 | 403 => {
                tracing::debug!(status = status.as_u16(), "GET stream not authorized");
                Listen::Stop
            }
            _ => {
                tracing::debug!(status = status.as_u16(), "GET stream refused");
                Listen::Retry
            }
        }
    }

    /// Reads the GET stream and reopens it when it ends, until shutdown or a new session.
    async fn listen(&self, generation: u64, mut cursor: Cursor, mut step: Listen) {
        loop {
            match step {
                Listen::Stop => return,
                Listen::Open(resp) => match self.pump(resp, &mut cursor, None).await {
                    Ok(_) => tracing::debug!("GET stream ended; reconnecting"),
                    Err(e) => tracing::debug!("GET stream failed: {e}; reconnecting"),
                },
                Listen::Retry => {
                    cursor.failures += 1;
                    if cursor.failures > MAX_LISTEN_FAILURES {
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
        let handshake = self.shared.handshake();
        let Some(initialize) = handshake.initialize else {
            return Err(Error::SessionExpired);
        };
        {
            let mut s = self.session.lock().expect("session lock is never poisoned");
            s.id = None;
        }
        let id = self.shared.internal_id("reinit");
        let replay = initialize.with_id(&id);
        let answer = self.shared.inbox.watch(&id, false);
        let result = self.post_authorized(&replay).await;
        self.finish(result, &replay).await;
        let reply = tokio::time::timeout(HANDSHAKE_TIMEOUT, answer)
            .await
            .map_err(|_| Error::Closed("the server did not answer the new initialize".into()))?
            .map_err(|_| Error::Closed("the new initialize was not answered".into()))?;
        if reply.kind() == jsonrpc::Kind::Error {
            return Err(Error::Closed(format!(
                "the server refused the new initialize: {}",
                reply.as_str()
            )));
        }
        self.record_initialize_result(&reply);
        if let Some(initialized) = handshake.initialized {
            let result = self.post_authorized(&initialized).await;
            // Bump first so the new listener this starts is not mistaken for a stale one.
            self.session
                .lock()
                .expect("session lock is never poisoned")
                .generation += 1;
            self.finish(result, &initialized).await;
        } else {
            self.session
                .lock()
                .expect("session lock is never poisoned")
                .generation += 1;
        }
        Ok(())
    }

    /// Sleeps unless shutdown comes first; returns false on shutdown.
    async fn sleep(&self, delay: Duration) -> bool {
        tokio::select! {
            biased;
            _ = self.shared.shutdown.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }

    /// Deletes the session at shutdown (405 means the server does not allow it; fine).
    pub(crate) async fn delete_session(&self) {
        self.tasks.close();
        let session = self.session();
        let Some(id) = &session.id else { return };
        let req = self
            .shared
            .http
            .request(reqwest::Method::DELETE, &self.shared.http.url)
            .header(SESSION_HEADER, id)
            .timeout(DELETE_TIMEOUT);
        let req = match &session.protocol_version {
            Some(v) => req.header(VERSION_HEADER, v),
            None => req,
        };
        match req.send().await {
            Ok(resp) => tracing::debug!(status = resp.status().as_u16(), "session deleted"),
            Err(e) => tracing::debug!("could not delete the session: {}", Error::from_reqwest(e)),
        }
    }
}
