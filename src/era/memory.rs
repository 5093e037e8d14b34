//! Which era each server spoke last time (`eras.json` in the config directory), so the next
//! start with an `initialize`-era server goes straight to `initialize`. Not a secret; losing
//! it costs one probe. Written like the credential store's files: privately, atomically,
//! under a lock, off the runtime's thread.

use crate::clock;
use crate::store::{self, lock};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// How long a remembered era is trusted before the server is asked again.
const ERA_TTL_SECS: u64 = 7 * 24 * 3600;
/// How long a writer waits for another process's write.
const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

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
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let all = read_all(&me.file);
            let Some(entry) = all.get(&me.server) else {
                return false;
            };
            let fresh = entry
                .get("at")
                .and_then(Value::as_u64)
                .is_some_and(|at| clock::now() < clock::after(at, ERA_TTL_SECS));
            fresh && entry.get("era").and_then(Value::as_str) == Some(Spoken::Legacy.as_str())
        })
        .await
        .unwrap_or(false)
    }

    /// Records the era found (best effort: a failure only costs a probe next time).
    pub(crate) async fn remember(&self, era: Spoken) {
        self.update(Some(era)).await;
    }

    /// Forgets this server's era, after the remembered one stopped working.
    pub(crate) async fn forget(&self) {
        self.update(None).await;
    }

    async fn update(&self, era: Option<Spoken>) {
        let me = self.clone();
        let written = tokio::task::spawn_blocking(move || me.write(era)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!("could not remember the protocol era: {e}"),
            Err(e) => tracing::debug!("could not remember the protocol era: {e}"),
        }
    }

    fn write(&self, era: Option<Spoken>) -> Result<(), store::StoreError> {
        let dir = self.file.parent().expect("eras.json lives in a directory");
        let _lock = lock::acquire_blocking(&dir.join("eras.lock"), LOCK_TIMEOUT)?;
        let mut all = read_all(&self.file);
        let changed = match era {
            Some(era) => {
                let entry = json!({"era": era.as_str(), "at": clock::now()});
                all.insert(self.server.clone(), entry);
                true
            }
            None => all.remove(&self.server).is_some(),
        };
        if changed {
            store::write_private(&self.file, Value::Object(all).to_string().as_bytes())?;
        }
        Ok(())
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
}
