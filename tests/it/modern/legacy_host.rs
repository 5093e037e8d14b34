//! A legacy host (2025-06-18, `initialize`) on a 2026-07-28 server: the bridge answers the
//! handshake itself, adds `_meta` and the headers to every request, hides invalid tools,
//! turns "input required" results into requests to the host, and cancels by closing streams.

use super::{
    assert_modern_request, call, legacy_host_capabilities, legacy_host_info, legacy_host_on,
    tool_names,
};
use crate::support::modern_mock::{
    self, Config, META_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL, META_VERSION, ModernMock,
};
use axum::http::Method;
use base64::Engine;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn b64(s: &str) -> String {
    format!(
        "=?base64?{}?=",
        base64::engine::general_purpose::STANDARD.encode(s)
    )
}

/// `initialize` is answered by the bridge from `server/discover` (the host's version, the
/// server's capabilities, serverInfo and instructions); `initialize`,
/// `notifications/initialized`, `ping` and `logging/setLevel` never reach the server; every
/// request that does carries the host's identity in `_meta` and the 2026-07-28 headers.
#[tokio::test]
async fn handshake_is_answered_by_the_bridge() {
    let server = ModernMock::start(Config::default()).await;
    let (mut bridge, init) = legacy_host_on(&server).await;
    let result = &init["result"];
    assert_eq!(result["protocolVersion"], "2025-06-18", "{init}");
    assert_eq!(result["capabilities"], json!({"tools": {}}));
    assert_eq!(
        result["serverInfo"],
        json!({"name": "modern-mock", "version": "2.0.0"})
    );
    assert_eq!(result["instructions"], "modern mock instructions");

    assert_eq!(
        bridge.request(1, "ping", json!({})).await["result"],
        json!({})
    );
    let set = bridge
        .request(2, "logging/setLevel", json!({"level": "debug"}))
        .await;
    assert_eq!(set["result"], json!({}), "{set}");
    let list = bridge.request(3, "tools/list", json!({})).await;
    assert_eq!(
        tool_names(&list),
        modern_mock::valid_tool_names(),
        "the invalid tool is hidden"
    );
    assert_eq!(list["result"]["ttlMs"], 0, "cache fields pass through");

    assert_eq!(server.methods(), ["server/discover", "tools/list"]);
    for r in server.requests() {
        assert_modern_request(&r);
        let meta = &r.body["params"]["_meta"];
        assert_eq!(meta[META_CAPABILITIES], legacy_host_capabilities());
        assert_eq!(meta[META_CLIENT_INFO], legacy_host_info());
        assert_eq!(
            r.header("accept"),
            Some("application/json, text/event-stream")
        );
        assert_eq!(r.header("mcp-session-id"), None);
    }
    let probe = &server.calls("server/discover")[0];
    assert!(probe.body["params"]["_meta"].get(META_LOG_LEVEL).is_none());
    let list_req = &server.calls("tools/list")[0];
    assert_eq!(list_req.body["params"]["_meta"][META_LOG_LEVEL], "debug");
    assert!(server.rejections().is_empty(), "{:?}", server.rejections());

    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
    assert!(
        server.requests().iter().all(|r| r.method == Method::POST),
        "no GET stream and no DELETE for a 2026-07-28 server"
    );
}

