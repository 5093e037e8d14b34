//! Where URLs come from when the user names none: the MCP host configurations that run
//! `mcp-remote URL` (or already `mcp-bridge URL`), the servers mcp-bridge itself has met,
//! and the URLs mcp-remote's own debug logs name. Each is only a candidate: it counts when
//! its mcp-remote key matches a stored file.

use super::mcp_remote::KeyInputs;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Largest host configuration read (`~/.claude.json` keeps history, and grows).
const CONFIG_LIMIT: u64 = 32 << 20;
/// How deep a configuration is searched for server entries.
const MAX_DEPTH: usize = 32;

/// A URL (with the options that decide mcp-remote's key) and where it was found.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) inputs: KeyInputs,
    /// For people: "the command line", "Claude Desktop config (PATH)", ...
    pub(crate) source: String,
}

/// The host configuration files looked at, with the host's name.
pub(crate) fn config_files() -> Vec<(&'static str, PathBuf)> {
    let mut files = Vec::new();
    if let Some(base) = directories::BaseDirs::new() {
        let home = base.home_dir();
        let config = base.config_dir();
        files.push((
            "Claude Desktop",
            config.join("Claude").join("claude_desktop_config.json"),
        ));
        files.push(("Claude Code", home.join(".claude.json")));
        files.push(("Cursor", home.join(".cursor").join("mcp.json")));
        files.push((
            "Windsurf",
            home.join(".codeium")
                .join("windsurf")
                .join("mcp_config.json"),
        ));
        files.push(("VS Code", config.join("Code").join("User").join("mcp.json")));
    }
    if let Ok(cwd) = std::env::current_dir() {
        files.push(("Claude Code project", cwd.join(".mcp.json")));
        files.push(("Cursor project", cwd.join(".cursor").join("mcp.json")));
        files.push(("VS Code workspace", cwd.join(".vscode").join("mcp.json")));
    }
    files
}

/// Every server entry in these files that runs mcp-remote or mcp-bridge against a URL.
pub(crate) fn from_configs(files: &[(&'static str, PathBuf)]) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (host, path) in files {
        let Some(doc) = read_config(path) else {
            continue;
        };
        let source = format!("{host} config ({})", path.display());
        let mut entries = Vec::new();
        collect_commands(&doc, 0, &mut entries);
        for argv in entries {
            if let Some(inputs) = inputs_of(&argv) {
                out.push(Candidate {
                    inputs,
                    source: source.clone(),
                });
            }
        }
    }
    out
}

fn read_config(path: &Path) -> Option<Value> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(CONFIG_LIMIT).read_to_end(&mut bytes).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(doc) => Some(doc),
        Err(e) => {
            crate::terminal::warn(&format!(
                "{} is not valid JSON (line {}); its servers are not looked at",
                path.display(),
                e.line()
            ));
            None
        }
    }
}

/// The command lines (`command` then `args`) of every object that has them.
fn collect_commands(v: &Value, depth: usize, out: &mut Vec<Vec<String>>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            if let Some(Value::String(command)) = map.get("command") {
                let mut argv = vec![command.clone()];
                if let Some(Value::Array(args)) = map.get("args") {
                    argv.extend(args.iter().filter_map(|a| a.as_str().map(str::to_owned)));
                }
                out.push(argv);
            }
            for child in map.values() {
                collect_commands(child, depth + 1, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                collect_commands(child, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// What an mcp-remote (or mcp-bridge) command line says about the key, if it is one.
pub(crate) fn inputs_of(argv: &[String]) -> Option<KeyInputs> {
    let program = |a: &str| {
        let base = a.rsplit(['/', '\\']).next().unwrap_or(a);
        let base = base.strip_suffix(".cmd").unwrap_or(base);
        base == "mcp-remote"
            || base.starts_with("mcp-remote@")
            || base == "mcp-bridge"
            || base.starts_with("mcp-bridge@")
    };
    let at = argv.iter().position(|a| program(a))?;
    let inputs = KeyInputs::from_args(&argv[at + 1..])?;
    let is_http =
        url::Url::parse(&inputs.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    is_http.then_some(inputs)
}

/// The servers mcp-bridge has met (its era memory) or holds credentials for.
pub(crate) fn known_to_us(config_dir: Option<&Path>, stored: &[String]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = stored
        .iter()
        .map(|url| Candidate {
            inputs: KeyInputs::url(url),
            source: "mcp-bridge's credential store".into(),
        })
        .collect();
    let Some(dir) = config_dir else {
        return out;
    };
    let eras = dir.join("eras.json");
    if let Some(Value::Object(map)) = read_config(&eras) {
        for url in map.keys() {
            out.push(Candidate {
                inputs: KeyInputs::url(url),
                source: format!("servers mcp-bridge has used ({})", eras.display()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    /// npx, a global install, a pinned version and mcp-bridge itself are recognised.
    #[test]
    fn command_lines() {
        let k = inputs_of(&argv(&["npx", "-y", "mcp-remote@0.1.37", "https://h/mcp"])).unwrap();
        assert_eq!(k.url, "https://h/mcp");
        let k = inputs_of(&argv(&[
            "/usr/local/bin/mcp-remote",
            "https://h/sse",
            "--header",
            "X:1",
        ]))
        .unwrap();
        assert_eq!((k.url.as_str(), k.headers.len()), ("https://h/sse", 1));
        assert!(inputs_of(&argv(&["mcp-bridge", "https://b/mcp"])).is_some());
        assert!(inputs_of(&argv(&["npx", "-y", "some-server"])).is_none());
        assert!(inputs_of(&argv(&["npx", "mcp-remote", "file:///x"])).is_none());
    }

    /// Server entries are found wherever a host nests them.
    #[test]
    fn configs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(
            &path,
            r#"{"mcpServers":{"a":{"command":"npx","args":["-y","mcp-remote","https://a/mcp"]}},
               "projects":{"/p":{"mcpServers":{"b":{"command":"mcp-remote","args":["https://b/mcp"]}}}},
               "other":{"command":"node","args":["x.js"]}}"#,
        )
        .unwrap();
        let found = from_configs(&[("Test", path)]);
        let urls: Vec<_> = found.iter().map(|c| c.inputs.url.as_str()).collect();
        assert_eq!(urls.len(), 2, "{urls:?}");
        assert!(urls.contains(&"https://a/mcp") && urls.contains(&"https://b/mcp"));
        assert!(found[0].source.starts_with("Test config"));
    }
}
