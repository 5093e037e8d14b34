//! Streamable HTTP as 2026-07-28 servers speak it.
//!
//! One POST per request, with `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and the
//! `Mcp-Param-*` headers the tool declares; no session, no GET stream, no resume. The answer
//! is JSON or an event stream whose notifications go to the host; closing the stream is how
//! a request is cancelled. Tools whose header declarations are invalid are hidden, and
//! calls to them refused, as the specification requires of every client.
//!
//! What a host of the `initialize` era needs on top of this (its handshake, `_meta`, "input
//! required" rounds) is the era layer's business, not this module's.

pub(crate) mod headers;

use super::events::is_message;
use super::http::{self, ERROR_BODY_LIMIT, METHOD, NAME, PROTOCOL_VERSION};
use super::{Error, Http, Inbox};
use crate::budget::{Held, Share};
use crate::jsonrpc::{Id, Kind, Message};
use crate::mcp;
use crate::net;
use headers::ToolHeaders;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Pages of `tools/list` the bridge reads on its own to learn tool schemas.
const MAX_LIST_PAGES: usize = 32;

/// A connection to a 2026-07-28 server.
pub(crate) struct Modern {
    http: Arc<Http>,
    inbox: Inbox,
    tools: ToolHeaders,
    /// Requests in flight by the id the host knows them by, to cancel by closing their
    /// stream.
    in_flight: Mutex<HashMap<Id, CancellationToken>>,
    /// Cancelled when the bridge shuts down.
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Modern {
    pub(crate) fn new(http: Arc<Http>, inbox: Inbox, stop: CancellationToken) -> Arc<Self> {
        Arc::new(Modern {
            http,
            inbox,
            tools: ToolHeaders::default(),
            in_flight: Mutex::new(HashMap::new()),
            stop,
            tasks: TaskTracker::new(),
        })
    }

    /// The channel to the host side.
    pub(crate) fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// The server URL.
    pub(crate) fn url(&self) -> &url::Url {
        self.http.url()
    }

    /// Runs `work` as a task of this connection (ended by [`Modern::close`]).
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(work);
    }

    /// Whether the connection is still up (not shutting down).
    pub(crate) fn is_open(&self) -> bool {
        !self.stop.is_cancelled()
    }

    /// A token that fires when the connection ends, or when cancelled itself.
    pub(crate) fn child_token(&self) -> CancellationToken {
        self.stop.child_token()
    }

    /// A token that cancels the request the host knows as `id`, until [`Modern::untrack`].
    pub(crate) fn track(&self, id: &Id) -> CancellationToken {
        let token = self.stop.child_token();
        self.in_flight
            .lock()
            .expect("in-flight lock is never poisoned")
            .insert(id.clone(), token.clone());
        token
    }

    pub(crate) fn untrack(&self, id: &Id) {
        self.in_flight
            .lock()
            .expect("in-flight lock is never poisoned")
            .remove(id);
    }

    /// A host's `notifications/cancelled`: the request it names is cancelled by closing its
    /// stream.
    pub(crate) fn cancel(&self, notification: &Message) {
        #[derive(serde::Deserialize)]
        struct Params {
            #[serde(rename = "requestId")]
            request_id: Box<serde_json::value::RawValue>,
        }
        let Some(id) = notification
            .params::<Params>()
            .and_then(|p| Id::from_raw(p.request_id.get()).ok())
        else {
            return;
        };
        let token = self
            .in_flight
            .lock()
            .expect("in-flight lock is never poisoned")
            .get(&id)
            .cloned();
        if let Some(token) = token {
            tracing::debug!("cancelling a request by closing its stream");
            token.cancel();
        }
    }

    /// Posts one request (no other handling) and returns the HTTP status and the first
    /// JSON-RPC answer in the reply, if there was one. For the era probe.
    pub(crate) async fn post_raw(
        &self,
        request: &Message,
    ) -> Result<(u16, Option<Message>), Error> {
        let resp = self.post(request, &[]).await?;
        let status = resp.status().as_u16();
        let answer = if net::media_type(&resp) == "text/event-stream" {
            let mut events = self.http.events(resp);
            let mut found = None;
            while let Ok(Some(event)) = events.next_event().await {
                if let Ok(m) = Message::parse(&event.data)
                    && m.is_response()
                {
                    found = Some(m);
                    break;
                }
            }
            found
        } else {
            let body = net::read_body(resp, self.http.max_message())
                .await
                .unwrap_or_default();
            Message::parse(&String::from_utf8_lossy(&body)).ok()
        };
        Ok((status, answer.filter(Message::is_response)))
    }

    /// Sends one request and returns its answer (under the request's id). Notifications the
    /// server sends meanwhile go to the host. A tool call carries the headers the tool
    /// declares (its schema is learned first if no list has named it), and is retried once
    /// with fresh declarations when the server says they no longer match. A `tools/list`
    /// answer comes back without the tools whose declarations are invalid.
    pub(crate) async fn call(
        &self,
        request: &Message,
        cancel: &CancellationToken,
    ) -> Result<Message, Error> {
        let mut param_headers = self.param_headers(request, cancel).await?;
        let mut answer = self.round_trip(request, &param_headers, cancel).await?;
        if request.method() == Some("tools/call")
            && answer.error_code() == Some(mcp::HEADER_MISMATCH)
        {
            // The tool's header declarations changed since the bridge learned them: learn
            // them again and retry once (the specification's advice).
            let params: Value = request.params().unwrap_or(Value::Null);
            self.list_tools(&params, cancel).await;
            param_headers = self.param_headers(request, cancel).await?;
            answer = self.round_trip(request, &param_headers, cancel).await?;
        }
        Ok(self.filter_tools(request, answer))
    }

