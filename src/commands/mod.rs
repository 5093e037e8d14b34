//! The commands: each takes its parsed arguments and returns how it ended.

mod completions;
mod run;

use crate::cli::{Cli, Command};
use crate::exit::ExitStatus;

/// Runs the command the user asked for.
pub(crate) async fn dispatch(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        None => run::run(cli.run).await,
        Some(Command::Completions { shell }) => completions::completions(shell),
        Some(Command::Login(_) | Command::Logout { .. } | Command::Status { .. }) => {
            eprintln!(
                "mcp-bridge: error: login, logout and status are not yet available in this version"
            );
            Ok(ExitStatus::Usage)
        }
    }
}
