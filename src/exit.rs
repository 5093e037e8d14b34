//! Exit statuses and how errors are printed.
//!
//! Errors print as one `mcp-bridge: error: ...` line followed by `caused by:` lines, all on
//! stderr. A [`UsageError`] anywhere in the chain means exit code 2.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Clean shutdown: exit 0.
    Success,
    /// Operational failure (unreachable, unauthorized): exit 1.
    Failure,
    /// Usage error: exit 2.
    Usage,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Usage => ExitCode::from(2),
        }
    }
}

/// Marks an error as the user's input being wrong (exit 2) rather than the world (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

/// Prints an error chain to stderr and returns the exit status it calls for.
pub(crate) fn report(err: &anyhow::Error) -> ExitStatus {
    let mut text = format!(
        "mcp-bridge: {} {err}",
        crate::terminal::paint(crate::terminal::Tone::Error, "error:")
    );
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    crate::terminal::line(&text);
    if err.chain().any(|e| e.is::<UsageError>()) {
        ExitStatus::Usage
    } else {
        ExitStatus::Failure
    }
}

/// Turns any error into a usage error, keeping its message and causes.
pub(crate) fn usage(err: anyhow::Error) -> anyhow::Error {
    let message = format!("{err:#}");
    anyhow::Error::new(UsageError(message))
}
