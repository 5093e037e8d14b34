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

mod adversarial;
mod client;
mod device;
mod discovery;
mod dpop;
mod flow;
mod grants;
mod processes;
mod renewal;
mod service;
mod workload;
