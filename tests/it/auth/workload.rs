//! Services whose credential is a token someone else issues: a workload's identity token
//! (`--jwt-bearer-file`, the RFC 7523 JWT-bearer grant) and an enterprise ID token
//! (`--id-token-file`: RFC 8693 token exchange at the identity provider for an ID-JAG, then
//! the JWT-bearer grant). The files are read again for every token request; a token the
//! authorization server refused is never presented again, and no other grant is tried.

use super::*;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

fn offering_jwt_bearer(script: Script) -> Script {
    script.meta(json!({"grant_types_supported": [JWT_BEARER]}))
}

/// Every grant other than the JWT-bearer one, and the browser: none must ever be used.
fn assert_no_other_grant(oauth: &MockOAuth, env: &AuthEnv) {
    for grant in ["authorization_code", "client_credentials", "refresh_token"] {
        assert!(oauth.grants(grant).is_empty(), "no {grant} grant");
    }
    assert!(oauth.hits("/register").is_empty(), "no registration");
    assert!(oauth.hits("/authorize").is_empty(), "no authorization");
    assert!(env.launches().is_empty(), "no browser");
}

/// The workload token is read from the file for each token request (platforms rotate it);
/// a refused one fails the requests that need a token with one clear error and is not sent
/// again; a new token in the file is used at the next request.
#[tokio::test(flavor = "multi_thread")]
async fn jwt_bearer_rereads_the_file_and_never_resends_a_refused_token() {
    let (oauth, mcp) = MockOAuth::start(offering_jwt_bearer(Script::default())).await;
    oauth.add_client("workload-1", None, "none");
    let env = AuthEnv::new(Browse::Follow);
    let file = env.path("workload.jwt");
    std::fs::write(&file, "wif-ok-first\n").unwrap();
    let url = mcp.url();
    let file_arg = file.to_str().unwrap();
    let mut bridge = env.bridge(&[
        &url,
        "--jwt-bearer-file",
        file_arg,
        "--client-id",
        "workload-1",
    ]);
    init_ok(&mut bridge).await;
    let first = one(oauth.grants(JWT_BEARER), "JWT-bearer grant");
    assert_eq!(first.outcome, "ok");
    assert_eq!(first.param("assertion"), Some("wif-ok-first"));
    assert_eq!(first.param("client_id"), Some("workload-1"));
    assert_eq!(first.param("client_secret"), None);
    assert_eq!(first.header("authorization"), None);
    assert_eq!(first.param("resource"), Some(mcp_resource(&mcp).as_str()));

    // The platform rotated the file; the server stops accepting the access token.
    std::fs::write(&file, "wif-ok-second").unwrap();
    oauth.invalidate_access();
    let answer = bridge.request(1, "tools/call", echo_params("a")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "a", "{answer}");
    let grants = oauth.grants(JWT_BEARER);
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[1].param("assertion"), Some("wif-ok-second"));

    // A token the authorization server refuses: one token request, then none while the
    // file holds the same token.
    std::fs::write(&file, "wif-revoked").unwrap();
    oauth.invalidate_access();
    for id in 2..5 {
        let answer = bridge.request(id, "tools/call", echo_params("b")).await;
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("will not be sent again"), "{answer}");
        assert!(
            !message.contains("wif-revoked"),
            "the token is never shown: {message}"
        );
    }
    let grants = oauth.grants(JWT_BEARER);
    assert_eq!(grants.len(), 3, "the refused token was presented once");
    assert_eq!(grants[2].outcome, "invalid_grant (assertion)");

    // A new token in the file: the next request uses it.
    std::fs::write(&file, "wif-ok-third").unwrap();
    let answer = bridge.request(9, "tools/call", echo_params("c")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "c", "{answer}");
    assert_eq!(oauth.grants(JWT_BEARER).len(), 4);
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    let reported = stderr
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("was refused"))
        .count();
    assert_eq!(reported, 1, "the refusal is reported once: {stderr}");
    for secret in [
        "wif-ok-first",
        "wif-ok-second",
        "wif-revoked",
        "wif-ok-third",
    ] {
        assert!(!stderr.contains(secret), "{secret} logged: {stderr}");
    }
    assert_no_other_grant(&oauth, &env);

    let (code, stdout, _) = env.run(&["status", &url]).await;
    assert_eq!(code, 0);
    assert!(stdout.contains("JWT bearer"), "{stdout}");
    assert!(!stdout.contains("wif-ok"), "{stdout}");
}

