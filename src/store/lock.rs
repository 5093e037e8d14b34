//! One browser login or token refresh at a time, across processes.
//!
//! Hosts often start several bridges for the same server at once. When they all get a 401,
//! only one of them may open the browser (or spend the refresh token: many authorization
//! servers rotate it, so a second refresh with the old one fails). The others wait for the
//! lock, then read what the winner stored.
//!
//! The lock is an exclusive OS file lock (`flock` on Unix, `LockFileEx` on Windows) on
//! `<config dir>/locks/<key>.lock`, taken through [`std::fs::File::try_lock`]. The OS drops
//! it when the holder exits or crashes, so a dead process never leaves a stale lock behind.
//! Lock files are never deleted: deleting one while another process waits on it would let
//! two processes hold "the" lock at once. The lock is held per open file, so two handles in
//! the same process exclude each other too.
//!
//! This module does not decide what is done under the lock; the OAuth client (`auth::OAuth`)
//! and the credential store do.

use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often a waiting process tries the lock again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// An exclusive lock on one key, held until this value is dropped.
#[derive(Debug)]
pub(crate) struct FlowLock {
    /// The open lock file; the OS lock lives as long as this handle.
    file: File,
    /// Where the lock file is, for messages.
    path: PathBuf,
    /// Whether another holder made us wait: if so, it has probably just stored fresh
    /// credentials, and the caller should read the store again before doing the work.
    waited: bool,
}

impl FlowLock {
    /// The lock file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// True if the lock was busy when we first asked for it.
    pub(crate) fn waited(&self) -> bool {
        self.waited
    }
}

impl Drop for FlowLock {
    fn drop(&mut self) {
        // Closing the handle releases the lock anyway; unlocking first makes the release
        // immediate even if something else still holds a duplicate of the handle.
        let _ = self.file.unlock();
    }
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    /// The lock file or its directory could not be created or locked.
    #[error("cannot lock {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process held the lock for longer than we were willing to wait.
    #[error(
        "another mcp-bridge process held the lock {path} for more than {}s (a sign-in still waiting for the browser?)",
        waited.as_secs()
    )]
    Timeout { path: PathBuf, waited: Duration },
    /// The caller gave up (shutdown) while waiting.
    #[error("cancelled while waiting for the lock {path}")]
    Cancelled { path: PathBuf },
}

/// The lock file for `key` under `config_dir`.
///
/// Keys made of ASCII letters, digits, `_`, `-` and `:` (everything `store::tokens_key` and
/// `store::registration_key` produce) keep their name, with `:` spelled `.` so the name is
/// valid on Windows too. Any other key becomes `~` and a hash of it. Both mappings are
/// one-to-one and cannot produce each other's names, so two keys never share a lock file.
pub(crate) fn lock_path(config_dir: &Path, key: &str) -> PathBuf {
    let plain = !key.is_empty()
        && key.len() <= 100
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'));
    let name = if plain {
        key.replace(':', ".")
    } else {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("~{hex}")
    };
    config_dir.join("locks").join(format!("{name}.lock"))
}

/// Takes the lock for `key` if nobody holds it; `None` if another handle does.
#[cfg(test)]
pub(crate) fn try_acquire(config_dir: &Path, key: &str) -> Result<Option<FlowLock>, LockError> {
    try_lock_file(&lock_path(config_dir, key))
}

/// Waits (polling, without blocking a runtime thread) until the lock for `key` is ours.
///
/// Gives up with [`LockError::Timeout`] after `timeout`, or [`LockError::Cancelled`] as soon
/// as `cancel` fires. The returned lock says whether we had to wait ([`FlowLock::waited`]).
pub(crate) async fn acquire(
    config_dir: &Path,
    key: &str,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<FlowLock, LockError> {
    let path = lock_path(config_dir, key);
    let started = Instant::now();
    let mut waited = false;
    loop {
        if cancel.is_cancelled() {
            return Err(LockError::Cancelled { path });
        }
        if let Some(mut lock) = try_lock_file(&path)? {
            lock.waited = waited;
            return Ok(lock);
        }
        if !waited {
            tracing::info!(
                lock = %path.display(),
                "waiting for another mcp-bridge process to finish signing in"
            );
            waited = true;
        }
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            return Err(LockError::Timeout {
                path,
                waited: elapsed,
            });
        }
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(LockError::Cancelled { path }),
            _ = tokio::time::sleep(POLL_INTERVAL.min(timeout - elapsed)) => {}
        }
    }
}

