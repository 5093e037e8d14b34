//! Command-line behaviour end to end: credentials and headers, URL policy, proxies, exit
//! codes, completions.

use crate::support::mock::{Config, MockMcp};
use crate::support::{Bridge, bin, run_once};
use serde_json::json;
use std::path::Path;

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

/// The bearer token from the environment (with `${VAR}` expansion) and extra headers from
/// flags and files reach the server, and no secret appears in the most verbose log.
#[tokio::test]
async fn credentials_reach_the_server_and_never_the_log() {
    let server = MockMcp::start(Config {
        bearer: Some("tok-123".into()),
        ..Config::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("headers");
    std::fs::write(&file, "# secrets\nX-Api-Key: ${API_KEY}\n").unwrap();
    let file = file.to_str().unwrap().to_owned();
    let bridge = Bridge::start_with(
        &[
            &server.url(),
            "--header",
            "X-Trace: visible",
            "--header-file",
            &file,
        ],
        |c| {
            c.env("MCP_BRIDGE_BEARER", "${TOKEN_SOURCE}")
                .env("TOKEN_SOURCE", "tok-123")
                .env("API_KEY", "key-456");
        },
    );
    let stderr = bridge.ping_session().await;
    let r = &server.calls("ping")[0];
    assert_eq!(r.header("authorization"), Some("Bearer tok-123"));
    assert_eq!(r.header("x-api-key"), Some("key-456"));
    assert_eq!(r.header("x-trace"), Some("visible"));
    assert!(stderr.contains("TRACE"), "the log ran at trace level");
    for secret in ["tok-123", "key-456"] {
        assert!(
            !stderr.contains(secret),
            "{secret} leaked into the log:\n{stderr}"
        );
    }
}

/// supergateway's `--oauth2Bearer` is the same as `--bearer`.
#[tokio::test]
async fn oauth2bearer_is_accepted() {
    let server = MockMcp::start(Config {
        bearer: Some("sg".into()),
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&["--streamableHttp", &server.url(), "--oauth2Bearer", "sg"]);
    let init = bridge.initialize().await;
    assert!(init.get("result").is_some(), "{init}");
    bridge.finish().await;
}

/// A server that demands a token but offers no way to get one (no OAuth metadata at all): the
/// host gets a clear error, not a hang, and it says what to do: pass a static token.
#[tokio::test]
async fn unobtainable_token_is_a_clear_error() {
    let server = MockMcp::start(Config {
        bearer: Some("x".into()),
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url(), "--store", "memory"]);
    let answer = bridge.request(0, "initialize", json!({})).await;
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("authorization failed"), "{answer}");
    assert!(
        message.contains("register"),
        "says what went wrong: {answer}"
    );
    assert!(
        message.contains("--bearer") && message.contains("MCP_BRIDGE_BEARER"),
        "says what to do: {answer}"
    );
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
}

/// A host that closes stdin while a login waits gets its answer at once: the login is
/// cancelled, not left to time out.
#[tokio::test(flavor = "multi_thread")]
async fn closing_stdin_cancels_a_login() {
    let server = MockMcp::start(Config {
        bearer: Some("x".into()),
        ..Config::default()
    })
    .await;
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = run_once(
        &[&server.url(), "--store", "memory"],
        &[],
        &format!("{INIT}\n"),
    );
    assert_eq!(code, 0, "{stderr}");
    let answer: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(answer.get("error").is_some(), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// Usage errors exit 2 with one clear line on stderr and nothing on stdout.
#[test]
fn usage_errors_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["http://example.com/mcp"], "--allow-http"),
        (
            &["https://h/mcp", "--header", "X-A: ${NOPE_UNSET}"],
            "NOPE_UNSET is not set",
        ),
        (
            &["https://h/mcp", "--bearer", "${NOPE_UNSET}"],
            "NOPE_UNSET is not set",
        ),
        (&["https://h/mcp", "--header", "broken"], "Name: value"),
        (
            &["https://h/mcp", "--header-file", "/nonexistent/file"],
            "failed to read header file",
        ),
        (&["https://u:p@h/mcp"], "user name or password"),
        (&["not a url"], "not a valid URL"),
        (
            &[
                "https://h/mcp",
                "--bearer",
                "a",
                "--header",
                "Authorization: b",
            ],
            "use one",
        ),
        (&[], "no server URL"),
        (&["login"], "login needs the server URL"),
        (&["logout"], "required"),
        (&["status", "not a url"], "not a valid URL"),
        (
            &["https://h/mcp", "--static-oauth-client-info", "{}"],
            "client_id",
        ),
        (
            &["https://h/mcp", "--static-oauth-client-metadata", "[1]"],
            "JSON object",
        ),
        (
            &["https://h/mcp", "--client-metadata-url", "http://h/c.json"],
            "https URL with a path",
        ),
        (
            &["https://h/mcp", "--transport", "carrier-pigeon"],
            "invalid value",
        ),
        (
            &["https://h/mcp", "--authorize-param", "state=mine"],
            "cannot set \"state\"",
        ),
        (
            &["https://h/mcp", "--authorize-param", "resource=x"],
            "--no-resource",
        ),
        (
            &["https://h/mcp", "--authorize-param", "prompt"],
            "KEY=VALUE",
        ),
        (
            &["https://h/mcp", "--callback-path", "/a/../b"],
            "--callback-path",
        ),
        (
            &["https://h/mcp", "--no-resource", "--resource", "https://h/"],
            "cannot be used with",
        ),
        (
            &[
                "https://h/mcp",
                "--client-credentials",
                "--client-id",
                "svc",
                "--client-key",
                "/nonexistent/key.pem",
            ],
            "cannot read --client-key /nonexistent/key.pem",
        ),
        (
            &[
                "https://h/mcp",
                "--client-credentials",
                "--client-id",
                "svc",
            ],
            "--client-key",
        ),
    ];
    for (args, expect) in cases {
        let (code, stdout, stderr) = run_once(args, &[], "");
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stdout.is_empty(),
            "{args:?}: stdout must stay clean: {stdout}"
        );
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
}

/// `--allow-http` permits plain http to another host (reached here through a proxy).
#[tokio::test(flavor = "multi_thread")]
async fn http_proxy_and_allow_http() {
    let proxy = MockMcp::start(Config::default()).await;
    let proxy_url = format!("http://{}", proxy.addr);
    let (code, stdout, stderr) = run_once(
        &["http://mcp.example.invalid/mcp", "--allow-http"],
        &[("HTTP_PROXY", &proxy_url), ("NO_PROXY", "")],
        &format!("{INIT}\n"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"result\""), "{stdout} {stderr}");
    let seen = &proxy.calls("initialize")[0];
    assert_eq!(
        seen.header("host"),
        Some("mcp.example.invalid"),
        "the request went through the proxy"
    );
}

/// NO_PROXY exempts hosts from the proxy.
#[tokio::test(flavor = "multi_thread")]
async fn no_proxy_is_honoured() {
    let server = MockMcp::start(Config::default()).await;
    let (code, stdout, stderr) = run_once(
        &[&server.url()],
        &[
            ("HTTP_PROXY", "http://127.0.0.1:9"),
            ("NO_PROXY", "127.0.0.1"),
        ],
        &format!("{INIT}\n"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"result\""), "{stdout} {stderr}");
}

/// `--help` and `--version` go to stdout and exit 0.
#[test]
fn help_and_version() {
    let (code, stdout, _) = run_once(&["--help"], &[], "");
    assert_eq!(code, 0);
    assert!(stdout.contains("--oauth2-bearer") || stdout.contains("--bearer"));
    assert!(stdout.contains("Exit codes"));
    let (code, stdout, _) = run_once(&["--version"], &[], "");
    assert_eq!(code, 0);
    assert!(stdout.starts_with("mcp-bridge "));
}

/// The completion scripts in completions/ match what the CLI generates now. Run with
/// UPDATE_COMPLETIONS=1 to rewrite them.
#[test]
fn completions_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "mcp-bridge.bash"),
        ("zsh", "_mcp-bridge"),
        ("fish", "mcp-bridge.fish"),
        ("powershell", "_mcp-bridge.ps1"),
        ("elvish", "mcp-bridge.elv"),
    ] {
        let out = std::process::Command::new(bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let path = dir.join(file);
        if std::env::var_os("UPDATE_COMPLETIONS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out.stdout).unwrap();
        }
        let stored = std::fs::read(&path).unwrap_or_default();
        assert!(
            stored == out.stdout,
            "{} is stale; regenerate with UPDATE_COMPLETIONS=1 cargo test completions_are_current",
            path.display()
        );
    }
}

