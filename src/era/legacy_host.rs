//! A host of the `initialize` era on a 2026-07-28 server.
//!
//! The bridge answers `initialize`, `ping` and `logging/setLevel` itself (from the server's
//! DiscoverResult), adds the host's identity as `_meta` to every request, and turns "input
//! required" results into ordinary requests to the host (elicitation, sampling, roots),
//! retrying the call with its answers and replying under the host's own id. One
//! `subscriptions/listen` stream stands in for the GET stream: it carries the list-changed
//! notifications the server offers and the resources the host subscribed to.

use super::{Error, deliver_answer, shapes};
use crate::jsonrpc::{Id, Kind, Message};
use crate::mcp::{MODERN_VERSION, MRTR_METHODS};
use crate::transport::{self, Cursor, Modern};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// "Input required" rounds for one request before the bridge gives up.
const MAX_INPUT_ROUNDS: usize = 8;

/// The translation for one legacy host.
pub(super) struct LegacyHost {
    modern: Arc<Modern>,
    /// What the host said about itself; every request's `_meta`.
    host: Mutex<shapes::HostIdentity>,
    /// The bridge's own requests to the host (input requests), waiting for answers.
    asked: Mutex<HashMap<Id, oneshot::Sender<Message>>>,
    /// The host's notification subscriptions, served by one `subscriptions/listen`.
    subscriptions: Mutex<Subscriptions>,
}

/// What the host subscribed to, and the listen stream serving it.
#[derive(Default)]
struct Subscriptions {
    /// The server's capabilities, from `server/discover`: which list-changed notifications
    /// it offers, and whether it takes resource subscriptions.
    capabilities: Value,
    /// URIs from the host's `resources/subscribe`.
    resources: BTreeSet<String>,
    /// Cancels the current listen stream.
    current: Option<CancellationToken>,
}

impl LegacyHost {
    pub(super) fn new(modern: Arc<Modern>, host: shapes::HostIdentity) -> Arc<Self> {
        Arc::new(LegacyHost {
            modern,
            host: Mutex::new(host),
            asked: Mutex::new(HashMap::new()),
            subscriptions: Mutex::new(Subscriptions::default()),
        })
    }

    fn host(&self) -> shapes::HostIdentity {
        self.host
            .lock()
            .expect("host lock is never poisoned")
            .clone()
    }

    /// Answers the host's `initialize` from the server's DiscoverResult.
    pub(super) async fn answer_initialize(&self, msg: &Message, discovered: &Value) {
        let Some(id) = msg.id() else { return };
        let host = self.host();
        let name = self
            .modern
            .url()
            .host_str()
            .unwrap_or("mcp-server")
            .to_owned();
        let result = shapes::initialize_result(discovered, &host, &name);
        self.subscriptions
            .lock()
            .expect("subscription lock is never poisoned")
            .capabilities = discovered.get("capabilities").cloned().unwrap_or(json!({}));
        tracing::info!(
            "the server speaks MCP {MODERN_VERSION}; translating for a host that speaks {}",
            host.requested_version
        );
        self.modern
            .inbox()
            .deliver(Message::success(id, &result))
            .await;
    }

    /// Handles one message from the host.
    pub(super) async fn send(self: &Arc<Self>, msg: Message) {
        match msg.kind() {
            Kind::Result | Kind::Error => {
                // Only answers to the bridge's own input requests; a modern server takes none.
                let waiter = msg.id().and_then(|id| {
                    self.asked
                        .lock()
                        .expect("asked lock is never poisoned")
                        .remove(id)
                });
                match waiter {
                    Some(tx) => {
                        let _ = tx.send(msg);
                    }
                    None => {
                        tracing::debug!(id = ?msg.id(), "dropping a response: a 2026-07-28 server takes none")
                    }
                }
            }
            Kind::Notification => match msg.method() {
                Some("notifications/cancelled") => self.modern.cancel(&msg),
                // Where a legacy session would open its GET stream.
                Some("notifications/initialized") => self.relisten(),
                method => tracing::debug!(
                    method,
                    "not forwarding a notification: a 2026-07-28 server takes none over HTTP"
                ),
            },
            Kind::Request => {
                if let Some(answer) = self.answer_locally(&msg) {
                    self.modern.inbox().deliver(answer).await;
                    return;
                }
                let me = self.clone();
                self.modern.spawn(async move { me.exchange(msg).await });
            }
        }
    }

