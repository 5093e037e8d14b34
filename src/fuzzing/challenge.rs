//! Checks for `www_authenticate`: the challenge parser survives any text, keeps its
//! structural promises (schemes and names are tokens, names lowercase, scopes single words),
//! reads its own output back identically, and gives only printable values for what a
//! response can actually carry.

use crate::auth::challenge::{Challenge, bearer, parse};

pub(super) fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let all = parse(&text);
    check_structure(&text, &all);
    let again = parse(&serialize(&all));
    assert_eq!(again, all, "challenges written out and read back: {text:?}");

    // What the bridge passes in: header values that `HeaderValue::to_str` accepts, joined.
    if let Ok(value) = http::HeaderValue::from_bytes(data)
        && let Ok(header) = value.to_str()
    {
        for challenge in parse(header) {
            for (name, value) in &challenge.params {
                assert!(
                    value.chars().all(|c| c == '\t' || !c.is_control()),
                    "parameter {name} has a control character: {value:?}"
                );
            }
        }
    }
}

/// Schemes and parameter names are non-empty tokens, names lowercased; `bearer` is the first
/// Bearer challenge; scopes are non-empty words.
fn check_structure(text: &str, all: &[Challenge]) {
    for challenge in all {
        assert!(
            is_token(&challenge.scheme),
            "scheme {:?} is not a token",
            challenge.scheme
        );
        for (name, _) in &challenge.params {
            assert!(
                is_token(name) && !name.bytes().any(|b| b.is_ascii_uppercase()),
                "parameter name {name:?} is not a lowercase token"
            );
        }
        if let Some(scopes) = challenge.scopes() {
            assert!(!scopes.is_empty());
            for scope in &scopes {
                assert!(
                    !scope.is_empty() && !scope.chars().any(char::is_whitespace),
                    "scope {scope:?} is not one word"
                );
                assert!(
                    !scope.contains(['\r', '\n']),
                    "scope {scope:?} has a line break"
                );
            }
        }
        if let Some(url) = challenge.resource_metadata() {
            assert!(!url.is_empty());
        }
    }
    let first = all.iter().find(|c| c.scheme.eq_ignore_ascii_case("bearer"));
    assert_eq!(bearer(text).as_ref(), first, "bearer() of {text:?}");
}

/// The parser's token characters (RFC 9110 `tchar`, plus `/` and `:`, which it accepts for
/// robustness).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&b))
}

/// Challenges as a header value, every parameter value quoted.
fn serialize(all: &[Challenge]) -> String {
    let mut out = String::new();
    for challenge in all {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(&challenge.scheme);
        for (i, (name, value)) in challenge.params.iter().enumerate() {
            out.push_str(if i == 0 { " " } else { ", " });
            out.push_str(name);
            out.push_str("=\"");
            for c in value.chars() {
                if matches!(c, '"' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
    }
    out
}