/// A host whose first request is not `initialize`, on a server that refuses requests
/// outside a session with 400 (as the TypeScript SDK's examples do), is told to send
/// `initialize` first; the `initialize` it sends next works.
#[tokio::test]
async fn first_request_without_initialize_says_what_to_do() {
    let server = MockMcp::start(Config {
        unknown_session_400: true,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url(), "--protocol", "legacy"]);
    let answer = bridge.request(1, "tools/list", json!({})).await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("send initialize"), "{answer}");
    let init = bridge.initialize().await;
    assert!(init["result"].is_object(), "{init}");
    bridge.finish().await;
}

/// A cookie the server sets on `initialize` (a load balancer pinning the session) comes back
/// on every later request, and not at all with `--no-cookies` or `MCP_BRIDGE_NO_COOKIES`.
#[tokio::test]
async fn cookies_are_kept_for_the_session_unless_refused() {
    for refuse in [None, Some("flag"), Some("env")] {
        let server = MockMcp::start(Config {
            set_cookie: Some("lb=node-7; Path=/".into()),
            ..Config::default()
        })
        .await;
        let url = server.url();
        let mut args = vec![url.as_str()];
        if refuse == Some("flag") {
            args.push("--no-cookies");
        }
        let bridge = Bridge::start_with(&args, |c| {
            if refuse == Some("env") {
                c.env("MCP_BRIDGE_NO_COOKIES", "true");
            }
        });
        bridge.ping_session().await;
        let cookie = server.calls("ping")[0].header("cookie").map(str::to_owned);
        match refuse {
            None => assert_eq!(cookie.as_deref(), Some("lb=node-7")),
            Some(how) => assert_eq!(cookie, None, "cookies refused by {how}"),
        }
    }
}