/// Arguments declared with `x-mcp-header` go out as `Mcp-Param-*` headers (base64 for a
/// non-ASCII value, decimal text for a nested integer, nothing for null), with `Mcp-Name`;
/// a call to the hidden tool is refused without reaching the server.
#[tokio::test]
async fn tool_calls_carry_param_headers() {
    let server = ModernMock::start(Config::default()).await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    bridge.request(1, "tools/list", json!({})).await;

    let args = json!({"text": "grüezi", "region": "Zürich", "options": {"priority": 42}});
    bridge.send(call(2, "echo", args)).await;
    let (answer, _) = bridge.recv_answer(json!(2)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "grüezi", "{answer}");
    bridge
        .send(call(3, "echo", json!({"text": "a", "region": "eu-west-1"})))
        .await;
    bridge.recv_answer(json!(3)).await;
    bridge
        .send(call(4, "echo", json!({"text": "b", "region": null})))
        .await;
    bridge.recv_answer(json!(4)).await;

    let calls = server.tool_calls("echo");
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].header("mcp-name"), Some("echo"));
    assert_eq!(
        calls[0].header("mcp-param-region"),
        Some(b64("Zürich").as_str())
    );
    assert_eq!(
        calls[0].header("mcp-param-region"),
        Some("=?base64?WsO8cmljaA==?=")
    );
    assert_eq!(calls[0].header("mcp-param-priority"), Some("42"));
    assert_eq!(calls[1].header("mcp-param-region"), Some("eu-west-1"));
    assert_eq!(calls[1].header("mcp-param-priority"), None);
    assert_eq!(
        calls[2].header("mcp-param-region"),
        None,
        "null sends nothing"
    );
    for r in &calls {
        assert_modern_request(r);
    }

    bridge.send(call(5, "broken", json!({"filter": {}}))).await;
    let (refused, _) = bridge.recv_answer(json!(5)).await;
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("broken"), "{refused}");
    assert!(
        server.tool_calls("broken").is_empty(),
        "the hidden tool never reached the server"
    );
    assert!(server.rejections().is_empty(), "{:?}", server.rejections());
    bridge.finish().await;
}

/// A host that calls a tool without listing first (it kept the list from an earlier
/// session) still cannot call a hidden tool, and still gets the tool's `Mcp-Param-*`
/// headers: on a cache miss the bridge lists the tools itself, every page, with the host's
/// `_meta`, once.
#[tokio::test]
async fn calls_without_a_list_still_carry_headers() {
    let server = ModernMock::start(Config {
        paginate: true,
        ..Config::default()
    })
    .await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    // `broken` is on the second page: refusing it means every page was read.
    bridge.send(call(1, "broken", json!({}))).await;
    let (refused, _) = bridge.recv_answer(json!(1)).await;
    assert!(refused.get("error").is_some(), "{refused}");
    assert!(server.tool_calls("broken").is_empty());

    let args = json!({"text": "t", "region": "ap-south-1"});
    bridge.send(call(2, "echo", args)).await;
    let (answer, _) = bridge.recv_answer(json!(2)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "t", "{answer}");
    let calls = server.tool_calls("echo");
    assert_eq!(calls[0].header("mcp-param-region"), Some("ap-south-1"));

    assert_eq!(
        server.methods(),
        ["server/discover", "tools/list", "tools/list", "tools/call"]
    );
    let lists = server.calls("tools/list");
    assert!(lists[0].body["params"].get("cursor").is_none());
    assert_eq!(lists[1].body["params"]["cursor"], "page-2");
    for r in &lists {
        assert_modern_request(r);
        let meta = &r.body["params"]["_meta"];
        assert_eq!(meta[META_CLIENT_INFO], legacy_host_info());
        assert_eq!(meta[META_CAPABILITIES], legacy_host_capabilities());
    }
    assert!(server.rejections().is_empty(), "{:?}", server.rejections());
    bridge.finish().await;
}

/// Answers the next message, which must be the bridge's `elicitation/create` request, with
/// `result`; returns that request.
async fn answer_elicitation(bridge: &mut crate::support::Bridge, reply: Value) -> Value {
    let ask = bridge.recv().await;
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    assert!(
        ask["id"].is_string() || ask["id"].is_number(),
        "a request: {ask}"
    );
    let mut answer = json!({"jsonrpc": "2.0", "id": ask["id"]});
    for (k, v) in reply.as_object().expect("reply is an object") {
        answer[k] = v.clone();
    }
    bridge.send(answer).await;
    ask
}

/// "Input required" (answered as JSON and as a stream): the host gets an ordinary
/// `elicitation/create` request, and after it answers, the final result under its own id.
/// The server sees a retry with a new id, the host's answer in `inputResponses`, the request
/// state echoed exactly, and no state when it sent none.
#[tokio::test]
async fn input_required_becomes_a_host_request() {
    for sse in [false, true] {
        input_required_round_trip(sse).await;
    }
}

