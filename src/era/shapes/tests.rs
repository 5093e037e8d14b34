use super::*;
use crate::mcp::{
    META_CAPABILITIES, META_CLIENT_INFO, META_SERVER_INFO, META_VERSION, MODERN_VERSION,
    UNSUPPORTED_VERSION,
};

fn msg(text: &str) -> Message {
    Message::parse(text).unwrap()
}

/// The host's initialize becomes every request's `_meta`, merged with the host's own.
#[test]
fn adds_meta() {
    let host = HostIdentity::from_initialize(&msg(
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"h","version":"1"}}}"#,
    ));
    let out = with_meta(
        &msg(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
        &host.meta(MODERN_VERSION),
    );
    let v: Value = serde_json::from_str(out.as_str()).unwrap();
    assert_eq!(v["params"]["_meta"][META_VERSION], MODERN_VERSION);
    assert_eq!(
        v["params"]["_meta"][META_CAPABILITIES]["elicitation"],
        json!({})
    );
    assert_eq!(v["params"]["_meta"][META_CLIENT_INFO]["name"], "h");
    let out = with_meta(
        &msg(
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","_meta":{"progressToken":7}}}"#,
        ),
        &host.meta(MODERN_VERSION),
    );
    let v: Value = serde_json::from_str(out.as_str()).unwrap();
    assert_eq!(v["params"]["_meta"]["progressToken"], 7);
    assert_eq!(v["params"]["name"], "t");
    assert_eq!(modern_version_of(&out).as_deref(), Some(MODERN_VERSION));
}

/// The synthesized initialize result keeps the host's version and finds serverInfo in
/// either place servers put it.
#[test]
fn synthesizes_initialize() {
    let host = HostIdentity::from_initialize(&msg(
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}"#,
    ));
    let spec = json!({"supportedVersions":["2026-07-28"],"capabilities":{"tools":{}},"_meta":{META_SERVER_INFO:{"name":"s","version":"2"}},"instructions":"hi"});
    let r = initialize_result(&spec, &host, "h");
    assert_eq!(
        (
            r["protocolVersion"].clone(),
            r["serverInfo"]["name"].clone()
        ),
        (json!("2025-06-18"), json!("s"))
    );
    assert_eq!(r["instructions"], "hi");
    let quirk = json!({"supportedVersions":["2026-07-28"],"capabilities":{},"serverInfo":{"name":"q","version":"1"}});
    assert_eq!(
        initialize_result(&quirk, &host, "h")["serverInfo"]["name"],
        "q"
    );
    assert_eq!(
        initialize_result(&json!({}), &host, "h")["serverInfo"]["name"],
        "h"
    );
    let odd = HostIdentity::from_initialize(&msg(
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}"#,
    ));
    assert_eq!(
        initialize_result(&spec, &odd, "h")["protocolVersion"],
        "2025-11-25"
    );
    assert_eq!(
        odd.meta(MODERN_VERSION)[META_CLIENT_INFO]["name"],
        "mcp-bridge"
    );
}

/// An input-required result is read, and the retry carries answers and exactly the state.
#[test]
fn mrtr_round_trip() {
    let result = json!({"resultType":"input_required","inputRequests":{"confirm":{"method":"elicitation/create","params":{}}},"requestState":"{\"n\":1}"});
    let ir = input_required(&result).unwrap();
    assert_eq!(ir.requests.len(), 1);
    let original = msg(
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t","arguments":{"a":1}}}"#,
    );
    let mut answers = Map::new();
    answers.insert("confirm".into(), json!({"action":"accept","content":{}}));
    let retry = retry_request(
        &original,
        &Id::internal("retry", 1),
        answers,
        ir.state.as_ref(),
    );
    let v: Value = serde_json::from_str(retry.as_str()).unwrap();
    assert_eq!(v["id"], "mcp-bridge:retry:1");
    assert_eq!(v["params"]["requestState"], "{\"n\":1}");
    assert_eq!(v["params"]["inputResponses"]["confirm"]["action"], "accept");
    assert_eq!(v["params"]["arguments"]["a"], 1);
    let no_state = retry_request(&original, &Id::internal("retry", 2), Map::new(), None);
    let v: Value = serde_json::from_str(no_state.as_str()).unwrap();
    assert!(v["params"].get("requestState").is_none());
    assert_eq!(v["params"]["inputResponses"], json!({}));
    assert!(input_required(&json!({"content":[]})).is_none());
}

/// Protocol keys leave `_meta`; the rest of the request stays.
#[test]
fn strips_protocol_meta() {
    let m = msg(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","progressToken":3}}}"#,
    );
    let v: Value = serde_json::from_str(without_protocol_meta(&m).as_str()).unwrap();
    assert_eq!(v["params"]["_meta"], json!({"progressToken": 3}));
    let m = msg(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientInfo":{}}}}"#,
    );
    let v: Value = serde_json::from_str(without_protocol_meta(&m).as_str()).unwrap();
    assert_eq!(v["params"], json!({}));
    let e: Value =
        serde_json::from_str(unsupported_version(m.id().unwrap(), "2030-01-01").as_str()).unwrap();
    assert_eq!(e["error"]["code"], UNSUPPORTED_VERSION);
    assert_eq!(e["error"]["data"]["requested"], "2030-01-01");
}

/// A legacy server's initialize result becomes a DiscoverResult for a modern host.
#[test]
fn synthesizes_discover() {
    let r = discover_result(
        &json!({"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"s","version":"1"}}),
    );
    assert_eq!(r["supportedVersions"], json!([MODERN_VERSION]));
    assert_eq!(r["_meta"][META_SERVER_INFO]["name"], "s");
    assert_eq!(r["resultType"], "complete");
}
