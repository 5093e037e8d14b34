//! What `check` found, step by step: the JSON document (`--json`; its field names are
//! documented in the README and stay stable), the report for a person, and the verdict (the
//! first step that failed, with its fix on one line).

use serde::Serialize;
use std::fmt::Write;

/// Everything `check` found; a step that was not reached is `None`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) url: String,
    /// Whether the server can be used as given: the exit code is 0 exactly then.
    pub(crate) usable: bool,
    pub(crate) verdict: Verdict,
    pub(crate) policy: Option<Policy>,
    /// The proxy the bridge goes through (`host:port (from VARIABLE)`); the DNS, TCP and
    /// TLS steps are then this machine's direct view, and decide nothing.
    pub(crate) proxy: Option<String>,
    pub(crate) dns: Option<Dns>,
    pub(crate) tcp: Option<Tcp>,
    pub(crate) tls: Option<Tls>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) server: Option<Server>,
    pub(crate) authorization: Option<Authorization>,
    pub(crate) hosts: Option<serde_json::Value>,
}

/// The outcome in one line: why it is (not) usable, and what to do about it.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Verdict {
    pub(crate) reason: String,
    pub(crate) fix: Option<String>,
}

impl Verdict {
    pub(crate) fn fail(reason: impl Into<String>, fix: impl Into<String>) -> Verdict {
        Verdict {
            reason: reason.into(),
            fix: Some(fix.into()).filter(|f: &String| !f.is_empty()),
        }
    }

