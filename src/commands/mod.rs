//! The commands: each takes its parsed arguments and returns how it ended.

mod completions;
mod login;
mod logout;
mod run;
mod status;

use crate::cli::{Cli, Command};
use crate::exit::ExitStatus;

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