/// Waits for the lock on the file at `path` on the calling thread, polling. For code that
/// already runs on a blocking thread (the credential store's read-modify-write).
pub(crate) fn acquire_blocking(path: &Path, timeout: Duration) -> Result<FlowLock, LockError> {
    let started = Instant::now();
    let mut poll = Duration::from_millis(5);
    let mut waited = false;
    loop {
        if let Some(mut lock) = try_lock_file(path)? {
            lock.waited = waited;
            return Ok(lock);
        }
        waited = true;
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            return Err(LockError::Timeout {
                path: path.to_owned(),
                waited: elapsed,
            });
        }
        std::thread::sleep(poll.min(timeout - elapsed));
        poll = (poll * 2).min(POLL_INTERVAL);
    }
}

/// Opens (creating it and its directory, owner-only) and try-locks the file at `path`.
fn try_lock_file(path: &Path) -> Result<Option<FlowLock>, LockError> {
    let io_error = |source| LockError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(io_error)?;
    }
    let mut options = OpenOptions::new();
    // Write access: Windows needs it for an exclusive lock. Never truncate: the file is
    // empty anyway, and truncating a file someone else has locked is rude.
    options.read(true).write(true).create(true).truncate(false);
    // A symbolic link in its place (dangling or not) is never followed: an error, not a
    // file created or locked somewhere else.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(path).map_err(io_error)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(FlowLock {
            file,
            path: path.to_owned(),
            waited: false,
        })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(source)) => Err(io_error(source)),
    }
}

/// Creates `dir` and its missing parents, readable only by the owner (0700 on Unix).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    ensure_private(dir)?;
    Ok(())
}

