//! Logging to stderr through `tracing`. stdout belongs to the protocol.

use crate::cli::{LogArgs, LogLevel};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the stderr logger. `RUST_LOG` wins over every option.
pub(crate) fn init(args: &LogArgs) {
    let filter = match std::env::var(crate::env::RUST_LOG) {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(directive(args)),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// The filter the options ask for. Our own crate logs at the chosen level; dependencies
/// only from warnings up, unless tracing everything.
fn directive(args: &LogArgs) -> String {
    let level = if args.silent {
        LogLevel::None
    } else if args.debug {
        LogLevel::Debug
    } else if let Some(level) = args.log_level {
        level
    } else {
        match i16::from(args.verbose) - i16::from(args.quiet) {
            i16::MIN..=-2 => LogLevel::Error,
            -1 => LogLevel::Warn,
            0 => LogLevel::Info,
            1 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    };
    match level {
        LogLevel::None => "off".into(),
        LogLevel::Trace => "trace".into(),
        LogLevel::Debug => "warn,mcp_bridge=debug".into(),
        LogLevel::Info => "warn,mcp_bridge=info".into(),
        LogLevel::Warn => "warn".into(),
        LogLevel::Error => "error".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(verbose: u8, quiet: u8, level: Option<LogLevel>, debug: bool, silent: bool) -> LogArgs {
        LogArgs {
            verbose,
            quiet,
            log_level: level,
            debug,
            silent,
        }
    }

    /// Counts, explicit levels and the compatibility flags map to filters; silence wins.
    #[test]
    fn picks_levels() {
        assert_eq!(
            directive(&args(0, 0, None, false, false)),
            "warn,mcp_bridge=info"
        );
        assert_eq!(
            directive(&args(1, 0, None, false, false)),
            "warn,mcp_bridge=debug"
        );
        assert_eq!(directive(&args(2, 0, None, false, false)), "trace");
        assert_eq!(directive(&args(0, 1, None, false, false)), "warn");
        assert_eq!(directive(&args(0, 2, None, false, false)), "error");
        assert_eq!(
            directive(&args(0, 0, Some(LogLevel::None), false, false)),
            "off"
        );
        assert_eq!(
            directive(&args(0, 0, None, true, false)),
            "warn,mcp_bridge=debug"
        );
        assert_eq!(
            directive(&args(0, 0, Some(LogLevel::Trace), true, true)),
            "off"
        );
    }
}
