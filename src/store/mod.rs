//! Where credentials live: tokens per MCP server and client registrations per
//! authorization server, in the OS keyring or in a private file, plus a secret-free index.
//!
//! Backends ([`StoreChoice`]):
//! - **keyring**: the OS credential store (Secret Service over D-Bus on Linux and the BSDs,
//!   Keychain on macOS, Credential Manager on Windows), through the `keyring` crate. One
//!   entry per item: service `mcp-bridge`, user = the item's key, secret = the item as JSON.
//!   An item too large for the platform (Windows caps a credential at 2560 bytes) spills
//!   into the credentials file instead; whichever copy is written last wins and the other is
//!   removed.
//! - **file**: `<config dir>/credentials.json`, a map from key to item, mode 0600 in a 0700
//!   directory, replaced atomically (private temp file, fsync, rename).
//! - **memory**: this process only (tests, `--store memory`).
//! - **auto** (the default): the keyring if a probe shows it works, else the file, with one
//!   warning saying so.
//!
//! Keyrings cannot be listed, so every save and delete also maintains
//! `<config dir>/index.json`: what is stored where (server, issuer, client id, scopes,
//! expiry), never a secret. `status` and `logout --all` read it.
//!
//! Several bridge processes share these files: each read-modify-write holds the store lock
//! (`<config dir>/store.lock`) and re-reads the file under it. Deciding who runs a login or a
//! refresh is not done here but in `lock.rs`. Keys are computed by the caller with
//! [`tokens_key`] and [`registration_key`]; this module never interprets URLs.
//!
//! This file holds the types and the routing between backends; `store/file.rs` the files,
//! `store/os_keyring.rs` the keyring.

mod file;
mod items;
pub(crate) use file::write_private;
pub(crate) use items::{
    GrantKind, IndexEntry, ItemKind, Location, Registration, StoreChoice, Tokens,
};
use items::{Item, check_key, registration_key, tokens_key};
pub(crate) mod lock;
mod os_keyring;

use crate::secret::Secret;
use file::Files;
use os_keyring::{KeyringApi, KeyringFault, OsKeyring, probe_keyring};
use serde::de::DeserializeOwned;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The keyring service name every entry is filed under.
pub(crate) const KEYRING_SERVICE: &str = "mcp-bridge";
/// How long a keyring call (or a wait for the store lock) may take. A locked keyring may
/// show an unlock prompt; a hung D-Bus service must not hang the bridge forever.
const OP_TIMEOUT: Duration = Duration::from_secs(30);
/// Version of the file formats written here.
const FORMAT_VERSION: u32 = 1;

/// What can go wrong storing credentials. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// `--store keyring` was asked for, but the OS keyring does not work here.
    #[error("no usable OS keyring ({reason}); use `--store file` to keep credentials in a file")]
    KeyringUnavailable { reason: String },
    /// A keyring call failed.
    #[error("keyring {op} of {key} failed: {reason}")]
    Keyring {
        op: &'static str,
        key: String,
        reason: String,
    },
    /// A keyring call or the store lock took longer than [`OP_TIMEOUT`].
    #[error("{what} did not finish within {}s", OP_TIMEOUT.as_secs())]
    Timeout { what: String },
    /// A file or directory could not be read or written.
    #[error("cannot {op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A stored document did not parse. `what` names the file or keyring entry.
    #[error(
        "{what} is damaged ({reason}); delete it (or run `mcp-bridge logout`) and sign in again"
    )]
    Corrupt { what: String, reason: String },
    /// The store lock could not be taken.
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    /// A key from outside [`tokens_key`] and [`registration_key`] that is not usable.
    #[error("invalid credential key {key:?}")]
    InvalidKey { key: String },
    /// Neither `MCP_BRIDGE_CONFIG_DIR` nor a home directory is known.
    #[error(
        "cannot find a config directory: set {} or HOME",
        crate::env::MCP_BRIDGE_CONFIG_DIR
    )]
    NoConfigDir,
    /// The blocking task was cancelled (the runtime is shutting down).
    #[error("credential store operation interrupted")]
    Interrupted,
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The config directory: `MCP_BRIDGE_CONFIG_DIR` if set, else the OS one
/// (`~/.config/mcp-bridge`, `~/Library/Application Support/mcp-bridge`,
/// `%APPDATA%\mcp-bridge\config`).
pub(crate) fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(crate::env::MCP_BRIDGE_CONFIG_DIR)
        && !dir.is_empty()
    {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "mcp-bridge")
        .map(|dirs| dirs.config_dir().to_owned())
        .ok_or(StoreError::NoConfigDir)
}

