//! `ModernMock`: a scriptable MCP 2026-07-28 ("modern") server on 127.0.0.1:0.
//!
//! It validates every POST the way a strict 2026-07-28 server does (the version header and
//! `_meta` keys, `Mcp-Method`, `Mcp-Name`, the `Mcp-Param-*` headers its tools declare),
//! records every request with its headers and body, keeps a list of what it rejected, and
//! offers tools for the cases a bridge must translate: header mirroring, "input required"
//! rounds (MRTR), progress on an answer stream, and a slow call that notices when the client
//! closes its stream. It owns no sessions, no GET stream and no DELETE (both get 405).
//! Legacy servers are `MockMcp`'s business.

use super::mock::Recorded;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use bytes::Bytes;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The one protocol version this server speaks.
pub const VERSION: &str = "2026-07-28";
/// `_meta` keys of a modern request.
pub const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// Server behaviour; change fields before `start`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Refuse the very first POST, whatever it is, with 400 -32022 even though it asks for
    /// the supported version (the conformance suite's request-metadata scenario does this).
    pub reject_first: bool,
    /// Send every successful answer as a one-event stream instead of JSON.
    pub sse: bool,
    /// List the tools in two pages (the second behind a `nextCursor`).
    pub paginate: bool,
    /// Announce tools/list_changed and resource subscriptions, served by
    /// `subscriptions/listen`.
    pub subscriptions: bool,
    /// List one more tool, `moved`, whose header declaration changes right after the first
    /// `tools/list`: `Zone` in the first list, `Area` from then on.
    pub moving_header: bool,
}

/// A request the server refused, and why.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// The JSON-RPC method of the refused body (empty when it had none).
    pub method: String,
    pub status: u16,
    pub code: i64,
    pub message: String,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    rejections: Vec<Rejection>,
    /// JSON-RPC ids of calls whose answer stream the client closed before the answer.
    disconnected: Vec<Value>,
    rejected_first: bool,
    /// Open `subscriptions/listen` streams: the filter each asked for, and its sender.
    listens: Vec<(Value, mpsc::Sender<Bytes>)>,
    /// How many `tools/list` answers were given.
    lists: usize,
}

struct Shared {
    config: Config,
    inner: Mutex<Inner>,
}

/// A running modern server. Dropping it stops the server.
pub struct ModernMock {
    pub addr: SocketAddr,
    state: Arc<Shared>,
    _shutdown: oneshot::Sender<()>,
}

impl ModernMock {
    pub async fn start(config: Config) -> ModernMock {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        Self::start_on(listener, config)
    }

