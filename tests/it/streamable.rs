//! Streamable HTTP end to end: the real binary over pipes against `MockMcp`.

use crate::support::Bridge;
use crate::support::mock::{Answer, Config, MockMcp};
use axum::http::Method;
use serde_json::json;
use std::time::{Duration, Instant};

fn echo(id: i64, text: &str) -> serde_json::Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"echo","arguments":{"text":text}}})
}

/// JSON answers: the session id and negotiated version go on every later request, the
/// Accept header offers both forms, and notifications are accepted with 202.
#[tokio::test]
async fn json_answers_carry_session_and_version() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--protocol", "legacy"]);
    let init = bridge.initialize().await;
    assert_eq!(init["result"]["serverInfo"]["name"], "mock");
    bridge.send(echo(1, "hi")).await;
    let (answer, _) = bridge.recv_answer(json!(1)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "hi");

    // The GET stream was open before the next message went out (servers may send their
    // requests only there).
    let order: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.rpc_method().unwrap_or("")))
        .collect();
    assert_eq!(
        order[..4],
        [
            "POST initialize",
            "POST notifications/initialized",
            "GET ",
            "POST tools/call"
        ],
        "{order:?}"
    );
    let init_req = &server.calls("initialize")[0];
    assert_eq!(
        init_req.header("accept"),
        Some("application/json, text/event-stream")
    );
    assert_eq!(init_req.header("content-type"), Some("application/json"));
    assert_eq!(init_req.header("mcp-session-id"), None);
    for r in server
        .calls("notifications/initialized")
        .iter()
        .chain(&server.calls("tools/call"))
    {
        assert_eq!(r.header("mcp-session-id"), Some("session-1"));
        assert_eq!(r.header("mcp-protocol-version"), Some("2025-06-18"));
    }
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
}

/// SSE answers are read from the POST's stream, including messages before the answer.
#[tokio::test]
async fn sse_answers_are_relayed() {
    let server = MockMcp::start(Config {
        answer: Answer::Sse,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    let answer = bridge.request(1, "tools/list", json!({})).await;
    assert_eq!(answer["result"]["tools"][0]["name"], "echo");
    bridge.finish().await;
}

/// The GET stream opens after `notifications/initialized`; server requests and
/// notifications on it reach the host, and the host's answer reaches the server.
#[tokio::test]
async fn get_stream_delivers_server_messages() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    server.wait_get_stream().await;
    let get = &server.http(Method::GET)[0];
    assert_eq!(get.header("accept"), Some("text/event-stream"));
    assert_eq!(get.header("mcp-session-id"), Some("session-1"));

    server
        .push(json!({"jsonrpc":"2.0","method":"notifications/tools/list_changed"}))
        .await;
    assert_eq!(
        bridge.recv().await["method"],
        "notifications/tools/list_changed"
    );
    server
        .push(json!({"jsonrpc":"2.0","id":"srv-1","method":"roots/list"}))
        .await;
    let req = bridge.recv().await;
    assert_eq!(
        (req["id"].clone(), req["method"].clone()),
        (json!("srv-1"), json!("roots/list"))
    );
    bridge
        .send(json!({"jsonrpc":"2.0","id":"srv-1","result":{"roots":[]}}))
        .await;
    server
        .wait_for("the host's answer", |rs| {
            rs.iter()
                .any(|r| r.body["id"] == "srv-1" && r.body.get("result").is_some())
        })
        .await;
    bridge.finish().await;
}

/// A server without a GET stream (405) works normally.
#[tokio::test]
async fn get_405_is_tolerated() {
    let server = MockMcp::start(Config {
        get_stream: false,
        delete: false,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    server
        .wait_for("a GET", |rs| rs.iter().any(|r| r.method == Method::GET))
        .await;
    let answer = bridge.request(1, "ping", json!({})).await;
    assert!(answer.get("result").is_some());
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(server.http(Method::GET).len(), 1, "no retry loop after 405");
}

/// A stream that closes after a priming event is resumed with GET + Last-Event-ID after the
/// server's retry delay, and the answer arrives exactly once.
#[tokio::test]
async fn dropped_stream_resumes_with_last_event_id() {
    let server = MockMcp::start(Config {
        answer: Answer::Sse,
        get_stream: false,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    let started = Instant::now();
    bridge.send(json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"resume","arguments":{"retry":300}}})).await;
    let (answer, _) = bridge.recv_answer(json!(7)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "resumed");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited for the retry hint"
    );
    let resume = server
        .http(Method::GET)
        .into_iter()
        .find(|r| r.header("last-event-id").is_some())
        .expect("a resuming GET");
    assert_eq!(resume.header("last-event-id"), Some("resume-7"));
    assert_eq!(resume.header("mcp-session-id"), Some("session-1"));
    // No second answer follows.
    let answer2 = bridge.request(8, "ping", json!({})).await;
    assert_eq!(answer2["id"], 8);
    bridge.finish().await;
}

/// The same answer arriving on two streams reaches the host once.
#[tokio::test]
async fn duplicate_answers_are_dropped() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    server.wait_get_stream().await;
    bridge
        .send(json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"dup"}}))
        .await;
    let (answer, _) = bridge.recv_answer(json!(3)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "once");
    let after = bridge.request(4, "ping", json!({})).await;
    assert_eq!(after["id"], 4, "the duplicate answer to 3 was not written");
    bridge.finish().await;
}

