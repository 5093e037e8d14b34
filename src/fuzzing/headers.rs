//! Checks for `modern_headers`: a value encoded for a 2026-07-28 header is a valid header
//! value that a receiver following the specification decodes back to exactly the value; the
//! `Mcp-Param-*` headers of a call have valid, distinct names and carry the arguments.
//!
//! The receiver's rule, from the module's documentation and the specification: a value that
//! starts with `=?base64?` and ends with `?=` (lowercase, case-sensitive) is the standard
//! padded base64 of UTF-8 bytes between the markers; any other value is itself.

use crate::mcp::PARAM_HEADER_PREFIX;
use crate::transport::modern::headers::{encode_value, param_headers, param_values};
use base64::Engine as _;
use serde_json::Value;

pub(super) fn check(data: &[u8]) {
    check_value(&String::from_utf8_lossy(data));
    if let Ok(input) = serde_json::from_slice::<Value>(data)
        && let Some(schema) = input.get("inputSchema")
    {
        check_call(schema, input.get("arguments"));
    }
}

/// Encodes `value`, checks the header value, and returns what a receiver decodes.
fn check_value(value: &str) -> String {
    let header = encode_value(value);
    assert!(
        header.bytes().all(|b| (0x20..=0x7e).contains(&b)),
        "not visible ASCII and spaces: {header:?}"
    );
    assert!(
        !header.starts_with(' ') && !header.ends_with(' '),
        "a header value cannot start or end with a space: {header:?}"
    );
    assert!(http::HeaderValue::from_str(&header).is_ok(), "{header:?}");
    let decoded = decode(&header);
    assert_eq!(decoded, value, "{header:?} decodes to another value");
    decoded
}

/// The receiver's side of the encoding.
fn decode(header: &str) -> String {
    let Some(inner) = header
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    else {
        return header.to_owned();
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(inner)
        .unwrap_or_else(|e| panic!("{header:?} is not base64: {e}"));
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{header:?} is not UTF-8: {e}"))
}

/// The headers for a call of a tool with `schema`, when its declarations are valid.
fn check_call(schema: &Value, arguments: Option<&Value>) {
    let Ok(declared) = param_headers(schema) else {
        return;
    };
    let headers = param_values(&declared, arguments);
    assert!(headers.len() <= declared.len());
    let mut seen = Vec::new();
    for (name, value) in &headers {
        assert!(
            http::HeaderName::from_bytes(name.as_bytes()).is_ok(),
            "invalid header name {name:?}"
        );
        let suffix = name
            .strip_prefix(PARAM_HEADER_PREFIX)
            .unwrap_or_else(|| panic!("{name:?} lacks the Mcp-Param- prefix"));
        assert!(!suffix.is_empty());
        let lower = name.to_ascii_lowercase();
        assert!(!seen.contains(&lower), "{name} is sent twice");
        seen.push(lower);
        // Whatever the argument was, the header carries text that decodes cleanly.
        let text = check_value(&decode(value));
        assert_eq!(encode_value(&text), *value);
    }
}
