//! `MockMcp`: a scriptable MCP server on 127.0.0.1:0 for exact protocol cases and fault
//! injection. It speaks Streamable HTTP (JSON or SSE answers, sessions, GET stream, resume)
//! and legacy HTTP+SSE, records every request, and offers tools that misbehave on purpose.

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How the server answers POSTs on the Streamable HTTP endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Json,
    Sse,
}

/// Server configuration; change fields before `start`.
#[derive(Debug, Clone)]
pub struct Config {
    pub answer: Answer,
    /// Offer the GET stream (else 405).
    pub get_stream: bool,
    /// Allow DELETE of the session (else 405).
    pub delete: bool,
    /// Require `Authorization: Bearer <this>`.
    pub bearer: Option<String>,
    /// Serve only legacy HTTP+SSE (POST /mcp answers 405... the way old servers do: 404).
    pub legacy_only: bool,
    /// Legacy: the endpoint event names this absolute URL instead of our own path.
    pub legacy_endpoint_override: Option<String>,
    /// Legacy: close the event stream after this many POSTs (once).
    pub legacy_drop_after: Option<usize>,
    /// Never answer `initialize` (the POST hangs).
    pub hang_initialize: bool,
    /// Raw event-stream text every GET stream starts with (after the endpoint event on
    /// HTTP+SSE): a `retry:` hint, an odd event id.
    pub stream_prelude: Option<String>,
    /// Close every GET stream right after its prelude.
    pub stream_close: bool,
    /// Decides about every request before anything else (an OAuth resource server, say):
    /// `Some(response)` answers with it instead.
    pub gate: Option<Gate>,
    /// Serves every path the MCP server does not (metadata next to the server, say).
    pub fallback: Option<Router>,
    /// Answer an unknown session with 400 "No valid session ID provided", as servers built
    /// on the TypeScript SDK examples do, instead of the specified 404.
    pub unknown_session_400: bool,
    /// A `Set-Cookie` header on the answer to `initialize` (a load balancer pinning the
    /// session).
    pub set_cookie: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            answer: Answer::Json,
            get_stream: true,
            delete: true,
            bearer: None,
            legacy_only: false,
            legacy_endpoint_override: None,
            legacy_drop_after: None,
            hang_initialize: false,
            stream_prelude: None,
            stream_close: false,
            gate: None,
            fallback: None,
            unknown_session_400: false,
            set_cookie: None,
        }
    }
}

/// A check run on each request with its headers and JSON body (`Null` for GET/DELETE).
#[derive(Clone)]
pub struct Gate(pub Arc<GateFn>);

/// What a [`Gate`] runs.
pub type GateFn = dyn Fn(&HeaderMap, &Value) -> Option<Response> + Send + Sync;

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gate(..)")
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn rpc_method(&self) -> Option<&str> {
        self.body.get("method").and_then(Value::as_str)
    }
}

type SseTx = mpsc::Sender<Bytes>;

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    sessions: Vec<String>,
    expired: Vec<String>,
    next_session: u64,
    /// Open GET streams of the Streamable endpoint.
    get_streams: Vec<SseTx>,
    /// Answers waiting for a GET that resumes after this event id.
    resumable: HashMap<String, Value>,
    /// Server-to-host requests waiting for the host's answer, by id.
    waiting: HashMap<String, oneshot::Sender<Value>>,
    /// The host's answers to server requests nobody waits for (a flood's), in order.
    unclaimed: Vec<Value>,
    /// `slow` calls running now, and the most that ever ran at once.
    slow_running: usize,
    slow_most: usize,
    /// Legacy: the event stream of each session.
    legacy_streams: HashMap<String, SseTx>,
    legacy_posts: usize,
    legacy_dropped: bool,
    /// HTTP+SSE sessions whose client sent `notifications/initialized`.
    legacy_initialized: HashSet<String>,
}

pub struct MockMcp {
    pub addr: SocketAddr,
    state: Arc<Shared>,
    _shutdown: oneshot::Sender<()>,
}

struct Shared {
    config: Config,
    inner: Mutex<Inner>,
    addr: SocketAddr,
}

