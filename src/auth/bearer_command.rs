//! `--bearer-command`: a token helper (`gcloud auth print-identity-token`, `az account
//! get-access-token ...`, a script) whose standard output is the bearer token.
//!
//! The command line is split into words as a shell would (quotes, backslashes) but never
//! given to a shell: no variables, globs, pipes or redirections. The helper runs with no
//! stdin, within [`RUN_TIMEOUT`]; its trimmed stdout is the token, held for the TTL the user
//! chose and fetched again when it runs out or the server answers 401 to it. One run at a
//! time: requests that need a token while the helper runs wait for that run. Its stderr is
//! logged (it is where helpers explain themselves); its stdout, the secret, never is.

use crate::net;
use crate::secret::Secret;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Mutex;

/// Longest a helper may take before it is stopped and its run counts as failed.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Most output read from each of the helper's streams; a token is far smaller.
const OUTPUT_LIMIT: usize = 64 * 1024;
/// Most characters of one stderr line shown in the log or an error.
const LINE_SHOWN: usize = 300;

/// Why the helper gave no usable token.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommandError {
    #[error("--bearer-command {program:?} could not be started")]
    Start {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--bearer-command {program:?} did not finish within {} s", RUN_TIMEOUT.as_secs())]
    Timeout { program: String },
    #[error("--bearer-command {program:?} failed ({status}){stderr}")]
    Failed {
        program: String,
        status: String,
        /// An excerpt of what it wrote to stderr, with a leading ": ".
        stderr: String,
    },
    #[error(
        "--bearer-command {program:?} printed no usable token (its output must be one token of visible ASCII characters, at most {OUTPUT_LIMIT} bytes)"
    )]
    Unusable { program: String },
    #[error("reading the output of --bearer-command {program:?} failed")]
    Read {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// The token last printed, and when.
struct Held {
    token: Secret,
    at: Instant,
}

/// A token helper and the token it last gave.
pub(crate) struct BearerCommand {
    program: String,
    args: Vec<String>,
    ttl: Duration,
    held: Mutex<Option<Held>>,
}

impl std::fmt::Debug for BearerCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerCommand")
            .field("program", &self.program)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl BearerCommand {
    /// Reads the command line (split as a shell would, never run by one).
    pub(crate) fn parse(line: &str, ttl: Duration) -> Result<BearerCommand, String> {
        let words = shlex::split(line).ok_or_else(|| {
            "--bearer-command has an unclosed quote or a trailing backslash".to_owned()
        })?;
        let mut words = words.into_iter();
        let program = words
            .next()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| "--bearer-command is empty".to_owned())?;
        Ok(BearerCommand {
            program,
            args: words.collect(),
            ttl,
            held: Mutex::new(None),
        })
    }

    /// The token to send: the one held while it is younger than the TTL, else a fresh one.
    pub(crate) async fn token(&self) -> Result<Secret, CommandError> {
        let mut held = self.held.lock().await;
        if let Some(h) = held.as_ref().filter(|h| h.at.elapsed() < self.ttl) {
            return Ok(h.token.clone());
        }
        // Boxed: running the helper is rare, and its state would sit in every request.
        let token = Box::pin(self.run()).await?;
        *held = Some(Held {
            token: token.clone(),
            at: Instant::now(),
        });
        Ok(token)
    }

    /// The server refused `sent`: forget it, so the next [`BearerCommand::token`] runs the
    /// helper again (unless another request already fetched a newer one).
    pub(crate) async fn rejected(&self, sent: &Secret) {
        let mut held = self.held.lock().await;
        if held.as_ref().is_some_and(|h| &h.token == sent) {
            *held = None;
        }
    }

    async fn run(&self) -> Result<Secret, CommandError> {
        let program = self.program.clone();
        tracing::debug!(%program, "running the bearer command");
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| CommandError::Start {
                program: program.clone(),
                source,
            })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let finished = async {
            let (out, err) = tokio::join!(read_bounded(stdout), read_bounded(stderr));
            let status = child.wait().await;
            (out, err, status)
        };
        let Ok((out, err, status)) = tokio::time::timeout(RUN_TIMEOUT, finished).await else {
            return Err(CommandError::Timeout { program });
        };
        let read = |source| CommandError::Read {
            program: program.clone(),
            source,
        };
        let (out, err, status) = (
            out.map_err(read)?,
            err.map_err(read)?,
            status.map_err(read)?,
        );
        let err_text = String::from_utf8_lossy(&err);
        if !status.success() {
            for line in err_text.lines().filter(|l| !l.trim().is_empty()) {
                tracing::warn!(%program, "bearer command: {}", net::excerpt(line, LINE_SHOWN));
            }
            let shown = net::excerpt(err_text.trim(), LINE_SHOWN);
            return Err(CommandError::Failed {
                program,
                status: status.to_string(),
                stderr: if shown.is_empty() {
                    String::new()
                } else {
                    format!(": {shown}")
                },
            });
        }
        for line in err_text.lines().filter(|l| !l.trim().is_empty()) {
            tracing::debug!(%program, "bearer command: {}", net::excerpt(line, LINE_SHOWN));
        }
        usable_token(&out).ok_or(CommandError::Unusable { program })
    }
}

/// Reads a stream to its end, keeping at most [`OUTPUT_LIMIT`] + 1 bytes (so an overlong
/// output is known to be one) and draining the rest, so the helper never blocks on a full
/// pipe.
async fn read_bounded(mut stream: impl AsyncRead + Unpin) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    (&mut stream)
        .take(OUTPUT_LIMIT as u64 + 1)
        .read_to_end(&mut kept)
        .await?;
    tokio::io::copy(&mut stream, &mut tokio::io::sink()).await?;
    Ok(kept)
}

/// The token in a helper's output: trimmed, a `Bearer ` prefix dropped, one word of visible
/// ASCII (what a header value may carry without doubt).
fn usable_token(out: &[u8]) -> Option<Secret> {
    if out.len() > OUTPUT_LIMIT {
        return None;
    }
    let text = std::str::from_utf8(out).ok()?.trim();
    let token = text.strip_prefix("Bearer ").unwrap_or(text).trim();
    let visible = token.bytes().all(|b| b.is_ascii_graphic());
    (!token.is_empty() && visible).then(|| Secret::new(token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words are split as a shell would, and nothing is interpreted.
    #[test]
    fn splits_like_a_shell_without_one() {
        let c = BearerCommand::parse(
            r#"gcloud auth print-identity-token --audiences="https://a b" '$HOME' *"#,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(c.program, "gcloud");
        assert_eq!(
            c.args,
            [
                "auth",
                "print-identity-token",
                "--audiences=https://a b",
                "$HOME",
                "*"
            ]
        );
        assert!(BearerCommand::parse("tool 'open", Duration::ZERO).is_err());
        assert!(BearerCommand::parse("   ", Duration::ZERO).is_err());
        assert!(BearerCommand::parse("''", Duration::ZERO).is_err());
    }

    /// Only one visible-ASCII word is a token.
    #[test]
    fn reads_the_token() {
        let t = |s: &str| usable_token(s.as_bytes()).map(|t| t.expose().to_owned());
        assert_eq!(t("abc.def\n").as_deref(), Some("abc.def"));
        assert_eq!(t("Bearer abc\r\n").as_deref(), Some("abc"));
        assert_eq!(t(""), None);
        assert_eq!(t("\n \n"), None);
        assert_eq!(t("two words"), None);
        assert_eq!(t("line\nbreak"), None);
        assert_eq!(t("caf\u{e9}"), None);
        assert_eq!(usable_token(&vec![b'a'; OUTPUT_LIMIT + 1]), None);
    }
}
