//! Every grant for a person without a local browser or for no person at all, from both
//! kinds of host and over both transports: an `initialize`-era host and a 2026-07-28 host,
//! each on a Streamable HTTP server and on an HTTP+SSE server. Each run authorizes with its
//! grant alone (no browser, no authorization request) and the host's tool call goes through.

use super::*;
use crate::modern::modern_request;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Clone, Copy, Debug)]
enum Grant {
    ClientCredentials,
    JwtBearer,
    Enterprise,
    DeviceCode,
}

#[derive(Clone, Copy, Debug)]
enum Host {
    Legacy,
    Modern,
}

/// One run: `grant` from `host` over Streamable HTTP or (with `sse`) HTTP+SSE.
async fn run(grant: Grant, host: Host, sse: bool) {
    let config = crate::support::mock::Config {
        legacy_only: sse,
        ..Default::default()
    };
    let script = Script {
        prm_at: if sse {
            vec![PrmAt::Root]
        } else {
            vec![PrmAt::PathAware]
        },
        ..Script::default()
    }
    .meta(json!({"grant_types_supported": [
        "authorization_code", "refresh_token", "client_credentials", JWT_BEARER, DEVICE_CODE,
    ]}));
    let (oauth, mcp) = MockOAuth::start_with(script, config).await;
    let (idp, _idp_mcp) = MockOAuth::start(Script::default()).await;
    let url = if sse { mcp.sse_url() } else { mcp.url() };
    if sse {
        let resource = url.clone();
        oauth.script(|s| {
            s.prm_patch.insert("resource".into(), json!(resource));
        });
    }
    let env = AuthEnv::new(Browse::Follow);
    let token_file = env.path("token.jwt");
    let idp_token = format!("{}/token", idp.issuer());
    let device = format!("{}/device", oauth.issuer());
    let mut args: Vec<String> = Vec::new();
    if sse {
        args.push("--sse".into());
    }
    args.extend([url.clone(), "--store".into(), "memory".into()]);
    let mut vars: Vec<(&str, &str)> = Vec::new();
    let grant_type = match grant {
        Grant::ClientCredentials => {
            oauth.add_client("svc", Some("svc-secret"), "client_secret_basic");
            args.extend(["--client-credentials", "--client-id", "svc"].map(String::from));
            vars.push(("MCP_BRIDGE_CLIENT_SECRET", "svc-secret"));
            "client_credentials"
        }
        Grant::JwtBearer => {
            std::fs::write(&token_file, "wif-ok-matrix").unwrap();
            let file = token_file.to_str().unwrap().to_owned();
            args.extend(["--jwt-bearer-file".into(), file]);
            JWT_BEARER
        }
        Grant::Enterprise => {
            std::fs::write(&token_file, "idt-ok-matrix").unwrap();
            idp.add_client("idp-client", None, "none");
            oauth.add_client("xaa", Some("xaa-secret"), "client_secret_basic");
            let file = token_file.to_str().unwrap().to_owned();
            args.extend([
                "--id-token-file".into(),
                file,
                "--idp-token-endpoint".into(),
                idp_token.clone(),
                "--idp-client-id".into(),
                "idp-client".into(),
                "--client-id".into(),
                "xaa".into(),
            ]);
            vars.push(("MCP_BRIDGE_CLIENT_SECRET", "xaa-secret"));
            JWT_BEARER
        }
        Grant::DeviceCode => {
            oauth.script(|s| {
                s.metadata_patch
                    .insert("device_authorization_endpoint".into(), json!(device));
            });
            oauth.add_client("tv", None, "none");
            args.extend(["--device-code", "--client-id", "tv"].map(String::from));
            DEVICE_CODE
        }
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut bridge = env.bridge_with(&args, &vars);
    let host_side = async {
        let answer = match host {
            Host::Legacy => {
                let init = bridge.initialize().await;
                assert!(
                    init.get("result").is_some(),
                    "{grant:?}/{host:?}/sse={sse}: {init}"
                );
                bridge.request(1, "tools/call", echo_params("matrix")).await
            }
            Host::Modern => {
                let call = modern_request(1, "tools/call", echo_params("matrix"));
                bridge.send(call).await;
                bridge.recv_answer(json!(1)).await.0
            }
        };
        assert_eq!(
            answer["result"]["content"][0]["text"], "matrix",
            "{grant:?}/{host:?}/sse={sse}: {answer}"
        );
    };
    // The person at the other device, for the device grant.
    let approver = async {
        if !matches!(grant, Grant::DeviceCode) {
            return;
        }
        let deadline = Instant::now() + WAIT;
        while oauth.hits("/device").is_empty() {
            assert!(Instant::now() < deadline, "no device authorization request");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        oauth.decide_devices(true);
    };
    tokio::join!(host_side, approver);
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{grant:?}/{host:?}/sse={sse}: {stderr}");
    let issued = oauth.grants(grant_type);
    assert_eq!(
        issued.last().map(|g| g.outcome.as_str()),
        Some("ok"),
        "{grant:?}/{host:?}/sse={sse}"
    );
    assert!(env.launches().is_empty(), "no browser");
    assert!(
        oauth.hits("/authorize").is_empty(),
        "no authorization request"
    );
    for secret in ["svc-secret", "xaa-secret", "wif-ok-matrix", "idt-ok-matrix"] {
        assert!(!stderr.contains(secret), "{secret} logged");
    }
}

async fn every_way(grant: Grant) {
    for host in [Host::Legacy, Host::Modern] {
        for sse in [false, true] {
            run(grant, host, sse).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_from_both_hosts_over_both_transports() {
    every_way(Grant::ClientCredentials).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_bearer_from_both_hosts_over_both_transports() {
    every_way(Grant::JwtBearer).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn enterprise_from_both_hosts_over_both_transports() {
    every_way(Grant::Enterprise).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_from_both_hosts_over_both_transports() {
    every_way(Grant::DeviceCode).await;
}
