//! DPoP (RFC 9449): where the authorization server offers ES256, tokens are bound to a key
//! the bridge generates; every token request and every request to the MCP server carries a
//! fresh proof by that key (with `ath` at the server, in the `DPoP` scheme), a
//! `use_dpop_nonce` answer at either server is met once with the nonce, and the key is kept
//! with the tokens so a later process and a refresh use the same one. `--no-dpop`, or an
//! authorization server without ES256, means plain bearer tokens.

use super::*;
use crate::support::oauth::Proof;

fn offering_dpop(script: Script) -> Script {
    script.meta(json!({"dpop_signing_alg_values_supported": ["ES256"]}))
}

fn proof_of(seen: &Seen) -> Proof {
    Proof::parse(seen.header("dpop").expect("a DPoP proof")).expect("a well-formed proof")
}

/// A login binds the tokens: the code is redeemed with a proof, met with the server's
/// nonce after `use_dpop_nonce`; MCP requests use the DPoP scheme with proofs by the same
/// key, and the server's nonce after its own `use_dpop_nonce` 401. A second process finds
/// the key with the tokens: its requests and its refresh carry proofs by the same key.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_bound_to_a_kept_key_and_nonces_are_honoured() {
    let script = Script {
        dpop_nonce: Some("nonce-7".into()),
        expires_in: Some(62),
        ..offering_dpop(Script::default())
    };
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let stderr = session(&env, &[&url, "--auth-timeout", "10"]).await;

    let redeems = oauth.grants("authorization_code");
    assert_eq!(
        redeems.len(),
        2,
        "refused for want of a nonce, then redeemed"
    );
    assert_eq!(redeems[0].outcome, "use_dpop_nonce");
    assert_eq!(redeems[1].outcome, "ok");
    let first = proof_of(&redeems[0]);
    let second = proof_of(&redeems[1]);
    assert!(first.claims.get("nonce").is_none());
    assert_eq!(second.claims["nonce"], "nonce-7");
    assert_ne!(first.claims["jti"], second.claims["jti"], "a fresh proof");
    assert_eq!(first.jkt, second.jkt, "one key");
    assert_eq!(second.header["alg"], "ES256");
    assert_eq!(second.claims["htu"], format!("{}/token", oauth.issuer()));
    let jkt = second.jkt.clone();

    let authorized: Vec<_> = mcp
        .requests()
        .into_iter()
        .filter(|r| r.header("authorization").is_some())
        .collect();
    assert!(!authorized.is_empty());
    let mut jtis = HashSet::new();
    for r in &authorized {
        let auth = r.header("authorization").unwrap();
        assert!(auth.starts_with("DPoP at-"), "{auth}");
        let proof = Proof::parse(r.header("dpop").expect("a proof with every request")).unwrap();
        assert_eq!(proof.jkt, jkt, "proofs by the key the token is bound to");
        assert_eq!(proof.claims["htu"], url);
        assert!(
            jtis.insert(proof.claims["jti"].to_string()),
            "a fresh jti each time"
        );
    }
    let nonce_refusals = oauth.mcp_refusals().iter().filter(|s| **s == 401).count();
    assert_eq!(
        nonce_refusals, 2,
        "the unauthenticated first request and one nonce round"
    );
    assert_eq!(env.launches().len(), 1, "one login");

    // The key is kept with the tokens, never in the log or the index.
    let credentials = std::fs::read_to_string(env.config_dir.join("credentials.json")).unwrap();
    let key = credentials
        .split("\"dpop_key\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the key stored with the tokens")
        .to_owned();
    assert!(key.len() > 100, "a PKCS#8 document: {key}");
    assert!(!stderr.contains(&key), "the key is never logged");
    let index = std::fs::read_to_string(env.config_dir.join("index.json")).unwrap();
    assert!(!index.contains(&key), "the index holds no key");
    let (_, status, _) = env.run(&["status", &url]).await;
    assert!(status.contains("DPoP"), "{status}");
    assert!(!status.contains(&key), "{status}");

    // A second process, two seconds on: inside the refresh margin, so it refreshes first
    // (with a proof by the stored key), then calls with the new token, still bound to it.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let before = mcp.requests().len();
    let stderr = session(&env, &[&url, "--auth-timeout", "10"]).await;
    assert!(!stderr.contains(&key));
    let refreshes = oauth.grants("refresh_token");
    assert!(!refreshes.is_empty(), "refreshed ahead of expiry");
    for r in &refreshes {
        assert_eq!(proof_of(r).jkt, jkt, "refreshed with the same key");
    }
    // A new process learns the nonce again (one round), then keeps sending it.
    let mut without_nonce = 0;
    for r in mcp.requests().into_iter().skip(before) {
        let proof = Proof::parse(r.header("dpop").expect("a proof")).unwrap();
        assert_eq!(proof.jkt, jkt);
        if proof.claims.get("nonce").is_none() {
            without_nonce += 1;
        } else {
            assert_eq!(proof.claims["nonce"], "nonce-7", "{:?}", proof.claims);
        }
    }
    assert_eq!(without_nonce, 1, "only the first request lacks the nonce");
    assert_eq!(env.launches().len(), 1, "no second login");
}

