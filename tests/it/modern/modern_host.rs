//! A 2026-07-28 host: on a 2026-07-28 server the bridge passes bodies through and adds the
//! HTTP headers; on an `initialize`-era server it performs the handshake upstream with what
//! the host's `_meta` says and answers `server/discover` itself.

use super::{assert_modern_request, modern_meta, modern_request, tool_names};
use crate::support::Bridge;
use crate::support::mock::{Config as LegacyConfig, MockMcp};
use crate::support::modern_mock::{
    self, Config, META_CAPABILITIES, META_CLIENT_INFO, META_SERVER_INFO, META_VERSION, ModernMock,
};
use axum::http::Method;
use serde_json::json;

/// Modern to modern: the host's `server/discover` is answered by the server, bodies reach
/// the server exactly as the host wrote them, the headers are added, the invalid tool is
/// hidden (and refused), and an "input required" result reaches the host unchanged: the host
/// runs the rounds itself.
#[tokio::test]
async fn passes_through_to_a_modern_server() {
    let server = ModernMock::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);

    let discover = modern_request(1, "server/discover", json!({}));
    bridge.send(discover.clone()).await;
    let (answer, _) = bridge.recv_answer(json!(1)).await;
    assert_eq!(answer["result"], modern_mock::discover_result(), "{answer}");

    let list = modern_request(2, "tools/list", json!({}));
    bridge.send(list.clone()).await;
    let (answer, _) = bridge.recv_answer(json!(2)).await;
    assert_eq!(tool_names(&answer), modern_mock::valid_tool_names());

    let echo = modern_request(
        3,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hi", "region": "  padded", "options": {"priority": -7}}}),
    );
    bridge.send(echo.clone()).await;
    let (answer, _) = bridge.recv_answer(json!(3)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "hi", "{answer}");

    let confirm = modern_request(4, "tools/call", json!({"name": "confirm", "arguments": {}}));
    bridge.send(confirm.clone()).await;
    let (answer, before) = bridge.recv_answer(json!(4)).await;
    assert!(before.is_empty(), "no request to the host: {before:?}");
    let result = &answer["result"];
    assert_eq!(result["resultType"], "input_required", "{answer}");
    assert_eq!(
        result["inputRequests"]["confirm"]["method"],
        "elicitation/create"
    );
    let state = modern_mock::request_state(&json!(4));
    assert_eq!(result["requestState"], json!(state));

    let accept = json!({"action": "accept", "content": {"confirmed": true}});
    let retry = modern_request(
        5,
        "tools/call",
        json!({"name": "confirm", "arguments": {}, "inputResponses": {"confirm": accept}, "requestState": state}),
    );
    bridge.send(retry.clone()).await;
    let (answer, _) = bridge.recv_answer(json!(5)).await;
    assert_eq!(
        answer["result"]["structuredContent"]["inputResponses"]["confirm"],
        accept
    );

    bridge
        .send(modern_request(
            6,
            "tools/call",
            json!({"name": "broken", "arguments": {}}),
        ))
        .await;
    let (refused, _) = bridge.recv_answer(json!(6)).await;
    assert!(refused.get("error").is_some(), "{refused}");
    assert!(server.tool_calls("broken").is_empty());

    // The bridge's own probe, then the host's requests, verbatim.
    let seen = server.requests();
    assert_eq!(
        server.methods(),
        [
            "server/discover",
            "server/discover",
            "tools/list",
            "tools/call",
            "tools/call",
            "tools/call"
        ]
    );
    for (r, sent) in seen[1..]
        .iter()
        .zip([&discover, &list, &echo, &confirm, &retry])
    {
        assert_eq!(&r.body, sent, "the body passes through untouched");
        assert_modern_request(r);
    }
    let echo_req = &seen[3];
    assert_eq!(echo_req.header("mcp-name"), Some("echo"));
    assert_eq!(
        echo_req.header("mcp-param-region"),
        Some("=?base64?ICBwYWRkZWQ=?="),
        "leading spaces need base64"
    );
    assert_eq!(echo_req.header("mcp-param-priority"), Some("-7"));
    assert_eq!(
        seen[0].body["params"]["_meta"][META_CLIENT_INFO],
        modern_meta()[META_CLIENT_INFO],
        "the probe speaks for the host"
    );
    assert!(server.rejections().is_empty(), "{:?}", server.rejections());
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
}

