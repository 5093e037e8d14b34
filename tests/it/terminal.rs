//! What a person sees on a terminal: the subcommands speak in plain sentences (bold and
//! color only on a terminal and without `NO_COLOR`, a live line while waiting for the
//! browser), while the bridge itself keeps its structured log even on a terminal.
//!
//! A real pseudo-terminal comes from util-linux `script`, which runs the command with its
//! stdout and stderr on a pty and copies what was written there to its own stdout.

use crate::support::oauth::{AuthEnv, Browse, MockOAuth, Script};
use crate::support::{WAIT, bin};
use std::process::Stdio;

/// Quotes one word for `sh -c`.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `script` running the bridge with `args` on a pseudo-terminal, in `env`'s environment
/// plus `extra`, with every stream piped.
fn script_command(env: &AuthEnv, args: &[&str], extra: &[(&str, &str)]) -> tokio::process::Command {
    let line = std::iter::once(bin().display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|w| quoted(&w))
        .collect::<Vec<_>>()
        .join(" ");
    let home = env.path("home");
    let mut cmd = tokio::process::Command::new("script");
    cmd.args(["-qefc", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm")
        .envs(env.vars())
        .envs(extra.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Runs the bridge with `args` on a pseudo-terminal in `env`'s environment plus `extra`,
/// with `stdin` written to it; returns the exit code and everything shown on the terminal.
async fn on_terminal(
    env: &AuthEnv,
    args: &[&str],
    extra: &[(&str, &str)],
    stdin: &str,
) -> (i32, String) {
    let mut cmd = script_command(env, args, extra);
    let mut child = cmd.spawn().expect("util-linux `script` runs");
    {
        use tokio::io::AsyncWriteExt;
        let mut input = child.stdin.take().expect("piped stdin");
        input
            .write_all(stdin.as_bytes())
            .await
            .expect("write stdin");
        // Dropping `input` closes it: `script` passes the end on to the bridge.
    }
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("the command finishes in time")
        .expect("run script");
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), shown)
}

/// Whether `text` holds an RFC 3339 timestamp such as a structured log line starts with.
fn has_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(11).any(|w| {
        w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b'-'
            && w[5..7].iter().all(u8::is_ascii_digit)
            && w[7] == b'-'
            && w[8..10].iter().all(u8::is_ascii_digit)
            && w[10] == b'T'
    })
}

const BOLD: &str = "\x1b[1m";
const ESCAPE: char = '\x1b';

/// `login` on a terminal: sentences with bold and color, no log levels or timestamps.
#[tokio::test(flavor = "multi_thread")]
async fn login_on_a_terminal_speaks_in_sentences() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let (code, shown) = on_terminal(&env, &["login", &url, "--auth-timeout", "10"], &[], "").await;
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("logged in to"), "{shown}");
    assert!(shown.contains(&oauth.issuer()), "{shown}");
    assert!(shown.contains(BOLD), "bold on a terminal: {shown:?}");
    assert!(!shown.contains(" INFO "), "no log levels: {shown}");
    assert!(!has_timestamp(&shown), "no timestamps: {shown}");
    assert_eq!(env.launches().len(), 1);
}

/// While the browser has not come back, a live line counts down; with `NO_COLOR` nothing
/// is painted, and the timeout is one clear error.
#[tokio::test(flavor = "multi_thread")]
async fn waiting_for_the_browser_without_color() {
    let (_oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Idle);
    let url = mcp.url();
    let (code, shown) = on_terminal(
        &env,
        &["login", &url, "--auth-timeout", "3"],
        &[("NO_COLOR", "1")],
        "",
    )
    .await;
    assert_eq!(code, 1, "{shown}");
    assert!(
        shown.contains("waiting for the browser login at"),
        "{shown}"
    );
    assert!(shown.contains("left (Ctrl-C to cancel)"), "{shown}");
    assert!(shown.contains("error:"), "{shown}");
    assert!(!shown.contains(BOLD), "no bold with NO_COLOR: {shown:?}");
    assert!(
        !shown.contains("\x1b[3"),
        "no color with NO_COLOR: {shown:?}"
    );
    assert!(!has_timestamp(&shown), "no timestamps: {shown}");
}

