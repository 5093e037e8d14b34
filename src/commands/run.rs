//! The default command: bridge stdio to the server until the host goes away.
//!
//! Turns the arguments into a checked configuration (URL policy, headers, token, TLS), wires
//! the transport to the relay, installs the signal handlers, and maps why the relay stopped
//! to an exit status.

use crate::cli::{RunArgs, ServerArgs};
use crate::endpoint;
use crate::exit::{ExitStatus, usage};
use crate::headers::{self, Header};
use crate::relay::{self, QuitReason};
use crate::secret::Secret;
use crate::tool_filter::ToolFilter;
use crate::transport::http::{ClientOptions, Http, build_client};
use crate::transport::{Inbox, Mode, Shared, Transport};
use anyhow::Context;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;

/// How long answers in flight may take to arrive once the host has closed stdin.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<ExitStatus> {
    let (url_text, mode) = match (&args.sse, &args.streamable_http, &args.server.url) {
        (Some(u), _, _) => (u.clone(), Mode::SseOnly),
        (_, Some(u), _) => (u.clone(), Mode::HttpOnly),
        (_, _, Some(u)) => (u.clone(), args.server.transport),
        _ => {
            return Err(usage(anyhow::anyhow!(
                "no server URL given; try `mcp-bridge --help`"
            )));
        }
    };
    let http = connection(&args.server, &url_text, args.max_message_size)?;

    let signal = CancellationToken::new();
    watch_signals(signal.clone());

    let (to_host_tx, from_server_rx) = mpsc::channel(relay::CHANNEL_CAPACITY);
    let shared = Shared::new(http, Inbox::new(to_host_tx), CancellationToken::new());
    let transport = Transport::new(shared, mode);
    let options = relay::Options {
        max_message: args.max_message_size,
        drain_timeout: DRAIN_TIMEOUT,
        tool_filter: ToolFilter::new(args.ignore_tool),
    };
    let quit = relay::run(
        tokio::io::stdin(),
        tokio::io::stdout(),
        transport,
        from_server_rx,
        options,
        signal,
    )
    .await;
    match quit {
        QuitReason::StdinClosed | QuitReason::Signal | QuitReason::StdoutClosed => {
            Ok(ExitStatus::Success)
        }
        QuitReason::Fatal(e) => {
            Err(anyhow::Error::new(e).context("the connection to the server failed"))
        }
    }
}

/// Checks the URL and builds everything needed to make requests to the server.
pub(crate) fn connection(
    server: &ServerArgs,
    url_text: &str,
    max_message: usize,
) -> anyhow::Result<Http> {
    let url = Url::parse(url_text)
        .map_err(|e| usage(anyhow::anyhow!("{url_text:?} is not a valid URL: {e}")))?;
    endpoint::check_server_url(&url, server.allow_http).map_err(usage)?;

    let lookup = |name: &str| std::env::var(name).ok();
    let mut extra: Vec<Header> = Vec::new();
    for spec in &server.headers {
        extra.push(headers::parse_header(spec, &lookup).map_err(usage)?);
    }
    for path in &server.header_file {
        extra.extend(headers::read_header_file(path, &lookup).map_err(usage)?);
    }
    let bearer = match &server.bearer {
        Some(token) => {
            let token = headers::expand_vars(token.trim(), &lookup)
                .context("in the bearer token")
                .map_err(usage)?;
            let token = token
                .strip_prefix("Bearer ")
                .unwrap_or(&token)
                .trim()
                .to_owned();
            if token.is_empty() || reqwest::header::HeaderValue::from_str(&token).is_err() {
                return Err(usage(anyhow::anyhow!(
                    "the bearer token is empty or has characters not allowed in a header"
                )));
            }
            Some(Secret::new(token))
        }
        None => None,
    };
    if bearer.is_some()
        && extra
            .iter()
            .any(|h| h.name == reqwest::header::AUTHORIZATION)
    {
        return Err(usage(anyhow::anyhow!(
            "both --bearer and an Authorization header were given; use one"
        )));
    }

    let mut ca_certs = server.ca_cert.clone();
    if let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
        ca_certs.push(file.into());
    }
    let client = build_client(&ClientOptions { ca_certs })?;
    tracing::debug!(
        url = %endpoint::for_log(&url),
        headers = ?extra.iter().map(|h| headers::describe(h.name.as_str(), h.value.expose())).collect::<Vec<_>>(),
        bearer = bearer.is_some(),
        "server"
    );
    Ok(Http {
        client,
        url,
        headers: extra,
        bearer,
        max_message,
    })
}

/// Cancels `signal` on SIGINT or SIGTERM; a second signal exits at once.
fn watch_signals(signal: CancellationToken) {
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("signal received; shutting down");
        signal.cancel();
        wait_for_signal().await;
        tracing::warn!("second signal; exiting now");
        std::process::exit(0);
    });
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term =
        signal(SignalKind::terminate()).expect("installing a SIGTERM handler cannot fail on unix");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
