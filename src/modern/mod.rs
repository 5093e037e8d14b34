//! The 2026-07-28 protocol ("modern"), as far as a bridge needs it: telling the eras apart,
//! the per-request `_meta`, `server/discover`, and "input required" results (MRTR).
//!
//! Everything here is pure: JSON in, JSON out. The transport (`transport/modern.rs`) does
//! the talking; this module only knows the shapes. Payloads a host sends are otherwise
//! forwarded untouched; these functions run only where the eras must be translated.

pub(crate) mod headers;

use crate::jsonrpc::{Id, Message};
use serde_json::{Map, Value, json};

/// The modern protocol version the bridge speaks.
pub(crate) const MODERN_VERSION: &str = "2026-07-28";
/// The legacy versions a host may ask for, newest first.
pub(crate) const LEGACY_VERSIONS: &[&str] =
    &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// `_meta` keys of the modern protocol.
pub(crate) const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub(crate) const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub(crate) const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
pub(crate) const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
pub(crate) const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// JSON-RPC error codes of the modern protocol.
pub(crate) const HEADER_MISMATCH: i64 = -32020;
pub(crate) const UNSUPPORTED_VERSION: i64 = -32022;
/// Methods whose results may ask for input.
pub(crate) const MRTR_METHODS: &[&str] = &["tools/call", "prompts/get", "resources/read"];

/// Which protocol a host speaks, judged from one of its requests.
pub(crate) fn modern_version_of(msg: &Message) -> Option<String> {
    let params: Value = msg.field("params")?;
    params
        .get("_meta")?
        .get(META_VERSION)?
        .as_str()
        .map(str::to_owned)
}

/// What a legacy host said about itself in `initialize`; it becomes every request's `_meta`.
#[derive(Debug, Clone)]
pub(crate) struct HostIdentity {
    pub(crate) requested_version: String,
    capabilities: Value,
    client_info: Value,
    log_level: Option<String>,
}

impl HostIdentity {
    pub(crate) fn from_initialize(msg: &Message) -> HostIdentity {
        let params: Value = msg.field("params").unwrap_or(Value::Null);
        let client_info = params
            .get("clientInfo")
            .filter(|i| i.get("name").is_some() && i.get("version").is_some())
            .cloned()
            .unwrap_or_else(|| json!({"name": "mcp-bridge", "version": env!("CARGO_PKG_VERSION")}));
        HostIdentity {
            requested_version: params
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            capabilities: params
                .get("capabilities")
                .filter(|c| c.is_object())
                .cloned()
                .unwrap_or(json!({})),
            client_info,
            log_level: None,
        }
    }

    /// Remembers `logging/setLevel` for later requests.
    pub(crate) fn set_log_level(&mut self, level: Option<String>) {
        self.log_level = level;
    }

    /// The `_meta` keys for a request at `version`.
    pub(crate) fn meta(&self, version: &str) -> Map<String, Value> {
        let mut meta = Map::new();
        meta.insert(META_VERSION.into(), json!(version));
        meta.insert(META_CAPABILITIES.into(), self.capabilities.clone());
        meta.insert(META_CLIENT_INFO.into(), self.client_info.clone());
        if let Some(level) = &self.log_level {
            meta.insert(META_LOG_LEVEL.into(), json!(level));
        }
        meta
    }

    /// The protocol version to tell the host: the one it asked for when we know it.
    fn version_for_host(&self) -> &str {
        LEGACY_VERSIONS
            .iter()
            .find(|v| **v == self.requested_version)
            .copied()
            .unwrap_or(LEGACY_VERSIONS[0])
    }
}

