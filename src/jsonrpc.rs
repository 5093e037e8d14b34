//! The JSON-RPC 2.0 envelope: just enough of a message to route it.
//!
//! A [`Message`] keeps the sender's JSON text as it came (made single-line if it was not) and
//! exposes only what the bridge branches on: the kind, the id and the method. Payloads
//! (`params`, `result`, `error`) are never decoded or re-encoded on the forwarding path.
//!
//! This module owns parsing and building envelopes. It knows nothing of stdio, HTTP or the
//! relay.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// JSON-RPC error code for text that is not JSON.
pub(crate) const PARSE_ERROR: i64 = -32700;
/// JSON-RPC error code for JSON that is not a valid request.
pub(crate) const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC error code for a method the receiver does not offer.
pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC error code for invalid method parameters.
pub(crate) const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC error code the bridge uses when it cannot deliver a request or its answer.
pub(crate) const INTERNAL_ERROR: i64 = -32603;
/// Implementation-defined server error: the remote end could not be reached or failed.
pub(crate) const BRIDGE_ERROR: i64 = -32000;

/// A request id, kept as canonical JSON text (`1`, `"abc"`) so it can be compared, hashed
/// and written back exactly.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Id(String);

impl Id {
    /// Builds an id from any JSON value the peer sent as `id`.
    fn from_raw(raw: &RawValue) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(raw.get()).map_err(|e| format!("unreadable id: {e}"))?;
        match value {
            serde_json::Value::String(_) | serde_json::Value::Number(_) => {
                // Re-serializing gives one spelling for equal ids (`"a"` vs `"\u0061"`).
                Ok(Id(value.to_string()))
            }
            serde_json::Value::Null => Ok(Id("null".to_owned())),
            _ => Err("id must be a string or a number".to_owned()),
        }
    }

    /// The `null` id, for errors about messages whose id could not be read.
    pub(crate) fn null() -> Self {
        Id("null".to_owned())
    }

    /// An id the bridge makes for its own requests; hosts never see it.
    pub(crate) fn internal(label: &str, n: u64) -> Self {
        Id(serde_json::Value::String(format!("mcp-bridge:{label}:{n}")).to_string())
    }

    /// The id as JSON text, ready to embed in a message.
    pub(crate) fn as_json(&self) -> &str {
        &self.0
    }

    /// Whether this is the `null` id (used for errors about unreadable messages).
    pub(crate) fn is_null(&self) -> bool {
        self.0 == "null"
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a message is, decided from which members it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Has `method` and `id`: expects exactly one response.
    Request,
    /// Has `method` and no `id`.
    Notification,
    /// Has `id` and `result`.
    Result,
    /// Has `id` and `error`.
    Error,
}

/// One JSON-RPC message: its single-line JSON text plus the routing fields.
#[derive(Clone)]
pub(crate) struct Message {
    text: String,
    kind: Kind,
    id: Option<Id>,
    method: Option<String>,
}

/// Why a piece of text is not a message; carries what the error reply needs.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// Not JSON at all (reply -32700, id null).
    NotJson(String),
    /// JSON, but not a JSON-RPC message (reply -32600 with the id when one was readable).
    Invalid { id: Option<Id>, reason: String },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotJson(e) => write!(f, "not valid JSON: {e}"),
            ParseError::Invalid { reason, .. } => write!(f, "not a JSON-RPC message: {reason}"),
        }
    }
}

/// The members the envelope looks at; everything else stays unparsed. A member that is
/// present with the value `null` is `Some` (a `null` result is still a result).
#[derive(Deserialize)]
struct Envelope<'a> {
    jsonrpc: Option<&'a str>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    method: Option<String>,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

