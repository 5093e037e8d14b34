//! Opening the authorization URL in the user's browser, safely.
//!
//! The URL comes from an authorization server we do not trust, so it is checked
//! ([`check_url`]) before anything sees it: https only (plain http only to this machine), no
//! user name or password, no control characters or whitespace, no other schemes, bounded
//! length. It is then always printed on stderr, and handed to a launcher ([`open`]) as exactly
//! one argument of a program started without a shell (DESIGN.md invariant 6; CVE-2025-6514 is
//! the failure this prevents). A launcher that fails is not fatal: the user can open the
//! printed URL by hand.
//!
//! This module does not build the URL (the flow does) and does not receive the redirect
//! (`callback` does).

use crate::endpoint::is_loopback;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use tracing::{debug, warn};
use url::Url;

/// The longest authorization URL we open, in bytes. Real ones are well under 2 KiB; browsers
/// and launchers handle 8 KiB everywhere.
const MAX_URL_LEN: usize = 8 * 1024;

/// How much of an untrusted string (a scheme, a host) an error message may show.
const MAX_SHOWN: usize = 64;

/// Why a URL was not opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BrowserError {
    #[error("refusing to open an authorization URL of {len} bytes (the limit is {MAX_URL_LEN})")]
    TooLong { len: usize },
    #[error(
        "refusing to open an authorization URL that contains {found} at byte {at} (control characters and whitespace are not allowed)"
    )]
    ForbiddenCharacter {
        /// The character, as `U+XXXX`.
        found: String,
        /// Its byte offset in the raw URL.
        at: usize,
    },
    #[error("refusing to open an authorization URL that does not parse: {0}")]
    Invalid(url::ParseError),
    #[error(
        "refusing to open an authorization URL with scheme {scheme:?}: only https (or http to this machine) is allowed"
    )]
    Scheme { scheme: String },
    #[error(
        "refusing to open an authorization URL over plain http to {host} (only https, or http to this machine, is allowed)"
    )]
    InsecureHttp { host: String },
    #[error("refusing to open an authorization URL that contains a user name or password")]
    Userinfo,
    #[error("refusing to open an authorization URL without a host")]
    NoHost,
    #[error("could not open a browser with {launcher} ({error}); open the URL above yourself")]
    Launch {
        /// What we tried to run.
        launcher: String,
        /// Why it failed (part of the message, so not a `source`).
        error: std::io::Error,
    },
}

/// Checks an authorization URL from an untrusted server and returns it parsed.
///
/// The raw string is checked before parsing, because parsers quietly strip tabs and newlines
/// and percent-encode the rest. Shell metacharacters (`$`, `;`, `&`, backticks) are legal in
/// URLs and pass: safety against them comes from never handing the URL to a shell ([`open`]).
pub(crate) fn check_url(raw: &str) -> Result<Url, BrowserError> {
    if raw.len() > MAX_URL_LEN {
        return Err(BrowserError::TooLong { len: raw.len() });
    }
    if let Some((at, c)) = raw.char_indices().find(|&(_, c)| is_forbidden(c)) {
        return Err(BrowserError::ForbiddenCharacter {
            found: format!("U+{:04X}", u32::from(c)),
            at,
        });
    }
    let url = Url::parse(raw).map_err(BrowserError::Invalid)?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(BrowserError::InsecureHttp {
                host: crate::net::excerpt(url.host_str().unwrap_or("?"), MAX_SHOWN),
            });
        }
        other => {
            return Err(BrowserError::Scheme {
                scheme: crate::net::excerpt(other, MAX_SHOWN),
            });
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BrowserError::Userinfo);
    }
    if url.host().is_none() {
        return Err(BrowserError::NoHost);
    }
    // Percent-encoding can make the serialized form longer than the input.
    if url.as_str().len() > MAX_URL_LEN {
        return Err(BrowserError::TooLong {
            len: url.as_str().len(),
        });
    }
    Ok(url)
}