async fn input_required_round_trip(sse: bool) {
    let server = ModernMock::start(Config {
        sse,
        ..Config::default()
    })
    .await;
    let (mut bridge, _) = legacy_host_on(&server).await;

    bridge
        .send(call(7, "confirm", json!({"what": "deploy"})))
        .await;
    let accept = json!({"action": "accept", "content": {"confirmed": true}});
    let ask = answer_elicitation(&mut bridge, json!({"result": accept})).await;
    assert_eq!(ask["params"]["message"], "Proceed?");
    assert_eq!(
        ask["params"]["requestedSchema"]["properties"]["confirmed"]["type"],
        "boolean"
    );
    let (done, before) = bridge.recv_answer(json!(7)).await;
    assert!(before.is_empty(), "{before:?}");
    let result = &done["result"];
    assert_eq!(result["content"][0]["text"], "confirmed", "{done}");
    assert_eq!(
        result["structuredContent"]["inputResponses"]["confirm"],
        accept
    );

    let calls = server.tool_calls("confirm");
    assert_eq!(calls.len(), 2);
    let (first, retry) = (&calls[0].body, &calls[1].body);
    assert!(first["params"].get("inputResponses").is_none());
    assert_ne!(first["id"], retry["id"], "the retry is a new request");
    assert_eq!(
        retry["params"]["inputResponses"],
        json!({"confirm": accept})
    );
    assert_eq!(
        retry["params"]["requestState"],
        json!(modern_mock::request_state(&first["id"])),
        "the state is echoed byte for byte"
    );
    assert_eq!(retry["params"]["arguments"], json!({"what": "deploy"}));
    assert_modern_request(&calls[1]);
    assert_eq!(calls[1].header("mcp-name"), Some("confirm"));
    assert_eq!(
        retry["params"]["_meta"][META_CLIENT_INFO],
        legacy_host_info()
    );

    bridge.send(call(8, "confirm_stateless", json!({}))).await;
    let decline = json!({"action": "decline"});
    answer_elicitation(&mut bridge, json!({"result": decline})).await;
    let (done, _) = bridge.recv_answer(json!(8)).await;
    assert_eq!(
        done["result"]["structuredContent"]["inputResponses"]["confirm"],
        decline
    );
    let calls = server.tool_calls("confirm_stateless");
    assert_eq!(calls.len(), 2);
    assert!(
        calls[1].body["params"].get("requestState").is_none(),
        "no state when the server sent none: {}",
        calls[1].body
    );
    assert!(server.rejections().is_empty(), "{:?}", server.rejections());
    bridge.finish().await;
}

/// A host that fails the input request gets an error for its call, and the server sees no
/// retry.
#[tokio::test]
async fn input_request_error_fails_the_call() {
    let server = ModernMock::start(Config::default()).await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    bridge.send(call(3, "confirm", json!({}))).await;
    let error = json!({"error": {"code": -32601, "message": "no elicitation here"}});
    answer_elicitation(&mut bridge, error).await;
    let (done, _) = bridge.recv_answer(json!(3)).await;
    assert!(done.get("error").is_some(), "{done}");
    assert_eq!(server.tool_calls("confirm").len(), 1);
    bridge.finish().await;
}

/// Progress notifications on the answer stream reach the host before the result, and the
/// host's progress token goes up in `_meta` beside the protocol keys.
#[tokio::test]
async fn progress_arrives_before_the_result() {
    let server = ModernMock::start(Config::default()).await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    bridge
        .send(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
            "params": {"name": "progress", "arguments": {}, "_meta": {"progressToken": "p-1"}}}))
        .await;
    let (done, before) = bridge.recv_answer(json!(4)).await;
    assert_eq!(
        done["result"]["content"][0]["text"], "progress done",
        "{done}"
    );
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["method"], "notifications/progress");
    assert_eq!(before[0]["params"]["progressToken"], "p-1");
    let meta = &server.tool_calls("progress")[0].body["params"]["_meta"];
    assert_eq!(meta["progressToken"], "p-1");
    assert_eq!(meta[META_VERSION], modern_mock::VERSION);
    bridge.finish().await;
}

