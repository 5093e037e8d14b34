//! Checks for `stdin_envelope`: stdin framing, then the JSON-RPC envelope of every line.
//!
//! The framing is compared with a plain split of the input at its newlines, which must not
//! depend on how the bytes arrive. Each line's verdict is compared with the envelope rules
//! applied to the line's members as an independent JSON reading finds them: text that is not
//! JSON is a parse error, JSON that is not an object is invalid, and an object is a message
//! exactly when its members make one.

use crate::jsonrpc::{Id, Kind, Message, ParseError, parse_batch};
use crate::stdio::{Line, LineReader};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// The line limit a limit byte of 128 or more selects: larger than any input.
const LARGE_LIMIT: usize = 1 << 20;

/// The whitespace JSON allows between tokens.
const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// The members the envelope is made of; a second one of these makes a message invalid.
const ENVELOPE: [&str; 6] = ["jsonrpc", "id", "method", "params", "result", "error"];

pub(super) fn check(data: &[u8]) {
    let [limit, capacity, input @ ..] = data else {
        return;
    };
    let limit = if *limit < 128 {
        usize::from(*limit)
    } else {
        LARGE_LIMIT
    };
    let capacity = 1 + usize::from(*capacity % 32);
    let lines = read_lines(input, limit, capacity);
    assert_eq!(
        lines,
        expected_lines(input, limit),
        "line framing with limit {limit} and a {capacity}-byte buffer"
    );
    for line in &lines {
        if let Line::Text(text) = line {
            check_text(text);
        }
    }
    // Response bodies and event data reach the parser whole, line breaks and all.
    check_text(&String::from_utf8_lossy(input));
}

/// Every line the reader yields, reading through a buffer of `capacity` bytes.
fn read_lines(input: &[u8], limit: usize, capacity: usize) -> Vec<Line> {
    let mut reader = LineReader::new(tokio::io::BufReader::with_capacity(capacity, input), limit);
    futures::executor::block_on(async {
        let mut lines = Vec::new();
        while let Some(line) = reader
            .next_line()
            .await
            .expect("reading from memory cannot fail")
        {
            lines.push(line);
        }
        lines
    })
}

/// The lines `LineReader` promises: split at LF; a line longer than the limit (terminators
/// aside, or longer than limit + 2 with them) is reported by length; blank lines are skipped;
/// the rest lose their trailing CRs and LF and are decoded lossily.
fn expected_lines(input: &[u8], limit: usize) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let (piece, raw_len) = match rest.iter().position(|&b| b == b'\n') {
            Some(at) => {
                let piece = &rest[..at];
                rest = &rest[at + 1..];
                (piece, at + 1)
            }
            None => {
                let piece = std::mem::take(&mut rest);
                (piece, piece.len())
            }
        };
        if raw_len > limit + 2 {
            lines.push(Line::TooLong(raw_len));
            continue;
        }
        if piece.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut text = piece;
        while let [head @ .., b'\r'] = text {
            text = head;
        }
        if text.len() > limit {
            lines.push(Line::TooLong(text.len()));
            continue;
        }
        lines.push(Line::Text(String::from_utf8_lossy(text).into_owned()));
    }
    lines
}

/// Parses `text` as one message and as a batch, and checks both verdicts.
fn check_text(text: &str) {
    let single = Message::parse(text);
    check_verdict(text, &Shape::of(text), &single);
    check_batch(text, &single);
}

/// What a text is, read without the envelope parser.
enum Shape {
    NotJson,
    /// JSON, but a scalar or an array.
    NotObject,
    /// An object: its members in order, values as raw text.
    Object(Vec<(String, Box<RawValue>)>),
    /// An object whose member names cannot all be decoded (see [`Refusal::Undecodable`]).
    Undecodable,
}

impl Shape {
    fn of(text: &str) -> Shape {
        if serde_json::from_str::<IgnoredAny>(text).is_err() {
            return Shape::NotJson;
        }
        match serde_json::from_str::<Members>(text) {
            Ok(Members(members)) => Shape::Object(members),
            Err(_) if text.trim_start_matches(JSON_WHITESPACE).starts_with('{') => {
                Shape::Undecodable
            }
            Err(_) => Shape::NotObject,
        }
    }
}

/// An object's members, duplicates kept.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(MembersVisitor)
    }
}

/// Why members make no message.
#[derive(Debug)]
enum Refusal {
    /// They break the envelope rules: an invalid request.
    Invalid,
    /// A string the envelope must decode (a member name, `jsonrpc`, `method`) has an escape
    /// for half a surrogate pair. The JSON grammar allows that but no text can hold it, so
    /// the parser may call it not JSON or invalid; never a message.
    Undecodable,
}

