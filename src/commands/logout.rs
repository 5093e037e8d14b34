//! `mcp-bridge logout URL | --all`: forget tokens and client registrations, revoking the
//! tokens first (RFC 7009) where the authorization server offers revocation.

use crate::auth::revoke_tokens;
use crate::exit::{ExitStatus, usage};
use crate::net;
use crate::store::{ItemKind, StoreChoice};
use crate::terminal::{say, warn};

pub(crate) async fn logout(
    url: Option<String>,
    all: bool,
    kind: StoreChoice,
) -> anyhow::Result<ExitStatus> {
    let server_id = match &url {
        Some(u) => Some(super::server_id(u)?),
        None if all => None,
        None => return Err(usage(anyhow::anyhow!("name a server URL, or pass --all"))),
    };
    let store = super::open_store(kind)?;
    let http = net::Client::oauth(net::Settings::default());
    let entries = store.entries().await?;

    let mut issuers = Vec::new();
    let mut removed = 0;
    for entry in entries.iter().filter(|e| e.kind == ItemKind::Tokens) {
        if server_id
            .as_ref()
            .is_some_and(|s| entry.server_url.as_deref() != Some(s.as_str()))
        {
            continue;
        }
        if let Some(tokens) = store.tokens_of(entry).await? {
            match revoke_tokens(&http, &store, &tokens).await {
                Ok(revoked) => {
                    for r in revoked {
                        if let Err(e) = r.outcome {
                            warn(&format!(
                                "revoking the {} at {} failed: {}",
                                r.hint,
                                tokens.issuer,
                                net::error_chain(&e)
                            ));
                        }
                    }
                }
                Err(e) => warn(&format!(
                    "could not revoke tokens at {} ({})",
                    tokens.issuer,
                    net::error_chain(&e)
                )),
            }
        }
        store.forget(entry).await?;
        say(&format!(
            "forgot the tokens for {}",
            entry.server_url.as_deref().unwrap_or("?")
        ));
        issuers.push(entry.issuer.clone());
        removed += 1;
    }
    // Registrations go too, unless another server's tokens still rely on them.
    let remaining = store.entries().await?;
    for entry in entries.iter().filter(|e| e.kind == ItemKind::Registration) {
        let in_use = remaining
            .iter()
            .any(|r| r.kind == ItemKind::Tokens && r.issuer == entry.issuer);
        if (all || issuers.contains(&entry.issuer)) && !in_use {
            store.forget(entry).await?;
            say(&format!(
                "forgot the client registration at {}",
                entry.issuer
            ));
            removed += 1;
        }
    }
    if removed == 0 {
        say(&format!(
            "nothing stored{}",
            url.map(|u| format!(" for {u}")).unwrap_or_default()
        ));
    }
    Ok(ExitStatus::Success)
}