/// The credential store. Cheap to clone; clones share the backend.
///
/// Opening it costs nothing: the OS keyring is probed when an item is first read or written,
/// so questions the index answers (what is stored, for which server) never touch it.
#[derive(Clone)]
pub(crate) struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("choice", &self.inner.choice)
            .field("config_dir", &self.inner.files.dir)
            .finish()
    }
}

struct Inner {
    /// The config directory's files (also used by keyring stores, for the index and for
    /// items too large for the keyring; unused by memory stores).
    files: Files,
    /// What the user asked for.
    choice: StoreChoice,
    /// The keyring to probe and use for `Auto` and `Keyring`.
    keyring: Arc<dyn KeyringApi>,
    /// How long the keyring probe may take.
    probe_timeout: Duration,
    /// Where items go; decided on first use (after the keyring probe).
    engine: tokio::sync::OnceCell<Engine>,
}

enum Engine {
    Keyring(Arc<dyn KeyringApi>),
    File,
    Memory(Mutex<MemoryState>),
}

#[derive(Default)]
struct MemoryState {
    items: BTreeMap<String, Secret>,
    index: BTreeMap<String, IndexEntry>,
}

impl Store {
    /// The store of this kind in `config_dir`. `Auto` uses the OS keyring if a probe (made
    /// on first use) shows it works, else the credentials file, logging one warning
    /// (`tracing::warn!`, once per process) that says so and why.
    pub(crate) fn open(kind: StoreChoice, config_dir: PathBuf) -> Store {
        Self::open_with(kind, config_dir, Arc::new(OsKeyring), OP_TIMEOUT)
    }

    /// A memory store (for tests).
    #[cfg(test)]
    pub(crate) fn memory(config_dir: PathBuf) -> Store {
        Store::open(StoreChoice::Memory, config_dir)
    }

    fn open_with(
        choice: StoreChoice,
        config_dir: PathBuf,
        keyring: Arc<dyn KeyringApi>,
        probe_timeout: Duration,
    ) -> Store {
        let engine = match choice {
            StoreChoice::Memory => Some(Engine::Memory(Mutex::default())),
            StoreChoice::File => Some(Engine::File),
            StoreChoice::Keyring | StoreChoice::Auto => None,
        };
        Store {
            inner: Arc::new(Inner {
                files: Files::new(config_dir),
                choice,
                keyring,
                probe_timeout,
                engine: tokio::sync::OnceCell::new_with(engine),
            }),
        }
    }

    /// Decides where items go now (probing the keyring if that is not known yet), so that
    /// a store that cannot work says so.
    pub(crate) async fn check(&self) -> Result<()> {
        self.engine().await.map(|_| ())
    }

    /// Where new items are stored (probing the keyring if that is not known yet).
    #[cfg(test)]
    pub(crate) async fn backend(&self) -> Result<Location> {
        Ok(match self.engine().await? {
            Engine::Keyring(_) => Location::Keyring,
            Engine::File => Location::File,
            Engine::Memory(_) => Location::Memory,
        })
    }

    // --- Questions and answers: what callers use ---------------------------------------

    /// The tokens stored for the MCP server `server` (its canonical URL), whichever
    /// authorization server issued them.
    pub(crate) async fn tokens_for(&self, server: &str) -> Result<Option<Tokens>> {
        let key = self
            .entries()
            .await?
            .into_iter()
            .find(|e| e.kind == ItemKind::Tokens && e.server_url.as_deref() == Some(server))
            .map(|e| e.key);
        match key {
            Some(key) => self.load_tokens(&key).await,
            None => Ok(None),
        }
    }