impl MockMcp {
    pub async fn start(config: Config) -> MockMcp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        Self::start_on(listener, config)
    }

    /// Serves on a listener bound by the caller (who needed the address first).
    pub fn start_on(listener: tokio::net::TcpListener, config: Config) -> MockMcp {
        let addr = listener.local_addr().expect("bound socket has an address");
        let fallback = config.fallback.clone();
        let state = Arc::new(Shared {
            config,
            inner: Mutex::new(Inner::default()),
            addr,
        });
        let app = Router::new()
            .route("/mcp", post(post_mcp).get(get_mcp).delete(delete_mcp))
            .route("/sse", get(get_legacy).post(post_probe))
            .route("/messages", post(post_legacy));
        let app = match fallback {
            Some(router) => app.fallback_service(router),
            None => app.fallback(|| async { StatusCode::NOT_FOUND }),
        }
        .with_state(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        MockMcp {
            addr,
            state,
            _shutdown: tx,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    pub fn sse_url(&self) -> String {
        format!("http://{}/sse", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.inner.lock().unwrap().requests.clone()
    }

    /// The most `slow` calls that ever ran at once.
    pub fn slow_most(&self) -> usize {
        self.state.inner.lock().unwrap().slow_most
    }

    /// The answers to server requests no tool waited for.
    pub fn unclaimed(&self) -> Vec<Value> {
        self.state.inner.lock().unwrap().unclaimed.clone()
    }

    /// Requests whose JSON-RPC method is `method`.
    pub fn calls(&self, method: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.rpc_method() == Some(method))
            .collect()
    }

    /// Requests with this HTTP method.
    pub fn http(&self, method: Method) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method)
            .collect()
    }

    /// Forgets every session, as a restarted server would: the next request gets 404.
    pub fn expire_sessions(&self) {
        let mut inner = self.state.inner.lock().unwrap();
        let sessions = std::mem::take(&mut inner.sessions);
        inner.expired.extend(sessions);
        inner.get_streams.clear();
    }

    /// Ends every open event stream (GET and HTTP+SSE), as a server going down would.
    pub fn close_streams(&self) {
        let mut inner = self.state.inner.lock().unwrap();
        inner.get_streams.clear();
        inner.legacy_streams.clear();
    }

    /// Pushes a message to every open GET stream. Returns how many streams got it.
    pub async fn push(&self, msg: Value) -> usize {
        let streams = self.state.inner.lock().unwrap().get_streams.clone();
        let mut n = 0;
        for s in streams {
            if s.send(event(None, &msg)).await.is_ok() {
                n += 1;
            }
        }
        n
    }

    /// Waits until at least one GET stream is open.
    pub async fn wait_get_stream(&self) {
        for _ in 0..200 {
            if !self.state.inner.lock().unwrap().get_streams.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the bridge never opened the GET stream");
    }

    /// Waits until `pred` holds for the recorded requests.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&[Recorded]) -> bool) {
        for _ in 0..400 {
            if pred(&self.requests()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "timed out waiting for {what}; saw {:#?}",
            self.requests()
                .iter()
                .map(|r| (&r.method, &r.path, r.rpc_method()))
                .collect::<Vec<_>>()
        );
    }
}

fn event(id: Option<&str>, msg: &Value) -> Bytes {
    let mut s = String::new();
    if let Some(id) = id {
        s.push_str(&format!("id: {id}\n"));
    }
    s.push_str(&format!("data: {msg}\n\n"));
    Bytes::from(s)
}

fn sse_response(rx: mpsc::Receiver<Bytes>, extra: &[(&'static str, String)]) -> Response {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    for (k, v) in extra {
        resp.headers_mut()
            .insert(*k, HeaderValue::from_str(v).unwrap());
    }
    resp
}

fn record(state: &Shared, method: Method, uri: &Uri, headers: &HeaderMap, body: &Value) {
    state.inner.lock().unwrap().requests.push(Recorded {
        method,
        path: uri.to_string(),
        headers: headers.clone(),
        body: body.clone(),
    });
}

fn unauthorized(state: &Shared, headers: &HeaderMap, body: &Value) -> Option<Response> {
    if let Some(r) = state
        .config
        .gate
        .as_ref()
        .and_then(|g| (g.0)(headers, body))
    {
        return Some(r);
    }
    let want = state.config.bearer.as_ref()?;
    let got = headers.get("authorization").and_then(|v| v.to_str().ok());
    if got == Some(&format!("Bearer {want}")) {
        return None;
    }
    let mut r = (StatusCode::UNAUTHORIZED, "unauthorized").into_response();
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer realm=\"mock\""),
    );
    Some(r)
}

