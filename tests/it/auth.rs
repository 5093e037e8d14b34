//! Authorization end to end: the real binary against an in-process authorization server
//! (`MockOAuth`) and an MCP server that requires its tokens, with a scripted "browser".
//! Each test scripts one behaviour of the servers, good or adversarial, and checks what the
//! bridge sent where, what the host saw, and whether a browser was launched.

use crate::support::oauth::{
    AuthEnv, Browse, Iss, MetaAt, MockOAuth, PrmAt, Script, Seen, Side, Spy, free_port,
    port_is_free, s256,
};
use crate::support::{Bridge, WAIT};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long a test lets the bridge wait for the browser when the browser is not expected
/// to come back.
const SHORT: &str = "2";

fn init_params() -> Value {
    json!({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test-host","version":"1"}})
}

fn echo(id: i64, text: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"echo","arguments":{"text":text}}})
}

/// Initializes and asserts that it worked.
async fn init_ok(bridge: &mut Bridge) {
    let init = bridge.initialize().await;
    assert!(init.get("result").is_some(), "initialize failed: {init}");
}

/// Sends `initialize` and returns the error message the host got for it.
async fn init_err(bridge: &mut Bridge) -> String {
    let answer = bridge.request(0, "initialize", init_params()).await;
    answer["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("initialize should have failed: {answer}"))
        .to_owned()
}

/// Runs one bridge: initialize, one tool call, clean exit; returns its stderr.
async fn session(env: &AuthEnv, args: &[&str]) -> String {
    let mut bridge = env.bridge(args);
    init_ok(&mut bridge).await;
    let answer = bridge.request(1, "tools/call", echo_params("hi")).await;
    assert_eq!(
        answer["result"]["content"][0]["text"], "hi",
        "the tool call failed: {answer}"
    );
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    stderr
}

fn echo_params(text: &str) -> Value {
    json!({"name":"echo","arguments":{"text":text}})
}

/// The one request of this kind.
fn one(seen: Vec<Seen>, what: &str) -> Seen {
    assert_eq!(seen.len(), 1, "expected one {what}, saw {}", seen.len());
    seen.into_iter().next().expect("checked")
}

fn mcp_resource(mcp: &crate::support::mock::MockMcp) -> String {
    mcp.url()
}

// ---------------------------------------------------------------------------------------
// The basic flow and discovery
// ---------------------------------------------------------------------------------------

/// The first request meets a 401; the bridge discovers, registers, logs in through the
/// browser (launched once, with the URL as its only argument), redeems the code and retries;
/// the host gets its answers and no token ever reaches the authorization server.
#[tokio::test(flavor = "multi_thread")]
async fn login_on_401_then_requests_carry_the_token() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let launches = env.launches();
    assert_eq!(launches.len(), 1);
    assert_eq!(
        launches[0].len(),
        1,
        "the URL is one argument: {launches:?}"
    );
    assert!(launches[0][0].starts_with(&format!("{}/authorize?", oauth.origin())));
    let order: Vec<String> = oauth
        .requests()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        order,
        [
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-authorization-server",
            "POST /register",
            "GET /authorize",
            "POST /token",
        ]
    );
    // Everything after the login carried the issued token.
    let auths = oauth.mcp_authorizations();
    assert_eq!(auths[0], None, "the first request had no token");
    assert!(
        auths[1..]
            .iter()
            .all(|a| a.as_deref() == Some("Bearer at-3")),
        "{auths:?}"
    );
    oauth.assert_no_token_leak();
}

/// PRM found through the `resource_metadata` URL of the challenge; the well-known URLs on
/// the server are not tried at all.
#[tokio::test(flavor = "multi_thread")]
async fn prm_from_the_challenge_url() {
    let script = Script {
        prm_at: vec![PrmAt::Header],
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let gets = oauth.gets();
    assert_eq!(gets[0], (Side::As, "/meta/custom-prm.json".to_owned()));
    assert!(
        gets.iter().all(|(side, _)| *side == Side::As),
        "no well-known PRM lookup on the server: {gets:?}"
    );
}

/// PRM at the path-aware well-known URL; the root URL is not tried.
#[tokio::test(flavor = "multi_thread")]
async fn prm_at_the_path_aware_url() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let mcp_side: Vec<String> = oauth
        .gets()
        .into_iter()
        .filter(|(s, _)| *s == Side::Mcp)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(mcp_side, ["/.well-known/oauth-protected-resource/mcp"]);
}

/// PRM only at the root well-known URL: found after the path-aware URL's 404.
#[tokio::test(flavor = "multi_thread")]
async fn prm_at_the_root_url() {
    let script = Script {
        prm_at: vec![PrmAt::Root],
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let mcp_side: Vec<String> = oauth
        .gets()
        .into_iter()
        .filter(|(s, _)| *s == Side::Mcp)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        mcp_side,
        [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource"
        ]
    );
}

/// An issuer with a path: RFC 8414 path-inserted URL first, then OpenID Connect inserted,
/// then OpenID Connect appended, in the specification's order; the issuer then matches.
#[tokio::test(flavor = "multi_thread")]
async fn issuer_with_a_path_tries_the_metadata_urls_in_order() {
    let script = Script {
        issuer_path: "/tenant1".into(),
        metadata_at: vec![MetaAt::OidcAppended],
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let as_side: Vec<String> = oauth
        .gets()
        .into_iter()
        .filter(|(s, p)| *s == Side::As && p.contains(".well-known"))
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        as_side,
        [
            "/.well-known/oauth-authorization-server/tenant1",
            "/.well-known/openid-configuration/tenant1",
            "/tenant1/.well-known/openid-configuration",
        ]
    );
    assert!(oauth.issuer().ends_with("/tenant1"));
    assert_eq!(one(oauth.hits("/token"), "token").outcome, "ok");
}

