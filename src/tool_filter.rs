//! Hiding tools from the host (`--ignore-tool`, as in mcp-remote).
//!
//! Patterns match tool names, with `*` standing for any run of characters. Hidden tools are
//! removed from `tools/list` answers, and a `tools/call` for one is refused by the bridge
//! without reaching the server.

use crate::jsonrpc::Message;

/// The set of patterns; empty means nothing is hidden.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToolFilter {
    patterns: Vec<String>,
}

impl ToolFilter {
    pub(crate) fn new(patterns: Vec<String>) -> Self {
        ToolFilter { patterns }
    }

    /// Whether a tool of this name is hidden.
    pub(crate) fn hides(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| glob_match(p, name))
    }

    /// Removes hidden tools from a `tools/list` result; other messages pass unchanged.
    pub(crate) fn filter_list(&self, msg: Message) -> Message {
        if self.patterns.is_empty() {
            return msg;
        }
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(msg.as_str()) else {
            return msg;
        };
        let Some(tools) = value
            .pointer_mut("/result/tools")
            .and_then(|t| t.as_array_mut())
        else {
            return msg;
        };
        let before = tools.len();
        tools.retain(|t| {
            !t.get("name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| self.hides(n))
        });
        if tools.len() == before {
            return msg;
        }
        tracing::debug!(hidden = before - tools.len(), "hid tools from the host");
        let id = msg.id().expect("a tools/list answer has an id").clone();
        Message::success(&id, &value["result"])
    }

    /// The reason to refuse a `tools/call` for a hidden tool, if it is one.
    pub(crate) fn refuse_call(&self, msg: &Message) -> Option<String> {
        if self.patterns.is_empty() || msg.method() != Some("tools/call") {
            return None;
        }
        #[derive(serde::Deserialize)]
        struct Params {
            name: String,
        }
        let name = msg.params::<Params>()?.name;
        self.hides(&name)
            .then(|| format!("tool {name:?} is disabled by --ignore-tool"))
    }
}

/// Matches `name` against a pattern where `*` is any run of characters (case-sensitive).
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wildcards match anywhere; exact names match only themselves.
    #[test]
    fn globs() {
        assert!(glob_match("delete*", "delete_file"));
        assert!(glob_match("*file", "delete_file"));
        assert!(glob_match("*_*_*", "a_b_c"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exact2"));
        assert!(!glob_match("a*b", "ab_"));
        assert!(!glob_match("ab*ba", "aba"));
    }

    /// Hidden tools disappear from the list and calls to them are refused.
    #[test]
    fn filters_lists_and_calls() {
        let f = ToolFilter::new(vec!["delete*".into()]);
        let list = Message::parse(
            r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"read"},{"name":"delete_all"}],"nextCursor":"c"}}"#,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(f.filter_list(list).as_str()).unwrap();
        assert_eq!(v["result"]["tools"].as_array().unwrap().len(), 1);
        assert_eq!(v["result"]["nextCursor"], "c");
        assert_eq!(v["id"], 1);
        let call = Message::parse(
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_all"}}"#,
        )
        .unwrap();
        assert!(f.refuse_call(&call).unwrap().contains("delete_all"));
        let ok = Message::parse(
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read"}}"#,
        )
        .unwrap();
        assert_eq!(f.refuse_call(&ok), None);
    }
}
