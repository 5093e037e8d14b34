//! Adversarial servers: dangerous metadata refused before any browser opens, shell payloads
//! kept to one argv, redirects not followed with credentials, tokens and secrets kept where
//! they belong.

use super::*;

/// Dangerous authorization endpoints are refused with a clear error before any browser
/// opens: other schemes, user info, control characters, plain http to another host.
#[tokio::test(flavor = "multi_thread")]
async fn dangerous_authorization_endpoints_are_refused() {
    let cases = [
        ("file:///etc/passwd", "https"),
        ("javascript:alert(1)", "https"),
        ("data:text/html,<script>alert(1)</script>", "https"),
        ("https://user:pw@127.0.0.1:9/authorize", "user info"),
        ("https://127.0.0.1:9/autho\nrize", "refusing"),
        ("https://127.0.0.1:9/a\tb", "refusing"),
        ("http://example.com/authorize", "https"),
    ];
    let runs = cases.iter().map(|(endpoint, _)| {
        refused(Script::default().meta(json!({"authorization_endpoint": endpoint})))
    });
    let results = futures::future::join_all(runs).await;
    for ((endpoint, expect), (message, _, launches, oauth)) in cases.iter().zip(results) {
        assert!(message.contains(expect), "{endpoint:?}: {message}");
        assert!(launches.is_empty(), "{endpoint:?}: browser launched");
        assert!(oauth.hits("/authorize").is_empty());
    }
}

/// The token, registration and revocation endpoints get the same checks as the
/// authorization endpoint: plain http to another host, other schemes and user info are
/// refused before anything is sent there.
#[tokio::test(flavor = "multi_thread")]
async fn dangerous_other_endpoints_are_refused() {
    let cases = [
        json!({"token_endpoint": "http://example.com/token"}),
        json!({"token_endpoint": "https://u:p@127.0.0.1:9/token"}),
        json!({"registration_endpoint": "file:///etc/passwd"}),
        json!({"revocation_endpoint": "javascript:alert(1)"}),
    ];
    let runs = cases
        .iter()
        .map(|c| refused(Script::default().meta(c.clone())));
    for (case, (message, _, launches, oauth)) in
        cases.iter().zip(futures::future::join_all(runs).await)
    {
        assert!(message.contains("refusing"), "{case}: {message}");
        assert!(launches.is_empty(), "{case}: browser launched");
        assert!(oauth.hits("/register").is_empty(), "{case}");
    }
}

/// A PRM that names no authorization server is a clear error.
#[tokio::test(flavor = "multi_thread")]
async fn prm_without_authorization_servers_is_refused() {
    let (message, _, launches, _oauth) =
        refused(Script::default().prm(json!({"authorization_servers": []}))).await;
    assert!(message.contains("no authorization server"), "{message}");
    assert!(launches.is_empty());
}

/// Shell metacharacters in an otherwise valid https endpoint are harmless: the URL reaches
/// the launcher as exactly one argument and no shell ever runs the payload.
#[tokio::test(flavor = "multi_thread")]
async fn shell_metacharacters_reach_the_browser_as_one_argument() {
    let env = AuthEnv::new(Browse::Idle);
    let canary = env.path("pwned");
    let c = canary.display().to_string();
    let payloads = [
        format!("https://127.0.0.1:9/a$(touch$IFS{c})"),
        format!("https://127.0.0.1:9/a;touch$IFS{c};"),
        format!("https://127.0.0.1:9/a?x=1&touch$IFS{c}|sh"),
    ];
    for p in &payloads {
        let (_oauth, mcp) =
            MockOAuth::start(Script::default().meta(json!({"authorization_endpoint": p}))).await;
        let before = env.launches().len();
        let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "1"]);
        let message = init_err(&mut bridge).await;
        assert!(message.contains("no login callback"), "{p}: {message}");
        bridge.finish().await;
        let launches = env.launches();
        assert_eq!(launches.len(), before + 1, "{p}");
        let argv = &launches[before];
        assert_eq!(argv.len(), 1, "{p}: {argv:?}");
        let sent = url::Url::parse(&argv[0]).expect("a URL");
        let want = url::Url::parse(p).unwrap();
        assert_eq!(sent.path(), want.path(), "{p}");
    }
    assert!(!canary.exists(), "a shell ran the payload");
}