/// The envelope a valid message has, as the rules read it from the members.
#[derive(Debug, PartialEq)]
struct Envelope {
    kind: Kind,
    id: Option<String>,
    method: Option<String>,
    /// The payload's raw text with line breaks removed (as the message keeps it).
    payload: Option<String>,
}

/// The JSON-RPC 2.0 rules, as the module documents them: `"jsonrpc": "2.0"`; an id is a
/// string (of Unicode text), a number or null; a method is a string (`null` counts as absent); a request has a
/// method and a non-null id, a notification a method and no id, a response an id and exactly
/// one of `result` and `error`; none of these members twice.
fn envelope_of(members: &[(String, Box<RawValue>)]) -> Result<Envelope, Refusal> {
    let undecodable = |raw: &RawValue| {
        raw.get().starts_with('"') && serde_json::from_str::<String>(raw.get()).is_err()
    };
    if members
        .iter()
        .any(|(k, v)| (k == "jsonrpc" || k == "method") && undecodable(v))
    {
        return Err(Refusal::Undecodable);
    }
    for name in ENVELOPE {
        if members.iter().filter(|(k, _)| k == name).count() > 1 {
            return Err(Refusal::Invalid);
        }
    }
    let get = |name: &str| {
        members
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.get().trim_matches(JSON_WHITESPACE))
    };
    let version = get("jsonrpc").and_then(|v| serde_json::from_str::<String>(v).ok());
    if version.as_deref() != Some("2.0") {
        return Err(Refusal::Invalid);
    }
    let id = get("id");
    // A string id must be text: JSON lets an escape spell half a surrogate pair, which no
    // string can hold, and the bridge refuses such an id rather than guess.
    let id_type_ok = |id: &str| match id.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(id).is_ok(),
        Some(b'-' | b'0'..=b'9') => true,
        _ => id == "null",
    };
    if id.is_some_and(|id| !id_type_ok(id)) {
        return Err(Refusal::Invalid);
    }
    let method = match get("method") {
        None | Some("null") => None,
        Some(raw) => Some(serde_json::from_str::<String>(raw).map_err(|_| Refusal::Invalid)?),
    };
    let (kind, payload) = match (&method, id, get("result"), get("error")) {
        (Some(_), Some(_), None, None) => (Kind::Request, get("params")),
        (Some(_), None, None, None) => (Kind::Notification, get("params")),
        (None, Some(_), Some(result), None) => (Kind::Result, Some(result)),
        (None, Some(_), None, Some(error)) => (Kind::Error, Some(error)),
        _ => return Err(Refusal::Invalid),
    };
    if kind == Kind::Request && id == Some("null") {
        return Err(Refusal::Invalid);
    }
    Ok(Envelope {
        kind,
        id: id.map(str::to_owned),
        method,
        payload: payload.map(|p| p.replace(['\r', '\n'], "")),
    })
}

/// Checks the parser's verdict on `text` against what the text is.
fn check_verdict(text: &str, shape: &Shape, verdict: &Result<Message, ParseError>) {
    match (shape, verdict) {
        (Shape::NotJson, Err(ParseError::NotJson(_))) => {}
        (Shape::NotJson, other) => {
            panic!("text that is not JSON must be a parse error, got {other:?}: {text:?}")
        }
        (Shape::NotObject, Err(ParseError::Invalid { id: None, .. })) => {}
        (Shape::NotObject, other) => {
            panic!("only JSON objects are messages, got {other:?}: {text:?}")
        }
        (Shape::Object(members), verdict) => match (envelope_of(members), verdict) {
            (Ok(want), Ok(message)) => {
                let got = Envelope {
                    kind: message.kind(),
                    id: message.id().map(|id| id.as_json().to_owned()),
                    method: message.method().map(str::to_owned),
                    payload: message.payload_text().map(str::to_owned),
                };
                assert_eq!(got, want, "the envelope of {text:?}");
                check_message(message);
            }
            (Err(Refusal::Invalid), Err(ParseError::Invalid { id, .. })) => {
                if let Some(id) = id {
                    check_id(id);
                    assert!(
                        members
                            .iter()
                            .any(|(k, v)| k == "id" && v.get().trim() == id.as_json()),
                        "an invalid message's error names an id it does not have: {text:?}"
                    );
                }
            }
            (Err(Refusal::Undecodable), Err(_)) => {}
            (want, got) => panic!("{text:?} should be {want:?}, the parser says {got:?}"),
        },
        (Shape::Undecodable, Err(_)) => {}
        (Shape::Undecodable, Ok(message)) => {
            panic!("an object with an undecodable name became {message:?}: {text:?}")
        }
    }
}

