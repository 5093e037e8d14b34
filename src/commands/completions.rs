//! `mcp-bridge completions SHELL`: prints a completion script generated from the CLI.

use crate::cli::Cli;
use crate::exit::ExitStatus;
use clap::CommandFactory;

#[expect(clippy::print_stdout, reason = "the script is this command's output")]
pub(crate) fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitStatus> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mcp-bridge", &mut out);
    print!("{}", String::from_utf8_lossy(&out));
    Ok(ExitStatus::Success)
}
