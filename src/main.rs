//! mcp-bridge: use a remote MCP server from any stdio MCP host.
//!
//! The program lives in the library (`src/lib.rs`); `main` only hands over to it.

#![deny(clippy::print_stdout)]

fn main() -> std::process::ExitCode {
    mcp_bridge::main_entry()
}