/// Checks a directory that already existed (it may be a symbolic link to anywhere): it must
/// belong to this user, and what group and others may do with it is taken away.
#[cfg(unix)]
fn ensure_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(std::io::Error::other("it is not a directory"));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(std::io::Error::other(format!(
            "it belongs to another user (uid {}); refusing to keep credentials there",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{:o}", meta.mode() & 0o777),
            "the credentials directory was open to other users; made it owner-only (0700)"
        );
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Env var that turns [`child_holds_lock`] from a no-op into the lock-holding child.
    const CHILD_LOCK_PATH: &str = "MCP_BRIDGE_TEST_LOCK_CHILD";

    /// Keys from the store's helpers keep a readable name; anything else is hashed; no two
    /// keys share a file.
    #[test]
    fn lock_paths_are_distinct_and_safe() {
        let dir = Path::new("/cfg");
        assert_eq!(
            lock_path(dir, "tokens:0123abcd"),
            Path::new("/cfg/locks/tokens.0123abcd.lock")
        );
        let odd = lock_path(dir, "../../etc/passwd");
        assert_eq!(odd.parent(), Some(Path::new("/cfg/locks")));
        let name = odd.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with('~') && name.ends_with(".lock"), "{name}");
        assert_ne!(lock_path(dir, "a:b"), lock_path(dir, "a_b"));
        assert_ne!(lock_path(dir, "a.b"), lock_path(dir, "a:b"));
        assert_ne!(lock_path(dir, ""), lock_path(dir, "~"));
    }

    /// A second open file handle conflicts with a held lock, even in the same process, and
    /// the lock is free again once the holder is dropped.
    #[test]
    fn second_handle_conflicts_until_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = try_acquire(dir.path(), "k")
            .unwrap()
            .expect("free at first");
        assert!(try_acquire(dir.path(), "k").unwrap().is_none());
        assert!(try_acquire(dir.path(), "other").unwrap().is_some());
        drop(first);
        assert!(try_acquire(dir.path(), "k").unwrap().is_some());
    }

    /// The lock directory and file are private to the owner.
    #[cfg(unix)]
    #[test]
    fn lock_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let lock = try_acquire(dir.path(), "k").unwrap().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(lock.path()), 0o600);
        assert_eq!(mode(lock.path().parent().unwrap()), 0o700);
    }

    /// Two tasks asking for the same key run their critical sections one after the other,
    /// and the one that had to wait says so.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acquirers_serialize() {
        let dir = tempfile::tempdir().unwrap();
        let busy = Arc::new(AtomicBool::new(false));
        let cancel = CancellationToken::new();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (dir, busy, cancel) = (dir.path().to_owned(), busy.clone(), cancel.clone());
            tasks.push(tokio::spawn(async move {
                let lock = acquire(&dir, "tokens:x", Duration::from_secs(10), &cancel)
                    .await
                    .unwrap();
                assert!(!busy.swap(true, Ordering::SeqCst), "two holders at once");
                tokio::time::sleep(Duration::from_millis(150)).await;
                busy.store(false, Ordering::SeqCst);
                lock.waited()
            }));
        }
        let mut waited = 0;
        for task in tasks {
            waited += usize::from(task.await.unwrap());
        }
        assert!(waited >= 3, "at least three had to wait, got {waited}");
    }

    /// A waiter gives up after its timeout with an error naming the lock file.
    #[tokio::test]
    async fn acquire_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let _held = try_acquire(dir.path(), "k").unwrap().unwrap();
        let started = Instant::now();
        let err = acquire(
            dir.path(),
            "k",
            Duration::from_millis(300),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, LockError::Timeout { .. }), "{err:?}");
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(err.to_string().contains("k.lock"), "{err}");
    }

    /// Cancelling the token ends the wait promptly.
    #[tokio::test]
    async fn acquire_cancels() {
        let dir = tempfile::tempdir().unwrap();
        let _held = try_acquire(dir.path(), "k").unwrap().unwrap();
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            trigger.cancel();
        });
        let started = Instant::now();
        let err = acquire(dir.path(), "k", Duration::from_secs(30), &cancel)
            .await
            .unwrap_err();
        assert!(matches!(err, LockError::Cancelled { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// The blocking variant waits for a holder on another thread to let go.
    #[test]
    fn acquire_blocking_waits_for_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.lock");
        let held = acquire_blocking(&path, Duration::from_secs(1)).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        let started = Instant::now();
        let lock = acquire_blocking(&path, Duration::from_secs(10)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(lock.waited());
        releaser.join().unwrap();
        drop(lock);
        let err = {
            let _held = acquire_blocking(&path, Duration::from_secs(1)).unwrap();
            acquire_blocking(&path, Duration::from_millis(50)).unwrap_err()
        };
        assert!(matches!(err, LockError::Timeout { .. }), "{err:?}");
    }

    /// Another process (this test binary, re-run as [`child_holds_lock`]) holding the lock
    /// keeps us out until it exits.
    #[test]
    fn lock_excludes_other_processes() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), "tokens:cross");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::lock::tests::child_holds_lock",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_LOCK_PATH, &path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // libtest prints the child's line after its own "test ... " prefix, so look for it
        // anywhere in a line; read on a thread so a broken child fails the test, not hangs it.
        let stdout = child.stdout.take().unwrap();
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if line.is_ok_and(|l| l.contains("child: locked")) {
                    let _ = locked_tx.send(());
                }
            }
        });
        if locked_rx.recv_timeout(Duration::from_secs(30)).is_err() {
            let _ = child.kill();
            panic!("the child process never took the lock");
        }
        assert!(try_acquire(dir.path(), "tokens:cross").unwrap().is_none());
        // Closing its stdin tells the child to exit; its lock goes with it.
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
        assert!(try_acquire(dir.path(), "tokens:cross").unwrap().is_some());
    }

    /// Helper for [`lock_excludes_other_processes`], not a test on its own: unless started
    /// by it (env `MCP_BRIDGE_TEST_LOCK_CHILD`), it returns at once. Otherwise it locks the
    /// file, says so on stdout, and holds the lock until its stdin closes.
    #[test]
    fn child_holds_lock() {
        let Some(path) = std::env::var_os(CHILD_LOCK_PATH) else {
            return;
        };
        let lock = acquire_blocking(Path::new(&path), Duration::from_secs(10)).unwrap();
        let mut out = std::io::stdout();
        writeln!(out, "child: locked").unwrap();
        out.flush().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest).unwrap();
        drop(lock);
    }
}
