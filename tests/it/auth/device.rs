//! The device authorization grant (RFC 8628, `--device-code`): the code and where to enter it
//! on stderr, polling at the server's interval (slower after `slow_down`), then the tokens;
//! `access_denied`, an expired code and a server without a device endpoint are clear errors;
//! the host going away stops the wait at once. No browser is ever opened here.

use super::*;

const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn offering_device(oauth: &MockOAuth) {
    let endpoint = format!("{}/device", oauth.issuer());
    oauth.script(|s| {
        s.metadata_patch
            .insert("device_authorization_endpoint".into(), json!(endpoint));
    });
}

/// Waits until the bridge has asked for a device code.
async fn wait_for_code(oauth: &MockOAuth) -> Seen {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(seen) = oauth.hits("/device").into_iter().next() {
            return seen;
        }
        assert!(Instant::now() < deadline, "no device authorization request");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Registered with the device grant (no client given), the code shown with the address
/// that completes it; the first poll told to slow down, the next ones paced at the interval
/// plus five seconds, then approved: the host's request goes through with the token.
#[tokio::test(flavor = "multi_thread")]
async fn device_code_login_is_shown_polled_and_approved() {
    let script = Script {
        device_slow_down: true,
        challenge_scope: Some("mcp:tools".into()),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    offering_device(&oauth);
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let mut bridge = env.bridge(&[&url, "--device-code", "--auth-timeout", "30"]);
    bridge
        .send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
        .await;
    let asked = wait_for_code(&oauth).await;
    assert_eq!(asked.param("scope"), Some("mcp:tools"));
    assert_eq!(asked.param("resource"), Some(mcp_resource(&mcp).as_str()));
    // Let it poll a few times before the person approves.
    tokio::time::sleep(Duration::from_millis(7500)).await;
    oauth.decide_devices(true);
    let (answer, _) = bridge.recv_answer(json!(0)).await;
    assert!(answer.get("result").is_some(), "{answer}");
    let call = bridge.request(1, "tools/call", echo_params("device")).await;
    assert_eq!(call["result"]["content"][0]["text"], "device", "{call}");
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");

    let registration = one(oauth.hits("/register"), "registration").json();
    let grants = registration["grant_types"].as_array().unwrap();
    assert!(grants.contains(&json!(DEVICE_CODE)), "{registration}");
    let polls = oauth.grants(DEVICE_CODE);
    let outcomes: Vec<&str> = polls.iter().map(|p| p.outcome.as_str()).collect();
    assert_eq!(
        outcomes.first(),
        Some(&"slow_down (first poll)"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes.last(), Some(&"ok"), "{outcomes:?}");
    assert!(
        outcomes[1..outcomes.len() - 1]
            .iter()
            .all(|o| *o == "authorization_pending (pending)"),
        "{outcomes:?}"
    );
    // One poll a second, six after slow_down: in 7.5 s at most three polls before approval.
    assert!(polls.len() <= 4, "polled too fast: {outcomes:?}");
    for p in &polls {
        assert!(p.param("device_code").is_some_and(|c| c.starts_with("dc-")));
        assert_eq!(p.param("resource"), Some(mcp_resource(&mcp).as_str()));
    }
    let complete = format!("    {}/activate?user_code=WDJB-", oauth.issuer());
    assert!(stderr.contains(&complete), "{stderr}");
    assert!(
        stderr.contains("check that it shows the code: WDJB-"),
        "{stderr}"
    );
    assert!(env.launches().is_empty(), "no browser");
    assert!(
        oauth.hits("/authorize").is_empty(),
        "no authorization request"
    );
    let (_, status, _) = env.run(&["status", &url]).await;
    assert!(status.contains("device code"), "{status}");
}

/// `mcp-bridge login --device-code` with a pre-registered public client: the same flow,
/// the tokens stored for the bridge to use later without any login.
#[tokio::test(flavor = "multi_thread")]
async fn login_with_device_code_stores_tokens() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    offering_device(&oauth);
    oauth.add_client("tv-1", None, "none");
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let args = [
        "login",
        "--device-code",
        "--client-id",
        "tv-1",
        url.as_str(),
    ];
    let approve = async {
        let asked = wait_for_code(&oauth).await;
        assert_eq!(asked.param("client_id"), Some("tv-1"));
        oauth.decide_devices(true);
    };
    let ((code, _, stderr), ()) = tokio::join!(env.run(&args), approve);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("/activate?user_code="), "{stderr}");
    assert_eq!(
        oauth.grants(DEVICE_CODE).last().map(|p| p.outcome.clone()),
        Some("ok".into())
    );
    session(&env, &[&url, "--client-id", "tv-1"]).await;
    assert_eq!(
        oauth.hits("/device").len(),
        1,
        "the stored tokens were used"
    );
    assert!(env.launches().is_empty());
}

/// Denied on the device, a code that expires unapproved, and a server with no device
/// endpoint: one clear error each, no browser, and (without an endpoint) no request at all.
#[tokio::test(flavor = "multi_thread")]
async fn device_code_refusals() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    offering_device(&oauth);
    oauth.add_client("tv-2", None, "none");
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let args = [
        url.as_str(),
        "--device-code",
        "--client-id",
        "tv-2",
        "--store",
        "memory",
    ];
    let mut bridge = env.bridge(&args);
    bridge
        .send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
        .await;
    wait_for_code(&oauth).await;
    oauth.decide_devices(false);
    let (answer, _) = bridge.recv_answer(json!(0)).await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("denied"), "{answer}");
    bridge.finish().await;

    oauth.script(|s| s.device_lifetime = Duration::from_secs(2));
    let mut bridge = env.bridge(&args);
    let message = init_err(&mut bridge).await;
    assert!(message.contains("not approved within"), "{message}");
    bridge.finish().await;

    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    oauth.add_client("tv-3", None, "none");
    let url = mcp.url();
    let mut bridge = env.bridge(&[&url, "--device-code", "--client-id", "tv-3"]);
    let message = init_err(&mut bridge).await;
    assert!(
        message.contains("offers no device authorization"),
        "{message}"
    );
    bridge.finish().await;
    assert!(oauth.hits("/token").is_empty() && oauth.hits("/device").is_empty());
    assert!(env.launches().is_empty());
}

/// The host going away (stdin closed) or a signal while the person has not approved yet
/// ends the wait at once, and with it the process; the polling stops.
#[tokio::test(flavor = "multi_thread")]
async fn device_code_wait_stops_when_the_host_goes_away() {
    for by_signal in [false, true] {
        let (oauth, mcp) = MockOAuth::start(Script::default()).await;
        offering_device(&oauth);
        oauth.add_client("tv-4", None, "none");
        let env = AuthEnv::new(Browse::Follow);
        let url = mcp.url();
        let mut bridge = env.bridge(&[&url, "--device-code", "--client-id", "tv-4"]);
        bridge
            .send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":init_params()}))
            .await;
        wait_for_code(&oauth).await;
        if by_signal {
            // With stdin still open: the signal alone ends the wait, and the host's request
            // gets its one answer.
            bridge.signal("TERM");
            let (answer, _) = bridge.recv_answer(json!(0)).await;
            assert!(answer["error"].is_object(), "{answer}");
        } else {
            bridge.close_stdin();
        }
        let (code, stderr) = bridge.finish().await;
        assert!(code.is_some(), "signal={by_signal}: {stderr}");
        let polls = oauth.grants(DEVICE_CODE).len();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(
            oauth.grants(DEVICE_CODE).len(),
            polls,
            "signal={by_signal}: no polling after the exit"
        );
    }
}
