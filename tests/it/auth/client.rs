//! Client identity: pre-registered clients (Basic or post), static client info, Client ID
//! Metadata Documents, Dynamic Client Registration and its cache.

use super::*;

/// A pre-registered client with a secret authenticates with HTTP Basic when the metadata
/// does not say otherwise; nothing is registered and the secret is not in the body.
#[tokio::test(flavor = "multi_thread")]
async fn pre_registered_client_uses_basic() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    oauth.add_client("pre-1", Some("s3cr:et"), "client_secret_basic");
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge_with(
        &[&mcp.url(), "--client-id", "pre-1", "--auth-timeout", "10"],
        &[("MCP_BRIDGE_CLIENT_SECRET", "s3cr:et")],
    );
    init_ok(&mut bridge).await;
    bridge.finish().await;
    assert!(oauth.hits("/register").is_empty());
    assert_eq!(
        one(oauth.hits("/authorize"), "authorize").param("client_id"),
        Some("pre-1")
    );
    let token = one(oauth.hits("/token"), "token request");
    assert_eq!(token.outcome, "ok");
    assert!(token.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(token.param("client_secret"), None);
    let launches = env.launches();
    assert!(
        !launches[0][0].contains("s3cr"),
        "the secret is in the browser's argv"
    );
}

/// A pre-registered client at a server that only takes client_secret_post sends the secret
/// in the body and no Authorization header.
#[tokio::test(flavor = "multi_thread")]
async fn pre_registered_client_uses_post_when_only_post_is_offered() {
    let script = Script::default()
        .meta(json!({"token_endpoint_auth_methods_supported": ["client_secret_post"]}));
    let (oauth, mcp) = MockOAuth::start(script).await;
    oauth.add_client("pre-2", Some("s3cret"), "client_secret_post");
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge_with(
        &[&mcp.url(), "--client-id", "pre-2", "--auth-timeout", "10"],
        &[("MCP_BRIDGE_CLIENT_SECRET", "s3cret")],
    );
    init_ok(&mut bridge).await;
    bridge.finish().await;
    let token = one(oauth.hits("/token"), "token request");
    assert_eq!(token.outcome, "ok");
    assert_eq!(token.header("authorization"), None);
    assert_eq!(token.param("client_id"), Some("pre-2"));
    assert_eq!(token.param("client_secret"), Some("s3cret"));
}

/// mcp-remote's `--static-oauth-client-info` is a pre-registered client, auth method
/// included.
#[tokio::test(flavor = "multi_thread")]
async fn static_oauth_client_info() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    oauth.add_client("static-1", Some("xyz"), "client_secret_post");
    let env = AuthEnv::new(Browse::Follow);
    let info = r#"{"client_id":"static-1","client_secret":"xyz","token_endpoint_auth_method":"client_secret_post"}"#;
    let mut bridge = env.bridge(&[
        &mcp.url(),
        "--static-oauth-client-info",
        info,
        "--auth-timeout",
        "10",
    ]);
    init_ok(&mut bridge).await;
    bridge.finish().await;
    assert!(oauth.hits("/register").is_empty());
    let token = one(oauth.hits("/token"), "token request");
    assert_eq!(token.outcome, "ok");
    assert_eq!(token.param("client_secret"), Some("xyz"));
}

/// A Client ID Metadata Document URL is the client id where the server supports them:
/// no registration, a public client at the token endpoint.
#[tokio::test(flavor = "multi_thread")]
async fn client_id_metadata_document() {
    let script = Script::default().meta(json!({"client_id_metadata_document_supported": true}));
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let doc = "https://client.example/mcp-bridge.json";
    let mut bridge = env.bridge(&[
        &mcp.url(),
        "--client-metadata-url",
        doc,
        "--auth-timeout",
        "10",
    ]);
    init_ok(&mut bridge).await;
    bridge.finish().await;
    assert!(oauth.hits("/register").is_empty());
    assert_eq!(
        one(oauth.hits("/authorize"), "authorize").param("client_id"),
        Some(doc)
    );
    let token = one(oauth.hits("/token"), "token request");
    assert_eq!(token.outcome, "ok");
    assert_eq!(token.param("client_id"), Some(doc));
    assert_eq!(token.header("authorization"), None);
}