/// A PRM whose `resource` names another origin is refused before the authorization server
/// is even asked.
#[tokio::test(flavor = "multi_thread")]
async fn prm_for_another_resource_is_refused() {
    let (message, _, launches, oauth) =
        refused(Script::default().prm(json!({"resource": "https://evil.example/mcp"}))).await;
    assert!(
        message.contains("protected resource metadata is for"),
        "{message}"
    );
    assert!(launches.is_empty());
    assert!(
        oauth.requests().iter().all(|s| s.side == Side::Mcp),
        "the authorization server was contacted"
    );
}

/// Metadata whose `issuer` differs from the issuer it was fetched for is refused; nothing is
/// registered and no browser opens.
#[tokio::test(flavor = "multi_thread")]
async fn metadata_issuer_mismatch_is_refused() {
    let (message, _, launches, oauth) =
        refused(Script::default().meta(json!({"issuer": "https://evil.example"}))).await;
    assert!(message.contains("names issuer"), "{message}");
    assert!(launches.is_empty());
    assert!(oauth.hits("/register").is_empty());
}

/// A token endpoint that redirects (307) to another host is not followed: the client secret
/// and the code never reach that host.
#[tokio::test(flavor = "multi_thread")]
async fn token_endpoint_redirect_is_not_followed() {
    let spy = Spy::bind("127.0.0.2", 0).await;
    let script = Script {
        token_redirect: Some(format!("http://{}/token", spy.addr)),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    oauth.add_client("pre-r", Some("topsecret"), "client_secret_basic");
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge_with(
        &[&mcp.url(), "--client-id", "pre-r", "--auth-timeout", "10"],
        &[("MCP_BRIDGE_CLIENT_SECRET", "topsecret")],
    );
    let message = init_err(&mut bridge).await;
    assert!(message.contains("redirect"), "{message}");
    let (_, stderr) = bridge.finish().await;
    assert!(!stderr.contains("topsecret"), "the secret was logged");
    assert_eq!(oauth.hits("/token").len(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(spy.heads().is_empty(), "followed: {:?}", spy.heads());
}

/// The bearer token goes only to the MCP server: never to the authorization server or the
/// metadata (through login, refresh and step-up), and not along a redirect to another
/// origin.
#[tokio::test(flavor = "multi_thread")]
async fn bearer_goes_only_to_the_mcp_server() {
    let script = Script {
        challenge_scope: Some("a".into()),
        needs_scope: Some("b".into()),
        expires_in: None,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let spy = match tokio::net::TcpListener::bind(("127.0.0.2", mcp.addr.port())).await {
        Ok(l) => {
            drop(l);
            Some(Spy::bind("127.0.0.2", mcp.addr.port()).await)
        }
        Err(_) => None, // the port is taken there; the redirect then goes nowhere anyway
    };
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    let answer = bridge.request(1, "tools/call", echo_params("up")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "up", "{answer}");
    oauth.invalidate_access();
    let answer = bridge.request(2, "tools/call", echo_params("again")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "again", "{answer}");
    let redirected = bridge
        .request(3, "tools/call", json!({"name":"redirect","arguments":{}}))
        .await;
    assert!(redirected.get("error").is_some(), "{redirected}");
    bridge.finish().await;
    assert_eq!(oauth.grants("refresh_token").len(), 1);
    oauth.assert_no_token_leak();
    if let Some(spy) = spy {
        for head in spy.heads() {
            assert!(
                !head.to_ascii_lowercase().contains("authorization:"),
                "token sent along the redirect: {head}"
            );
        }
    }
}

/// Tokens, refresh tokens, client secrets, codes and verifiers never appear on stderr, even
/// at the most verbose log level, through registration, login and refresh.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_out_of_logs() {
    let script = Script {
        expires_in: None,
        ..Script::default()
    }
    .meta(json!({"token_endpoint_auth_methods_supported": ["client_secret_basic"]}));
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    oauth.invalidate_access();
    let answer = bridge.request(1, "tools/call", echo_params("x")).await;
    assert!(answer.get("result").is_some(), "{answer}");
    let (_, stderr) = bridge.finish().await;
    let token = one(oauth.hits("/token").into_iter().take(1).collect(), "token");
    let verifier = token.param("code_verifier").unwrap().to_owned();
    assert_eq!(oauth.grants("refresh_token").len(), 1);
    let mut secrets = oauth.issued_tokens();
    secrets.extend(["dcr-secret-1".to_owned(), verifier]);
    secrets.push(token.param("code").unwrap().to_owned());
    for secret in &secrets {
        assert!(!stderr.contains(secret.as_str()), "{secret} is in the log");
    }
}

/// Any local process can hit the callback: one with a wrong `state` gets an error page and
/// the login in progress goes on; the user's real callback still completes it, and only the
/// real code is redeemed.
#[tokio::test(flavor = "multi_thread")]
async fn forged_callback_does_not_end_the_login() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Idle);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "20"]);
    bridge
        .send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
        .await;
    env.wait_launches(1).await;
    let authorize = env.launches()[0][0].clone();
    let query: std::collections::HashMap<String, String> = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let callback = &query["redirect_uri"];
    // The attacker, who cannot know the state.
    let (status, _, body) =
        crate::support::http_get(&format!("{callback}?code=evil&state=guess")).await;
    assert_eq!(status, 400, "{body}");
    // The user's browser, a moment later.
    let (status, location, _) = crate::support::http_get(&authorize).await;
    assert_eq!(status, 302);
    let (status, _, body) = crate::support::http_get(&location.expect("a redirect")).await;
    assert_eq!(status, 200, "{body}");
    let (init, _) = bridge.recv_answer(json!(0)).await;
    assert!(init.get("result").is_some(), "{init}");
    bridge.finish().await;
    let token = one(oauth.hits("/token"), "token");
    assert!(!token.body.contains("evil"), "the forged code was redeemed");
}