/// An issuer without a path that only publishes OpenID Connect discovery: found at the
/// second URL.
#[tokio::test(flavor = "multi_thread")]
async fn issuer_without_a_path_falls_back_to_openid_configuration() {
    let script = Script {
        metadata_at: vec![MetaAt::OidcInserted],
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let as_side: Vec<String> = oauth
        .gets()
        .into_iter()
        .filter(|(s, p)| *s == Side::As && p.contains(".well-known"))
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        as_side,
        [
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration"
        ]
    );
}

/// A server without PRM (2025-03-26): the authorization server is the server's origin and
/// its metadata there names the endpoints used.
#[tokio::test(flavor = "multi_thread")]
async fn no_prm_uses_metadata_at_the_server_origin() {
    let script = Script {
        cohost: true,
        prm_at: vec![],
        endpoint_prefix: "/oauth2".into(),
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let paths: Vec<String> = oauth
        .requests()
        .iter()
        .map(|s| format!("{:?} {} {}", s.side, s.method, s.path))
        .collect();
    assert_eq!(
        paths,
        [
            "Mcp GET /.well-known/oauth-protected-resource/mcp",
            "Mcp GET /.well-known/oauth-protected-resource",
            "Mcp GET /.well-known/oauth-authorization-server",
            "Mcp POST /oauth2/register",
            "Mcp GET /oauth2/authorize",
            "Mcp POST /oauth2/token",
        ]
    );
    let token = one(oauth.hits("/token"), "token request");
    assert_eq!(token.param("resource"), Some(mcp_resource(&mcp).as_str()));
}

/// A server without PRM or metadata: the default /authorize, /token and /register at the
/// server's origin.
#[tokio::test(flavor = "multi_thread")]
async fn no_prm_no_metadata_uses_the_default_endpoints() {
    let script = Script {
        cohost: true,
        prm_at: vec![],
        metadata_at: vec![],
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &[&mcp.url(), "--auth-timeout", "10"]).await;
    let used: Vec<String> = oauth
        .requests()
        .iter()
        .filter(|s| s.outcome != "404")
        .map(|s| format!("{:?} {} {}", s.side, s.method, s.path))
        .collect();
    assert_eq!(
        used,
        [
            "Mcp POST /register",
            "Mcp GET /authorize",
            "Mcp POST /token"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Client identity
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// PKCE, state, iss, resource
// ---------------------------------------------------------------------------------------

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

/// An authorization response with another `state` is refused and its code never redeemed.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_state_is_refused() {
    let script = Script {
        wrong_state: true,
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
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

// ---------------------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------------------

/// Logs in once with `script` and `extra` arguments; returns the authorization request.
async fn authorize_request(script: Script, extra: &[&str]) -> Seen {
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let mut args = vec![url.as_str(), "--auth-timeout", "10"];
    args.extend_from_slice(extra);
    session(&env, &args).await;
    one(oauth.hits("/authorize"), "authorize")
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

// ---------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Step-up
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Exactly one answer
// ---------------------------------------------------------------------------------------

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
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", "10"]);
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

// ---------------------------------------------------------------------------------------
// Adversarial servers
// ---------------------------------------------------------------------------------------

/// Starts a bridge against a server whose script is `script`; returns the error the host
/// got for `initialize`, the stderr, the browser launches and the mock.
async fn refused(script: Script) -> (String, String, Vec<Vec<String>>, MockOAuth) {
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge(&[&mcp.url(), "--auth-timeout", SHORT]);
    let message = init_err(&mut bridge).await;
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    (message, stderr, env.launches(), oauth)
}

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

// ---------------------------------------------------------------------------------------
// Subcommands
// ---------------------------------------------------------------------------------------

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

/// `logout --all` forgets the credentials of every server.
#[tokio::test(flavor = "multi_thread")]
async fn logout_all() {
    let (oauth1, mcp1) = MockOAuth::start(Script::default()).await;
    let (oauth2, mcp2) = MockOAuth::start(Script::default()).await;
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
    assert_eq!(oauth2.hits("/revoke").len(), 2);
}

// ---------------------------------------------------------------------------------------
// Processes, ports, shutdown
// ---------------------------------------------------------------------------------------

/// Authorization works the same over the legacy HTTP+SSE transport: the GET of the event
/// stream meets the 401, and the POSTs carry the token.
#[tokio::test(flavor = "multi_thread")]
async fn login_over_legacy_sse() {
    let config = crate::support::mock::Config {
        legacy_only: true,
        ..Default::default()
    };
    let script = Script {
        prm_at: vec![PrmAt::Root],
        ..Script::default()
    };
    let (oauth, mcp) = MockOAuth::start_with(script, config).await;
    let sse = mcp.sse_url();
    oauth.script(|s| {
        s.prm_patch.insert("resource".into(), json!(sse));
    });
    let env = AuthEnv::new(Browse::Follow);
    session(&env, &["--sse", &sse, "--auth-timeout", "10"]).await;
    assert_eq!(env.launches().len(), 1);
    let token = one(oauth.hits("/token"), "token");
    assert_eq!(token.param("resource"), Some(sse.as_str()));
    let auths = oauth.mcp_authorizations();
    assert_eq!(auths[0], None);
    assert!(
        auths[1..]
            .iter()
            .all(|a| a.as_deref() == Some("Bearer at-3")),
        "{auths:?}"
    );
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
