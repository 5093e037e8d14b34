//! The commands: each takes its parsed arguments and returns how it ended.

mod completions;
mod login;
mod logout;
mod run;
mod status;

use crate::auth::store::{self, Store, StoreKind};
use crate::cli::{Cli, Command};
use crate::exit::{ExitStatus, usage};
use anyhow::Context;

/// Runs the command the user asked for.
pub(crate) async fn dispatch(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        None => run::run(cli.run).await,
        Some(Command::Completions { shell }) => completions::completions(shell),
        Some(Command::Login(args)) => login::login(*args).await,
        Some(Command::Logout { url, all, store }) => logout::logout(url, all, store).await,
        Some(Command::Status { url, json, store }) => status::status(url, json, store).await,
    }
}

/// The identity under which a server's credentials are stored, from a URL the user typed.
fn server_id(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| usage(anyhow::anyhow!("{url:?} is not a valid URL: {e}")))?;
    Ok(crate::auth::discovery::canonical_resource(&parsed))
}

/// Opens the credential store the user chose.
async fn open_store(kind: StoreKind) -> anyhow::Result<Store> {
    let config_dir = store::config_dir().context("cannot find the credentials directory")?;
    Store::open(kind, config_dir)
        .await
        .context("cannot open the credential store")
}