impl Message {
    /// Parses one message. Batches (arrays) are split by [`parse_batch`], not here.
    pub(crate) fn parse(text: &str) -> Result<Message, ParseError> {
        let env: Envelope<'_> = match serde_json::from_str(text) {
            Ok(env) => env,
            Err(e) if e.is_data() => {
                // Valid JSON of the wrong shape (a number, a string, a member of the wrong type).
                return Err(ParseError::Invalid {
                    id: salvage_id(text),
                    reason: e.to_string(),
                });
            }
            Err(e) => return Err(ParseError::NotJson(e.to_string())),
        };
        let id = match env.id {
            Some(raw) => {
                Some(Id::from_raw(raw).map_err(|reason| ParseError::Invalid { id: None, reason })?)
            }
            None => None,
        };
        let invalid = |reason: &str| ParseError::Invalid {
            id: id.clone(),
            reason: reason.into(),
        };
        if env.jsonrpc != Some("2.0") {
            return Err(invalid("\"jsonrpc\" must be \"2.0\""));
        }
        let kind = match (&env.method, &id, env.result.is_some(), env.error.is_some()) {
            (Some(_), Some(_), false, false) => Kind::Request,
            (Some(_), None, false, false) => Kind::Notification,
            (None, Some(_), true, false) => Kind::Result,
            (None, Some(_), false, true) => Kind::Error,
            _ => {
                return Err(invalid(
                    "needs a method, or an id with one of result or error",
                ));
            }
        };
        if kind == Kind::Request && id.as_ref().is_some_and(Id::is_null) {
            return Err(invalid("a request id must not be null"));
        }
        Ok(Message {
            text: single_line(text),
            kind,
            id,
            method: env.method,
        })
    }

    /// Builds an error response the bridge itself sends for `id`.
    pub(crate) fn error_response(id: &Id, code: i64, message: &str) -> Message {
        let error = serde_json::json!({ "code": code, "message": message });
        let text = format!(
            r#"{{"jsonrpc":"2.0","id":{},"error":{error}}}"#,
            id.as_json()
        );
        Message {
            text,
            kind: Kind::Error,
            id: Some(id.clone()),
            method: None,
        }
    }

    /// Builds a success response the bridge itself sends for `id`.
    pub(crate) fn result_response(id: &Id, result: &serde_json::Value) -> Message {
        let text = format!(
            r#"{{"jsonrpc":"2.0","id":{},"result":{result}}}"#,
            id.as_json()
        );
        Message {
            text,
            kind: Kind::Result,
            id: Some(id.clone()),
            method: None,
        }
    }

    /// A copy of this request under another id (used to replay the handshake privately).
    pub(crate) fn with_id(&self, id: &Id) -> Message {
        let mut value: serde_json::Value =
            serde_json::from_str(&self.text).expect("text was parsed as a JSON object before");
        value["id"] = serde_json::from_str(id.as_json()).expect("ids are valid JSON");
        Message {
            text: value.to_string(),
            id: Some(id.clone()),
            ..self.clone()
        }
    }

    /// The message as single-line JSON text.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    pub(crate) fn id(&self) -> Option<&Id> {
        self.id.as_ref()
    }

    pub(crate) fn method(&self) -> Option<&str> {
        self.method.as_deref()
    }

    /// Whether this is a response (result or error) rather than a request or notification.
    pub(crate) fn is_response(&self) -> bool {
        matches!(self.kind, Kind::Result | Kind::Error)
    }

    /// Decodes `result` (or `params`) into a typed value; used only where the bridge itself
    /// must read a payload (the handshake), never on the forwarding path.
    pub(crate) fn field<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        let value: serde_json::Value = serde_json::from_str(&self.text).ok()?;
        serde_json::from_value(value.get(name)?.clone()).ok()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Payloads may carry secrets; Debug shows only the envelope.
        f.debug_struct("Message")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// Parses text that may be a single message or a batch (array) of messages.
///
/// Each element is parsed on its own, so one bad element does not lose the others.
pub(crate) fn parse_batch(text: &str) -> Result<Vec<Result<Message, ParseError>>, ParseError> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('[') {
        return Ok(vec![Message::parse(text)]);
    }
    let items: Vec<&RawValue> =
        serde_json::from_str(trimmed).map_err(|e| ParseError::NotJson(e.to_string()))?;
    if items.is_empty() {
        return Err(ParseError::Invalid {
            id: None,
            reason: "empty batch".into(),
        });
    }
    Ok(items
        .into_iter()
        .map(|raw| Message::parse(raw.get()))
        .collect())
}

/// Best effort to read `id` out of JSON that failed envelope parsing, so the error reply can
/// name the request it refers to.
fn salvage_id(text: &str) -> Option<Id> {
    #[derive(Deserialize)]
    struct OnlyId<'a> {
        #[serde(borrow, default, deserialize_with = "present")]
        id: Option<&'a RawValue>,
    }
    let only: OnlyId<'_> = serde_json::from_str(text).ok()?;
    Id::from_raw(only.id?).ok()
}