/// `status` only reads: on a machine without an OS keyring it says nothing about where
/// tokens would be stored.
#[tokio::test(flavor = "multi_thread")]
async fn status_does_not_warn_about_the_keyring() {
    let env = AuthEnv::new(Browse::Idle);
    let (code, shown) = on_terminal(
        &env,
        &["status"],
        &[
            ("MCP_BRIDGE_STORE", "auto"),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"),
        ],
        "",
    )
    .await;
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.to_lowercase().contains("keyring"), "{shown}");
    assert!(!shown.contains("warn"), "{shown}");
}

/// The bridge itself on a terminal is still talking to a host: its log keeps levels and
/// timestamps, and the host still gets its answer.
#[tokio::test(flavor = "multi_thread")]
async fn the_bridge_on_a_terminal_keeps_its_structured_log() {
    let env = AuthEnv::new(Browse::Idle);
    let down = {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        holder.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{down}/mcp");
    let ping = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    let (code, shown) = on_terminal(&env, &[&url], &[], ping).await;
    assert_eq!(code, 0, "{shown}");
    assert!(has_timestamp(&shown), "timestamps: {shown}");
    assert!(shown.contains("WARN"), "levels: {shown}");
    assert!(
        shown.contains("\"id\":1"),
        "the host got its answer: {shown}"
    );
    assert!(
        shown.contains(ESCAPE),
        "the log is colored on a terminal: {shown:?}"
    );
}

/// A `login` against a server that is down says so once, as the command's error, with no
/// warning before it for the same failure.
#[tokio::test(flavor = "multi_thread")]
async fn a_down_server_is_reported_once() {
    let env = AuthEnv::new(Browse::Idle);
    let down = {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        holder.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{down}/mcp");
    let (code, shown) = on_terminal(&env, &["login", &url], &[("NO_COLOR", "1")], "").await;
    assert_eq!(code, 1, "{shown}");
    assert_eq!(
        shown.matches("could not reach the server").count(),
        1,
        "{shown}"
    );
    assert!(!shown.contains("warning"), "{shown}");
    assert!(env.launches().is_empty());
}

/// `login --no-browser` over SSH: the authorization URL is printed, the user opens it on
/// another machine, whose browser fails to reach this machine's loopback address, and pastes
/// the address it shows. An address from another login (wrong `state`) is refused and the
/// login goes on; the right one is redeemed and the login succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn no_browser_login_takes_the_pasted_address() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Idle);
    let url = mcp.url();
    let mut child = script_command(&env, &["login", &url, "--no-browser"], &[("NO_COLOR", "1")])
        .spawn()
        .expect("util-linux `script` runs");
    let mut input = child.stdin.take().expect("piped stdin");
    let mut output = child.stdout.take().expect("piped stdout");
    let mut shown = String::new();
    let read_until =
        async |shown: &mut String, output: &mut tokio::process::ChildStdout, want: &str| {
            let mut buf = [0u8; 4096];
            while !shown.contains(want) {
                let n = tokio::time::timeout(WAIT, output.read(&mut buf))
                    .await
                    .unwrap_or_else(|_| panic!("no {want:?} on the terminal: {shown}"))
                    .expect("read the terminal");
                assert!(n > 0, "the terminal closed before {want:?}: {shown}");
                shown.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        };
    read_until(&mut shown, &mut output, "press Enter").await;
    let authorize = shown
        .split_whitespace()
        .find(|w| w.contains("/authorize?"))
        .unwrap_or_else(|| panic!("no authorization URL: {shown}"))
        .to_owned();
    // The other machine's browser: the authorization server redirects it to the loopback
    // address, which it cannot reach; the user copies that address.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let resp = client.get(&authorize).send().await.unwrap();
    assert_eq!(resp.status(), 302, "{authorize}");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("code="), "{location}");

    let forged = location.replace("state=", "state=forged");
    input
        .write_all(format!("{forged}\n").as_bytes())
        .await
        .unwrap();
    read_until(&mut shown, &mut output, "from another login").await;
    input
        .write_all(format!("{location}\n").as_bytes())
        .await
        .unwrap();
    read_until(&mut shown, &mut output, "logged in to").await;
    drop(input);
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("login ends")
        .unwrap();
    assert_eq!(status.code(), Some(0), "{shown}");
    assert_eq!(oauth.grants("authorization_code").len(), 1, "{shown}");
    assert!(env.launches().is_empty(), "no browser was started");
}
