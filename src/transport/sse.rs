//! The legacy HTTP+SSE transport (MCP 2024-11-05).
//!
//! A GET opens an event stream whose first `endpoint` event names the URL to POST messages
//! to; answers and server messages arrive as `message` events on that stream. The endpoint
//! must have the server's origin: a server cannot steer messages or credentials elsewhere.
//! When the stream drops, requests still waiting are answered with an error (their session
//! is gone), the stream is reopened, and the host's handshake is replayed privately so the
//! new session is ready before anything else is posted.

use super::events::{Cursor, EventReader, is_message};
use super::http::{self, LAST_EVENT_ID};
use super::legacy::Connection;
use super::{Error, HANDSHAKE_TIMEOUT};
use crate::budget::Held;
use crate::endpoint;
use crate::jsonrpc::{Id, Kind, Message};
use reqwest::header::HeaderValue;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use url::Url;

/// How long to wait for the `endpoint` event after the stream opens.
const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a message waits for the stream while it is being reopened (the reconnect it
/// triggers at once, handshake replay included). A message fails as soon as that attempt
/// fails, as on Streamable HTTP; this bound is for an attempt that hangs.
const SEND_WAIT: Duration = Duration::from_secs(5);
/// Reconnects that messages trigger are at least this far apart: a host that keeps sending
/// to a server that is down does not turn each message into a connection attempt.
const WAKE_GAP: Duration = super::events::MIN_RETRY;

pub(super) struct LegacySse {
    conn: Arc<Connection>,
    /// The URL to POST to; `None` while the stream is being reopened.
    endpoint: watch::Sender<Option<Url>>,
    /// Requests posted on the current stream and not yet answered.
    in_flight: Mutex<HashSet<Id>>,
    /// Cancelled when the transport cannot go on; `fatal` says why.
    dead: CancellationToken,
    /// Woken by a message that found the stream down: reconnect now, not after the backoff.
    wake: tokio::sync::Notify,
    /// Reconnect attempts that have failed so far: a message that found the stream down
    /// waits for the outcome of one attempt, shared with every other message waiting.
    failed_attempts: watch::Sender<u64>,
    /// Woken when the server answered a POST with 404: the stream's session is gone.
    reopen: tokio::sync::Notify,
    /// Streams opened so far (the first one is 0).
    opened: AtomicU64,
    fatal: Mutex<Option<Error>>,
    tasks: TaskTracker,
}

impl LegacySse {
    /// Opens the stream and waits for the endpoint.
    pub(super) async fn connect(conn: Arc<Connection>) -> Result<Arc<Self>, Error> {
        let mut cursor = Cursor::default();
        let (events, url) = open(&conn, &mut cursor).await?;
        let me = Arc::new(LegacySse {
            conn,
            endpoint: watch::Sender::new(Some(url)),
            in_flight: Mutex::new(HashSet::new()),
            dead: CancellationToken::new(),
            wake: tokio::sync::Notify::new(),
            failed_attempts: watch::Sender::new(0),
            reopen: tokio::sync::Notify::new(),
            opened: AtomicU64::new(0),
            fatal: Mutex::new(None),
            tasks: TaskTracker::new(),
        });
        let runner = me.clone();
        me.tasks
            .spawn(async move { runner.run(events, cursor).await });
        Ok(me)
    }

    /// Posts a message in the background.
    pub(super) fn send(self: &Arc<Self>, msg: Message) {
        let me = self.clone();
        self.tasks.spawn(async move { me.post(msg).await });
    }

    /// Posts a message and waits until the server has accepted it (used for the handshake:
    /// `notifications/initialized` must reach the server before the requests that follow).
    pub(super) async fn send_now(&self, msg: Message) {
        self.post(msg).await;
    }

    /// Resolves with the reason once the transport has failed for good.
    pub(super) async fn failed(&self) -> Error {
        self.dead.cancelled().await;
        self.fatal
            .lock()
            .expect("fatal lock is never poisoned")
            .take()
            .unwrap_or(Error::Abandoned)
    }

    async fn post(&self, msg: Message) {
        let request_id = msg.id().filter(|_| msg.kind() == Kind::Request).cloned();
        let mut retried = false;
        loop {
            let url = match self.wait_endpoint().await {
                Ok(url) => url,
                Err(e) => {
                    if let Some(id) = &request_id {
                        self.conn.inbox.fail(id, &e).await;
                    }
                    return;
                }
            };
            let opened = self.opened.load(Ordering::Acquire);
            if let Some(id) = &request_id {
                self.in_flight
                    .lock()
                    .expect("in-flight lock is never poisoned")
                    .insert(id.clone());
            }
            let Err(e) = self.post_to(&url, &msg).await else {
                return;
            };
            let was_waiting = request_id.as_ref().is_some_and(|id| {
                self.in_flight
                    .lock()
                    .expect("in-flight lock is never poisoned")
                    .remove(id)
            });
            // The server forgot the session (it restarted, say) while the old stream still
            // looks open: open a new one, and send this message once more there.
            if matches!(e, Error::Status { status: 404, .. }) && !retried {
                retried = true;
                tracing::info!(
                    "the server no longer knows this session (HTTP 404); opening a new event stream"
                );
                if self.opened.load(Ordering::Acquire) == opened {
                    self.reopen.notify_one();
                    self.wake.notify_one();
                }
                if self.wait_reopened(opened).await {
                    continue;
                }
            }
            let Some(id) = &request_id else {
                return tracing::warn!(
                    method = msg.method(),
                    "could not deliver a message to the server: {e}"
                );
            };
            if was_waiting {
                self.conn.inbox.fail(id, &e).await;
            }
            return;
        }
    }

    /// Waits (within [`SEND_WAIT`]) for a stream opened after the `opened`-th one.
    async fn wait_reopened(&self, opened: u64) -> bool {
        let mut rx = self.endpoint.subscribe();
        let wait = rx.wait_for(|e| e.is_some() && self.opened.load(Ordering::Acquire) != opened);
        tokio::select! {
            biased;
            _ = self.dead.cancelled() => false,
            r = tokio::time::timeout(SEND_WAIT, wait) => matches!(r, Ok(Ok(_))),
        }
    }

    /// POSTs one message to the endpoint; the answer comes on the stream.
    async fn post_to(&self, url: &Url, msg: &Message) -> Result<(), Error> {
        tracing::debug!(method = msg.method(), id = ?msg.id(), "POST (HTTP+SSE)");
        let resp = tokio::select! {
            biased;
            _ = self.conn.stop.cancelled() => return Err(Error::ShuttingDown),
            r = self.conn.http.post(url, msg.as_str(), &[]) => r?,
        };
        if resp.status().is_success() {
            return Ok(());
        }
        Err(http::failure(resp).await)
    }

    /// The URL to post to. While the stream is down, a reconnect is asked for at once and
    /// the message waits for its outcome: the new endpoint, or an error as soon as that
    /// attempt fails (within [`SEND_WAIT`] for an attempt that hangs).
    async fn wait_endpoint(&self) -> Result<Url, Error> {
        let mut endpoint = self.endpoint.subscribe();
        if let Some(url) = endpoint.borrow().clone() {
            return Ok(url);
        }
        let mut failed = self.failed_attempts.subscribe();
        let seen = *failed.borrow_and_update();
        self.wake.notify_one();
        let outcome = async {
            tokio::select! {
                r = endpoint.wait_for(Option::is_some) => match r {
                    Ok(url) => Ok(url.clone().expect("waited for Some")),
                    Err(_) => Err(Error::Abandoned),
                },
                _ = failed.wait_for(|n| *n != seen) => Err(Error::StreamDown),
            }
        };
        tokio::select! {
            biased;
            _ = self.dead.cancelled() => Err(Error::Abandoned),
            r = tokio::time::timeout(SEND_WAIT, outcome) => r.unwrap_or(Err(Error::StreamDown)),
        }
    }

    /// Reads the stream for as long as the bridge runs, reopening it when it drops.
    async fn run(self: Arc<Self>, mut events: EventReader, mut cursor: Cursor) {
        loop {
            let ended = self.read(&mut events, &mut cursor).await;
            if self.conn.stop.is_cancelled() {
                return;
            }
            let cause = match ended {
                Err(e @ Error::CrossOriginEndpoint(_)) => return self.die(e).await,
                Ok(()) => {
                    tracing::info!("the server closed the event stream; reconnecting");
                    None
                }
                Err(e) => {
                    tracing::info!("{e}; reconnecting");
                    Some(Arc::new(e))
                }
            };
            self.endpoint.send_replace(None);
            self.fail_in_flight(|| Error::StreamLost(cause.clone()))
                .await;
            // A stream that ends is a failure until a message shows otherwise: a server that
            // accepts and drops streams at once is paced like one that refuses them.
            cursor.failures += 1;
            let mut last_attempt: Option<tokio::time::Instant> = None;
            loop {
                tokio::select! {
                    biased;
                    _ = self.conn.stop.cancelled() => return,
                    _ = self.wake.notified() => {
                        let since = last_attempt.map(|at| at.elapsed());
                        if let Some(rest) = since.and_then(|since| WAKE_GAP.checked_sub(since)) {
                            tokio::select! {
                                biased;
                                _ = self.conn.stop.cancelled() => return,
                                _ = tokio::time::sleep(rest) => {}
                            }
                        }
                        tracing::debug!("reconnecting at once for a message");
                    }
                    _ = tokio::time::sleep(cursor.delay()) => {}
                }
                last_attempt = Some(tokio::time::Instant::now());
                match open(&self.conn, &mut cursor).await {
                    Ok((new_events, url)) => {
                        events = new_events;
                        match self.replay_handshake(&url, &mut events, &mut cursor).await {
                            Ok(()) => {
                                self.opened.fetch_add(1, Ordering::AcqRel);
                                self.endpoint.send_replace(Some(url));
                                tracing::info!("event stream reopened");
                                break;
                            }
                            Err(e) => tracing::info!("handshake replay failed: {e}"),
                        }
                    }
                    Err(e @ Error::CrossOriginEndpoint(_)) => return self.die(e).await,
                    Err(e) => tracing::debug!("reconnect failed: {e}"),
                }
                cursor.failures += 1;
                self.failed_attempts.send_modify(|n| *n += 1);
            }
        }
    }

    /// Delivers events until the stream ends.
    async fn read(&self, events: &mut EventReader, cursor: &mut Cursor) -> Result<(), Error> {
        loop {
            let event = tokio::select! {
                biased;
                _ = self.conn.stop.cancelled() => return Ok(()),
                _ = self.reopen.notified() => return Err(Error::SessionExpired),
                e = events.next_event() => e?,
            };
            let Some(event) = event else { return Ok(()) };
            cursor.note(&event);
            if is_message(&event) {
                self.deliver(&event.data, events.take_held()).await;
            } else if event.event == "endpoint" {
                let url = resolve_endpoint(self.conn.http.url(), &event.data)?;
                self.endpoint.send_replace(Some(url));
            }
        }
    }

    async fn deliver(&self, data: &str, held: Held) {
        match self.conn.inbox.deliver_text(data, None, held).await {
            Ok(answered) => {
                let mut in_flight = self
                    .in_flight
                    .lock()
                    .expect("in-flight lock is never poisoned");
                for id in answered {
                    in_flight.remove(&id);
                }
            }
            Err(e) => tracing::warn!("dropping an invalid event from the server: {e}"),
        }
    }

    /// Sends the host's `initialize` and `notifications/initialized` again on a new stream,
    /// reading that stream until the private `initialize` is answered.
    async fn replay_handshake(
        &self,
        url: &Url,
        events: &mut EventReader,
        cursor: &mut Cursor,
    ) -> Result<(), Error> {
        let handshake = self.conn.handshake();
        let Some(initialize) = handshake.initialize else {
            return Ok(());
        };
        let id = self.conn.inbox.internal_id("reinit");
        let mut answer = self.conn.inbox.watch(&id, false);
        self.post_to(url, &initialize.with_id(&id)).await?;
        let deadline = tokio::time::sleep(HANDSHAKE_TIMEOUT);
        tokio::pin!(deadline);
        loop {
            let event = tokio::select! {
                biased;
                reply = &mut answer => {
                    let reply = reply.map_err(|_| Error::HandshakeUnanswered)?;
                    if reply.kind() == Kind::Error {
                        return Err(Error::HandshakeRefused(reply.as_str().to_owned()));
                    }
                    break;
                }
                _ = &mut deadline => return Err(Error::HandshakeUnanswered),
                e = events.next_event() => e?,
            };
            let Some(event) = event else {
                return Err(Error::HandshakeUnanswered);
            };
            cursor.note(&event);
            if is_message(&event) {
                self.deliver(&event.data, events.take_held()).await;
            }
        }
        if let Some(initialized) = handshake.initialized {
            self.post_to(url, &initialized).await?;
        }
        Ok(())
    }

    async fn fail_in_flight(&self, error: impl Fn() -> Error) {
        let ids: Vec<Id> = self
            .in_flight
            .lock()
            .expect("in-flight lock is never poisoned")
            .drain()
            .collect();
        for id in ids {
            self.conn.inbox.fail(&id, &error()).await;
        }
    }

    async fn die(&self, e: Error) {
        tracing::error!("{e}");
        self.endpoint.send_replace(None);
        self.fail_in_flight(|| Error::Abandoned).await;
        *self.fatal.lock().expect("fatal lock is never poisoned") = Some(e);
        self.dead.cancel();
    }
}

/// Opens the event stream and reads up to the `endpoint` event. Messages that come first
/// are delivered; a stream without an endpoint is an error.
async fn open(conn: &Connection, cursor: &mut Cursor) -> Result<(EventReader, Url), Error> {
    let mut headers = Vec::new();
    if let Some(last) = cursor
        .last_event_id
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        headers.push((LAST_EVENT_ID, last));
    }
    let http = &conn.http;
    let resp = http.get_stream(http.url(), &headers).await?;
    if !resp.status().is_success() {
        return Err(http::failure(resp).await);
    }
    let media = crate::net::media_type(&resp);
    if media != "text/event-stream" {
        return Err(Error::ContentType(media));
    }
    let mut events = http.events(resp);
    let endpoint = tokio::time::timeout(ENDPOINT_TIMEOUT, async {
        loop {
            let Some(event) = events.next_event().await? else {
                return Err(Error::NoEndpoint);
            };
            cursor.note(&event);
            if event.event == "endpoint" {
                return resolve_endpoint(http.url(), &event.data);
            }
            if is_message(&event)
                && let Err(e) = conn
                    .inbox
                    .deliver_text(&event.data, None, events.take_held())
                    .await
            {
                tracing::warn!("dropping an invalid event from the server: {e}");
            }
        }
    })
    .await
    .map_err(|_| Error::EndpointTimeout)??;
    tracing::debug!(endpoint = %endpoint::for_log(&endpoint), "HTTP+SSE endpoint");
    Ok((events, endpoint))
}