/// `--no-dpop`, or an authorization server that offers DPoP only with algorithms the bridge
/// does not sign with: no proofs, bearer tokens. A resource that takes only DPoP-bound
/// tokens from such a server is a clear error before any login.
#[tokio::test(flavor = "multi_thread")]
async fn bearer_tokens_without_dpop() {
    let (oauth, mcp) = MockOAuth::start(offering_dpop(Script::default())).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    session(&env, &[&url, "--auth-timeout", "10", "--no-dpop"]).await;
    let redeem = one(oauth.grants("authorization_code"), "code redemption");
    assert_eq!(redeem.header("dpop"), None);
    assert!(mcp.requests().iter().all(|r| r.header("dpop").is_none()));
    let (_, status, _) = env.run(&["status", &url]).await;
    assert!(!status.contains("DPoP"), "{status}");

    let script = Script::default().meta(json!({"dpop_signing_alg_values_supported": ["RS256"]}));
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    session(&env, &[&url, "--auth-timeout", "10"]).await;
    let redeem = one(oauth.grants("authorization_code"), "code redemption");
    assert_eq!(redeem.header("dpop"), None);
    assert!(
        oauth
            .mcp_authorizations()
            .iter()
            .flatten()
            .all(|a| a.starts_with("Bearer "))
    );

    let script = Script::default()
        .meta(json!({"dpop_signing_alg_values_supported": ["RS256"]}))
        .prm(json!({"dpop_bound_access_tokens_required": true}));
    let (oauth, mcp) = MockOAuth::start(script).await;
    let env = AuthEnv::new(Browse::Follow);
    let url = mcp.url();
    let mut bridge = env.bridge(&[&url, "--auth-timeout", "10"]);
    let message = init_err(&mut bridge).await;
    assert!(message.contains("only DPoP-bound tokens"), "{message}");
    bridge.finish().await;
    assert!(env.launches().is_empty(), "no login that could not be used");
    assert!(oauth.hits("/token").is_empty());
}

/// A service grant is bound too, and over HTTP+SSE the event stream's GET carries a proof
/// for GET.
#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_over_http_sse_are_bound() {
    let config = crate::support::mock::Config {
        legacy_only: true,
        ..Default::default()
    };
    let script = Script {
        prm_at: vec![PrmAt::Root],
        ..offering_dpop(Script::default())
    }
    .meta(json!({
        "grant_types_supported": ["client_credentials"],
        "dpop_signing_alg_values_supported": ["ES256"],
    }));
    let (oauth, mcp) = MockOAuth::start_with(script, config).await;
    let sse = mcp.sse_url();
    oauth.script(|s| {
        s.prm_patch.insert("resource".into(), json!(sse));
    });
    oauth.add_client("svc-dpop", Some("s3cret"), "client_secret_basic");
    let env = AuthEnv::new(Browse::Follow);
    let mut bridge = env.bridge_with(
        &[
            "--sse",
            &sse,
            "--client-credentials",
            "--client-id",
            "svc-dpop",
        ],
        &[("MCP_BRIDGE_CLIENT_SECRET", "s3cret")],
    );
    init_ok(&mut bridge).await;
    let answer = bridge.request(1, "tools/call", echo_params("sse")).await;
    assert_eq!(answer["result"]["content"][0]["text"], "sse", "{answer}");
    bridge.finish().await;
    let grant = one(oauth.grants("client_credentials"), "grant");
    let jkt = proof_of(&grant).jkt;
    let gets: Vec<_> = mcp
        .http(axum::http::Method::GET)
        .into_iter()
        .filter(|r| r.header("authorization").is_some())
        .collect();
    assert!(
        !gets.is_empty(),
        "the event stream was opened with the token"
    );
    for r in &gets {
        let proof = Proof::parse(r.header("dpop").expect("a proof")).unwrap();
        assert_eq!(proof.claims["htm"], "GET");
        assert_eq!(proof.jkt, jkt);
    }
    assert!(env.launches().is_empty());
}