    /// Stores `tokens` for their server, replacing whatever that server had, from any
    /// authorization server.
    pub(crate) async fn put_tokens(&self, tokens: &Tokens) -> Result<()> {
        let key = tokens_key(&tokens.server_url, &tokens.issuer);
        for entry in self.token_entries(&tokens.server_url).await? {
            if entry.key != key {
                self.delete(&entry.key).await?;
            }
        }
        self.save_tokens(&key, tokens).await
    }

    /// Forgets every token stored for `server`; returns what was forgotten.
    pub(crate) async fn forget_tokens_for(&self, server: &str) -> Result<Vec<IndexEntry>> {
        let entries = self.token_entries(server).await?;
        for entry in &entries {
            self.delete(&entry.key).await?;
        }
        Ok(entries)
    }

    /// The client registered at `issuer` for `redirect_uri`, if any.
    pub(crate) async fn registration(
        &self,
        issuer: &str,
        redirect_uri: &str,
    ) -> Result<Option<Registration>> {
        let found: Option<Registration> =
            self.load(&registration_key(issuer, redirect_uri)).await?;
        Ok(found.filter(|r| r.issuer == issuer && r.redirect_uri == redirect_uri))
    }

    /// The registration of `client_id` at `issuer`, whatever redirect URI it has.
    pub(crate) async fn registration_of(
        &self,
        issuer: &str,
        client_id: &str,
    ) -> Result<Option<Registration>> {
        for entry in self.entries().await? {
            if entry.kind == ItemKind::Registration
                && entry.issuer == issuer
                && entry.client_id == client_id
                && let Some(found) = self.load_registration(&entry.key).await?
            {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Stores a registration, under its issuer and redirect URI.
    pub(crate) async fn put_registration(&self, registration: &Registration) -> Result<()> {
        let key = registration_key(&registration.issuer, &registration.redirect_uri);
        self.save_registration(&key, registration).await
    }

    /// Forgets the registration at `issuer` for `redirect_uri`; false if there was none.
    pub(crate) async fn forget_registration(
        &self,
        issuer: &str,
        redirect_uri: &str,
    ) -> Result<bool> {
        self.delete(&registration_key(issuer, redirect_uri)).await
    }

    /// The tokens behind an index entry (from [`Store::entries`]).
    pub(crate) async fn tokens_of(&self, entry: &IndexEntry) -> Result<Option<Tokens>> {
        self.load_tokens(&entry.key).await
    }

    /// Forgets the item behind an index entry; false if it was gone already.
    pub(crate) async fn forget(&self, entry: &IndexEntry) -> Result<bool> {
        self.delete(&entry.key).await
    }

    /// Whether anything may be stored for `server`. Reads only the index: servers that never
    /// needed authorization cost no keyring round trip at start-up.
    pub(crate) async fn mentions(&self, server: &str) -> bool {
        match self.entries().await {
            Ok(entries) => entries
                .iter()
                .any(|e| e.server_url.as_deref() == Some(server)),
            Err(e) => {
                tracing::debug!("could not read the credential index: {e}");
                // Unknown: let the caller look, and meet the real error there.
                true
            }
        }
    }

    /// Everything stored, sorted by key, without secrets. Reads only the index.
    pub(crate) async fn entries(&self) -> Result<Vec<IndexEntry>> {
        if let Some(Engine::Memory(state)) = self.inner.engine.get() {
            return Ok(lock_memory(state).index.values().cloned().collect());
        }
        let files = self.inner.files.clone();
        run_blocking(OP_TIMEOUT, "the credential index", move || {
            Ok(files.read_index()?.into_values().collect())
        })
        .await?
    }

    async fn token_entries(&self, server: &str) -> Result<Vec<IndexEntry>> {
        Ok(self
            .entries()
            .await?
            .into_iter()
            .filter(|e| e.kind == ItemKind::Tokens && e.server_url.as_deref() == Some(server))
            .collect())
    }

    // --- Items by key: the store's own plumbing ------------------------------------------

    /// The stored tokens under `key`, if any.
    async fn load_tokens(&self, key: &str) -> Result<Option<Tokens>> {
        self.load(key).await
    }

    /// Stores `tokens` under `key`, replacing what was there.
    async fn save_tokens(&self, key: &str, tokens: &Tokens) -> Result<()> {
        self.save(key, tokens).await
    }

    /// Forgets the tokens under `key`; false if there were none.
    #[cfg(test)]
    async fn delete_tokens(&self, key: &str) -> Result<bool> {
        self.delete(key).await
    }

    /// The stored client registration under `key`, if any.
    async fn load_registration(&self, key: &str) -> Result<Option<Registration>> {
        self.load(key).await
    }

    /// Stores `registration` under `key`, replacing what was there.
    async fn save_registration(&self, key: &str, registration: &Registration) -> Result<()> {
        self.save(key, registration).await
    }

    /// Forgets the registration under `key`; false if there was none.
    #[cfg(test)]
    async fn delete_registration(&self, key: &str) -> Result<bool> {
        self.delete(key).await
    }

    /// Everything stored (the index), for the module's tests.
    #[cfg(test)]
    async fn list(&self) -> Result<Vec<IndexEntry>> {
        self.entries().await
    }

    async fn load<T: Item>(&self, key: &str) -> Result<Option<T>> {
        check_key(key)?;
        let key = key.to_owned();
        self.run(move |inner, engine| {
            let Some(json) = inner.get(engine, &key)? else {
                return Ok(None);
            };
            parse(json.expose(), || format!("stored item {key}")).map(Some)
        })
        .await
    }

    async fn save<T: Item>(&self, key: &str, item: &T) -> Result<()> {
        check_key(key)?;
        let json = Secret::new(
            serde_json::to_string(item).map_err(|e| StoreError::Corrupt {
                what: format!("item {key}"),
                reason: serde_reason(&e),
            })?,
        );
        let entry = item.index_entry(key);
        let key = key.to_owned();
        self.run(move |inner, engine| inner.put(engine, &key, &json, entry))
            .await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        check_key(key)?;
        let key = key.to_owned();
        self.run(move |inner, engine| inner.remove(engine, &key))
            .await
    }

    /// Decides where items go, probing the keyring the first time.
    async fn engine(&self) -> Result<&Engine> {
        let inner = &self.inner;
        inner
            .engine
            .get_or_try_init(|| async {
                let probe = inner.keyring.clone();
                let timeout = inner.probe_timeout;
                let outcome = match run_blocking(timeout, "the keyring probe", move || {
                    probe_keyring(&*probe)
                })
                .await
                {
                    Ok(outcome) => outcome,
                    Err(StoreError::Timeout { .. }) => Err(format!("no answer within {timeout:?}")),
                    Err(other) => return Err(other),
                };
                match outcome {
                    Ok(()) => Ok(Engine::Keyring(inner.keyring.clone())),
                    Err(reason) => {
                        let reason = one_line(&reason);
                        if inner.choice == StoreChoice::Keyring {
                            return Err(StoreError::KeyringUnavailable { reason });
                        }
                        warn_fallback(&reason, &inner.files.credentials());
                        Ok(Engine::File)
                    }
                }
            })
            .await
    }

    /// Runs `op` inline for memory stores, on a blocking thread for the others.
    async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Inner, &Engine) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let engine = self.engine().await?;
        if let Engine::Memory(_) = engine {
            return op(&self.inner, engine);
        }
        let what = match engine {
            Engine::Keyring(_) => "the keyring",
            _ => "the credentials file",
        };
        let inner = self.inner.clone();
        run_blocking(OP_TIMEOUT, what, move || {
            let engine = inner
                .engine
                .get()
                .expect("the engine was decided before this ran");
            op(&inner, engine)
        })
        .await?
    }
}

/// Runs `op` on a blocking thread, for at most `timeout`.
async fn run_blocking<T: Send + 'static>(
    timeout: Duration,
    what: &str,
    op: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(op)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(join)) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Ok(Err(_)) => Err(StoreError::Interrupted),
        Err(_) => Err(StoreError::Timeout {
            what: what.to_owned(),
        }),
    }
}

