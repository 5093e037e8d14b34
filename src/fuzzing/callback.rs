//! Checks for `callback_query`: the login callback's decision follows from the query as a
//! form decoder of our own reads it. The state must match exactly, once, before anything else
//! counts; a code is returned only with the right state, no repeated parameter, no `error`,
//! and a non-empty code.

use crate::auth::callback::{CallbackError, judge};

/// The parameters the callback reads; a second one of any of them is malformed.
const KNOWN: [&str; 5] = ["code", "state", "iss", "error", "error_description"];

pub(super) fn check(data: &[u8]) {
    let (expected, query) = super::split_line(data);
    // The flow's states are random base64url text; anything ASCII covers them.
    let Ok(expected) = std::str::from_utf8(expected) else {
        return;
    };
    if !expected.is_ascii() {
        return;
    }
    let query = String::from_utf8_lossy(query);
    let pairs = form_decode(query.as_bytes());
    let values = |name: &str| -> Vec<&[u8]> {
        pairs
            .iter()
            .filter(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| v.as_slice())
            .collect()
    };
    let state_ok = values("state") == [expected.as_bytes()];
    let repeated = KNOWN.iter().any(|name| values(name).len() > 1);
    let one = |name: &str| values(name).first().map(|v| String::from_utf8_lossy(v));

    match judge(&query, expected) {
        Ok(params) => {
            assert!(state_ok, "a code with the wrong state: {query:?}");
            assert!(!repeated && values("error").is_empty(), "{query:?}");
            let code = one("code").expect("a code was returned, so the query has one");
            assert!(!code.is_empty(), "an empty code was accepted");
            assert_eq!(params.code.expose(), code, "the code of {query:?}");
            assert_eq!(params.iss.as_deref(), one("iss").as_deref(), "the iss");
        }
        Err(CallbackError::StateMismatch) => {
            assert!(!state_ok, "the right state was refused: {query:?}");
        }
        Err(CallbackError::Denied {
            error, description, ..
        }) => {
            assert!(state_ok && !repeated && values("error").len() == 1);
            for text in std::iter::once(&error).chain(description.as_ref()) {
                assert!(
                    !text.chars().any(char::is_control),
                    "untrusted text kept a control character: {text:?}"
                );
            }
            assert!(
                error.chars().count() <= 65,
                "the error code is not shortened"
            );
        }
        Err(CallbackError::Malformed(_)) => {
            assert!(state_ok, "a wrong state must be a mismatch: {query:?}");
            let no_code = values("code").first().is_none_or(|c| c.is_empty());
            assert!(
                repeated || (values("error").is_empty() && no_code),
                "{query:?}"
            );
        }
        Err(other) => panic!("judge cannot fail with {other}"),
    }
}

/// `application/x-www-form-urlencoded` as bytes: `&`-separated, split at the first `=`, `+`
/// is a space, `%XX` a byte (a `%` without two hex digits is itself); empty pieces skipped.
fn form_decode(query: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    query
        .split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = match piece.iter().position(|&b| b == b'=') {
                Some(at) => (&piece[..at], &piece[at + 1..]),
                None => (piece, &[][..]),
            };
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &[u8]) -> Vec<u8> {
    let hex = |at: usize| text.get(at).and_then(|&b| char::from(b).to_digit(16));
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let byte = match (text[i], hex(i + 1), hex(i + 2)) {
            (b'+', _, _) => b' ',
            (b'%', Some(high), Some(low)) => {
                i += 2;
                u8::try_from(high * 16 + low).expect("two hex digits make a byte")
            }
            (other, _, _) => other,
        };
        out.push(byte);
        i += 1;
    }
    out
}
