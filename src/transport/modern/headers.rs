//! The HTTP headers a 2026-07-28 request carries beside its body: `Mcp-Method`, `Mcp-Name`
//! and the `Mcp-Param-*` headers that tools declare with `x-mcp-header` on their input
//! properties, plus the value encoding they share.
//!
//! The bridge keeps the tool schemas it relays in a [`ToolHeaders`] cache so it can mirror
//! arguments into headers, and drops tools whose declarations are invalid (the specification
//! requires clients to).

use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// A value as a header: plain when it is safe, else `=?base64?...?=` of its UTF-8 bytes.
pub(crate) fn encode_value(value: &str) -> String {
    let unsafe_char = value.chars().any(|c| !(' '..='~').contains(&c));
    let padded = value.starts_with(' ') || value.ends_with(' ');
    let looks_encoded = value.starts_with("=?base64?") && value.ends_with("?=");
    if unsafe_char || padded || looks_encoded {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    } else {
        value.to_owned()
    }
}

/// The name a request is about, for `Mcp-Name`: the tool or prompt name, or the resource URI.
pub(crate) fn name_of(method: &str, params: Option<&Value>) -> Option<String> {
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        _ => return None,
    };
    params?.get(key)?.as_str().map(str::to_owned)
}

/// One argument a tool mirrors into a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamHeader {
    /// Property names from `inputSchema.properties` down to the value.
    path: Vec<String>,
    /// The header name after `Mcp-Param-`.
    name: String,
}

/// Why a tool's header declarations are unusable.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidTool(pub(crate) String);

/// Reads a tool's `x-mcp-header` declarations, or says why they are invalid.
pub(crate) fn param_headers(input_schema: &Value) -> Result<Vec<ParamHeader>, InvalidTool> {
    let mut found = Vec::new();
    scan(input_schema, &mut Vec::new(), true, &mut found)?;
    let mut seen: Vec<String> = Vec::new();
    for h in &found {
        let lower = h.name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(InvalidTool(format!(
                "header name {:?} is declared twice",
                h.name
            )));
        }
        seen.push(lower);
    }
    Ok(found)
}

/// Walks a schema. `reachable` is true while the path from the root has only `properties`
/// steps; an annotation anywhere else makes the tool invalid.
fn scan(
    schema: &Value,
    path: &mut Vec<String>,
    reachable: bool,
    out: &mut Vec<ParamHeader>,
) -> Result<(), InvalidTool> {
    let Some(object) = schema.as_object() else {
        return Ok(());
    };
    if let Some(decl) = object.get("x-mcp-header") {
        let where_ = if path.is_empty() {
            "the schema root".to_owned()
        } else {
            path.join(".")
        };
        if !reachable || path.is_empty() {
            return Err(InvalidTool(format!(
                "x-mcp-header at {where_} is not on a plain property"
            )));
        }
        let name = decl
            .as_str()
            .ok_or_else(|| InvalidTool(format!("x-mcp-header at {where_} is not a string")))?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(InvalidTool(format!(
                "x-mcp-header {name:?} at {where_} is not a valid header name"
            )));
        }
        if !matches!(
            object.get("type").and_then(Value::as_str),
            Some("string" | "integer" | "boolean")
        ) {
            return Err(InvalidTool(format!(
                "x-mcp-header {name:?} at {where_} is not on a string, integer or boolean"
            )));
        }
        out.push(ParamHeader {
            path: path.clone(),
            name: name.to_owned(),
        });
    }
    for (key, child) in object {
        match key.as_str() {
            "properties" => {
                if let Some(props) = child.as_object() {
                    for (prop, sub) in props {
                        path.push(prop.clone());
                        scan(sub, path, reachable, out)?;
                        path.pop();
                    }
                }
            }
            "x-mcp-header" | "type" | "description" | "title" | "enum" | "const" | "default"
            | "examples" => {}
            // Anything else (items, anyOf, $defs, additionalProperties...) is not statically
            // reachable: annotations below it are invalid. `$ref` is never followed.
            _ => scan_unreachable(child, path, out)?,
        }
    }
    Ok(())
}

fn scan_unreachable(
    value: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<ParamHeader>,
) -> Result<(), InvalidTool> {
    match value {
        Value::Object(_) => scan(value, path, false, out),
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| scan_unreachable(v, path, out)),
        _ => Ok(()),
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `Mcp-Param-*` headers for a call's arguments: absent and null values send nothing.
pub(crate) fn param_values(
    headers: &[ParamHeader],
    arguments: Option<&Value>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for h in headers {
        let mut value = arguments;
        for step in &h.path {
            value = value.and_then(|v| v.get(step));
        }
        let text = match value {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => i.to_string(),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{f:.0}"),
                _ => n.to_string(),
            },
            Some(_) => continue, // a wrong-typed value: the server decides
        };
        out.push((
            format!("{}{}", crate::mcp::PARAM_HEADER_PREFIX, h.name),
            encode_value(&text),
        ));
    }
    out
}

/// Tool schemas seen in `tools/list` answers: which arguments each tool mirrors into headers,
/// and which tools were dropped as invalid.
#[derive(Debug, Default)]
pub(crate) struct ToolHeaders {
    tools: Mutex<HashMap<String, Result<Vec<ParamHeader>, String>>>,
}