impl Inner {
    fn get(&self, engine: &Engine, key: &str) -> Result<Option<Secret>> {
        match engine {
            Engine::Memory(state) => Ok(lock_memory(state).items.get(key).cloned()),
            Engine::File => self.files.get_item(key),
            Engine::Keyring(keyring) => {
                // The index says where the last write went; read that copy first, so an
                // older copy in the other place can never shadow it.
                let in_file =
                    self.files.read_index()?.get(key).map(|e| e.backend) == Some(Location::File);
                if in_file && let Some(json) = self.files.get_item(key)? {
                    return Ok(Some(json));
                }
                match keyring.get(key).map_err(|f| f.into_error("read", key))? {
                    Some(json) => Ok(Some(json)),
                    None if !in_file => self.files.get_item(key),
                    None => Ok(None),
                }
            }
        }
    }

    fn put(&self, engine: &Engine, key: &str, json: &Secret, mut entry: IndexEntry) -> Result<()> {
        if let Engine::Memory(state) = engine {
            let mut state = lock_memory(state);
            state.items.insert(key.to_owned(), json.clone());
            state.index.insert(key.to_owned(), entry);
            return Ok(());
        }
        let _guard = self.files.lock()?;
        entry.backend = match engine {
            Engine::Keyring(keyring) => match keyring.set(key, json) {
                Ok(()) => {
                    self.files.remove_item(key)?;
                    Location::Keyring
                }
                Err(KeyringFault::TooLong(reason)) => {
                    tracing::debug!(
                        key,
                        reason,
                        "item too large for the keyring; storing it in the file"
                    );
                    self.files.put_item(key, json)?;
                    if let Err(fault) = keyring.delete(key) {
                        tracing::debug!(key, error = %fault, "could not remove the keyring copy");
                    }
                    Location::File
                }
                Err(fault) => return Err(fault.into_error("write", key)),
            },
            _ => {
                self.files.put_item(key, json)?;
                Location::File
            }
        };
        self.files.update_index(|index| {
            index.insert(key.to_owned(), entry);
            true
        })
    }