/// With no client id the grant carries no client authentication at all; a file that cannot
/// be read, or holds no token, is a clear error that names the file and not its content;
/// an authorization server that does not offer the grant is refused before any request.
#[tokio::test(flavor = "multi_thread")]
async fn jwt_bearer_without_a_client_and_its_refusals() {
    let (oauth, mcp) = MockOAuth::start(offering_jwt_bearer(Script::default())).await;
    let env = AuthEnv::new(Browse::Follow);
    let file = env.path("token");
    std::fs::write(&file, "wif-ok-anonymous").unwrap();
    let url = mcp.url();
    let file_arg = file.to_str().unwrap().to_owned();
    session(&env, &[&url, "--jwt-bearer-file", &file_arg]).await;
    let grant = one(oauth.grants(JWT_BEARER), "JWT-bearer grant");
    assert_eq!(grant.outcome, "ok");
    assert_eq!(grant.param("client_id"), None);
    assert_eq!(grant.header("authorization"), None);

    let missing = env.path("missing.jwt");
    let mut bridge = env.bridge(&[
        &url,
        "--store",
        "memory",
        "--jwt-bearer-file",
        missing.to_str().unwrap(),
    ]);
    let message = init_err(&mut bridge).await;
    assert!(
        message.contains("could not read the workload identity token file"),
        "{message}"
    );
    assert!(message.contains("missing.jwt"), "{message}");
    bridge.finish().await;

    std::fs::write(&file, "two words\n").unwrap();
    let mut bridge = env.bridge(&[&url, "--store", "memory", "--jwt-bearer-file", &file_arg]);
    let message = init_err(&mut bridge).await;
    assert!(message.contains("holds no token"), "{message}");
    assert!(!message.contains("two words"), "{message}");
    bridge.finish().await;
    assert_eq!(oauth.grants(JWT_BEARER).len(), 1, "no request for either");

    let (oauth, mcp) = MockOAuth::start(
        Script::default().meta(json!({"grant_types_supported": ["client_credentials"]})),
    )
    .await;
    std::fs::write(&file, "wif-ok").unwrap();
    let url = mcp.url();
    let mut bridge = env.bridge(&[&url, "--store", "memory", "--jwt-bearer-file", &file_arg]);
    let message = init_err(&mut bridge).await;
    assert!(
        message.contains("does not offer the JWT-bearer grant"),
        "{message}"
    );
    bridge.finish().await;
    assert!(oauth.hits("/token").is_empty());
    assert_no_other_grant(&oauth, &env);
}

/// Over HTTP+SSE too: the JWT-bearer token authorizes the event stream and its POSTs.
#[tokio::test(flavor = "multi_thread")]
async fn jwt_bearer_over_http_sse() {
    let config = crate::support::mock::Config {
        legacy_only: true,
        ..Default::default()
    };
    let script = Script {
        prm_at: vec![PrmAt::Root],
        ..offering_jwt_bearer(Script::default())
    };
    let (oauth, mcp) = MockOAuth::start_with(script, config).await;
    let sse = mcp.sse_url();
    oauth.script(|s| {
        s.prm_patch.insert("resource".into(), json!(sse));
    });
    let env = AuthEnv::new(Browse::Follow);
    let file = env.path("workload.jwt");
    std::fs::write(&file, "wif-ok-sse").unwrap();
    let stderr = session(
        &env,
        &["--sse", &sse, "--jwt-bearer-file", file.to_str().unwrap()],
    )
    .await;
    assert!(!stderr.contains("wif-ok-sse"), "{stderr}");
    assert_eq!(one(oauth.grants(JWT_BEARER), "grant").outcome, "ok");
    assert_no_other_grant(&oauth, &env);
}

