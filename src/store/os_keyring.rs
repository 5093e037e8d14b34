//! The OS keyring (Secret Service, Keychain, Credential Manager) through the `keyring`
//! crate, behind a small trait so the store's routing can be tested with fakes.
//!
//! Every call blocks (D-Bus round trips, possibly an unlock prompt): the store runs them on
//! blocking threads with a time limit. Errors are reduced to text from `Display` only,
//! because the `Debug` form of some `keyring` errors carries the stored bytes.

use super::{KEYRING_SERVICE, StoreError, one_line};
use crate::secret::Secret;

/// The start of the name of the entry the probe writes, reads back and deletes at once (the
/// rest makes it unique, so bridges starting together never see each other's). Not a valid
/// item key, so it never shows up as one. Earlier versions left an entry of exactly this
/// name in place; the probe removes it.
pub(super) const PROBE_USER: &str = "mcp-bridge keyring probe";
const PROBE_VALUE: &str = "written by mcp-bridge to check that the keyring works; safe to delete";

/// What the store needs from a keyring; the real one is [`OsKeyring`], tests use fakes.
pub(super) trait KeyringApi: Send + Sync {
    /// The secret stored for `user`, if any.
    fn get(&self, user: &str) -> Result<Option<Secret>, KeyringFault>;
    /// Stores `secret` for `user`.
    fn set(&self, user: &str, secret: &Secret) -> Result<(), KeyringFault>;
    /// Deletes the entry for `user`; false if there was none.
    fn delete(&self, user: &str) -> Result<bool, KeyringFault>;
}

/// A keyring failure, reduced to what the store branches on. Never holds a secret.
#[derive(Debug)]
pub(super) enum KeyringFault {
    /// The item is larger than the platform allows.
    TooLong(String),
    /// Anything else, as the platform described it.
    Failed(String),
}

impl std::fmt::Display for KeyringFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyringFault::TooLong(reason) | KeyringFault::Failed(reason) => f.write_str(reason),
        }
    }
}

impl KeyringFault {
    pub(super) fn into_error(self, op: &'static str, key: &str) -> StoreError {
        StoreError::Keyring {
            op,
            key: key.to_owned(),
            reason: one_line(&self.to_string()),
        }
    }
}

/// Checks that the keyring can be written, read back and cleaned up, leaving nothing behind.
pub(super) fn probe_keyring(keyring: &dyn KeyringApi) -> Result<(), String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let user = format!("{PROBE_USER} {}-{nanos}", std::process::id());
    let marker = Secret::new(PROBE_VALUE.to_owned());
    keyring
        .set(&user, &marker)
        .map_err(|f| format!("cannot write a test entry: {f}"))?;
    let read = keyring.get(&user);
    let deleted = keyring.delete(&user);
    // What an earlier version left behind; nothing depends on it any more.
    let _ = keyring.delete(PROBE_USER);
    match read.map_err(|f| f.to_string())? {
        Some(read) if read == marker => {}
        _ => return Err("a test entry written to it could not be read back".to_owned()),
    }
    deleted
        .map(|_| ())
        .map_err(|f| format!("cannot delete a test entry: {f}"))
}

/// The platform keyring, through the `keyring` crate (its calls block).
pub(super) struct OsKeyring;

impl OsKeyring {
    fn entry(user: &str) -> Result<keyring::Entry, KeyringFault> {
        keyring::Entry::new(KEYRING_SERVICE, user).map_err(|e| {
            match (e, keyring::Entry::store_status()) {
                // The store failed to initialize: its own error says why (no D-Bus session,
                // no Secret Service, ...), which beats "no default store".
                (keyring::Error::NoDefaultStore, Err(init)) => KeyringFault::Failed(describe(init)),
                (e, _) => KeyringFault::from(e),
            }
        })
    }
}