/// Returns `text` with line breaks between tokens removed, so a message always fits on one
/// line. Line breaks cannot occur inside JSON strings (they must be escaped), so removing
/// every raw CR and LF outside strings keeps the document identical in meaning.
fn single_line(text: &str) -> String {
    let text = text.trim();
    if !text.contains(['\n', '\r']) {
        return text.to_owned();
    }
    text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Message {
        Message::parse(text).expect("test input is a valid message")
    }

    /// Each kind is recognised from its members, and the id keeps its JSON spelling.
    #[test]
    fn classifies_kinds() {
        let m = parse(r#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}"#);
        assert_eq!(
            (m.kind(), m.id().unwrap().as_json(), m.method()),
            (Kind::Request, "7", Some("tools/list"))
        );
        let m = parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert_eq!((m.kind(), m.id()), (Kind::Notification, None));
        let m = parse(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#);
        assert_eq!(
            (m.kind(), m.id().unwrap().as_json()),
            (Kind::Result, "\"a\"")
        );
        let m = parse(r#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}}"#);
        assert_eq!(m.kind(), Kind::Error);
        let m = parse(r#"{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x"}}"#);
        assert!(m.id().unwrap().is_null());
        let m = parse(r#"{"jsonrpc":"2.0","id":2,"result":null}"#);
        assert_eq!(m.kind(), Kind::Result);
    }

    /// Equal ids compare equal whatever escapes the sender used.
    #[test]
    fn ids_are_canonical() {
        let a = parse(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#);
        let b = parse(r#"{"jsonrpc":"2.0","id":"\u0061","result":{}}"#);
        assert_eq!(a.id(), b.id());
        let n = parse(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        assert_ne!(a.id(), n.id());
    }

    /// Non-JSON is a parse error; JSON of the wrong shape is invalid and keeps its id.
    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            Message::parse("{oops"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(Message::parse(""), Err(ParseError::NotJson(_))));
        assert_eq!(
            Message::parse(r#"{"jsonrpc":"2.0","id":3}"#).unwrap_err(),
            ParseError::Invalid {
                id: Some(Id("3".into())),
                reason: "needs a method, or an id with one of result or error".into()
            }
        );
        let err = Message::parse(r#"{"jsonrpc":"2.0","id":4,"method":5}"#).unwrap_err();
        assert!(matches!(err, ParseError::Invalid { id: Some(Id(ref s)), .. } if s == "4"));
        assert!(matches!(
            Message::parse("42"),
            Err(ParseError::Invalid { id: None, .. })
        ));
        assert!(matches!(
            Message::parse(r#"{"id":1,"method":"x"}"#),
            Err(ParseError::Invalid { .. })
        ));
        assert!(matches!(
            Message::parse(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#),
            Err(ParseError::Invalid { id: None, .. })
        ));
    }

    /// Pretty-printed JSON becomes one line with the same meaning; strings are untouched.
    #[test]
    fn pretty_json_becomes_one_line() {
        let m = parse(
            "{\n  \"jsonrpc\": \"2.0\",\r\n  \"id\": 1,\n  \"result\": {\"t\": \"a\\nb\"}\n}\n",
        );
        assert!(!m.as_str().contains('\n'));
        let v: serde_json::Value = serde_json::from_str(m.as_str()).unwrap();
        assert_eq!(v["result"]["t"], "a\nb");
    }

    /// Bridge-made errors are valid JSON-RPC with the request's id.
    #[test]
    fn builds_error_responses() {
        let id = parse(r#"{"jsonrpc":"2.0","id":"x\"y","method":"m"}"#)
            .id()
            .unwrap()
            .clone();
        let e = Message::error_response(&id, INTERNAL_ERROR, "boom \"quoted\"");
        let v: serde_json::Value = serde_json::from_str(e.as_str()).unwrap();
        assert_eq!(v["id"], "x\"y");
        assert_eq!(v["error"]["message"], "boom \"quoted\"");
        assert_eq!(parse(e.as_str()).kind(), Kind::Error);
    }

    /// Replaying under another id changes only the id.
    #[test]
    fn with_id_replaces_only_the_id() {
        let m = parse(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"a":1}}"#);
        let r = m.with_id(&Id::internal("reinit", 2));
        let v: serde_json::Value = serde_json::from_str(r.as_str()).unwrap();
        assert_eq!(v["id"], "mcp-bridge:reinit:2");
        assert_eq!(v["params"]["a"], 1);
        assert_eq!(r.method(), Some("initialize"));
    }

    /// Batches split into messages; a bad element does not spoil the rest.
    #[test]
    fn splits_batches() {
        let items = parse_batch(r#"[{"jsonrpc":"2.0","id":1,"method":"a"}, 5]"#).unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok() && items[1].is_err());
        assert!(parse_batch("[]").is_err());
        assert!(matches!(parse_batch("[1,"), Err(ParseError::NotJson(_))));
    }
}