/// A request with `meta` merged into its `params._meta` (keys the host set stay, except the
/// protocol ones, which must agree with the headers).
pub(crate) fn with_meta(msg: &Message, meta: &Map<String, Value>) -> Message {
    let mut value: Value =
        serde_json::from_str(msg.as_str()).expect("messages are valid JSON objects");
    let params = value
        .as_object_mut()
        .expect("messages are JSON objects")
        .entry("params")
        .or_insert_with(|| json!({}));
    if !params.is_object() {
        *params = json!({});
    }
    let target = params
        .as_object_mut()
        .expect("made an object above")
        .entry("_meta")
        .or_insert_with(|| json!({}));
    if let Some(target) = target.as_object_mut() {
        for (k, v) in meta {
            target.insert(k.clone(), v.clone());
        }
    }
    Message::parse(&value.to_string()).expect("adding _meta keeps a valid request")
}

/// A modern request as an `initialize`-era server should see it: the per-request protocol
/// keys removed from `_meta` (the session carries them), everything else untouched.
pub(crate) fn without_protocol_meta(msg: &Message) -> Message {
    let mut value: Value =
        serde_json::from_str(msg.as_str()).expect("messages are valid JSON objects");
    let Some(params) = value.get_mut("params").and_then(Value::as_object_mut) else {
        return msg.clone();
    };
    let Some(meta) = params.get_mut("_meta").and_then(Value::as_object_mut) else {
        return msg.clone();
    };
    meta.retain(|k, _| !k.starts_with("io.modelcontextprotocol/"));
    if meta.is_empty() {
        params.remove("_meta");
    }
    Message::parse(&value.to_string()).expect("removing _meta keys keeps a valid request")
}

/// The answer to a request at a version the bridge cannot serve.
pub(crate) fn unsupported_version(id: &Id, requested: &str) -> Message {
    let error = json!({
        "code": UNSUPPORTED_VERSION,
        "message": "Unsupported protocol version",
        "data": {"supported": [MODERN_VERSION], "requested": requested},
    });
    let text = format!(
        r#"{{"jsonrpc":"2.0","id":{},"error":{error}}}"#,
        id.as_json()
    );
    Message::parse(&text).expect("a built error is a valid message")
}

/// The `server/discover` request the bridge sends as its probe.
pub(crate) fn discover_request(id: &Id, meta: &Map<String, Value>) -> Message {
    let text = format!(
        r#"{{"jsonrpc":"2.0","id":{},"method":"server/discover","params":{{"_meta":{}}}}}"#,
        id.as_json(),
        Value::Object(meta.clone())
    );
    Message::parse(&text).expect("a discover request is a valid message")
}

/// How a server answered the probe.
#[derive(Debug, PartialEq)]
pub(crate) enum ProbeAnswer {
    /// A DiscoverResult listing the modern version: a modern server.
    Modern(Value),
    /// A modern error asking for another version (or the same, once more).
    Retry(String),
    /// Anything else: a legacy server.
    Legacy,
}

/// Classifies the answer to `server/discover`: the HTTP status and the JSON-RPC message.
pub(crate) fn classify_probe(status: u16, reply: Option<&Value>) -> ProbeAnswer {
    let Some(reply) = reply else {
        return ProbeAnswer::Legacy;
    };
    if let Some(result) = reply.get("result").filter(|_| (200..300).contains(&status)) {
        let versions = result.get("supportedVersions").and_then(Value::as_array);
        return match versions {
            Some(v) if v.iter().any(|v| v.as_str() == Some(MODERN_VERSION)) => {
                ProbeAnswer::Modern(result.clone())
            }
            _ => ProbeAnswer::Legacy,
        };
    }
    let error = reply.get("error");
    if error.and_then(|e| e.get("code")).and_then(Value::as_i64) == Some(UNSUPPORTED_VERSION) {
        let supported = error
            .and_then(|e| e.pointer("/data/supported"))
            .and_then(Value::as_array);
        if supported.is_some_and(|v| v.iter().any(|v| v.as_str() == Some(MODERN_VERSION))) {
            return ProbeAnswer::Retry(MODERN_VERSION.to_owned());
        }
    }
    ProbeAnswer::Legacy
}

