//! Which era, and for the `initialize` era which transport, each server spoke last time
//! (`eras.json` in the config directory), so the next start with an `initialize`-era server
//! goes straight to `initialize`, on the event stream if that is what worked. Not a secret;
//! losing it costs one probe. Written like the credential store's files: privately,
//! atomically, under a lock, off the runtime's thread; only when something changed; and at
//! most [`MAX_SERVERS`] servers are kept (the oldest go first).

use crate::clock;
use crate::store::{self, lock};
pub(crate) use crate::transport::Wire;
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// How long a remembered era is trusted before the server is asked again.
const ERA_TTL_SECS: u64 = 7 * 24 * 3600;
/// How long a writer waits for another process's write.
const LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// Most servers remembered; past it the ones seen longest ago are dropped.
pub(crate) const MAX_SERVERS: usize = 200;

fn wire_name(wire: Wire) -> &'static str {
    match wire {
        Wire::Streamable => "streamable-http",
        Wire::Sse => "sse",
    }
}

/// What is remembered of a server, if it is recent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) era: Spoken,
    pub(crate) wire: Option<Wire>,
}

/// The era a server was found to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spoken {
    Legacy,
    Modern,
}

impl Spoken {
    fn as_str(self) -> &'static str {
        match self {
            Spoken::Legacy => "legacy",
            Spoken::Modern => "modern",
        }
    }
}

/// One server's entry in the era memory.
#[derive(Debug, Clone)]
pub(crate) struct Memory {
    file: PathBuf,
    server: String,
}

impl Memory {
    pub(crate) fn new(config_dir: PathBuf, server: String) -> Self {
        Memory {
            file: config_dir.join("eras.json"),
            server,
        }
    }

    /// Whether this server was found to speak only the initialize era, recently.
    pub(crate) async fn known_legacy(&self) -> bool {
        self.recall().await.is_some_and(|s| s.era == Spoken::Legacy)
    }

    /// What was found of this server recently, if anything.
    pub(crate) async fn recall(&self) -> Option<Seen> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || seen_in(&read_all(&me.file), &me.server))
            .await
            .ok()
            .flatten()
    }

    /// Records the era found (best effort: a failure only costs a probe next time).
    pub(crate) async fn remember(&self, era: Spoken) {
        self.update(Some(Seen { era, wire: None })).await;
    }

    /// Records that this `initialize`-era server was reached with `wire`.
    pub(crate) async fn remember_wire(&self, wire: Wire) {
        let seen = Seen {
            era: Spoken::Legacy,
            wire: Some(wire),
        };
        self.update(Some(seen)).await;
    }

    /// Forgets this server's era, after the remembered one stopped working.
    pub(crate) async fn forget(&self) {
        self.update(None).await;
    }

    async fn update(&self, seen: Option<Seen>) {
        let me = self.clone();
        let written = tokio::task::spawn_blocking(move || me.write(seen)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!("could not remember the protocol era: {e}"),
            Err(e) => tracing::debug!("could not remember the protocol era: {e}"),
        }
    }

    /// Records whether this server's requests carry a token helper's tokens
    /// (`--bearer-command`), which the credential store never sees: `status` says so.
    pub(crate) async fn remember_helper(&self, helper: bool) {
        let me = self.clone();
        let written = tokio::task::spawn_blocking(move || me.write_helper(helper)).await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::debug!("could not remember the token helper");
        }
    }

    fn write_helper(&self, helper: bool) -> Result<(), store::StoreError> {
        let marked = |all: &Map<String, Value>| {
            entry_of(all, &self.server)
                .get(HELPER)
                .and_then(Value::as_bool)
                == Some(true)
        };
        // The usual case, nothing to change, costs one read and no lock.
        if marked(&read_all(&self.file)) == helper {
            return Ok(());
        }
        let dir = self.file.parent().expect("eras.json lives in a directory");
        let _lock = lock::acquire_blocking(&dir.join("eras.lock"), LOCK_TIMEOUT)?;
        let mut all = read_all(&self.file);
        if marked(&all) == helper {
            return Ok(());
        }
        let mut entry = entry_of(&all, &self.server);
        if helper {
            entry.insert(HELPER.into(), json!(true));
            entry.entry("at").or_insert(json!(clock::now()));
        } else {
            entry.remove(HELPER);
        }
        all.insert(self.server.clone(), Value::Object(entry));
        prune(&mut all);
        store::write_private(&self.file, Value::Object(all).to_string().as_bytes())
    }

    fn write(&self, seen: Option<Seen>) -> Result<(), store::StoreError> {
        let dir = self.file.parent().expect("eras.json lives in a directory");
        let _lock = lock::acquire_blocking(&dir.join("eras.lock"), LOCK_TIMEOUT)?;
        let mut all = read_all(&self.file);
        let changed = match seen {
            // The same as what is remembered, and still fresh: nothing to write. The era
            // alone (from a probe) keeps a transport learned before.
            Some(new) => {
                let old = seen_in(&all, &self.server);
                let merged = Seen {
                    era: new.era,
                    wire: new
                        .wire
                        .or(old.filter(|o| o.era == new.era).and_then(|o| o.wire)),
                };
                if old == Some(merged) {
                    false
                } else {
                    // Whatever else is remembered of the server stays.
                    let mut entry = entry_of(&all, &self.server);
                    entry.insert("era".into(), json!(merged.era.as_str()));
                    entry.insert("at".into(), json!(clock::now()));
                    match merged.wire {
                        Some(wire) => entry.insert("transport".into(), json!(wire_name(wire))),
                        None => entry.remove("transport"),
                    };
                    all.insert(self.server.clone(), Value::Object(entry));
                    prune(&mut all);
                    true
                }
            }
            None => {
                let mut entry = entry_of(&all, &self.server);
                let had = ["era", "transport"]
                    .iter()
                    .any(|k| entry.remove(*k).is_some());
                if entry.keys().all(|k| k == "at") {
                    all.remove(&self.server);
                } else {
                    all.insert(self.server.clone(), Value::Object(entry));
                }
                had
            }
        };
        if changed {
            store::write_private(&self.file, Value::Object(all).to_string().as_bytes())?;
        }
        Ok(())
    }
}

