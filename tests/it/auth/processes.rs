//! The subcommands (login, status, logout), several processes sharing one login, the host
//! leaving mid-login, and the callback port.

use super::*;

/// `login` authorizes and reports issuer, scopes and expiry; `status --json` lists the
/// credentials without secrets; a bridge then needs no browser; `logout` revokes at the
/// revocation endpoint and forgets everything.
#[tokio::test(flavor = "multi_thread")]
async fn login_status_logout() {
    let script = Script {
        challenge_scope: Some("mcp:tools".into()),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let (code, _, stderr) = env.run(&["login", &url, "--auth-timeout", "10"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("issuer: {}", oauth.issuer())),
        "{stderr}"
    );
    assert!(stderr.contains("scopes: mcp:tools"), "{stderr}");
    assert!(stderr.contains("expires in"), "{stderr}");
    assert_eq!(env.launches().len(), 1);

    let (code, stdout, _) = env.run(&["status", "--json"]).await;
    assert_eq!(code, 0);
    let status: Value = serde_json::from_str(&stdout).expect("JSON");
    let tokens: Vec<&Value> = status
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "tokens")
        .collect();
    assert_eq!(tokens.len(), 1, "{stdout}");
    assert_eq!(tokens[0]["server"], json!(url));
    assert_eq!(tokens[0]["issuer"], json!(oauth.issuer()));
    for secret in oauth.issued_tokens() {
        assert!(!stdout.contains(&secret), "status shows {secret}");
    }
    assert!(!stdout.contains("code-"));
    let (code, table, _) = env.run(&["status"]).await;
    assert_eq!(code, 0);
    assert!(
        table.contains(&url) && table.contains(&oauth.issuer()),
        "{table}"
    );
    for secret in oauth.issued_tokens() {
        assert!(!table.contains(&secret), "status shows {secret}");
    }

    // The stored tokens serve the bridge: no second login.
    session(&env, &[&url, "--auth-timeout", "10"]).await;
    assert_eq!(env.launches().len(), 1);

    let (code, _, stderr) = env.run(&["logout", &url]).await;
    assert_eq!(code, 0, "{stderr}");
    let revoked: Vec<String> = oauth
        .hits("/revoke")
        .iter()
        .map(|s| s.param("token_type_hint").unwrap_or("").to_owned())
        .collect();
    assert_eq!(revoked, ["refresh_token", "access_token"]);
    assert!(
        oauth
            .hits("/revoke")
            .iter()
            .all(|s| s.param("client_id").is_some())
    );
    let (_, stdout, _) = env.run(&["status", "--json"]).await;
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), json!([]));
    oauth.assert_no_token_leak();
}

/// `logout --all` forgets the credentials of every server, revoking where the server offers
/// revocation (and only there).
#[tokio::test(flavor = "multi_thread")]
async fn logout_all() {
    let (oauth1, mcp1) = MockOAuth::start(Script::default()).await;
    let (oauth2, mcp2) =
        MockOAuth::start(Script::default().meta(json!({"revocation_endpoint": null}))).await;
    let env = AuthEnv::new(Browse::Follow);
    for url in [mcp1.url(), mcp2.url()] {
        let (code, _, stderr) = env.run(&["login", &url, "--auth-timeout", "10"]).await;
        assert_eq!(code, 0, "{stderr}");
    }
    let (_, stdout, _) = env.run(&["status", "--json"]).await;
    let entries: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "tokens")
            .count(),
        2
    );
    let (code, _, stderr) = env.run(&["logout", "--all"]).await;
    assert_eq!(code, 0, "{stderr}");
    let (_, stdout, _) = env.run(&["status", "--json"]).await;
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), json!([]));
    assert_eq!(oauth1.hits("/revoke").len(), 2);
    assert!(oauth2.hits("/revoke").is_empty());
}

/// Three bridges started at once with an empty store: one browser login (the others wait
/// for it across processes), and all three get their answers.
#[tokio::test(flavor = "multi_thread")]
async fn three_bridges_share_one_login() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let args = [url.as_str(), "--auth-timeout", "10"];
    let mut bridges = [env.bridge(&args), env.bridge(&args), env.bridge(&args)];
    for b in bridges.iter_mut() {
        b.send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
            .await;
    }
    for b in bridges.iter_mut() {
        let (answer, _) = b.recv_answer(json!(0)).await;
        assert!(answer.get("result").is_some(), "{answer}");
    }
    for b in bridges {
        let (code, _) = b.finish().await;
        assert_eq!(code, Some(0));
    }
    assert_eq!(env.launches().len(), 1);
    assert_eq!(oauth.grants("authorization_code").len(), 1);
}

