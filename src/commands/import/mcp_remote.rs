//! What mcp-remote keeps on disk, read without changing it: the layout of its directory, the
//! name it files a server's credentials under, and the shape of its token and client files.
//!
//! Layout (learned from the published package): `<base>/<subdir>/<key>_<name>`, where
//! `<base>` is `MCP_REMOTE_CONFIG_DIR` or `~/.mcp-auth`, `<subdir>` is `mcp-remote-v1` (the
//! store format since 0.5) or `mcp-remote-<package version>` (0.1 and 0.2, one directory per
//! version), and `<key>` is the MD5 (hex) of the server URL exactly as typed, joined by `|`
//! with whatever else the run was started with that changes which credentials it uses
//! (`--resource`, `--authorize-param`s, `--header`s, `--client-metadata-url`,
//! `--token-endpoint`). The key cannot be reversed: a URL is found by computing its key.
//! The files read here are `tokens.json`, `client_info.json` and, for the URL it names at
//! each start, `debug.log`; code verifiers, leases and discovery state are left alone.
//!
//! Every file is opened read-only and read up to a bound. Parse errors say where a file
//! broke, never what it held (the files are full of secrets).

use crate::secret::Secret;
use md5::{Digest, Md5};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// The one `mcp-remote-v<N>` format known here.
const KNOWN_STORE: &str = "mcp-remote-v1";
/// Largest JSON file read.
const JSON_LIMIT: u64 = 1 << 20;
/// How much of a debug log is searched for the URL it names.
const LOG_LIMIT: u64 = 8 << 20;
/// What mcp-remote writes into its debug log at each start.
const LOG_MARKER: &str = "Starting mcp-remote with server URL: ";

/// What mcp-remote was started with, as far as it decides where credentials are filed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyInputs {
    /// The server URL, exactly as given to mcp-remote.
    pub(crate) url: String,
    /// `--resource`.
    pub(crate) resource: Option<String>,
    /// `--authorize-param key=value`s.
    pub(crate) authorize_params: BTreeMap<String, String>,
    /// `--header Name:value`s, values as written (before `${VAR}` expansion).
    pub(crate) headers: BTreeMap<String, String>,
    /// `--client-metadata-url`.
    pub(crate) client_metadata_url: Option<String>,
    /// `--token-endpoint`.
    pub(crate) token_endpoint: Option<String>,
}

impl KeyInputs {
    /// Inputs with only a URL.
    pub(crate) fn url(url: &str) -> KeyInputs {
        KeyInputs {
            url: url.to_owned(),
            ..KeyInputs::default()
        }
    }

    /// The name mcp-remote files these credentials under: 32 hex digits.
    pub(crate) fn key(&self) -> String {
        let mut parts = vec![self.url.clone()];
        parts.extend(self.resource.clone());
        if !self.authorize_params.is_empty() {
            parts.push(compact_json(&self.authorize_params));
        }
        if !self.headers.is_empty() {
            parts.push(compact_json(&self.headers));
        }
        parts.extend(self.client_metadata_url.clone());
        parts.extend(self.token_endpoint.clone());
        hex(&Md5::digest(parts.join("|").as_bytes()))
    }

    /// Adds `--header` in mcp-remote's form (`Name:value`); false if it is not that form.
    pub(crate) fn add_header(&mut self, line: &str) -> bool {
        let Some((name, value)) = line.split_once(':') else {
            return false;
        };
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !name_ok || value.contains(['\n', '\r']) {
            return false;
        }
        let value = value.trim_start();
        self.headers.insert(name.to_owned(), value.to_owned());
        true
    }

    /// Adds one `--authorize-param key=value`, as mcp-remote reads it (one without a name
    /// is ignored).
    pub(crate) fn add_authorize_param(&mut self, param: &str) {
        if let Some((k, v)) = param.split_once('=')
            && !k.trim().is_empty()
        {
            self.authorize_params
                .insert(k.trim().to_owned(), v.to_owned());
        }
    }

    /// The inputs of an mcp-remote command line (its own arguments, after the program), or
    /// `None` if it names no server.
    pub(crate) fn from_args(args: &[String]) -> Option<KeyInputs> {
        let mut inputs = KeyInputs::default();
        let mut rest: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            if args[i] == "--header" && i + 1 < args.len() {
                inputs.add_header(&args[i + 1]);
                i += 2;
                continue;
            }
            rest.push(&args[i]);
            i += 1;
        }
        let url = rest.first().filter(|u| !u.starts_with('-'))?;
        inputs.url = (*url).to_owned();
        let value = |flag: &str| {
            let at = rest.iter().position(|a| *a == flag)?;
            rest.get(at + 1).map(|v| v.to_string())
        };
        let has = |flag: &str| rest.contains(&flag);
        inputs.resource = value("--resource")
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty() && !has("--disable-resource-parameter"));
        for pair in rest.windows(2).filter(|w| w[0] == "--authorize-param") {
            inputs.add_authorize_param(pair[1]);
        }
        inputs.client_metadata_url = value("--client-metadata-url")
            .map(|v| v.trim().to_owned())
            .filter(|v| url::Url::parse(v).is_ok_and(|u| u.scheme() == "https" && u.path() != "/"));
        if has("--client-credentials") {
            inputs.token_endpoint = value("--token-endpoint")
                .and_then(|v| url::Url::parse(v.trim()).ok())
                .map(|u| u.to_string());
        }
        Some(inputs)
    }
}

