//! Legacy HTTP+SSE (2024-11-05) and transport detection, end to end.

use crate::support::Bridge;
use crate::support::mock::{Config, MockMcp};
use axum::http::Method;
use serde_json::json;

fn legacy() -> Config {
    Config {
        legacy_only: true,
        ..Config::default()
    }
}

/// Default detection: POST initialize gets 404, so the bridge opens the SSE stream, posts
/// to the endpoint it names, and relays answers from the stream.
#[tokio::test]
async fn http_first_falls_back_to_sse() {
    let server = MockMcp::start(legacy()).await;
    let mut bridge = Bridge::start(&[&server.sse_url()]);
    let init = bridge.initialize().await;
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    let answer = bridge
        .request(
            1,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"old"}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "old");
    let posts: Vec<_> = server
        .http(Method::POST)
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(posts[0], "/sse", "first the 2026-07-28 probe");
    assert_eq!(posts[1], "/sse", "then the Streamable HTTP initialize");
    assert!(
        posts[2..]
            .iter()
            .all(|p| p.starts_with("/messages?sid=legacy-1")),
        "{posts:?}"
    );
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("using HTTP+SSE"),
        "the choice is logged: {stderr}"
    );
}

/// `--transport sse-only` (and supergateway's `--sse`) go straight to the event stream.
#[tokio::test]
async fn sse_only_skips_the_probe() {
    for args in [vec!["--transport", "sse-only"], vec!["--sse"]] {
        let server = MockMcp::start(legacy()).await;
        let mut full = args.clone();
        let url = server.sse_url();
        full.push(&url);
        let mut bridge = Bridge::start(&full);
        bridge.initialize().await;
        bridge.finish().await;
        assert!(
            server
                .http(Method::POST)
                .iter()
                .all(|r| r.path.starts_with("/messages")),
            "{args:?}"
        );
    }
}

/// `--transport http-only` never falls back: the refusal becomes an error answer.
#[tokio::test]
async fn http_only_does_not_fall_back() {
    let server = MockMcp::start(legacy()).await;
    let mut bridge = Bridge::start(&["--transport", "http-only", &server.sse_url()]);
    let init = bridge
        .request(0, "initialize", json!({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}))
        .await;
    assert!(
        init["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 405"),
        "{init}"
    );
    bridge.finish().await;
    assert!(server.http(Method::GET).is_empty());
}

/// An endpoint on another origin is refused: no message and no credential goes there, the
/// host gets an error, and the bridge exits 1 with a clear message.
#[tokio::test]
async fn cross_origin_endpoint_is_refused() {
    let server = MockMcp::start(Config {
        legacy_endpoint_override: Some("http://127.0.0.2:9/steal".into()),
        ..legacy()
    })
    .await;
    let mut bridge = Bridge::start(&["--sse", &server.sse_url(), "--bearer", "sekrit"]);
    bridge
        .send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}))
        .await;
    let answer = bridge.recv().await;
    assert_eq!(answer["id"], 0);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another origin"),
        "{answer}"
    );
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("another origin"), "{stderr}");
    assert!(!stderr.contains("sekrit"));
}

/// When the stream drops, the request waiting on it gets an error, the bridge reconnects,
/// replays the handshake on the new session, and later requests work.
#[tokio::test]
async fn dropped_stream_fails_pending_and_reconnects() {
    // POST #1 initialize, #2 initialized, #3 the doomed call.
    let server = MockMcp::start(Config {
        legacy_drop_after: Some(3),
        ..legacy()
    })
    .await;
    let mut bridge = Bridge::start(&["--sse", &server.sse_url()]);
    bridge.initialize().await;
    let doomed = bridge
        .request(
            1,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"x"}}),
        )
        .await;
    assert!(
        doomed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("before the request was answered"),
        "{doomed}"
    );
    let answer = bridge
        .request(
            2,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"back"}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "back");
    let inits = server.calls("initialize");
    assert_eq!(inits.len(), 2, "handshake replayed on the new stream");
    assert!(inits[1].path.contains("legacy-2"));
    assert_eq!(server.http(Method::GET).len(), 2);
    bridge.finish().await;
}

/// Requests in flight when stdin closes are drained: their answers still arrive.
#[tokio::test]
async fn answers_in_flight_are_drained_at_eof() {
    let server = MockMcp::start(legacy()).await;
    let mut bridge = Bridge::start(&["--sse", &server.sse_url()]);
    bridge.initialize().await;
    bridge
        .send(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}))
        .await;
    bridge.close_stdin();
    let rest = bridge.drain_stdout().await;
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["result"]["content"][0]["text"], "slow done");
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
}

/// An HTTP+SSE-only server seen before is remembered with its transport: the next start goes
/// straight to the event stream (no probe, no Streamable HTTP POST that gets 404 or 405).
#[tokio::test]
async fn remembered_sse_server_goes_straight_to_the_stream() {
    let config = tempfile::tempdir().unwrap();
    let dir = config.path().to_owned();
    let server = MockMcp::start(legacy()).await;
    for run in 0..2 {
        let dir = dir.clone();
        let mut bridge = Bridge::start_with(&[&server.sse_url()], move |cmd| {
            cmd.env("MCP_BRIDGE_CONFIG_DIR", &dir);
        });
        let init = bridge.initialize().await;
        assert_eq!(init["result"]["protocolVersion"], "2024-11-05", "run {run}");
        bridge.finish().await;
    }
    let posts: Vec<String> = server
        .http(Method::POST)
        .into_iter()
        .map(|r| r.path)
        .collect();
    let to_sse = posts.iter().filter(|p| p.as_str() == "/sse").count();
    assert_eq!(
        to_sse, 2,
        "only the first run probed and tried Streamable HTTP: {posts:?}"
    );
    let eras: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("eras.json")).unwrap()).unwrap();
    assert!(
        eras.as_object()
            .unwrap()
            .values()
            .all(|e| e["transport"] == "sse"),
        "{eras}"
    );
}