/// An access token with a line break (which could never travel in a header) is refused
/// clearly at the token response: one login per request that needs one (never a loop of
/// them), and no broken `Authorization` header is ever sent.
#[tokio::test(flavor = "multi_thread")]
async fn access_token_with_a_line_break_is_refused() {
    let script = Script {
        token_suffix: "\r\nX-Injected: 1".into(),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    let message = init_err(&mut bridge).await;
    assert!(
        message.contains("cannot be sent in an HTTP header"),
        "{message}"
    );
    let answer = bridge.request(1, "tools/call", echo_params("x")).await;
    assert!(answer["error"].is_object(), "{answer}");
    bridge.finish().await;
    assert_eq!(env.launches().len(), 2, "one login per request");
    assert_eq!(oauth.hits("/token").len(), 2, "one token request per login");
    assert!(
        oauth
            .mcp_authorizations()
            .iter()
            .flatten()
            .all(|a| !a.contains("invalid")),
        "a broken header was sent"
    );
}

/// The credentials directory is checked even when it already exists: one that is a symbolic
/// link to a directory anyone may write is made owner-only before anything is stored.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn open_config_dir_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let open = env.path("open-to-all");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::os::unix::fs::symlink(&open, &env.config_dir).unwrap();
    let stderr = session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let mode = std::fs::metadata(&open).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{stderr}");
    assert!(stderr.contains("made it owner-only"), "{stderr}");
    assert!(open.join("credentials.json").exists());
}

/// A credentials directory that belongs to another user is refused (root can hand one
/// over; elsewhere this needs root, so it is skipped loudly).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn config_dir_of_another_user_is_refused() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: config_dir_of_another_user_is_refused needs root to chown");
        return;
    }
    let (_oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    std::fs::create_dir(&env.config_dir).unwrap();
    std::os::unix::fs::chown(&env.config_dir, Some(65534), Some(65534)).unwrap();
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    let message = init_err(&mut bridge).await;
    let (_, stderr) = bridge.finish().await;
    assert!(
        format!("{message} {stderr}").contains("belongs to another user"),
        "{message} {stderr}"
    );
    assert!(!env.config_dir.join("credentials.json").exists());
}

