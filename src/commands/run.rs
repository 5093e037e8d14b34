//! The default command: bridge stdio to the server until the host goes away.
//!
//! Turns the arguments into a checked configuration (URL policy, headers, token, TLS), wires
//! the transport to the relay, installs the signal handlers, and maps why the relay stopped
//! to an exit status.

use crate::auth::registration::ClientOptions;
use crate::auth::{Auth, AuthOptions, browser, store};
use crate::cli::{OAuthArgs, RunArgs, ServerArgs};
use crate::exit::{ExitStatus, usage};
use crate::headers::{self, Header};
use crate::relay::{self, QuitReason};
use crate::secret::Secret;
use crate::tool_filter::ToolFilter;
use crate::transport::http::{self, Http, build_client, build_oauth_client};
use crate::transport::{Inbox, Mode, Shared, Transport};
use crate::{endpoint, stdio};
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
    let signal = CancellationToken::new();
    watch_signals(signal.clone());
    // Fires when the host goes away (stdin closed) or a signal arrives: a browser login in
    // progress stops at once.
    let host_gone = signal.child_token();
    let callback_port = args
        .callback_port_positional
        .or(args.server.oauth.callback_port);
    let http = connection(
        &args.server,
        &url_text,
        args.max_message_size,
        callback_port,
        &host_gone,
    )?;

    let (to_host_tx, from_server_rx) = mpsc::channel(relay::CHANNEL_CAPACITY);
    let shared = Shared::new(http, Inbox::new(to_host_tx), CancellationToken::new());
    let transport = Transport::new(shared, mode, args.server.protocol, store::config_dir().ok());
    let options = relay::Options {
        max_message: args.max_message_size,
        drain_timeout: DRAIN_TIMEOUT,
        tool_filter: ToolFilter::new(args.ignore_tool),
    };
    let quit = relay::run(
        stdio::host_input(),
        stdio::host_output(),
        transport,
        from_server_rx,
        options,
        signal,
        host_gone,
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

/// Checks the URL and builds everything needed to make requests to the server: the HTTP
/// client, the user's headers and token, and the OAuth client when no static credentials
/// were given. `cancel` stops a login in progress.
pub(crate) fn connection(
    server: &ServerArgs,
    url_text: &str,
    max_message: usize,
    callback_port: Option<u16>,
    cancel: &CancellationToken,
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
    let client_options = http::ClientOptions { ca_certs };
    let client = build_client(&client_options)?;
    let static_credentials = bearer.is_some()
        || extra
            .iter()
            .any(|h| h.name == reqwest::header::AUTHORIZATION);
    let auth = if static_credentials {
        None
    } else {
        let options = auth_options(&server.oauth, callback_port)?;
        let config_dir = store::config_dir().context("cannot find a directory for credentials")?;
        let oauth_http = build_oauth_client(&client_options)?;
        Some(Auth::new(
            url.clone(),
            options,
            oauth_http,
            config_dir,
            cancel.clone(),
        ))
    };
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
        auth,
        max_message,
    })
}

/// Turns the OAuth options into the authorization settings (usage errors exit 2).
pub(crate) fn auth_options(
    args: &OAuthArgs,
    callback_port: Option<u16>,
) -> anyhow::Result<AuthOptions> {
    let mut client = ClientOptions {
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone().map(Secret::new),
        ..ClientOptions::default()
    };
    if let Some(info) = &args.static_oauth_client_info {
        let info = json_or_file(info, "--static-oauth-client-info")?;
        let field = |name: &str| info.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        client.client_id = Some(field("client_id").ok_or_else(|| {
            usage(anyhow::anyhow!(
                "--static-oauth-client-info needs a \"client_id\""
            ))
        })?);
        client.client_secret = field("client_secret").map(Secret::new);
        client.auth_method = field("token_endpoint_auth_method");
    }
    if let Some(meta) = &args.static_oauth_client_metadata {
        client.extra_metadata = Some(json_or_file(meta, "--static-oauth-client-metadata")?);
    }
    if let Some(url) = &args.client_metadata_url {
        let url = Url::parse(url)
            .map_err(|e| usage(anyhow::anyhow!("--client-metadata-url {url:?}: {e}")))?;
        if url.scheme() != "https" || url.path() == "/" {
            return Err(usage(anyhow::anyhow!(
                "--client-metadata-url must be an https URL with a path"
            )));
        }
        client.metadata_url = Some(url);
    }
    let scopes: Vec<String> = args
        .scope
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_owned)
        .collect();
    Ok(AuthOptions {
        store: args.store,
        client,
        scopes: (!scopes.is_empty()).then_some(scopes),
        resource: args.resource.clone(),
        callback_port,
        callback_host: args.callback_host.clone(),
        timeout: Duration::from_secs(args.auth_timeout.max(1)),
        launcher: browser::launcher_from_env(args.no_browser),
    })
}

/// Reads a JSON object given inline or as `@FILE`.
fn json_or_file(
    value: &str,
    flag: &str,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let text = match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("failed to read {flag} file {path}"))
            .map_err(usage)?,
        None => value.to_owned(),
    };
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(usage(anyhow::anyhow!("{flag} must be a JSON object"))),
        Err(e) => Err(usage(anyhow::anyhow!("{flag} is not valid JSON: {e}"))),
    }
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
pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term =
        signal(SignalKind::terminate()).expect("installing a SIGTERM handler cannot fail on unix");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
pub(crate) async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
