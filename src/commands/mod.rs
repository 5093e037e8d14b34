//! The commands: each takes its parsed arguments and returns how it ended. What several
//! commands share (reaching a server, the store, signals, durations for people) lives here
//! and in `connect.rs`.

mod check;
mod completions;
mod connect;
mod import;
mod login;
mod logout;
mod run;
mod status;

use crate::cli::{Cli, Command};
use crate::exit::{ExitStatus, usage};
use crate::relay::Shutdown;
use crate::store::{self, Store, StoreChoice};
use anyhow::Context;

/// Runs the command the user asked for.
pub(crate) async fn dispatch(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        None => run::run(cli.run).await,
        Some(Command::Completions { shell }) => completions::completions(shell),
        Some(Command::Login(args)) => login::login(*args).await,
        Some(Command::Logout { url, all, store }) => logout::logout(url, all, store).await,
        Some(Command::Status { url, json, store }) => status::status(url, json, store).await,
        Some(Command::Check(args)) => check::check(*args).await,
        Some(Command::Import { source }) => import::import(source).await,
    }
}

/// The identity under which a server's credentials are stored, from a URL the user typed.
fn server_id(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| usage(anyhow::anyhow!("{url:?} is not a valid URL: {e}")))?;
    Ok(crate::endpoint::canonical_resource(&parsed))
}

/// Opens the credential store the user chose.
fn open_store(kind: StoreChoice) -> anyhow::Result<Store> {
    let config_dir = store::config_dir().context("cannot find the credentials directory")?;
    Ok(Store::open(kind, config_dir))
}

/// Announces SIGINT or SIGTERM on `shutdown`; a second signal exits at once.
fn watch_signals(shutdown: Shutdown) {
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("signal received; shutting down");
        shutdown.signal();
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

/// "2 h 5 min", "45 s": for people, not machines.
fn human_duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3600),
    }
}
