//! Extra HTTP headers from the command line: parsing `Name: value`, `${VAR}` expansion,
//! header files, and deciding which values are credentials that logs must hide.
//!
//! This module turns user input into validated `reqwest` header pairs; it does not send
//! anything.

use crate::secret::Secret;
use anyhow::{Context, bail};
use reqwest::header::{HeaderName, HeaderValue};
use std::path::Path;

/// Headers the bridge manages itself; a user value would break the protocol.
const RESERVED: &[&str] = &[
    crate::mcp::SESSION_HEADER,
    crate::mcp::PROTOCOL_VERSION_HEADER,
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
    crate::mcp::LAST_EVENT_ID_HEADER,
];

/// Fragments of header names whose values are treated as credentials in logs.
const SENSITIVE_FRAGMENTS: &[&str] = &[
    "auth",
    "token",
    "key",
    "secret",
    "cookie",
    "session",
    "password",
    "credential",
    "signature",
];

/// One user header, its value kept as a secret because it may well be one.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub(crate) name: HeaderName,
    pub(crate) value: Secret,
}

impl Header {
    /// The value as a header value; validated when the header was parsed.
    pub(crate) fn to_value(&self) -> HeaderValue {
        let mut v = HeaderValue::from_str(self.value.expose()).expect("validated by parse_header");
        v.set_sensitive(true);
        v
    }
}

/// Parses `Name: value` (the space is optional), expanding `${VAR}` in the value.
pub(crate) fn parse_header(
    spec: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Header> {
    let Some((name, value)) = spec.split_once(':') else {
        bail!(
            "header {:?} is not of the form 'Name: value'",
            name_only(spec)
        );
    };
    let name = name.trim();
    let name = HeaderName::from_bytes(name.as_bytes())
        .with_context(|| format!("{name:?} is not a valid header name"))?;
    if RESERVED.contains(&name.as_str()) {
        bail!("header {name} is managed by mcp-bridge and cannot be set");
    }
    let value =
        expand_vars(value.trim(), env).with_context(|| format!("in the value of header {name}"))?;
    if HeaderValue::from_str(&value).is_err() {
        bail!("the value of header {name} contains characters not allowed in a header");
    }
    Ok(Header {
        name,
        value: Secret::new(value),
    })
}

/// Reads a file of `Name: value` lines (blank lines and `#` comments skipped).
pub(crate) fn read_header_file(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<Header>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read header file {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(n, l)| parse_header(l, env).with_context(|| format!("{}:{}", path.display(), n + 1)))
        .collect()
}

/// Replaces each `${NAME}` with the environment variable's value. An unset variable is an
/// error naming it, never a silent empty string. Other `$` characters are left alone.
pub(crate) fn expand_vars(
    input: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            bail!("unterminated ${{ in {:?}", redact_unless_var(input));
        };
        let name = &after[..end];
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            bail!("${{{name}}} is not a valid environment variable reference");
        }
        match env(name) {
            Some(value) => out.push_str(&value),
            None => bail!("environment variable {name} is not set"),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether a header's value must be hidden in logs.
pub(crate) fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SENSITIVE_FRAGMENTS.iter().any(|f| name.contains(f))
}

/// Shows a header for a log line, hiding credential values.
pub(crate) fn describe(name: &str, value: &str) -> String {
    if is_sensitive(name) {
        format!("{name}: (redacted)")
    } else {
        format!("{name}: {value}")
    }
}

/// For error messages about malformed specs: show the part before any value.
fn name_only(spec: &str) -> String {
    spec.chars()
        .take_while(|c| !c.is_whitespace())
        .take(40)
        .collect()
}

fn redact_unless_var(input: &str) -> String {
    input
        .find("${")
        .map(|i| format!("...{}", &input[i..]))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("t0k".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    /// `Name: value` and `Name:value` both parse; values are trimmed and expanded.
    #[test]
    fn parses_headers() {
        let h = parse_header("Authorization: Bearer ${TOKEN}", &env).unwrap();
        assert_eq!(
            (h.name.as_str(), h.value.expose()),
            ("authorization", "Bearer t0k")
        );
        let h = parse_header("X-Api-Key:${TOKEN}", &env).unwrap();
        assert_eq!(h.value.expose(), "t0k");
        let h = parse_header("X-Empty: ${EMPTY}", &env).unwrap();
        assert_eq!(h.value.expose(), "");
    }

    /// Malformed headers, reserved names and unset variables are clear errors.
    #[test]
    fn rejects_bad_headers() {
        let err = |s: &str| format!("{:#}", parse_header(s, &env).unwrap_err());
        assert!(err("NoColon").contains("not of the form"));
        assert!(err("Bad Name: x").contains("not a valid header name"));
        assert!(err("Mcp-Session-Id: x").contains("managed by mcp-bridge"));
        assert!(err("X-A: ${MISSING}").contains("environment variable MISSING is not set"));
        assert!(err("X-A: a\u{7f}b").contains("not allowed"));
    }

    /// Expansion handles several references, literal dollars and bad syntax.
    #[test]
    fn expands_variables() {
        assert_eq!(expand_vars("a${TOKEN}b${TOKEN}", &env).unwrap(), "at0kbt0k");
        assert_eq!(
            expand_vars("cost $5 $TOKEN", &env).unwrap(),
            "cost $5 $TOKEN"
        );
        assert!(expand_vars("${TOKEN", &env).is_err());
        assert!(expand_vars("${1X}", &env).is_err());
        assert!(expand_vars("${}", &env).is_err());
    }

    /// Credential-like names are redacted in descriptions, others shown.
    #[test]
    fn redacts_credentials() {
        assert_eq!(
            describe("Authorization", "Bearer x"),
            "Authorization: (redacted)"
        );
        assert_eq!(describe("X-API-Key", "x"), "X-API-Key: (redacted)");
        assert_eq!(describe("Cookie", "x"), "Cookie: (redacted)");
        assert_eq!(describe("X-Trace", "abc"), "X-Trace: abc");
    }

    /// A header file skips comments and reports the line of an error.
    #[test]
    fn reads_header_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h");
        std::fs::write(
            &path,
            "# comment\n\nX-A: 1\nAuthorization: Bearer ${TOKEN}\n",
        )
        .unwrap();
        let hs = read_header_file(&path, &env).unwrap();
        assert_eq!(hs.len(), 2);
        std::fs::write(&path, "X-A: 1\nbroken\n").unwrap();
        let e = format!("{:#}", read_header_file(&path, &env).unwrap_err());
        assert!(e.contains(":2"), "{e}");
    }
}