/// `--connect-timeout`: a server that accepts the connection and never speaks TLS fails the
/// `initialize` within the timeout, with an answer, instead of hanging.
#[tokio::test]
async fn connect_timeout_bounds_a_silent_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/mcp", listener.local_addr().unwrap());
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // accepted, never answered
        }
    });
    let started = std::time::Instant::now();
    let mut bridge = Bridge::start(&[&url, "--connect-timeout", "1", "--protocol", "legacy"]);
    bridge.send_raw(INIT).await;
    let answer = bridge.recv().await;
    assert!(answer["error"].is_object(), "{answer}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the connect timeout did not bound the wait ({:?})",
        started.elapsed()
    );
    bridge.finish().await;
    silent.abort();
}

/// `--request-timeout`: a call the server leaves unanswered gets an error naming the option,
/// the server is told the request is cancelled, and the next call works.
#[tokio::test]
async fn request_timeout_answers_and_cancels() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--request-timeout", "1"]);
    bridge.initialize().await;
    let slow = json!({"name": "slow", "arguments": {"ms": 8000}});
    let answer = bridge.request(1, "tools/call", slow).await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("--request-timeout"), "{answer}");
    let echo = json!({"name": "echo", "arguments": {"text": "still here"}});
    let answer = bridge.request(2, "tools/call", echo).await;
    assert_eq!(answer["result"]["content"][0]["text"], "still here");
    server
        .wait_for("the cancellation", |r| {
            r.iter()
                .any(|r| r.rpc_method() == Some("notifications/cancelled"))
        })
        .await;
    let cancelled = &server.calls("notifications/cancelled")[0];
    assert_eq!(cancelled.body["params"]["requestId"], json!(1));
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
}

/// `--keepalive`: an idle session gets `ping`s in the session; when the server has dropped
/// the session, the failed ping is recovered like any lost session (a new `initialize`), and
/// the host never sees the bridge's own pings.
#[tokio::test]
async fn keepalive_pings_an_idle_session_and_recovers_a_lost_one() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--keepalive", "1"]);
    bridge.initialize().await;
    server
        .wait_for("a keepalive ping", |r| {
            r.iter().any(|r| r.rpc_method() == Some("ping"))
        })
        .await;
    let ping = &server.calls("ping")[0];
    assert_eq!(ping.header("mcp-session-id"), Some("session-1"));
    server.expire_sessions();
    server
        .wait_for("a new session after the failed ping", |r| {
            r.iter()
                .filter(|r| r.rpc_method() == Some("initialize"))
                .count()
                >= 2
        })
        .await;
    let echo = json!({"name": "echo", "arguments": {"text": "after"}});
    let answer = bridge.request(7, "tools/call", echo).await;
    assert_eq!(answer["result"]["content"][0]["text"], "after");
    bridge.close_stdin();
    let rest = bridge.drain_stdout().await;
    assert!(rest.is_empty(), "the host saw the bridge's pings: {rest:?}");
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
}
