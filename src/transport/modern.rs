//! Streamable HTTP as 2026-07-28 servers speak it, and the translation for hosts of the
//! older, `initialize`-based era.
//!
//! One POST per request, with `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and the
//! `Mcp-Param-*` headers the tool declares; no session, no GET stream, no resume. Closing an
//! answer stream cancels the request. Tools with invalid header declarations are hidden.
//!
//! For a legacy host the bridge also: answers `initialize`, `ping` and `logging/setLevel`
//! itself, adds `_meta` to every request, and turns "input required" results into ordinary
//! requests to the host, retrying with its answers and replying under the host's own id.

use super::http::{auth_required, excerpt, media_type, read_body};
use super::stream::EventReader;
use super::{Error, Shared};
use crate::jsonrpc::{Id, Kind, Message};
use crate::modern::headers::{self, ToolHeaders};
use crate::modern::{self, HostIdentity, ProbeAnswer};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// "Input required" rounds for one request before the bridge gives up.
const MAX_INPUT_ROUNDS: usize = 8;
/// Largest error body read.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Pages of `tools/list` the bridge reads on its own to learn tool schemas.
const MAX_LIST_PAGES: usize = 32;

/// What a probe with `server/discover` found.
pub(crate) enum Probe {
    Modern(Value),
    Legacy,
}

/// Asks the server whether it speaks 2026-07-28, with `meta` as the request's `_meta`.
/// Authorization challenges are handled like any request's.
pub(crate) async fn probe(shared: &Arc<Shared>, meta: &Map<String, Value>) -> Result<Probe, Error> {
    // The probe asks about the version the bridge speaks, whatever version a modern host put
    // in its own `_meta`: accepting or refusing that one is the server's business, and its
    // answer reaches the host.
    let version = modern::MODERN_VERSION.to_owned();
    let mut meta = meta.clone();
    meta.insert(modern::META_VERSION.into(), json!(version));
    let meta = &meta;
    // A server may refuse the first attempt with "unsupported version" even for a version it
    // lists; one retry settles it.
    for _ in 0..2 {
        let request = modern::discover_request(&shared.internal_id("discover"), meta);
        let (status, reply) = post_plain(shared, &request, &version).await?;
        match modern::classify_probe(status, reply.as_ref()) {
            ProbeAnswer::Modern(result) => return Ok(Probe::Modern(result)),
            ProbeAnswer::Retry(v) if v == version => continue,
            ProbeAnswer::Retry(_) | ProbeAnswer::Legacy => return Ok(Probe::Legacy),
        }
    }
    Ok(Probe::Legacy)
}

/// POSTs one request and returns the status and the JSON-RPC answer, if there was one.
async fn post_plain(
    shared: &Arc<Shared>,
    request: &Message,
    version: &str,
) -> Result<(u16, Option<Value>), Error> {
    let mut rounds = 0;
    loop {
        shared.http.prepare().await;
        let sent = shared.http.token();
        let resp = modern_post(shared, request, version, &[])
            .send()
            .await
            .map_err(Error::from_reqwest)?;
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            let e = auth_required(&resp);
            if shared.http.reauthorize(&e, sent, &mut rounds).await? {
                continue;
            }
            return Err(e);
        }
        let media = media_type(&resp);
        let reply = if media == "text/event-stream" {
            first_response(resp, shared.http.max_message).await
        } else {
            let body = read_body(resp, shared.http.max_message)
                .await
                .unwrap_or_default();
            serde_json::from_slice::<Value>(&body).ok()
        };
        return Ok((status, reply));
    }
}

/// The first response message on an event stream (for the probe).
async fn first_response(resp: reqwest::Response, limit: usize) -> Option<Value> {
    let mut events = EventReader::new(resp, limit);
    while let Ok(Some(event)) = events.next_event().await {
        if let Ok(v) = serde_json::from_str::<Value>(&event.data)
            && (v.get("result").is_some() || v.get("error").is_some())
        {
            return Some(v);
        }
    }
    None
}

/// The JSON-RPC error code of an answer, if it is an error.
fn error_code(answer: &Message) -> Option<i64> {
    answer.field::<Value>("error")?.get("code")?.as_i64()
}

