//! The shapes that differ between the eras, as pure functions: the per-request `_meta` of
//! 2026-07-28, `initialize` and `server/discover` results made from each other, and "input
//! required" results and their retries. JSON in, JSON out; nothing here sends anything.

use crate::jsonrpc::{self, Id, Message};
use crate::mcp::{
    LATEST_LEGACY_VERSION, LEGACY_VERSIONS, META_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL,
    META_PROTOCOL_PREFIX, META_SERVER_INFO, META_VERSION, MODERN_VERSION, UNSUPPORTED_VERSION,
};
use serde_json::{Map, Value, json};

/// The 2026-07-28 version a request's `_meta` names, if it names one (a modern host's).
pub(crate) fn modern_version_of(msg: &Message) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(rename = "_meta")]
        meta: Option<Meta>,
    }
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
        version: Option<String>,
    }
    msg.params::<Params>()?.meta?.version
}

/// The `_meta` of a request, as it is.
pub(crate) fn meta_of(msg: &Message) -> Map<String, Value> {
    msg.params::<Value>()
        .and_then(|p| p.get("_meta").and_then(Value::as_object).cloned())
        .unwrap_or_default()
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
        let params: Value = msg.params().unwrap_or(Value::Null);
        let client_info = params
            .get("clientInfo")
            .filter(|i| i.get("name").is_some() && i.get("version").is_some())
            .cloned()
            .unwrap_or_else(bridge_info);
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
            .unwrap_or(LATEST_LEGACY_VERSION)
    }
}

/// The bridge's own `clientInfo`, for a host that gave none.
fn bridge_info() -> Value {
    json!({"name": "mcp-bridge", "version": env!("CARGO_PKG_VERSION")})
}

/// A request with `meta` merged into its `params._meta` (keys the host set stay, except the
/// protocol ones, which must agree with the headers).
pub(crate) fn with_meta(msg: &Message, meta: &Map<String, Value>) -> Message {
    msg.map_params(|params| {
        let target = params.entry("_meta").or_insert_with(|| json!({}));
        if let Some(target) = target.as_object_mut() {
            for (k, v) in meta {
                target.insert(k.clone(), v.clone());
            }
        }
    })
}

/// A modern request as an `initialize`-era server should see it: the per-request protocol
/// keys removed from `_meta` (the session carries them), everything else untouched.
pub(crate) fn without_protocol_meta(msg: &Message) -> Message {
    let has_protocol_keys = meta_of(msg)
        .keys()
        .any(|k| k.starts_with(META_PROTOCOL_PREFIX));
    if !has_protocol_keys {
        return msg.clone();
    }
    msg.map_params(|params| {
        if let Some(meta) = params.get_mut("_meta").and_then(Value::as_object_mut) {
            meta.retain(|k, _| !k.starts_with(META_PROTOCOL_PREFIX));
            if meta.is_empty() {
                params.remove("_meta");
            }
        }
    })
}

/// The answer to a request at a version the bridge cannot serve.
pub(crate) fn unsupported_version(id: &Id, requested: &str) -> Message {
    let data = json!({"supported": [MODERN_VERSION], "requested": requested});
    Message::error_with_data(
        id,
        UNSUPPORTED_VERSION,
        "Unsupported protocol version",
        &data,
    )
}

/// The `server/discover` request the bridge sends as its probe.
pub(crate) fn discover_request(id: &Id, meta: &Map<String, Value>) -> Message {
    let params = json!({ "_meta": meta });
    Message::request(id, "server/discover", Some(&params))
}

/// The `initialize` the bridge sends for a 2026-07-28 host, from what its `_meta` says.
pub(crate) fn initialize_for(id: &Id, meta: &Map<String, Value>) -> Message {
    let params = json!({
        "protocolVersion": LATEST_LEGACY_VERSION,
        "capabilities": meta.get(META_CAPABILITIES).cloned().unwrap_or(json!({})),
        "clientInfo": meta.get(META_CLIENT_INFO).cloned().unwrap_or_else(bridge_info),
    });
    Message::request(id, "initialize", Some(&params))
}

/// The `initialize` result a legacy host gets for a modern server, from its DiscoverResult.
pub(crate) fn initialize_result(
    discovered: &Value,
    host: &HostIdentity,
    fallback_name: &str,
) -> Value {
    let server_info = discovered
        .get("_meta")
        .and_then(|m| m.get(META_SERVER_INFO))
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

/// The result type of a result, if it names one other than `complete`: a legacy host knows
/// only complete results, so any other type (an input request the bridge does not run for
/// this method, or an extension) would be misread as one.
pub(crate) fn incomplete_result_type(answer: &Message) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Typed {
        #[serde(rename = "resultType")]
        result_type: Option<String>,
    }
    answer
        .result::<Typed>()
        .and_then(|t| t.result_type)
        .filter(|t| t != "complete")
}

/// The retried request: the original params plus the answers and the echoed state, under a
/// new id.
pub(crate) fn retry_request(
    original: &Message,
    id: &Id,
    responses: Map<String, Value>,
    state: Option<&Value>,
) -> Message {
    original.with_id(id).map_params(|params| {
        params.insert("inputResponses".into(), Value::Object(responses));
        match state {
            Some(state) => params.insert("requestState".into(), state.clone()),
            None => params.remove("requestState"),
        };
    })
}

/// The answers a retry carries, keyed as the input requests were, with its state token.
pub(crate) fn retry_answers(msg: &Message) -> Option<(String, Map<String, Value>)> {
    let params: Value = msg.params()?;
    let token = params.get("requestState")?.as_str()?.to_owned();
    let responses = params
        .get("inputResponses")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Some((token, responses))
}

/// The `input_required` result for one question a server asked, under `token`.
pub(crate) fn input_request_result(method: &str, params: Option<Value>, token: &str) -> Value {
    let mut ask = json!({ "method": method });
    if let Some(params) = params.filter(|p| !p.is_null()) {
        ask["params"] = params;
    }
    json!({"resultType": "input_required", "inputRequests": {"input": ask}, "requestState": token})
}

/// The error a server gets for a question the host did not answer.
pub(crate) fn unanswered(server_id: &Id) -> Message {
    Message::error(
        server_id,
        jsonrpc::INTERNAL_ERROR,
        "the client gave no answer",
    )
}

#[cfg(test)]
mod tests;
