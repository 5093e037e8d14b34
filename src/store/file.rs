//! The config directory's files: `credentials.json` (items, 0600), `index.json` (what is
//! stored where, no secrets) and `store.lock` (one writer at a time across processes).
//!
//! Every write replaces a whole file atomically; every read-modify-write re-reads the file
//! under the store lock, so processes never lose each other's updates.

use super::lock;
use super::{FORMAT_VERSION, IndexEntry, OP_TIMEOUT, Result, StoreError, parse, serde_reason};
use crate::secret::Secret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// `credentials.json`, `index.json` and `store.lock` in one directory.
#[derive(Clone)]
pub(super) struct Files {
    /// The config directory.
    pub(super) dir: PathBuf,
}

/// `credentials.json`: key -> item, each item kept as the exact JSON it was stored as.
#[derive(Serialize, Deserialize)]
struct CredentialsFile {
    version: u32,
    items: BTreeMap<String, Box<RawValue>>,
}

/// `index.json`.
#[derive(Serialize, Deserialize)]
struct IndexFile {
    version: u32,
    entries: Vec<IndexEntry>,
}

impl Files {
    pub(super) fn new(dir: PathBuf) -> Files {
        Files { dir }
    }

    pub(super) fn credentials(&self) -> PathBuf {
        self.dir.join("credentials.json")
    }

    pub(super) fn index(&self) -> PathBuf {
        self.dir.join("index.json")
    }

    /// The store lock, for read-modify-write cycles across processes.
    pub(super) fn lock(&self) -> Result<lock::FlowLock> {
        match lock::acquire_blocking(&self.dir.join("store.lock"), OP_TIMEOUT) {
            Ok(guard) => Ok(guard),
            Err(lock::LockError::Timeout { path, .. }) => Err(StoreError::Timeout {
                what: format!("the wait for {}", path.display()),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads and checks a versioned JSON file; `None` if it does not exist.
    fn read<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Secret::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io_error("read", path, source)),
        };
        let what = || path.display().to_string();
        let Version { version } = parse(text.expose(), what)?;
        if version > FORMAT_VERSION {
            return Err(StoreError::Corrupt {
                what: what(),
                reason: format!("format version {version}, written by a newer mcp-bridge"),
            });
        }
        parse(text.expose(), what).map(Some)
    }

    fn read_credentials(&self) -> Result<BTreeMap<String, Box<RawValue>>> {
        Ok(self
            .read::<CredentialsFile>(&self.credentials())?
            .map(|file| file.items)
            .unwrap_or_default())
    }

    pub(super) fn read_index(&self) -> Result<BTreeMap<String, IndexEntry>> {
        let entries = self
            .read::<IndexFile>(&self.index())?
            .map(|file| file.entries)
            .unwrap_or_default();
        Ok(entries.into_iter().map(|e| (e.key.clone(), e)).collect())
    }

    pub(super) fn get_item(&self, key: &str) -> Result<Option<Secret>> {
        Ok(self
            .read_credentials()?
            .get(key)
            .map(|raw| Secret::new(raw.get().to_owned())))
    }

    /// Call with the store lock held.
    pub(super) fn put_item(&self, key: &str, json: &Secret) -> Result<()> {
        let mut items = self.read_credentials()?;
        let raw =
            RawValue::from_string(json.expose().to_owned()).map_err(|e| StoreError::Corrupt {
                what: format!("item {key}"),
                reason: serde_reason(&e),
            })?;
        items.insert(key.to_owned(), raw);
        self.write_credentials(items)
    }

    /// Call with the store lock held. Leaves the file alone if it has no such item.
    pub(super) fn remove_item(&self, key: &str) -> Result<bool> {
        let mut items = self.read_credentials()?;
        if items.remove(key).is_none() {
            return Ok(false);
        }
        self.write_credentials(items)?;
        Ok(true)
    }

    fn write_credentials(&self, items: BTreeMap<String, Box<RawValue>>) -> Result<()> {
        let file = CredentialsFile {
            version: FORMAT_VERSION,
            items,
        };
        // Serializing maps of strings and raw JSON cannot fail.
        let text = Secret::new(serde_json::to_string_pretty(&file).expect("raw JSON serializes"));
        write_private(&self.credentials(), text.expose().as_bytes())
    }

    /// Call with the store lock held. `change` returns whether it changed anything.
    pub(super) fn update_index(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, IndexEntry>) -> bool,
    ) -> Result<()> {
        let mut index = self.read_index()?;
        if !change(&mut index) {
            return Ok(());
        }
        let file = IndexFile {
            version: FORMAT_VERSION,
            entries: index.into_values().collect(),
        };
        let text = serde_json::to_string_pretty(&file).expect("index entries serialize");
        write_private(&self.index(), text.as_bytes())
    }
}