    /// The requests that have no 2026-07-28 counterpart: answered here.
    fn answer_locally(self: &Arc<Self>, msg: &Message) -> Option<Message> {
        let id = msg.id()?;
        let method = msg.method()?;
        let param = |name: &str| {
            msg.params::<Value>()
                .and_then(|p| p.get(name)?.as_str().map(str::to_owned))
        };
        match method {
            "ping" => {}
            "resources/subscribe" | "resources/unsubscribe" => {
                if let Some(uri) = param("uri") {
                    let mut subs = self
                        .subscriptions
                        .lock()
                        .expect("subscription lock is never poisoned");
                    if method == "resources/subscribe" {
                        subs.resources.insert(uri);
                    } else {
                        subs.resources.remove(&uri);
                    }
                }
                self.relisten();
            }
            "logging/setLevel" => self
                .host
                .lock()
                .expect("host lock is never poisoned")
                .set_log_level(param("level")),
            "initialize" => {
                // A second initialize (a host reconnecting): the session stands as it is.
                let e = Error::AlreadyInitialized;
                return Some(Message::error(id, e.code(), &e.to_string()));
            }
            _ => return None,
        }
        Some(Message::success(id, &json!({})))
    }

    /// Sends one host request, running "input required" rounds, and delivers exactly one
    /// answer under the host's id.
    async fn exchange(self: Arc<Self>, msg: Message) {
        let host_id = msg.id().expect("requests have ids").clone();
        let cancel = self.modern.track(&host_id);
        let answer = self.answer(&msg, &cancel).await;
        self.modern.untrack(&host_id);
        deliver_answer(self.modern.inbox(), &host_id, answer).await;
    }

    async fn answer(&self, msg: &Message, cancel: &CancellationToken) -> Result<Message, Error> {
        let method = msg.method().unwrap_or_default();
        let original = shapes::with_meta(msg, &self.host().meta(MODERN_VERSION));
        let mut request = original.clone();
        for _ in 0..MAX_INPUT_ROUNDS {
            let answer = self.modern.call(&request, cancel).await?;
            let input = MRTR_METHODS
                .contains(&method)
                .then(|| answer.result::<Value>())
                .flatten()
                .and_then(|r| shapes::input_required(&r));
            let Some(input) = input else {
                if let Some(other) = shapes::incomplete_result_type(&answer) {
                    return Err(Error::ResultType(other));
                }
                return Ok(answer);
            };
            let responses = self.ask_host(input.requests, cancel).await?;
            let retry_id = self.modern.inbox().internal_id("retry");
            request = shapes::retry_request(&original, &retry_id, responses, input.state.as_ref());
        }
        Err(Error::TooManyInputRounds(MAX_INPUT_ROUNDS))
    }

    /// Sends the input requests to the host and collects its answers.
    async fn ask_host(
        &self,
        requests: Map<String, Value>,
        cancel: &CancellationToken,
    ) -> Result<Map<String, Value>, Error> {
        let inbox = self.modern.inbox();
        let mut pending = Vec::new();
        for (key, request) in requests {
            let method = request
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let mut params = request.get("params").cloned().unwrap_or(json!({}));
            if method == "elicitation/create"
                && params.get("mode").and_then(Value::as_str) == Some("url")
                && params.get("elicitationId").is_none()
            {
                // Older hosts require an id for URL elicitations; the server has none to give.
                params["elicitationId"] =
                    json!(format!("mcp-bridge-{}", inbox.internal_id("elicitation")));
            }
            let id = inbox.internal_id("input");
            let (tx, rx) = oneshot::channel();
            self.asked
                .lock()
                .expect("asked lock is never poisoned")
                .insert(id.clone(), tx);
            inbox
                .deliver(Message::request(&id, &method, Some(&params)))
                .await;
            pending.push((key, id, rx));
        }
        let mut responses = Map::new();
        let mut pending = pending.into_iter();
        while let Some((key, id, rx)) = pending.next() {
            let reply = tokio::select! {
                biased;
                _ = cancel.cancelled() => Err(Error::Transport(if self.modern.is_open() {
                    transport::Error::Cancelled
                } else {
                    transport::Error::ShuttingDown
                })),
                r = rx => r.map_err(|_| Error::HostSilent),
            };
            let result = reply.and_then(|reply| {
                reply.result::<Value>().ok_or_else(|| {
                    let error = reply
                        .error_object()
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    Error::NoInput(error)
                })
            });
            match result {
                Ok(result) => {
                    responses.insert(key, result);
                }
                Err(e) => {
                    // The answers still outstanding are no longer wanted: tell the host.
                    let unanswered = std::iter::once(id).chain(pending.map(|(_, id, _)| id));
                    self.abandon_input(unanswered).await;
                    return Err(e);
                }
            }
        }
        Ok(responses)
    }

