//! The host side of a login: `AuthEnv` (a credentials directory and a Python "browser" that
//! follows the authorization URL, or does nothing, and logs each launch's arguments), `Spy`
//! (a listener where credentials must never arrive) and port helpers.

use crate::support::{Bridge, WAIT};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the test "browser" does with the authorization URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browse {
    /// Fetches it and follows the redirects (to the bridge's callback): the user approves.
    Follow,
    /// Nothing: the user never finishes.
    Idle,
}

/// A credentials directory and a browser for bridges that log in.
pub struct AuthEnv {
    pub dir: tempfile::TempDir,
    pub config_dir: PathBuf,
    pub browser: PathBuf,
    pub browser_log: PathBuf,
}

/// The Python interpreter, resolved once with the caller's environment (the bridge's is
/// cleared, and version-manager shims need theirs).
fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 runs (the test browser is a Python script)");
        String::from_utf8(out.stdout)
            .expect("a UTF-8 path")
            .trim()
            .to_owned()
    })
}

impl AuthEnv {
    pub fn new(browse: Browse) -> AuthEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_dir = dir.path().join("config");
        let browser = dir.path().join("browser.py");
        let browser_log = dir.path().join("browser.log");
        let follow = browse == Browse::Follow;
        let script = format!(
            r#"#!{python}
import json, sys, urllib.request
with open({log:?}, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\n")
if {follow}:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
    try:
        opener.open(sys.argv[1], timeout=10).read()
    except Exception as e:
        print("test browser:", e, file=sys.stderr)
"#,
            python = python(),
            log = browser_log.display().to_string(),
            follow = if follow { "True" } else { "False" },
        );
        std::fs::write(&browser, script).expect("write the browser");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755))
                .expect("chmod the browser");
        }
        AuthEnv {
            dir,
            config_dir,
            browser,
            browser_log,
        }
    }

    /// The variables a bridge needs to log in here.
    pub fn vars(&self) -> Vec<(String, String)> {
        vec![
            (
                "MCP_BRIDGE_CONFIG_DIR".into(),
                self.config_dir.display().to_string(),
            ),
            (
                "MCP_BRIDGE_BROWSER".into(),
                self.browser.display().to_string(),
            ),
            ("MCP_BRIDGE_STORE".into(), "file".into()),
        ]
    }

    /// Starts a bridge with `args` (the server URL among them) in this environment.
    pub fn bridge(&self, args: &[&str]) -> Bridge {
        self.bridge_with(args, &[])
    }

    /// As [`AuthEnv::bridge`], with extra environment variables.
    pub fn bridge_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Bridge {
        let vars = self.vars();
        Bridge::start_with(args, |cmd| {
            cmd.envs(vars);
            cmd.envs(extra.iter().copied());
        })
    }

    /// Runs the bridge to completion (a subcommand, say) with stdin closed.
    pub async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let home = self.dir.path().join("home");
        let mut cmd = crate::support::command(&home);
        cmd.args(args)
            .envs(self.vars())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = tokio::time::timeout(WAIT, cmd.output())
            .await
            .expect("the command finishes in time")
            .expect("run the bridge");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The argument lists of every browser launch so far.
    pub fn launches(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.browser_log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("the browser logs JSON"))
            .collect()
    }

    /// Waits until the browser has been launched `n` times.
    pub async fn wait_launches(&self, n: usize) {
        let start = Instant::now();
        while self.launches().len() < n {
            assert!(
                start.elapsed() < WAIT,
                "the browser was not launched {n} times"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The path of a file in this environment's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A listener that records the head of every request it gets and answers 404: a place the
/// bridge must never send credentials to.
pub struct Spy {
    pub addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Spy {
    /// Binds `ip:port` (port 0 for any).
    pub async fn bind(ip: &str, port: u16) -> Spy {
        let listener = tokio::net::TcpListener::bind((ip, port))
            .await
            .unwrap_or_else(|e| panic!("bind {ip}:{port}: {e}"));
        let addr = listener.local_addr().expect("bound");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut n = 0;
                    while n < buf.len() {
                        match sock.read(&mut buf[n..]).await {
                            Ok(0) | Err(_) => break,
                            Ok(k) => n += k,
                        }
                        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                    let _ = sock
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Spy { addr, heads }
    }

    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Whether `port` on 127.0.0.1 can be bound now.
pub fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}
