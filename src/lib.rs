//! mcp-bridge: use a remote MCP server from any stdio MCP host.
//!
//! The crate is a binary at heart; it is built as a library too only so that the fuzz
//! targets in `fuzz/` can reach its parsers. The public surface is [`main_entry`], which the
//! binary calls and which holds everything `main` does, and the hidden [`fuzzing`] module.
//! Every other module stays private and its items `pub(crate)`.
//!
//! `main_entry` only parses arguments, starts logging and the runtime, dispatches, and maps
//! the result to an exit code. Everything else lives in the modules below.

#![deny(clippy::print_stdout)]

mod auth;
mod budget;
mod cli;
mod clock;
mod commands;
mod endpoint;
mod env;
mod era;
mod exit;
mod headers;
mod jsonrpc;
mod logging;
mod mcp;
mod net;
mod relay;
mod secret;
mod stdio;
mod store;
mod terminal;
mod tool_filter;
mod transport;
mod upstream;

#[doc(hidden)]
pub mod fuzzing;

use clap::Parser;
use std::process::ExitCode;

/// Runs mcp-bridge with the process's arguments and returns its exit code.
pub fn main_entry() -> ExitCode {
    let cli = cli::Cli::parse();
    // A host starts the bridge itself; a subcommand is run by a person.
    let audience = if cli.command.is_some() {
        logging::Audience::Person
    } else {
        logging::Audience::Host
    };
    logging::init(&cli.log, audience);
    // One thread is plenty for a relay and keeps start-up and memory small; blocking work
    // (stdin, stdout) runs on tokio's blocking pool.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return exit::report(&anyhow::Error::new(e).context("failed to start the runtime"))
                .into();
        }
    };
    let status = match runtime.block_on(commands::dispatch(cli)) {
        Ok(status) => status,
        Err(e) => exit::report(&e),
    };
    // stdin may still be blocked in a read on the blocking pool; do not wait for it.
    runtime.shutdown_background();
    status.into()
}
