//! Parsing `WWW-Authenticate` (RFC 9110 section 11.6.1) for the Bearer challenge the MCP
//! server sends with 401 and 403: `resource_metadata`, `scope`, `error`.
//!
//! The header may hold several challenges, parameters may be quoted strings with commas and
//! escapes inside, and parameter names are case-insensitive. Anything malformed is skipped
//! rather than trusted.

/// One challenge: a scheme and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Challenge {
    pub(crate) scheme: String,
    /// Parameters in order, names lowercased.
    pub(crate) params: Vec<(String, String)>,
}

impl Challenge {
    /// A parameter's value (the first, if repeated).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The Protected Resource Metadata URL the server pointed at.
    pub(crate) fn resource_metadata(&self) -> Option<&str> {
        self.param("resource_metadata").filter(|v| !v.is_empty())
    }

    /// The scopes the server asked for, if it said.
    pub(crate) fn scopes(&self) -> Option<Vec<String>> {
        let scopes: Vec<String> = self
            .param("scope")?
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        (!scopes.is_empty()).then_some(scopes)
    }

    /// The `error` code (`invalid_token`, `insufficient_scope`, ...).
    pub(crate) fn error(&self) -> Option<&str> {
        self.param("error")
    }
}

/// The Bearer challenge among everything in the header values, if there is one.
pub(crate) fn bearer(header: &str) -> Option<Challenge> {
    parse(header)
        .into_iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
}

/// The challenge that says how to authorize: the Bearer one, else the DPoP one (RFC 9449
/// section 7.1; a server that takes only DPoP-bound tokens challenges with that scheme).
pub(crate) fn authorization(header: &str) -> Option<Challenge> {
    let all = parse(header);
    let scheme = |name: &str| {
        all.iter()
            .find(|c| c.scheme.eq_ignore_ascii_case(name))
            .cloned()
    };
    scheme("bearer").or_else(|| scheme("dpop"))
}

/// Parses every challenge in a header value (several header lines can be joined with ", ").
pub(crate) fn parse(header: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        p.skip(|b| b == b' ' || b == b'\t' || b == b',');
        let Some(scheme) = p.token() else {
            if p.i >= p.s.len() {
                return out;
            }
            p.i += 1; // not a token: skip the byte and resynchronise
            continue;
        };
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
        };
        p.skip(|b| b == b' ' || b == b'\t');
        // Parameters: name = value, separated by commas, until a token not followed by '='.
        loop {
            let save = p.i;
            p.skip(|b| b == b' ' || b == b'\t' || b == b',');
            let Some(name) = p.token() else { break };
            p.skip(|b| b == b' ' || b == b'\t');
            if p.peek() != Some(b'=') {
                p.i = save; // the next challenge's scheme
                break;
            }
            p.i += 1;
            p.skip(|b| b == b' ' || b == b'\t');
            let value = match p.peek() {
                Some(b'"') => p.quoted(),
                Some(b'=') | Some(b',') | None => {
                    // token68 (base64 padding): not a parameter we use
                    p.skip(|b| b == b'=');
                    continue;
                }
                _ => p.token(),
            };
            if let Some(value) = value {
                challenge.params.push((name.to_ascii_lowercase(), value));
            }
        }
        out.push(challenge);
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    /// An RFC 9110 token.
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        self.skip(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&b));
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A quoted string with backslash escapes; an unterminated one is dropped.
    fn quoted(&mut self) -> Option<String> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.i += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.i += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's example: quoted values, several parameters.
    #[test]
    fn parses_the_spec_example() {
        let c = bearer(
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read files:write""#,
        )
        .unwrap();
        assert_eq!(
            c.resource_metadata(),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource")
        );
        assert_eq!(c.scopes().unwrap(), vec!["files:read", "files:write"]);
        assert_eq!(c.error(), None);
    }

    /// Commas and escaped quotes inside quoted strings do not split parameters.
    #[test]
    fn handles_quoting() {
        let c = bearer(r#"Bearer error="insufficient_scope", error_description="need a, b and \"c\"", scope=x"#).unwrap();
        assert_eq!(c.error(), Some("insufficient_scope"));
        assert_eq!(c.param("error_description"), Some(r#"need a, b and "c""#));
        assert_eq!(c.scopes().unwrap(), vec!["x"]);
    }

    /// Several challenges in one value; the Bearer one is found wherever it is, and names are
    /// case-insensitive.
    #[test]
    fn finds_bearer_among_several() {
        let all = parse(
            r#"Basic realm="a, b", DPoP algs="ES256", Bearer Scope="s1", Resource_Metadata="https://h/prm""#,
        );
        assert_eq!(
            all.iter().map(|c| c.scheme.as_str()).collect::<Vec<_>>(),
            vec!["Basic", "DPoP", "Bearer"]
        );
        let b = bearer(r#"Basic realm="x", bearer scope="s1""#).unwrap();
        assert_eq!(b.scopes().unwrap(), vec!["s1"]);
        assert_eq!(all[2].resource_metadata(), Some("https://h/prm"));
    }

    /// token68 forms, bare schemes, junk and unterminated quotes do not derail parsing.
    #[test]
    fn survives_odd_input() {
        let all = parse("Negotiate abc123==, Bearer");
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].scheme, "Bearer");
        assert!(
            bearer(r#"Bearer scope="unterminated"#)
                .unwrap()
                .scopes()
                .is_none()
        );
        assert!(bearer("").is_none());
        assert!(
            bearer(",,, ;;; Bearer error=invalid_token")
                .is_some_and(|c| c.error() == Some("invalid_token"))
        );
        let c = bearer(r#"Bearer scope="""#).unwrap();
        assert!(c.scopes().is_none());
    }
}