/// A 404 on a live session: the bridge replays the host's handshake under its own id,
/// retries, and every request in flight gets exactly one answer. The host never sees the
/// replayed initialize.
#[tokio::test]
async fn expired_session_is_reinitialized_invisibly() {
    for answer in [Answer::Json, Answer::Sse] {
        let server = MockMcp::start(Config {
            answer,
            ..Config::default()
        })
        .await;
        let mut bridge = Bridge::start(&[&server.url()]);
        bridge.initialize().await;
        server.wait_get_stream().await;
        server.expire_sessions();
        for id in 1..=3 {
            bridge.send(echo(id, &format!("after expiry {id}"))).await;
        }
        let mut seen = Vec::new();
        for _ in 0..3 {
            let m = bridge.recv().await;
            assert!(m.get("method").is_none(), "only answers expected, got {m}");
            assert_eq!(
                m["result"]["content"][0]["text"],
                format!("after expiry {}", m["id"])
            );
            seen.push(m["id"].as_i64().unwrap());
        }
        seen.sort();
        assert_eq!(seen, vec![1, 2, 3]);
        let inits = server.calls("initialize");
        assert_eq!(
            inits.len(),
            2,
            "one replay for three concurrent 404s ({answer:?})"
        );
        assert_ne!(
            inits[1].body["id"],
            json!(0),
            "the replay uses the bridge's own id"
        );
        assert_eq!(inits[1].body["params"], inits[0].body["params"]);
        assert_eq!(server.calls("notifications/initialized").len(), 2);
        let last = server.calls("tools/call").pop().unwrap();
        assert_eq!(last.header("mcp-session-id"), Some("session-2"));
        // Nothing else is pending: the next answer is the next request's.
        assert_eq!(bridge.request(9, "ping", json!({})).await["id"], 9);
        bridge.finish().await;
    }
}

/// A server that answers a lost session with 400 "No valid session ID" (the TypeScript SDK
/// examples do) is treated like the specified 404: a new session, invisibly.
#[tokio::test]
async fn session_400_is_treated_as_expired() {
    let server = MockMcp::start(Config {
        unknown_session_400: true,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    server.expire_sessions();
    let answer = bridge
        .request(
            1,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"again"}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "again");
    assert_eq!(server.calls("initialize").len(), 2);
    bridge.finish().await;
}

/// On stdin EOF the session is deleted; a server that refuses DELETE (405) is fine.
#[tokio::test]
async fn session_is_deleted_on_shutdown() {
    for delete in [true, false] {
        let server = MockMcp::start(Config {
            delete,
            ..Config::default()
        })
        .await;
        let mut bridge = Bridge::start(&[&server.url()]);
        bridge.initialize().await;
        let (code, stderr) = bridge.finish().await;
        assert_eq!(code, Some(0), "{stderr}");
        let deletes = server.http(Method::DELETE);
        assert_eq!(deletes.len(), 1);
        assert_eq!(deletes[0].header("mcp-session-id"), Some("session-1"));
    }
}

/// A server request arriving during a pending tools/call (elicitation) is answered by the
/// host while the call is still open, and the call then completes: no deadlock.
#[tokio::test]
async fn elicitation_during_a_call_does_not_deadlock() {
    let server = MockMcp::start(Config {
        answer: Answer::Sse,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    bridge
        .send(json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"elicit"}}))
        .await;
    assert_eq!(bridge.recv().await["method"], "notifications/message");
    let ask = bridge.recv().await;
    assert_eq!(ask["method"], "elicitation/create");
    bridge.send(json!({"jsonrpc":"2.0","id":ask["id"],"result":{"action":"accept","content":{"name":"Ada"}}})).await;
    let (answer, _) = bridge.recv_answer(json!(5)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "hello Ada");
    bridge.finish().await;
}

/// Requests are forwarded concurrently: a fast call overtakes a slow one.
#[tokio::test]
async fn requests_are_concurrent() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    bridge.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow","arguments":{"ms":1500}}})).await;
    bridge.send(echo(2, "fast")).await;
    assert_eq!(bridge.recv().await["id"], 2);
    assert_eq!(bridge.recv().await["id"], 1);
    bridge.finish().await;
}

/// `--ignore-tool` hides tools from tools/list and refuses calls to them locally.
#[tokio::test]
async fn ignored_tools_are_hidden_and_refused() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--ignore-tool", "delete*"]);
    bridge.initialize().await;
    let list = bridge.request(1, "tools/list", json!({})).await;
    let names: Vec<_> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("echo")]);
    let refused = bridge
        .request(2, "tools/call", json!({"name":"delete_everything"}))
        .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--ignore-tool")
    );
    bridge.finish().await;
    assert!(
        server.calls("tools/call").is_empty(),
        "the refused call never reached the server"
    );
}