/// Enterprise-managed authorization: the ID token is exchanged at the identity provider
/// (its client authenticated, the ID-JAG asked for the MCP authorization server's issuer
/// and the resource), then the ID-JAG is presented with the JWT-bearer grant by the MCP
/// client with its secret. A 2026-07-28 host's request takes the same way.
#[tokio::test(flavor = "multi_thread")]
async fn enterprise_exchanges_the_id_token_for_an_id_jag() {
    let script = Script {
        challenge_scope: Some("mcp:tools".into()),
        ..offering_jwt_bearer(Script::default())
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    // One mock plays both parts: its token endpoint is also the identity provider's.
    let (idp, _idp_mcp) = MockOAuth::start(Script::default()).await;
    idp.add_client("idp-client", Some("idp-secret"), "client_secret_basic");
    oauth.add_client("xaa-client", Some("xaa-secret"), "client_secret_basic");
    let env = AuthEnv::new(Browse::Follow);
    let id_token = env.path("id-token.jwt");
    std::fs::write(&id_token, "idt-ok-alice").unwrap();
    let url = mcp.url();
    let idp_token = format!("{}/token", idp.issuer());
    let args = [
        url.as_str(),
        "--id-token-file",
        id_token.to_str().unwrap(),
        "--idp-token-endpoint",
        &idp_token,
        "--idp-client-id",
        "idp-client",
        "--client-id",
        "xaa-client",
    ];
    let mut bridge = env.bridge_with(
        &args,
        &[
            ("MCP_BRIDGE_CLIENT_SECRET", "xaa-secret"),
            ("MCP_BRIDGE_IDP_CLIENT_SECRET", "idp-secret"),
        ],
    );
    let call = json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "modern"}, "_meta": crate::modern::modern_meta()},
    });
    bridge.send(call).await;
    let (answer, _) = bridge.recv_answer(json!(7)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "modern", "{answer}");
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");

    let exchange = one(idp.grants(TOKEN_EXCHANGE), "token exchange");
    assert_eq!(exchange.outcome, "ok");
    assert!(
        exchange
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(exchange.param("subject_token"), Some("idt-ok-alice"));
    assert_eq!(
        exchange.param("subject_token_type"),
        Some("urn:ietf:params:oauth:token-type:id_token")
    );
    assert_eq!(
        exchange.param("requested_token_type"),
        Some("urn:ietf:params:oauth:token-type:id-jag")
    );
    assert_eq!(exchange.param("audience"), Some(oauth.issuer().as_str()));
    assert_eq!(
        exchange.param("resource"),
        Some(mcp_resource(&mcp).as_str())
    );
    assert_eq!(exchange.param("scope"), Some("mcp:tools"));

    let grant = one(oauth.grants(JWT_BEARER), "JWT-bearer grant");
    assert_eq!(grant.outcome, "ok");
    assert_eq!(
        grant.param("assertion"),
        Some(format!("jag-for:{}", oauth.issuer()).as_str())
    );
    assert!(grant.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(grant.param("client_secret"), None);
    for secret in ["idt-ok-alice", "jag-for", "xaa-secret", "idp-secret"] {
        assert!(!stderr.contains(secret), "{secret} logged: {stderr}");
    }
    assert_no_other_grant(&oauth, &env);

    let (_, stdout, _) = env.run(&["status", &url]).await;
    assert!(stdout.contains("enterprise"), "{stdout}");
}

/// An ID token the identity provider refuses is reported once and not exchanged again; the
/// MCP authorization server is never asked.
#[tokio::test(flavor = "multi_thread")]
async fn enterprise_refused_id_token_is_not_exchanged_again() {
    let (oauth, mcp) = MockOAuth::start(offering_jwt_bearer(Script::default())).await;
    let (idp, _idp_mcp) = MockOAuth::start(Script::default()).await;
    idp.add_client("idp-client", None, "none");
    let env = AuthEnv::new(Browse::Follow);
    let id_token = env.path("id-token.jwt");
    std::fs::write(&id_token, "idt-expired").unwrap();
    let url = mcp.url();
    let mut bridge = env.bridge(&[
        &url,
        "--id-token-file",
        id_token.to_str().unwrap(),
        "--idp-issuer",
        &idp.issuer(),
        "--idp-client-id",
        "idp-client",
    ]);
    let message = init_err(&mut bridge).await;
    assert!(message.contains("will not be sent again"), "{message}");
    assert!(message.contains("identity provider"), "{message}");
    let answer = bridge.request(1, "tools/call", echo_params("x")).await;
    assert!(answer["error"].is_object(), "{answer}");
    bridge.finish().await;
    let exchanges = idp.grants(TOKEN_EXCHANGE);
    assert_eq!(exchanges.len(), 1, "exchanged once");
    assert_eq!(exchanges[0].param("client_id"), Some("idp-client"));
    assert!(oauth.hits("/token").is_empty());
    assert_no_other_grant(&oauth, &env);
}
