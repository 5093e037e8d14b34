//! `mcp-bridge status [URL] [--json]`: what is stored, never the secrets.

use crate::exit::ExitStatus;
use crate::store::{self, IndexEntry, ItemKind, Store, StoreChoice};
use anyhow::Context;
use std::io::Write;

pub(crate) async fn status(
    url: Option<String>,
    json: bool,
    kind: StoreChoice,
) -> anyhow::Result<ExitStatus> {
    let server_id = url.as_deref().map(super::server_id).transpose()?;
    let store = super::open_store(kind)?;
    // A read-only look at the index: the keyring is probed only when it was asked for by
    // name (to say whether it can be used), never to warn about where tokens would go.
    if kind == StoreChoice::Keyring {
        store.check().await?;
    }
    let entries = match &server_id {
        Some(s) => tokens_of(&store, s).await?,
        None => store.entries().await?,
    };
    // Servers whose last run took a token helper's tokens: nothing of theirs is stored.
    let mut helpers = match store::config_dir() {
        Ok(dir) => crate::era::helper_servers(dir).await,
        Err(_) => Vec::new(),
    };
    helpers.retain(|h| server_id.as_ref().is_none_or(|s| s == h));
    let text = if json {
        render_json(&entries, &helpers)
    } else {
        render_table(&entries, &helpers)
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(e).context("failed to write to stdout");
        }
        _ => {}
    }
    Ok(
        if server_id.is_some() && entries.is_empty() && helpers.is_empty() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        },
    )
}

/// The index entries of the tokens stored for `server_id` (never the tokens).
pub(super) async fn tokens_of(store: &Store, server_id: &str) -> anyhow::Result<Vec<IndexEntry>> {
    Ok(store
        .entries()
        .await?
        .into_iter()
        .filter(|e| e.kind == ItemKind::Tokens && e.server_url.as_deref() == Some(server_id))
        .collect())
}

fn render_json(entries: &[IndexEntry], helpers: &[String]) -> String {
    let now = crate::clock::now();
    let helpers = helpers.iter().map(|server| {
        serde_json::json!({"kind": "token_helper", "server": server, "grant": "bearer_command"})
    });
    let items: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "kind": match e.kind { ItemKind::Tokens => "tokens", ItemKind::Registration => "registration" },
                "server": e.server_url,
                "issuer": e.issuer,
                "client_id": e.client_id,
                "scopes": e.scopes,
                "expires_at": e.expires_at,
                "expired": e.expires_at.map(|at| at <= now),
                "grant": e.grant,
                "dpop_bound": e.dpop,
                "backend": e.backend,
            })
        })
        .chain(helpers)
        .collect();
    format!(
        "{}\n",
        serde_json::to_string_pretty(&items).expect("JSON values always serialize")
    )
}

fn render_table(entries: &[IndexEntry], helpers: &[String]) -> String {
    let mut out = String::new();
    for server in helpers {
        out.push_str(&format!(
            "{server}\n  grant:   bearer command (--bearer-command; its tokens are never stored)\n"
        ));
    }
    if entries.is_empty() {
        out.push_str("no stored credentials\n");
        return out;
    }
    let now = crate::clock::now();
    for e in entries.iter().filter(|e| e.kind == ItemKind::Tokens) {
        let expiry = match e.expires_at {
            Some(at) if at <= now => "expired".to_owned(),
            Some(at) => format!("expires in {}", super::human_duration(at - now)),
            None => "no expiry".to_owned(),
        };
        let scopes = if e.scopes.is_empty() {
            "-".to_owned()
        } else {
            e.scopes.join(" ")
        };
        let client = if e.client_id.is_empty() {
            "-"
        } else {
            &e.client_id
        };
        out.push_str(&format!(
            "{}\n  issuer:  {}\n  client:  {}\n  grant:   {}{}\n  scopes:  {}\n  token:   {} ({:?})\n",
            e.server_url.as_deref().unwrap_or("?"),
            e.issuer,
            client,
            e.grant.unwrap_or_default().describe(),
            if e.dpop { ", DPoP-bound" } else { "" },
            scopes,
            expiry,
            e.backend
        ));
    }
    let registrations: Vec<&IndexEntry> = entries
        .iter()
        .filter(|e| e.kind == ItemKind::Registration)
        .collect();
    if !registrations.is_empty() {
        out.push_str("client registrations:\n");
        for e in registrations {
            out.push_str(&format!(
                "  {}  client {} ({:?})\n",
                e.issuer, e.client_id, e.backend
            ));
        }
    }
    out
}
