//! Logging to stderr through `tracing`. stdout belongs to the protocol.
//!
//! Two audiences: under a host (the bridge itself) stderr is a structured log with times and
//! levels, which hosts keep in their log files; for a person (a subcommand such as `login`)
//! the same events read as plain sentences, with `warning:` and `error:` marked, through
//! `terminal` so that they never garble a live line.

use crate::cli::{LogArgs, LogLevel};
use crate::terminal::{self, Style, Tone};
use std::fmt::Write as _;
use std::io::IsTerminal;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Who reads stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    /// A host started the bridge: a structured log.
    Host,
    /// A person ran a command: plain sentences.
    Person,
}

/// Installs the stderr logger. `RUST_LOG` wins over every option.
pub(crate) fn init(args: &LogArgs, audience: Audience) {
    let filter = match std::env::var(crate::env::RUST_LOG) {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(directive(args)),
    };
    let terminal = std::io::stderr().is_terminal();
    match audience {
        Audience::Host => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(terminal)
            .with_target(false)
            .init(),
        Audience::Person => {
            let style = Style::for_person(
                terminal,
                std::env::var_os(crate::env::NO_COLOR).as_deref(),
                std::env::var_os(crate::env::TERM).as_deref(),
            );
            terminal::set_style(style);
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(terminal::LineWriter::default)
                .event_format(Sentence)
                .init();
        }
    }
}

/// Formats an event as a sentence: its message, then its fields in parentheses; warnings
/// and errors say so first.
struct Sentence;

impl<S, N> FormatEvent<S, N> for Sentence
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        writeln!(writer, "{}", sentence(*event.metadata().level(), &fields))
    }
}

/// An event's message and other fields, as text.
#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.keep(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.keep(field, format!("{value:?}"));
    }
}

impl Fields {
    fn keep(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.others.push((field.name(), value));
        }
    }
}

/// The line a person reads for one event.
fn sentence(level: Level, fields: &Fields) -> String {
    let mut text = match level {
        Level::ERROR => format!("{} ", terminal::paint(Tone::Error, "error:")),
        Level::WARN => format!("{} ", terminal::paint(Tone::Warning, "warning:")),
        Level::INFO => String::new(),
        Level::DEBUG => format!("{} ", terminal::paint(Tone::Dim, "debug:")),
        Level::TRACE => format!("{} ", terminal::paint(Tone::Dim, "trace:")),
    };
    text.push_str(&fields.message);
    if !fields.others.is_empty() {
        let details: Vec<String> = fields
            .others
            .iter()
            .map(|(name, value)| format!("{}: {value}", name.replace('_', " ")))
            .collect();
        let _ = write!(text, " ({})", details.join(", "));
    }
    text
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

    /// A person reads the message, its details in parentheses, and what is not news marked.
    #[test]
    fn events_read_as_sentences() {
        let fields = Fields {
            message: "registering mcp-bridge with the authorization server".into(),
            others: vec![("issuer", "https://as.example".into())],
        };
        assert_eq!(
            sentence(Level::INFO, &fields),
            "registering mcp-bridge with the authorization server (issuer: https://as.example)"
        );
        let fields = Fields {
            message: "the browser command failed".into(),
            others: vec![("exit_status", "1".into()), ("program", "x".into())],
        };
        assert_eq!(
            sentence(Level::WARN, &fields),
            "warning: the browser command failed (exit status: 1, program: x)"
        );
        let bare = Fields {
            message: "done".into(),
            others: Vec::new(),
        };
        assert_eq!(sentence(Level::ERROR, &bare), "error: done");
        assert_eq!(sentence(Level::DEBUG, &bare), "debug: done");
    }

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