/// The `initialize` result a legacy host gets for a modern server, from its DiscoverResult.
pub(crate) fn initialize_result(
    discovered: &Value,
    host: &HostIdentity,
    fallback_name: &str,
) -> Value {
    let server_info = discovered
        .pointer(&format!("/_meta/{}", META_SERVER_INFO.replace('/', "~1")))
        .or_else(|| discovered.get("serverInfo"))
        .filter(|i| i.get("name").is_some())
        .cloned()
        .unwrap_or_else(|| json!({"name": fallback_name, "version": "0"}));
    let mut result = json!({
        "protocolVersion": host.version_for_host(),
        "capabilities": discovered.get("capabilities").cloned().unwrap_or(json!({})),
        "serverInfo": server_info,
    });
    if let Some(instructions) = discovered.get("instructions") {
        result["instructions"] = instructions.clone();
    }
    result
}

/// The `server/discover` result a modern host gets for a legacy server, from its
/// `initialize` result.
pub(crate) fn discover_result(initialized: &Value) -> Value {
    let mut result = json!({
        "resultType": "complete",
        "supportedVersions": [MODERN_VERSION],
        "capabilities": initialized.get("capabilities").cloned().unwrap_or(json!({})),
        "ttlMs": 0,
        "cacheScope": "private",
    });
    if let Some(info) = initialized.get("serverInfo") {
        result["_meta"] = json!({ META_SERVER_INFO: info });
    }
    if let Some(instructions) = initialized.get("instructions") {
        result["instructions"] = instructions.clone();
    }
    result
}

/// An "input required" result: the requests to answer and the state to echo.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InputRequired {
    pub(crate) requests: Map<String, Value>,
    pub(crate) state: Option<Value>,
}

/// Reads an "input required" result, if this is one.
pub(crate) fn input_required(result: &Value) -> Option<InputRequired> {
    if result.get("resultType").and_then(Value::as_str) != Some("input_required") {
        return None;
    }
    Some(InputRequired {
        requests: result
            .get("inputRequests")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        state: result.get("requestState").cloned(),
    })
}

/// The retried request: the original params plus the answers and the echoed state, under a
/// new id.
pub(crate) fn retry_request(
    original: &Message,
    id: &Id,
    responses: Map<String, Value>,
    state: Option<&Value>,
) -> Message {
    let mut value: Value =
        serde_json::from_str(original.as_str()).expect("messages are valid JSON objects");
    value["id"] = serde_json::from_str(id.as_json()).expect("ids are valid JSON");
    let params = value
        .as_object_mut()
        .expect("messages are JSON objects")
        .entry("params")
        .or_insert_with(|| json!({}));
    if let Some(params) = params.as_object_mut() {
        params.insert("inputResponses".into(), Value::Object(responses));
        match state {
            Some(state) => params.insert("requestState".into(), state.clone()),
            None => params.remove("requestState"),
        };
    }
    Message::parse(&value.to_string()).expect("a retried request is a valid message")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Probe answers: a real DiscoverResult, a version error, and the legacy look-alikes.
    #[test]
    fn classifies_probes() {
        let discover = json!({"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"],"capabilities":{}}});
        assert!(matches!(
            classify_probe(200, Some(&discover)),
            ProbeAnswer::Modern(_)
        ));
        let empty = json!({"jsonrpc":"2.0","id":1,"result":{}});
        assert_eq!(classify_probe(200, Some(&empty)), ProbeAnswer::Legacy);
        let version = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"x","data":{"supported":["2026-07-28"]}}});
        assert_eq!(
            classify_probe(400, Some(&version)),
            ProbeAnswer::Retry(MODERN_VERSION.into())
        );
        let only_legacy = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"x","data":{"supported":["2025-11-25"]}}});
        assert_eq!(classify_probe(400, Some(&only_legacy)), ProbeAnswer::Legacy);
        let sdk = json!({"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Server not initialized"}});
        assert_eq!(classify_probe(400, Some(&sdk)), ProbeAnswer::Legacy);
        assert_eq!(classify_probe(404, None), ProbeAnswer::Legacy);
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
            serde_json::from_str(unsupported_version(m.id().unwrap(), "2030-01-01").as_str())
                .unwrap();
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
}
