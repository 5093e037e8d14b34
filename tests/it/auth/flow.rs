//! The authorization request and response: PKCE S256, `state`, RFC 9207 `iss`, RFC 8707
//! `resource`, scope selection.

use super::*;

/// The code challenge is S256 of the verifier the token request carries (the server
/// verified it too), and the verifier has the length RFC 7636 requires.
#[tokio::test(flavor = "multi_thread")]
async fn pkce_s256() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let authorize = one(oauth.hits("/authorize"), "authorize");
    let token = one(oauth.hits("/token"), "token request");
    assert_eq!(authorize.param("code_challenge_method"), Some("S256"));
    let verifier = token.param("code_verifier").expect("a verifier");
    assert!((43..=128).contains(&verifier.len()));
    assert_eq!(
        Some(s256(verifier).as_str()),
        authorize.param("code_challenge")
    );
    assert_eq!(token.outcome, "ok");
}

/// An authorization server that does not advertise S256 (no
/// code_challenge_methods_supported, or only `plain`) is refused with a clear error before
/// any browser opens.
#[tokio::test(flavor = "multi_thread")]
async fn no_s256_is_refused_before_the_browser() {
    for methods in [Value::Null, json!(["plain"])] {
        let script = Script::default().meta(json!({"code_challenge_methods_supported": methods}));
        let (oauth, mcp) = MockOAuth::start(script).await;
        let env = AuthEnv::new(Browse::Follow);
        let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
        let message = init_err(&mut bridge).await;
        assert!(message.contains("PKCE"), "{methods}: {message}");
        bridge.finish().await;
        assert!(env.launches().is_empty(), "{methods}: browser launched");
        assert!(oauth.hits("/authorize").is_empty() && oauth.hits("/token").is_empty());
        assert!(
            oauth.hits("/register").is_empty(),
            "{methods}: registered anyway"
        );
    }
}

/// An authorization response with another `state` is refused and its code never redeemed;
/// when no right one comes, the login ends at its timeout saying why.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_state_is_refused() {
    let script = Script {
        wrong_state: true,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "3"]);
    let message = init_err(&mut bridge).await;
    assert!(message.contains("wrong state"), "{message}");
    bridge.finish().await;
    assert_eq!(env.launches().len(), 1);
    assert!(oauth.hits("/token").is_empty(), "the code was redeemed");
}

/// RFC 9207: the right `iss` is accepted; `iss` may be absent when the server does not
/// advertise it.
#[tokio::test(flavor = "multi_thread")]
async fn iss_accepted_when_right_or_not_advertised() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    assert_eq!(one(oauth.hits("/token"), "token").outcome, "ok");

    let script = Script {
        iss: Iss::Absent,
        ..Script::default()
    }
    .meta(json!({"authorization_response_iss_parameter_supported": null}));
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    assert_eq!(one(oauth.hits("/token"), "token").outcome, "ok");
}

/// RFC 9207: an `iss` naming another issuer is refused (mix-up), whether or not the server
/// advertised the parameter, and the code is never redeemed.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_iss_is_refused() {
    for advertised in [true, false] {
        let script = Script {
            iss: Iss::Wrong,
            ..Script::default()
        }
        .meta(json!({"authorization_response_iss_parameter_supported": advertised}));
        let (oauth, mcp) = MockOAuth::start(script).await;
        let env = AuthEnv::new(Browse::Follow);
        let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
        let message = init_err(&mut bridge).await;
        assert!(message.contains("different issuer"), "{message}");
        assert!(!message.contains("evil.example"), "{message}");
        bridge.finish().await;
        assert!(oauth.hits("/token").is_empty(), "the code was redeemed");
    }
    // An error response from the wrong issuer is not acted on or shown either.
    let script = Script {
        iss: Iss::Wrong,
        authorize_error: Some("access_denied".into()),
        ..Script::default()
    };
    {
        let (oauth, mcp) = MockOAuth::start(script).await;
        let env = AuthEnv::new(Browse::Follow);
        let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
        let message = init_err(&mut bridge).await;
        assert!(message.contains("different issuer"), "{message}");
        assert!(!message.contains("access_denied"), "{message}");
        assert!(!message.contains("scripted refusal"), "{message}");
        bridge.finish().await;
        assert!(oauth.hits("/token").is_empty(), "the code was redeemed");
    }
}