fn init_result(version: &str) -> Value {
    json!({"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": {"name": "mock", "version": "1"}})
}

fn ok(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn text(id: &Value, t: &str) -> Value {
    ok(id, json!({"content": [{"type": "text", "text": t}]}))
}

async fn post_mcp(
    State(state): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&state, Method::POST, &uri, &headers, &body);
    if state.config.legacy_only {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(r) = unauthorized(&state, &headers, &body) {
        return r;
    }
    let method = body
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let id = body.get("id").cloned();
    if method == "initialize" && state.config.hang_initialize {
        std::future::pending::<()>().await;
    }
    if method == "initialize" {
        let session = {
            let mut inner = state.inner.lock().unwrap();
            inner.next_session += 1;
            let s = format!("session-{}", inner.next_session);
            inner.sessions.push(s.clone());
            s
        };
        let version = body["params"]["protocolVersion"]
            .as_str()
            .unwrap_or("2025-06-18")
            .to_owned();
        let reply = ok(id.as_ref().unwrap(), init_result(&version));
        let mut extra = vec![("mcp-session-id", session)];
        if let Some(cookie) = &state.config.set_cookie {
            extra.push(("set-cookie", cookie.clone()));
        }
        return answer(&state, reply, &extra).await;
    }
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    {
        let inner = state.inner.lock().unwrap();
        match &session {
            None => return (StatusCode::BAD_REQUEST, "missing session").into_response(),
            Some(s) if !inner.sessions.contains(s) && state.config.unknown_session_400 => {
                let e = json!({"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}});
                return (StatusCode::BAD_REQUEST, axum::Json(e)).into_response();
            }
            Some(s) if !inner.sessions.contains(s) => {
                return (StatusCode::NOT_FOUND, "no such session").into_response();
            }
            Some(_) => {}
        }
    }
    let Some(id) = id else {
        return StatusCode::ACCEPTED.into_response();
    };
    if method.is_empty() {
        // The host's answer to one of our requests.
        let key = id.to_string();
        let mut inner = state.inner.lock().unwrap();
        match inner.waiting.remove(&key) {
            Some(tx) => {
                let _ = tx.send(body.clone());
            }
            None => inner.unclaimed.push(body.clone()),
        }
        return StatusCode::ACCEPTED.into_response();
    }
    match method.as_str() {
        "tools/list" => {
            let tools = json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}, {"name": "delete_everything", "inputSchema": {"type": "object"}}]});
            answer(&state, ok(&id, tools), &[]).await
        }
        "ping" => answer(&state, ok(&id, json!({})), &[]).await,
        "tools/call" => call_tool(state, id, &body["params"]).await,
        _ => {
            answer(
                &state,
                json!({"jsonrpc":"2.0","id":id,"error":{"code":-32601,"message":"no such method"}}),
                &[],
            )
            .await
        }
    }
}

