//! The JSON-RPC 2.0 envelope: just enough of a message to route it, and builders for the
//! messages the bridge makes itself.
//!
//! A [`Message`] keeps the sender's JSON text as it came (made single-line if it was not)
//! and exposes what the bridge branches on: the kind, the id and the method, read once when
//! the message is parsed. The payload (`params`, `result` or `error`) stays raw text; the
//! few places that must read one ask for it ([`Message::params`], [`Message::result`]) and
//! only that slice is decoded. Only JSON objects are messages.
//!
//! Builders ([`Message::request`], [`Message::result`], [`Message::error`], ...) write the
//! text directly from validated parts, so a message the bridge makes is never printed and
//! parsed back.
//!
//! This module owns parsing and building envelopes. It knows nothing of stdio, HTTP or the
//! relay.

use crate::budget::Share;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::ops::Range;

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

/// A request id, compared as the value it stands for: a string by its characters (whatever
/// escapes spelled them), a number by its exact value (`1`, `1.0`, `1e0` and `10e-1` are one
/// id; `123456789012345678901234567890` and `123456789012345678901234567891` are two). It is
/// written back with the text its sender used.
#[derive(Clone)]
pub(crate) struct Id {
    /// The JSON text as the sender wrote it.
    text: Box<str>,
    /// What equality and hashing use: the decoded string, or the number in lowest terms.
    key: Box<str>,
}

impl Id {
    /// Builds an id from the JSON text the peer sent as `id`.
    pub(crate) fn from_raw(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        let key = match text.as_bytes().first() {
            Some(b'"') => {
                if text.contains('\\') {
                    let decoded: String =
                        serde_json::from_str(text).map_err(|e| format!("unreadable id: {e}"))?;
                    format!("s{decoded}")
                } else {
                    format!("s{}", &text[1..text.len() - 1])
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                number_key(text).ok_or_else(|| format!("unreadable id {text:?}"))?
            }
            _ if text == "null" => "null".to_owned(),
            _ => return Err("id must be a string or a number".to_owned()),
        };
        Ok(Id {
            text: text.into(),
            key: key.into(),
        })
    }

    /// The `null` id, for errors about messages whose id could not be read.
    pub(crate) fn null() -> Self {
        Id {
            text: "null".into(),
            key: "null".into(),
        }
    }

    /// An id the bridge makes for its own requests; hosts never see it.
    pub(crate) fn internal(label: &str, n: u64) -> Self {
        let name = format!("mcp-bridge:{label}:{n}");
        Id {
            text: Value::String(name.clone()).to_string().into(),
            key: format!("s{name}").into(),
        }
    }

    /// Whether the bridge made this id for a request of its own.
    pub(crate) fn is_internal(&self) -> bool {
        self.key.starts_with("smcp-bridge:")
    }

    /// The id as JSON text, as its sender wrote it.
    pub(crate) fn as_json(&self) -> &str {
        &self.text
    }

    /// The id as a JSON value (for payloads that name a request, like a cancellation).
    pub(crate) fn to_value(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// Whether this is the `null` id (used for errors about unreadable messages).
    pub(crate) fn is_null(&self) -> bool {
        &*self.key == "null"
    }

    /// Whether both are the same id spelled the same way.
    pub(crate) fn same_text(&self, other: &Id) -> bool {
        self.text == other.text
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.key == other.key
    }
}

impl Eq for Id {}

impl Hash for Id {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A JSON number in lowest terms, `n<sign><digits>e<exponent>`, so that two spellings of
/// one value share a key and two values never do. `None` if it is not a JSON number.
fn number_key(text: &str) -> Option<String> {
    integer_key(text).or_else(|| any_number_key(text))
}

/// [`number_key`] for any spelling of a JSON number.
fn any_number_key(text: &str) -> Option<String> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (mantissa, None),
    };
    let digits_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int) || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    if frac.is_some_and(|f| !digits_ok(f)) {
        return None;
    }
    let frac = frac.unwrap_or("");
    // The exponent, as written; a huge one stays text so it is never rounded.
    let (exp_negative, exp_digits) = match exponent {
        None => (false, "0"),
        Some(e) => {
            let (neg, d) = match e.as_bytes().first() {
                Some(b'-') => (true, &e[1..]),
                Some(b'+') => (false, &e[1..]),
                _ => (false, e),
            };
            if !digits_ok(d) {
                return None;
            }
            (neg, d)
        }
    };
    let digits: String = int.chars().chain(frac.chars()).collect();
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some("n0".to_owned()); // every zero, including -0 and 0e5
    }
    let trimmed = significant.trim_end_matches('0');
    let shift = (significant.len() - trimmed.len()) as i64 - frac.len() as i64;
    let sign = if negative { "-" } else { "" };
    let exp_digits = exp_digits.trim_start_matches('0');
    let exp = if exp_digits.len() <= 18 {
        let written: i64 = exp_digits.parse().unwrap_or(0);
        let written = if exp_negative { -written } else { written };
        (written + shift).to_string()
    } else {
        // Beyond any real id: exact, if not in lowest terms.
        let sign = if exp_negative { "-" } else { "" };
        format!("{sign}{exp_digits}{shift:+}")
    };
    Some(format!("n{sign}{trimmed}e{exp}"))
}