/// Characters no authorization URL may contain: controls (C0, DEL, C1), any whitespace, and
/// the invisible marks that reorder or hide text on a terminal.
fn is_forbidden(c: char) -> bool {
    c.is_control() || c.is_whitespace() || crate::net::is_invisible_mark(c)
}

/// How the authorization URL reaches a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Launcher {
    /// The platform's opener (`xdg-open`, `open`, the Windows shell), through the `open` crate.
    System,
    /// A program given by `MCP_BRIDGE_BROWSER`, run directly with the URL as its one argument.
    Command(PathBuf),
    /// `--no-browser`: only print the URL.
    PrintOnly,
}

/// Chooses the launcher: `--no-browser` wins, then `MCP_BRIDGE_BROWSER`, then the system's.
pub(crate) fn launcher_from_env(no_browser: bool) -> Launcher {
    launcher_from(no_browser, std::env::var_os(crate::env::MCP_BRIDGE_BROWSER))
}

/// [`launcher_from_env`] with the variable's value passed in; an empty value counts as unset.
fn launcher_from(no_browser: bool, browser: Option<OsString>) -> Launcher {
    match browser {
        _ if no_browser => Launcher::PrintOnly,
        Some(program) if !program.is_empty() => Launcher::Command(PathBuf::from(program)),
        _ => Launcher::System,
    }
}

/// Prints the URL on stderr, then asks the launcher to open it without waiting for it.
///
/// Call it with a URL from [`check_url`]. An error here means only that no browser could be
/// started; the caller logs it and keeps waiting for the callback, since the user can open the
/// printed URL by hand. With [`Launcher::System`] this may block for up to a quarter of a
/// second per candidate opener while the `open` crate checks that one started.
pub(crate) fn open(launcher: &Launcher, url: &Url) -> Result<(), BrowserError> {
    // Under a host this line sits in a log, where it must say whose it is.
    let whose = if crate::terminal::style().person {
        ""
    } else {
        "mcp-bridge: "
    };
    crate::terminal::line(&format!(
        "{whose}to authorize, open this URL in your browser:\n  {url}"
    ));
    match launcher {
        Launcher::PrintOnly => Ok(()),
        Launcher::System => {
            debug!("opening the authorization URL with the system opener");
            // `that_detached` runs the opener with null stdio in its own session and reaps it.
            open::that_detached(url.as_str()).map_err(|error| BrowserError::Launch {
                launcher: "the system opener".into(),
                error,
            })
        }
        Launcher::Command(program) => spawn_command(program, url),
    }
}

