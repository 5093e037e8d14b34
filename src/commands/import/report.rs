//! What `import` tells the user: one entry per login it looked at (imported, skipped and
//! why, or not found), the stored logins no known URL matched, and the directories it did
//! not read. Rendered as sentences or as JSON from the same data; never a secret (only
//! names, times, issuers, client ids and scopes are kept here).

use super::hosts::Candidate;
use super::mcp_remote::Stored;
use crate::store::Tokens;
use anyhow::Context;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Status {
    Imported,
    WouldImport,
    Skipped,
    NotFound,
}

/// One login looked at.
#[derive(Debug, Serialize)]
pub(crate) struct Entry {
    /// The URL as found or given.
    pub(crate) url: String,
    pub(crate) status: Status,
    /// Where the URL came from.
    pub(crate) found_by: String,
    /// mcp-remote's key for it.
    pub(crate) key: String,
    /// mcp-remote's files behind it, relative to its directory.
    pub(crate) files: Vec<String>,
    /// Why it was skipped or not found.
    pub(crate) reason: Option<String>,
    /// The server as mcp-bridge names it (its canonical URL).
    pub(crate) server: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) scopes: Vec<String>,
    /// Access token expiry, unix seconds.
    pub(crate) expires_at: Option<u64>,
    pub(crate) refresh_token: Option<bool>,
    /// What became of the client registration.
    pub(crate) registration: Option<String>,
    pub(crate) notes: Vec<String>,
}

impl Entry {
    fn new(candidate: &Candidate, key: &str, status: Status) -> Entry {
        Entry {
            url: shown(&candidate.inputs.url),
            status,
            found_by: candidate.source.clone(),
            key: key.to_owned(),
            files: Vec::new(),
            reason: None,
            server: None,
            issuer: None,
            client_id: None,
            scopes: Vec::new(),
            expires_at: None,
            refresh_token: None,
            registration: None,
            notes: Vec::new(),
        }
    }

    pub(crate) fn not_found(candidate: &Candidate, key: &str) -> Entry {
        let mut e = Entry::new(candidate, key, Status::NotFound);
        e.reason = Some(
            "mcp-remote stored nothing under this URL (if mcp-remote was given --header, --resource or --client-metadata-url, give the same here)"
                .into(),
        );
        e
    }

    pub(crate) fn matched(candidate: &Candidate, stored: &Stored) -> Entry {
        let mut e = Entry::new(candidate, &stored.key, Status::Skipped);
        e.files = stored
            .tokens
            .iter()
            .map(|f| f.name.clone())
            .chain(stored.client.iter().map(|f| f.name.clone()))
            .collect();
        if !stored.superseded.is_empty() {
            e.notes.push(format!(
                "older copies in {} were not read",
                stored.superseded.join(", ")
            ));
        }
        e
    }

    pub(crate) fn skip(&mut self, reason: String) {
        self.status = Status::Skipped;
        self.reason = Some(reason);
    }

    pub(crate) fn describe(&mut self, tokens: &Tokens) {
        self.issuer = Some(tokens.issuer.clone());
        self.client_id = Some(tokens.client_id.clone());
        self.scopes = tokens.scopes.clone();
        self.expires_at = tokens.expires_at;
        self.refresh_token = Some(tokens.refresh_token.is_some());
    }
}

/// A URL for the report: query values hidden (they sometimes carry API keys), as in logs.
pub(crate) fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => crate::endpoint::for_log(&u),
        Err(_) => crate::net::excerpt(url.split('?').next().unwrap_or(""), 200),
    }
}

/// A stored login that no known URL matched.
#[derive(Debug, Serialize)]
pub(crate) struct Unmatched {
    pub(crate) key: String,
    pub(crate) files: Vec<String>,
    /// When its newest file was written, unix seconds.
    pub(crate) written: u64,
}

impl Unmatched {
    pub(crate) fn of(stored: &Stored) -> Unmatched {
        let files: Vec<(String, u64)> = [
            stored.tokens.as_ref().map(|f| (f.name.clone(), f.written)),
            stored.client.as_ref().map(|f| (f.name.clone(), f.written)),
        ]
        .into_iter()
        .flatten()
        .collect();
        Unmatched {
            key: stored.key.clone(),
            written: files.iter().map(|f| f.1).max().unwrap_or(0),
            files: files.into_iter().map(|f| f.0).collect(),
        }
    }
}