/// [`number_key`] for the common case, a plain integer (`7`, `-12`, `100`), without the
/// general path's allocations; `None` for every other spelling.
fn integer_key(text: &str) -> Option<String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let plain = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 1 || !digits.starts_with('0'));
    if !plain {
        return None;
    }
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        return Some("n0".to_owned());
    }
    let mut key = String::with_capacity(text.len() + 8);
    key.push('n');
    if digits.len() < text.len() {
        key.push('-');
    }
    key.push_str(trimmed);
    key.push('e');
    write!(key, "{}", digits.len() - trimmed.len()).expect("writing to a String never fails");
    Some(key)
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
    method: Option<Box<str>>,
    /// Where `params`, `result` or `error` (whichever the kind has) is in `text`.
    payload: Option<Range<usize>>,
    /// The server's bytes this message was read from, reserved until it is dropped
    /// (written to stdout, say); empty for messages the bridge makes.
    share: Share,
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
    params: Option<&'a RawValue>,
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
        Message::parse_owned(text.to_owned())
    }

    /// Parses one message from text the caller no longer needs (no copy is made).
    pub(crate) fn parse_owned(text: String) -> Result<Message, ParseError> {
        let breaks = has_line_break(&text);
        if breaks {
            // Removing line breaks is safe only where JSON allows them, between tokens. Text
            // that is not JSON is judged as it came: without its line breaks, a raw one in a
            // string, or between two digits, would make it a different but valid message.
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
                return Err(ParseError::NotJson(e.to_string()));
            }
        }
        let text = if breaks { single_line(&text) } else { text };
        let trimmed = text.trim_start();
        if !trimmed.starts_with('{') {
            // Scalars and arrays are valid JSON but never a message.
            return match serde_json::from_str::<serde::de::IgnoredAny>(&text) {
                Ok(_) => Err(ParseError::Invalid {
                    id: None,
                    reason: "a message must be a JSON object".into(),
                }),
                Err(e) => Err(ParseError::NotJson(e.to_string())),
            };
        }
        let env: Envelope<'_> = match serde_json::from_str(&text) {
            Ok(env) => env,
            Err(e) => {
                // Valid JSON of the wrong shape (a member of the wrong type, twice, a number
                // too large to read as one, ...), or not JSON at all: serde reports the first
                // problem it meets, and the text may break off after a wrong member. Only a
                // pass that reads no number decides which.
                if let Err(syntax) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
                    return Err(ParseError::NotJson(syntax.to_string()));
                }
                return Err(ParseError::Invalid {
                    id: salvage_id(&text),
                    reason: e.to_string(),
                });
            }
        };
        let id = match env.id {
            Some(raw) => Some(
                Id::from_raw(raw.get())
                    .map_err(|reason| ParseError::Invalid { id: None, reason })?,
            ),
            None => None,
        };
        let invalid = |reason: &str| ParseError::Invalid {
            id: id.clone(),
            reason: reason.into(),
        };
        if env.jsonrpc != Some("2.0") {
            return Err(invalid("\"jsonrpc\" must be \"2.0\""));
        }
        let (kind, payload) = match (&env.method, &id, env.result, env.error) {
            (Some(_), Some(_), None, None) => (Kind::Request, env.params),
            (Some(_), None, None, None) => (Kind::Notification, env.params),
            (None, Some(_), Some(result), None) => (Kind::Result, Some(result)),
            (None, Some(_), None, Some(error)) => (Kind::Error, Some(error)),
            _ => {
                return Err(invalid(
                    "needs a method, or an id with one of result or error",
                ));
            }
        };
        if kind == Kind::Request && id.as_ref().is_some_and(Id::is_null) {
            return Err(invalid("a request id must not be null"));
        }
        let payload = payload.map(|raw| span_of(&text, raw.get()));
        let method = env.method.map(String::into_boxed_str);
        Ok(Message {
            text,
            kind,
            id,
            method,
            payload,
            share: Share::default(),
        })
    }

    /// A request the bridge sends.
    pub(crate) fn request(id: &Id, method: &str, params: Option<&Value>) -> Message {
        let params = params.map(Value::to_string);
        Build::new(Kind::Request, Some(id), Some(method)).finish("params", params.as_deref())
    }

    /// A notification the bridge sends.
    pub(crate) fn notification(method: &str, params: Option<&Value>) -> Message {
        let params = params.map(Value::to_string);
        Build::new(Kind::Notification, None, Some(method)).finish("params", params.as_deref())
    }

    /// A `notifications/cancelled` for request `id`, naming it exactly as its sender wrote it
    /// (a number too large for a float stays that number).
    pub(crate) fn cancelled(id: &Id, reason: &str) -> Message {
        #[derive(serde::Serialize)]
        struct Params<'a> {
            #[serde(rename = "requestId")]
            request_id: &'a RawValue,
            reason: &'a str,
        }
        let request_id = RawValue::from_string(id.as_json().to_owned())
            .expect("an id is JSON text by construction");
        let params = serde_json::to_string(&Params {
            request_id: &request_id,
            reason,
        })
        .expect("a string and JSON text serialize");
        Build::new(Kind::Notification, None, Some("notifications/cancelled"))
            .finish("params", Some(&params))
    }

    /// A success response the bridge sends for `id`.
    pub(crate) fn success(id: &Id, result: &Value) -> Message {
        Build::new(Kind::Result, Some(id), None).finish("result", Some(&result.to_string()))
    }

    /// A success response whose result is JSON text already (carried as written).
    pub(crate) fn success_raw(id: &Id, result: &RawValue) -> Message {
        Build::new(Kind::Result, Some(id), None).finish("result", Some(result.get()))
    }

    /// An error response the bridge sends for `id`.
    pub(crate) fn error(id: &Id, code: i64, message: &str) -> Message {
        let error = serde_json::json!({ "code": code, "message": message });
        Build::new(Kind::Error, Some(id), None).finish("error", Some(&error.to_string()))
    }

    /// An error response with `data`.
    pub(crate) fn error_with_data(id: &Id, code: i64, message: &str, data: &Value) -> Message {
        let error = serde_json::json!({ "code": code, "message": message, "data": data });
        Build::new(Kind::Error, Some(id), None).finish("error", Some(&error.to_string()))
    }

    /// This message under another id (a request replayed privately, an answer given back
    /// under the id its asker used). The payload is copied as it is.
    pub(crate) fn with_id(&self, id: &Id) -> Message {
        let name = match self.kind {
            Kind::Request | Kind::Notification => "params",
            Kind::Result => "result",
            Kind::Error => "error",
        };
        if self.kind == Kind::Notification {
            return self.clone(); // nothing to renumber
        }
        let mut renumbered =
            Build::new(self.kind, Some(id), self.method()).finish(name, self.payload_text());
        renumbered.share = self.share.clone();
        renumbered
    }

    /// This message, holding `share` of the server's bytes until it is dropped.
    pub(crate) fn holding(mut self, share: Share) -> Message {
        self.share = share;
        self
    }

    /// A request or notification with its `params` object changed by `change` (absent
    /// `params`, or ones that are not an object, start as an empty object). Everything else
    /// is kept as it was.
    pub(crate) fn map_params(&self, change: impl FnOnce(&mut Map<String, Value>)) -> Message {
        let mut params = match self.params::<Value>() {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        change(&mut params);
        let params = Value::Object(params).to_string();
        Build::new(self.kind, self.id(), self.method()).finish("params", Some(&params))
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

    /// The raw text of `params`, `result` or `error`, whichever the message has.
    pub(crate) fn payload_text(&self) -> Option<&str> {
        self.payload.clone().map(|r| &self.text[r])
    }

    /// `params` decoded, for a request or notification that has them.
    pub(crate) fn params<T: DeserializeOwned>(&self) -> Option<T> {
        self.decode(matches!(self.kind, Kind::Request | Kind::Notification))
    }

    /// `result` decoded, for a success response.
    pub(crate) fn result<T: DeserializeOwned>(&self) -> Option<T> {
        self.decode(self.kind == Kind::Result)
    }

    /// `error` decoded, for an error response.
    pub(crate) fn error_object(&self) -> Option<Value> {
        self.decode(self.kind == Kind::Error)
    }

    /// The `error.code` of an error response.
    pub(crate) fn error_code(&self) -> Option<i64> {
        #[derive(Deserialize)]
        struct Code {
            code: i64,
        }
        self.decode::<Code>(self.kind == Kind::Error)
            .map(|c| c.code)
    }

    fn decode<T: DeserializeOwned>(&self, applies: bool) -> Option<T> {
        if !applies {
            return None;
        }
        serde_json::from_str(self.payload_text()?).ok()
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

/// Writes a message from parts that are already valid JSON (the id's text, a serialized
/// method name, a serialized payload), recording where the payload lands.
struct Build {
    text: String,
    kind: Kind,
    id: Option<Id>,
    method: Option<Box<str>>,
}

impl Build {
    fn new(kind: Kind, id: Option<&Id>, method: Option<&str>) -> Build {
        let mut text = String::with_capacity(64);
        text.push_str(r#"{"jsonrpc":"2.0""#);
        if let Some(id) = id {
            text.push_str(r#","id":"#);
            text.push_str(id.as_json());
        }
        if let Some(method) = method {
            text.push_str(r#","method":"#);
            text.push_str(&Value::String(method.to_owned()).to_string());
        }
        Build {
            text,
            kind,
            id: id.cloned(),
            method: method.map(Into::into),
        }
    }

    /// Adds the payload member `name` (when there is one) and closes the object.
    fn finish(mut self, name: &str, payload: Option<&str>) -> Message {
        let payload = payload.map(|raw| {
            self.text.push_str(",\"");
            self.text.push_str(name);
            self.text.push_str("\":");
            let start = self.text.len();
            // Payloads come from serde_json or from a parsed message: single-line already.
            self.text.push_str(raw);
            start..self.text.len()
        });
        self.text.push('}');
        Message {
            text: self.text,
            kind: self.kind,
            id: self.id,
            method: self.method,
            payload,
            share: Share::default(),
        }
    }
}

/// The byte range of `part` (a slice borrowed from `whole`) inside `whole`.
fn span_of(whole: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

/// Parses text that may be a single message or a batch (array) of messages.
///
/// Each element is parsed on its own, so one bad element does not lose the others.
pub(crate) fn parse_batch(text: &str) -> Result<Vec<Result<Message, ParseError>>, ParseError> {
    // Only JSON's own whitespace may come first: after any other, the text is not JSON.
    if !text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('[')
    {
        return Ok(vec![Message::parse(text)]);
    }
    let items: Vec<&RawValue> =
        serde_json::from_str(text).map_err(|e| ParseError::NotJson(e.to_string()))?;
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
    Id::from_raw(only.id?.get()).ok()
}

/// Whether `text` has a raw line break (a byte scan: every message is checked).
fn has_line_break(text: &str) -> bool {
    text.bytes().any(|b| b == b'\n' || b == b'\r')
}

/// Returns `text` with line breaks between tokens removed, so a message always fits on one
/// line. Line breaks cannot occur inside JSON strings (they must be escaped), so removing
/// every raw CR and LF keeps the document identical in meaning.
fn single_line(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| !matches!(c, '\n' | '\r'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Message {
        Message::parse(text).expect("test input is a valid message")
    }

    fn id(text: &str) -> Id {
        Id::from_raw(text).unwrap()
    }

    /// Each kind is recognised from its members, and the id keeps its JSON spelling.
    #[test]
    fn classifies_kinds() {
        let m = parse(r#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}"#);
        assert_eq!(
            (m.kind(), m.id().unwrap().as_json(), m.method()),
            (Kind::Request, "7", Some("tools/list"))
        );
        assert_eq!(m.payload_text(), Some("{}"));
        let m = parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert_eq!(
            (m.kind(), m.id(), m.payload_text()),
            (Kind::Notification, None, None)
        );
        let m = parse(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#);
        assert_eq!(
            (m.kind(), m.id().unwrap().as_json()),
            (Kind::Result, "\"a\"")
        );
        let m = parse(r#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}}"#);
        assert_eq!((m.kind(), m.error_code()), (Kind::Error, Some(1)));
        let m = parse(r#"{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x"}}"#);
        assert!(m.id().unwrap().is_null());
        let m = parse(r#"{"jsonrpc":"2.0","id":2,"result":null}"#);
        assert_eq!((m.kind(), m.payload_text()), (Kind::Result, Some("null")));
    }

    /// Equal ids compare equal whatever escapes the sender used; strings and numbers differ.
    #[test]
    fn string_ids_are_canonical() {
        assert_eq!(id(r#""a""#), id(r#""\u0061""#));
        assert_ne!(id(r#""1""#), id("1"));
        assert_eq!(id(r#""\u0061""#).as_json(), r#""\u0061""#);
    }

    /// Numbers compare by exact value: spellings of one value match, near values never do.
    #[test]
    fn number_ids_are_exact() {
        for (a, b) in [
            ("1", "1.0"),
            ("1", "1e0"),
            ("100", "1e2"),
            ("100", "10E+1"),
            ("0", "-0"),
            ("0", "0.000e7"),
            ("0.5", "5e-1"),
            ("-12.50", "-1.25e1"),
        ] {
            assert_eq!(id(a), id(b), "{a} {b}");
        }
        for (a, b) in [
            (
                "123456789012345678901234567890",
                "123456789012345678901234567891",
            ),
            ("1", "-1"),
            ("1", "10"),
            ("0.1", "1"),
            ("1e400", "1e401"),
            ("1e99999999999999999999", "1e99999999999999999998"),
        ] {
            assert_ne!(id(a), id(b), "{a} {b}");
        }
        assert_eq!(id("1.0").as_json(), "1.0");
        for bad in ["01", "1.", ".5", "1e", "--1", "1x"] {
            assert!(Id::from_raw(bad).is_err(), "{bad}");
        }
    }

    /// The integer fast path keys every integer exactly as the general path does, and
    /// leaves every other spelling to it.
    #[test]
    fn integer_keys_match_the_general_path() {
        for text in [
            "0",
            "-0",
            "7",
            "-7",
            "10",
            "100",
            "-1200",
            "18446744073709551615",
            "123456789012345678901234567890",
            "1000000000000000000000000000000",
        ] {
            assert_eq!(integer_key(text), any_number_key(text), "{text}");
            assert!(integer_key(text).is_some(), "{text}");
        }
        for text in ["01", "-", "", "1.0", "1e2", "-01", "1 "] {
            assert_eq!(integer_key(text), None, "{text}");
        }
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
                id: Some(id("3")),
                reason: "needs a method, or an id with one of result or error".into()
            }
        );
        let err = Message::parse(r#"{"jsonrpc":"2.0","id":4,"method":5}"#).unwrap_err();
        assert!(matches!(err, ParseError::Invalid { id: Some(ref i), .. } if i.as_json() == "4"));
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

    /// Text that is not JSON is a parse error even when a member before the point where it
    /// breaks off has the wrong type or comes twice. Found by the `stdin_envelope` fuzz target.
    #[test]
    fn broken_json_with_a_bad_member_is_not_json() {
        for text in [
            r#"{"jsonrpc":5,"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"} {"jsonrpc":"2.0"}"#,
            r#"{"jsonrpc":"2.0","method":7,"id":1"#,
        ] {
            assert!(
                matches!(Message::parse(text), Err(ParseError::NotJson(_))),
                "{text}"
            );
        }
        assert!(matches!(
            Message::parse(r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}"#),
            Err(ParseError::Invalid { .. })
        ));
    }

    /// Arrays are never messages, even ones serde could read as a positional struct.
    #[test]
    fn arrays_are_not_messages() {
        assert!(matches!(
            Message::parse(r#"["2.0",5,"tools/list"]"#),
            Err(ParseError::Invalid { .. })
        ));
        let items = parse_batch(r#"[["2.0",1,null,{}]]"#).unwrap();
        assert!(matches!(items[0], Err(ParseError::Invalid { .. })));
    }

    /// A number too large for a float is still JSON: where the envelope wants a string it
    /// makes the message invalid, not unreadable, and a request's id is kept for the error.
    /// Found by the `stdin_envelope` fuzz target.
    #[test]
    fn huge_numbers_make_invalid_messages() {
        assert!(matches!(
            Message::parse(r#"{"jsonrpc":0.1e222222225}"#),
            Err(ParseError::Invalid { id: None, .. })
        ));
        let Err(ParseError::Invalid { id: Some(id), .. }) =
            Message::parse(r#"{"jsonrpc":"2.0","id":7,"method":1e999}"#)
        else {
            panic!("a request with a huge method is invalid and keeps its id");
        };
        assert_eq!(id.as_json(), "7");
    }

    /// Pretty-printed JSON becomes one line with the same meaning; strings are untouched.
    #[test]
    fn pretty_json_becomes_one_line() {
        let m = parse(
            "{\n  \"jsonrpc\": \"2.0\",\r\n  \"id\": 1,\n  \"result\": {\"t\": \"a\\nb\"}\n}\n",
        );
        assert!(!m.as_str().contains('\n'));
        let v: Value = serde_json::from_str(m.as_str()).unwrap();
        assert_eq!(v["result"]["t"], "a\nb");
        assert_eq!(m.result::<Value>().unwrap()["t"], "a\nb");
    }

    /// Line breaks are removed from JSON only: one inside a string or a number, or beside
    /// characters that are not JSON whitespace, leaves the text what it was, not JSON. Found
    /// by the `stdin_envelope` fuzz target.
    #[test]
    fn line_breaks_do_not_repair_broken_json() {
        for text in [
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\nb\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":1\r2,\"method\":\"x\"}",
            "\u{b}{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}\n",
        ] {
            assert!(
                matches!(Message::parse(text), Err(ParseError::NotJson(_))),
                "{text:?}"
            );
        }
    }

    /// Bridge-made messages are valid JSON-RPC that parses to the same envelope.
    #[test]
    fn builds_messages() {
        let i = parse(r#"{"jsonrpc":"2.0","id":"x\"y","method":"m"}"#)
            .id()
            .unwrap()
            .clone();
        let e = Message::error(&i, INTERNAL_ERROR, "boom \"quoted\"");
        let v: Value = serde_json::from_str(e.as_str()).unwrap();
        assert_eq!(v["id"], "x\"y");
        assert_eq!(v["error"]["message"], "boom \"quoted\"");
        assert_eq!(parse(e.as_str()).kind(), Kind::Error);
        assert_eq!(e.error_code(), Some(INTERNAL_ERROR));

        let r = Message::request(
            &Id::internal("t", 1),
            "tools/list",
            Some(&serde_json::json!({"a":1})),
        );
        let p = parse(r.as_str());
        assert_eq!(
            (p.kind(), p.method(), p.id()),
            (Kind::Request, Some("tools/list"), r.id())
        );
        assert_eq!(r.params::<Value>(), p.params::<Value>());
        let n = Message::notification("notifications/initialized", None);
        assert_eq!(
            n.as_str(),
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
        );
        let d = Message::error_with_data(&i, -32022, "x", &serde_json::json!({"supported":[]}));
        assert_eq!(
            d.error_object().unwrap()["data"]["supported"],
            serde_json::json!([])
        );
    }

    /// Replaying under another id changes only the id; the payload is kept byte for byte.
    #[test]
    fn with_id_replaces_only_the_id() {
        let m = parse(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"a":1.50}}"#);
        let r = m.with_id(&Id::internal("reinit", 2));
        let v: Value = serde_json::from_str(r.as_str()).unwrap();
        assert_eq!(v["id"], "mcp-bridge:reinit:2");
        assert!(r.id().is_some_and(|id| id.is_internal()));
        assert!(!m.id().is_some_and(|id| id.is_internal()));
        assert!(r.as_str().contains(r#""params":{"a":1.50}"#));
        assert_eq!(r.method(), Some("initialize"));
        let answer = parse(r#"{"jsonrpc":"2.0","id":"s","result":{"x":[1]}}"#);
        let back = answer.with_id(&id("1.0"));
        assert_eq!(
            back.as_str(),
            r#"{"jsonrpc":"2.0","id":1.0,"result":{"x":[1]}}"#
        );
    }

    /// Parameter mapping edits the params object and keeps the envelope.
    #[test]
    fn maps_params() {
        let m = parse(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"t"}}"#);
        let out = m.map_params(|p| {
            p.insert("x".into(), Value::from(1));
        });
        let p: Value = out.params().unwrap();
        assert_eq!(
            (p["name"].clone(), p["x"].clone()),
            (Value::from("t"), Value::from(1))
        );
        assert_eq!(out.id(), m.id());
        let bare = parse(r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#);
        assert_eq!(bare.map_params(|_| {}).payload_text(), Some("{}"));
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

    /// Text that starts with whitespace JSON does not allow is not JSON, even when an array
    /// follows. Found by the `stdin_envelope` fuzz target.
    #[test]
    fn a_batch_starts_with_json_whitespace_only() {
        let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"a"}]"#;
        for lead in ["\u{b}", "\u{a0}", "\u{3000}"] {
            let items = parse_batch(&format!("{lead}{batch}")).unwrap();
            assert!(
                matches!(items[..], [Err(ParseError::NotJson(_))]),
                "{lead:?}"
            );
        }
        assert_eq!(parse_batch(&format!(" \r\n\t{batch}")).unwrap().len(), 1);
    }
}