    fn remove(&self, engine: &Engine, key: &str) -> Result<bool> {
        if let Engine::Memory(state) = engine {
            let mut state = lock_memory(state);
            state.index.remove(key);
            return Ok(state.items.remove(key).is_some());
        }
        let _guard = self.files.lock()?;
        let in_file = self.files.remove_item(key)?;
        let in_keyring = match engine {
            Engine::Keyring(keyring) => keyring
                .delete(key)
                .map_err(|f| f.into_error("delete", key))?,
            _ => false,
        };
        let keyring_store = matches!(engine, Engine::Keyring(_));
        self.files.update_index(|index| {
            // A file store cannot reach the keyring: leave keyring items listed, so `status`
            // still shows them and a keyring store can delete them later.
            let drop_it = index
                .get(key)
                .is_some_and(|e| e.backend == Location::File || keyring_store);
            drop_it && index.remove(key).is_some()
        })?;
        Ok(in_file || in_keyring)
    }
}

fn lock_memory(state: &Mutex<MemoryState>) -> std::sync::MutexGuard<'_, MemoryState> {
    // A panic while holding the lock cannot leave the maps half-updated (each update is a
    // single insert or remove), so a poisoned lock is still usable.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Parses a stored document. The error names `what` and says where it broke, never what
/// the text was (serde's own messages can quote values, and values here are secrets).
fn parse<T: DeserializeOwned>(text: &str, what: impl FnOnce() -> String) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: what(),
        reason: serde_reason(&e),
    })
}

fn serde_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Io => "read error",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected content",
        Category::Eof => "truncated",
    };
    format!("{kind} at line {} column {}", e.line(), e.column())
}