/// Runs `program <url>` directly (no shell), with stdin closed. Its output is read by the
/// bridge and logged at debug level: it never reaches our stdout (the MCP protocol), and a
/// launcher that keeps running never holds the host's pipes open. A thread reaps it.
fn spawn_command(program: &PathBuf, url: &Url) -> Result<(), BrowserError> {
    debug!(program = %program.display(), "opening the authorization URL with MCP_BRIDGE_BROWSER");
    let mut child = Command::new(program)
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| BrowserError::Launch {
            launcher: crate::net::excerpt(&program.display().to_string(), MAX_SHOWN),
            error,
        })?;
    let outputs: Vec<Box<dyn std::io::Read + Send>> = [
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    for output in outputs {
        let logger = std::thread::Builder::new()
            .name("browser-output".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(output)
                    .lines()
                    .map_while(Result::ok)
                {
                    debug!(line = %crate::net::excerpt(&line, MAX_SHOWN), "browser command output");
                }
            });
        if let Err(e) = logger {
            debug!(error = %e, "could not start a thread to read the browser command's output");
        }
    }
    let reaper = std::thread::Builder::new()
        .name("browser-reaper".into())
        .stack_size(64 * 1024)
        .spawn(move || match child.wait() {
            Ok(status) if status.success() => debug!("the browser command finished"),
            Ok(status) => warn!(%status, "the browser command failed"),
            Err(e) => debug!(error = %e, "could not wait for the browser command"),
        });
    if let Err(e) = reaper {
        // The child runs on; it stays a zombie after it exits until we do.
        debug!(error = %e, "could not start a thread to reap the browser command");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(raw: &str) -> String {
        check_url(raw).unwrap_err().to_string()
    }

    /// https anywhere and http to this machine are accepted and returned parsed.
    #[test]
    fn accepts_https_and_loopback_http() {
        for raw in [
            "https://auth.example.com/authorize?response_type=code&state=abc",
            "HTTPS://Auth.Example.com/authorize",
            "http://127.0.0.1:8080/authorize",
            "http://127.9.9.9/authorize",
            "http://localhost:3000/authorize",
            "http://[::1]:3000/authorize",
        ] {
            let url = check_url(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert!(url.scheme().starts_with("http"));
        }
    }

    /// Schemes a browser or opener would treat as code or files are refused.
    #[test]
    fn refuses_other_schemes() {
        for raw in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "ms-settings:privacy",
            "ftp://example.com/",
            "myapp://callback",
        ] {
            assert!(refusal(raw).contains("scheme"), "{raw}");
        }
    }

    /// Plain http to another machine is refused, including look-alikes of localhost.
    #[test]
    fn refuses_remote_http() {
        assert!(refusal("http://evil.example/authorize").contains("plain http to evil.example"));
        assert!(refusal("http://localhost.evil.example/").contains("plain http"));
        assert!(refusal("http://10.0.0.1/").contains("plain http"));
    }

    /// A user name or password in the URL is refused.
    #[test]
    fn refuses_userinfo() {
        assert!(refusal("https://user:pw@h/").contains("user name or password"));
        assert!(refusal("https://user@h/").contains("user name or password"));
        assert!(refusal("http://evil.example@127.0.0.1/").contains("user name"));
    }

    /// Control characters and whitespace are refused wherever they are, before the parser can
    /// strip or encode them.
    #[test]
    fn refuses_control_characters_and_whitespace() {
        for (raw, code) in [
            ("https://h/a\nb", "U+000A"),
            ("https://h/a\rb", "U+000D"),
            ("https://h/a\tb", "U+0009"),
            ("https://h/a\0b", "U+0000"),
            ("https://h/a\u{7f}b", "U+007F"),
            ("https://h/a\u{85}b", "U+0085"),
            ("https://h/a b", "U+0020"),
            ("https://h/a\u{a0}b", "U+00A0"),
            ("https://h/a\u{202e}b", "U+202E"),
            (" https://h/", "U+0020"),
            ("https://h/\n", "U+000A"),
            ("ht\ttps://h/", "U+0009"),
        ] {
            let e = refusal(raw);
            assert!(e.contains(code), "{raw:?}: {e}");
        }
    }

    /// An oversized URL is refused, and the message does not echo it.
    #[test]
    fn refuses_long_urls_without_echoing_them() {
        let raw = format!("https://h/?x={}", "a".repeat(MAX_URL_LEN));
        let e = refusal(&raw);
        assert!(e.contains("bytes"), "{e}");
        assert!(e.len() < 200, "{e}");
        let huge_scheme = format!("{}://h/", "x".repeat(1000));
        let e = refusal(&huge_scheme);
        assert!(e.contains('…') && e.len() < 300, "{e}");
        assert!(check_url(&format!("https://h/?x={}", "a".repeat(4000))).is_ok());
    }

    /// Text that is not a URL at all is refused.
    #[test]
    fn refuses_unparsable() {
        assert!(refusal("not a url").contains("U+0020"));
        assert!(refusal("/relative/path").contains("does not parse"));
        assert!(refusal("https://").contains("does not parse"));
    }

    /// Shell metacharacters are legal in a URL and pass the check: the launcher, not the
    /// check, keeps them away from a shell.
    #[test]
    fn accepts_shell_metacharacters() {
        let url = check_url("https://h/cb?a=$(id)&b=;ls&&c=`id`|d").unwrap();
        assert!(url.as_str().contains("$(id)"));
    }

    /// `--no-browser` wins, then `MCP_BRIDGE_BROWSER` (unless empty), then the system opener.
    #[test]
    fn chooses_launcher() {
        let prog = || Some(OsString::from("/usr/bin/firefox"));
        assert_eq!(launcher_from(true, prog()), Launcher::PrintOnly);
        assert_eq!(launcher_from(true, None), Launcher::PrintOnly);
        assert_eq!(
            launcher_from(false, prog()),
            Launcher::Command(PathBuf::from("/usr/bin/firefox"))
        );
        assert_eq!(
            launcher_from(false, Some(OsString::new())),
            Launcher::System
        );
        assert_eq!(launcher_from(false, None), Launcher::System);
    }

    /// Printing only never fails.
    #[test]
    fn print_only_succeeds() {
        let url = check_url("https://h/authorize").unwrap();
        assert!(open(&Launcher::PrintOnly, &url).is_ok());
    }

    /// A browser command that cannot start is a recoverable error that says what to do.
    #[test]
    fn missing_command_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let url = check_url("https://h/authorize").unwrap();
        let e = open(&Launcher::Command(dir.path().join("no-such-browser")), &url).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("no-such-browser"), "{e}");
        assert!(e.ends_with("open the URL above yourself"), "{e}");
    }

    /// A URL in which every part would run a command creating `<dir>/PWNED<n>` if a shell
    /// ever saw it. `${IFS}` is a space to the shell; a literal space would fail the check.
    #[cfg(unix)]
    fn hostile_url(dir: &std::path::Path) -> Url {
        let d = dir.display().to_string();
        assert!(
            d.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c)),
            "a temporary directory with a plain name: {d}"
        );
        let raw = format!(
            "https://auth.example/authorize?a=$(touch${{IFS}}{d}/PWNED1)&b=x;touch${{IFS}}{d}/PWNED2\
             &c=x&&touch${{IFS}}{d}/PWNED3&d=`touch${{IFS}}{d}/PWNED4`|touch${{IFS}}{d}/PWNED5\
             &e=%20%24%28id%29"
        );
        let url = check_url(&raw).expect("shell syntax is legal in a URL");
        for needle in ["$(touch", ";touch", "&&touch", "`touch", "|touch"] {
            assert!(url.as_str().contains(needle), "the parser changed {needle}");
        }
        url
    }

    /// The `PWNED*` files in `dir`, sorted.
    #[cfg(unix)]
    fn pwned(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("PWNED"))
            .collect();
        names.sort();
        names
    }

    /// Polls `done` for up to ten seconds.
    #[cfg(unix)]
    fn eventually(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "timed out: {what}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The hostile URL is live: handed to `sh -c` the way a vulnerable launcher would, all
    /// five commands run. This keeps the next test honest.
    #[cfg(unix)]
    #[test]
    fn hostile_url_runs_under_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let url = hostile_url(dir.path());
        Command::new("sh")
            .arg("-c")
            .arg(format!("true {url}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        // Some of the commands were put in the background and may finish after `sh`.
        eventually("every payload ran under sh", || {
            pwned(dir.path()).len() == 5
        });
    }

    /// CVE-2025-6514: the same URL reaches the browser command as exactly one argument, byte
    /// for byte, and none of the embedded commands runs.
    #[cfg(unix)]
    #[test]
    fn command_gets_url_as_one_argument_and_no_shell_runs() {
        use std::os::unix::fs::PermissionsExt as _;

        let dir = tempfile::tempdir().unwrap();
        let url = hostile_url(dir.path());
        let d = dir.path().display();
        let script = dir.path().join("fake-browser");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n%s' \"$#\" \"$1\" > '{d}/out.tmp' && mv '{d}/out.tmp' '{d}/out'\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

        open(&Launcher::Command(script), &url).unwrap();

        let out = dir.path().join("out");
        eventually("the fake browser ran", || out.exists());
        let written = std::fs::read_to_string(&out).unwrap();
        let (argc, arg) = written.split_once('\n').unwrap();
        assert_eq!(argc, "1");
        assert_eq!(arg, url.as_str());
        // Give anything a shell might have started in the background time to show itself.
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(
            pwned(dir.path()),
            Vec::<String>::new(),
            "a shell ran part of the URL"
        );
    }
}
