//! Test support: the mock server and a handle on a running bridge process.

pub mod mock;
pub mod modern_mock;
pub mod oauth;
pub mod proxy;
pub mod raw;

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How long any single wait on the bridge may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// The bridge binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mcp-bridge"))
}

/// A command for the bridge with an isolated environment: a temporary home, no proxies
/// from the machine, no credentials from the caller's environment.
pub fn command(home: &std::path::Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .kill_on_drop(true);
    cmd
}

/// A running bridge with piped stdio, playing the host.
pub struct Bridge {
    pub child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<BufReader<ChildStdout>>,
    stderr_task: tokio::task::JoinHandle<String>,
    _home: tempfile::TempDir,
}

impl Bridge {
    /// Starts the bridge with these arguments (and `-vv` so failures show a trace).
    pub fn start(args: &[&str]) -> Bridge {
        Self::start_with(args, |_| {})
    }

    /// Starts the bridge after letting `f` adjust the command (environment, say).
    pub fn start_with(args: &[&str], f: impl FnOnce(&mut Command)) -> Bridge {
        let home = tempfile::tempdir().expect("temp dir");
        let mut cmd = command(home.path());
        cmd.arg("-vv")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        f(&mut cmd);
        let mut child = cmd.spawn().expect("spawn the bridge");
        let stdin = child.stdin.take();
        let stdout = Some(BufReader::new(child.stdout.take().expect("piped stdout")));
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr_task = tokio::spawn(async move {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s).await;
            s
        });
        Bridge {
            child,
            stdin,
            stdout,
            stderr_task,
            _home: home,
        }
    }

    /// Writes one line to the bridge's stdin.
    pub async fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(line.as_bytes()).await.expect("write stdin");
        stdin.write_all(b"\n").await.expect("write stdin");
        stdin.flush().await.expect("flush stdin");
    }

    /// Writes `text` to stdin from a task of its own (for input larger than the bridge reads
    /// before it writes answers back); the task hands stdin back, still open, when done.
    pub fn raw_stdin_writer(&mut self, text: String) -> tokio::task::JoinHandle<ChildStdin> {
        let mut stdin = self.stdin.take().expect("stdin still open");
        tokio::spawn(async move {
            stdin.write_all(text.as_bytes()).await.expect("write stdin");
            stdin.flush().await.expect("flush stdin");
            stdin
        })
    }

    /// Reads answers until `count` distinct ids have been answered, each once and each as
    /// `check` expects; a batch may be answered as one array line or one by one.
    pub async fn recv_answers(&mut self, count: usize, mut check: impl FnMut(&Value)) {
        let mut answered = std::collections::HashSet::with_capacity(count);
        while answered.len() < count {
            let items = match self.recv().await {
                Value::Array(items) => items,
                one => vec![one],
            };
            for a in items {
                check(&a);
                assert!(
                    answered.insert(a["id"].as_u64().expect("numeric id")),
                    "answered twice: {a}"
                );
            }
        }
    }

    pub async fn send(&mut self, msg: Value) {
        self.send_raw(&msg.to_string()).await;
    }

    /// Reads the next line of stdout; it must be one JSON-RPC message.
    pub async fn recv(&mut self) -> Value {
        let line = self.recv_line().await;
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
        assert_eq!(v["jsonrpc"], "2.0", "stdout carries JSON-RPC only: {line}");
        v
    }

    /// Reads the next line of stdout as it was written (ids and numbers untouched).
    pub async fn recv_line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(
            WAIT,
            self.stdout
                .as_mut()
                .expect("stdout still open")
                .read_line(&mut line),
        )
        .await
        .expect("timed out waiting for the bridge to write a message")
        .expect("read stdout");
        assert!(n > 0, "the bridge closed stdout");
        assert!(line.ends_with('\n'), "every message ends with a newline");
        line
    }

    /// Reads until the answer to `id` arrives; returns it and whatever came before it.
    pub async fn recv_answer(&mut self, id: Value) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let v = self.recv().await;
            if v.get("method").is_none() && v["id"] == id {
                return (v, before);
            }
            before.push(v);
        }
    }

    /// Sends a request and waits for its answer.
    pub async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}))
            .await;
        self.recv_answer(json!(id)).await.0
    }

    /// The host's side of the handshake.
    pub async fn initialize(&mut self) -> Value {
        let r = self
            .request(0, "initialize", json!({"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"test-host","version":"1"}}))
            .await;
        self.send(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
            .await;
        r
    }

    /// A whole session that must work: the handshake, a `ping` answered with `{}`, stdin
    /// closed and exit code 0. Returns stderr.
    pub async fn ping_session(mut self) -> String {
        self.initialize().await;
        assert_eq!(
            self.request(1, "ping", json!({})).await["result"],
            json!({})
        );
        let (code, stderr) = self.finish().await;
        assert_eq!(code, Some(0), "{stderr}");
        stderr
    }

    /// Closes stdin (the host going away).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Closes our end of the bridge's stdout (a host that stopped reading).
    pub fn close_stdout(&mut self) {
        self.stdout.take();
    }

    /// Reads every remaining stdout line until EOF.
    pub async fn drain_stdout(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(
                WAIT,
                self.stdout
                    .as_mut()
                    .expect("stdout still open")
                    .read_line(&mut line),
            )
            .await
            .expect("stdout EOF in time")
            .unwrap();
            if n == 0 {
                return out;
            }
            out.push(
                serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}")),
            );
        }
    }

    /// Waits for the process to exit; returns its code and stderr.
    pub async fn finish(mut self) -> (Option<i32>, String) {
        self.close_stdin();
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the bridge exits in time")
            .unwrap();
        let stderr = tokio::time::timeout(WAIT, self.stderr_task)
            .await
            .expect("stderr closes")
            .unwrap();
        (status.code(), stderr)
    }

    /// Sends a signal to the bridge.
    pub fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("running").to_string();
        let ok = std::process::Command::new("kill")
            .args(["-s", sig, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -s {sig} failed");
    }
}

/// Runs the bridge to completion with `stdin` as its input; returns code, stdout, stderr.
pub fn run_once(args: &[&str], envs: &[(&str, &str)], stdin: &str) -> (i32, String, String) {
    let home = tempfile::tempdir().expect("temp dir");
    let out = assert_cmd::Command::new(bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .args(args)
        .envs(envs.iter().copied())
        .write_stdin(stdin.to_owned())
        .timeout(WAIT)
        .output()
        .expect("run the bridge");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A bare HTTP/1.1 GET over a fresh TCP connection, as any local process could make one:
/// the status, the `Location` header if any, and the body.
pub async fn http_get(url: &str) -> (u16, Option<String>, String) {
    let url = url::Url::parse(url).expect("a URL");
    let host = url.host_str().expect("a host").to_owned();
    let port = url.port_or_known_default().expect("a port");
    let mut target = url.path().to_owned();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let mut stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .expect("connect");
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("the response ends in time")
        .expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let location = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_owned())
    });
    (status, location, body.to_owned())
}

/// The peak resident set of a process (VmHWM), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// How many file descriptors a process has open.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("proc fd")
        .count()
}

/// Listens on `addr` again once a server that held it is gone (the port may stay taken for
/// a moment).
pub async fn rebind(addr: std::net::SocketAddr) -> tokio::net::TcpListener {
    for _ in 0..200 {
        if let Ok(listener) = tokio::net::TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{addr} is not free again");
}