/// Collapses a multi-line platform message into one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn warn_fallback(reason: &str, path: &Path) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.swap(true, Ordering::Relaxed) {
        return;
    }
    let private = if cfg!(unix) { " (mode 0600)" } else { "" };
    tracing::warn!(
        "no usable OS keyring ({reason}); credentials are kept in {}{private} instead",
        path.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const ACCESS: &str = "access-SECRET-4f1c9a";
    pub(super) const REFRESH: &str = "refresh-SECRET-77b2e0";
    pub(super) const CLIENT_SECRET: &str = "client-SECRET-90ad3e";
    pub(super) const RAT: &str = "rat-SECRET-1b5c77";

    pub(super) fn tokens(server: &str, access: &str) -> Tokens {
        Tokens {
            server_url: server.into(),
            issuer: "https://as.example".into(),
            client_id: "client-1".into(),
            access_token: Secret::new(access.into()),
            refresh_token: Some(Secret::new(REFRESH.into())),
            token_type: "Bearer".into(),
            scopes: vec!["read".into(), "write".into()],
            expires_at: Some(1_900_000_000),
            obtained_at: 1_800_000_000,
            resource: Some(server.to_owned()),
            redirect_uri: None,
            grant: GrantKind::Browser,
            dpop_key: None,
        }
    }

    pub(super) fn registration() -> Registration {
        Registration {
            issuer: "https://as.example".into(),
            client_id: "client-1".into(),
            client_secret: Some(Secret::new(CLIENT_SECRET.into())),
            redirect_uri: "http://127.0.0.1:33418/callback".into(),
            token_endpoint_auth_method: "client_secret_basic".into(),
            registration_access_token: Some(Secret::new(RAT.into())),
            created_at: 1_800_000_000,
        }
    }

    pub(super) fn assert_secret_free(text: &str) {
        for secret in [ACCESS, REFRESH, CLIENT_SECRET, RAT] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
    }

    pub(super) fn read(path: impl AsRef<Path>) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// Tokens and a registration survive a file-store round trip; deleting reports whether
    /// something was there.
    #[tokio::test]
    async fn file_store_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreChoice::File, dir.path().to_owned());
        assert_eq!(store.backend().await.unwrap(), Location::File);
        let (tk, rk) = (
            tokens_key("https://mcp.example/mcp", "https://as.example"),
            registration_key("https://as.example", "http://127.0.0.1:33418/callback"),
        );
        assert_eq!(store.load_tokens(&tk).await.unwrap(), None);
        store
            .save_tokens(&tk, &tokens("https://mcp.example/mcp", ACCESS))
            .await
            .unwrap();
        store.save_registration(&rk, &registration()).await.unwrap();

        // A second store on the same directory (another process) sees both.
        let other = Store::open(StoreChoice::File, dir.path().to_owned());
        assert_eq!(
            other.load_tokens(&tk).await.unwrap(),
            Some(tokens("https://mcp.example/mcp", ACCESS))
        );
        assert_eq!(
            other.load_registration(&rk).await.unwrap(),
            Some(registration())
        );

        assert!(store.delete_tokens(&tk).await.unwrap());
        assert!(!store.delete_tokens(&tk).await.unwrap());
        assert_eq!(other.load_tokens(&tk).await.unwrap(), None);
        assert_eq!(
            other.load_registration(&rk).await.unwrap(),
            Some(registration())
        );
        assert!(store.delete_registration(&rk).await.unwrap());
        assert_eq!(store.list().await.unwrap(), vec![]);
    }

    /// The index lists every item with its metadata and never a secret; deletes remove
    /// their line.
    #[tokio::test]
    async fn index_is_maintained_and_secret_free() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreChoice::File, dir.path().to_owned());
        let tk = tokens_key("https://mcp.example/mcp", "https://as.example");
        let rk = registration_key("https://as.example", "http://127.0.0.1:33418/callback");
        store
            .save_tokens(&tk, &tokens("https://mcp.example/mcp", ACCESS))
            .await
            .unwrap();
        store.save_registration(&rk, &registration()).await.unwrap();

        let list = store.list().await.unwrap();
        assert_eq!(list.len(), 2);
        let entry = list.iter().find(|e| e.key == tk).unwrap();
        assert_eq!(entry.kind, ItemKind::Tokens);
        assert_eq!(entry.server_url.as_deref(), Some("https://mcp.example/mcp"));
        assert_eq!(
            (entry.issuer.as_str(), entry.client_id.as_str()),
            ("https://as.example", "client-1")
        );
        assert_eq!(entry.scopes, ["read", "write"]);
        assert_eq!(entry.expires_at, Some(1_900_000_000));
        assert_eq!(entry.backend, Location::File);
        let reg = list.iter().find(|e| e.key == rk).unwrap();
        assert_eq!(
            (reg.kind, reg.server_url.as_ref()),
            (ItemKind::Registration, None)
        );

        let index = read(dir.path().join("index.json"));
        assert!(index.contains(&tk) && index.contains("https://mcp.example/mcp"));
        assert_secret_free(&index);
        assert_secret_free(&serde_json::to_string(&list).unwrap());
        // The credentials file does hold them (that is its job).
        assert!(read(dir.path().join("credentials.json")).contains(ACCESS));

        store.delete_tokens(&tk).await.unwrap();
        let keys: Vec<_> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(keys, [rk]);
    }

    /// Keys differ for different servers, tenants (paths), issuers and redirect URIs, and
    /// part boundaries cannot be shifted to forge a collision.
    #[test]
    fn keys_are_distinct() {
        let keys = [
            tokens_key("https://mcp.example/mcp", "https://as.example"),
            tokens_key("https://other.example/mcp", "https://as.example"),
            tokens_key("https://mcp.example/tenant-a/mcp", "https://as.example"),
            tokens_key("https://mcp.example/tenant-b/mcp", "https://as.example"),
            tokens_key("https://mcp.example/mcp", "https://as.example/tenant-a"),
            tokens_key("https://mcp.example/mcp", "https://login.example"),
            tokens_key("ab", "c"),
            tokens_key("a", "bc"),
            registration_key("https://as.example", "http://127.0.0.1:1/cb"),
            registration_key("https://as.example", "http://127.0.0.1:2/cb"),
            registration_key("https://mcp.example/mcp", "https://as.example"),
        ];
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "{keys:#?}");
        assert_eq!(
            keys[0],
            tokens_key("https://mcp.example/mcp", "https://as.example")
        );
        let (kind, hex) = keys[0].split_once(':').unwrap();
        assert_eq!(kind, "tokens");
        assert!(hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(keys[8].starts_with("registration:"));
        for key in &keys {
            check_key(key).unwrap();
        }
    }

    /// The memory store round-trips and lists without touching the disk.
    #[tokio::test]
    async fn memory_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreChoice::Memory, dir.path().to_owned());
        assert_eq!(store.backend().await.unwrap(), Location::Memory);
        store
            .save_tokens("tokens:m", &tokens("https://m.example", ACCESS))
            .await
            .unwrap();
        store
            .save_registration("registration:m", &registration())
            .await
            .unwrap();
        let clone = store.clone();
        assert_eq!(
            clone.load_tokens("tokens:m").await.unwrap(),
            Some(tokens("https://m.example", ACCESS))
        );
        assert_eq!(
            clone.load_registration("registration:m").await.unwrap(),
            Some(registration())
        );
        let list = store.list().await.unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.iter().all(|e| e.backend == Location::Memory));
        assert!(store.delete_tokens("tokens:m").await.unwrap());
        assert_eq!(store.load_tokens("tokens:m").await.unwrap(), None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// Keys that could escape a file name or confuse a keyring are refused.
    #[tokio::test]
    async fn odd_keys_are_refused() {
        let store = Store::memory(PathBuf::from("/nonexistent"));
        for key in ["", "../x", "tokens:a b", "tokens/a", &"k".repeat(200)] {
            let err = store.load_tokens(key).await.unwrap_err();
            assert!(matches!(err, StoreError::InvalidKey { .. }), "{key}: {err}");
        }
    }

    /// Debug output of stored items never shows a secret.
    #[test]
    fn items_debug_redacted() {
        assert_secret_free(&format!("{:?} {:?}", tokens("s", ACCESS), registration()));
    }
}
