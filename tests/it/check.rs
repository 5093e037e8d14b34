//! `mcp-bridge check URL`: the report and `--json` document for a plain server, an OAuth
//! server (no browser without `--login`; a login with it; the stored tokens after), a
//! server that wants a static token, an HTTP+SSE-only server, a port where nothing listens,
//! and a TLS server with a private CA (refused without `--ca-cert`, shown with it). Exit
//! codes: 0 when usable, 1 otherwise.

use crate::support::WAIT;
use crate::support::mock::{Config, MockMcp};
use crate::support::oauth::{AuthEnv, Browse, MockOAuth, Script, free_port};
use serde_json::{Value, json};
use std::process::Stdio;

/// Runs `check` with `args` in `env` (its config dir, its store, its browser).
async fn check(env: &AuthEnv, args: &[&str]) -> (i32, String, String) {
    check_with(env, args, &[]).await
}

/// As [`check`], with extra environment variables.
async fn check_with(env: &AuthEnv, args: &[&str], vars: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = crate::support::command(&env.dir.path().join("home"));
    cmd.arg("check")
        .args(args)
        .envs(env.vars())
        .envs(vars.iter().copied())
        .stdin(Stdio::null());
    let out = tokio::time::timeout(WAIT, cmd.output())
        .await
        .expect("check finishes in time")
        .expect("run the bridge");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `check --json` and parses the document; stdout holds nothing else.
async fn check_json(env: &AuthEnv, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = check(env, &all).await;
    let doc = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {stdout}\n{stderr}"));
    (code, doc, stderr)
}

/// A plain server: every step, the counts, the names with `--list`, host entries; exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn plain_server_is_usable() {
    let server = MockMcp::start(Config::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let (code, doc, stderr) = check_json(&env, &[&server.url(), "--list"]).await;
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["usable"], true);
    assert_eq!(doc["url"], server.url());
    assert_eq!(doc["policy"]["allowed"], true);
    assert_eq!(doc["dns"]["addresses"], json!(["127.0.0.1"]));
    assert_eq!(doc["tcp"]["address"], server.addr.to_string());
    assert_eq!(doc["tls"], Value::Null, "no TLS over http");
    assert_eq!(doc["protocol"]["era"], "initialize");
    assert_eq!(doc["protocol"]["transport"], "streamable-http");
    assert!(
        doc["protocol"]["era_reason"]
            .as_str()
            .unwrap()
            .starts_with("server/discover answered HTTP"),
        "{doc:#}"
    );
    assert_eq!(
        doc["protocol"]["transport_reason"],
        "the server answered the first POST as Streamable HTTP"
    );
    assert_eq!(doc["server"]["name"], "mock");
    assert_eq!(doc["server"]["version"], "1");
    assert_eq!(doc["server"]["capabilities"], json!({"tools": {}}));
    assert_eq!(doc["server"]["tools"]["count"], 2);
    assert_eq!(
        doc["server"]["tools"]["names"],
        json!(["echo", "delete_everything"])
    );
    assert_eq!(doc["server"]["resources"], Value::Null, "not a capability");
    assert_eq!(doc["authorization"]["required"], false);
    let entry = &doc["hosts"]["claude_desktop"]["mcpServers"]["mock"];
    assert_eq!(entry["command"], "mcp-bridge");
    assert_eq!(entry["args"], json!([server.url()]));
    assert_eq!(doc["hosts"]["vscode"]["servers"]["mock"]["type"], "stdio");
    assert_eq!(
        doc["hosts"]["claude_code"],
        format!("claude mcp add mock -- mcp-bridge {}", server.url())
    );
    assert!(
        stderr.contains("connecting"),
        "progress on stderr: {stderr}"
    );

    // The report for a person: the steps, the verdict, the entries to paste.
    let (code, text, _) = check(&env, &[&server.url()]).await;
    assert_eq!(code, 0, "{text}");
    for row in [
        "  URL policy     allowed: plain http to this machine\n",
        "  transport      streamable-http (the server answered the first POST as Streamable HTTP)\n",
        "  server         mock 1\n",
        "  tools          2\n",
        "\nusable: the server answers, and the bridge can use it\n",
        "\"mcpServers\": {\n    \"mock\": {",
        "Claude Code:\nclaude mcp add mock -- mcp-bridge http://",
    ] {
        assert!(text.contains(row), "{row:?} in:\n{text}");
    }
    assert!(env.launches().is_empty(), "no browser");
}