/// A parsed message is single-line JSON text that parses again to the same envelope.
fn check_message(message: &Message) {
    let text = message.as_str();
    assert!(
        !text.contains(['\n', '\r']),
        "a message's text has a line break: {text:?}"
    );
    let Shape::Object(members) = Shape::of(text) else {
        panic!("a message's text is not a JSON object: {text:?}");
    };
    let again = Message::parse(text).expect("a message's own text parses");
    assert_eq!(
        (again.kind(), again.method(), again.payload_text()),
        (message.kind(), message.method(), message.payload_text()),
        "a message's text parses to another envelope: {text:?}"
    );
    assert!(envelope_of(&members).is_ok());
    if let Some(id) = message.id() {
        assert!(again.id().is_some_and(|a| a.same_text(id)));
        check_id(id);
    }
}

/// An id's text parses to the same id, and its equality follows the value it spells.
fn check_id(id: &Id) {
    let text = id.as_json();
    let again = Id::from_raw(text).expect("an id's own text is an id");
    assert!(
        again == *id && again.same_text(id),
        "id {text} does not round-trip"
    );
    assert!(
        serde_json::from_str::<IgnoredAny>(text).is_ok(),
        "id text {text:?} is not JSON"
    );
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        assert_eq!(id.to_value(), value, "id {text} as a value");
    }
    let same = |other: &str| Id::from_raw(other).is_ok_and(|o| o == *id);
    if text == "null" {
        assert!(id.is_null());
    } else if text.starts_with('"') {
        let decoded: String = serde_json::from_str(text).expect("a string id is a JSON string");
        let plain = serde_json::to_string(&decoded).expect("a string serializes");
        assert!(same(&plain), "{text} and {plain} are one id");
        let escaped = escape_all(&decoded);
        assert!(same(&escaped), "{text} and {escaped} are one id");
        let other = serde_json::to_string(&format!("{decoded}x")).expect("a string serializes");
        assert!(!same(&other), "{text} and {other} are two ids");
    } else {
        if let Some(respelled) = respell_number(text) {
            assert!(same(&respelled), "{text} and {respelled} are one id");
        }
        let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
        if mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
            // One more digit at the end changes a non-zero number.
            let other = format!("{text}1");
            assert!(!same(&other), "{text} and {other} are two ids");
        }
    }
}

/// A string as JSON text with every UTF-16 unit escaped.
fn escape_all(s: &str) -> String {
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

/// A number without an exponent written as integer digits and an exponent: `-12.50` becomes
/// `-1250e-2`.
fn respell_number(text: &str) -> Option<String> {
    if text.contains(['e', 'E']) {
        return None;
    }
    let (sign, rest) = text.strip_prefix('-').map_or(("", text), |r| ("-", r));
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let digits = format!("{int}{frac}");
    let digits = match digits.trim_start_matches('0') {
        "" => "0",
        d => d,
    };
    Some(format!("{sign}{digits}e-{}", frac.len()))
}

/// A batch is an array of messages checked one by one; anything else is one message.
fn check_batch(text: &str, single: &Result<Message, ParseError>) {
    let batch = parse_batch(text);
    if !text.trim_start_matches(JSON_WHITESPACE).starts_with('[') {
        let same = match &batch {
            Ok(items) => match (items.as_slice(), single) {
                ([Ok(a)], Ok(b)) => a.as_str() == b.as_str(),
                ([Err(a)], Err(b)) => a == b,
                _ => false,
            },
            Err(_) => false,
        };
        assert!(
            same,
            "text that is not an array must be one message: {text:?}"
        );
        return;
    }
    match (Shape::of(text), batch) {
        (Shape::NotJson, Err(ParseError::NotJson(_))) => {}
        (Shape::NotObject, Ok(items)) => {
            let elements: Vec<Box<RawValue>> =
                serde_json::from_str(text).expect("the oracle read this as an array");
            assert_eq!(items.len(), elements.len(), "batch size of {text:?}");
            for (element, item) in elements.iter().zip(&items) {
                check_verdict(element.get(), &Shape::of(element.get()), item);
            }
        }
        (Shape::NotObject, Err(ParseError::Invalid { id: None, .. })) => {
            assert_eq!(
                serde_json::from_str::<Vec<IgnoredAny>>(text)
                    .map(|v| v.len())
                    .ok(),
                Some(0),
                "only an empty batch is refused whole: {text:?}"
            );
        }
        (_, got) => panic!("batch {text:?} read as {got:?}"),
    }
}