    /// Serves on a listener bound by the caller (on the address another server had, say).
    pub fn start_on(listener: tokio::net::TcpListener, config: Config) -> ModernMock {
        let addr = listener.local_addr().expect("bound socket has an address");
        let state = Arc::new(Shared {
            config,
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new()
            .route("/mcp", post(post_mcp).get(not_allowed).delete(not_allowed))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .with_state(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        ModernMock {
            addr,
            state,
            _shutdown: tx,
        }
    }

    /// The filters of the listen streams opened so far, oldest first.
    pub fn listen_filters(&self) -> Vec<Value> {
        self.state
            .inner
            .lock()
            .unwrap()
            .listens
            .iter()
            .map(|(f, _)| f.clone())
            .collect()
    }

    /// Sends a notification on every open listen stream; returns how many took it.
    pub async fn notify_listeners(&self, notification: Value) -> usize {
        let senders: Vec<_> = self
            .state
            .inner
            .lock()
            .unwrap()
            .listens
            .iter()
            .map(|(_, tx)| tx.clone())
            .collect();
        let mut sent = 0;
        for tx in senders {
            if tx.send(event(&notification)).await.is_ok() {
                sent += 1;
            }
        }
        sent
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.inner.lock().unwrap().requests.clone()
    }

    /// Requests whose JSON-RPC method is `method`.
    pub fn calls(&self, method: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.rpc_method() == Some(method))
            .collect()
    }

    /// `tools/call` requests for the tool `name`.
    pub fn tool_calls(&self, name: &str) -> Vec<Recorded> {
        self.calls("tools/call")
            .into_iter()
            .filter(|r| r.body["params"]["name"] == name)
            .collect()
    }

    /// The JSON-RPC methods received, in order.
    pub fn methods(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| r.rpc_method().unwrap_or("").to_owned())
            .collect()
    }

    /// Every request the server refused.
    pub fn rejections(&self) -> Vec<Rejection> {
        self.state.inner.lock().unwrap().rejections.clone()
    }

    /// Waits until the client has closed the answer stream of the call with this id.
    pub async fn wait_disconnect(&self, id: &Value) {
        for _ in 0..400 {
            if self.state.inner.lock().unwrap().disconnected.contains(id) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the client never closed the answer stream of call {id}");
    }
}

/// The tools this server lists: two with valid header declarations (one nested, integer),
/// the MRTR and streaming tools, and `broken`, whose declaration is on an object property
/// and so makes the whole tool invalid.
pub fn tools() -> Value {
    json!([
        {"name": "echo", "description": "Answers with the text; mirrors region and priority into headers",
         "inputSchema": {"type": "object", "properties": {
            "text": {"type": "string"},
            "region": {"type": "string", "x-mcp-header": "Region"},
            "options": {"type": "object", "properties": {
                "priority": {"type": "integer", "x-mcp-header": "Priority"}}}}}},
        {"name": "confirm", "description": "Asks the client to confirm, with request state",
         "inputSchema": {"type": "object"}},
        {"name": "confirm_stateless", "description": "Asks the client to confirm, without state",
         "inputSchema": {"type": "object"}},
        {"name": "progress", "description": "Reports progress on its stream, then answers",
         "inputSchema": {"type": "object"}},
        {"name": "slow", "description": "Answers after 30 s unless cancelled",
         "inputSchema": {"type": "object"}},
        {"name": "survey", "description": "Asks two questions, then one more, then answers",
         "inputSchema": {"type": "object"}},
        {"name": "vanish", "description": "Closes its answer stream without answering",
         "inputSchema": {"type": "object"}},
        {"name": "odd", "description": "Answers with a result type no client knows",
         "inputSchema": {"type": "object"}},
        {"name": "broken", "description": "Declares a header on an object: invalid",
         "inputSchema": {"type": "object", "properties": {
            "filter": {"type": "object", "x-mcp-header": "Filter"}}}},
    ])
}

/// The names of the tools a client may show: all but `broken`.
pub fn valid_tool_names() -> Vec<String> {
    tools()
        .as_array()
        .expect("tools are an array")
        .iter()
        .map(|t| t["name"].as_str().expect("tools have names").to_owned())
        .filter(|n| n != "broken")
        .collect()
}

/// The request state `confirm` sends for the call with this id: JSON with quotes, spaces
/// and non-ASCII text, which a client must echo byte for byte without parsing.
pub fn request_state(id: &Value) -> String {
    format!(r#"{{"nonce": "n°1 \"q\"", "originalId": {id}}}"#)
}

/// The `server/discover` result.
pub fn discover_result() -> Value {
    json!({
        "resultType": "complete",
        "supportedVersions": [VERSION],
        "capabilities": {"tools": {}},
        "instructions": "modern mock instructions",
        "ttlMs": 0,
        "cacheScope": "private",
        "_meta": {META_SERVER_INFO: {"name": "modern-mock", "version": "2.0.0"}},
    })
}

/// A header value as the server reads it: `=?base64?...?=` decoded, anything else as is.
pub fn decode_header(value: &str) -> Option<String> {
    match value
        .strip_prefix("=?base64?")
        .and_then(|v| v.strip_suffix("?="))
    {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(value.to_owned()),
    }
}

async fn not_allowed(
    State(state): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&state, method, &uri, &headers, &Value::Null);
    StatusCode::METHOD_NOT_ALLOWED.into_response()
}

fn record(state: &Shared, method: Method, uri: &Uri, headers: &HeaderMap, body: &Value) {
    state.inner.lock().unwrap().requests.push(Recorded {
        method,
        path: uri.to_string(),
        headers: headers.clone(),
        body: body.clone(),
    });
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn ok(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// Refuses a request: records why and answers with a JSON-RPC error.
fn reject(
    state: &Shared,
    body: &Value,
    status: StatusCode,
    code: i64,
    message: &str,
    data: Option<Value>,
) -> Response {
    state.inner.lock().unwrap().rejections.push(Rejection {
        method: body["method"].as_str().unwrap_or("").to_owned(),
        status: status.as_u16(),
        code,
        message: message.to_owned(),
    });
    let mut error = json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    let id = body.get("id").cloned().unwrap_or(Value::Null);
    (
        status,
        axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": error})),
    )
        .into_response()
}

/// What is wrong with a request's version header and `_meta`, as the specification orders
/// the checks.
fn check_version(
    headers: &HeaderMap,
    body: &Value,
) -> Result<(), (StatusCode, i64, String, Option<Value>)> {
    let bad = StatusCode::BAD_REQUEST;
    let Some(version) = header(headers, "mcp-protocol-version") else {
        return Err((
            bad,
            -32020,
            "missing MCP-Protocol-Version header".into(),
            None,
        ));
    };
    let meta = &body["params"]["_meta"];
    let Some(meta_version) = meta[META_VERSION].as_str() else {
        return Err((bad, -32602, format!("missing _meta {META_VERSION}"), None));
    };
    if !meta[META_CAPABILITIES].is_object() {
        return Err((
            bad,
            -32602,
            format!("missing _meta {META_CAPABILITIES}"),
            None,
        ));
    }
    if version != meta_version {
        return Err((
            bad,
            -32020,
            format!("MCP-Protocol-Version {version:?} differs from _meta {meta_version:?}"),
            None,
        ));
    }
    if version != VERSION {
        return Err((
            bad,
            -32022,
            "Unsupported protocol version".into(),
            Some(json!({"supported": [VERSION], "requested": version})),
        ));
    }
    Ok(())
}

/// The declaration of `moved`, as the server has it after `lists` list answers.
fn moved_tool(lists: usize) -> Value {
    let header = if lists <= 1 { "Zone" } else { "Area" };
    json!({"name": "moved", "description": "Its header declaration changes after the first list",
           "inputSchema": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": header}}}})
}

/// With `moving_header`, a call of `moved` must carry the header of the current declaration,
/// which is `Area` once the first list has been served.
fn check_moved_header(state: &Shared, headers: &HeaderMap, body: &Value) -> Result<(), String> {
    if !state.config.moving_header
        || body["method"] != "tools/call"
        || body["params"]["name"] != "moved"
    {
        return Ok(());
    }
    let zone = body["params"]["arguments"]["zone"]
        .as_str()
        .map(str::to_owned);
    match header(headers, "mcp-param-area").and_then(decode_header) {
        got if got == zone => Ok(()),
        got => Err(format!(
            "mcp-param-area is {got:?}, the arguments say {zone:?}"
        )),
    }
}

/// What is wrong with `Mcp-Method`, `Mcp-Name` and the `Mcp-Param-*` headers of a request.
fn check_headers(headers: &HeaderMap, body: &Value) -> Result<(), String> {
    let method = body["method"].as_str().unwrap_or("");
    if header(headers, "mcp-method") != Some(method) {
        return Err(format!(
            "Mcp-Method {:?} differs from the body's {method:?}",
            header(headers, "mcp-method")
        ));
    }
    let name_key = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    };
    if let Some(key) = name_key {
        let got = header(headers, "mcp-name").and_then(decode_header);
        if got.as_deref() != body["params"][key].as_str() {
            return Err(format!("Mcp-Name {got:?} differs from params.{key}"));
        }
    }
    if method == "tools/call" && body["params"]["name"] == "echo" {
        let args = &body["params"]["arguments"];
        let expected = [
            (
                "mcp-param-region",
                args["region"].as_str().map(str::to_owned),
            ),
            (
                "mcp-param-priority",
                args["options"]["priority"].as_i64().map(|n| n.to_string()),
            ),
        ];
        for (name, want) in expected {
            let got = header(headers, name).and_then(decode_header);
            if got != want {
                return Err(format!("{name} is {got:?}, the arguments say {want:?}"));
            }
        }
    }
    Ok(())
}

async fn post_mcp(
    State(state): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&state, Method::POST, &uri, &headers, &body);
    let first = {
        let mut inner = state.inner.lock().unwrap();
        !std::mem::replace(&mut inner.rejected_first, true)
    };
    if state.config.reject_first && first {
        let requested = header(&headers, "mcp-protocol-version")
            .unwrap_or("")
            .to_owned();
        return reject(
            &state,
            &body,
            StatusCode::BAD_REQUEST,
            -32022,
            "Unsupported protocol version",
            Some(json!({"supported": [VERSION], "requested": requested})),
        );
    }
    let (Some(id), Some(method)) = (body.get("id").cloned(), body["method"].as_str()) else {
        // A modern client sends only requests over HTTP: no notifications, no responses.
        return reject(
            &state,
            &body,
            StatusCode::BAD_REQUEST,
            -32600,
            "a 2026-07-28 server takes only requests over HTTP",
            None,
        );
    };
    if let Err((status, code, message, data)) = check_version(&headers, &body) {
        return reject(&state, &body, status, code, &message, data);
    }
    if let Err(message) =
        check_moved_header(&state, &headers, &body).and_then(|()| check_headers(&headers, &body))
    {
        return reject(
            &state,
            &body,
            StatusCode::BAD_REQUEST,
            -32020,
            &message,
            None,
        );
    }
    let params = &body["params"];
    match method {
        "server/discover" => {
            let mut result = discover_result();
            if state.config.subscriptions {
                result["capabilities"] =
                    json!({"tools": {"listChanged": true}, "resources": {"subscribe": true}});
            }
            respond(&state, ok(&id, result))
        }
        "subscriptions/listen" if state.config.subscriptions => {
            let (tx, rx) = mpsc::channel(16);
            let filter = params["notifications"].clone();
            let ack = json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": id}, "notifications": filter}});
            tx.try_send(event(&ack)).expect("a new channel has room");
            state.inner.lock().unwrap().listens.push((filter, tx));
            sse_response(rx)
        }
        "tools/list" => {
            let mut all = tools().as_array().expect("tools are an array").clone();
            if state.config.moving_header {
                let lists = {
                    let mut inner = state.inner.lock().unwrap();
                    inner.lists += 1;
                    inner.lists
                };
                all.push(moved_tool(lists));
            }
            let mut result = json!({"resultType": "complete", "ttlMs": 0, "cacheScope": "private"});
            if !state.config.paginate {
                result["tools"] = json!(all);
            } else if params["cursor"] == "page-2" {
                result["tools"] = json!(all[3..]);
            } else {
                result["tools"] = json!(all[..3]);
                result["nextCursor"] = json!("page-2");
            }
            respond(&state, ok(&id, result))
        }
        "tools/call" => call_tool(&state, &body, id, params),
        _ => reject(
            &state,
            &body,
            StatusCode::NOT_FOUND,
            -32601,
            &format!("Method not found: {method}"),
            None,
        ),
    }
}

fn text_result(text: &str) -> Value {
    json!({"resultType": "complete", "content": [{"type": "text", "text": text}]})
}

/// A successful answer, as JSON or as a one-event stream per the configuration.
fn respond(state: &Shared, reply: Value) -> Response {
    if !state.config.sse {
        return axum::Json(reply).into_response();
    }
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(event(&reply))
        .expect("a fresh channel has room for one event");
    sse_response(rx)
}

/// An elicitation an "input required" result asks for.
fn ask(message: &str) -> Value {
    json!({"method": "elicitation/create", "params": {
        "message": message,
        "requestedSchema": {"type": "object", "properties": {"answer": {"type": "string"}}}}})
}

fn call_tool(state: &Arc<Shared>, body: &Value, id: Value, params: &Value) -> Response {
    let name = params["name"].as_str().unwrap_or("");
    let args = &params["arguments"];
    match name {
        "moved" => respond(
            state,
            ok(&id, text_result(args["zone"].as_str().unwrap_or(""))),
        ),
        "echo" => respond(
            state,
            ok(&id, text_result(args["text"].as_str().unwrap_or(""))),
        ),
        // Not listed: a broken server that answers with a positional JSON array (as JSON,
        // or as a stream whose first event is another array).
        "array" => {
            let array = json!(["2.0", id, text_result("array")]);
            if !state.config.sse {
                return axum::Json(array).into_response();
            }
            let (tx, rx) = mpsc::channel(2);
            tx.try_send(event(&json!([["2.0", "notifications/message", {}]])))
                .expect("a fresh channel has room for two events");
            tx.try_send(event(&array))
                .expect("a fresh channel has room for two events");
            sse_response(rx)
        }
        "confirm" | "confirm_stateless" => {
            let caps = &params["_meta"][META_CAPABILITIES];
            if !caps["elicitation"].is_object() {
                return reject(
                    state,
                    body,
                    StatusCode::BAD_REQUEST,
                    -32021,
                    "Missing required client capability",
                    Some(json!({"requiredCapabilities": {"elicitation": {}}})),
                );
            }
            let result = match params.get("inputResponses") {
                None => {
                    let mut r = json!({
                        "resultType": "input_required",
                        "inputRequests": {"confirm": {"method": "elicitation/create", "params": {
                            "message": "Proceed?",
                            "requestedSchema": {"type": "object", "properties": {"confirmed": {"type": "boolean"}}}}}},
                    });
                    if name == "confirm" {
                        r["requestState"] = json!(request_state(&id));
                    }
                    r
                }
                Some(responses) => {
                    let mut r = text_result("confirmed");
                    r["structuredContent"] = json!({
                        "inputResponses": responses,
                        "requestState": params.get("requestState"),
                    });
                    r
                }
            };
            respond(state, ok(&id, result))
        }
        "survey" => {
            // Round 1 asks two questions; round 2 (state "round-1") asks one more; round 3
            // (state "round-2") answers with everything it was told.
            let result = match params["requestState"].as_str() {
                None => json!({"resultType": "input_required",
                    "inputRequests": {"name": ask("Name?"), "color": ask("Color?")},
                    "requestState": "round-1"}),
                Some("round-1") => json!({"resultType": "input_required",
                    "inputRequests": {"sure": ask("Sure?")},
                    "requestState": "round-2"}),
                Some(_) => {
                    let mut r = text_result("survey done");
                    r["structuredContent"] = json!({"inputResponses": params["inputResponses"]});
                    r
                }
            };
            respond(state, ok(&id, result))
        }
        "vanish" => {
            let (tx, rx) = mpsc::channel(1);
            drop(tx);
            sse_response(rx)
        }
        "odd" => respond(
            state,
            ok(
                &id,
                json!({"resultType": "pending_approval", "content": []}),
            ),
        ),
        "progress" => {
            let token = params["_meta"]["progressToken"].clone();
            let (tx, rx) = mpsc::channel(8);
            tokio::spawn(async move {
                if !token.is_null() {
                    let note = json!({"jsonrpc": "2.0", "method": "notifications/progress",
                        "params": {"progressToken": token, "progress": 1, "total": 2, "message": "halfway"}});
                    let _ = tx.send(event(&note)).await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let _ = tx.send(event(&ok(&id, text_result("progress done")))).await;
            });
            sse_response(rx)
        }
        "slow" => {
            let token = params["_meta"]["progressToken"].clone();
            let (tx, rx) = mpsc::channel(8);
            let state = state.clone();
            tokio::spawn(async move {
                // One progress note first, so the client knows the call is under way.
                if !token.is_null() {
                    let note = json!({"jsonrpc": "2.0", "method": "notifications/progress",
                        "params": {"progressToken": token, "progress": 0, "message": "started"}});
                    let _ = tx.send(event(&note)).await;
                }
                // Keep-alive comments make a closed connection show up as a failed write.
                let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
                while tokio::time::Instant::now() < deadline {
                    let gone = tokio::select! {
                        _ = tx.closed() => true,
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {
                            tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err()
                        }
                    };
                    if gone {
                        state.inner.lock().unwrap().disconnected.push(id);
                        return;
                    }
                }
                let _ = tx.send(event(&ok(&id, text_result("slow done")))).await;
            });
            sse_response(rx)
        }
        "broken" => respond(state, ok(&id, text_result("the hidden tool ran"))),
        _ => reject(
            state,
            body,
            StatusCode::OK,
            -32602,
            &format!("Unknown tool: {name}"),
            None,
        ),
    }
}

fn event(msg: &Value) -> Bytes {
    Bytes::from(format!("event: message\ndata: {msg}\n\n"))
}

fn sse_response(rx: mpsc::Receiver<Bytes>) -> Response {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}