fn io_error(op: &'static str, path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// Replaces `path` with `bytes` atomically: a new owner-only temp file in the same
/// directory, written and synced, then renamed over `path`. The content is never readable
/// by others, not even for a moment, and readers see the old file or the new one.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path
        .parent()
        .expect("store files live in the config directory");
    lock::create_private_dir(dir).map_err(|e| io_error("create directory", dir, e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("store");
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut file = options
            .open(&tmp)
            .map_err(|e| io_error("create", &tmp, e))?;
        file.write_all(bytes)
            .map_err(|e| io_error("write", &tmp, e))?;
        file.sync_all().map_err(|e| io_error("sync", &tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(|e| io_error("replace", path, e))?;
        #[cfg(unix)]
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("sync", dir, e))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ACCESS, assert_secret_free, read, tokens};
    use super::super::{Store, StoreChoice};
    use std::path::Path;

    /// The credentials and index files are 0600 in a 0700 directory, even when a
    /// world-readable file was there before.
    #[cfg(unix)]
    #[tokio::test]
    async fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("config/mcp-bridge");
        let store = Store::open(StoreChoice::File, dir.clone());
        store
            .save_tokens("tokens:a", &tokens("https://a.example", ACCESS))
            .await
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("credentials.json")), 0o600);
        assert_eq!(mode(&dir.join("index.json")), 0o600);

        std::fs::set_permissions(
            dir.join("credentials.json"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        store
            .save_tokens("tokens:b", &tokens("https://b.example", ACCESS))
            .await
            .unwrap();
        assert_eq!(mode(&dir.join("credentials.json")), 0o600);
    }

    /// A save replaces the file with a new one (rename, not an in-place rewrite) and leaves
    /// no temp files behind; the old content stays intact until the rename.
    #[cfg(unix)]
    #[tokio::test]
    async fn writes_replace_atomically() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreChoice::File, dir.path().to_owned());
        let path = dir.path().join("credentials.json");
        store
            .save_tokens("tokens:a", &tokens("https://a.example", "first"))
            .await
            .unwrap();
        let before = std::fs::metadata(&path).unwrap().ino();
        // A reader holding the old file keeps seeing the complete old content.
        let old = std::fs::File::open(&path).unwrap();
        store
            .save_tokens("tokens:a", &tokens("https://a.example", "second"))
            .await
            .unwrap();
        assert_ne!(std::fs::metadata(&path).unwrap().ino(), before);
        let old_text = std::io::read_to_string(old).unwrap();
        assert!(old_text.contains("first") && !old_text.contains("second"));
        assert!(read(&path).contains("second"));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    /// Two stores (two processes) saving different keys at the same time lose nothing:
    /// every write re-reads the file under the store lock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(StoreChoice::File, dir.path().to_owned());
        let b = Store::open(StoreChoice::File, dir.path().to_owned());
        let mut tasks = Vec::new();
        for i in 0..20 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                let key = format!("tokens:{i}");
                store
                    .save_tokens(&key, &tokens(&format!("https://{i}.example"), ACCESS))
                    .await
                    .unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(a.list().await.unwrap().len(), 20);
        for i in 0..20 {
            assert!(
                b.load_tokens(&format!("tokens:{i}"))
                    .await
                    .unwrap()
                    .is_some(),
                "lost {i}"
            );
        }
    }

    /// A damaged file gives an error naming it, without quoting its content.
    #[tokio::test]
    async fn damaged_file_is_reported_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let doc = format!(
            r#"{{"version":1,"items":{{"tokens:x":{{"server_url":"s","issuer":"i","client_id":"c","access_token":"a","token_type":"Bearer","obtained_at":"{ACCESS}"}}}}}}"#
        );
        std::fs::write(dir.path().join("credentials.json"), doc).unwrap();
        let store = Store::open(StoreChoice::File, dir.path().to_owned());
        let err = store.load_tokens("tokens:x").await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains("tokens:x"), "{text}");
        assert_secret_free(&text);

        std::fs::write(
            dir.path().join("credentials.json"),
            format!("{{\"version\":1,\"items\":{{\"k\": {ACCESS}"),
        )
        .unwrap();
        let err = store.load_tokens("tokens:x").await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains("credentials.json"), "{text}");
        assert_secret_free(&text);
        // Nothing is overwritten while the file is damaged.
        assert!(
            store
                .save_tokens("tokens:y", &tokens("https://y.example", "t"))
                .await
                .is_err()
        );
        assert!(read(dir.path().join("credentials.json")).contains(ACCESS));
    }
}
