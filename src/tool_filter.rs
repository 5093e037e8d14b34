//! Hiding tools from the host (`--ignore-tool`, as in mcp-remote).
//!
//! Patterns match tool names, with `*` standing for any run of characters. Hidden tools are
//! removed from `tools/list` answers, and a `tools/call` for one is refused by the bridge
//! without reaching the server.

use crate::jsonrpc::Message;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

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
    ///
    /// Only the result's members and each tool's `name` are read, with a parser that has no
    /// number-range or depth limit (everything else is carried as the server wrote it), so no
    /// odd number or deep nesting elsewhere can slip a hidden tool through. A tool whose name
    /// cannot be read is dropped; a result that cannot be read at all becomes an error.
    pub(crate) fn filter_list(&self, msg: Message) -> Message {
        if self.patterns.is_empty() {
            return msg;
        }
        let Some(id) = msg.id().cloned() else {
            return msg;
        };
        match self.filtered_result(&msg) {
            Ok(None) => msg,
            Ok(Some(result)) => Message::success_raw(&id, &result),
            Err(reason) => {
                tracing::warn!("refusing a tools/list answer --ignore-tool cannot check: {reason}");
                Message::error(
                    &id,
                    crate::jsonrpc::INTERNAL_ERROR,
                    &format!(
                        "the server's tools/list answer could not be checked for tools hidden by --ignore-tool: {reason}"
                    ),
                )
            }
        }
    }

    /// The result without hidden tools, or `None` when nothing was hidden.
    fn filtered_result(&self, msg: &Message) -> Result<Option<Box<RawValue>>, String> {
        let text = msg.payload_text().ok_or("no result")?;
        let mut result: BTreeMap<&str, Cow<'_, RawValue>> =
            serde_json::from_str(text).map_err(|e| format!("unreadable result: {e}"))?;
        let Some(tools) = result.get("tools") else {
            return Ok(None);
        };
        let tools: Vec<&RawValue> =
            serde_json::from_str(tools.get()).map_err(|e| format!("`tools` is not a list: {e}"))?;
        let before = tools.len();
        let kept: Vec<&RawValue> = tools
            .into_iter()
            .filter(|tool| read_name(tool.get()).is_ok_and(|name| !self.hides(&name)))
            .collect();
        if kept.len() == before {
            return Ok(None);
        }
        tracing::debug!(hidden = before - kept.len(), "hid tools from the host");
        let kept = serde_json::value::to_raw_value(&kept).map_err(|e| e.to_string())?;
        result.insert("tools", Cow::Owned(kept));
        serde_json::value::to_raw_value(&result)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The reason to refuse a `tools/call` for a hidden tool, if it is one. A call whose
    /// tool name cannot be read (a duplicate `name`, say, which servers resolve their own
    /// way) is refused too: a filter refuses what it cannot check.
    pub(crate) fn refuse_call(&self, msg: &Message) -> Option<String> {
        if self.patterns.is_empty() || msg.method() != Some("tools/call") {
            return None;
        }
        let Some(params) = msg.payload_text() else {
            return Some(
                "a tools/call without params is refused while --ignore-tool is set".into(),
            );
        };
        match read_name(params) {
            Ok(name) => self
                .hides(&name)
                .then(|| format!("tool {name:?} is disabled by --ignore-tool")),
            Err(e) => Some(format!(
                "the tool name could not be read, so --ignore-tool refuses the call: {e}"
            )),
        }
    }
}

/// Reads the `name` member of a JSON object, skipping every other member unparsed.
fn read_name(object: &str) -> Result<Cow<'_, str>, String> {
    #[derive(serde::Deserialize)]
    struct Named<'a> {
        #[serde(borrow)]
        name: Cow<'a, str>,
    }
    serde_json::from_str::<Named<'_>>(object)
        .map(|n| n.name)
        .map_err(|e| e.to_string())
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

    /// What a plain JSON parser fails on (numbers out of range, deep nesting, a duplicate
    /// key) never lets a hidden tool through, in a call or in a list.
    #[test]
    fn fails_closed_on_what_it_cannot_read() {
        let f = ToolFilter::new(vec!["delete*".into()]);
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let calls = [
            r#"{"name":"delete_all","arguments":{"x":1e999}}"#.to_owned(),
            format!(r#"{{"name":"delete_all","arguments":{{"x":{deep}}}}}"#),
            r#"{"name":"read","name":"delete_all"}"#.to_owned(),
            r#"{"arguments":{}}"#.to_owned(),
            r#"{"name":"delete\u005fall"}"#.to_owned(),
        ];
        for params in calls {
            let call = Message::parse(&format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#
            ))
            .unwrap();
            assert!(f.refuse_call(&call).is_some(), "{params}");
        }
        let list = Message::parse(&format!(
            r#"{{"jsonrpc":"2.0","id":7,"result":{{"tools":[{{"name":"read","inputSchema":{{"maximum":1e999,"x":{deep}}}}},{{"name":"delete_all"}},{{"title":"no name"}}]}}}}"#
        ))
        .unwrap();
        let filtered = f.filter_list(list);
        let text = filtered.as_str();
        assert!(!text.contains("delete_all"), "{text}");
        assert!(!text.contains("no name"), "{text}");
        assert!(
            text.contains("1e999"),
            "the rest is carried as written: {text}"
        );
        assert_eq!(filtered.id().unwrap().to_string(), "7");
        let broken =
            Message::parse(r#"{"jsonrpc":"2.0","id":8,"result":{"tools":{"name":"delete_all"}}}"#)
                .unwrap();
        let refused = f.filter_list(broken);
        assert_eq!(refused.error_code(), Some(crate::jsonrpc::INTERNAL_ERROR));
    }
}
