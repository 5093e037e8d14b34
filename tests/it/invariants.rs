//! The invariants: one answer per request whatever goes wrong, protocol-only stdout, bad
//! input survived, bounded memory, clean shutdown.

use crate::support::mock::{Answer, Config, MockMcp};
use crate::support::{Bridge, WAIT};
use axum::http::Method;
use serde_json::json;
use std::time::Instant;

fn call(id: i64, tool: &str) -> serde_json::Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":{}}})
}

/// Each server failure answers the affected request with an error, and the bridge goes on
/// to answer the next request normally.
#[tokio::test]
async fn server_faults_become_error_answers() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    let cases = [
        ("fail500", "HTTP 500: kaput"),
        ("garbage", "invalid message from the server"),
        ("drop", "closed the stream before answering"),
        ("redirect", "another origin"),
    ];
    for (i, (tool, expect)) in cases.iter().enumerate() {
        bridge.send(call(i as i64 + 1, tool)).await;
        let (answer, _) = bridge.recv_answer(json!(i + 1)).await;
        let message = answer["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{tool}: {answer}"));
        assert!(message.contains(expect), "{tool}: {message}");
        assert!(answer["error"]["code"].is_i64());
    }
    // The server's own JSON-RPC error inside an HTTP error reaches the host as it was.
    let answer = bridge
        .request(10, "tools/call", json!({"name":"jsonrpc_400"}))
        .await;
    assert_eq!(answer["error"]["message"], "bad arguments, says the server");
    assert_eq!(
        bridge.request(11, "ping", json!({})).await["result"],
        json!({})
    );
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("host").unwrap().starts_with("127.0.0.1")),
        "redirect not followed"
    );
}

/// Malformed lines from the host get -32700 (id null) or -32600 (with the id), and the
/// bridge keeps working.
#[tokio::test]
async fn malformed_host_input_is_answered() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.send_raw("this is not json").await;
    let e = bridge.recv().await;
    assert_eq!(
        (e["id"].clone(), e["error"]["code"].clone()),
        (json!(null), json!(-32700))
    );
    bridge.send_raw(r#"{"jsonrpc":"2.0","id":42}"#).await;
    let e = bridge.recv().await;
    assert_eq!(
        (e["id"].clone(), e["error"]["code"].clone()),
        (json!(42), json!(-32600))
    );
    bridge
        .send_raw(r#"{"jsonrpc":"1.0","id":43,"method":"x"}"#)
        .await;
    assert_eq!(bridge.recv().await["id"], 43);
    bridge.initialize().await;
    assert_eq!(
        bridge.request(1, "ping", json!({})).await["result"],
        json!({})
    );
    bridge.finish().await;
}

/// An over-long line from the host is refused with a clear error and does not stop the
/// bridge; an over-long answer from the server fails only its request.
#[tokio::test]
async fn oversized_messages_are_bounded() {
    let server = MockMcp::start(Config {
        answer: Answer::Sse,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url(), "--max-message-size", "100000"]);
    bridge.initialize().await;
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(300_000)
    );
    bridge.send_raw(&huge).await;
    let e = bridge.recv().await;
    assert_eq!(e["error"]["code"], -32600);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeds the limit"),
        "{e}"
    );
    let big = bridge
        .request(
            2,
            "tools/call",
            json!({"name":"big","arguments":{"bytes":500_000}}),
        )
        .await;
    assert!(
        big["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than 100000 bytes"),
        "{big}"
    );
    let ok = bridge
        .request(
            3,
            "tools/call",
            json!({"name":"big","arguments":{"bytes":50_000}}),
        )
        .await;
    assert_eq!(
        ok["result"]["content"][0]["text"].as_str().unwrap().len(),
        50_000
    );
    bridge.finish().await;
}

/// The same limit holds for JSON bodies.
#[tokio::test]
async fn oversized_json_bodies_are_bounded() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--max-message-size", "100000"]);
    bridge.initialize().await;
    let big = bridge
        .request(
            2,
            "tools/call",
            json!({"name":"big","arguments":{"bytes":500_000}}),
        )
        .await;
    assert!(
        big["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than"),
        "{big}"
    );
    bridge.finish().await;
}

/// An unreachable server: every request gets an error answer, nothing hangs, and the
/// bridge still exits 0 when the host leaves.
#[tokio::test]
async fn unreachable_server_answers_every_request() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut bridge = Bridge::start(&[&format!("http://127.0.0.1:{port}/mcp")]);
    for id in 0..3 {
        let answer = bridge.request(id, "initialize", json!({})).await;
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("could not reach"),
            "{answer}"
        );
    }
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
}

/// The server dies while calls are pending: each is answered once when the host leaves.
#[tokio::test]
async fn pending_requests_are_answered_at_exit() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    for id in 1..=3 {
        bridge.send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"slow","arguments":{"ms":60_000}}})).await;
    }
    server
        .wait_for("three calls", |rs| {
            rs.iter()
                .filter(|r| r.rpc_method() == Some("tools/call"))
                .count()
                == 3
        })
        .await;
    let started = Instant::now();
    bridge.close_stdin();
    let rest = bridge.drain_stdout().await;
    let mut ids: Vec<_> = rest.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2, 3]);
    assert!(rest.iter().all(|m| {
        m["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shutting down")
    }));
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
    assert!(started.elapsed() < WAIT, "the drain is bounded");
}

/// SIGTERM and SIGINT: pending requests are answered, the session is deleted, exit 0.
#[tokio::test]
async fn signals_shut_down_cleanly() {
    for sig in ["TERM", "INT"] {
        let server = MockMcp::start(Config::default()).await;
        let mut bridge = Bridge::start(&[&server.url()]);
        bridge.initialize().await;
        bridge.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow","arguments":{"ms":60_000}}})).await;
        server
            .wait_for("the call", |rs| {
                rs.iter().any(|r| r.rpc_method() == Some("tools/call"))
            })
            .await;
        bridge.signal(sig);
        let answer = bridge.recv().await;
        assert_eq!(answer["id"], 1);
        assert!(answer.get("error").is_some());
        let (code, stderr) = bridge.finish().await;
        assert_eq!(code, Some(0), "{sig}: {stderr}");
        assert_eq!(server.http(Method::DELETE).len(), 1, "{sig}");
    }
}

/// A host that closes its end of stdout ends the bridge promptly and cleanly.
#[tokio::test]
async fn closed_stdout_ends_the_bridge() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    server.wait_get_stream().await;
    bridge.close_stdout();
    server
        .push(json!({"jsonrpc":"2.0","method":"notifications/tools/list_changed"}))
        .await;
    let status = tokio::time::timeout(WAIT, bridge.child.wait())
        .await
        .expect("exits without stdin closing")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    server
        .wait_for("the DELETE", |rs| {
            rs.iter().any(|r| r.method == Method::DELETE)
        })
        .await;
}

/// A server that never answers `initialize` does not keep the bridge alive after the host
/// leaves: the handshake is answered with an error and the bridge exits within the drain.
#[tokio::test]
async fn hung_initialize_does_not_outlive_the_host() {
    let server = MockMcp::start(Config {
        hang_initialize: true,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge
        .send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}))
        .await;
    bridge
        .send(json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .await;
    server.wait_for("the initialize", |rs| !rs.is_empty()).await;
    let started = Instant::now();
    bridge.close_stdin();
    let mut ids: Vec<_> = bridge
        .drain_stdout()
        .await
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![0, 1], "both requests answered once");
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
    assert!(started.elapsed() < WAIT);
}
