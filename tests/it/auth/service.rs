//! A service with no user (`--client-credentials`): the client credentials grant with the
//! pre-registered client's secret, Basic or post as the authorization server supports; no
//! registration, no browser; `resource` and the scopes sent; a new token ahead of expiry,
//! after a 401 and (with more scopes) after a 403 `insufficient_scope`.

use super::*;

/// `script` with an authorization server that offers the grant.
fn offering(script: Script) -> Script {
    script.meta(json!({"grant_types_supported": ["authorization_code", "client_credentials"]}))
}

fn service_args<'a>(url: &'a str, id: &'a str) -> Vec<&'a str> {
    vec![url, "--client-credentials", "--client-id", id]
}

/// Basic authentication by default; the token carries the challenge's scope and the
/// resource; a token about to expire is replaced before the server can refuse it, and one
/// the server stops accepting is replaced after its 401; the host sees only answers.
#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_with_basic_renewed_ahead_and_after_401() {
    let script = Script {
        expires_in: Some(62),
        challenge_scope: Some("mcp:tools".into()),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(offering(script)).await;
    oauth.add_client("svc-1", Some("svc:secret"), "client_secret_basic");
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let mut bridge = env.bridge_with(
        &service_args(&url, "svc-1"),
        &[("MCP_BRIDGE_CLIENT_SECRET", "svc:secret")],
    );
    init_ok(&mut bridge).await;
    let first = one(
        oauth.grants("client_credentials"),
        "client credentials grant",
    );
    assert_eq!(first.outcome, "ok");
    assert!(first.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(first.param("client_secret"), None);
    assert_eq!(first.param("scope"), Some("mcp:tools"));
    assert_eq!(first.param("resource"), Some(mcp_resource(&mcp).as_str()));

    // Within the 60 s margin of expiry: a new token before the next request.
    oauth.script(|s| s.expires_in = Some(3600));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let refusals = oauth.mcp_refusals().len();
    let answer = bridge.request(1, "tools/call", echo_params("a")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "a", "{answer}");
    assert_eq!(oauth.grants("client_credentials").len(), 2);
    assert_eq!(oauth.mcp_refusals().len(), refusals, "no 401 on the way");

    // The server stops accepting the token: one 401, one new token, the call goes through.
    oauth.invalidate_access();
    let answer = bridge.request(2, "tools/call", echo_params("b")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "b", "{answer}");
    assert_eq!(oauth.grants("client_credentials").len(), 3);
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(oauth.hits("/register").is_empty(), "no registration");
    assert!(
        oauth.hits("/authorize").is_empty(),
        "no authorization request"
    );
    assert!(env.launches().is_empty(), "no browser");
    assert!(oauth.grants("refresh_token").is_empty());
    assert!(!stderr.contains("svc:secret"), "{stderr}");
}

/// Where the token endpoint takes only `client_secret_post`, the secret goes in the body;
/// with `--no-resource` no `resource` is sent; a 403 `insufficient_scope` gets a new token
/// with the union of the scopes.
#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_with_post_and_step_up() {
    let script = Script {
        needs_scope: Some("mcp:write".into()),
        refuses_resource: true,
        ..Script::default()
    }
    .meta(json!({"token_endpoint_auth_methods_supported": ["client_secret_post"]}))
    .prm(json!({"scopes_supported": ["mcp:read"]}));
    let (oauth, mcp) = MockOAuth::start(offering(script)).await;
    oauth.add_client("svc-2", Some("post-secret"), "client_secret_post");
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let mut args = service_args(&url, "svc-2");
    args.push("--no-resource");
    let mut bridge = env.bridge_with(&args, &[("MCP_BRIDGE_CLIENT_SECRET", "post-secret")]);
    init_ok(&mut bridge).await;
    let answer = bridge.request(1, "tools/call", echo_params("w")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "w", "{answer}");
    bridge.finish().await;
    let grants = oauth.grants("client_credentials");
    assert_eq!(grants.len(), 2, "one token, then one with more scope");
    for g in &grants {
        assert_eq!(g.outcome, "ok");
        assert_eq!(g.header("authorization"), None);
        assert_eq!(g.param("client_id"), Some("svc-2"));
        assert_eq!(g.param("client_secret"), Some("post-secret"));
        assert_eq!(g.param("resource"), None);
    }
    let scopes: HashSet<&str> = grants[1].param("scope").unwrap().split(' ').collect();
    assert!(
        scopes.contains("mcp:read") && scopes.contains("mcp:write"),
        "{scopes:?}"
    );
    assert!(env.launches().is_empty());
}

/// An authorization server that does not offer the grant, or a wrong secret, is one clear
/// error for the request; no browser is ever opened. Without a secret the options are
/// refused at start (exit 2).
#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_refusals() {
    let script = Script::default().meta(json!({"grant_types_supported": ["authorization_code"]}));
    let (oauth, mcp) = MockOAuth::start(script).await;
    oauth.add_client("svc-3", Some("right"), "client_secret_basic");
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let mut bridge = env.bridge_with(
        &service_args(&url, "svc-3"),
        &[("MCP_BRIDGE_CLIENT_SECRET", "right")],
    );
    let message = init_err(&mut bridge).await;
    assert!(
        message.contains("does not offer the client credentials grant"),
        "{message}"
    );
    bridge.finish().await;

    let (oauth, mcp) = MockOAuth::start(offering(Script::default())).await;
    oauth.add_client("svc-4", Some("right"), "client_secret_basic");
    let url = mcp.url();
    let mut bridge = env.bridge_with(
        &service_args(&url, "svc-4"),
        &[("MCP_BRIDGE_CLIENT_SECRET", "wrong")],
    );
    let message = init_err(&mut bridge).await;
    assert!(message.contains("rejected the client"), "{message}");
    let (_, stderr) = bridge.finish().await;
    assert!(
        !stderr.contains("wrong"),
        "the secret reached the log: {stderr}"
    );
    assert!(env.launches().is_empty());

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-bridge"))
        .args(service_args(&url, "svc-4"))
        .env_remove("MCP_BRIDGE_CLIENT_SECRET")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--client-secret"));
}