/// A host asking for a version the server does not speak gets the server's -32022 (with the
/// supported versions) unchanged, so it can retry with one of them; the probe is not fooled
/// into thinking the server is legacy.
#[tokio::test]
async fn version_errors_reach_the_host() {
    let server = ModernMock::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    let mut discover = modern_request(1, "server/discover", json!({}));
    discover["params"]["_meta"][META_VERSION] = json!("2099-01-01");
    bridge.send(discover).await;
    let (answer, _) = bridge.recv_answer(json!(1)).await;
    assert_eq!(answer["error"]["code"], -32022, "{answer}");
    assert_eq!(
        answer["error"]["data"]["supported"],
        json!([modern_mock::VERSION])
    );

    bridge
        .send(modern_request(2, "server/discover", json!({})))
        .await;
    let (answer, _) = bridge.recv_answer(json!(2)).await;
    assert_eq!(
        answer["result"]["supportedVersions"],
        json!([modern_mock::VERSION]),
        "{answer}"
    );
    assert!(server.calls("initialize").is_empty());
    for r in server.requests() {
        assert_eq!(
            r.header("mcp-protocol-version"),
            r.body["params"]["_meta"][META_VERSION].as_str(),
            "the header always agrees with the body"
        );
    }
    bridge.finish().await;
}

/// Modern host, legacy server: the bridge initializes upstream with the host's clientInfo
/// and capabilities from `_meta`, sends `notifications/initialized`, answers every
/// `server/discover` from the `initialize` result, and relays tool calls over the session.
#[tokio::test]
async fn translates_for_a_legacy_server() {
    let server = MockMcp::start(LegacyConfig::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge
        .send(modern_request(1, "server/discover", json!({})))
        .await;
    let (discovered, _) = bridge.recv_answer(json!(1)).await;
    let result = &discovered["result"];
    assert_eq!(
        result["supportedVersions"],
        json!([modern_mock::VERSION]),
        "{discovered}"
    );
    assert_eq!(result["capabilities"], json!({"tools": {}}));
    assert_eq!(
        result["_meta"][META_SERVER_INFO],
        json!({"name": "mock", "version": "1"})
    );
    assert_eq!(result["resultType"], "complete");

    let echo = modern_request(
        2,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "old friend"}}),
    );
    bridge.send(echo).await;
    let (answer, _) = bridge.recv_answer(json!(2)).await;
    assert_eq!(
        answer["result"]["content"][0]["text"], "old friend",
        "{answer}"
    );
    bridge
        .send(modern_request(3, "server/discover", json!({})))
        .await;
    let (again, _) = bridge.recv_answer(json!(3)).await;
    assert_eq!(&again["result"], result);

    let posts: Vec<_> = server
        .http(Method::POST)
        .iter()
        .map(|r| r.rpc_method().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        posts,
        [
            "server/discover",
            "initialize",
            "notifications/initialized",
            "tools/call"
        ],
        "one probe, the handshake, the call; later discovers are answered locally"
    );
    let init = &server.calls("initialize")[0];
    let meta = modern_meta();
    assert_eq!(init.body["params"]["clientInfo"], meta[META_CLIENT_INFO]);
    assert_eq!(init.body["params"]["capabilities"], meta[META_CAPABILITIES]);
    assert_eq!(init.body["params"]["protocolVersion"], "2025-11-25");
    let call = &server.calls("tools/call")[0];
    assert_eq!(call.header("mcp-session-id"), Some("session-1"));
    assert_eq!(call.header("mcp-protocol-version"), Some("2025-11-25"));
    let call_meta = call.body["params"]
        .get("_meta")
        .cloned()
        .unwrap_or(json!({}));
    assert!(
        call_meta
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.starts_with("io.modelcontextprotocol/")),
        "the per-request protocol keys stay with the bridge: {call_meta}"
    );
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
}

/// Pinned to the initialize era (`--protocol legacy`, or `--sse`, whose transport has no
/// other): nothing is probed, and a 2026-07-28 host is still translated: the handshake goes
/// upstream before its first call (an HTTP+SSE server refuses requests before it).
#[tokio::test]
async fn pinned_to_the_initialize_era_still_translates() {
    let server = MockMcp::start(LegacyConfig::default()).await;
    let url = server.url();
    let sse = server.sse_url();
    for args in [
        vec![url.as_str(), "--protocol", "legacy"],
        vec!["--sse", sse.as_str()],
    ] {
        let mut bridge = Bridge::start(&args);
        let echo = modern_request(
            1,
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "pinned"}}),
        );
        bridge.send(echo).await;
        let (answer, _) = bridge.recv_answer(json!(1)).await;
        assert_eq!(
            answer["result"]["content"][0]["text"], "pinned",
            "{args:?}: {answer}"
        );
        let (code, _) = bridge.finish().await;
        assert_eq!(code, Some(0));
    }
    let posts: Vec<_> = server
        .http(Method::POST)
        .iter()
        .map(|r| r.rpc_method().unwrap_or_default().to_owned())
        .collect();
    assert!(
        !posts.iter().any(|m| m == "server/discover"),
        "never probed: {posts:?}"
    );
    assert_eq!(
        posts
            .iter()
            .filter(|m| *m == "notifications/initialized")
            .count(),
        2,
        "one handshake each: {posts:?}"
    );
}

