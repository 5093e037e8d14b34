//! The default command: bridge stdio to the server until the host goes away.
//!
//! Builds the connection from the options, wires the era upstream to the relay, installs
//! the signal handlers, and maps why the relay stopped to an exit status.

use super::connect::{LoginPolicy, connection};
use crate::budget::Budget;
use crate::cli::RunArgs;
use crate::era::{self, Era};
use crate::exit::{ExitStatus, usage};
use crate::relay::{self, QuitReason, Shutdown};
use crate::tool_filter::ToolFilter;
use crate::transport::{Limits, Mode};
use crate::{stdio, store};
use std::time::Duration;

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
    let shutdown = Shutdown::new();
    super::watch_signals(shutdown.clone());
    let callback_port = args
        .callback_port_positional
        .or(args.server.oauth.callback_port);
    let connection = connection(
        &args.server,
        &url_text,
        Limits {
            max_message: args.max_message_size,
            // Answers waiting for the host are held to the same bound as its requests.
            budget: Budget::new(args.max_bytes_in_flight),
        },
        callback_port,
        &shutdown.host_gone(),
        LoginPolicy::AsNeeded,
    )?;
    let config_dir = store::config_dir().ok();
    if let Some(dir) = &config_dir {
        // A token helper's tokens never reach the store: remembered here for `status`.
        let server = crate::endpoint::canonical_resource(connection.http.url());
        era::Memory::new(dir.clone(), server)
            .remember_helper(args.server.bearer_command.is_some())
            .await;
    }
    let (era, inbound) = Era::new(
        connection.http,
        mode,
        args.server.protocol,
        config_dir,
        shutdown.stopped(),
    );
    let options = relay::Options {
        max_message: args.max_message_size,
        max_in_flight: args.max_in_flight as usize,
        max_bytes_in_flight: args.max_bytes_in_flight,
        drain_timeout: DRAIN_TIMEOUT,
        tool_filter: ToolFilter::new(args.ignore_tool),
        request_timeout: args.request_timeout.map(Duration::from_secs),
        keepalive: args.keepalive.map(Duration::from_secs),
    };
    let quit = relay::run(
        stdio::host_input(),
        stdio::host_output(),
        era,
        inbound,
        options,
        shutdown,
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