/// A symbolic link where a lock file goes (dangling, here) is never followed: its target is
/// not created, and the bridge says what is wrong.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn lock_file_symlink_is_not_followed() {
    let (_oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    std::fs::create_dir(&env.config_dir).unwrap();
    let target = env.path("planted");
    std::os::unix::fs::symlink(&target, env.config_dir.join("store.lock")).unwrap();
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    let _ = bridge.request(0, "initialize", init_params()).await;
    let (_, stderr) = bridge.finish().await;
    assert!(
        !target.exists(),
        "the lock followed a symbolic link: {stderr}"
    );
}

/// A PRM `resource` with user info or a query is refused (RFC 8707), never passed on to the
/// authorization server, and the user info never appears in what the user is told.
#[tokio::test(flavor = "multi_thread")]
async fn resource_with_user_info_or_query_is_refused() {
    for shape in ["userinfo", "query"] {
        let (oauth, mcp) = MockOAuth::start(Script::default()).await;
        let base = url::Url::parse(&mcp.url()).unwrap();
        let origin = base.origin().ascii_serialization();
        let resource = match shape {
            "userinfo" => origin.replace("://", "://alice:hunter2@") + "/mcp",
            _ => format!("{origin}/mcp?tenant=other"),
        };
        oauth.script(|s| {
            s.prm_patch.insert("resource".into(), json!(resource));
        });
        let env = AuthEnv::new(Browse::Follow);
        let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", SHORT]);
        let message = init_err(&mut bridge).await;
        let (_, stderr) = bridge.finish().await;
        assert!(message.contains("RFC 8707"), "{shape}: {message}");
        assert!(
            !format!("{message}{stderr}").contains("hunter2"),
            "{shape}: {stderr}"
        );
        assert!(env.launches().is_empty(), "{shape}: a browser opened");
        assert!(oauth.hits("/authorize").is_empty() && oauth.hits("/token").is_empty());
    }
}

/// Another user's program that learned `state` (from the browser's command line) and hits
/// the callback first is refused: its code is never redeemed, and the user's own callback
/// still completes the login. Needs root to act as another user; skipped loudly elsewhere.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn callback_from_another_user_is_refused() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: callback_from_another_user_is_refused needs root to act as nobody");
        return;
    }
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Idle);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "20"]);
    bridge
        .send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
        .await;
    env.wait_launches(1).await;
    let authorize = env.launches()[0][0].clone();
    let query: std::collections::HashMap<String, String> = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let stolen = format!(
        "{}?code=attacker-code&state={}",
        query["redirect_uri"], query["state"]
    );
    // The attacker: the right state, from a process of user `nobody`.
    let target = url::Url::parse(&stolen).unwrap();
    let port = target.port().unwrap().to_string();
    let request = format!(
        "GET {}?{} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        target.path(),
        target.query().unwrap()
    );
    // Everything is loaded before the switch to `nobody` (who cannot read root's files).
    let script = "import os, socket, sys\n\
        os.setgid(65534); os.setuid(65534)\n\
        s = socket.socket()\n\
        s.connect(('127.0.0.1', int(sys.argv[1])))\n\
        s.sendall(sys.argv[2].encode())\n\
        print(s.recv(100).split(b' ')[1].decode())\n";
    let out = tokio::process::Command::new("python3")
        .args(["-c", script, &port, &request])
        .output()
        .await
        .expect("python3 runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "403",
        "{out:?}"
    );
    // The user's browser.
    let (status, location, _) = crate::support::http_get(&authorize).await;
    assert_eq!(status, 302);
    let (status, _, body) = crate::support::http_get(&location.expect("a redirect")).await;
    assert_eq!(status, 200, "{body}");
    let (init, _) = bridge.recv_answer(json!(0)).await;
    assert!(init.get("result").is_some(), "{init}");
    let (_, stderr) = bridge.finish().await;
    assert!(stderr.contains("another user"), "{stderr}");
    let token = one(oauth.hits("/token"), "token");
    assert!(
        !token.body.contains("attacker-code"),
        "the attacker's code was redeemed"
    );
}
