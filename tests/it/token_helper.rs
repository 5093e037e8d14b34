//! `--bearer-command`: a real helper process (a script) prints the token; the server rotates
//! it; the bridge runs the helper once for many requests, again after a 401 or the TTL, never
//! through a shell, and never logs the token.

use crate::support::Bridge;
use crate::support::mock::{Config, Gate, MockMcp};
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A helper script in a temporary directory: it records each run and its arguments, says
/// something on stderr, and prints the token in `token` (or fails, per `mode`).
struct Helper {
    dir: tempfile::TempDir,
}

impl Helper {
    fn new() -> Helper {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("helper.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\n\
             here=$(dirname \"$0\")\n\
             printf '%s|' \"$@\" >> \"$here/runs\"; echo >> \"$here/runs\"\n\
             echo 'helper: fetching a token' >&2\n\
             case $(cat \"$here/mode\" 2>/dev/null) in\n\
               fail) echo 'helper: no credentials configured' >&2; exit 3 ;;\n\
               empty) exit 0 ;;\n\
             esac\n\
             cat \"$here/token\"\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Helper { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn set(&self, name: &str, value: &str) {
        std::fs::write(self.path(name), value).unwrap();
    }

    /// Each run's arguments, as `a|b|`.
    fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("runs"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The command line, with an argument a shell would expand if one were used.
    fn command(&self) -> String {
        format!(
            "{} --audience 'https://mcp example' '$HOME' '*'",
            shell_quote(&self.path("helper.sh"))
        )
    }
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// A server that accepts only the token in `current`, as a rotating identity token would.
async fn server(current: Arc<Mutex<String>>) -> MockMcp {
    let gate = Gate(Arc::new(move |headers, _body| {
        let want = format!("Bearer {}", current.lock().unwrap());
        let got = headers.get("authorization").and_then(|v| v.to_str().ok());
        if got == Some(want.as_str()) {
            return None;
        }
        let mut r = (StatusCode::UNAUTHORIZED, "unauthorized").into_response();
        r.headers_mut()
            .insert("www-authenticate", HeaderValue::from_static("Bearer"));
        Some(r)
    }));
    MockMcp::start(Config {
        gate: Some(gate),
        ..Config::default()
    })
    .await
}

fn echo(text: &str) -> serde_json::Value {
    json!({"name": "echo", "arguments": {"text": text}})
}

/// One run serves many requests; a 401 (the token rotated) runs the helper again and the
/// request goes through; the TTL runs it again without a 401. Arguments are split as a
/// shell would and passed as they are. The helper's stderr is logged, the token never.
#[tokio::test]
async fn helper_token_is_used_renewed_on_401_and_after_the_ttl() {
    let helper = Helper::new();
    helper.set("token", "tok-first\n");
    let current = Arc::new(Mutex::new("tok-first".to_owned()));
    let server = server(current.clone()).await;
    let mut bridge = Bridge::start(&[
        &server.url(),
        "-v",
        "--bearer-command",
        &helper.command(),
        "--bearer-command-ttl",
        "2",
    ]);
    let init = bridge.initialize().await;
    assert!(init.get("result").is_some(), "{init}");
    for id in 1..=3 {
        let answer = bridge.request(id, "tools/call", echo("a")).await;
        assert!(answer.get("result").is_some(), "{answer}");
    }
    assert_eq!(
        helper.runs(),
        ["--audience|https://mcp example|$HOME|*|"],
        "one run for the handshake and three calls, its arguments as written"
    );

    // The platform rotated the token: the old one gets 401, the helper gives the new one.
    helper.set("token", "tok-second");
    *current.lock().unwrap() = "tok-second".into();
    let answer = bridge.request(4, "tools/call", echo("b")).await;
    assert!(answer.get("result").is_some(), "{answer}");
    assert_eq!(helper.runs().len(), 2);

    // Past the TTL the helper runs again before the server can refuse anything.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let refusals = server
        .requests()
        .iter()
        .filter(|r| r.header("authorization") != Some("Bearer tok-second"))
        .count();
    let answer = bridge.request(5, "tools/call", echo("c")).await;
    assert!(answer.get("result").is_some(), "{answer}");
    assert_eq!(helper.runs().len(), 3);
    let refusals_after = server
        .requests()
        .iter()
        .filter(|r| r.header("authorization") != Some("Bearer tok-second"))
        .count();
    assert_eq!(
        refusals, refusals_after,
        "no request went without the token"
    );

    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("helper: fetching a token"), "{stderr}");
    for secret in ["tok-first", "tok-second"] {
        assert!(!stderr.contains(secret), "{secret} leaked:\n{stderr}");
    }
}

/// A helper that fails, or prints nothing, answers the request with an error that says so
/// (with the helper's own stderr), once; the next request runs it again and can succeed.
#[tokio::test]
async fn failing_helper_is_a_clear_error_and_is_tried_again() {
    let helper = Helper::new();
    helper.set("token", "tok-ok");
    helper.set("mode", "fail");
    let current = Arc::new(Mutex::new("tok-ok".to_owned()));
    let server = server(current).await;
    let mut bridge = Bridge::start(&[&server.url(), "--bearer-command", &helper.command()]);
    let params = json!({"protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test-host", "version": "1"}});
    let init = bridge.request(0, "initialize", params.clone()).await;
    let message = init["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("--bearer-command") && message.contains("no credentials configured"),
        "{init}"
    );

    helper.set("mode", "empty");
    let init = bridge.request(0, "initialize", params).await;
    let message = init["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("printed no usable token"), "{init}");

    helper.set("mode", "ok");
    let init = bridge.initialize().await;
    assert!(init.get("result").is_some(), "{init}");
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(helper.runs().len(), 3, "{stderr}");
    assert!(!stderr.contains("tok-ok"), "{stderr}");
}

/// A helper that cannot be started, and an unclosed quote, are clear errors; the latter,
/// and a helper beside a static token, are usage errors (exit 2) before anything is sent.
#[tokio::test]
async fn bad_command_lines() {
    let current = Arc::new(Mutex::new("x".to_owned()));
    let server = server(current).await;
    let mut bridge = Bridge::start(&[
        &server.url(),
        "--bearer-command",
        "/nonexistent/token-helper --flag",
    ]);
    let init = bridge.initialize().await;
    let message = init["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("could not be started") && message.contains("/nonexistent/token-helper"),
        "{init}"
    );
    bridge.finish().await;

    for args in [
        &["--bearer-command", "helper 'open"][..],
        &["--bearer-command", "helper", "--bearer", "t"][..],
        &["--bearer-command", "helper", "--header", "Authorization: x"][..],
    ] {
        let mut all = vec![server.url()];
        all.extend(args.iter().map(|a| a.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-bridge"))
            .args(&all)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty());
    }
}

/// `status` says a server takes a token helper's tokens (nothing of them is stored), and no
/// longer once the server is run without one.
#[tokio::test]
async fn status_shows_a_token_helper() {
    let helper = Helper::new();
    helper.set("token", "tok-status");
    let current = Arc::new(Mutex::new("tok-status".to_owned()));
    let server = server(current).await;
    let config = tempfile::tempdir().unwrap();
    let config_dir = config.path().to_str().unwrap().to_owned();
    let url = server.url();
    let run = |args: Vec<String>| {
        let config_dir = config_dir.clone();
        Bridge::start_with(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            move |cmd| {
                cmd.env("MCP_BRIDGE_CONFIG_DIR", config_dir);
            },
        )
    };
    let status = || async {
        let out = crate::support::command(config.path())
            .args(["status", &url])
            .env("MCP_BRIDGE_CONFIG_DIR", &config_dir)
            .output()
            .await
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut bridge = run(vec![
        url.clone(),
        "--bearer-command".into(),
        helper.command(),
    ]);
    assert!(bridge.initialize().await.get("result").is_some());
    bridge.finish().await;
    let shown = status().await;
    assert!(shown.contains("bearer command"), "{shown}");
    assert!(!shown.contains("tok-status"), "{shown}");

    let mut bridge = run(vec![url.clone(), "--bearer".into(), "tok-status".into()]);
    assert!(bridge.initialize().await.get("result").is_some());
    bridge.finish().await;
    let shown = status().await;
    assert!(!shown.contains("bearer command"), "{shown}");
}