/// RFC 9207: a missing `iss` from a server that promises it is refused; the code is never
/// redeemed.
#[tokio::test(flavor = "multi_thread")]
async fn missing_iss_is_refused_when_advertised() {
    let script = Script {
        iss: Iss::Absent,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    let message = init_err(&mut bridge).await;
    assert!(message.contains("lacks the iss"), "{message}");
    bridge.finish().await;
    assert!(oauth.hits("/token").is_empty(), "the code was redeemed");
}

/// An error from the authorization server reaches the host as a clear login failure.
#[tokio::test(flavor = "multi_thread")]
async fn authorization_error_is_reported() {
    let script = Script {
        authorize_error: Some("access_denied".into()),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    let message = init_err(&mut bridge).await;
    assert!(message.contains("access_denied"), "{message}");
    bridge.finish().await;
    assert!(oauth.hits("/token").is_empty());
}

/// RFC 8707: `resource` is the server URL in both the authorization and the token request,
/// and the PRM's `resource` (a prefix of the server URL) when it names another.
#[tokio::test(flavor = "multi_thread")]
async fn resource_in_authorize_and_token_requests() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let want = mcp_resource(&mcp);
    assert_eq!(
        one(oauth.hits("/authorize"), "authorize").param("resource"),
        Some(want.as_str())
    );
    assert_eq!(
        one(oauth.hits("/token"), "token").param("resource"),
        Some(want.as_str())
    );

    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let origin = format!("http://{}", mcp.addr);
    oauth.script(|s| {
        s.prm_patch.insert("resource".into(), json!(origin));
    });
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    assert_eq!(
        one(oauth.hits("/authorize"), "authorize").param("resource"),
        Some(origin.as_str())
    );
    assert_eq!(
        one(oauth.hits("/token"), "token").param("resource"),
        Some(origin.as_str())
    );
}

/// Authorization servers with quirks. One that refuses RFC 8707 `resource` (as Microsoft
/// Entra does) fails the login, with its error, until `--no-resource` leaves `resource` out
/// of the authorization, token and refresh requests; `--authorize-param` adds parameters (a
/// `prompt` of the user's replaces the flow's `prompt=consent`); and `--callback-path` is
/// the path the redirect URI names and the callback listens on.
#[tokio::test(flavor = "multi_thread")]
async fn quirks_no_resource_extra_params_and_callback_path() {
    let script = Script {
        refuses_resource: true,
        ..Script::default()
    };
    let (message, _, launches, _) = refused(script).await;
    assert!(message.contains("invalid_target"), "{message}");
    assert_eq!(launches.len(), 1);

    let script = Script {
        expires_in: Some(62),
        refuses_resource: true,
        ..Script::default()
    }
    .meta(json!({"scopes_supported": ["mcp:read", "offline_access"]}))
    .prm(json!({"scopes_supported": ["mcp:read", "offline_access"]}));
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let mut bridge = env.bridge(&[
        &url,
        "--auth-timeout",
        "10",
        "--disable-resource-parameter",
        "--authorize-param",
        "prompt=login",
        "--authorize-param",
        "audience=api://mcp",
        "--callback-path",
        "/cb/fixed",
    ]);
    init_ok(&mut bridge).await;
    oauth.script(|s| s.expires_in = Some(3600));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let answer = bridge.request(1, "tools/call", echo_params("x")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "x", "{answer}");
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");

    let authorize = one(oauth.hits("/authorize"), "authorize");
    assert_eq!(authorize.param("resource"), None);
    assert_eq!(authorize.param("prompt"), Some("login"));
    assert_eq!(authorize.param("audience"), Some("api://mcp"));
    let redirect = url::Url::parse(authorize.param("redirect_uri").unwrap()).unwrap();
    assert_eq!(redirect.path(), "/cb/fixed");
    let code_grant = one(oauth.grants("authorization_code"), "code redemption");
    assert_eq!(code_grant.outcome, "ok");
    assert_eq!(code_grant.param("resource"), None);
    assert_eq!(code_grant.param("redirect_uri"), Some(redirect.as_str()));
    let refresh = one(oauth.grants("refresh_token"), "refresh");
    assert_eq!(refresh.outcome, "ok");
    assert_eq!(refresh.param("resource"), None);
    assert_eq!(env.launches().len(), 1);
}

/// Scope selection: the challenge's scope first, then the PRM's scopes_supported, else no
/// scope at all; `--scope` overrides them; offline_access is added only when the
/// authorization server lists it.
#[tokio::test(flavor = "multi_thread")]
async fn scope_selection() {
    let with_prm = || Script::default().prm(json!({"scopes_supported": ["prm:a", "prm:b"]}));
    let from_challenge = Script {
        challenge_scope: Some("mcp:read mcp:write".into()),
        ..with_prm()
    };
    let (a, b, c, d, e) = tokio::join!(
        authorize_request(from_challenge.clone(), &[]),
        authorize_request(with_prm(), &[]),
        authorize_request(Script::default(), &[]),
        authorize_request(from_challenge, &["--scope", "x,y"]),
        authorize_request(
            Script {
                challenge_scope: Some("mcp".into()),
                ..Script::default()
            }
            .meta(json!({"scopes_supported": ["mcp", "offline_access"]})),
            &[]
        ),
    );
    assert_eq!(a.param("scope"), Some("mcp:read mcp:write"));
    assert_eq!(b.param("scope"), Some("prm:a prm:b"));
    assert_eq!(c.param("scope"), None);
    assert_eq!(d.param("scope"), Some("x y"));
    assert_eq!(e.param("scope"), Some("mcp offline_access"));
    assert_eq!(a.param("prompt"), None);
}