impl KeyringApi for OsKeyring {
    fn get(&self, user: &str) -> Result<Option<Secret>, KeyringFault> {
        match Self::entry(user)?.get_password() {
            Ok(secret) => Ok(Some(Secret::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn set(&self, user: &str, secret: &Secret) -> Result<(), KeyringFault> {
        Ok(Self::entry(user)?.set_password(secret.expose())?)
    }

    fn delete(&self, user: &str) -> Result<bool, KeyringFault> {
        match Self::entry(user)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

impl From<keyring::Error> for KeyringFault {
    fn from(e: keyring::Error) -> Self {
        match e {
            keyring::Error::TooLong(..) => KeyringFault::TooLong(describe(&e)),
            e => KeyringFault::Failed(describe(&e)),
        }
    }
}

/// A keyring error with its causes, in words. Only `Display` is used: the `Debug` form of
/// some variants carries the stored bytes.
fn describe(e: &keyring::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ACCESS, assert_secret_free, read, registration, tokens};
    use super::super::{Location, Store, StoreChoice, StoreError};
    use super::*;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// Time limit for the fakes' probes.
    const TIMEOUT: Duration = Duration::from_secs(10);

    /// A keyring in memory, optionally broken, slow, or with a size limit like Windows'.
    #[derive(Default)]
    struct FakeKeyring {
        items: Mutex<HashMap<String, Secret>>,
        broken: Option<&'static str>,
        limit: Option<usize>,
        slow: Option<Duration>,
    }

    impl KeyringApi for FakeKeyring {
        fn get(&self, user: &str) -> Result<Option<Secret>, KeyringFault> {
            if let Some(delay) = self.slow {
                std::thread::sleep(delay);
            }
            if let Some(why) = self.broken {
                return Err(KeyringFault::Failed(why.into()));
            }
            Ok(self.items.lock().unwrap().get(user).cloned())
        }
        fn set(&self, user: &str, secret: &Secret) -> Result<(), KeyringFault> {
            if let Some(why) = self.broken {
                return Err(KeyringFault::Failed(why.into()));
            }
            if self
                .limit
                .is_some_and(|limit| secret.expose().len() > limit)
            {
                return Err(KeyringFault::TooLong("too long for the platform".into()));
            }
            self.items
                .lock()
                .unwrap()
                .insert(user.into(), secret.clone());
            Ok(())
        }
        fn delete(&self, user: &str) -> Result<bool, KeyringFault> {
            Ok(self.items.lock().unwrap().remove(user).is_some())
        }
    }

    impl FakeKeyring {
        fn holds(&self, user: &str) -> bool {
            self.items.lock().unwrap().contains_key(user)
        }

        fn holds_any(&self, prefix: &str) -> bool {
            self.items
                .lock()
                .unwrap()
                .keys()
                .any(|k| k.starts_with(prefix))
        }
    }

    /// With a working keyring, `auto` uses it: the secret is in the keyring, the index says
    /// so, and no credentials file is written.
    #[tokio::test]
    async fn auto_prefers_a_working_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Arc::new(FakeKeyring::default());
        let store = Store::open_with(
            StoreChoice::Auto,
            dir.path().to_owned(),
            keyring.clone(),
            TIMEOUT,
        );
        assert_eq!(store.backend().await.unwrap(), Location::Keyring);
        assert!(
            !keyring.holds_any(PROBE_USER),
            "the probe leaves nothing behind"
        );
        store
            .save_tokens("tokens:k", &tokens("https://k.example", ACCESS))
            .await
            .unwrap();
        assert!(keyring.holds("tokens:k"));
        assert!(!dir.path().join("credentials.json").exists());
        assert_secret_free(&read(dir.path().join("index.json")));
        assert_eq!(store.list().await.unwrap()[0].backend, Location::Keyring);
        assert_eq!(
            store.load_tokens("tokens:k").await.unwrap(),
            Some(tokens("https://k.example", ACCESS))
        );
        assert!(store.delete_tokens("tokens:k").await.unwrap());
        assert!(!keyring.holds("tokens:k"));
        assert!(store.list().await.unwrap().is_empty());
    }

    /// A broken keyring makes `auto` fall back to the file and `keyring` fail with the
    /// platform's reason.
    #[tokio::test]
    async fn auto_falls_back_from_a_broken_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let broken = || {
            Arc::new(FakeKeyring {
                broken: Some("no secret\nservice"),
                ..Default::default()
            })
        };
        let store = Store::open_with(StoreChoice::Auto, dir.path().to_owned(), broken(), TIMEOUT);
        assert_eq!(store.backend().await.unwrap(), Location::File);
        store
            .save_tokens("tokens:f", &tokens("https://f.example", ACCESS))
            .await
            .unwrap();
        assert!(read(dir.path().join("credentials.json")).contains(ACCESS));

        let err = Store::open_with(
            StoreChoice::Keyring,
            dir.path().to_owned(),
            broken(),
            TIMEOUT,
        )
        .backend()
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::KeyringUnavailable { .. }));
        assert!(err.to_string().contains("no secret service"), "{err}");
    }

    /// A keyring that does not answer (a hung D-Bus service, an unanswered unlock prompt)
    /// makes `auto` fall back after the time limit instead of hanging.
    #[tokio::test]
    async fn probe_gives_up_on_a_hung_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let slow = || {
            Arc::new(FakeKeyring {
                slow: Some(Duration::from_millis(300)),
                ..Default::default()
            })
        };
        let quick = Duration::from_millis(50);
        let store = Store::open_with(StoreChoice::Auto, dir.path().to_owned(), slow(), quick);
        assert_eq!(store.backend().await.unwrap(), Location::File);
        let err = Store::open_with(StoreChoice::Keyring, dir.path().to_owned(), slow(), quick)
            .backend()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no answer within 50ms"), "{err}");
    }

