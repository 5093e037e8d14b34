//! `mcp-bridge login URL`: authorize with a server now, store the tokens, report the result.
//!
//! The command connects exactly as the bridge does (the same era probe and transports), as
//! a host whose only message is `initialize`, with stored tokens set aside so that the
//! server's challenge starts a fresh browser login.

use super::connect::{LoginPolicy, connection, initialize_params, request};
use crate::cli::ServerArgs;
use crate::era::Era;
use crate::exit::{ExitStatus, usage};
use crate::jsonrpc::{Id, Kind, Message};
use crate::relay::Shutdown;
use crate::store;
use crate::terminal::{Tone, paint, say};
use crate::transport::Limits;
use crate::upstream::{Inbound, Upstream};

pub(crate) async fn login(args: ServerArgs) -> anyhow::Result<ExitStatus> {
    let Some(url) = args.url.clone() else {
        return Err(usage(anyhow::anyhow!("login needs the server URL")));
    };
    let shutdown = Shutdown::new();
    super::watch_signals(shutdown.clone());
    let connection = connection(
        &args,
        &url,
        Limits::unbounded(1 << 20),
        args.oauth.callback_port,
        &shutdown.host_gone(),
        LoginPolicy::Fresh,
    )?;
    let Some(oauth) = connection.oauth.clone() else {
        return Err(usage(anyhow::anyhow!(
            "login runs the OAuth flow; it does not apply with --bearer or an Authorization header"
        )));
    };
    let (mut era, mut inbound) = Era::new(
        connection.http,
        args.transport,
        args.protocol,
        store::config_dir().ok(),
        shutdown.stopped(),
    );
    let answer = initialize(&mut era, &mut inbound, &shutdown).await;
    shutdown.stopped().cancel();
    era.close().await;
    let answer = answer?;

    let Some(tokens) = oauth.logged_in() else {
        if answer.kind() == Kind::Error {
            let message = answer
                .error_object()
                .and_then(|e| e.get("message")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| answer.as_str().to_owned());
            return Err(anyhow::anyhow!("{message}").context("login failed"));
        }
        say(&format!(
            "{} did not ask for authorization; nothing to do",
            oauth.describe()
        ));
        return Ok(ExitStatus::Success);
    };
    let expiry = match tokens.expires_at {
        Some(at) => format!(
            "expires in {}",
            super::human_duration(at.saturating_sub(crate::clock::now()))
        ),
        None => "no expiry given".to_owned(),
    };
    let scopes = if tokens.scopes.is_empty() {
        "(none)".to_owned()
    } else {
        tokens.scopes.join(" ")
    };
    say(&format!(
        "{} {}\n  issuer: {}\n  scopes: {}\n  access token: {}\n  refresh token: {}",
        paint(Tone::Bold, "logged in to"),
        oauth.describe(),
        tokens.issuer,
        scopes,
        expiry,
        if tokens.refresh_token.is_some() {
            "yes"
        } else {
            "no"
        },
    ));
    Ok(ExitStatus::Success)
}

/// Sends an `initialize` as a host would and waits for its answer.
async fn initialize(
    era: &mut Era,
    inbound: &mut impl Inbound,
    shutdown: &Shutdown,
) -> anyhow::Result<Message> {
    let host_gone = shutdown.host_gone();
    let (id, params) = (Id::internal("login", 1), initialize_params());
    tokio::select! {
        answer = request(era, inbound, &id, "initialize", Some(&params)) => answer,
        _ = host_gone.cancelled() => Err(anyhow::anyhow!(
            "login cancelled (the host went away, or a signal arrived)"
        )),
    }
}