/// `notifications/cancelled` from the host closes the call's answer stream (the server sees
/// the disconnect long before it would answer), nothing is POSTed for it, and the host gets
/// exactly one answer for the id: an error. The connection keeps working.
#[tokio::test]
async fn cancel_closes_the_stream() {
    let server = ModernMock::start(Config::default()).await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    let started = Instant::now();
    bridge
        .send(json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
            "params": {"name": "slow", "arguments": {}, "_meta": {"progressToken": "s-1"}}}))
        .await;
    let note = bridge.recv().await;
    assert_eq!(note["params"]["message"], "started", "{note}");
    bridge
        .send(
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 9, "reason": "the user changed their mind"}}),
        )
        .await;
    let posted_id = server.tool_calls("slow")[0].body["id"].clone();
    server.wait_disconnect(&posted_id).await;
    let (answer, _) = bridge.recv_answer(json!(9)).await;
    assert!(answer.get("error").is_some(), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(10));

    bridge
        .send(call(10, "echo", json!({"text": "still here"})))
        .await;
    let (answer, _) = bridge.recv_answer(json!(10)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "still here");
    bridge.close_stdin();
    let rest = bridge.drain_stdout().await;
    assert!(
        rest.iter().all(|m| m["id"] != json!(9)),
        "one answer only: {rest:?}"
    );
    assert!(server.calls("notifications/cancelled").is_empty());
    assert_eq!(
        server
            .methods()
            .iter()
            .filter(|m| *m == "tools/call")
            .count(),
        2
    );
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
}

/// Several input requests in one round reach the host together (it may answer them in any
/// order), and a server that asks again gets a further round: each retry carries only that
/// round's answers and state, and the host still gets one result under its own id.
#[tokio::test]
async fn input_required_rounds_and_parallel_requests() {
    let server = ModernMock::start(Config::default()).await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    bridge.send(call(11, "survey", json!({"n": 1}))).await;
    let first = bridge.recv().await;
    let second = bridge.recv().await;
    let mut asks = [&first, &second].map(|a| {
        assert_eq!(a["method"], "elicitation/create", "{a}");
        (
            a["params"]["message"].as_str().unwrap().to_owned(),
            a["id"].clone(),
        )
    });
    asks.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(asks[0].0, "Color?");
    assert_eq!(asks[1].0, "Name?");
    assert_ne!(asks[0].1, asks[1].1);
    // The second question is answered first.
    for (message, id) in asks.iter().rev() {
        let content = json!({"answer": format!("for {message}")});
        bridge
            .send(json!({"jsonrpc": "2.0", "id": id, "result": {"action": "accept", "content": content}}))
            .await;
    }
    let sure = json!({"action": "accept", "content": {"answer": "yes"}});
    let ask = answer_elicitation(&mut bridge, json!({"result": sure})).await;
    assert_eq!(ask["params"]["message"], "Sure?");
    let (done, _) = bridge.recv_answer(json!(11)).await;
    assert_eq!(
        done["result"]["content"][0]["text"], "survey done",
        "{done}"
    );
    assert_eq!(
        done["result"]["structuredContent"]["inputResponses"],
        json!({"sure": sure})
    );

    let calls = server.tool_calls("survey");
    assert_eq!(calls.len(), 3);
    let ids: Vec<_> = calls.iter().map(|c| c.body["id"].clone()).collect();
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
    let round2 = &calls[1].body["params"];
    assert_eq!(round2["requestState"], "round-1");
    assert_eq!(
        round2["inputResponses"]["name"]["content"]["answer"],
        "for Name?"
    );
    assert_eq!(
        round2["inputResponses"]["color"]["content"]["answer"],
        "for Color?"
    );
    let round3 = &calls[2].body["params"];
    assert_eq!(round3["requestState"], "round-2");
    assert_eq!(round3["inputResponses"], json!({"sure": sure}));
    assert_eq!(round3["arguments"], json!({"n": 1}));
    bridge.finish().await;
}

/// Cancelling a call while the bridge waits for the host's input abandons it: the host gets
/// one error for the call and a `notifications/cancelled` for the bridge's input request, a
/// late answer to that request goes nowhere, and the server sees no retry.
#[tokio::test]
async fn cancel_while_waiting_for_input() {
    let server = ModernMock::start(Config::default()).await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    bridge.send(call(12, "confirm", json!({}))).await;
    let ask = bridge.recv().await;
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    bridge
        .send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 12}}))
        .await;
    let (answer, before) = bridge.recv_answer(json!(12)).await;
    assert!(answer.get("error").is_some(), "{answer}");
    let mut seen = before;
    bridge
        .send(json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept", "content": {}}}))
        .await;
    assert_eq!(
        bridge.request(13, "ping", json!({})).await["result"],
        json!({})
    );
    bridge.close_stdin();
    seen.extend(bridge.drain_stdout().await);
    let cancelled: Vec<_> = seen
        .iter()
        .filter(|m| m["method"] == "notifications/cancelled")
        .collect();
    assert_eq!(cancelled.len(), 1, "{seen:?}");
    assert_eq!(cancelled[0]["params"]["requestId"], ask["id"]);
    assert!(seen.iter().all(|m| m["id"] != json!(12)), "{seen:?}");
    assert_eq!(server.tool_calls("confirm").len(), 1, "no retry");
    bridge.finish().await;
}