    /// The one line a person reads.
    pub(crate) fn line(&self) -> String {
        match &self.fix {
            Some(fix) => format!("{}; {fix}", self.reason),
            None => self.reason.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Policy {
    pub(crate) allowed: bool,
    pub(crate) detail: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Dns {
    pub(crate) host: String,
    pub(crate) addresses: Vec<String>,
    pub(crate) millis: u128,
    pub(crate) error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Tcp {
    pub(crate) address: Option<String>,
    pub(crate) millis: u128,
    pub(crate) error: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Tls {
    pub(crate) version: Option<String>,
    pub(crate) alpn: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) issuer: Option<String>,
    /// Seconds since the Unix epoch.
    pub(crate) not_before: Option<i64>,
    pub(crate) not_after: Option<i64>,
    pub(crate) days_left: Option<i64>,
    pub(crate) millis: u128,
    pub(crate) error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Protocol {
    /// `2026-07-28` or `initialize`.
    pub(crate) era: Option<String>,
    /// The protocol version the server answered with.
    pub(crate) version: Option<String>,
    pub(crate) era_reason: String,
    /// `streamable-http` or `http+sse`.
    pub(crate) transport: Option<String>,
    pub(crate) transport_reason: String,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Server {
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) instructions: Option<String>,
    pub(crate) capabilities: serde_json::Value,
    pub(crate) tools: Option<Listing>,
    pub(crate) resources: Option<Listing>,
    pub(crate) prompts: Option<Listing>,
    pub(crate) error: Option<String>,
}

/// One of the server's lists: how many, and (with `--list`) the names.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Listing {
    pub(crate) count: usize,
    pub(crate) names: Option<Vec<String>>,
    pub(crate) error: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Authorization {
    /// Whether the server answered 401 or 403 to the bridge.
    pub(crate) required: bool,
    /// `oauth`, `bearer` (a static token or an Authorization header) or `none`.
    pub(crate) method: String,
    pub(crate) status: Option<u16>,
    pub(crate) resource_metadata: Option<ResourceMetadata>,
    pub(crate) authorization_server: Option<AuthorizationServer>,
    pub(crate) discovery_error: Option<String>,
    pub(crate) stored: Vec<Stored>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ResourceMetadata {
    pub(crate) resource: String,
    pub(crate) authorization_servers: Vec<String>,
    pub(crate) scopes_supported: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct AuthorizationServer {
    pub(crate) issuer: String,
    /// The server published no OAuth metadata; these are the 2025-03-26 default endpoints.
    pub(crate) guessed: bool,
    pub(crate) authorization_endpoint: String,
    pub(crate) token_endpoint: String,
    pub(crate) registration_endpoint: Option<String>,
    pub(crate) device_authorization_endpoint: Option<String>,
    pub(crate) grant_types: Option<Vec<String>>,
    pub(crate) pkce_methods: Option<Vec<String>>,
    pub(crate) client_id_metadata_documents: bool,
    pub(crate) dpop_algs: Option<Vec<String>>,
    pub(crate) scopes_supported: Option<Vec<String>>,
}

/// Tokens stored for the server (never the tokens themselves).
#[derive(Debug, Serialize)]
pub(crate) struct Stored {
    pub(crate) issuer: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: Option<u64>,
    pub(crate) expired: Option<bool>,
    pub(crate) backend: String,
}

impl Report {
    /// The JSON document, with a final newline.
    pub(crate) fn to_json(&self) -> String {
        let text = serde_json::to_string_pretty(self).expect("the report always serializes");
        format!("{text}\n")
    }

    /// The report for a person; `now` is for the days left until expiry.
    pub(crate) fn to_text(&self, now: u64) -> String {
        let mut out = String::new();
        let mut row = |label: &str, value: &str| {
            let _ = writeln!(out, "  {label:<14} {value}");
        };
        row("server URL", &self.url);
        if let Some(p) = &self.policy {
            row("URL policy", &p.detail);
        }
        if let Some(p) = &self.proxy {
            row(
                "proxy",
                &format!("{p}: the bridge goes through it; the next steps are the direct view"),
            );
        }
        if let Some(d) = &self.dns {
            match &d.error {
                Some(e) => row("DNS", &format!("{}: {e}", d.host)),
                None => row(
                    "DNS",
                    &format!("{} -> {} ({} ms)", d.host, d.addresses.join(", "), d.millis),
                ),
            }
        }
        if let Some(t) = &self.tcp {
            match (&t.error, &t.address) {
                (Some(e), _) => row("TCP", e),
                (None, Some(a)) => row("TCP", &format!("connected to {a} in {} ms", t.millis)),
                (None, None) => {}
            }
        }
        if let Some(t) = &self.tls {
            tls_rows(t, now, &mut row);
        }
        if let Some(p) = &self.protocol {
            if let Some(era) = &p.era {
                let version = p.version.as_deref().map(|v| format!(", version {v}"));
                row(
                    "protocol",
                    &format!(
                        "{era} era{} ({})",
                        version.unwrap_or_default(),
                        p.era_reason
                    ),
                );
            }
            if let Some(t) = &p.transport {
                row("transport", &format!("{t} ({})", p.transport_reason));
            }
        }
        if let Some(s) = &self.server {
            server_rows(s, &mut row);
        }
        if let Some(a) = &self.authorization {
            auth_rows(a, now, &mut row);
        }
        let mark = if self.usable { "usable" } else { "not usable" };
        let _ = writeln!(out, "\n{mark}: {}", self.verdict.line());
        if let Some(hosts) = self.hosts.as_ref().filter(|_| self.usable) {
            out.push_str(&super::hosts::render(hosts));
        }
        out
    }
}

fn tls_rows(t: &Tls, now: u64, row: &mut impl FnMut(&str, &str)) {
    if let Some(e) = &t.error {
        row("TLS", e);
    } else {
        let version = t.version.as_deref().unwrap_or("?");
        let alpn = t.alpn.as_deref().map(|a| format!(", ALPN {a}"));
        row(
            "TLS",
            &format!("{version}{} in {} ms", alpn.unwrap_or_default(), t.millis),
        );
    }
    if let Some(s) = &t.subject {
        row("certificate", s);
    }
    if let Some(i) = &t.issuer {
        row("issued by", i);
    }
    if let Some(at) = t.not_after {
        let days = t
            .days_left
            .unwrap_or_else(|| (at - now as i64).div_euclid(86_400));
        row("expires", &format!("{} ({days} days left)", date(at)));
    }
}

fn server_rows(s: &Server, row: &mut impl FnMut(&str, &str)) {
    if let Some(e) = &s.error {
        row("server", &format!("initialize failed: {e}"));
        return;
    }
    let name = s.name.as_deref().unwrap_or("(unnamed)");
    let version = s.version.as_deref().map(|v| format!(" {v}"));
    row("server", &format!("{name}{}", version.unwrap_or_default()));
    if let Some(i) = &s.instructions {
        row("instructions", &crate::net::excerpt(i, 120));
    }
    let caps: Vec<&str> = s
        .capabilities
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let caps = if caps.is_empty() {
        "(none)".to_owned()
    } else {
        caps.join(", ")
    };
    row("capabilities", &caps);
    for (label, list) in [
        ("tools", &s.tools),
        ("resources", &s.resources),
        ("prompts", &s.prompts),
    ] {
        let Some(list) = list else { continue };
        let text = match (&list.error, &list.names) {
            (Some(e), _) => format!("could not list them: {e}"),
            (None, Some(names)) if !names.is_empty() => {
                format!("{}: {}", list.count, names.join(", "))
            }
            (None, _) => list.count.to_string(),
        };
        row(label, &text);
    }
}

fn auth_rows(a: &Authorization, now: u64, row: &mut impl FnMut(&str, &str)) {
    let needed = match (a.required, a.status, a.method.as_str()) {
        (true, Some(status), "oauth") => {
            format!("needed: the server answered HTTP {status} (OAuth)")
        }
        (true, Some(status), _) => format!("the server answered HTTP {status} to the token sent"),
        (true, None, _) => "needed: OAuth, with the stored token (accepted)".to_owned(),
        (false, _, "oauth") => "not needed (the server asked for none)".to_owned(),
        (false, _, _) => "a static token was sent, and accepted".to_owned(),
    };
    row("authorization", &needed);
    if let Some(prm) = &a.resource_metadata {
        row("resource", &prm.resource);
        row("auth servers", &prm.authorization_servers.join(", "));
    }
    if let Some(e) = &a.discovery_error {
        row("discovery", e);
    }
    if let Some(asm) = &a.authorization_server {
        let guessed = if asm.guessed {
            " (no OAuth metadata; default endpoints)"
        } else {
            ""
        };
        row("issuer", &format!("{}{guessed}", asm.issuer));
        let list = |v: &Option<Vec<String>>| match v {
            Some(v) if !v.is_empty() => v.join(", "),
            _ => "(not published)".to_owned(),
        };
        row("grant types", &list(&asm.grant_types));
        row("PKCE", &list(&asm.pkce_methods));
        let registration = match (&asm.registration_endpoint, asm.client_id_metadata_documents) {
            (Some(_), true) => "client ID metadata documents, dynamic registration",
            (Some(_), false) => "dynamic registration",
            (None, true) => "client ID metadata documents",
            (None, false) => "pre-registered clients only (--client-id)",
        };
        row("registration", registration);
        row("DPoP", &list(&asm.dpop_algs));
        row(
            "device code",
            asm.device_authorization_endpoint
                .as_deref()
                .unwrap_or("(not offered)"),
        );
    }
    if a.stored.is_empty() && a.method == "oauth" && a.required {
        row("stored", "nothing");
    }
    for s in &a.stored {
        let expiry = match s.expires_at {
            Some(at) if at <= now => "expired".to_owned(),
            Some(at) => format!("expires in {}", super::super::human_duration(at - now)),
            None => "no expiry".to_owned(),
        };
        let issuer = s.issuer.as_deref().unwrap_or("?");
        row(
            "stored",
            &format!("tokens from {issuer} in the {}, {expiry}", s.backend),
        );
    }
}

/// `2027-01-31 12:00 UTC` for seconds since the Unix epoch.
pub(crate) fn date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dates come out as the calendar has them, leap days included.
    #[test]
    fn formats_dates() {
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(date(1_798_761_599), "2026-12-31 23:59 UTC");
    }

    /// A failed check says why and what to do, in one line, after the steps it reached.
    #[test]
    fn renders_a_failure() {
        let report = Report {
            url: "https://h.example/mcp".into(),
            usable: false,
            verdict: Verdict::fail("nothing listens at h.example:443", "is the server running?"),
            dns: Some(Dns {
                host: "h.example".into(),
                addresses: vec!["192.0.2.1".into()],
                millis: 3,
                error: None,
            }),
            tcp: Some(Tcp {
                address: None,
                millis: 1,
                error: Some("connection refused".into()),
            }),
            ..Report::default()
        };
        let text = report.to_text(0);
        assert!(
            text.contains("  DNS            h.example -> 192.0.2.1 (3 ms)\n"),
            "{text}"
        );
        assert!(
            text.contains("  TCP            connection refused\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "\nnot usable: nothing listens at h.example:443; is the server running?\n"
            ),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["usable"], false);
        assert_eq!(json["verdict"]["fix"], "is the server running?");
        assert_eq!(json["tls"], serde_json::Value::Null);
        assert_eq!(json["dns"]["addresses"][0], "192.0.2.1");
    }

    /// The server's lists show counts, and names when they were asked for.
    #[test]
    fn renders_a_server() {
        let server = Server {
            name: Some("everything".into()),
            version: Some("1.0".into()),
            capabilities: serde_json::json!({"tools": {}, "prompts": {}}),
            tools: Some(Listing {
                count: 2,
                names: Some(vec!["echo".into(), "add".into()]),
                error: None,
            }),
            prompts: Some(Listing {
                count: 3,
                ..Listing::default()
            }),
            ..Server::default()
        };
        let mut lines = Vec::new();
        server_rows(&server, &mut |l: &str, v: &str| {
            lines.push(format!("{l}={v}"))
        });
        assert_eq!(
            lines,
            [
                "server=everything 1.0",
                "capabilities=prompts, tools",
                "tools=2: echo, add",
                "prompts=3"
            ]
        );
    }
}