    /// Withdraws input requests the bridge no longer waits for: forgets them, and sends the
    /// host `notifications/cancelled` for those it has not answered yet.
    async fn abandon_input(&self, ids: impl Iterator<Item = Id>) {
        for id in ids {
            let outstanding = self
                .asked
                .lock()
                .expect("asked lock is never poisoned")
                .remove(&id)
                .is_some();
            // At shutdown nobody is listening any more.
            if !outstanding || !self.modern.is_open() {
                continue;
            }
            let cancel = Message::cancelled(&id, "the request that needed this input ended");
            self.modern.inbox().deliver(cancel).await;
        }
    }

    /// (Re)opens the `subscriptions/listen` stream that stands in for the GET stream: the
    /// list-changed notifications the server offers, and the resources the host subscribed
    /// to. With nothing to listen for, no stream is kept.
    fn relisten(self: &Arc<Self>) {
        let (filter, token) = {
            let mut subs = self
                .subscriptions
                .lock()
                .expect("subscription lock is never poisoned");
            if let Some(old) = subs.current.take() {
                old.cancel();
            }
            let offers = |kind: &str| {
                subs.capabilities
                    .get(kind)
                    .and_then(|k| k.get("listChanged"))
                    .and_then(Value::as_bool)
                    == Some(true)
            };
            let mut filter = Map::new();
            for (kind, key) in [
                ("tools", "toolsListChanged"),
                ("prompts", "promptsListChanged"),
                ("resources", "resourcesListChanged"),
            ] {
                if offers(kind) {
                    filter.insert(key.into(), json!(true));
                }
            }
            if !subs.resources.is_empty() {
                filter.insert(
                    "resourceSubscriptions".into(),
                    json!(subs.resources.iter().collect::<Vec<_>>()),
                );
            }
            if filter.is_empty() {
                return;
            }
            let token = self.modern.child_token();
            subs.current = Some(token.clone());
            (filter, token)
        };
        let me = self.clone();
        self.modern
            .spawn(async move { me.listen(filter, token).await });
    }

    /// Keeps one listen stream open; its notifications go to the host.
    async fn listen(&self, filter: Map<String, Value>, token: CancellationToken) {
        let mut cursor = Cursor::default();
        loop {
            let id = self.modern.inbox().internal_id("listen");
            let params =
                json!({"notifications": filter, "_meta": self.host().meta(MODERN_VERSION)});
            let request = Message::request(&id, "subscriptions/listen", Some(&params));
            match self.modern.call(&request, &token).await {
                Ok(_) => return tracing::debug!("the server ended the subscription"),
                Err(e) if token.is_cancelled() => {
                    return tracing::debug!("subscription closed: {e}");
                }
                Err(e) if e.has_status(&[404, 405]) => {
                    return tracing::info!(
                        "the server offers no subscriptions; list changes will not be announced"
                    );
                }
                Err(e) => tracing::debug!("subscription stream ended ({e}); listening again"),
            }
            cursor.failures += 1;
            tokio::select! {
                _ = token.cancelled() => return,
                _ = tokio::time::sleep(cursor.delay()) => {}
            }
        }
    }

    /// Ends the translation: the listen stream and every request in flight stop.
    pub(super) fn close(&self) {
        if let Some(token) = self
            .subscriptions
            .lock()
            .expect("subscription lock is never poisoned")
            .current
            .take()
        {
            token.cancel();
        }
        self.modern.close();
    }
}