/// Answers with one message, as JSON or as a one-event stream per the configuration.
async fn answer(state: &Shared, reply: Value, extra: &[(&'static str, String)]) -> Response {
    match state.config.answer {
        Answer::Json => {
            let mut resp = axum::Json(reply).into_response();
            for (k, v) in extra {
                resp.headers_mut()
                    .insert(*k, HeaderValue::from_str(v).unwrap());
            }
            resp
        }
        Answer::Sse => {
            let (tx, rx) = mpsc::channel(8);
            tx.send(event(Some("e0"), &reply)).await.unwrap();
            drop(tx);
            sse_response(rx, extra)
        }
    }
}

async fn call_tool(state: Arc<Shared>, id: Value, params: &Value) -> Response {
    let name = params["name"].as_str().unwrap_or("");
    let args = &params["arguments"];
    match name {
        "echo" => answer(&state, text(&id, args["text"].as_str().unwrap_or("")), &[]).await,
        "slow" => {
            {
                let mut inner = state.inner.lock().unwrap();
                inner.slow_running += 1;
                inner.slow_most = inner.slow_most.max(inner.slow_running);
            }
            tokio::time::sleep(Duration::from_millis(args["ms"].as_u64().unwrap_or(500))).await;
            state.inner.lock().unwrap().slow_running -= 1;
            answer(&state, text(&id, "slow done"), &[]).await
        }
        "big" => {
            let n = args["bytes"].as_u64().unwrap_or(1000) as usize;
            answer(&state, text(&id, &"x".repeat(n)), &[]).await
        }
        "fail500" => (StatusCode::INTERNAL_SERVER_ERROR, "kaput").into_response(),
        "garbage" => ([("content-type", "application/json")], "this is {not json").into_response(),
        "jsonrpc_400" => {
            let e = json!({"jsonrpc":"2.0","id":id,"error":{"code":-32602,"message":"bad arguments, says the server"}});
            (StatusCode::BAD_REQUEST, axum::Json(e)).into_response()
        }
        "redirect" => {
            let to = format!("http://127.0.0.2:{}/mcp", state.addr.port());
            (StatusCode::TEMPORARY_REDIRECT, [("location", to)]).into_response()
        }
        "dup" => {
            // The answer goes out on the GET stream too: the host must see it once.
            let reply = text(&id, "once");
            let streams = state.inner.lock().unwrap().get_streams.clone();
            for s in streams {
                let _ = s.send(event(None, &reply)).await;
            }
            answer(&state, reply, &[]).await
        }
        "drop" => {
            // An event stream that ends with no answer and no event id.
            let (tx, rx) = mpsc::channel(1);
            drop(tx);
            sse_response(rx, &[])
        }
        "resume" => {
            // Priming event with an id and a retry hint, then the stream closes; the answer
            // is given to the GET that resumes after that id.
            let ev = format!("resume-{}", id);
            state
                .inner
                .lock()
                .unwrap()
                .resumable
                .insert(ev.clone(), text(&id, "resumed"));
            let (tx, rx) = mpsc::channel(2);
            let retry = args["retry"].as_u64().unwrap_or(200);
            tx.send(Bytes::from(format!("id: {ev}\nretry: {retry}\ndata:\n\n")))
                .await
                .unwrap();
            drop(tx);
            sse_response(rx, &[])
        }
        "flood" => {
            // Asks `count` questions mid-call without waiting for any answer, then answers.
            let count = args["count"].as_u64().unwrap_or(1000);
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(async move {
                for i in 0..count {
                    let ask = json!({"jsonrpc":"2.0","id":format!("flood-{i}"),"method":"elicitation/create","params":{"message":"again?","requestedSchema":{"type":"object"}}});
                    if tx.send(event(None, &ask)).await.is_err() {
                        return;
                    }
                }
                tx.send(event(None, &text(&id, "flooded"))).await.ok();
            });
            sse_response(rx, &[])
        }
        "elicit" => {
            // Asks the host a question mid-call and answers with what it said.
            let (tx, rx) = mpsc::channel(4);
            let (answer_tx, answer_rx) = oneshot::channel();
            let ask_id = json!(format!("ask-{}", id));
            state
                .inner
                .lock()
                .unwrap()
                .waiting
                .insert(ask_id.to_string(), answer_tx);
            let ask = json!({"jsonrpc":"2.0","id":ask_id,"method":"elicitation/create","params":{"message":"name?","requestedSchema":{"type":"object"}}});
            tokio::spawn(async move {
                tx.send(event(None, &json!({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"asking"}}))).await.ok();
                tx.send(event(None, &ask)).await.ok();
                if let Ok(reply) = answer_rx.await {
                    let said = reply["result"]["content"]["name"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned();
                    tx.send(event(None, &text(&id, &format!("hello {said}"))))
                        .await
                        .ok();
                }
            });
            sse_response(rx, &[])
        }
        _ => {
            answer(
                &state,
                json!({"jsonrpc":"2.0","id":id,"error":{"code":-32602,"message":"unknown tool"}}),
                &[],
            )
            .await
        }
    }
}

async fn get_mcp(State(state): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    record(&state, Method::GET, &uri, &headers, &Value::Null);
    if let Some(r) = unauthorized(&state, &headers, &Value::Null) {
        return r;
    }
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (tx, rx) = mpsc::channel(16);
    {
        let mut inner = state.inner.lock().unwrap();
        let last = headers.get("last-event-id").and_then(|v| v.to_str().ok());
        if let Some(reply) = last.and_then(|last| inner.resumable.remove(last)) {
            let _ = tx.try_send(event(
                Some(&format!("{}-r", last.unwrap_or_default())),
                &reply,
            ));
            return sse_response(rx, &[]);
        }
        if !state.config.get_stream {
            return StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
        if !inner.sessions.contains(&session) {
            return StatusCode::NOT_FOUND.into_response();
        }
        if let Some(prelude) = &state.config.stream_prelude {
            let _ = tx.try_send(Bytes::from(prelude.clone()));
        }
        if !state.config.stream_close {
            inner.get_streams.push(tx);
        }
    }
    sse_response(rx, &[])
}

async fn delete_mcp(State(state): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    record(&state, Method::DELETE, &uri, &headers, &Value::Null);
    if !state.config.delete {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    state
        .inner
        .lock()
        .unwrap()
        .sessions
        .retain(|s| s != session);
    StatusCode::OK.into_response()
}

/// A 2024-11-05 server has no POST on its stream URL.
async fn post_probe(
    State(state): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&state, Method::POST, &uri, &headers, &body);
    StatusCode::METHOD_NOT_ALLOWED.into_response()
}

async fn get_legacy(State(state): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    record(&state, Method::GET, &uri, &headers, &Value::Null);
    if let Some(r) = unauthorized(&state, &headers, &Value::Null) {
        return r;
    }
    let (tx, rx) = mpsc::channel(16);
    let sid = {
        let mut inner = state.inner.lock().unwrap();
        inner.next_session += 1;
        let sid = format!("legacy-{}", inner.next_session);
        inner.legacy_streams.insert(sid.clone(), tx.clone());
        sid
    };
    let endpoint = state
        .config
        .legacy_endpoint_override
        .clone()
        .unwrap_or(format!("/messages?sid={sid}"));
    tx.try_send(Bytes::from(format!(
        "event: endpoint\ndata: {endpoint}\n\n"
    )))
    .unwrap();
    if let Some(prelude) = &state.config.stream_prelude {
        tx.try_send(Bytes::from(prelude.clone())).unwrap();
    }
    if state.config.stream_close {
        state.inner.lock().unwrap().legacy_streams.remove(&sid);
        drop(tx);
    }
    sse_response(rx, &[])
}

async fn post_legacy(
    State(state): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&state, Method::POST, &uri, &headers, &body);
    if let Some(r) = unauthorized(&state, &headers, &body) {
        return r;
    }
    let sid = q.get("sid").cloned().unwrap_or_default();
    let (stream, drop_now) = {
        let mut inner = state.inner.lock().unwrap();
        inner.legacy_posts += 1;
        let drop_now = !inner.legacy_dropped
            && state
                .config
                .legacy_drop_after
                .is_some_and(|n| inner.legacy_posts >= n);
        if drop_now {
            inner.legacy_dropped = true;
        }
        (inner.legacy_streams.get(&sid).cloned(), drop_now)
    };
    let Some(stream) = stream else {
        return (StatusCode::NOT_FOUND, "unknown session").into_response();
    };
    if drop_now {
        // The stream dies with this request unanswered.
        state.inner.lock().unwrap().legacy_streams.remove(&sid);
        drop(stream);
        return StatusCode::ACCEPTED.into_response();
    }
    let method = body["method"].as_str();
    let initialized = {
        let mut inner = state.inner.lock().unwrap();
        if method == Some("notifications/initialized") {
            inner.legacy_initialized.insert(sid.clone());
        }
        inner.legacy_initialized.contains(&sid)
    };
    let Some(id) = body.get("id").cloned() else {
        return StatusCode::ACCEPTED.into_response();
    };
    let reply = match method {
        Some("initialize") => ok(&id, init_result("2024-11-05")),
        // As the Python SDK does: no request but ping before the handshake is complete.
        Some(m) if !initialized && m != "ping" => json!({
            "jsonrpc": "2.0", "id": id,
            "error": {"code": -32600, "message": "request before initialization was complete"}
        }),
        Some("tools/call") => match body["params"]["name"].as_str() {
            Some("slow") => {
                let stream = stream.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(800)).await;
                    let _ = stream.send(event(None, &text(&id, "slow done"))).await;
                });
                return StatusCode::ACCEPTED.into_response();
            }
            _ => text(
                &id,
                body["params"]["arguments"]["text"].as_str().unwrap_or(""),
            ),
        },
        Some(_) => ok(&id, json!({})),
        None => return StatusCode::ACCEPTED.into_response(),
    };
    let mut e = String::from("event: message\n");
    e.push_str(&format!("data: {reply}\n\n"));
    let _ = stream.send(Bytes::from(e)).await;
    StatusCode::ACCEPTED.into_response()
}
