//! MCP 2026-07-28 ("modern") end to end: every combination of host era and server era,
//! with the real binary over pipes against `ModernMock` (a strict 2026-07-28 server) and
//! `MockMcp` (an `initialize`-era server).
//!
//! - `legacy_host`: a 2025-06-18 host on a modern server; the bridge translates.
//! - `modern_host`: a 2026-07-28 host on a modern server (pass-through) and on a legacy
//!   server (the bridge initializes upstream and answers `server/discover`).
//! - `detection`: how the era is found (the probe and its fallbacks), remembered and pinned.

mod detection;
mod legacy_host;
mod modern_host;

use crate::support::Bridge;
use crate::support::mock::Recorded;
use crate::support::modern_mock::{
    META_CAPABILITIES, META_CLIENT_INFO, META_VERSION, ModernMock, VERSION,
};
use serde_json::{Value, json};

/// The capabilities `Bridge::initialize` declares for the legacy host.
fn legacy_host_capabilities() -> Value {
    json!({"elicitation": {}})
}

/// The clientInfo `Bridge::initialize` sends for the legacy host.
fn legacy_host_info() -> Value {
    json!({"name": "test-host", "version": "1"})
}

/// The `_meta` a 2026-07-28 host puts on each request.
pub(crate) fn modern_meta() -> Value {
    json!({
        META_VERSION: VERSION,
        META_CAPABILITIES: {"elicitation": {"form": {}}},
        META_CLIENT_INFO: {"name": "modern-host", "version": "3"},
    })
}

/// A request from a 2026-07-28 host: `params` with the host's `_meta` merged in.
pub(crate) fn modern_request(id: i64, method: &str, params: Value) -> Value {
    let mut params = params;
    let meta = params
        .as_object_mut()
        .expect("params are an object")
        .entry("_meta")
        .or_insert_with(|| json!({}));
    for (k, v) in modern_meta().as_object().expect("meta is an object") {
        meta[k] = v.clone();
    }
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A legacy host's `tools/call`.
fn call(id: i64, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}})
}

/// Asserts that a request reached the modern server as a 2026-07-28 request: the version
/// header equal to `_meta`, and `Mcp-Method` naming the body's method.
fn assert_modern_request(r: &Recorded) {
    let method = r.rpc_method().unwrap_or_default();
    assert_eq!(r.method, axum::http::Method::POST, "{method}");
    assert_eq!(r.header("mcp-protocol-version"), Some(VERSION), "{method}");
    assert_eq!(r.header("mcp-method"), Some(method), "{method}");
    assert_eq!(r.body["params"]["_meta"][META_VERSION], VERSION, "{method}");
    assert!(
        r.body["params"]["_meta"][META_CAPABILITIES].is_object(),
        "{method}: {}",
        r.body
    );
}

/// The names of the tools in a `tools/list` answer.
fn tool_names(answer: &Value) -> Vec<String> {
    answer["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("a tools/list result: {answer}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Starts a bridge for a legacy host on `server` and completes the host's handshake.
async fn legacy_host_on(server: &ModernMock) -> (Bridge, Value) {
    let mut bridge = Bridge::start(&[&server.url()]);
    let init = bridge.initialize().await;
    (bridge, init)
}

/// The modern mock is as strict as the tests assume: each malformed request gets the status
/// and error code a 2026-07-28 server gives, so "no rejections" in the other tests means the
/// bridge sent well-formed requests.
#[tokio::test]
async fn the_mock_server_is_strict() {
    let server = ModernMock::start(Default::default()).await;
    let client = reqwest::Client::new();
    let meta = json!({META_VERSION: VERSION, META_CAPABILITIES: {}});
    let post = |body: Value, headers: &[(&str, &str)]| {
        let mut req = client
            .post(server.url())
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        async move {
            let resp = req.send().await.expect("the mock answers");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, body["error"]["code"].as_i64(), body)
        }
    };
    let list = |meta: Value| json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}});
    let good = [
        ("mcp-protocol-version", VERSION),
        ("mcp-method", "tools/list"),
    ];
    assert_eq!(post(list(meta.clone()), &good).await.0, 200);
    assert_eq!(post(list(meta.clone()), &good[1..]).await.1, Some(-32020));
    assert_eq!(post(list(json!({})), &good).await.1, Some(-32602));
    let old = json!({META_VERSION: "2025-11-25", META_CAPABILITIES: {}});
    assert_eq!(post(list(old), &good).await.1, Some(-32020));
    let future = json!({META_VERSION: "2099-01-01", META_CAPABILITIES: {}});
    let (status, code, body) = post(
        list(future),
        &[
            ("mcp-protocol-version", "2099-01-01"),
            ("mcp-method", "tools/list"),
        ],
    )
    .await;
    assert_eq!((status, code), (400, Some(-32022)));
    assert_eq!(body["error"]["data"]["supported"], json!([VERSION]));
    let wrong_method = [
        ("mcp-protocol-version", VERSION),
        ("mcp-method", "tools/call"),
    ];
    assert_eq!(
        post(list(meta.clone()), &wrong_method).await.1,
        Some(-32020)
    );

    let echo = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"_meta": meta, "name": "echo", "arguments": {"region": "eu"}}});
    let call = [
        ("mcp-protocol-version", VERSION),
        ("mcp-method", "tools/call"),
    ];
    assert_eq!(
        post(echo.clone(), &call).await.1,
        Some(-32020),
        "no Mcp-Name"
    );
    let named = [call[0], call[1], ("mcp-name", "echo")];
    assert_eq!(
        post(echo.clone(), &named).await.1,
        Some(-32020),
        "no Mcp-Param-Region"
    );
    let full = [named[0], named[1], named[2], ("mcp-param-region", "eu")];
    assert_eq!(post(echo, &full).await.0, 200);

    let init =
        json!({"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {"_meta": meta}});
    let (status, code, _) = post(
        init,
        &[
            ("mcp-protocol-version", VERSION),
            ("mcp-method", "initialize"),
        ],
    )
    .await;
    assert_eq!((status, code), (404, Some(-32601)));
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let resp = client.request(method, server.url()).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 405);
    }
    assert_eq!(server.rejections().len(), 8, "{:?}", server.rejections());
}
