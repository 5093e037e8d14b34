//! The basic flow and discovery: where the bridge looks for the protected resource metadata and
//! the authorization server metadata, in which order, and the 2025-03-26 fallback.

use super::*;

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
    let metadata = &oauth.hits("/.well-known/oauth-authorization-server")[0];
    assert!(
        metadata.header("mcp-protocol-version").is_some(),
        "discovery sends MCP-Protocol-Version"
    );
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
