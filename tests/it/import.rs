//! `mcp-bridge import mcp-remote`: fixture directories shaped like mcp-remote's (written
//! here, in our own words), imported into a file store, then a bridge run against the mock
//! authorization and MCP servers with the imported tokens. mcp-remote's directory must be
//! byte-for-byte the same afterwards, and no secret may appear in any output.

use crate::support::oauth::{AuthEnv, Browse, MockOAuth, Script};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const CLIENT_SECRET: &str = "cs-SECRET-import-5d1e";

/// mcp-remote's name for a URL: the MD5 of it, in hex.
fn key(url: &str) -> String {
    use md5::Digest as _;
    md5::Md5::digest(url.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An mcp-remote directory under the test environment.
struct Remote {
    base: PathBuf,
}

impl Remote {
    fn new(env: &AuthEnv, name: &str) -> Remote {
        let base = env.path(name);
        std::fs::create_dir_all(base.join("mcp-remote-v1")).unwrap();
        Remote { base }
    }

    fn write(&self, dir: &str, key: &str, file: &str, content: &str) {
        let d = self.base.join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{key}_{file}")), content).unwrap();
    }

    /// tokens.json and client_info.json as mcp-remote 0.14 and later write them.
    fn login(&self, url: &str, issuer: &str, access: &str, refresh: &str, expires_at_ms: u64) {
        let k = key(url);
        let tokens = json!({
            "access_token": access, "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": refresh, "scope": "mcp", "expires_at": expires_at_ms,
            "requested_scope": "mcp", "issuer": issuer,
        });
        self.write("mcp-remote-v1", &k, "tokens.json", &tokens.to_string());
        let client = json!({
            "client_id": "remote-client", "client_secret": CLIENT_SECRET,
            "redirect_uris": ["http://localhost:4717/oauth/callback"],
            "token_endpoint_auth_method": "client_secret_post",
            "client_id_issued_at": 1_800_000_000u64, "issuer": issuer,
        });
        self.write("mcp-remote-v1", &k, "client_info.json", &client.to_string());
    }

    /// Every path, size, mtime and content under the directory.
    fn checksum(&self) -> String {
        fn walk(dir: &Path, hash: &mut Sha256) {
            let mut names: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            for p in names {
                let meta = std::fs::metadata(&p).unwrap();
                hash.update(p.to_string_lossy().as_bytes());
                hash.update(format!("{:?}{:?}", meta.modified().ok(), meta.len()).as_bytes());
                if meta.is_dir() {
                    walk(&p, hash);
                } else {
                    hash.update(std::fs::read(&p).unwrap());
                }
            }
        }
        let mut hash = Sha256::new();
        walk(&self.base, &mut hash);
        format!("{:x}", hash.finalize())
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Runs `import mcp-remote ARGS --config-dir BASE`; asserts the directory did not change
/// and no secret was printed.
async fn import(
    env: &AuthEnv,
    remote: &Remote,
    args: &[&str],
    secrets: &[&str],
) -> (i32, String, String) {
    let before = remote.checksum();
    let base = remote.base.display().to_string();
    let mut all = vec!["import", "mcp-remote"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config-dir", &base]);
    let (code, out, err) = env.run(&all).await;
    assert_eq!(
        remote.checksum(),
        before,
        "import changed mcp-remote's files"
    );
    for s in secrets.iter().chain(&[CLIENT_SECRET]) {
        assert!(
            !out.contains(s) && !err.contains(s),
            "{s} leaked:\n{out}\n{err}"
        );
    }
    (code, out, err)
}

async fn status(env: &AuthEnv) -> Vec<Value> {
    let (code, out, err) = env.run(&["status", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// A bridge run: initialize and one tool call with no browser launch.
async fn run_without_browser(env: &AuthEnv, url: &str) {
    let mut bridge = env.bridge(&[url, "--auth-timeout", "2"]);
    let init = bridge.initialize().await;
    assert!(init.get("result").is_some(), "initialize failed: {init}");
    let answer = bridge
        .request(
            1,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"hi"}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "hi", "{answer}");
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(env.launches().is_empty(), "a browser was opened: {stderr}");
}

/// Valid tokens and client info: imported with the client registration, shown by
/// `status`, and used by the next bridge run without a browser.
#[tokio::test]
async fn valid_login_is_imported_and_used() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    oauth.add_client("remote-client", Some(CLIENT_SECRET), "client_secret_post");
    let (access, refresh) = oauth.mint("remote-client", "mcp");
    let env = AuthEnv::new(Browse::Follow);
    let remote = Remote::new(&env, "mcp-auth");
    let url = mcp.url();
    remote.login(
        &url,
        &oauth.issuer(),
        &access,
        &refresh,
        now_ms() + 3_000_000,
    );

    let (code, out, err) = import(&env, &remote, &[&url], &[&access, &refresh]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&format!("imported: {url}")), "{out}");
    assert!(
        out.contains(&format!("issuer:       {}", oauth.issuer())),
        "{out}"
    );
    assert!(out.contains("client:       remote-client"), "{out}");
    assert!(
        out.contains("--host localhost --callback-port 4717"),
        "{out}"
    );
    assert!(
        out.contains("1 imported, 0 skipped, 0 not found, 0 not matched"),
        "{out}"
    );
    let entries = status(&env).await;
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "tokens" && e["server"] == url.as_str()),
        "{entries:?}"
    );
    assert!(entries.iter().any(|e| e["kind"] == "registration"));

    run_without_browser(&env, &url).await;
    assert!(
        oauth
            .mcp_authorizations()
            .contains(&Some(format!("Bearer {access}"))),
        "the server never saw the imported token"
    );
    assert!(oauth.grants("refresh_token").is_empty());
}

/// An old mcp-remote's login (per-version directory, no issuer recorded, access token
/// expired): discovery finds the issuer, and the bridge refreshes with the imported
/// refresh token and client secret, no browser.
#[tokio::test]
async fn expired_access_token_is_refreshed() {
    let (oauth, mcp) = MockOAuth::start(Script::default()).await;
    oauth.add_client("old-client", Some(CLIENT_SECRET), "client_secret_basic");
    let (_, refresh) = oauth.mint("old-client", "mcp");
    let env = AuthEnv::new(Browse::Follow);
    let remote = Remote::new(&env, "mcp-auth");
    let url = mcp.url();
    let k = key(&url);
    let tokens = json!({"access_token": "at-stale-1", "token_type": "Bearer",
        "expires_in": 3600, "refresh_token": refresh, "expires_at": now_ms() - 60_000});
    remote.write("mcp-remote-0.1.37", &k, "tokens.json", &tokens.to_string());
    let client = json!({"client_id": "old-client", "client_secret": CLIENT_SECRET,
        "redirect_uris": ["http://127.0.0.1:9/other/path"]});
    remote.write(
        "mcp-remote-0.1.37",
        &k,
        "client_info.json",
        &client.to_string(),
    );

    let (code, out, err) = import(&env, &remote, &[&url], &[&refresh]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("discovery found"), "{out}");
    assert!(out.contains("expired"), "{out}");
    assert!(out.contains("a browser login registers anew"), "{out}");

    run_without_browser(&env, &url).await;
    let grants = oauth.grants("refresh_token");
    assert_eq!(grants.len(), 1, "expected one refresh");
    assert_eq!(grants[0].param("refresh_token"), Some(refresh.as_str()));
}

/// What cannot be imported is reported with its reason: a malformed file, an unknown
/// store format, a URL with nothing stored, a stored login no URL matches; a named URL
/// that was not imported makes the exit status 1.
#[tokio::test]
async fn unusable_logins_are_reported() {
    let env = AuthEnv::new(Browse::Idle);
    let remote = Remote::new(&env, "mcp-auth");
    let broken = "https://broken.example/mcp";
    remote.write(
        "mcp-remote-v1",
        &key(broken),
        "tokens.json",
        "{\"access_token\": ",
    );
    remote.write(
        "mcp-remote-v9",
        &key("https://future.example/mcp"),
        "tokens.json",
        "{}",
    );
    let orphan = key("https://nobody-knows.example/mcp");
    remote.write(
        "mcp-remote-v1",
        &orphan,
        "tokens.json",
        "{\"access_token\":\"at-orphan-SECRET\"}",
    );
    let stale = "https://stale.example/mcp";
    remote.write(
        "mcp-remote-v1",
        &key(stale),
        "tokens.json",
        &json!({"access_token":"at-old-SECRET","expires_at": 1_000_000_000_000u64, "issuer":"https://as.example"}).to_string(),
    );
    let missing = "https://missing.example/mcp";
    let (code, out, err) = import(
        &env,
        &remote,
        &[broken, missing, stale, "--json"],
        &["at-orphan-SECRET", "at-old-SECRET"],
    )
    .await;
    assert_eq!(code, 1, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let entry = |url: &str| {
        report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["url"] == url)
            .cloned()
            .unwrap_or_else(|| panic!("no entry for {url}: {report}"))
    };
    assert_eq!(entry(broken)["status"], "skipped");
    assert!(
        entry(broken)["reason"]
            .as_str()
            .unwrap()
            .contains("is truncated"),
        "{report}"
    );
    assert_eq!(entry(missing)["status"], "not-found");
    assert_eq!(entry(missing)["key"], key(missing));
    assert!(
        entry(stale)["reason"]
            .as_str()
            .unwrap()
            .contains("no refresh token"),
        "{report}"
    );
    assert_eq!(report["unmatched"][0]["key"], orphan.as_str());
    assert_eq!(report["ignored"][0]["dir"], "mcp-remote-v9");
    assert!(status(&env).await.is_empty(), "nothing should be stored");
    // The same in sentences.
    let (_, text, _) = import(&env, &remote, &[missing], &["at-orphan-SECRET"]).await;
    assert!(text.contains(&format!("not found: {missing}")), "{text}");
    assert!(text.contains("not matched: mcp-remote-v1/"), "{text}");
    assert!(text.contains("not read: mcp-remote-v9"), "{text}");
}

/// --dry-run says what it would import and stores nothing.
#[tokio::test]
async fn dry_run_writes_nothing() {
    let env = AuthEnv::new(Browse::Idle);
    let remote = Remote::new(&env, "mcp-auth");
    let url = "https://dry.example/mcp";
    remote.login(
        url,
        "https://as.example",
        "at-dry-SECRET",
        "rt-dry-SECRET",
        now_ms() + 3_000_000,
    );
    let (code, out, err) = import(
        &env,
        &remote,
        &[url, "--dry-run"],
        &["at-dry-SECRET", "rt-dry-SECRET"],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&format!("would import: {url}")), "{out}");
    assert!(out.contains("Dry run: nothing was written."), "{out}");
    assert!(status(&env).await.is_empty());
    assert!(!env.config_dir.join("credentials.json").exists());
}

/// Tokens mcp-bridge already has are kept unless --force is given.
#[tokio::test]
async fn existing_tokens_are_kept_without_force() {
    let env = AuthEnv::new(Browse::Idle);
    let first = Remote::new(&env, "first");
    let second = Remote::new(&env, "second");
    let url = "https://kept.example/mcp";
    first.login(
        url,
        "https://as.example",
        "at-first-SECRET",
        "rt-first-SECRET",
        now_ms() + 3_000_000,
    );
    second.login(
        url,
        "https://as.example",
        "at-second-SECRET",
        "rt-second-SECRET",
        now_ms() + 3_000_000,
    );
    let secrets = [
        "at-first-SECRET",
        "rt-first-SECRET",
        "at-second-SECRET",
        "rt-second-SECRET",
    ];
    let (code, _, _) = import(&env, &first, &[url], &secrets).await;
    assert_eq!(code, 0);
    let (code, out, _) = import(&env, &second, &[url], &secrets).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("already has tokens") && out.contains("--force"),
        "{out}"
    );
    let stored = std::fs::read_to_string(env.config_dir.join("credentials.json")).unwrap();
    assert!(stored.contains("at-first-SECRET") && !stored.contains("at-second-SECRET"));

    let (code, out, _) = import(&env, &second, &[url, "--force"], &secrets).await;
    assert_eq!(code, 0, "{out}");
    let stored = std::fs::read_to_string(env.config_dir.join("credentials.json")).unwrap();
    assert!(stored.contains("at-second-SECRET") && !stored.contains("at-first-SECRET"));
}

/// Without URLs, the servers a host configuration runs mcp-remote against are found, with
/// the headers that are part of mcp-remote's key.
#[tokio::test]
async fn urls_come_from_host_configs() {
    let env = AuthEnv::new(Browse::Idle);
    let remote = Remote::new(&env, "mcp-auth");
    let url = "https://configured.example/mcp";
    let cursor = env.path("home").join(".cursor");
    std::fs::create_dir_all(&cursor).unwrap();
    let config = json!({"mcpServers": {"x": {"command": "npx",
        "args": ["-y", "mcp-remote@latest", url, "--header", "X-Team:${TEAM}"]}}});
    std::fs::write(cursor.join("mcp.json"), config.to_string()).unwrap();
    let k = key(&format!("{url}|{{\"X-Team\":\"${{TEAM}}\"}}"));
    let tokens = json!({"access_token":"at-conf-SECRET","expires_in":3600,
        "expires_at": now_ms() + 3_000_000, "issuer":"https://as.example"});
    remote.write("mcp-remote-v1", &k, "tokens.json", &tokens.to_string());
    let client = json!({"client_id":"c1","redirect_uris":["http://localhost:5000/oauth/callback"]});
    remote.write("mcp-remote-v1", &k, "client_info.json", &client.to_string());

    let (code, out, err) = import(&env, &remote, &[], &["at-conf-SECRET"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&format!("imported: {url}")), "{out}");
    assert!(out.contains("Cursor config"), "{out}");
    assert!(out.contains("0 not matched"), "{out}");
}