/// The key of the token helper mark in a server's entry.
const HELPER: &str = "bearer_command";

/// The servers whose last run took its tokens from a helper (`--bearer-command`), from the
/// era memory in `config_dir`.
pub(crate) async fn helper_servers(config_dir: PathBuf) -> Vec<String> {
    let file = config_dir.join("eras.json");
    tokio::task::spawn_blocking(move || {
        read_all(&file)
            .into_iter()
            .filter(|(_, v)| v.get(HELPER).and_then(Value::as_bool) == Some(true))
            .map(|(k, _)| k)
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// A server's entry as it is (empty if there is none).
fn entry_of(all: &Map<String, Value>, server: &str) -> Map<String, Value> {
    all.get(server)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A server's entry, if it is fresh and readable.
fn seen_in(all: &Map<String, Value>, server: &str) -> Option<Seen> {
    let entry = all.get(server)?;
    let at = entry.get("at").and_then(Value::as_u64)?;
    if clock::now() >= clock::after(at, ERA_TTL_SECS) {
        return None;
    }
    let era = match entry.get("era").and_then(Value::as_str)? {
        "legacy" => Spoken::Legacy,
        "modern" => Spoken::Modern,
        _ => return None,
    };
    let wire = match entry.get("transport").and_then(Value::as_str) {
        Some("sse") => Some(Wire::Sse),
        Some("streamable-http") => Some(Wire::Streamable),
        _ => None,
    };
    Some(Seen { era, wire })
}

/// Drops the servers seen longest ago until at most [`MAX_SERVERS`] are left.
fn prune(all: &mut Map<String, Value>) {
    if all.len() <= MAX_SERVERS {
        return;
    }
    let mut by_age: Vec<(u64, String)> = all
        .iter()
        .map(|(k, v)| (v.get("at").and_then(Value::as_u64).unwrap_or(0), k.clone()))
        .collect();
    by_age.sort();
    let excess = all.len() - MAX_SERVERS;
    for (_, key) in by_age.into_iter().take(excess) {
        all.remove(&key);
    }
}

fn read_all(file: &std::path::Path) -> Map<String, Value> {
    std::fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eras are remembered per server, and forgetting one leaves the others.
    #[tokio::test]
    async fn remembers_and_forgets_per_server() {
        let dir = tempfile::tempdir().unwrap();
        let a = Memory::new(dir.path().to_owned(), "http://a/mcp".into());
        let b = Memory::new(dir.path().to_owned(), "http://b/mcp".into());
        assert!(!a.known_legacy().await);
        a.remember(Spoken::Legacy).await;
        b.remember(Spoken::Legacy).await;
        assert!(a.known_legacy().await && b.known_legacy().await);
        a.forget().await;
        assert!(!a.known_legacy().await && b.known_legacy().await);
        b.remember(Spoken::Modern).await;
        assert!(!b.known_legacy().await);
        a.remember_wire(Wire::Sse).await;
        a.remember(Spoken::Legacy).await;
        assert_eq!(
            a.recall().await,
            Some(Seen {
                era: Spoken::Legacy,
                wire: Some(Wire::Sse)
            }),
            "a probe's era keeps the transport learned before"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("eras.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// Nothing is written when nothing changed, and the file keeps at most MAX_SERVERS.
    #[tokio::test]
    async fn writes_only_changes_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("eras.json");
        let a = Memory::new(dir.path().to_owned(), "http://a/mcp".into());
        a.remember_wire(Wire::Streamable).await;
        // Rewrite the file by hand with a marker: a no-change remember must leave it.
        let text = std::fs::read_to_string(&file).unwrap();
        let marked = text.replacen('{', "{\"marker\":{\"era\":\"x\",\"at\":0},", 1);
        std::fs::write(&file, &marked).unwrap();
        a.remember_wire(Wire::Streamable).await;
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            marked,
            "rewritten for nothing"
        );
        for i in 0..(MAX_SERVERS + 20) {
            Memory::new(dir.path().to_owned(), format!("http://s{i}/mcp"))
                .remember(Spoken::Legacy)
                .await;
        }
        let all = read_all(&file);
        assert_eq!(all.len(), MAX_SERVERS);
        assert!(!all.contains_key("marker"), "the oldest went first");
    }

    /// The token helper mark and the era live side by side: setting, forgetting or
    /// re-learning one leaves the other.
    #[tokio::test]
    async fn helper_mark_and_era_are_independent() {
        let dir = tempfile::tempdir().unwrap();
        let a = Memory::new(dir.path().to_owned(), "http://a/mcp".into());
        a.remember_helper(true).await;
        a.remember_wire(Wire::Sse).await;
        assert_eq!(
            helper_servers(dir.path().to_owned()).await,
            ["http://a/mcp"]
        );
        a.forget().await;
        assert_eq!(
            helper_servers(dir.path().to_owned()).await,
            ["http://a/mcp"]
        );
        assert!(a.recall().await.is_none());
        a.remember(Spoken::Legacy).await;
        a.remember_helper(false).await;
        assert!(helper_servers(dir.path().to_owned()).await.is_empty());
        assert!(a.known_legacy().await, "the era stays");
    }
}
