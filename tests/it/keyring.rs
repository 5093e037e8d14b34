//! The credential store through the binary: what the user is told when there is no OS
//! keyring, and `status`/`logout` against a real Secret Service (scripts/test.sh runs the
//! `keyring_*` tests inside a throwaway gnome-keyring; elsewhere they skip loudly).
//!
//! Linux only: on macOS and Windows the OS keyring is always there, and these tests must
//! never touch a developer's own.
#![cfg(target_os = "linux")]

use crate::support::run_once;
use std::path::Path;
use std::process::{Command, Stdio};

/// Set to 1 to run the `keyring_*` tests against the Secret Service of the session bus.
const TEST_KEYRING: &str = "MCP_BRIDGE_TEST_KEYRING";

const ACCESS: &str = "access-SECRET-e2e-51d0";
const REFRESH: &str = "refresh-SECRET-e2e-8a3f";

/// Without a usable OS keyring (here: no session bus), `status` (read-only) lists what the
/// index holds without a word about the keyring; `--store keyring` fails and says why.
#[test]
fn status_is_quiet_without_a_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let no_bus = format!("unix:path={}", dir.path().join("no-bus").display());
    let envs = [
        ("MCP_BRIDGE_CONFIG_DIR", config.to_str().unwrap()),
        ("DBUS_SESSION_BUS_ADDRESS", no_bus.as_str()),
    ];

    let (code, stdout, stderr) = run_once(&["status"], &envs, "");
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(stdout, "no stored credentials\n");
    assert!(
        !stderr.contains("keyring"),
        "a read-only command warned: {stderr}"
    );

    let (code, _, stderr) = run_once(&["status", "--store", "keyring"], &envs, "");
    assert_ne!(code, 0);
    assert!(stderr.contains("no usable OS keyring"), "stderr: {stderr}");
}

/// With a real Secret Service: `status` lists a keyring item from the index without its
/// secrets, and `logout --all` removes the item from the OS keyring itself (checked with
/// libsecret's own `secret-tool`, which sees the entry as service `mcp-bridge`, user = key);
/// the keyring probe leaves no entry of its own behind.
#[test]
fn keyring_logout_clears_the_os_keyring() {
    if std::env::var(TEST_KEYRING).as_deref() != Ok("1") {
        eprintln!(
            "SKIPPED: keyring_logout_clears_the_os_keyring needs a real Secret Service; \
             set {TEST_KEYRING}=1 (scripts/test.sh does)"
        );
        return;
    }
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("a session bus");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let envs = [
        ("MCP_BRIDGE_CONFIG_DIR", config.to_str().unwrap()),
        ("DBUS_SESSION_BUS_ADDRESS", bus.as_str()),
    ];
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let key = format!("tokens:e2e-{}-{nanos}", std::process::id());
    // Nothing listens on port 9 of loopback: revocation fails fast, logout goes on.
    let issuer = "http://127.0.0.1:9";
    let server = "https://mcp.example/mcp";
    let item = serde_json::json!({
        "server_url": server, "issuer": issuer, "client_id": "c1",
        "access_token": ACCESS, "refresh_token": REFRESH, "token_type": "Bearer",
        "scopes": ["read"], "expires_at": 4_000_000_000u64, "obtained_at": 1_800_000_000u64,
    });
    secret_tool_store(&key, &item.to_string());
    write_index(&config, &key, server, issuer);
    // The marker earlier versions left behind, which the probe now removes.
    secret_tool_store(
        "mcp-bridge keyring probe",
        "written by an earlier mcp-bridge",
    );

    let (code, stdout, stderr) = run_once(&["status", "--store", "keyring", "--json"], &envs, "");
    assert_eq!(code, 0, "stderr: {stderr}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed[0]["server"], server);
    assert_eq!(listed[0]["backend"], "keyring");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(ACCESS) && !text.contains(REFRESH), "{text}");
    }

    let (code, _, stderr) = run_once(&["logout", "--all", "--store", "keyring"], &envs, "");
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(
        stderr.contains("forgot the tokens for https://mcp.example/mcp"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(ACCESS) && !stderr.contains(REFRESH),
        "{stderr}"
    );
    assert_eq!(secret_tool_lookup(&key), None, "the keyring item is gone");

    let (code, stdout, _) = run_once(&["status", "--store", "keyring"], &envs, "");
    assert_eq!((code, stdout.as_str()), (0, "no stored credentials\n"));
    let left = Command::new("secret-tool")
        .args(["search", "--all", "service", "mcp-bridge"])
        .output()
        .expect("secret-tool runs");
    let listing =
        String::from_utf8_lossy(&left.stdout).into_owned() + &String::from_utf8_lossy(&left.stderr);
    assert!(
        !listing.contains("keyring probe"),
        "the keyring probe left its test entry behind: {listing}"
    );
}

/// Stores `secret` in the session's Secret Service the way the keyring crate files it.
fn secret_tool_store(key: &str, secret: &str) {
    let mut child = Command::new("secret-tool")
        .args(["store", "--label", "mcp-bridge e2e test"])
        .args(["service", "mcp-bridge", "username", key])
        .stdin(Stdio::piped())
        .spawn()
        .expect("secret-tool (libsecret-tools) is installed");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), secret.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "secret-tool store failed");
}

/// The secret stored for `key`, if any.
fn secret_tool_lookup(key: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "mcp-bridge", "username", key])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The index line the store writes next to a keyring item.
fn write_index(config: &Path, key: &str, server: &str, issuer: &str) {
    std::fs::create_dir_all(config).unwrap();
    let index = serde_json::json!({
        "version": 1,
        "entries": [{
            "key": key, "kind": "tokens", "server_url": server, "issuer": issuer,
            "client_id": "c1", "scopes": ["read"], "expires_at": 4_000_000_000u64,
            "backend": "keyring",
        }],
    });
    std::fs::write(config.join("index.json"), index.to_string()).unwrap();
}
