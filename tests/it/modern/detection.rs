//! Finding the server's era: the `server/discover` probe, the fallback to `initialize` for
//! whatever is not a DiscoverResult, the one retry after a version rejection, the per-server
//! era cache, and `--protocol` pinning.

use super::{assert_modern_request, call, legacy_host_info, legacy_host_on, tool_names};
use crate::support::Bridge;
use crate::support::mock::{Config as LegacyConfig, Gate, MockMcp};
use crate::support::modern_mock::{self, Config, META_CLIENT_INFO, ModernMock};
use axum::http::{HeaderValue, Method};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::Arc;

/// Methods of the POSTs a legacy server received, in order.
fn posts(server: &MockMcp) -> Vec<String> {
    server
        .http(Method::POST)
        .iter()
        .map(|r| r.rpc_method().unwrap_or_default().to_owned())
        .collect()
}

fn init_params() -> Value {
    json!({"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}}, "clientInfo": legacy_host_info()})
}

/// Initializes as the legacy host, calls echo, and checks both worked against `MockMcp`.
async fn init_and_echo(bridge: &mut Bridge) {
    let init = bridge.initialize().await;
    assert_eq!(init["result"]["serverInfo"]["name"], "mock", "{init}");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    bridge
        .send(call(1, "echo", json!({"text": "legacy"})))
        .await;
    let (answer, _) = bridge.recv_answer(json!(1)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "legacy", "{answer}");
}

/// Legacy host, legacy server: the probe is a proper 2026-07-28 request; the server's 400
/// ("missing session", not JSON-RPC) means legacy, and the host's own `initialize` follows
/// unchanged, then the session carries on at the host's version.
#[tokio::test]
async fn legacy_server_falls_back_after_the_probe() {
    let server = MockMcp::start(LegacyConfig::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    init_and_echo(&mut bridge).await;
    assert_eq!(
        posts(&server),
        [
            "server/discover",
            "initialize",
            "notifications/initialized",
            "tools/call"
        ]
    );
    let probe = &server.calls("server/discover")[0];
    assert_modern_request(probe);
    assert_eq!(
        probe.body["params"]["_meta"][META_CLIENT_INFO],
        legacy_host_info()
    );
    let init = &server.calls("initialize")[0];
    assert_eq!(init.body["params"]["protocolVersion"], "2025-06-18");
    assert_eq!(init.body["params"]["clientInfo"], legacy_host_info());
    assert_eq!(init.header("mcp-protocol-version"), None);
    let call = &server.calls("tools/call")[0];
    assert_eq!(call.header("mcp-protocol-version"), Some("2025-06-18"));
    assert_eq!(call.header("mcp-session-id"), Some("session-1"));
    assert_eq!(
        call.header("mcp-method"),
        None,
        "no modern headers in the legacy era"
    );
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
}

/// A server that answers the probe with 200 `{"result":{}}` (and even a session id), as
/// some legacy test servers answer any method, is legacy: only a result with
/// `supportedVersions` is a DiscoverResult, and the probe's session id is ignored.
#[tokio::test]
async fn empty_probe_result_means_legacy() {
    let gate = Gate(Arc::new(|_, body: &Value| {
        (body["method"] == "server/discover").then(|| {
            let reply = json!({"jsonrpc": "2.0", "id": body["id"], "result": {}});
            let mut r = axum::Json(reply).into_response();
            r.headers_mut()
                .insert("mcp-session-id", HeaderValue::from_static("probe-session"));
            r
        })
    }));
    let server = MockMcp::start(LegacyConfig {
        gate: Some(gate),
        ..LegacyConfig::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    init_and_echo(&mut bridge).await;
    assert_eq!(posts(&server)[..2], ["server/discover", "initialize"]);
    assert_eq!(server.calls("initialize")[0].header("mcp-session-id"), None);
    assert_eq!(
        server.calls("tools/call")[0].header("mcp-session-id"),
        Some("session-1")
    );
    bridge.finish().await;
}

/// The era is remembered per server in `eras.json`: a second start against the legacy
/// server goes straight to `initialize`, while another (modern) server sharing the
/// directory is still probed and found modern.
#[tokio::test]
async fn era_cache_skips_the_probe_next_time() {
    let config = tempfile::tempdir().expect("temp dir");
    let dir = config.path().to_owned();
    let server = MockMcp::start(LegacyConfig::default()).await;
    let start = |url: &str| {
        let dir = dir.clone();
        Bridge::start_with(&[url], move |cmd| {
            cmd.env("MCP_BRIDGE_CONFIG_DIR", &dir);
        })
    };

    let mut first = start(&server.url());
    init_and_echo(&mut first).await;
    first.finish().await;
    assert_eq!(server.calls("server/discover").len(), 1);
    let eras: Value = serde_json::from_slice(
        &std::fs::read(dir.join("eras.json")).expect("eras.json was written"),
    )
    .expect("eras.json is JSON");
    let entries = eras.as_object().expect("an object of servers");
    assert_eq!(entries.len(), 1, "{eras}");
    assert!(entries.values().all(|e| e["era"] == "legacy"), "{eras}");

    let mut second = start(&server.url());
    init_and_echo(&mut second).await;
    second.finish().await;
    assert_eq!(server.calls("server/discover").len(), 1, "no second probe");
    assert_eq!(server.calls("initialize").len(), 2);

    let modern = ModernMock::start(Config::default()).await;
    let mut third = start(&modern.url());
    let init = third.initialize().await;
    assert_eq!(
        init["result"]["serverInfo"]["name"], "modern-mock",
        "{init}"
    );
    third.finish().await;
    let eras: Value =
        serde_json::from_slice(&std::fs::read(dir.join("eras.json")).unwrap()).unwrap();
    assert_eq!(eras.as_object().map(|o| o.len()), Some(2), "{eras}");
    assert!(
        eras.as_object()
            .unwrap()
            .values()
            .any(|e| e["era"] == "modern"),
        "{eras}"
    );
}

/// A remembered era that stops working (the server at the same URL was replaced by a
/// 2026-07-28-only one) is not trusted further: the failed `initialize` is kept from the host,
/// the bridge asks the server which era it speaks, and the host's `initialize` is answered in
/// the new era; the cache now says modern.
#[tokio::test]
async fn era_cache_recovers_when_the_server_changes_era() {
    let config = tempfile::tempdir().expect("temp dir");
    let dir = config.path().to_owned();
    let start = |url: &str| {
        let dir = dir.clone();
        Bridge::start_with(&[url], move |cmd| {
            cmd.env("MCP_BRIDGE_CONFIG_DIR", &dir);
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("a bound address");
    let legacy = MockMcp::start_on(listener, LegacyConfig::default());
    let url = legacy.url();
    let mut first = start(&url);
    init_and_echo(&mut first).await;
    first.finish().await;
    drop(legacy);

    // The same address, now a modern-only server.
    let listener = crate::support::rebind(addr).await;
    let modern = ModernMock::start_on(listener, Config::default());
    let mut second = start(&url);
    let (init, before) = {
        second
            .send(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init_params()}),
            )
            .await;
        second.recv_answer(json!(0)).await
    };
    assert!(before.is_empty(), "{before:?}");
    assert_eq!(
        init["result"]["serverInfo"]["name"], "modern-mock",
        "{init}"
    );
    let list = second.request(1, "tools/list", json!({})).await;
    assert!(tool_names(&list).contains(&"echo".to_owned()), "{list}");
    assert_eq!(
        modern.methods(),
        ["initialize", "server/discover", "tools/list"],
        "the remembered era once, then the probe"
    );
    second.close_stdin();
    let rest = second.drain_stdout().await;
    assert!(
        rest.iter().all(|m| m["id"] != json!(0)),
        "one answer: {rest:?}"
    );
    second.finish().await;
    let eras: Value =
        serde_json::from_slice(&std::fs::read(dir.join("eras.json")).unwrap()).unwrap();
    assert!(
        eras.as_object()
            .unwrap()
            .values()
            .all(|e| e["era"] == "modern"),
        "{eras}"
    );
}

/// `--protocol legacy` never probes.
#[tokio::test]
async fn protocol_legacy_never_probes() {
    let server = MockMcp::start(LegacyConfig::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--protocol", "legacy"]);
    init_and_echo(&mut bridge).await;
    assert_eq!(
        posts(&server),
        ["initialize", "notifications/initialized", "tools/call"]
    );
    bridge.finish().await;
}

/// `--protocol modern` against a legacy server fails the host's first request with an error
/// that says why, and never falls back to `initialize`.
#[tokio::test]
async fn protocol_modern_refuses_a_legacy_server() {
    let server = MockMcp::start(LegacyConfig::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--protocol", "modern"]);
    let answer = bridge.request(0, "initialize", init_params()).await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("2026-07-28") && message.contains("--protocol modern"),
        "{answer}"
    );
    assert_eq!(posts(&server), ["server/discover"]);
    bridge.finish().await;
}

/// A server that refuses the first probe with -32022 although it supports the version asked
/// for (as the conformance request-metadata server does) gets exactly one more probe, and is
/// then used as a modern server.
#[tokio::test]
async fn version_rejection_is_retried_once() {
    let server = ModernMock::start(Config {
        reject_first: true,
        ..Config::default()
    })
    .await;
    let (mut bridge, init) = legacy_host_on(&server).await;
    assert_eq!(
        init["result"]["serverInfo"]["name"], "modern-mock",
        "{init}"
    );
    let list = bridge.request(1, "tools/list", json!({})).await;
    assert!(tool_names(&list).contains(&"echo".to_owned()), "{list}");
    assert_eq!(
        server.methods(),
        ["server/discover", "server/discover", "tools/list"]
    );
    let rejections = server.rejections();
    assert_eq!(rejections.len(), 1, "{rejections:?}");
    let r = &rejections[0];
    assert_eq!(
        (r.method.as_str(), r.status, r.code, r.message.as_str()),
        (
            "server/discover",
            400,
            -32022,
            "Unsupported protocol version"
        )
    );
    let probes = server.calls("server/discover");
    assert_ne!(probes[0].body["id"], probes[1].body["id"]);
    for p in &probes {
        assert_modern_request(p);
        assert_eq!(p.header("mcp-protocol-version"), Some(modern_mock::VERSION));
    }
    bridge.finish().await;
}

/// The era memory is a hint for initialize-era hosts only: a 2026-07-28 host's first message
/// on a server remembered as initialize-era is still probed, so a server that moved on to
/// 2026-07-28 answers it (and the memory is corrected).
#[tokio::test]
async fn era_cache_never_skips_the_probe_for_a_modern_host() {
    let config = tempfile::tempdir().expect("temp dir");
    let dir = config.path().to_owned();
    let start = |url: &str| {
        let dir = dir.clone();
        Bridge::start_with(&[url], move |cmd| {
            cmd.env("MCP_BRIDGE_CONFIG_DIR", &dir);
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let legacy = MockMcp::start_on(listener, LegacyConfig::default());
    let url = legacy.url();
    let mut first = start(&url);
    init_and_echo(&mut first).await;
    first.finish().await;
    drop(legacy);

    let listener = crate::support::rebind(addr).await;
    let modern = ModernMock::start_on(listener, Config::default());
    let mut second = start(&url);
    second
        .send(super::modern_request(1, "server/discover", json!({})))
        .await;
    let (discovered, _) = second.recv_answer(json!(1)).await;
    assert!(discovered["result"].is_object(), "{discovered}");
    assert_eq!(
        modern.methods().first().map(String::as_str),
        Some("server/discover")
    );
    second.finish().await;
    let eras: Value =
        serde_json::from_slice(&std::fs::read(dir.join("eras.json")).unwrap()).unwrap();
    assert!(
        eras.as_object()
            .unwrap()
            .values()
            .all(|e| e["era"] == "modern"),
        "{eras}"
    );
}

/// A server remembered as initialize-era that is down at start is reported as down, once:
/// no "the server changed era" re-probe, one warning, and the memory is kept.
#[tokio::test]
async fn a_remembered_server_that_is_down_is_reported_once() {
    let config = tempfile::tempdir().expect("temp dir");
    let dir = config.path().to_owned();
    let start = |url: &str| {
        let dir = dir.clone();
        Bridge::start_with(&[url], move |cmd| {
            cmd.env("MCP_BRIDGE_CONFIG_DIR", &dir);
        })
    };
    let legacy = MockMcp::start(LegacyConfig::default()).await;
    let url = legacy.url();
    let mut first = start(&url);
    init_and_echo(&mut first).await;
    first.finish().await;
    drop(legacy);
    // Nothing listens there any more (the graceful shutdown closed the listener).
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let mut second = start(&url);
    let answer = second.request(0, "initialize", init_params()).await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("could not reach"), "{answer}");
    let (_, stderr) = second.finish().await;
    assert!(!stderr.contains("no longer answers initialize"), "{stderr}");
    let warnings = stderr.lines().filter(|l| l.contains(" WARN ")).count();
    assert_eq!(warnings, 1, "{stderr}");
    let eras: Value =
        serde_json::from_slice(&std::fs::read(dir.join("eras.json")).unwrap()).unwrap();
    assert!(
        eras.as_object()
            .unwrap()
            .values()
            .all(|e| e["era"] == "legacy"),
        "{eras}"
    );
}