/// Everything `import` has to say.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) mcp_remote_dir: String,
    pub(crate) dry_run: bool,
    pub(crate) entries: Vec<Entry>,
    pub(crate) unmatched: Vec<Unmatched>,
    pub(crate) ignored: Vec<super::mcp_remote::Ignored>,
}

impl Report {
    /// Writes the report to stdout.
    pub(crate) fn print(&self, json: bool) -> anyhow::Result<()> {
        let text = if json {
            let mut t = serde_json::to_string_pretty(self).expect("the report serializes");
            t.push('\n');
            t
        } else {
            self.render()
        };
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(e).context("failed to write to stdout")
            }
            _ => Ok(()),
        }
    }

    fn count(&self, status: Status) -> usize {
        self.entries.iter().filter(|e| e.status == status).count()
    }

    /// Sentences for a person.
    pub(crate) fn render(&self) -> String {
        let now = crate::clock::now();
        let mut out = format!("mcp-remote's directory: {}\n", self.mcp_remote_dir);
        for e in &self.entries {
            let word = match e.status {
                Status::Imported => "imported",
                Status::WouldImport => "would import",
                Status::Skipped => "skipped",
                Status::NotFound => "not found",
            };
            out.push_str(&format!("\n{word}: {}\n", e.url));
            let mut line = |label: &str, value: &str| {
                out.push_str(&format!("  {label:<14}{value}\n"));
            };
            line("found in:", &e.found_by);
            if let Some(reason) = &e.reason {
                line("why:", reason);
            }
            if e.status == Status::NotFound {
                line("looked for:", &format!("files named {}_*", e.key));
            }
            if !e.files.is_empty() {
                line("from:", &e.files.join(", "));
            }
            if matches!(e.status, Status::Imported | Status::WouldImport) {
                if let Some(server) = e.server.as_ref().filter(|s| **s != e.url) {
                    line("stored for:", server);
                }
                line("issuer:", e.issuer.as_deref().unwrap_or("?"));
                line("client:", e.client_id.as_deref().unwrap_or("?"));
                let scopes = if e.scopes.is_empty() {
                    "(none)".to_owned()
                } else {
                    e.scopes.join(" ")
                };
                line("scopes:", &scopes);
                let expiry = match e.expires_at {
                    Some(at) if at <= now => {
                        format!("expired {} ago", super::super::human_duration(now - at))
                    }
                    Some(at) => format!("expires in {}", super::super::human_duration(at - now)),
                    None => "no expiry recorded".to_owned(),
                };
                let refresh = if e.refresh_token == Some(true) {
                    "refresh token: yes (the bridge refreshes when needed)"
                } else {
                    "refresh token: no (a browser login follows its expiry)"
                };
                line("access token:", &format!("{expiry}; {refresh}"));
                line(
                    "registration:",
                    e.registration
                        .as_deref()
                        .unwrap_or("none stored by mcp-remote"),
                );
            }
            for note in &e.notes {
                line("note:", note);
            }
        }
        for u in &self.unmatched {
            out.push_str(&format!(
                "\nnot matched: {} (written {} ago)\n  {:<14}no URL known to mcp-bridge gives this name; import it with `mcp-bridge import mcp-remote URL` (plus any --header or --resource mcp-remote was given)\n",
                u.files.join(", "),
                super::super::human_duration(now.saturating_sub(u.written)),
                "why:"
            ));
        }
        for i in &self.ignored {
            out.push_str(&format!(
                "\nnot read: {}\n  {:<14}{}\n",
                i.dir, "why:", i.reason
            ));
        }
        let done = if self.dry_run {
            "would import"
        } else {
            "imported"
        };
        let imported = self.count(Status::Imported) + self.count(Status::WouldImport);
        out.push_str(&format!(
            "\n{imported} {done}, {} skipped, {} not found, {} not matched. mcp-remote's files were only read.{}\n",
            self.count(Status::Skipped),
            self.count(Status::NotFound),
            self.unmatched.len(),
            if self.dry_run {
                " Dry run: nothing was written."
            } else {
                ""
            }
        ));
        if self.entries.is_empty() && self.unmatched.is_empty() && self.ignored.is_empty() {
            out.push_str("mcp-remote has no stored logins there.\n");
        }
        out
    }
}