/// Modern host, legacy server: a request at a protocol version the bridge does not serve
/// gets "unsupported version" (listing 2026-07-28) from the bridge, not from the server.
#[tokio::test]
async fn other_versions_are_refused_for_a_legacy_server() {
    let server = MockMcp::start(LegacyConfig::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge
        .send(modern_request(1, "server/discover", json!({})))
        .await;
    bridge.recv_answer(json!(1)).await;
    let mut odd = modern_request(2, "tools/list", json!({}));
    odd["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    bridge.send(odd).await;
    let (answer, _) = bridge.recv_answer(json!(2)).await;
    assert_eq!(answer["error"]["code"], -32022, "{answer}");
    assert_eq!(
        answer["error"]["data"]["supported"],
        json!([modern_mock::VERSION])
    );
    assert!(server.calls("tools/list").is_empty());
    bridge.finish().await;
}

/// Modern host, legacy server: the server's question in the middle of a call reaches the
/// host as an "input required" result; the host's retry carries the answer back upstream
/// and gets the call's result under the retry's id. The call runs once on the server.
#[tokio::test]
async fn server_questions_become_input_required() {
    let server = MockMcp::start(LegacyConfig {
        answer: crate::support::mock::Answer::Sse,
        ..LegacyConfig::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge
        .send(modern_request(1, "server/discover", json!({})))
        .await;
    bridge.recv_answer(json!(1)).await;
    bridge
        .send(modern_request(2, "tools/call", json!({"name": "elicit"})))
        .await;
    let (answer, _) = bridge.recv_answer(json!(2)).await;
    let result = &answer["result"];
    assert_eq!(result["resultType"], "input_required", "{answer}");
    let (key, ask) = result["inputRequests"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    assert_eq!(ask["method"], "elicitation/create");
    assert_eq!(ask["params"]["message"], "name?");
    let retry = modern_request(
        3,
        "tools/call",
        json!({"name": "elicit", "inputResponses": {key.as_str(): {"action": "accept", "content": {"name": "Ada"}}},
               "requestState": result["requestState"]}),
    );
    bridge.send(retry).await;
    let (done, _) = bridge.recv_answer(json!(3)).await;
    assert_eq!(done["result"]["content"][0]["text"], "hello Ada", "{done}");
    assert_eq!(
        server.calls("tools/call").len(),
        1,
        "the call ran once upstream"
    );
    bridge.finish().await;
}

/// A server that floods one call with questions (5,000 elicitations before the host could
/// answer one) gets an error for each one past the bound; the host sees one
/// `input_required`, and the bridge goes on answering.
#[tokio::test]
async fn a_flood_of_server_questions_is_bounded() {
    let server = MockMcp::start(LegacyConfig {
        answer: crate::support::mock::Answer::Sse,
        ..LegacyConfig::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge
        .send(modern_request(1, "server/discover", json!({})))
        .await;
    bridge.recv_answer(json!(1)).await;
    let count = 5_000;
    bridge
        .send(modern_request(
            2,
            "tools/call",
            json!({"name": "flood", "arguments": {"count": count}}),
        ))
        .await;
    let (answer, _) = bridge.recv_answer(json!(2)).await;
    assert_eq!(answer["result"]["resultType"], "input_required", "{answer}");
    // Every question past the bound is refused to the server.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let refused = loop {
        let refused: Vec<_> = server
            .unclaimed()
            .into_iter()
            .filter(|a| a["error"]["code"] == -32000)
            .collect();
        if refused.len() >= count - 16 || std::time::Instant::now() > deadline {
            break refused;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(refused.len(), count - 16);
    assert!(
        refused[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many questions")
    );
    bridge.send(modern_request(3, "ping", json!({}))).await;
    let (pong, _) = bridge.recv_answer(json!(3)).await;
    assert!(
        pong.get("result").is_some() || pong.get("error").is_some(),
        "{pong}"
    );
    bridge.finish().await;
}