/// `JSON.stringify(map, sortedKeys)`: compact, keys in order.
fn compact_json(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).expect("a map of strings always serializes")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// mcp-remote's `tokens.json` (OAuth token response fields plus what it adds).
#[derive(Debug, Deserialize)]
pub(crate) struct RawTokens {
    pub(crate) access_token: Secret,
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) refresh_token: Option<Secret>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
    /// Milliseconds since the epoch (a number, or a numeric string); since 0.1.4x.
    #[serde(default)]
    pub(crate) expires_at: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) requested_scope: Option<String>,
    /// The authorization server's issuer; since 0.14 (MCP SDK 2).
    #[serde(default)]
    pub(crate) issuer: Option<String>,
}

impl RawTokens {
    /// When the access token expires (unix seconds): `expires_at`, else `expires_in` counted
    /// from when the file was written.
    pub(crate) fn expires_at(&self, written: u64) -> Option<u64> {
        if let Some(ms) = self.expires_at.as_ref().and_then(number) {
            return Some((ms / 1000.0).max(0.0) as u64);
        }
        let secs = self.expires_in.as_ref().and_then(number)?;
        Some(crate::clock::after(written, secs.max(0.0) as u64))
    }

    /// When the tokens were obtained (unix seconds), as well as can be told.
    pub(crate) fn obtained_at(&self, written: u64) -> u64 {
        match (
            self.expires_at.as_ref().and_then(number),
            self.expires_in.as_ref().and_then(number),
        ) {
            (Some(at), Some(secs)) => ((at / 1000.0 - secs).max(0.0) as u64).min(written),
            _ => written,
        }
    }

    /// The scopes granted, else the ones asked for.
    pub(crate) fn scopes(&self) -> Vec<String> {
        let text = self.scope.as_deref().or(self.requested_scope.as_deref());
        text.unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// mcp-remote's `client_info.json` (an RFC 7591 registration response plus the issuer).
#[derive(Debug, Deserialize)]
pub(crate) struct RawClient {
    pub(crate) client_id: String,
    #[serde(default)]
    pub(crate) client_secret: Option<Secret>,
    #[serde(default)]
    pub(crate) redirect_uris: Vec<String>,
    #[serde(default)]
    pub(crate) token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub(crate) registration_access_token: Option<Secret>,
    #[serde(default)]
    pub(crate) client_id_issued_at: Option<u64>,
    /// 0 or absent: never.
    #[serde(default)]
    pub(crate) client_secret_expires_at: Option<u64>,
    #[serde(default)]
    pub(crate) issuer: Option<String>,
}

/// One file's content, or why it could not be used.
#[derive(Debug)]
pub(crate) struct FileRead<T> {
    /// Relative to the base directory (`mcp-remote-v1/<key>_tokens.json`).
    pub(crate) name: String,
    /// When it was last written (unix seconds).
    pub(crate) written: u64,
    pub(crate) content: Result<T, String>,
}

/// What mcp-remote stored under one key, from the newest directory that has it.
#[derive(Debug)]
pub(crate) struct Stored {
    pub(crate) key: String,
    /// The directory it was read from (`mcp-remote-v1`, `mcp-remote-0.1.37`).
    pub(crate) dir: String,
    pub(crate) tokens: Option<FileRead<RawTokens>>,
    pub(crate) client: Option<FileRead<RawClient>>,
    /// URLs its debug log says runs were started with (unverified).
    pub(crate) logged_urls: Vec<String>,
    /// Other directories holding files under the same key (older versions), not read.
    pub(crate) superseded: Vec<String>,
}

/// A directory that was not read, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Ignored {
    pub(crate) dir: String,
    pub(crate) reason: String,
}

/// Everything found under the base directory.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) stored: BTreeMap<String, Stored>,
    pub(crate) ignored: Vec<Ignored>,
}

/// Which store formats a directory name stands for; newer sorts higher.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Format {
    /// `mcp-remote-<version>` (0.1, 0.2): the package version, for ordering.
    PerVersion(Vec<u64>),
    /// `mcp-remote-v1`.
    V1,
}