    /// An item too large for the keyring goes to the file; the next small save goes back to
    /// the keyring and removes the file copy; a stale copy never shadows the newer one.
    #[tokio::test]
    async fn oversized_items_spill_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Arc::new(FakeKeyring {
            limit: Some(1000),
            ..Default::default()
        });
        let store = Store::open_with(
            StoreChoice::Keyring,
            dir.path().to_owned(),
            keyring.clone(),
            TIMEOUT,
        );
        store
            .save_tokens("tokens:s", &tokens("https://s.example", "small-1"))
            .await
            .unwrap();
        assert!(keyring.holds("tokens:s"));

        let big = "b".repeat(5000);
        store
            .save_tokens("tokens:s", &tokens("https://s.example", &big))
            .await
            .unwrap();
        assert!(!keyring.holds("tokens:s"), "stale keyring copy removed");
        assert_eq!(store.list().await.unwrap()[0].backend, Location::File);
        assert_eq!(
            store
                .load_tokens("tokens:s")
                .await
                .unwrap()
                .unwrap()
                .access_token
                .expose(),
            big
        );

        // Even if the keyring copy could not be removed, the index points at the file.
        keyring
            .set(
                "tokens:s",
                &Secret::new(serde_json::to_string(&tokens("https://s.example", "stale")).unwrap()),
            )
            .unwrap();
        assert_eq!(
            store
                .load_tokens("tokens:s")
                .await
                .unwrap()
                .unwrap()
                .access_token
                .expose(),
            big
        );