impl ToolHeaders {
    /// Records the tools of a `tools/list` result and returns the result without the invalid
    /// ones (`None` when nothing was removed, so the original text can be kept).
    pub(crate) fn filter_list(&self, result: &Value) -> Option<Value> {
        let tools = result.get("tools")?.as_array()?;
        let mut kept = Vec::with_capacity(tools.len());
        let mut cache = self
            .tools
            .lock()
            .expect("tool cache lock is never poisoned");
        for tool in tools {
            let name = tool
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let schema = tool.get("inputSchema").cloned().unwrap_or(Value::Null);
            match param_headers(&schema) {
                Ok(headers) => {
                    cache.insert(name, Ok(headers));
                    kept.push(tool.clone());
                }
                Err(InvalidTool(why)) => {
                    tracing::warn!(tool = %name, "hiding a tool with an invalid x-mcp-header declaration: {why}");
                    cache.insert(name, Err(why));
                }
            }
        }
        if kept.len() == tools.len() {
            return None;
        }
        let mut out = result.clone();
        out["tools"] = Value::Array(kept);
        Some(out)
    }

    /// Whether a `tools/list` answer has named `tool` (valid or not).
    pub(crate) fn knows(&self, tool: &str) -> bool {
        self.tools
            .lock()
            .expect("tool cache lock is never poisoned")
            .contains_key(tool)
    }

    /// The headers for a call of `tool`, or why the call must not be made.
    pub(crate) fn headers_for(
        &self,
        tool: &str,
        arguments: Option<&Value>,
    ) -> Result<Vec<(String, String)>, String> {
        match self
            .tools
            .lock()
            .expect("tool cache lock is never poisoned")
            .get(tool)
        {
            Some(Ok(headers)) => Ok(param_values(headers, arguments)),
            Some(Err(why)) => Err(format!("tool {tool:?} was hidden: {why}")),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The specification's encoding examples and edge cases.
    #[test]
    fn encodes_values() {
        assert_eq!(encode_value("us-west1"), "us-west1");
        assert_eq!(encode_value("us west 1"), "us west 1");
        assert_eq!(encode_value(""), "");
        assert_eq!(
            encode_value("Hello, 世界"),
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert_eq!(encode_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert!(encode_value("line1\nline2").starts_with("=?base64?"));
        assert!(encode_value("\tindented").starts_with("=?base64?"));
        assert!(encode_value("=?base64?abc?=").starts_with("=?base64?PT9iYXNl"));
    }

    /// Valid declarations are found at any depth of plain properties.
    #[test]
    fn finds_declarations() {
        let schema = json!({"type":"object","properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "nested":{"type":"object","properties":{"n":{"type":"integer","x-mcp-header":"N"}}},
            "plain":{"type":"string"}}});
        let found = param_headers(&schema).unwrap();
        assert_eq!(found.len(), 2);
        let values = param_values(&found, Some(&json!({"region":"eu","nested":{"n":42.0}})));
        assert!(values.contains(&("Mcp-Param-Region".into(), "eu".into())));
        assert!(values.contains(&("Mcp-Param-N".into(), "42".into())));
        assert!(param_values(&found, Some(&json!({"region":null}))).is_empty());
    }

    /// Every invalid form the specification lists is refused.
    #[test]
    fn refuses_invalid_declarations() {
        let bad = [
            json!({"properties":{"a":{"type":"string","x-mcp-header":""}}}),
            json!({"properties":{"a":{"type":"object","x-mcp-header":"A"}}}),
            json!({"properties":{"a":{"type":"array","x-mcp-header":"A"}}}),
            json!({"properties":{"a":{"type":"null","x-mcp-header":"A"}}}),
            json!({"properties":{"a":{"type":"number","x-mcp-header":"A"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"R"},"b":{"type":"string","x-mcp-header":"R"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"MyField"},"b":{"type":"string","x-mcp-header":"myfield"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"My Region"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"Region:Primary"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"Région"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"Region\t1"}}}),
            json!({"properties":{"a":{"type":"array","items":{"type":"string","x-mcp-header":"A"}}}}),
            json!({"properties":{"a":{"anyOf":[{"type":"string","x-mcp-header":"A"}]}}}),
            json!({"$defs":{"d":{"type":"string","x-mcp-header":"A"}}}),
        ];
        for schema in bad {
            assert!(param_headers(&schema).is_err(), "{schema}");
        }
    }

    /// Invalid tools disappear from the list and calls to them are refused.
    #[test]
    fn caches_and_filters() {
        let cache = ToolHeaders::default();
        let list = json!({"tools":[
            {"name":"ok","inputSchema":{"properties":{"r":{"type":"string","x-mcp-header":"Region"}}}},
            {"name":"bad","inputSchema":{"properties":{"r":{"type":"object","x-mcp-header":"Region"}}}}]});
        let filtered = cache.filter_list(&list).unwrap();
        assert_eq!(filtered["tools"].as_array().unwrap().len(), 1);
        assert_eq!(
            cache.headers_for("ok", Some(&json!({"r":"x"}))).unwrap(),
            vec![("Mcp-Param-Region".into(), "x".into())]
        );
        assert!(cache.headers_for("bad", None).is_err());
        assert!(cache.knows("ok") && cache.knows("bad") && !cache.knows("unknown"));
        assert_eq!(cache.headers_for("unknown", None).unwrap(), vec![]);
        assert!(
            cache
                .filter_list(&json!({"tools":[{"name":"x","inputSchema":{}}]}))
                .is_none()
        );
    }

    /// Mcp-Name comes from the name or the URI.
    #[test]
    fn names() {
        assert_eq!(
            name_of("tools/call", Some(&json!({"name":"t"}))).as_deref(),
            Some("t")
        );
        assert_eq!(
            name_of("resources/read", Some(&json!({"uri":"file:///a"}))).as_deref(),
            Some("file:///a")
        );
        assert_eq!(name_of("tools/list", Some(&json!({}))), None);
    }
}