/// A legacy host knows only complete results. Any other result type (an input request the
/// bridge does not run for this method, or an extension) would be misread as one.
fn complete_for_legacy_host(answer: &Message) -> Result<(), Error> {
    let kind = answer
        .field::<Value>("result")
        .and_then(|r| r.get("resultType")?.as_str().map(str::to_owned));
    match kind.as_deref() {
        None | Some("complete") => Ok(()),
        Some(other) => Err(Error::Protocol(format!(
            "the server answered with result type {other:?}, which the host's protocol version does not have"
        ))),
    }
}

/// A POST of a modern request with every header the body implies. `MCP-Protocol-Version`
/// repeats the body's `_meta` version (a modern host's own, passed through); `version` is
/// for bodies without one.
fn modern_post(
    shared: &Shared,
    request: &Message,
    version: &str,
    params: &[(String, String)],
) -> reqwest::RequestBuilder {
    let method = request.method().unwrap_or_default();
    let body_version = modern::modern_version_of(request);
    let version = body_version.as_deref().unwrap_or(version);
    let mut req = shared
        .http
        .post_json(&shared.http.url, request.as_str().to_owned())
        .header("mcp-protocol-version", version)
        .header("mcp-method", method);
    let body_params: Option<Value> = request.field("params");
    if let Some(name) = headers::name_of(method, body_params.as_ref()) {
        req = req.header("mcp-name", headers::encode_value(&name));
    }
    for (name, value) in params {
        req = req.header(name.as_str(), value.as_str());
    }
    req
}

/// A connection to a modern server.
pub(crate) struct ModernLink {
    shared: Arc<Shared>,
    version: String,
    /// Set when the host speaks the legacy protocol: the bridge translates.
    host: Mutex<Option<HostIdentity>>,
    tools: ToolHeaders,
    /// Host requests in flight, to cancel by closing their stream.
    in_flight: Mutex<HashMap<Id, CancellationToken>>,
    /// The bridge's own requests to the host (input requests), waiting for answers.
    asked: Mutex<HashMap<Id, oneshot::Sender<Message>>>,
    /// The legacy host's notification subscriptions, served by one `subscriptions/listen`.
    listen: Mutex<Listen>,
    tasks: TaskTracker,
}

/// What a legacy host subscribed to, and the listen stream serving it.
#[derive(Default)]
struct Listen {
    /// The server's capabilities, from `server/discover`: which list-changed notifications it
    /// offers, and whether it takes resource subscriptions.
    capabilities: Value,
    /// URIs from the host's `resources/subscribe`.
    resources: std::collections::BTreeSet<String>,
    /// Cancels the current listen stream.
    current: Option<CancellationToken>,
}

impl ModernLink {
    pub(crate) fn new(
        shared: Arc<Shared>,
        version: String,
        host: Option<HostIdentity>,
    ) -> Arc<Self> {
        Arc::new(ModernLink {
            shared,
            version,
            host: Mutex::new(host),
            tools: ToolHeaders::default(),
            in_flight: Mutex::new(HashMap::new()),
            asked: Mutex::new(HashMap::new()),
            listen: Mutex::new(Listen::default()),
            tasks: TaskTracker::new(),
        })
    }

    fn legacy_host(&self) -> bool {
        self.host
            .lock()
            .expect("host lock is never poisoned")
            .is_some()
    }

    /// Answers a legacy host's `initialize` from the server's DiscoverResult.
    pub(crate) async fn answer_initialize(&self, msg: &Message, discovered: &Value) {
        let Some(id) = msg.id() else { return };
        let host = self
            .host
            .lock()
            .expect("host lock is never poisoned")
            .clone();
        let Some(host) = host else { return };
        let name = self
            .shared
            .http
            .url
            .host_str()
            .unwrap_or("mcp-server")
            .to_owned();
        let result = modern::initialize_result(discovered, &host, &name);
        self.listen
            .lock()
            .expect("listen lock is never poisoned")
            .capabilities = discovered.get("capabilities").cloned().unwrap_or(json!({}));
        tracing::info!(
            "the server speaks MCP {}; translating for a host that speaks {}",
            self.version,
            host.requested_version
        );
        self.shared
            .inbox
            .deliver(Message::result_response(id, &result))
            .await;
    }