    /// The `Mcp-Param-*` headers for a tool call; a call to a hidden tool is refused. A tool
    /// the bridge has not seen in a list yet (the host kept its list from an earlier
    /// session) has its schema fetched first.
    async fn param_headers(
        &self,
        request: &Message,
        cancel: &CancellationToken,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        if request.method() != Some("tools/call") {
            return Ok(Vec::new());
        }
        let params: Value = request.params().unwrap_or(Value::Null);
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !self.tools.knows(name) {
            self.list_tools(&params, cancel).await;
        }
        let pairs = self
            .tools
            .headers_for(name, params.get("arguments"))
            .map_err(|why| Error::HiddenTool {
                name: name.to_owned(),
                why,
            })?;
        Ok(pairs
            .into_iter()
            .filter_map(|(name, value)| {
                Some((
                    HeaderName::try_from(name).ok()?,
                    HeaderValue::try_from(value).ok()?,
                ))
            })
            .collect())
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
                    .filter(|(k, _)| k.starts_with(mcp::META_PROTOCOL_PREFIX))
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
            let id = self.inbox.internal_id("tools");
            let request = Message::request(&id, "tools/list", Some(&list_params));
            tracing::debug!("listing tools to learn their header declarations");
            let result = match self.round_trip(&request, &[], cancel).await {
                Ok(answer) => answer.result::<Value>(),
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
        let Some(result) = answer.result::<Value>() else {
            return answer;
        };
        match (self.tools.filter_list(&result), answer.id()) {
            (Some(filtered), Some(id)) => Message::success(id, &filtered),
            _ => answer,
        }
    }

    /// A POST of a request with every header its body implies. `MCP-Protocol-Version`
    /// repeats the body's `_meta` version (a host's own, passed through), else the bridge's.
    async fn post(
        &self,
        request: &Message,
        params: &[(HeaderName, HeaderValue)],
    ) -> Result<reqwest::Response, Error> {
        let method = request.method().unwrap_or_default();
        let body_params: Option<Value> = request.params();
        let version = body_params
            .as_ref()
            .and_then(|p| p.get("_meta")?.get(mcp::META_VERSION)?.as_str())
            .unwrap_or(mcp::MODERN_VERSION);
        let mut headers = Vec::with_capacity(3 + params.len());
        if let Some(v) = http::echo_value(version) {
            headers.push((PROTOCOL_VERSION, v));
        }
        if let Ok(m) = HeaderValue::from_str(method) {
            headers.push((METHOD, m));
        }
        if let Some(name) = headers::name_of(method, body_params.as_ref())
            .and_then(|n| HeaderValue::try_from(headers::encode_value(&n)).ok())
        {
            headers.push((NAME, name));
        }
        headers.extend(params.iter().cloned());
        self.http
            .post(self.http.url(), request.as_str(), &headers)
            .await
    }

    /// One POST and its answer: JSON, or an event stream whose notifications go to the host.
    async fn round_trip(
        &self,
        request: &Message,
        params: &[(HeaderName, HeaderValue)],
        cancel: &CancellationToken,
    ) -> Result<Message, Error> {
        let id = request.id().expect("requests have ids").clone();
        tracing::debug!(method = request.method(), id = %id, "POST (2026-07-28)");
        let resp = tokio::select! {
            biased;
            _ = self.stop.cancelled() => return Err(Error::ShuttingDown),
            _ = cancel.cancelled() => return Err(Error::Cancelled),
            r = self.post(request, params) => r?,
        };
        let status = resp.status();
        if http::is_event_stream(&resp) {
            return self.read_stream(resp, &id, cancel).await;
        }
        let (body, held) = if status.is_success() {
            self.http.read_body(resp).await?
        } else {
            (
                net::read_body(resp, ERROR_BODY_LIMIT).await?,
                Held::default(),
            )
        };
        let text = String::from_utf8_lossy(&body);
        match Message::parse(&text) {
            Ok(answer)
                if answer.is_response()
                    && (answer.id() == Some(&id) || answer.id().is_some_and(Id::is_null)) =>
            {
                let answer = answer.holding(Share::new(held));
                Ok(if answer.id() == Some(&id) {
                    answer
                } else {
                    answer.with_id(&id)
                })
            }
            _ if status.is_success() => Err(Error::Protocol(
                "the reply did not answer the request".into(),
            )),
            _ => Err(Error::Status {
                status: status.as_u16(),
                body: http::excerpt(&body),
            }),
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
        let mut events = self.http.events(resp);
        loop {
            let event = tokio::select! {
                biased;
                _ = self.stop.cancelled() => return Err(Error::ShuttingDown),
                // Dropping the stream is how a modern client cancels.
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                e = events.next_event() => e?,
            };
            let Some(event) = event else {
                return Err(Error::StreamEnded);
            };
            if !is_message(&event) {
                continue;
            }
            match Message::parse(&event.data) {
                Ok(m) if m.is_response() && m.id() == Some(id) => {
                    return Ok(m.holding(Share::new(events.take_held())));
                }
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
                Ok(m) => {
                    let m = m.holding(Share::new(events.take_held()));
                    self.inbox.deliver(m).await;
                }
                Err(e) => tracing::warn!("dropping an invalid event from the server: {e}"),
            }
        }
    }

    /// Ends the connection: every request in flight stops (the caller has cancelled the
    /// connection's stop token, which their streams watch).
    pub(crate) fn close(&self) {
        self.tasks.close();
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
