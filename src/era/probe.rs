//! Asking a server which era it speaks, per the 2026-07-28 compatibility rules: a
//! `server/discover` request; a DiscoverResult that lists 2026-07-28 (or a modern "unsupported
//! version" error listing it, after one retry) means a modern server, anything else the
//! `initialize` era.

use super::shapes;
use crate::jsonrpc::Message;
use crate::mcp::{META_VERSION, MODERN_VERSION, UNSUPPORTED_VERSION};
use crate::transport::{self, Modern};
use serde_json::{Map, Value, json};

/// What the probe found.
pub(crate) enum Found {
    /// A 2026-07-28 server, with its DiscoverResult.
    Modern(Value),
    /// An `initialize`-era server (or one that does not answer `server/discover`), with how
    /// its answer looked, in words.
    Legacy(String),
}

/// How a server answered one `server/discover`.
#[derive(Debug, PartialEq)]
enum Answer {
    /// A DiscoverResult listing the modern version: a modern server.
    Modern(Value),
    /// A modern error asking for the version the bridge asked with: ask once more.
    AskAgain,
    /// Anything else: a legacy server.
    Legacy,
}

/// Asks the server whether it speaks 2026-07-28, with `meta` as the request's `_meta`.
/// Authorization challenges are handled like any request's.
pub(crate) async fn probe(
    modern: &Modern,
    meta: &Map<String, Value>,
) -> Result<Found, transport::Error> {
    // The probe asks about the version the bridge speaks, whatever version a modern host put
    // in its own `_meta`: accepting or refusing that one is the server's business, and its
    // answer reaches the host.
    let mut meta = meta.clone();
    meta.insert(META_VERSION.into(), json!(MODERN_VERSION));
    // A server may refuse the first attempt with "unsupported version" even for a version it
    // lists; one retry settles it.
    for _ in 0..2 {
        let request = shapes::discover_request(&modern.inbox().internal_id("discover"), &meta);
        let (status, reply) = modern.post_raw(&request).await?;
        match classify(status, reply.as_ref()) {
            Answer::Modern(result) => return Ok(Found::Modern(result)),
            Answer::AskAgain => continue,
            Answer::Legacy => return Ok(Found::Legacy(describe(status, reply.as_ref()))),
        }
    }
    Ok(Found::Legacy(
        "server/discover was refused twice for 2026-07-28, though the server lists it".into(),
    ))
}

/// How an answer that means the `initialize` era looked, for `check`.
fn describe(status: u16, reply: Option<&Message>) -> String {
    let Some(reply) = reply else {
        return format!("server/discover answered HTTP {status} with no JSON-RPC answer");
    };
    if reply.result::<Value>().is_some() {
        return format!(
            "server/discover answered HTTP {status} without 2026-07-28 among supportedVersions"
        );
    }
    let message = reply
        .error_object()
        .and_then(|e| {
            e.get("message")?
                .as_str()
                .map(|m| crate::net::excerpt(m, 120))
        })
        .unwrap_or_default();
    match reply.error_code() {
        Some(code) => {
            format!("server/discover answered HTTP {status} with error {code} {message:?}")
        }
        None => format!("server/discover answered HTTP {status}"),
    }
}

/// Classifies the answer to `server/discover`: the HTTP status and the JSON-RPC answer.
fn classify(status: u16, reply: Option<&Message>) -> Answer {
    let Some(reply) = reply else {
        return Answer::Legacy;
    };
    if let Some(result) = reply
        .result::<Value>()
        .filter(|_| (200..300).contains(&status))
    {
        let versions = result.get("supportedVersions").and_then(Value::as_array);
        return match versions {
            Some(v) if v.iter().any(|v| v.as_str() == Some(MODERN_VERSION)) => {
                Answer::Modern(result)
            }
            _ => Answer::Legacy,
        };
    }
    if reply.error_code() == Some(UNSUPPORTED_VERSION) {
        let lists_modern = reply
            .error_object()
            .and_then(|e| e.pointer("/data/supported").cloned())
            .and_then(|s| s.as_array().cloned())
            .is_some_and(|v| v.iter().any(|v| v.as_str() == Some(MODERN_VERSION)));
        if lists_modern {
            return Answer::AskAgain;
        }
    }
    Answer::Legacy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> Message {
        Message::parse(text).unwrap()
    }

    /// Probe answers: a real DiscoverResult, a version error, and the legacy look-alikes.
    #[test]
    fn classifies_answers() {
        let discover = msg(
            r#"{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"],"capabilities":{}}}"#,
        );
        assert!(matches!(classify(200, Some(&discover)), Answer::Modern(_)));
        assert_eq!(classify(400, Some(&discover)), Answer::Legacy);
        let empty = msg(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        assert_eq!(classify(200, Some(&empty)), Answer::Legacy);
        let version = msg(
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"x","data":{"supported":["2026-07-28"]}}}"#,
        );
        assert_eq!(classify(400, Some(&version)), Answer::AskAgain);
        let only_legacy = msg(
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"x","data":{"supported":["2025-11-25"]}}}"#,
        );
        assert_eq!(classify(400, Some(&only_legacy)), Answer::Legacy);
        let sdk = msg(
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Server not initialized"}}"#,
        );
        assert_eq!(classify(400, Some(&sdk)), Answer::Legacy);
        assert_eq!(classify(404, None), Answer::Legacy);
    }

    /// The words for a legacy answer name the status and the error.
    #[test]
    fn describes_legacy_answers() {
        assert_eq!(
            describe(404, None),
            "server/discover answered HTTP 404 with no JSON-RPC answer"
        );
        let sdk = msg(
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Server not initialized"}}"#,
        );
        assert_eq!(
            describe(400, Some(&sdk)),
            r#"server/discover answered HTTP 400 with error -32000 "Bad Request: Server not initialized""#
        );
        let empty = msg(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        assert!(describe(200, Some(&empty)).contains("without 2026-07-28"));
    }
}
