//! Ready-to-paste entries for the common hosts (Claude Desktop, Cursor, Windsurf: an
//! `mcpServers` entry; VS Code: a `servers` entry of type stdio; Claude Code: a `claude mcp
//! add` command line), naming the plain `mcp-bridge` command. A token is never written out:
//! the entry names the variable to set.

use serde_json::{Map, Value, json};

/// What goes into the entries.
pub(super) struct Entry {
    /// The server's name in the host's list.
    pub(super) name: String,
    /// The bridge's arguments (the URL, then options that are not the default).
    pub(super) args: Vec<String>,
    /// Variables the user must fill in (a token), with a placeholder value.
    pub(super) env: Vec<(String, String)>,
}

/// A name for the host's list: the server's own name, else its host, in letters, digits,
/// `-` and `_`.
pub(super) fn name(server_name: Option<&str>, host: &str) -> String {
    let source = server_name.filter(|n| !n.trim().is_empty()).unwrap_or(host);
    let mut out = String::new();
    for c in source.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() { "server".into() } else { out }
}

/// The entries for every host, as one JSON object.
pub(super) fn entries(entry: &Entry) -> Value {
    let env: Map<String, Value> = entry
        .env
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut stdio = json!({"command": "mcp-bridge", "args": entry.args});
    if !env.is_empty() {
        stdio["env"] = Value::Object(env);
    }
    let mut vscode = json!({"type": "stdio"});
    for (k, v) in stdio.as_object().expect("built as an object") {
        vscode[k] = v.clone();
    }
    let servers = |inner: &Value| json!({"mcpServers": {entry.name.clone(): inner}});
    json!({
        "claude_desktop": servers(&stdio),
        "cursor": servers(&stdio),
        "windsurf": servers(&stdio),
        "vscode": {"servers": {entry.name.clone(): vscode}},
        "claude_code": claude_code(entry),
    })
}

/// `claude mcp add NAME [-e K=V] -- mcp-bridge ARGS`, quoted for a POSIX shell.
fn claude_code(entry: &Entry) -> String {
    let mut words = vec![
        "claude".to_owned(),
        "mcp".into(),
        "add".into(),
        quote(&entry.name),
    ];
    for (k, v) in &entry.env {
        words.push("-e".into());
        words.push(quote(&format!("{k}={v}")));
    }
    words.push("--".into());
    words.push("mcp-bridge".into());
    words.extend(entry.args.iter().map(|a| quote(a)));
    words.join(" ")
}

/// A word as a POSIX shell reads it back.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The entries for a person: where each goes, then the text to paste.
pub(super) fn render(hosts: &Value) -> String {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("JSON values serialize");
    let mut out = String::from("\nto use it from a host, paste one of these:\n");
    for (key, title) in [
        (
            "claude_desktop",
            "Claude Desktop (claude_desktop_config.json)",
        ),
        ("cursor", "Cursor (~/.cursor/mcp.json)"),
        ("windsurf", "Windsurf (~/.codeium/windsurf/mcp_config.json)"),
        ("vscode", "VS Code (.vscode/mcp.json)"),
    ] {
        out.push_str(&format!("\n{title}:\n{}\n", pretty(&hosts[key])));
    }
    if let Some(cmd) = hosts["claude_code"].as_str() {
        out.push_str(&format!("\nClaude Code:\n{cmd}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names are safe for every host's list.
    #[test]
    fn names() {
        assert_eq!(name(Some("Everything Server!"), "h"), "everything-server");
        assert_eq!(name(None, "mcp.example.com"), "mcp-example-com");
        assert_eq!(name(Some("  "), "***"), "server");
    }

    /// Each host gets its own shape; the token is a placeholder, and the shell line quotes.
    #[test]
    fn host_entries() {
        let entry = Entry {
            name: "demo".into(),
            args: vec!["https://h.example/mcp?a=1&b=2".into()],
            env: vec![("MCP_BRIDGE_BEARER".into(), "<your token>".into())],
        };
        let hosts = entries(&entry);
        let desktop = &hosts["claude_desktop"]["mcpServers"]["demo"];
        assert_eq!(desktop["command"], "mcp-bridge");
        assert_eq!(desktop["args"][0], "https://h.example/mcp?a=1&b=2");
        assert_eq!(desktop["env"]["MCP_BRIDGE_BEARER"], "<your token>");
        assert_eq!(hosts["cursor"], hosts["claude_desktop"]);
        assert_eq!(hosts["vscode"]["servers"]["demo"]["type"], "stdio");
        assert_eq!(
            hosts["claude_code"],
            "claude mcp add demo -e 'MCP_BRIDGE_BEARER=<your token>' -- mcp-bridge 'https://h.example/mcp?a=1&b=2'"
        );
        let text = render(&hosts);
        assert!(
            text.contains("VS Code (.vscode/mcp.json):\n{\n  \"servers\""),
            "{text}"
        );
    }
}