/// An OAuth server: without `--login`, no browser opens, the authorization server's
/// features are reported and the fix is a login (exit 1); with `--login`, one browser login
/// and exit 0; after it, the stored tokens are used and shown, with no browser.
#[tokio::test(flavor = "multi_thread")]
async fn oauth_server_without_and_with_login() {
    let script = Script::default().meta(json!({
        "dpop_signing_alg_values_supported": ["ES256"],
        "device_authorization_endpoint": "http://127.0.0.1:9/device",
    }));
    let (oauth, server) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = server.url();

    let (code, doc, stderr) = check_json(&env, &[&url]).await;
    assert_eq!(code, 1, "{doc:#}\n{stderr}");
    assert!(
        env.launches().is_empty(),
        "check opened a browser: {stderr}"
    );
    assert_eq!(doc["usable"], false);
    assert_eq!(doc["verdict"]["reason"], "the server needs a login");
    assert_eq!(
        doc["verdict"]["fix"],
        format!("run `mcp-bridge login {url}` (or `mcp-bridge check --login {url}`)")
    );
    let auth = &doc["authorization"];
    assert_eq!(auth["required"], true);
    assert_eq!(auth["method"], "oauth");
    assert_eq!(auth["status"], 401);
    assert_eq!(auth["resource_metadata"]["resource"], url);
    assert_eq!(
        auth["resource_metadata"]["authorization_servers"],
        json!([oauth.issuer()])
    );
    let asm = &auth["authorization_server"];
    assert_eq!(asm["issuer"], oauth.issuer());
    assert_eq!(asm["guessed"], false);
    assert_eq!(
        asm["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(asm["pkce_methods"], json!(["S256"]));
    assert_eq!(asm["dpop_algs"], json!(["ES256"]));
    assert_eq!(
        asm["device_authorization_endpoint"],
        "http://127.0.0.1:9/device"
    );
    assert!(
        asm["registration_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/register")
    );
    assert_eq!(auth["stored"], json!([]));
    assert!(oauth.hits("/authorize").is_empty() && oauth.hits("/token").is_empty());

    let (code, text, stderr) = check(&env, &["--login", &url]).await;
    assert_eq!(code, 0, "{text}\n{stderr}");
    assert_eq!(env.launches().len(), 1, "one browser login");
    assert!(text.contains("\nusable: "), "{text}");

    let (code, doc, stderr) = check_json(&env, &[&url]).await;
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(env.launches().len(), 1, "the stored tokens, no browser");
    let stored = &doc["authorization"]["stored"];
    assert_eq!(stored.as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(stored[0]["issuer"], oauth.issuer());
    assert_eq!(stored[0]["expired"], false);
    assert_eq!(stored[0]["backend"], "file");
    let (_, text, _) = check(&env, &[&url]).await;
    let issued = oauth.issued_tokens();
    assert!(!issued.is_empty());
    for token in issued {
        assert!(!doc.to_string().contains(&token), "a token in the document");
        assert!(!text.contains(&token), "a token in the report");
    }
    assert!(text.contains("  stored         tokens from "), "{text}");
    oauth.assert_no_token_leak();
}

/// A 401 without OAuth metadata: a static token is wanted (the words); a wrong token
/// is refused; the right one works, and the host entry names the variable, not the token.
#[tokio::test(flavor = "multi_thread")]
async fn bearer_server_wants_a_static_token() {
    let server = MockMcp::start(Config {
        bearer: Some("s3cret-token".into()),
        ..Config::default()
    })
    .await;
    let env = AuthEnv::new(Browse::Follow);
    let url = server.url();

    let (code, text, stderr) = check(&env, &[&url]).await;
    assert_eq!(code, 1, "{text}\n{stderr}");
    assert!(
        text.contains(
            "not usable: this server answered 401 without OAuth metadata: it probably wants a static token; pass `--bearer` or set `MCP_BRIDGE_BEARER`\n"
        ),
        "{text}"
    );
    assert!(env.launches().is_empty(), "no browser");

    let (code, doc, _) = check_json(&env, &[&url, "--bearer", "wrong"]).await;
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["authorization"]["method"], "bearer");
    assert_eq!(doc["authorization"]["status"], 401);
    assert_eq!(
        doc["verdict"]["reason"],
        "the server refused the token (HTTP 401)"
    );

    let (code, doc, _) = check_json(&env, &[&url, "--bearer", "s3cret-token"]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["authorization"]["required"], false);
    let entry = &doc["hosts"]["cursor"]["mcpServers"]["mock"];
    assert_eq!(entry["env"]["MCP_BRIDGE_BEARER"], "<your token>");
    assert!(!doc.to_string().contains("s3cret-token"), "{doc:#}");
}

/// A server with only HTTP+SSE: the bridge's own fallback, and why.
#[tokio::test(flavor = "multi_thread")]
async fn http_sse_only_server() {
    let server = MockMcp::start(Config::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let (code, doc, stderr) = check_json(&env, &[&server.sse_url()]).await;
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["protocol"]["era"], "initialize");
    assert_eq!(doc["protocol"]["transport"], "http+sse");
    assert_eq!(
        doc["protocol"]["transport_reason"],
        "the Streamable HTTP POST answered 405, so HTTP+SSE"
    );
    assert_eq!(doc["protocol"]["version"], "2024-11-05");
    // This mock's HTTP+SSE side answers tools/list with an empty result.
    assert_eq!(
        doc["server"]["tools"],
        json!({"count": 0, "names": null, "error": null})
    );
}

/// Nothing listening: "is the server running?", exit 1, no MCP steps.
#[tokio::test(flavor = "multi_thread")]
async fn down_server() {
    let port = free_port();
    let env = AuthEnv::new(Browse::Follow);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let (code, text, _) = check(&env, &[&url]).await;
    assert_eq!(code, 1, "{text}");
    assert!(
        text.ends_with(&format!(
            "\nnot usable: nothing listens at 127.0.0.1:{port}; is the server running?\n"
        )),
        "{text}"
    );
    assert!(
        !text.contains("mcpServers"),
        "no entries for an unusable server"
    );
    let (code, doc, _) = check_json(&env, &[&url]).await;
    assert_eq!(code, 1);
    assert_eq!(doc["tcp"]["address"], Value::Null);
    assert!(
        doc["tcp"]["error"].as_str().unwrap().contains("refused"),
        "{doc:#}"
    );
    assert_eq!(doc["protocol"], Value::Null);
}

/// Through a proxy, the direct steps only inform: a name this machine cannot resolve is
/// reached through the proxy, as the bridge reaches it.
#[tokio::test(flavor = "multi_thread")]
async fn through_a_proxy() {
    let proxy = MockMcp::start(Config::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let proxy_url = format!("http://user:pw@{}", proxy.addr);
    let (code, stdout, stderr) = check_with(
        &env,
        &["--json", "http://mcp.example.invalid/mcp", "--allow-http"],
        &[("HTTP_PROXY", &proxy_url), ("NO_PROXY", "")],
    )
    .await;
    let doc: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["proxy"], format!("{} (from HTTP_PROXY)", proxy.addr));
    assert!(doc["dns"]["error"].is_string(), "{doc:#}");
    assert_eq!(doc["server"]["name"], "mock");
    assert!(
        !stdout.contains("pw"),
        "the proxy's credentials are not shown"
    );
    assert_eq!(
        proxy.calls("initialize")[0].header("host"),
        Some("mcp.example.invalid")
    );
}

/// A refused URL is refused by the bridge's own policy, before any connection.
#[tokio::test(flavor = "multi_thread")]
async fn refused_url() {
    let env = AuthEnv::new(Browse::Follow);
    let (code, doc, _) = check_json(&env, &["http://mcp.example.com/mcp"]).await;
    assert_eq!(code, 1);
    assert_eq!(doc["policy"]["allowed"], false);
    assert_eq!(doc["dns"], Value::Null);
    assert!(
        doc["verdict"]["fix"]
            .as_str()
            .unwrap()
            .contains("--allow-http")
    );
}

/// A private CA: refused without `--ca-cert` (the TLS error and the fix); with it, the
/// certificate's subject, issuer and expiry.
#[tokio::test(flavor = "multi_thread")]
async fn tls_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::tls::make_certificates(dir.path());
    let server = crate::tls::start_server(dir.path());
    let url = format!("https://localhost:{}/mcp", server.port);
    let env = AuthEnv::new(Browse::Follow);

    let (code, doc, stderr) = check_json(&env, &[&url]).await;
    assert_eq!(code, 1, "{doc:#}\n{stderr}");
    let error = doc["tls"]["error"].as_str().expect("a TLS error");
    assert!(error.contains("UnknownIssuer"), "{error}");
    assert!(
        doc["verdict"]["fix"]
            .as_str()
            .unwrap()
            .contains("--ca-cert"),
        "{doc:#}"
    );
    assert_eq!(
        doc["tls"]["subject"], "CN=localhost",
        "shown even when refused"
    );
    assert_eq!(doc["protocol"], Value::Null);

    let (code, text, stderr) = check(&env, &[&url, "--ca-cert", ca.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{text}\n{stderr}");
    assert!(text.contains("  certificate    CN=localhost\n"), "{text}");
    assert!(
        text.contains("  issued by      CN=mcp-bridge test CA\n"),
        "{text}"
    );
    assert!(text.contains(" days left)\n"), "{text}");
    assert!(text.contains("  server         tls 1\n"), "{text}");
    assert!(
        text.contains("\"--ca-cert\""),
        "the entry keeps --ca-cert: {text}"
    );

    let ca = ca.to_str().unwrap();
    let (code, doc, _) = check_json(&env, &[&url, "--ca-cert", ca]).await;
    assert_eq!(code, 0, "{doc:#}");
    let tls = &doc["tls"];
    assert_eq!(tls["error"], Value::Null);
    assert_eq!(tls["issuer"], "CN=mcp-bridge test CA");
    let days = tls["days_left"].as_i64().unwrap();
    assert!((1..=3660).contains(&days), "{tls:#}");
    assert!(tls["not_after"].as_i64().unwrap() > tls["not_before"].as_i64().unwrap());
}