fn format_of(name: &str) -> Result<Format, Option<String>> {
    let Some(rest) = name.strip_prefix("mcp-remote-") else {
        return Err(None);
    };
    if name == KNOWN_STORE {
        return Ok(Format::V1);
    }
    if rest
        .strip_prefix('v')
        .is_some_and(|n| n.parse::<u64>().is_ok())
    {
        return Err(Some(format!(
            "a store format this mcp-bridge does not know ({name}; it reads {KNOWN_STORE} and the older per-version directories)"
        )));
    }
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    match parts {
        Some(v) if v.len() == 3 && v[0] == 0 && v[1] <= 4 => Ok(Format::PerVersion(v)),
        _ => Err(Some(format!(
            "not a directory layout this mcp-bridge knows ({name})"
        ))),
    }
}

/// Reads what mcp-remote stored under `base`. A missing `base` is an empty result; an
/// unreadable one is an error.
pub(crate) fn read_base(base: &Path) -> std::io::Result<Found> {
    let mut found = Found::default();
    let entries = match std::fs::read_dir(base) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    let mut dirs: Vec<(Format, String, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().is_dir() {
            continue;
        }
        match format_of(&name) {
            Ok(format) => dirs.push((format, name, entry.path())),
            Err(Some(reason)) => found.ignored.push(Ignored { dir: name, reason }),
            Err(None) => {}
        }
    }
    // Newest first, so the first directory to have a key is the one that counts.
    dirs.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, name, path) in dirs {
        let Ok(files) = std::fs::read_dir(&path) else {
            found.ignored.push(Ignored {
                dir: name,
                reason: "cannot be read".into(),
            });
            continue;
        };
        let mut by_key: BTreeMap<String, Vec<(String, PathBuf)>> = BTreeMap::new();
        for file in files.flatten() {
            let file_name = file.file_name().to_string_lossy().into_owned();
            let Some((key, what)) = file_name.split_once('_') else {
                continue;
            };
            if key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
                by_key
                    .entry(key.to_ascii_lowercase())
                    .or_default()
                    .push((what.to_owned(), file.path()));
            }
        }
        for (key, files) in by_key {
            if let Some(newer) = found.stored.get_mut(&key) {
                newer.superseded.push(name.clone());
                continue;
            }
            let mut stored = Stored {
                key: key.clone(),
                dir: name.clone(),
                tokens: None,
                client: None,
                logged_urls: Vec::new(),
                superseded: Vec::new(),
            };
            for (what, path) in files {
                let rel = format!("{name}/{key}_{what}");
                match what.as_str() {
                    "tokens.json" => stored.tokens = Some(read_json(&path, rel)),
                    "client_info.json" => stored.client = Some(read_json(&path, rel)),
                    "debug.log" => stored.logged_urls = logged_urls(&path),
                    _ => {}
                }
            }
            if stored.tokens.is_some() || stored.client.is_some() {
                found.stored.insert(key, stored);
            }
        }
    }
    Ok(found)
}

/// Opens `path` read-only and reads at most `limit` bytes (more is an error).
fn read_bounded(path: &Path, limit: u64) -> Result<(Vec<u8>, u64), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    let written = file
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read ({e})"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("is larger than {} KiB", limit / 1024));
    }
    Ok((bytes, written))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, name: String) -> FileRead<T> {
    let (content, written) = match read_bounded(path, JSON_LIMIT) {
        Ok((bytes, written)) => (
            serde_json::from_slice(&bytes).map_err(|e| describe_json_error(&e)),
            written,
        ),
        Err(reason) => (Err(reason), 0),
    };
    FileRead {
        name,
        written,
        content,
    }
}

/// Where and how a file failed to parse, never what it held (serde may quote values).
fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Io => "could not be read",
        Category::Syntax => "is not valid JSON",
        Category::Data => "is not in the expected shape",
        Category::Eof => "is truncated",
    };
    format!("{kind} (line {}, column {})", e.line(), e.column())
}

