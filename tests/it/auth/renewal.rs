//! Keeping a session authorized: refresh (ahead of expiry, on 401, rotation, invalid_grant),
//! another process's tokens, step-up on 403 insufficient_scope, and the bounds on all of them;
//! every request answered exactly once.

use super::*;

/// A token about to expire (within the 60 s margin) is refreshed before the next request,
/// without a browser and without the server ever answering 401; the refresh carries
/// `resource`.
#[tokio::test(flavor = "multi_thread")]
async fn expiring_token_is_refreshed_ahead() {
    // 62 s: fresh enough for the retry right after the login, inside the margin 2 s later.
    let script = Script {
        expires_in: Some(62),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    let init = bridge.request(0, "initialize", init_params()).await;
    assert!(init.get("result").is_some(), "{init}");
    assert!(oauth.grants("refresh_token").is_empty());
    oauth.script(|s| s.expires_in = Some(3600));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let refusals = oauth.mcp_refusals().len();
    let answer = bridge.request(1, "tools/call", echo_params("x")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "x");
    bridge.finish().await;
    let refresh = one(oauth.grants("refresh_token"), "refresh");
    assert_eq!(refresh.outcome, "ok");
    assert_eq!(refresh.param("refresh_token"), Some("rt-3"));
    assert_eq!(refresh.param("resource"), Some(mcp_resource(&mcp).as_str()));
    assert_eq!(
        oauth.mcp_refusals().len(),
        refusals,
        "no 401 after the login"
    );
    assert_eq!(env.launches().len(), 1);
    assert!(
        oauth
            .mcp_authorizations()
            .last()
            .is_some_and(|a| a.as_deref() == Some("Bearer at-4"))
    );
}

/// A token the server rejects is refreshed (no browser); a rotated refresh token is kept,
/// so the second refresh uses the new one.
#[tokio::test(flavor = "multi_thread")]
async fn rejected_token_is_refreshed_with_the_rotated_refresh_token() {
    let script = Script {
        expires_in: None,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    for i in 1..=2 {
        oauth.invalidate_access();
        let answer = bridge.request(i, "tools/call", echo_params("again")).await;
        assert_eq!(answer["result"]["content"][0]["text"], "again", "{answer}");
    }
    bridge.finish().await;
    let refreshes = oauth.grants("refresh_token");
    let used: Vec<&str> = refreshes
        .iter()
        .map(|s| s.param("refresh_token").unwrap())
        .collect();
    assert_eq!(used, ["rt-3", "rt-4"]);
    assert!(refreshes.iter().all(|s| s.outcome == "ok"));

    // The rotated refresh token was stored: the next process refreshes with it.
    oauth.invalidate_access();
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let refreshes = oauth.grants("refresh_token");
    assert_eq!(refreshes.len(), 3);
    assert_eq!(refreshes[2].param("refresh_token"), Some("rt-5"));
    assert_eq!(refreshes[2].outcome, "ok");
    assert_eq!(env.launches().len(), 1);
}

/// A refresh token the server rejects (invalid_grant) is dropped and the browser login runs,
/// once.
#[tokio::test(flavor = "multi_thread")]
async fn invalid_grant_falls_back_to_the_browser_once() {
    let script = Script {
        expires_in: None,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    oauth.script(|s| s.refresh_error = Some("invalid_grant".into()));
    oauth.invalidate_access();
    let answer = bridge.request(1, "tools/call", echo_params("back")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "back", "{answer}");
    bridge.finish().await;
    assert_eq!(oauth.grants("refresh_token").len(), 1);
    assert_eq!(oauth.grants("authorization_code").len(), 2);
    assert_eq!(env.launches().len(), 2);
}

/// Another process's refresh is picked up: when the token is rejected and the store already
/// holds a newer one, the bridge uses it instead of refreshing with a refresh token the
/// server has rotated away (which would cost a browser login).
#[tokio::test(flavor = "multi_thread")]
async fn another_process_refresh_is_reused() {
    let script = Script {
        expires_in: None,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let args = [mcp.url(), "--auth-timeout".into(), "10".into()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut a = env.bridge(&args);
    init_ok(&mut a).await;
    let mut b = env.bridge(&args);
    init_ok(&mut b).await;
    assert_eq!(
        env.launches().len(),
        1,
        "the second bridge used the stored tokens"
    );
    oauth.invalidate_access();
    let answer = a.request(1, "tools/call", echo_params("a")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "a", "{answer}");
    let answer = b.request(1, "tools/call", echo_params("b")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "b", "{answer}");
    a.finish().await;
    b.finish().await;
    let refreshes = oauth.grants("refresh_token");
    assert_eq!(refreshes.len(), 1, "one refresh for both processes");
    assert_eq!(env.launches().len(), 1);
}

/// Without a refresh token, a rejected token means a new browser login, once.
#[tokio::test(flavor = "multi_thread")]
async fn no_refresh_token_means_a_new_login() {
    let script = Script {
        expires_in: None,
        issue_refresh: false,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    oauth.invalidate_access();
    let answer = bridge.request(1, "tools/call", echo_params("x")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "x", "{answer}");
    bridge.finish().await;
    assert!(oauth.grants("refresh_token").is_empty());
    assert_eq!(env.launches().len(), 2);
}

/// A server that answers 401 whatever the token: the request fails after a bounded number
/// of renewals instead of looping, and the bridge stays usable.
#[tokio::test(flavor = "multi_thread")]
async fn endless_401_is_bounded() {
    let script = Script {
        always_401: true,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    let first = init_err(&mut bridge).await;
    let second = bridge.request(1, "initialize", init_params()).await;
    assert!(second.get("error").is_some(), "{second}");
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!first.is_empty());
    let logins = env.launches().len();
    let refreshes = oauth.grants("refresh_token").len();
    assert!(logins <= 2, "{logins} browser logins");
    assert!(
        logins + refreshes <= 6,
        "{logins} logins, {refreshes} refreshes"
    );
    assert!(mcp.calls("initialize").len() <= 8);
}

/// 403 insufficient_scope: the bridge authorizes again with the union of the scopes it had
/// and the ones challenged, and the call then succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn insufficient_scope_steps_up_with_the_union() {
    let script = Script {
        challenge_scope: Some("mcp:read".into()),
        needs_scope: Some("mcp:write".into()),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let scopes: Vec<Option<String>> = oauth
        .hits("/authorize")
        .iter()
        .map(|s| s.param("scope").map(str::to_owned))
        .collect();
    assert_eq!(
        scopes,
        [Some("mcp:read".into()), Some("mcp:read mcp:write".into())]
    );
    assert_eq!(oauth.mcp_refusals(), [401, 403]);
    assert_eq!(env.launches().len(), 2);
}

/// A step-up also works when `--scope` chose the first scopes: the union of those and the
/// challenged ones is requested (not `--scope` again, which could never satisfy the server).
#[tokio::test(flavor = "multi_thread")]
async fn step_up_adds_to_scope_flag() {
    let script = Script {
        needs_scope: Some("mcp:write".into()),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(
        &env,
        &[&mcp.url(), "--scope", "mcp:read", "--auth-timeout", "10"],
    )
    .await;
    let scopes: Vec<Option<String>> = oauth
        .hits("/authorize")
        .iter()
        .map(|s| s.param("scope").map(str::to_owned))
        .collect();
    assert_eq!(
        scopes,
        [Some("mcp:read".into()), Some("mcp:read mcp:write".into())]
    );
}

/// A server that answers 403 insufficient_scope whatever the token: the host gets an error
/// after a bounded number of step-ups, and the bridge keeps working.
#[tokio::test(flavor = "multi_thread")]
async fn step_up_is_bounded() {
    let script = Script {
        always_403: true,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    let answer = bridge.request(1, "tools/call", echo_params("x")).await;
    assert!(answer.get("error").is_some(), "{answer}");
    let again = bridge.request(2, "tools/call", echo_params("x")).await;
    assert!(again.get("error").is_some(), "{again}");
    let ping = bridge.request(3, "ping", json!({})).await;
    assert_eq!(ping["result"], json!({}));
    bridge.finish().await;
    let launches = env.launches().len();
    assert!((2..=3).contains(&launches), "{launches} logins");
    let forbidden = oauth.mcp_refusals().iter().filter(|s| **s == 403).count();
    assert!(forbidden <= 5, "{forbidden} 403s");
}

/// The request that met the 401 is retried after the login and answered exactly once; when
/// the token is rejected under three calls in flight, one refresh serves them all and each
/// is answered once.
#[tokio::test(flavor = "multi_thread")]
async fn requests_that_met_401_are_answered_once() {
    let script = Script {
        expires_in: None,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    // Pinned to the initialize era so the first request to meet the 401 is the host's own.
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10", "--protocol", "legacy"]);
    init_ok(&mut bridge).await;
    assert_eq!(
        mcp.calls("initialize").len(),
        2,
        "sent, refused, sent again"
    );
    oauth.invalidate_access();
    for id in 1..=3 {
        bridge.send(echo(id, &format!("n{id}"))).await;
    }
    let mut seen = HashSet::new();
    while seen.len() < 3 {
        let msg = bridge.recv().await;
        let id = msg["id"].as_i64().expect("an answer");
        assert_eq!(msg["result"]["content"][0]["text"], format!("n{id}"));
        assert!(seen.insert(id), "id {id} answered twice");
    }
    bridge.close_stdin();
    let rest = bridge.drain_stdout().await;
    assert!(rest.is_empty(), "extra output: {rest:?}");
    let (code, _) = bridge.finish().await;
    assert_eq!(code, Some(0));
    assert_eq!(oauth.grants("refresh_token").len(), 1);
    assert_eq!(env.launches().len(), 1);
}

/// Step-ups that each ask for a new scope (tools needing more and more) are not capped: only
/// step-ups that bring nothing new count toward the limit.
#[tokio::test(flavor = "multi_thread")]
async fn progressive_step_ups_are_not_capped() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    for (i, need) in ["s1", "s1 s2", "s1 s2 s3", "s1 s2 s3 s4"]
        .iter()
        .enumerate()
    {
        oauth.script(|s| s.needs_scope = Some(need.to_string()));
        let answer = bridge
            .request(i as i64 + 1, "tools/call", echo_params("x"))
            .await;
        assert_eq!(
            answer["result"]["content"][0]["text"], "x",
            "{need}: {answer}"
        );
    }
    bridge.finish().await;
    assert_eq!(env.launches().len(), 5);
    let last = oauth.hits("/authorize").pop().unwrap();
    assert_eq!(last.param("scope"), Some("s1 s2 s3 s4"));
}

/// Authorization server migration: when the server's PRM names another authorization server,
/// the tokens (and registration) of the old one are not used there; the bridge registers
/// and logs in at the new one, and never sends the old server's refresh token to it.
#[tokio::test(flavor = "multi_thread")]
async fn authorization_server_migration() {
    let script = Script {
        expires_in: None,
        ..Script::default()
    };
    let (old, mcp) = MockOAuth::start(script.clone()).await;
    let (new, _unused) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    old.migrate_to(&new);
    let answer = bridge.request(1, "tools/call", echo_params("moved")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "moved", "{answer}");
    bridge.finish().await;
    assert_eq!(
        new.hits("/register").len(),
        1,
        "registered at the new server"
    );
    assert_eq!(new.grants("authorization_code").len(), 1);
    assert!(new.grants("refresh_token").is_empty());
    assert!(
        old.grants("refresh_token").is_empty(),
        "refreshed at the old server"
    );
    let old_tokens = old.issued_tokens();
    for seen in new.requests() {
        for t in &old_tokens {
            assert!(
                !seen.body.contains(t.as_str()),
                "{t} sent to the new server"
            );
        }
    }
    assert_eq!(env.launches().len(), 2);
    // A new process uses the new server's tokens straight away.
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    assert_eq!(env.launches().len(), 2);
}

/// A 2025-03-26 server with neither PRM nor metadata (default endpoints): a new process
/// refreshes the stored tokens at the default token endpoint instead of opening the browser.
#[tokio::test(flavor = "multi_thread")]
async fn fallback_server_tokens_refresh_in_a_new_process() {
    let script = Script {
        cohost: true,
        prm_at: vec![],
        metadata_at: vec![],
        expires_in: None,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    oauth.invalidate_access();
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let refresh = one(oauth.grants("refresh_token"), "refresh");
    assert_eq!(refresh.outcome, "ok");
    assert_eq!(env.launches().len(), 1);
}

/// Over legacy HTTP+SSE, a token rejected mid-session on a POST is refreshed and the
/// message re-sent; the host gets exactly one answer.
#[tokio::test(flavor = "multi_thread")]
async fn legacy_sse_post_401_is_refreshed() {
    let config = crate::support::mock::Config {
        legacy_only: true,
        ..Default::default()
    };
    let script = Script {
        prm_at: vec![PrmAt::Root],
        expires_in: None,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start_with(script, config).await;
    let sse = mcp.sse_url();
    oauth.script(|s| {
        s.prm_patch.insert("resource".into(), json!(sse));
    });
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&["--sse", &sse, "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    oauth.invalidate_access();
    let answer = bridge.request(1, "tools/call", echo_params("again")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "again", "{answer}");
    let ping = bridge.request(2, "ping", json!({})).await;
    assert_eq!(ping["result"], json!({}), "{ping}");
    bridge.close_stdin();
    let rest = bridge.drain_stdout().await;
    assert!(rest.is_empty(), "extra output: {rest:?}");
    bridge.finish().await;
    assert_eq!(oauth.grants("refresh_token").len(), 1);
    assert_eq!(env.launches().len(), 1);
}

/// A new process refreshes a 2025-03-26 server's tokens (no PRM, no metadata) ahead of
/// expiry too, at the default token endpoint, so the server never sees the old token fail.
#[tokio::test(flavor = "multi_thread")]
async fn fallback_server_tokens_refresh_ahead_in_a_new_process() {
    // 62 s: fresh for the first process, inside the 60 s margin 2 s later.
    let script = Script {
        cohost: true,
        prm_at: vec![],
        metadata_at: vec![],
        expires_in: Some(62),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    assert!(oauth.grants("refresh_token").is_empty());
    oauth.script(|s| s.expires_in = Some(3600));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let refusals = oauth.mcp_refusals().len();
    let stderr = session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    assert_eq!(one(oauth.grants("refresh_token"), "refresh").outcome, "ok");
    assert_eq!(
        oauth.mcp_refusals().len(),
        refusals,
        "no 401 in the second process"
    );
    assert!(!stderr.contains("could not refresh"), "{stderr}");
    assert_eq!(env.launches().len(), 1);
}

/// An `expires_in` of 2^64-1 is clamped, not wrapped into the past: the token is used as
/// is for every request, with no refresh before each one.
#[tokio::test(flavor = "multi_thread")]
async fn huge_expires_in_is_clamped() {
    let script = Script {
        expires_in: Some(u64::MAX),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    for i in 1..=3 {
        let answer = bridge.request(i, "tools/call", echo_params("x")).await;
        assert_eq!(answer["result"]["content"][0]["text"], "x", "{answer}");
    }
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(oauth.grants("refresh_token").is_empty(), "refreshed anyway");
    assert_eq!(oauth.hits("/token").len(), 1);
    let stored =
        std::fs::read_to_string(env.config_dir.join("credentials.json")).unwrap_or_default();
    assert!(!stored.contains("18446744073709551615"), "{stored}");
}

/// Requests in flight when every token stops working wait for one login, and take its
/// outcome: here the user refuses it, so each gets an error, and the browser opened once
/// (not once per request).
#[tokio::test(flavor = "multi_thread")]
async fn one_login_for_every_request_waiting_on_it() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    init_ok(&mut bridge).await;
    // The handshake's notification is delivered before this answer comes.
    let pong = bridge.request(99, "ping", json!({})).await;
    assert!(pong["result"].is_object(), "{pong}");
    assert_eq!(env.launches().len(), 1);
    oauth.invalidate_all();
    oauth.script(|s| {
        s.authorize_error = Some("access_denied".into());
        s.authorize_delay = Duration::from_millis(800);
    });
    for i in 1..=5 {
        bridge
            .send(json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":echo_params("x")}))
            .await;
    }
    for _ in 1..=5 {
        let answer = bridge.recv().await;
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    let (_, stderr) = bridge.finish().await;
    assert_eq!(
        env.launches().len(),
        2,
        "one login for all five requests: {stderr}"
    );
    assert_eq!(oauth.hits("/authorize").len(), 2);
}
