//! `mcp-bridge check URL`: connects as the bridge would and reports every step, so a person
//! sees what works, what does not, and the fix.
//!
//! Each step is the bridge's own code where the bridge has one (the URL policy, the
//! resolver, the trusted roots, the era and transport choice, authorization discovery, the
//! store); the TLS handshake is made here only to show the certificate. The report (or,
//! with `--json`, one JSON document) goes to stdout; progress goes to stderr. It never opens
//! a browser unless `--login` is given.

mod auth;
mod hosts;
mod network;
mod report;
mod server;
mod tls;

use super::connect::{self, LoginPolicy, connection};
use crate::cli::CheckArgs;
use crate::era::Era;
use crate::exit::{ExitStatus, usage};
use crate::relay::Shutdown;
use crate::terminal::{Tone, paint, say, waiting};
use crate::transport::{HANDSHAKE_TIMEOUT, Limits, Mode};
use crate::{endpoint, env, store};
use anyhow::Context;
use clap::ValueEnum;
use report::{Report, Verdict};
use server::{Initialized, Session};
use std::io::Write;
use url::Url;

pub(crate) async fn check(args: CheckArgs) -> anyhow::Result<ExitStatus> {
    let Some(url_text) = args.server.url.clone() else {
        return Err(usage(anyhow::anyhow!("check needs the server URL")));
    };
    let url = Url::parse(&url_text)
        .map_err(|e| usage(anyhow::anyhow!("{url_text:?} is not a valid URL: {e}")))?;
    let mut report = Report {
        url: endpoint::for_log(&url),
        ..Report::default()
    };
    let verdict = steps(&args, &url, &mut report).await?;
    report.usable = verdict.is_none();
    report.verdict = verdict.unwrap_or_else(|| Verdict {
        reason: "the server answers, and the bridge can use it".into(),
        fix: None,
    });
    let text = if args.json {
        report.to_json()
    } else {
        report.to_text(crate::clock::now())
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(e).context("failed to write to stdout");
        }
        _ => {}
    }
    Ok(if report.usable {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn progress(text: &str) {
    say(&paint(Tone::Dim, text));
}

/// Runs the steps in order, filling `report`; the first that fails gives the verdict.
async fn steps(
    args: &CheckArgs,
    url: &Url,
    report: &mut Report,
) -> anyhow::Result<Option<Verdict>> {
    let server = &args.server;
    let policy = network::policy(url, server.allow_http);
    let refused = (!policy.allowed).then(|| network::policy_verdict(&policy));
    report.policy = Some(policy);
    if refused.is_some() {
        return Ok(refused);
    }
    report.hosts = Some(hosts::entries(&host_entry(args, url, None)));
    let settings = connect::net_settings(server).map_err(usage)?;
    let timeout = settings.connect_timeout;

    // Through a proxy the bridge never connects directly: the direct steps only inform.
    let proxy = network::proxy(url, |name| std::env::var(name).ok());
    let direct = proxy.is_none();
    report.proxy = proxy;

    progress(&format!("resolving {}", url.host_str().unwrap_or_default()));
    let (dns, addrs) = network::resolve(url).await;
    let failed = dns.error.is_some().then(|| network::dns_verdict(&dns));
    report.dns = Some(dns);
    if failed.is_some() {
        return if direct {
            Ok(failed)
        } else {
            mcp(args, url, &settings, report).await
        };
    }
    progress("connecting");
    let (tcp, stream) = network::connect(&addrs, timeout).await;
    let Some(stream) = stream else {
        let verdict = network::tcp_verdict(url, &tcp);
        report.tcp = Some(tcp);
        return if direct {
            Ok(Some(verdict))
        } else {
            mcp(args, url, &settings, report).await
        };
    };
    report.tcp = Some(tcp);
    if url.scheme() == "https" {
        progress("TLS handshake");
        let host = url.host_str().unwrap_or_default();
        let tls = tls::handshake(stream, host, &settings.tls, timeout, crate::clock::now()).await;
        let failed = tls.error.is_some().then(|| tls::verdict(&tls));
        report.tls = Some(tls);
        if failed.is_some() && direct {
            return Ok(failed);
        }
    }
    mcp(args, url, &settings, report).await
}

/// The MCP steps: era, transport, `initialize`, the lists, authorization.
async fn mcp(
    args: &CheckArgs,
    url: &Url,
    settings: &crate::net::Settings,
    report: &mut Report,
) -> anyhow::Result<Option<Verdict>> {
    let server = &args.server;
    let shutdown = Shutdown::new();
    super::watch_signals(shutdown.clone());
    let login = if args.login {
        LoginPolicy::AsNeeded
    } else {
        LoginPolicy::Never
    };
    let connection = connection(
        server,
        url.as_str(),
        Limits::unbounded(16 << 20),
        server.oauth.callback_port,
        &shutdown.host_gone(),
        login,
    )?;
    let oauth = connection.oauth.clone();
    let (era, inbound) = Era::new(
        connection.http,
        server.transport,
        server.protocol,
        store::config_dir().ok(),
        shutdown.stopped(),
    );
    let mut session = Session::new(era, inbound, HANDSHAKE_TIMEOUT);
    progress("speaking MCP (initialize)");
    let initialized = {
        let _line = waiting("the server's answer to initialize", HANDSHAKE_TIMEOUT);
        session.initialize().await
    };
    let result = match &initialized {
        Initialized::Ok(result) => Some(result),
        Initialized::Failed(_) => None,
    };
    report.protocol = Some(server::protocol(&session.decision(), result));
    let failure = match &initialized {
        Initialized::Ok(result) => {
            let mut found = server::server(result);
            for what in ["tools", "resources", "prompts"] {
                if found.capabilities.get(what).is_some() {
                    progress(&format!("listing {what}"));
                    let listing = session.list(what, args.list).await;
                    match what {
                        "tools" => found.tools = Some(listing),
                        "resources" => found.resources = Some(listing),
                        _ => found.prompts = Some(listing),
                    }
                }
            }
            report.hosts = Some(hosts::entries(&host_entry(
                args,
                url,
                found.name.as_deref(),
            )));
            report.server = Some(found);
            None
        }
        Initialized::Failed(e) => {
            report.server = Some(report::Server {
                error: Some(e.clone()),
                ..report::Server::default()
            });
            Some(e.clone())
        }
    };
    shutdown.stopped().cancel();
    session.close().await;

    progress("authorization");
    let auth = auth::inspect(
        oauth.as_deref(),
        url,
        settings,
        server.oauth.store,
        failure.as_deref(),
    )
    .await;
    let verdict = failure.as_deref().map(|failure| {
        auth::verdict(&auth, failure, url.as_str()).unwrap_or_else(|| {
            Verdict::fail(
                format!("the server could not be used: {failure}"),
                "run again with -v for the details",
            )
        })
    });
    report.authorization = Some(auth);
    Ok(verdict)
}

/// The host entry for this server: the URL, the options that are not the defaults, and a
/// placeholder for a token (never the token).
fn host_entry(args: &CheckArgs, url: &Url, server_name: Option<&str>) -> hosts::Entry {
    let server = &args.server;
    let mut cli = vec![url.to_string()];
    if server.transport != Mode::HttpFirst
        && let Some(value) = server.transport.to_possible_value()
    {
        cli.extend(["--transport".into(), value.get_name().to_owned()]);
    }
    for ca in &server.ca_cert {
        cli.extend(["--ca-cert".into(), ca.display().to_string()]);
    }
    if server.allow_http && !endpoint::is_loopback(url) {
        cli.push("--allow-http".into());
    }
    let mut vars = Vec::new();
    if server.bearer.is_some() {
        vars.push((env::MCP_BRIDGE_BEARER.to_owned(), "<your token>".to_owned()));
    }
    hosts::Entry {
        name: hosts::name(server_name, url.host_str().unwrap_or_default()),
        args: cli,
        env: vars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn args(words: &[&str]) -> CheckArgs {
        let cli = Cli::try_parse_from([&["mcp-bridge", "check"], words].concat()).unwrap();
        let Some(Command::Check(args)) = cli.command else {
            panic!("check")
        };
        *args
    }

    /// The entry keeps the options that change how the bridge connects, names the token's
    /// variable instead of the token, and leaves out what check alone uses.
    #[test]
    fn host_entry_options() {
        let a = args(&[
            "http://mcp.example.com/mcp",
            "--transport",
            "sse-only",
            "--ca-cert",
            "/etc/ca.pem",
            "--allow-http",
            "--bearer",
            "s3cret",
            "--json",
            "--list",
        ]);
        let url = Url::parse("http://mcp.example.com/mcp").unwrap();
        let entry = host_entry(&a, &url, Some("Demo"));
        assert_eq!(entry.name, "demo");
        assert_eq!(
            entry.args,
            [
                "http://mcp.example.com/mcp",
                "--transport",
                "sse-only",
                "--ca-cert",
                "/etc/ca.pem",
                "--allow-http"
            ]
        );
        assert_eq!(
            entry.env,
            [("MCP_BRIDGE_BEARER".to_owned(), "<your token>".to_owned())]
        );
        let local = Url::parse("http://127.0.0.1:3000/mcp").unwrap();
        let plain = host_entry(&args(&["http://127.0.0.1:3000/mcp"]), &local, None);
        assert_eq!(plain.args, ["http://127.0.0.1:3000/mcp"]);
        assert_eq!(plain.name, "127-0-0-1");
        assert!(plain.env.is_empty());
    }
}