/// The URLs a debug log says runs were started with, in order, without duplicates.
fn logged_urls(path: &Path) -> Vec<String> {
    let Ok((bytes, _)) = read_bounded(path, LOG_LIMIT).or_else(|_| {
        // A long log: its first part still names the URL.
        let mut head = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(LOG_LIMIT).read_to_end(&mut head))
            .map(|_| (head, 0))
            .map_err(|e| e.to_string())
    }) else {
        return Vec::new();
    };
    let mut urls: Vec<String> = Vec::new();
    for line in String::from_utf8_lossy(&bytes).lines() {
        if let Some(at) = line.find(LOG_MARKER) {
            let url = line[at + LOG_MARKER.len()..].trim_end().to_owned();
            if !url.is_empty() && url.len() <= 2048 && !urls.contains(&url) {
                urls.push(url);
            }
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    /// Keys match what mcp-remote computes (values checked against its own function).
    #[test]
    fn keys() {
        assert_eq!(
            KeyInputs::url("https://example.com/mcp").key(),
            hex(&Md5::digest(b"https://example.com/mcp"))
        );
        let mut k = KeyInputs::url("https://h/mcp");
        k.resource = Some("https://h/".into());
        assert!(k.add_header("X-Key: ${KEY}"));
        assert!(k.add_header("Authorization:Bearer x"));
        let expected =
            "https://h/mcp|https://h/|{\"Authorization\":\"Bearer x\",\"X-Key\":\"${KEY}\"}";
        assert_eq!(k.key(), hex(&Md5::digest(expected.as_bytes())));
        assert!(!k.add_header("bad header: x"));
        assert!(!k.add_header("no-colon"));
    }

    /// mcp-remote command lines: the URL is the first argument once headers are taken out.
    #[test]
    fn command_lines() {
        let k = KeyInputs::from_args(&args(&[
            "--header",
            "A: 1",
            "https://h/mcp",
            "3334",
            "--resource",
            " https://h/ ",
            "--authorize-param",
            "audience=x",
            "--client-metadata-url",
            "https://c/meta.json",
            "--token-endpoint",
            "https://as/token",
        ]))
        .unwrap();
        assert_eq!(k.url, "https://h/mcp");
        assert_eq!(k.resource.as_deref(), Some("https://h/"));
        assert_eq!(k.headers.get("A").map(String::as_str), Some("1"));
        assert_eq!(
            k.authorize_params.get("audience").map(String::as_str),
            Some("x")
        );
        assert_eq!(
            k.client_metadata_url.as_deref(),
            Some("https://c/meta.json")
        );
        assert_eq!(k.token_endpoint, None, "only with --client-credentials");
        assert!(KeyInputs::from_args(&args(&["--debug"])).is_none());
        assert!(KeyInputs::from_args(&[]).is_none());
    }

    /// Directory names: v1, the per-version ones, and unknown future formats.
    #[test]
    fn formats() {
        assert_eq!(format_of("mcp-remote-v1"), Ok(Format::V1));
        assert_eq!(
            format_of("mcp-remote-0.1.37"),
            Ok(Format::PerVersion(vec![0, 1, 37]))
        );
        assert!(format_of("mcp-remote-v2").unwrap_err().is_some());
        assert!(format_of("mcp-remote-9.0.0").unwrap_err().is_some());
        assert_eq!(format_of("other"), Err(None));
        assert!(Format::V1 > Format::PerVersion(vec![0, 2, 7]));
    }

    /// Expiry from `expires_at` (ms, number or string), else from the file time.
    #[test]
    fn expiry() {
        let t: RawTokens = serde_json::from_value(serde_json::json!({
            "access_token": "a", "expires_in": 3600, "expires_at": "1900000000000"
        }))
        .unwrap();
        assert_eq!(t.expires_at(5), Some(1_900_000_000));
        assert_eq!(t.obtained_at(2_000_000_000), 1_899_996_400);
        let t: RawTokens =
            serde_json::from_value(serde_json::json!({"access_token": "a", "expires_in": 60}))
                .unwrap();
        assert_eq!(t.expires_at(1000), Some(1060));
    }

    /// The newest directory holding a key wins; older copies are named, not read; other
    /// files (verifiers, leases) are left alone; a debug log yields the URL it names.
    #[test]
    fn reads_the_newest_copy() {
        let dir = tempfile::tempdir().unwrap();
        let k = KeyInputs::url("https://h/mcp").key();
        for (sub, token) in [("mcp-remote-0.1.9", "old"), ("mcp-remote-v1", "new")] {
            let d = dir.path().join(sub);
            std::fs::create_dir_all(&d).unwrap();
            let body = format!("{{\"access_token\":\"{token}\"}}");
            std::fs::write(d.join(format!("{k}_tokens.json")), body).unwrap();
            std::fs::write(d.join(format!("{k}_code_verifier_x.txt")), "v").unwrap();
        }
        let log = format!("[t][1] {LOG_MARKER}https://h/mcp\n[t][1] other\n");
        std::fs::write(
            dir.path()
                .join("mcp-remote-v1")
                .join(format!("{k}_debug.log")),
            log,
        )
        .unwrap();
        let found = read_base(dir.path()).unwrap();
        let stored = &found.stored[&k];
        assert_eq!(stored.dir, "mcp-remote-v1");
        assert_eq!(stored.superseded, ["mcp-remote-0.1.9"]);
        let tokens = stored.tokens.as_ref().unwrap().content.as_ref().unwrap();
        assert_eq!(tokens.access_token.expose(), "new");
        assert_eq!(stored.logged_urls, ["https://h/mcp"]);
        assert!(
            read_base(&dir.path().join("absent"))
                .unwrap()
                .stored
                .is_empty()
        );
    }
}
