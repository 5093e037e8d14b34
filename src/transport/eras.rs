//! Choosing the protocol era on the first message, per the 2026-07-28 compatibility rules:
//! ask with `server/discover`; a DiscoverResult (or a modern version error that lists
//! 2026-07-28) means a modern server, anything else the `initialize` era, whose own
//! transport detection then runs as before.
//!
//! Also the one combination the modern link does not cover: a 2026-07-28 host on an
//! `initialize`-era server. The bridge performs the handshake upstream with what the host's
//! `_meta` says, and answers `server/discover` from the server's `initialize` result.

use super::modern::{self as link, ModernLink, Probe};
use super::mrtr::{self, InputBroker, Retry};
use super::{Active, Error, Mode, Protocol, Transport};
use crate::jsonrpc::{Kind, Message};
use crate::modern::{self, HostIdentity};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// How long a remembered era is trusted before the server is asked again.
const ERA_TTL_SECS: u64 = 7 * 24 * 3600;

/// Which era each server spoke last time (`eras.json` in the config directory), so the next
/// start goes straight there. Not a secret; losing it only costs one probe.
#[derive(Debug, Clone)]
pub(crate) struct EraCache {
    file: PathBuf,
    server: String,
}

impl EraCache {
    pub(crate) fn new(config_dir: PathBuf, server: String) -> Self {
        EraCache {
            file: config_dir.join("eras.json"),
            server,
        }
    }