/// An answer stream that ends without a response gives the host one error for its call.
#[tokio::test]
async fn stream_without_an_answer_is_an_error() {
    let server = ModernMock::start(Config::default()).await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    bridge.send(call(14, "vanish", json!({}))).await;
    let (answer, _) = bridge.recv_answer(json!(14)).await;
    assert!(answer.get("error").is_some(), "{answer}");
    assert_eq!(server.tool_calls("vanish").len(), 1, "not reissued");
    bridge.close_stdin();
    let rest = bridge.drain_stdout().await;
    assert!(rest.iter().all(|m| m["id"] != json!(14)), "{rest:?}");
    bridge.finish().await;
}

/// A result type the host's era has no notion of (neither "complete" nor a handled
/// "input_required") reaches a legacy host as an error, not as a result it would misread.
#[tokio::test]
async fn unknown_result_type_is_an_error() {
    let server = ModernMock::start(Config::default()).await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    bridge.send(call(15, "odd", json!({}))).await;
    let (answer, _) = bridge.recv_answer(json!(15)).await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("pending_approval"), "{answer}");
    bridge.finish().await;
}

/// Legacy host, modern server that announces changes: one `subscriptions/listen` stream
/// stands in for the GET stream. The host gets the server's notifications (not the
/// acknowledgement), and `resources/subscribe` reopens the stream with the new resource.
#[tokio::test]
async fn listen_stream_carries_notifications() {
    let server = ModernMock::start(Config {
        subscriptions: true,
        ..Config::default()
    })
    .await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    for _ in 0..200 {
        if !server.listen_filters().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        server.listen_filters(),
        vec![json!({"toolsListChanged": true})]
    );
    assert_eq!(
        server
            .notify_listeners(
                json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            )
            .await,
        1
    );
    assert_eq!(
        bridge.recv().await["method"],
        "notifications/tools/list_changed",
        "the acknowledgement is not forwarded"
    );

    let answer = bridge
        .request(1, "resources/subscribe", json!({"uri": "file:///watched"}))
        .await;
    assert_eq!(answer["result"], json!({}));
    for _ in 0..200 {
        if server.listen_filters().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let filters = server.listen_filters();
    assert_eq!(
        filters[1],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["file:///watched"]})
    );
    let updated = json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "file:///watched"}});
    assert!(server.notify_listeners(updated).await >= 1);
    let got = bridge.recv().await;
    assert_eq!(
        (got["method"].clone(), got["params"]["uri"].clone()),
        (
            json!("notifications/resources/updated"),
            json!("file:///watched")
        )
    );
    assert!(
        server.calls("resources/subscribe").is_empty(),
        "answered by the bridge"
    );
    bridge.finish().await;
}

/// A tool whose header declaration changed after the bridge learned it: the server answers
/// -32020, and the bridge lists the tools again and retries once with the new header.
#[tokio::test]
async fn changed_header_declarations_are_learned_again() {
    let server = ModernMock::start(Config {
        moving_header: true,
        ..Config::default()
    })
    .await;
    let (mut bridge, _) = legacy_host_on(&server).await;
    let list = bridge.request(1, "tools/list", json!({})).await;
    assert!(tool_names(&list).contains(&"moved".to_owned()));
    let answer = bridge
        .request(
            2,
            "tools/call",
            json!({"name": "moved", "arguments": {"zone": "north"}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "north", "{answer}");
    let calls = server.tool_calls("moved");
    assert_eq!(calls.len(), 2, "refused once, retried once");
    assert_eq!(calls[0].header("mcp-param-zone"), Some("north"));
    assert_eq!(calls[1].header("mcp-param-area"), Some("north"));
    assert_eq!(
        server.calls("tools/list").len(),
        2,
        "the host's list, then the bridge's"
    );
    bridge.finish().await;
}