        store
            .save_tokens("tokens:s", &tokens("https://s.example", "small-2"))
            .await
            .unwrap();
        assert!(!read(dir.path().join("credentials.json")).contains(&big));
        assert_eq!(store.list().await.unwrap()[0].backend, Location::Keyring);
        assert_eq!(
            store
                .load_tokens("tokens:s")
                .await
                .unwrap()
                .unwrap()
                .access_token
                .expose(),
            "small-2"
        );
        assert!(store.delete_tokens("tokens:s").await.unwrap());
        assert_eq!(store.load_tokens("tokens:s").await.unwrap(), None);
    }

    /// Set to 1 to run the `keyring_*` tests against the real OS keyring.
    const TEST_KEYRING: &str = "MCP_BRIDGE_TEST_KEYRING";
    /// Set to 1 to run [`fallback_without_os_keyring`] where no keyring works.
    const TEST_NO_KEYRING: &str = "MCP_BRIDGE_TEST_NO_KEYRING";

    // --- the real OS keyring (run by scripts/test.sh inside a throwaway Secret Service) ---

    /// Whether the real-keyring tests may run; if not, says so loudly.
    fn real_keyring(test: &str) -> bool {
        if std::env::var(TEST_KEYRING).as_deref() == Ok("1") {
            return true;
        }
        eprintln!(
            "SKIPPED: {test} needs a real OS keyring; set {TEST_KEYRING}=1 (scripts/test.sh does)"
        );
        false
    }

    /// A key no other test run uses.
    fn unique(prefix: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("{prefix}:test-{}-{nanos}", std::process::id())
    }

    /// The real keyring round-trips tokens and a registration, keeps the secrets out of the
    /// config directory, and forgets them on delete.
    #[tokio::test]
    async fn keyring_round_trip() {
        if !real_keyring("keyring_round_trip") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreChoice::Keyring, dir.path().to_owned());
        assert_eq!(store.backend().await.unwrap(), Location::Keyring);
        let (tk, rk) = (unique("tokens"), unique("registration"));
        store
            .save_tokens(&tk, &tokens("https://mcp.example/mcp", ACCESS))
            .await
            .unwrap();
        store.save_registration(&rk, &registration()).await.unwrap();

        let fresh = Store::open(StoreChoice::Keyring, dir.path().to_owned());
        assert_eq!(
            fresh.load_tokens(&tk).await.unwrap(),
            Some(tokens("https://mcp.example/mcp", ACCESS))
        );
        assert_eq!(
            fresh.load_registration(&rk).await.unwrap(),
            Some(registration())
        );
        assert!(
            !dir.path().join("credentials.json").exists(),
            "no file copy"
        );
        let index = read(dir.path().join("index.json"));
        assert!(index.contains(&tk) && index.contains(&rk));
        assert_secret_free(&index);
        assert!(
            fresh
                .list()
                .await
                .unwrap()
                .iter()
                .all(|e| e.backend == Location::Keyring)
        );

        assert!(fresh.delete_tokens(&tk).await.unwrap());
        assert!(fresh.delete_registration(&rk).await.unwrap());
        assert!(!fresh.delete_tokens(&tk).await.unwrap());
        assert_eq!(store.load_tokens(&tk).await.unwrap(), None);
        assert_eq!(store.load_registration(&rk).await.unwrap(), None);
        assert!(store.list().await.unwrap().is_empty());
    }

    /// With a working keyring, `auto` picks it, and large items (long JWTs) fit.
    #[tokio::test]
    async fn keyring_auto_picks_it_and_holds_large_items() {
        if !real_keyring("keyring_auto_picks_it_and_holds_large_items") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreChoice::Auto, dir.path().to_owned());
        assert_eq!(store.backend().await.unwrap(), Location::Keyring);
        let key = unique("tokens");
        let big = format!("{ACCESS}{}", "x".repeat(64 * 1024));
        store
            .save_tokens(&key, &tokens("https://big.example", &big))
            .await
            .unwrap();
        assert_eq!(
            store
                .load_tokens(&key)
                .await
                .unwrap()
                .unwrap()
                .access_token
                .expose(),
            big
        );
        assert!(!read(dir.path().join("index.json")).contains(ACCESS));
        assert!(store.delete_tokens(&key).await.unwrap());
        assert_eq!(store.load_tokens(&key).await.unwrap(), None);
    }

    /// Where the OS keyring does not work (no D-Bus session bus, or a Secret Service
    /// without a default collection), `auto` falls back to the file with one warning and
    /// `keyring` fails saying why. scripts/test.sh runs it in both situations.
    #[tokio::test]
    async fn fallback_without_os_keyring() {
        if std::env::var(TEST_NO_KEYRING).as_deref() != Ok("1") {
            eprintln!(
                "SKIPPED: fallback_without_os_keyring needs a machine without a usable keyring; \
                 set {TEST_NO_KEYRING}=1 (scripts/test.sh does)"
            );
            return;
        }
        // Show the fallback warning in the test output.
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let dir = tempfile::tempdir().unwrap();
        let err = Store::open(StoreChoice::Keyring, dir.path().to_owned())
            .backend()
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::KeyringUnavailable { .. }),
            "{err}"
        );
        eprintln!("--store keyring: {err}");
        let store = Store::open(StoreChoice::Auto, dir.path().to_owned());
        assert_eq!(store.backend().await.unwrap(), Location::File);
        store
            .save_tokens("tokens:f", &tokens("https://f.example", ACCESS))
            .await
            .unwrap();
        assert!(read(dir.path().join("credentials.json")).contains(ACCESS));
        assert_eq!(store.list().await.unwrap()[0].backend, Location::File);
    }
}