/// A bridge waiting for another process's login (the cross-process lock) exits promptly when
/// its host goes away.
#[tokio::test(flavor = "multi_thread")]
async fn host_leaving_while_waiting_for_another_login() {
    let (_oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Idle);
    let url = mcp.url();
    let args = [url.as_str(), "--auth-timeout", "60", "--protocol", "legacy"];
    let mut a = env.bridge(&args);
    a.send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
        .await;
    env.wait_launches(1).await;
    let mut b = env.bridge(&args);
    b.send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
        .await;
    mcp.wait_for("the second bridge's initialize", |r| {
        r.iter()
            .filter(|r| r.rpc_method() == Some("initialize"))
            .count()
            >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    b.close_stdin();
    let status = tokio::time::timeout(WAIT, b.child.wait())
        .await
        .expect("the waiting bridge exits")
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        env.launches().len(),
        1,
        "the waiting bridge never opened a browser"
    );
    let (code, _) = a.finish().await;
    assert_eq!(code, Some(0));
}

/// The host closing stdin during a login (the user never finishes in the browser) stops the
/// bridge within a few seconds, and the callback port is free afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn host_leaving_during_login_stops_the_bridge() {
    let (_oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Idle);
    let port = free_port();
    let p = port.to_string();
    let mut bridge = env.bridge(&[&mcp.url(), "--callback-port", &p, "--auth-timeout", "60"]);
    bridge
        .send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
        .await;
    env.wait_launches(1).await;
    assert!(!port_is_free(port), "the callback listens");
    let start = Instant::now();
    bridge.close_stdin();
    let status = tokio::time::timeout(WAIT, bridge.child.wait())
        .await
        .expect("the bridge exits")
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(status.code(), Some(0));
    assert!(port_is_free(port), "the callback port is still held");
}

/// `--callback-port` is the port of the redirect URI.
#[tokio::test(flavor = "multi_thread")]
async fn pinned_callback_port_is_used() {
    let port = free_port();
    let p = port.to_string();
    let authorize = authorize_request(Script::default(), &["--callback-port", &p]).await;
    assert_eq!(
        authorize.param("redirect_uri"),
        Some(format!("http://127.0.0.1:{port}/oauth/callback").as_str())
    );
    // mcp-remote's spellings: the port as the second positional, `--host localhost`.
    let port = free_port();
    let p = port.to_string();
    let authorize = authorize_request(Script::default(), &[&p, "--host", "localhost"]).await;
    assert_eq!(
        authorize.param("redirect_uri"),
        Some(format!("http://localhost:{port}/oauth/callback").as_str())
    );
}

/// A failed `login` (here: an authorization server without PKCE S256) exits 1 with the
/// reason on stderr and stores nothing.
#[tokio::test(flavor = "multi_thread")]
async fn failed_login_command() {
    let script = Script::default().meta(json!({"code_challenge_methods_supported": null}));
    let (_oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let (code, stdout, stderr) = env.run(&["login", &url, "--auth-timeout", "10"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("mcp-bridge: error:"), "{stderr}");
    assert!(stderr.contains("PKCE"), "{stderr}");
    assert!(env.launches().is_empty());
    let (code, _, _) = env.run(&["status", &url]).await;
    assert_eq!(code, 1, "nothing stored for the server");
}

/// A pinned callback port that is busy is a clear error, before any browser opens; the
/// bridge stays up and exits cleanly.
#[tokio::test(flavor = "multi_thread")]
async fn busy_pinned_callback_port_is_a_clear_error() {
    let (_oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let p = holder.local_addr().unwrap().port().to_string();
    let mut bridge = env.bridge(&[&mcp.url(), "--callback-port", &p, "--auth-timeout", "10"]);
    let message = init_err(&mut bridge).await;
    assert!(message.contains("already in use"), "{message}");
    assert!(message.contains(&p), "{message}");
    let ping = bridge.request(1, "ping", json!({})).await;
    assert!(ping.get("error").is_some());
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(env.launches().is_empty());
    drop(holder);
}

/// A bridge killed in the middle of a login (holding the cross-process lock and the
/// callback port) leaves nothing stale behind: the next bridge logs in at once.
#[tokio::test(flavor = "multi_thread")]
async fn killed_login_leaves_no_stale_lock() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let idle = AuthEnv::new(Browse::Idle);
    let follow = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let args = [url.as_str(), "--auth-timeout", "60"];
    let mut a = idle.bridge(&args);
    a.send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
        .await;
    idle.wait_launches(1).await;
    a.child.start_kill().expect("kill the first bridge");
    a.child.wait().await.expect("reap it");
    // Same credentials directory, a browser that finishes the login.
    let browser = follow.browser.display().to_string();
    let mut b = idle.bridge_with(&args, &[("MCP_BRIDGE_BROWSER", browser.as_str())]);
    let start = Instant::now();
    init_ok(&mut b).await;
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    b.finish().await;
    assert_eq!(follow.launches().len(), 1);
    assert_eq!(oauth.grants("authorization_code").len(), 1);
}

/// `--store memory` keeps credentials in the process only: nothing is written, and the next
/// process logs in again.
#[tokio::test(flavor = "multi_thread")]
async fn memory_store_keeps_nothing() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let args = [url.as_str(), "--store", "memory", "--auth-timeout", "10"];
    session(&env, &args).await;
    session(&env, &args).await;
    assert_eq!(env.launches().len(), 2);
    assert_eq!(oauth.grants("authorization_code").len(), 2);
    let (_, stdout, _) = env.run(&["status", "--json"]).await;
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), json!([]));
    let secrets = oauth.issued_tokens();
    for entry in walk(&env.config_dir) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{s} written to {}",
                entry.display()
            );
        }
    }
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The file store keeps tokens only in files no one else can read (0600).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn file_store_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let token = oauth
        .issued_tokens()
        .into_iter()
        .find(|t| t.starts_with("at-"));
    let token = token.expect("a token was issued");
    let holders: Vec<_> = walk(&env.config_dir)
        .into_iter()
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&token)))
        .collect();
    assert!(!holders.is_empty(), "the token is stored somewhere");
    for p in holders {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is mode {mode:o}", p.display());
    }
}
