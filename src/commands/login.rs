//! `mcp-bridge login URL`: authorize with a server now, store the tokens, report the result.
//!
//! An unauthenticated request to the server gets its challenge (scopes, metadata URL); the
//! browser login then runs exactly as it would inside the bridge.

use super::run::connection;
use crate::auth::challenge::{self, Challenge};
use crate::cli::ServerArgs;
use crate::exit::{ExitStatus, usage};
use anyhow::Context;
use reqwest::header::{ACCEPT, CONTENT_TYPE, WWW_AUTHENTICATE};
use tokio_util::sync::CancellationToken;

/// The request that provokes the server's challenge.
const PROBE: &str = r#"{"jsonrpc":"2.0","id":"mcp-bridge:login","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-bridge","version":"0"}}}"#;

pub(crate) async fn login(args: ServerArgs) -> anyhow::Result<ExitStatus> {
    let Some(url) = args.url.clone() else {
        return Err(usage(anyhow::anyhow!("login needs the server URL")));
    };
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            super::run::wait_for_signal().await;
            cancel.cancel();
        });
    }
    let http = connection(&args, &url, 1 << 20, args.oauth.callback_port, &cancel)?;
    let Some(auth) = http.auth.clone() else {
        return Err(usage(anyhow::anyhow!(
            "login runs the OAuth flow; it does not apply with --bearer or an Authorization header"
        )));
    };
    let Some(challenge) = probe(&http).await? else {
        eprintln!(
            "mcp-bridge: {} did not ask for authorization; nothing to do",
            auth.describe()
        );
        return Ok(ExitStatus::Success);
    };
    let tokens = auth.login(Some(&challenge)).await.context("login failed")?;
    let expiry = match tokens.expires_at {
        Some(at) => format!(
            "expires in {}",
            human_duration(at.saturating_sub(crate::auth::now()))
        ),
        None => "no expiry given".to_owned(),
    };
    let scopes = if tokens.scopes.is_empty() {
        "(none)".to_owned()
    } else {
        tokens.scopes.join(" ")
    };
    eprintln!(
        "mcp-bridge: logged in to {}\n  issuer: {}\n  scopes: {}\n  access token: {}\n  refresh token: {}",
        auth.describe(),
        tokens.issuer,
        scopes,
        expiry,
        if tokens.refresh_token.is_some() {
            "yes"
        } else {
            "no"
        },
    );
    Ok(ExitStatus::Success)
}

/// Sends an unauthenticated `initialize`; returns the Bearer challenge of a 401/403, or
/// `None` when the server let it through.
async fn probe(http: &crate::transport::http::Http) -> anyhow::Result<Option<Challenge>> {
    let resp = http
        .client
        .post(http.url.clone())
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .body(PROBE)
        .send()
        .await
        .with_context(|| format!("could not reach {}", crate::endpoint::for_log(&http.url)))?;
    let status = resp.status().as_u16();
    if status != 401 && status != 403 {
        if let Some(session) = resp.headers().get("mcp-session-id").cloned() {
            // Do not leave the probe's session behind.
            let _ = http
                .client
                .delete(http.url.clone())
                .header("mcp-session-id", session)
                .send()
                .await;
        }
        return Ok(None);
    }
    let header = resp
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Some(challenge::bearer(&header).unwrap_or_default()))
}

/// "2 h 5 min", "45 s": for people, not machines.
pub(crate) fn human_duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3600),
    }
}