/// Resolves the `endpoint` event's data against the stream URL; it must keep the origin.
fn resolve_endpoint(base: &Url, data: &str) -> Result<Url, Error> {
    let url = base
        .join(data.trim())
        .map_err(|e| Error::Protocol(format!("the endpoint event is not a URL ({e})")))?;
    if !endpoint::same_origin(base, &url) {
        return Err(Error::CrossOriginEndpoint(endpoint::for_log(&url)));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative and absolute endpoints resolve; another origin is refused.
    #[test]
    fn endpoint_must_keep_the_origin() {
        let base = Url::parse("https://h.example/sse?x=1").unwrap();
        assert_eq!(
            resolve_endpoint(&base, "/messages?sessionId=a")
                .unwrap()
                .as_str(),
            "https://h.example/messages?sessionId=a"
        );
        assert_eq!(
            resolve_endpoint(&base, "https://h.example/m")
                .unwrap()
                .as_str(),
            "https://h.example/m"
        );
        for evil in [
            "https://evil.example/m",
            "//evil.example/m",
            "http://h.example/m",
            "https://h.example:444/m",
        ] {
            assert!(
                matches!(
                    resolve_endpoint(&base, evil),
                    Err(Error::CrossOriginEndpoint(_))
                ),
                "{evil}"
            );
        }
    }
}
