//! Talking MCP as the bridge would: the era and transport the bridge's own code chooses
//! (`era::Era` and its `Decision`), the `initialize` answer, and the server's lists.

use super::report::{Listing, Protocol, Server};
use crate::commands::connect::{initialize_params, request};
use crate::era::{Decision, Era, EraInbound};
use crate::jsonrpc::{Id, Kind, Message};
use crate::mcp::MODERN_VERSION;
use crate::transport::Wire;
use crate::upstream::Upstream;
use serde_json::{Value, json};
use std::time::Duration;

/// Most pages of one list read (a server that pages forever is cut off there).
const MAX_PAGES: usize = 50;

/// A connection the way the bridge makes it, with a host's requests sent through it.
pub(super) struct Session {
    era: Era,
    inbound: EraInbound,
    /// Ids of the requests sent so far.
    next: u64,
    /// How long one answer may take.
    timeout: Duration,
}

/// What `initialize` gave.
pub(super) enum Initialized {
    /// The server's InitializeResult.
    Ok(Value),
    /// The JSON-RPC error the bridge (or the server) answered with.
    Failed(String),
}

impl Session {
    pub(super) fn new(era: Era, inbound: EraInbound, timeout: Duration) -> Session {
        Session {
            era,
            inbound,
            next: 0,
            timeout,
        }
    }

    async fn ask(&mut self, method: &str, params: Option<&Value>) -> Result<Message, String> {
        self.next += 1;
        let id = Id::internal("check", self.next);
        let asked = request(&mut self.era, &mut self.inbound, &id, method, params);
        match tokio::time::timeout(self.timeout, asked).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(format!("{e:#}")),
            Err(_) => Err(format!(
                "the server did not answer {method} within {} s",
                self.timeout.as_secs()
            )),
        }
    }

    /// Sends `initialize` (and `notifications/initialized` after a result).
    pub(super) async fn initialize(&mut self) -> Initialized {
        let answer = match self.ask("initialize", Some(&initialize_params())).await {
            Ok(answer) => answer,
            Err(e) => return Initialized::Failed(e),
        };
        match answer.result::<Value>() {
            Some(result) if answer.kind() == Kind::Result => {
                let done = Message::notification("notifications/initialized", None);
                if let Err(e) = self.era.send(done).await {
                    return Initialized::Failed(e.to_string());
                }
                Initialized::Ok(result)
            }
            _ => Initialized::Failed(error_text(&answer)),
        }
    }

    /// What the era decided, and why.
    pub(super) fn decision(&self) -> Decision {
        self.era.decision()
    }

    /// Reads every page of a list (`tools`, `resources` or `prompts`).
    pub(super) async fn list(&mut self, what: &str, names: bool) -> Listing {
        let method = format!("{what}/list");
        let mut found = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = cursor.as_ref().map(|c| json!({"cursor": c}));
            let answer = match self.ask(&method, params.as_ref()).await {
                Ok(answer) => answer,
                Err(e) => return listing_error(e),
            };
            let Some(result) = answer.result::<Value>() else {
                return listing_error(error_text(&answer));
            };
            for item in result
                .get(what)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = item
                    .get("name")
                    .or_else(|| item.get("uri"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                found.push(crate::net::excerpt(name, 100));
            }
            cursor = result
                .get("nextCursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        Listing {
            count: found.len(),
            names: names.then_some(found),
            error: None,
        }
    }

    /// Ends the connection as the bridge does (deleting the session).
    pub(super) async fn close(mut self) {
        self.era.close().await;
    }
}

fn listing_error(error: String) -> Listing {
    Listing {
        error: Some(error),
        ..Listing::default()
    }
}

/// The message of a JSON-RPC error answer.
pub(super) fn error_text(answer: &Message) -> String {
    answer
        .error_object()
        .and_then(|e| {
            e.get("message")?
                .as_str()
                .map(|m| crate::net::excerpt(m, 300))
        })
        .unwrap_or_else(|| crate::net::excerpt(answer.as_str(), 300))
}

/// The protocol step from the era's decision and the `initialize` result.
pub(super) fn protocol(decision: &Decision, result: Option<&Value>) -> Protocol {
    let transport = match (decision.modern, decision.wire) {
        (Some(true), _) => Some("streamable-http"),
        (_, Some(Wire::Streamable)) => Some("streamable-http"),
        (_, Some(Wire::Sse)) => Some("http+sse"),
        _ => None,
    };
    let version = match decision.modern {
        Some(true) => Some(MODERN_VERSION.to_owned()),
        _ => result
            .and_then(|r| r.get("protocolVersion"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    Protocol {
        era: decision.modern.map(|m| {
            if m {
                MODERN_VERSION.to_owned()
            } else {
                "initialize".to_owned()
            }
        }),
        version,
        era_reason: decision.era_why.clone(),
        transport: transport.map(str::to_owned),
        transport_reason: decision.wire_why.clone(),
    }
}

/// The server step from the `initialize` result (lists are added after).
pub(super) fn server(result: &Value) -> Server {
    let text = |pointer: &str| {
        result
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(|s| crate::net::excerpt(s, 2000))
    };
    Server {
        name: text("/serverInfo/name"),
        version: text("/serverInfo/version"),
        instructions: text("/instructions"),
        capabilities: result.get("capabilities").cloned().unwrap_or(json!({})),
        ..Server::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The protocol step says what the era decided, in its words.
    #[test]
    fn protocol_from_decision() {
        let decision = Decision {
            modern: Some(false),
            era_why: "server/discover answered HTTP 400".into(),
            wire: Some(Wire::Sse),
            wire_why: "the Streamable HTTP POST answered 405, so HTTP+SSE".into(),
            discovered: None,
        };
        let p = protocol(&decision, Some(&json!({"protocolVersion": "2024-11-05"})));
        assert_eq!(p.era.as_deref(), Some("initialize"));
        assert_eq!(p.version.as_deref(), Some("2024-11-05"));
        assert_eq!(p.transport.as_deref(), Some("http+sse"));
        assert!(p.transport_reason.contains("405"));
        let modern = Decision {
            modern: Some(true),
            ..Decision::default()
        };
        let p = protocol(&modern, None);
        assert_eq!(p.era.as_deref(), Some(MODERN_VERSION));
        assert_eq!(p.transport.as_deref(), Some("streamable-http"));
    }

    /// Name, version, instructions and capabilities come from the InitializeResult.
    #[test]
    fn server_from_result() {
        let s = server(&json!({
            "serverInfo": {"name": "demo\u{1b}[2J", "version": "2.1"},
            "instructions": "use it",
            "capabilities": {"tools": {}}
        }));
        assert_eq!(s.name.as_deref(), Some("demo?[2J"));
        assert_eq!(s.version.as_deref(), Some("2.1"));
        assert_eq!(s.instructions.as_deref(), Some("use it"));
        assert_eq!(s.capabilities, json!({"tools": {}}));
    }
}