/// Dynamic registration asks for a native public client with the refresh grant and the
/// loopback redirect URI actually used; the next run reuses the cached registration.
#[tokio::test(flavor = "multi_thread")]
async fn dynamic_registration_is_native_and_cached() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let port = free_port().to_string();
    let args = [&mcp.url(), "--callback-port", &port, "--auth-timeout", "10"];
    session(&env, &args).await;
    let register = one(oauth.hits("/register"), "registration").json();
    let authorize = one(oauth.hits("/authorize"), "authorize");
    assert_eq!(register["application_type"], "native");
    assert_eq!(register["token_endpoint_auth_method"], "none");
    let grants: Vec<&str> = register["grant_types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(grants.contains(&"authorization_code") && grants.contains(&"refresh_token"));
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
    assert_eq!(register["redirect_uris"], json!([redirect]));
    assert_eq!(authorize.param("redirect_uri"), Some(redirect.as_str()));

    // The server forgets the tokens; the next run logs in again with the same client.
    oauth.invalidate_all();
    session(&env, &args).await;
    assert_eq!(
        oauth.hits("/register").len(),
        1,
        "the registration was reused"
    );
    let authorizes = oauth.hits("/authorize");
    assert_eq!(authorizes.len(), 2);
    assert_eq!(
        authorizes[1].param("client_id"),
        authorize.param("client_id")
    );
    assert_eq!(env.launches().len(), 2);
}

/// A cached registration the server no longer knows (invalid_client at the token endpoint)
/// is dropped and registration is redone, once.
#[tokio::test(flavor = "multi_thread")]
async fn rejected_registration_is_redone_once() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    let port = free_port().to_string();
    let args = [&mcp.url(), "--callback-port", &port, "--auth-timeout", "10"];
    session(&env, &args).await;
    oauth.forget_clients();
    oauth.invalidate_all();
    session(&env, &args).await;
    let registers = oauth.hits("/register");
    assert_eq!(registers.len(), 2);
    let codes = oauth.grants("authorization_code");
    let outcomes: Vec<&str> = codes.iter().map(|s| s.outcome.as_str()).collect();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(outcomes[1].starts_with("invalid_client"), "{outcomes:?}");
    assert_eq!(outcomes[2], "ok");
    assert_eq!(codes[2].param("client_id"), Some("dcr-5"), "the new client");
    assert_eq!(env.launches().len(), 3);
}

/// A server that rejects every client: the fresh registration is tried once more, then the
/// login fails with the server's reason (no endless re-registration).
#[tokio::test(flavor = "multi_thread")]
async fn rejected_registration_is_redone_only_once() {
    let script = Script {
        reject_clients: true,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
    let message = init_err(&mut bridge).await;
    assert!(message.contains("invalid_client"), "{message}");
    bridge.finish().await;
    assert_eq!(oauth.hits("/register").len(), 2);
    assert_eq!(oauth.hits("/token").len(), 2);
    assert_eq!(env.launches().len(), 2);
}

/// The registration's `scope` holds only scopes the authorization server lists (the
/// resource's own scopes often are not among them, and some servers refuse them there);
/// a server that refuses the scope anyway gets a registration without one. The authorization
/// request asks for every scope either way.
#[tokio::test(flavor = "multi_thread")]
async fn registration_scope_is_what_the_server_knows() {
    let script = Script {
        challenge_scope: Some("mcp:tools".into()),
        ..Script::default()
    }
    .meta(json!({"scopes_supported": ["openid", "offline_access"]}));
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    session(&env, &[&url, "--auth-timeout", "10"]).await;
    let registration = one(oauth.hits("/register"), "registration").json();
    assert_eq!(registration["scope"], "offline_access", "{registration}");
    let authorize = one(oauth.hits("/authorize"), "authorization request");
    let asked: HashSet<&str> = authorize.param("scope").unwrap().split(' ').collect();
    assert!(
        asked.contains("mcp:tools") && asked.contains("offline_access"),
        "{asked:?}"
    );

    let script = Script {
        challenge_scope: Some("mcp:tools".into()),
        register_refuses_scope: true,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    session(&env, &[&url, "--auth-timeout", "10"]).await;
    let tries = oauth.hits("/register");
    assert_eq!(tries.len(), 2, "refused with a scope, registered without");
    assert_eq!(tries[0].outcome, "invalid_client_metadata (scope)");
    assert!(tries[1].json().get("scope").is_none());
    assert_eq!(oauth.grants("authorization_code").len(), 1);
}