    /// (Re)opens the `subscriptions/listen` stream that stands in for a legacy host's GET
    /// stream: the list-changed notifications the server offers, and the resources the host
    /// subscribed to. With nothing to listen for, no stream is kept.
    fn relisten(self: &Arc<Self>) {
        let (filter, token) = {
            let mut listen = self.listen.lock().expect("listen lock is never poisoned");
            if let Some(old) = listen.current.take() {
                old.cancel();
            }
            let caps = &listen.capabilities;
            let offers = |kind: &str| {
                caps.pointer(&format!("/{kind}/listChanged"))
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
            if !listen.resources.is_empty() {
                filter.insert(
                    "resourceSubscriptions".into(),
                    json!(listen.resources.iter().collect::<Vec<_>>()),
                );
            }
            if filter.is_empty() {
                return;
            }
            let token = CancellationToken::new();
            listen.current = Some(token.clone());
            (filter, token)
        };
        let me = self.clone();
        self.tasks
            .spawn(async move { me.listen(filter, token).await });
    }

    /// Keeps one listen stream open; its notifications go to the host.
    async fn listen(&self, filter: Map<String, Value>, token: CancellationToken) {
        let Some(host) = self
            .host
            .lock()
            .expect("host lock is never poisoned")
            .clone()
        else {
            return;
        };
        let mut cursor = super::stream::Cursor::default();
        loop {
            let id = self.shared.internal_id("listen");
            let params = json!({"notifications": filter, "_meta": host.meta(&self.version)});
            let text = format!(
                r#"{{"jsonrpc":"2.0","id":{},"method":"subscriptions/listen","params":{params}}}"#,
                id.as_json()
            );
            let request = Message::parse(&text).expect("a listen request is a valid request");
            match self.round_trip(&request, &[], &token).await {
                Ok(_) => return tracing::debug!("the server ended the subscription"),
                Err(e) if token.is_cancelled() || self.shared.shutdown.is_cancelled() => {
                    return tracing::debug!("subscription closed: {e}");
                }
                Err(Error::Status {
                    status: 404 | 405, ..
                }) => {
                    return tracing::info!(
                        "the server offers no subscriptions; list changes will not be announced"
                    );
                }
                Err(e) => tracing::debug!("subscription stream ended ({e}); listening again"),
            }
            cursor.failures += 1;
            tokio::select! {
                _ = token.cancelled() => return,
                _ = self.shared.shutdown.cancelled() => return,
                _ = tokio::time::sleep(cursor.delay()) => {}
            }
        }
    }

    /// Handles one message from the host.
    pub(crate) async fn send(self: &Arc<Self>, msg: Message) {
        if msg.is_response() {
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
            return;
        }
        let method = msg.method().unwrap_or_default().to_owned();
        if msg.kind() == Kind::Notification {
            if method == "notifications/cancelled" {
                self.cancel(&msg);
            } else if method == "notifications/initialized" && self.legacy_host() {
                // Where a legacy session would open its GET stream.
                self.relisten();
            } else {
                tracing::debug!(
                    method,
                    "not forwarding a notification: a 2026-07-28 server takes none over HTTP"
                );
            }
            return;
        }
        if self.legacy_host() && self.answer_locally(&msg, &method).await {
            return;
        }
        let me = self.clone();
        self.tasks.spawn(async move { me.exchange(msg).await });
    }

    /// The legacy requests that have no modern counterpart. Returns true when answered.
    async fn answer_locally(self: &Arc<Self>, msg: &Message, method: &str) -> bool {
        let id = msg.id().expect("requests have ids");
        let result = match method {
            "ping" => json!({}),
            "resources/subscribe" | "resources/unsubscribe" => {
                let uri = msg
                    .field::<Value>("params")
                    .and_then(|p| p.get("uri")?.as_str().map(str::to_owned));
                if let Some(uri) = uri {
                    let mut listen = self.listen.lock().expect("listen lock is never poisoned");
                    if method == "resources/subscribe" {
                        listen.resources.insert(uri);
                    } else {
                        listen.resources.remove(&uri);
                    }
                }
                self.relisten();
                json!({})
            }
            "logging/setLevel" => {
                let level = msg
                    .field::<Value>("params")
                    .and_then(|p| p.get("level")?.as_str().map(str::to_owned));
                if let Some(host) = self
                    .host
                    .lock()
                    .expect("host lock is never poisoned")
                    .as_mut()
                {
                    host.set_log_level(level);
                }
                json!({})
            }
            "initialize" => {
                // A second initialize (a host reconnecting): the same answer as the first.
                let e = Error::Protocol("the session is already initialized".into());
                self.shared.inbox.fail(id, &e).await;
                return true;
            }
            _ => return false,
        };
        self.shared
            .inbox
            .deliver(Message::result_response(id, &result))
            .await;
        true
    }

    fn cancel(&self, msg: &Message) {
        let params: Option<Value> = msg.field("params");
        let Some(request_id) = params.and_then(|p| p.get("requestId").cloned()) else {
            return;
        };
        let key =
            Message::parse(&json!({"jsonrpc":"2.0","id":request_id,"result":{}}).to_string()).ok();
        let token = key.as_ref().and_then(Message::id).and_then(|id| {
            self.in_flight
                .lock()
                .expect("in-flight lock is never poisoned")
                .get(id)
                .cloned()
        });
        if let Some(token) = token {
            tracing::debug!("cancelling a request by closing its stream");
            token.cancel();
        }
    }

    /// Sends one host request, running "input required" rounds for a legacy host, and
    /// delivers exactly one answer under the host's id.
    async fn exchange(self: Arc<Self>, msg: Message) {
        let host_id = msg.id().expect("requests have ids").clone();
        let cancel = CancellationToken::new();
        self.in_flight
            .lock()
            .expect("in-flight lock is never poisoned")
            .insert(host_id.clone(), cancel.clone());
        let answer = self.answer(&msg, &cancel).await;
        self.in_flight
            .lock()
            .expect("in-flight lock is never poisoned")
            .remove(&host_id);
        let answer = match answer {
            Ok(answer) => self.filter_tools(&msg, answer),
            Err(e) => Message::error_response(&host_id, e.code(), &e.to_string()),
        };
        let answer = if answer.id() == Some(&host_id) {
            answer
        } else {
            answer.with_id(&host_id)
        };
        self.shared.inbox.deliver(answer).await;
    }

    async fn answer(&self, msg: &Message, cancel: &CancellationToken) -> Result<Message, Error> {
        let host = self
            .host
            .lock()
            .expect("host lock is never poisoned")
            .clone();
        let method = msg.method().unwrap_or_default();
        let original = match &host {
            Some(host) => modern::with_meta(msg, &host.meta(&self.version)),
            None => msg.clone(),
        };
        let mut param_headers = self.param_headers(&original, cancel).await?;
        let mut request = original.clone();
        let mut relisted = false;
        for _ in 0..MAX_INPUT_ROUNDS {
            let mut answer = self.round_trip(&request, &param_headers, cancel).await?;
            if method == "tools/call"
                && !relisted
                && error_code(&answer) == Some(modern::HEADER_MISMATCH)
            {
                // The tool's header declarations changed since the bridge learned them: learn
                // them again and retry once (the specification's advice).
                relisted = true;
                let params: Value = original.field("params").unwrap_or(Value::Null);
                self.list_tools(&params, cancel).await;
                param_headers = self.param_headers(&original, cancel).await?;
                answer = self.round_trip(&request, &param_headers, cancel).await?;
            }
            let ir = (host.is_some() && modern::MRTR_METHODS.contains(&method))
                .then(|| answer.field::<Value>("result"))
                .flatten()
                .and_then(|r| modern::input_required(&r));
            let Some(ir) = ir else {
                if host.is_some() {
                    complete_for_legacy_host(&answer)?;
                }
                return Ok(answer);
            };
            let responses = self.ask_host(ir.requests, cancel).await?;
            request = modern::retry_request(
                &original,
                &self.shared.internal_id("retry"),
                responses,
                ir.state.as_ref(),
            );
        }
        Err(Error::Protocol(format!(
            "the server asked for input more than {MAX_INPUT_ROUNDS} times"
        )))
    }

    /// The `Mcp-Param-*` headers for a tool call; a call to a hidden tool is refused. A tool
    /// the bridge has not seen in a list yet (the host kept its list from an earlier
    /// session) has its schema fetched first.
    async fn param_headers(
        &self,
        request: &Message,
        cancel: &CancellationToken,
    ) -> Result<Vec<(String, String)>, Error> {
        if request.method() != Some("tools/call") {
            return Ok(Vec::new());
        }
        let params: Value = request.field("params").unwrap_or(Value::Null);
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !self.tools.knows(name) {
            self.list_tools(&params, cancel).await;
        }
        self.tools
            .headers_for(name, params.get("arguments"))
            .map_err(Error::Refused)
    }

    /// Lists the server's tools (every page) into the schema cache, with the protocol keys of
    /// `params._meta`. Best effort: on failure the call goes out without `Mcp-Param-*`
    /// headers and the server decides.
    async fn list_tools(&self, params: &Value, cancel: &CancellationToken) {
        let meta: Map<String, Value> = params
            .get("_meta")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.starts_with("io.modelcontextprotocol/"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut cursor: Option<Value> = None;
        for _ in 0..MAX_LIST_PAGES {
            let mut list_params = json!({ "_meta": meta });
            if let Some(cursor) = &cursor {
                list_params["cursor"] = cursor.clone();
            }
            let text = format!(
                r#"{{"jsonrpc":"2.0","id":{},"method":"tools/list","params":{list_params}}}"#,
                self.shared.internal_id("tools").as_json()
            );
            let request = Message::parse(&text).expect("a built tools/list is a valid request");
            tracing::debug!("listing tools to learn their header declarations");
            let result = match self.round_trip(&request, &[], cancel).await {
                Ok(answer) => answer.field::<Value>("result"),
                Err(e) => {
                    tracing::debug!("could not list the tools: {e}");
                    return;
                }
            };
            let Some(result) = result else { return };
            self.tools.filter_list(&result);
            cursor = result.get("nextCursor").filter(|c| !c.is_null()).cloned();
            if cursor.is_none() {
                return;
            }
        }
    }

    /// Hides tools with invalid header declarations from a `tools/list` answer.
    fn filter_tools(&self, request: &Message, answer: Message) -> Message {
        if request.method() != Some("tools/list") || answer.kind() != Kind::Result {
            return answer;
        }
        let Some(result) = answer.field::<Value>("result") else {
            return answer;
        };
        match self.tools.filter_list(&result) {
            Some(filtered) => {
                Message::result_response(answer.id().expect("results have ids"), &filtered)
            }
            None => answer,
        }
    }

    /// Sends the input requests to the host and collects its answers.
    async fn ask_host(
        &self,
        requests: Map<String, Value>,
        cancel: &CancellationToken,
    ) -> Result<Map<String, Value>, Error> {
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
                params["elicitationId"] = json!(format!(
                    "mcp-bridge-{}",
                    self.shared.internal_id("elicitation")
                ));
            }
            let id = self.shared.internal_id("input");
            let (tx, rx) = oneshot::channel();
            self.asked
                .lock()
                .expect("asked lock is never poisoned")
                .insert(id.clone(), tx);
            let text = format!(
                r#"{{"jsonrpc":"2.0","id":{},"method":{},"params":{}}}"#,
                id.as_json(),
                json!(method),
                params
            );
            let ask = Message::parse(&text).expect("an input request is a valid request");
            self.shared.inbox.deliver(ask).await;
            pending.push((key, id, rx));
        }
        let mut responses = Map::new();
        let mut pending = pending.into_iter();
        while let Some((key, id, rx)) = pending.next() {
            let reply = tokio::select! {
                biased;
                _ = cancel.cancelled() => Err(Error::Closed("the request was cancelled".into())),
                _ = self.shared.shutdown.cancelled() => Err(Error::Closed("the bridge is shutting down".into())),
                r = rx => r.map_err(|_| Error::Closed("the host did not answer".into())),
            };
            let result = reply.and_then(|reply| {
                reply.field::<Value>("result").ok_or_else(|| {
                    let error = reply
                        .field::<Value>("error")
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    Error::Closed(format!(
                        "the host could not provide the input the server asked for: {error}"
                    ))
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
            if !outstanding || self.shared.shutdown.is_cancelled() {
                continue;
            }
            let text = format!(
                r#"{{"jsonrpc":"2.0","method":"notifications/cancelled","params":{{"requestId":{},"reason":"the request that needed this input ended"}}}}"#,
                id.as_json()
            );
            let note = Message::parse(&text).expect("a built notification is a valid message");
            self.shared.inbox.deliver(note).await;
        }
    }

    /// One POST and its answer: JSON, or an event stream whose notifications go to the host.
    async fn round_trip(
        &self,
        request: &Message,
        params: &[(String, String)],
        cancel: &CancellationToken,
    ) -> Result<Message, Error> {
        let id = request.id().expect("requests have ids").clone();
        let mut rounds = 0;
        loop {
            self.shared.http.prepare().await;
            let sent = self.shared.http.token();
            tracing::debug!(method = request.method(), id = %id, "POST (2026-07-28)");
            let resp = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(Error::Closed("the request was cancelled".into())),
                _ = self.shared.shutdown.cancelled() => return Err(Error::Closed("the bridge is shutting down".into())),
                r = modern_post(&self.shared, request, &self.version, params).send() => r.map_err(Error::from_reqwest)?,
            };
            let status = resp.status();
            if status.as_u16() == 401 || status.as_u16() == 403 {
                let e = auth_required(&resp);
                if self.shared.http.reauthorize(&e, sent, &mut rounds).await? {
                    continue;
                }
                return Err(e);
            }
            if media_type(&resp) == "text/event-stream" && status.is_success() {
                return self.read_stream(resp, &id, cancel).await;
            }
            let body = read_body(
                resp,
                if status.is_success() {
                    self.shared.http.max_message
                } else {
                    ERROR_BODY_LIMIT
                },
            )
            .await?;
            let text = String::from_utf8_lossy(&body);
            return match Message::parse(&text) {
                Ok(answer)
                    if answer.is_response()
                        && (answer.id() == Some(&id) || answer.id().is_some_and(Id::is_null)) =>
                {
                    Ok(answer.with_id(&id))
                }
                _ if status.is_success() => Err(Error::Protocol(
                    "the reply did not answer the request".into(),
                )),
                _ => Err(Error::Status {
                    status: status.as_u16(),
                    body: excerpt(&body),
                }),
            };
        }
    }

    /// Reads an answer stream: notifications go to the host, the response comes back. A
    /// stream that ends without one loses the request (modern servers do not resume).
    async fn read_stream(
        &self,
        resp: reqwest::Response,
        id: &Id,
        cancel: &CancellationToken,
    ) -> Result<Message, Error> {
        let mut events = EventReader::new(resp, self.shared.http.max_message);
        loop {
            let event = tokio::select! {
                biased;
                // Dropping the stream is how a modern client cancels.
                _ = cancel.cancelled() => return Err(Error::Closed("the request was cancelled".into())),
                _ = self.shared.shutdown.cancelled() => return Err(Error::Closed("the bridge is shutting down".into())),
                e = events.next_event() => e?,
            };
            let Some(event) = event else {
                return Err(Error::Closed(
                    "the server closed the stream before answering".into(),
                ));
            };
            if event.data.is_empty() || event.kind() != "message" {
                continue;
            }
            match Message::parse(&event.data) {
                Ok(m) if m.is_response() && m.id() == Some(id) => return Ok(m),
                Ok(m) if m.is_response() => {
                    tracing::debug!(id = ?m.id(), "dropping an answer for another request")
                }
                Ok(m) if m.kind() == Kind::Request => {
                    tracing::warn!(
                        method = m.method(),
                        "a 2026-07-28 server sent a request on an answer stream; ignoring it"
                    );
                }
                Ok(m) if m.method() == Some("notifications/subscriptions/acknowledged") => {
                    tracing::debug!("subscription acknowledged");
                }
                Ok(m) => self.shared.inbox.deliver(m).await,
                Err(e) => tracing::warn!("dropping an invalid event from the server: {e}"),
            }
        }
    }

    /// Ends the connection: stops every request in flight.
    pub(crate) fn close(&self) {
        self.tasks.close();
        if let Some(token) = self
            .listen
            .lock()
            .expect("listen lock is never poisoned")
            .current
            .take()
        {
            token.cancel();
        }
        for token in self
            .in_flight
            .lock()
            .expect("in-flight lock is never poisoned")
            .values()
        {
            token.cancel();
        }
    }
}