    fn read_all(&self) -> Map<String, Value> {
        std::fs::read(&self.file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    }

    /// Whether this server was found to speak only the initialize era, recently.
    pub(crate) fn known_legacy(&self) -> bool {
        let all = self.read_all();
        let Some(entry) = all.get(&self.server) else {
            return false;
        };
        let fresh = entry
            .get("at")
            .and_then(Value::as_u64)
            .is_some_and(|at| crate::auth::now() < at + ERA_TTL_SECS);
        fresh && entry.get("era").and_then(Value::as_str) == Some("legacy")
    }

    /// Records the era found (best effort: a failure only costs a probe next time).
    pub(crate) fn remember(&self, era: &str) {
        self.update(Some(era));
    }

    /// Forgets this server's era, after the remembered one stopped working.
    pub(crate) fn forget(&self) {
        self.update(None);
    }

    fn update(&self, era: Option<&str>) {
        let mut all = self.read_all();
        match era {
            Some(era) => all.insert(
                self.server.clone(),
                json!({"era": era, "at": crate::auth::now()}),
            ),
            None => all.remove(&self.server),
        };
        let Some(dir) = self.file.parent() else {
            return;
        };
        let tmp = dir.join(format!(".eras.{}.tmp", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| write_private(&tmp, Value::Object(all).to_string().as_bytes()))
            .and_then(|()| std::fs::rename(&tmp, &self.file));
        if let Err(e) = written {
            tracing::debug!("could not remember the protocol era: {e}");
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

impl Transport {
    /// Tries the 2026-07-28 protocol with the first message. Returns the message back when
    /// the `initialize`-era transports should take it.
    pub(super) async fn connect_by_era(
        &mut self,
        first: Message,
    ) -> Result<Option<Message>, Error> {
        let sse = matches!(self.mode, Mode::SseOnly | Mode::SseFirst);
        if self.protocol == Protocol::Legacy || sse {
            return Ok(Some(first));
        }
        let is_initialize = first.method() == Some("initialize") && first.kind() == Kind::Request;
        if let Some(cache) = self
            .era_cache
            .clone()
            .filter(|c| self.protocol == Protocol::Auto && c.known_legacy())
        {
            tracing::debug!("this server spoke the initialize era last time; not probing");
            if !is_initialize {
                return Ok(Some(first));
            }
            if self.connect_remembered(&first).await? {
                return Ok(None);
            }
            // The remembered era failed (the server changed): ask the server, as if new.
            tracing::info!(
                "the server no longer answers initialize as it did last time; asking which era it speaks"
            );
            cache.forget();
            self.active = None;
        }
        let host = is_initialize.then(|| HostIdentity::from_initialize(&first));
        let modern_host = modern::modern_version_of(&first).is_some();
        let meta = match (&host, modern_host) {
            (Some(host), _) => host.meta(modern::MODERN_VERSION),
            (None, true) => request_meta(&first),
            // A legacy host that skipped initialize: nothing to translate with.
            (None, false) => return Ok(Some(first)),
        };
        let probe = match link::probe(&self.shared, &meta).await {
            Ok(probe) => probe,
            Err(e) => {
                self.fail_first(&first, e).await?;
                return Ok(None);
            }
        };
        if let Some(cache) = &self.era_cache {
            cache.remember(if matches!(probe, Probe::Modern(_)) {
                "modern"
            } else {
                "legacy"
            });
        }
        match probe {
            Probe::Modern(discovered) => {
                let link = ModernLink::new(
                    self.shared.clone(),
                    modern::MODERN_VERSION.to_owned(),
                    host.clone(),
                );
                self.active = Some(Active::Modern(link.clone()));
                match host {
                    Some(_) => link.answer_initialize(&first, &discovered).await,
                    None => {
                        tracing::info!(
                            "the server speaks MCP {}, like the host",
                            modern::MODERN_VERSION
                        );
                        link.send(first).await;
                    }
                }
                Ok(None)
            }
            Probe::Legacy if self.protocol == Protocol::Modern => {
                let e = Error::Refused(format!(
                    "the server does not speak MCP {} (pinned with --protocol modern)",
                    modern::MODERN_VERSION
                ));
                self.fail_first(&first, e).await?;
                Ok(None)
            }
            Probe::Legacy if modern_host => {
                self.connect_for_modern_host(first, &meta).await?;
                Ok(None)
            }
            Probe::Legacy => Ok(Some(first)),
        }
    }

    /// Connects in the `initialize` era this server was remembered to speak, with the host's
    /// `initialize`. Returns false, without answering the host, when that era no longer works,
    /// so the caller can probe instead.
    async fn connect_remembered(&mut self, first: &Message) -> Result<bool, Error> {
        let host_id = first.id().expect("initialize is a request");
        // Sent under an id of the bridge's, so that a failure (and any second answer the
        // failed transport gives) stays between the bridge and the server.
        let id = self.shared.internal_id("initialize");
        let answer = self.shared.inbox.watch(&id, false);
        self.connect(first.with_id(&id)).await?;
        let reply = tokio::select! {
            biased;
            _ = self.shared.shutdown.cancelled() => return Ok(true),
            reply = answer => reply,
        };
        match reply {
            Ok(reply) if reply.kind() == Kind::Result => {
                self.shared.inbox.deliver(reply.with_id(host_id)).await;
                Ok(true)
            }
            Ok(reply) => {
                tracing::debug!("initialize failed in the remembered era");
                tracing::trace!(answer = reply.as_str());
                Ok(false)
            }
            Err(_) => Ok(false),
        }
    }

    /// A 2026-07-28 host on an `initialize`-era server: the bridge initializes upstream
    /// with the host's capabilities and identity, then handles the host's first message.
    async fn connect_for_modern_host(
        &mut self,
        first: Message,
        meta: &Map<String, Value>,
    ) -> Result<(), Error> {
        tracing::info!(
            "the server speaks only the initialize era; translating for a {} host",
            modern::MODERN_VERSION
        );
        let id = self.shared.internal_id("initialize");
        let params = json!({
            "protocolVersion": modern::LEGACY_VERSIONS[0],
            "capabilities": meta.get(modern::META_CAPABILITIES).cloned().unwrap_or(json!({})),
            "clientInfo": meta.get(modern::META_CLIENT_INFO).cloned()
                .unwrap_or(json!({"name": "mcp-bridge", "version": env!("CARGO_PKG_VERSION")})),
        });
        let text = format!(
            r#"{{"jsonrpc":"2.0","id":{},"method":"initialize","params":{params}}}"#,
            id.as_json()
        );
        let initialize = Message::parse(&text).expect("a built initialize is a valid request");
        self.shared.remember(&initialize);
        let answer = self.shared.inbox.watch(&id, false);
        self.connect(initialize).await?;
        let reply = tokio::select! {
            biased;
            _ = self.shared.shutdown.cancelled() => return Ok(()),
            reply = answer => reply.ok(),
        };
        let result = reply.as_ref().and_then(|r| r.field::<Value>("result"));
        let Some(result) = result else {
            let why = reply
                .map(|r| r.as_str().to_owned())
                .unwrap_or_else(|| "no answer".into());
            return self
                .fail_first(
                    &first,
                    Error::Closed(format!("the server refused initialize: {why}")),
                )
                .await;
        };
        if let (Some(Active::Streamable(s)), Some(reply)) = (&self.active, &reply) {
            s.record_initialize_result(reply);
        }
        self.legacy_for_modern_host = Some(result);
        // The server's mid-call questions become "input required" answers for this host.
        let _ = self
            .shared
            .inbox
            .broker
            .set(Arc::new(InputBroker::default()));
        let initialized =
            Message::parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
                .expect("a literal notification parses");
        self.shared.remember(&initialized);
        match &self.active {
            Some(Active::Streamable(s)) => s.send_now(initialized).await,
            Some(Active::Sse(s)) => s.send(initialized),
            _ => {}
        }
        if !self.answer_discover_locally(&first).await {
            let first = self.for_legacy_server(first);
            let Some(first) = self.route_input(first) else {
                return Ok(());
            };
            match &self.active {
                Some(Active::Streamable(s)) => s.send(first),
                Some(Active::Sse(s)) => s.send(first),
                _ => {}
            }
        }
        Ok(())
    }

    /// For a 2026-07-28 host on an `initialize`-era server: answers `server/discover` from
    /// the server's `initialize` result, and requests at another protocol version with
    /// "unsupported version". Returns true when the message was answered here.
    pub(super) async fn answer_discover_locally(&self, msg: &Message) -> bool {
        let (Some(initialized), Some(id)) = (&self.legacy_for_modern_host, msg.id()) else {
            return false;
        };
        if msg.kind() != Kind::Request {
            return false;
        }
        let answer = match (msg.method(), modern::modern_version_of(msg)) {
            (_, Some(v)) if v != modern::MODERN_VERSION => modern::unsupported_version(id, &v),
            (Some("server/discover"), _) => {
                Message::result_response(id, &modern::discover_result(initialized))
            }
            _ => return false,
        };
        self.shared.inbox.deliver(answer).await;
        true
    }

    /// For a 2026-07-28 host on an `initialize`-era server: a retry carrying answers to the
    /// server's questions sends them upstream (returns `None`); a call that may be asked for
    /// input is tracked, so its result reaches the host under whichever id it retried with.
    pub(super) fn route_input(&self, msg: Message) -> Option<Message> {
        let Some(broker) = self.shared.inbox.broker.get().cloned() else {
            return Some(msg);
        };
        if msg.kind() != Kind::Request {
            return Some(msg);
        }
        match broker.resume(msg) {
            Retry::Answers(answers) => {
                tracing::debug!("the host answered the server's questions; passing them on");
                for answer in answers {
                    match &self.active {
                        Some(Active::Streamable(s)) => s.send(answer),
                        Some(Active::Sse(s)) => s.send(answer),
                        _ => {}
                    }
                }
                None
            }
            Retry::Forward(msg) => {
                if mrtr::may_need_input(&msg) {
                    let id = msg.id().expect("requests have ids").clone();
                    broker.track(&id);
                    let answer = self.shared.inbox.watch(&id, false);
                    let inbox = self.shared.inbox.clone();
                    tokio::spawn(async move {
                        if let Ok(answer) = answer.await {
                            let target = broker.finish(&id);
                            inbox.deliver_to_host(answer.with_id(&target)).await;
                        }
                    });
                }
                Some(msg)
            }
        }
    }

    /// A 2026-07-28 host's request as the `initialize`-era server should see it.
    pub(super) fn for_legacy_server(&self, msg: Message) -> Message {
        if self.legacy_for_modern_host.is_some() && msg.kind() == Kind::Request {
            modern::without_protocol_meta(&msg)
        } else {
            msg
        }
    }
}

/// Writes a new file readable by its owner only (like everything in the config directory).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// The `_meta` of a modern request, for the probe.
fn request_meta(msg: &Message) -> Map<String, Value> {
    msg.field::<Value>("params")
        .and_then(|p| p.get("_meta").and_then(Value::as_object).cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eras are remembered per server, and forgetting one leaves the others.
    #[test]
    fn remembers_and_forgets_per_server() {
        let dir = tempfile::tempdir().unwrap();
        let a = EraCache::new(dir.path().to_owned(), "http://a/mcp".into());
        let b = EraCache::new(dir.path().to_owned(), "http://b/mcp".into());
        assert!(!a.known_legacy());
        a.remember("legacy");
        b.remember("legacy");
        assert!(a.known_legacy() && b.known_legacy());
        a.forget();
        assert!(!a.known_legacy() && b.known_legacy());
        b.remember("modern");
        assert!(!b.known_legacy());
    }
}
