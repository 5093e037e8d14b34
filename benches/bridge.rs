//! End-to-end cost of going through `mcp-bridge` instead of talking HTTP directly.
//!
//! An in-process upstream MCP server (axum on `127.0.0.1:0`, Streamable HTTP answering in
//! JSON, on its own thread and runtime) serves `initialize`, `tools/list` and an `echo` tool.
//! The same workload then runs along two paths:
//!
//! - **bridge**: the release-built `mcp-bridge --silent URL`, driven over piped stdin/stdout
//!   exactly as an MCP host drives it;
//! - **direct**: a `reqwest` client posting the same messages with the same headers.
//!
//! Measured for each path: the time from spawning the bridge (or building the client) to the
//! `initialize` answer, as the median of several tries; the p50/p99 latency of sequential
//! `tools/call`s after a warm-up; throughput with 32 calls in flight, matched by id; CPU per
//! call (the whole bridge process from `/proc/<pid>/stat`, against the benchmark's own client
//! thread); and the bridge's peak RSS (`VmHWM`) just before its stdin is closed.
//!
//! This is a measurement, not a test. Figures are compared with targets and marked PASS or
//! MISS, but only a wrong, missing or late answer, or a bridge that does not exit cleanly,
//! fails the run. Linux only: it reads `/proc`.
//!
//! Then, where `valgrind` and the interop peers are installed, the instructions the bridge
//! executes per call and at start-up against server-everything (see `bridge/instructions.rs`),
//! beside those of a bare hyper relay as the floor (`bridge/floor.rs`): unlike time, those
//! counts repeat exactly on a busy machine.
//!
//! ```text
//! cargo bench --bench bridge                   # 20 starts, 1000 sequential, 5000 at 32 in flight
//! cargo bench --bench bridge -- --quick        # smaller counts, for smoke runs
//! cargo bench --bench bridge -- --instructions # only the instruction counts
//! cargo bench --bench bridge -- --latency      # through a proxy adding 50 ms each way
//! cargo bench --bench bridge -- --soak         # 100,000 calls against a faulty server
//! ```
//!
//! `--latency` and `--soak` take `--calls N` (see `bridge/latency.rs` and `bridge/soak.rs`);
//! both put the fault proxy of the end-to-end tests (tests/it/support/proxy.rs) in front of
//! their server.

#[path = "bridge/floor.rs"]
mod floor;
#[path = "bridge/instructions.rs"]
mod instructions;
#[path = "bridge/latency.rs"]
mod latency;
#[path = "../tests/it/support/proxy.rs"]
#[expect(
    dead_code,
    reason = "the benchmarks use only some of the proxy's faults"
)]
mod proxy;
#[path = "bridge/soak.rs"]
mod soak;

use anyhow::{Context, Result, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::ops::Range;
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const PROTOCOL_VERSION: &str = "2025-06-18";
const ACCEPT: &str = "application/json, text/event-stream";
const SESSION_HEADER: &str = "mcp-session-id";
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
/// Longest wait for any single answer before the run is declared broken.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Calls kept outstanding in the throughput phase.
const IN_FLIGHT: usize = 32;

/// How much work each phase does.
struct Counts {
    /// Fresh bridges (and fresh clients) timed from start to the `initialize` answer.
    starts: usize,
    /// Untimed calls before the sequential phase.
    warmup: u64,
    /// Timed calls, one at a time.
    sequential: u64,
    /// Calls made with `IN_FLIGHT` outstanding.
    concurrent: u64,
}

fn main() -> ExitCode {
    let bridge = std::path::Path::new(env!("CARGO_BIN_EXE_mcp-bridge"));
    // Hidden: this executable as the floor relay that the instruction counts compare with.
    if let Some(url) = std::env::args().skip_while(|a| a != "--floor-relay").nth(1) {
        return run_mode(floor::run(&url));
    }
    if std::env::args().any(|a| a == "--instructions") {
        return match instructions::measure(bridge) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bridge benchmark: error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let calls = match calls_arg() {
        Ok(calls) => calls,
        Err(e) => {
            eprintln!("bridge benchmark: error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if std::env::args().any(|a| a == "--latency") {
        return run_mode(latency::measure(calls.unwrap_or(latency::DEFAULT_CALLS)));
    }
    if std::env::args().any(|a| a == "--soak") {
        return run_mode(soak::run(calls.unwrap_or(soak::DEFAULT_CALLS)));
    }
    // cargo also passes `--bench`; only `--quick` means anything here.
    let (starts, warmup, sequential, concurrent) = match std::env::args().any(|a| a == "--quick") {
        true => (5, 50, 200, 1000),
        false => (20, 200, 1000, 5000),
    };
    let counts = Counts {
        starts,
        warmup,
        sequential,
        concurrent,
    };
    // The client side runs on this thread alone, so its CPU time can be read from
    // /proc/thread-self without counting the upstream's thread.
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the runtime")
        .and_then(|rt| rt.block_on(run(&counts)));
    if let Err(e) = result {
        eprintln!("bridge benchmark: error: {e:#}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = instructions::measure(bridge) {
        println!("\ninstruction counts skipped: {e:#}");
    }
    ExitCode::SUCCESS
}

/// The value of `--calls N`, if given.
fn calls_arg() -> Result<Option<u64>> {
    let mut args = std::env::args().skip_while(|a| a != "--calls");
    match (args.next(), args.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(n)) => n
            .parse()
            .map(Some)
            .with_context(|| format!("--calls takes a number, not {n:?}")),
        (Some(_), None) => anyhow::bail!("--calls takes a number"),
    }
}

/// Runs one of the modes on a current-thread runtime; its error fails the run.
fn run_mode(mode: impl Future<Output = Result<()>>) -> ExitCode {
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the runtime")
        .and_then(|rt| rt.block_on(mode));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bridge benchmark: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(counts: &Counts) -> Result<()> {
    let url = format!("http://127.0.0.1:{}/mcp", start_upstream()?);
    let ticks_per_sec = clock_ticks_per_sec();

    let (mut bridge_ready, mut direct_ready) = (Vec::new(), Vec::new());
    for _ in 0..counts.starts {
        let (bridge, elapsed) = Bridge::start(&url).await.context("bridge start")?;
        bridge_ready.push(elapsed);
        bridge.close().await?;
        direct_ready.push(Direct::connect(&url).await.context("direct start")?.1);
    }

    let mut bridge = Bridge::start(&url).await?.0;
    let bridge_run = measure(&mut bridge, counts, ticks_per_sec)
        .await
        .context("bridge path")?;
    let rss_kib = peak_rss_kib(bridge.pid)?;
    bridge.close().await?;
    let mut direct = Direct::connect(&url).await?.0;
    let direct_run = measure(&mut direct, counts, ticks_per_sec)
        .await
        .context("direct path")?;

    println!("mcp-bridge benchmark against {url} (axum, JSON answers, own thread)");
    println!(
        "{} starts; {} sequential calls after {} warm-up; {} calls with {IN_FLIGHT} in flight",
        counts.starts, counts.sequential, counts.warmup, counts.concurrent
    );
    let starts = (
        percentile(&mut bridge_ready, 50.0),
        percentile(&mut direct_ready, 50.0),
    );
    print_table(bridge_run, direct_run, starts, rss_kib);
    Ok(())
}

// --- The upstream server --------------------------------------------------------------------

/// Sessions the upstream has handed out and not yet seen deleted.
#[derive(Default)]
struct Upstream {
    sessions: Mutex<HashSet<String>>,
    next_session: AtomicU64,
}

impl Upstream {
    fn sessions(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // Nothing that holds this lock can panic, so it is never poisoned.
        self.sessions
            .lock()
            .expect("session lock is never poisoned")
    }
}

/// Starts the upstream on a thread and runtime of its own; returns its port.
fn start_upstream() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("failed to bind")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let app = Router::new()
        .route(
            "/mcp",
            post(handle_post).get(handle_get).delete(handle_delete),
        )
        .with_state(Arc::new(Upstream::default()));
    std::thread::Builder::new()
        .name("upstream".into())
        .spawn(move || {
            runtime.block_on(async move {
                let served = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => axum::serve(listener, app).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = served {
                    eprintln!("bridge benchmark: upstream failed: {e}");
                }
            });
        })?;
    Ok(port)
}

async fn handle_post(State(up): State<Arc<Upstream>>, headers: HeaderMap, body: Bytes) -> Response {
    let text = |name: &str| header_text(&headers, name);
    let accept = text(header::ACCEPT.as_str());
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return (StatusCode::NOT_ACCEPTABLE, "accept json and event-stream").into_response();
    }
    if !text(header::CONTENT_TYPE.as_str()).starts_with("application/json") {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid json").into_response();
    };
    let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
    let id = msg.get("id").cloned();

    if method == "initialize" {
        let session = format!("bench-{}", up.next_session.fetch_add(1, Ordering::Relaxed));
        up.sessions().insert(session.clone());
        let result = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "bench-upstream", "version": "0.0.0" },
        });
        return ([(SESSION_HEADER, session)], reply(id, Ok(result))).into_response();
    }
    match text(SESSION_HEADER) {
        "" => return (StatusCode::BAD_REQUEST, "missing session id").into_response(),
        session if !up.sessions().contains(session) => {
            return StatusCode::NOT_FOUND.into_response();
        }
        _ => {}
    }
    if id.is_none() || method.is_empty() {
        // A notification, or the client's answer to a request of ours.
        return StatusCode::ACCEPTED.into_response();
    }
    let result = match method {
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({ "tools": [{
            "name": "echo",
            "description": "Returns its text argument.",
            "inputSchema": { "type": "object", "properties": { "text": { "type": "string" } } },
        }]})),
        "tools/call" => match msg
            .pointer("/params/arguments/text")
            .and_then(Value::as_str)
        {
            Some(text) => Ok(json!({ "content": [{ "type": "text", "text": text }] })),
            None => Err((-32602, "echo needs a text argument")),
        },
        _ => Err((-32601, "method not found")),
    };
    reply(id, result).into_response()
}

fn reply(id: Option<Value>, result: Result<Value, (i32, &str)>) -> axum::Json<Value> {
    axum::Json(match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err((code, message)) => {
            json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
        }
    })
}

async fn handle_get() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST, DELETE")],
    )
        .into_response()
}

async fn handle_delete(State(up): State<Arc<Upstream>>, headers: HeaderMap) -> StatusCode {
    if up.sessions().remove(header_text(&headers, SESSION_HEADER)) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

/// A header's value, or "" when it is missing or not text.
fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

// --- Messages and the shared workload -------------------------------------------------------

fn initialize_request() -> String {
    json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": { "name": "bridge-bench", "version": "0.0.0" },
        },
    })
    .to_string()
}

fn check_initialize(answer: &Value) -> Result<()> {
    let ok = answer["id"] == 0 && answer.pointer("/result/protocolVersion").is_some();
    ensure!(ok, "wrong initialize answer: {answer}");
    Ok(())
}

fn echo_call(id: u64) -> String {
    json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": { "name": "echo", "arguments": { "text": format!("call {id}") } },
    })
    .to_string()
}

/// Checks an echo answer and returns the id it carried.
fn check_echo(answer: &Value) -> Result<u64> {
    let id = answer["id"]
        .as_u64()
        .with_context(|| format!("answer without a u64 id: {answer}"))?;
    let text = answer
        .pointer("/result/content/0/text")
        .and_then(Value::as_str);
    ensure!(
        text == Some(format!("call {id}").as_str()),
        "wrong answer to call {id}: {answer}"
    );
    Ok(id)
}

/// One way from this benchmark to the upstream, holding an initialized session.
trait Peer {
    /// Sends one request and returns its answer; nothing else may be in flight.
    async fn request(&mut self, msg: String) -> Result<Value>;
    /// Makes the echo calls `ids` with `IN_FLIGHT` outstanding, checking every answer.
    async fn call_many(&mut self, ids: Range<u64>) -> Result<()>;
    /// utime + stime so far, in clock ticks, of whatever does this path's client work.
    fn cpu_ticks(&self) -> Result<u64>;
}

/// What `measure` found on one path.
struct Figures {
    latencies: Vec<Duration>,
    calls_per_sec: f64,
    cpu_ms_per_call: f64,
}

/// Runs the warm-up, sequential and concurrent phases on an initialized peer.
async fn measure(peer: &mut impl Peer, counts: &Counts, ticks_per_sec: f64) -> Result<Figures> {
    let tools = peer.request(TOOLS_LIST.to_owned()).await?;
    ensure!(
        tools.pointer("/result/tools/0/name") == Some(&json!("echo")),
        "tools/list: {tools}"
    );
    let mut id = 2;
    for _ in 0..counts.warmup {
        ensure!(
            check_echo(&peer.request(echo_call(id)).await?)? == id,
            "answer to another call"
        );
        id += 1;
    }
    let cpu_before = peer.cpu_ticks()?;
    let mut latencies = Vec::with_capacity(counts.sequential as usize);
    for _ in 0..counts.sequential {
        let start = Instant::now();
        let answer = peer.request(echo_call(id)).await?;
        latencies.push(start.elapsed());
        ensure!(check_echo(&answer)? == id, "answer to another call");
        id += 1;
    }
    let start = Instant::now();
    peer.call_many(id..id + counts.concurrent).await?;
    let calls_per_sec = counts.concurrent as f64 / start.elapsed().as_secs_f64();
    let cpu_secs = (peer.cpu_ticks()? - cpu_before) as f64 / ticks_per_sec;
    let cpu_ms_per_call = cpu_secs * 1000.0 / (counts.sequential + counts.concurrent) as f64;
    Ok(Figures {
        latencies,
        calls_per_sec,
        cpu_ms_per_call,
    })
}

// --- The bridge path ------------------------------------------------------------------------

/// A running bridge and the host's ends of its stdio.
struct Bridge {
    child: Child,
    pid: u32,
    /// The bridge's stdin; dropping it is the host going away.
    to_bridge: ChildStdin,
    /// The bridge's stdout, one JSON-RPC message per line.
    from_bridge: Lines<BufReader<ChildStdout>>,
}

impl Bridge {
    /// Spawns a bridge and runs the handshake; also returns the time to the initialize answer.
    async fn start(url: &str) -> Result<(Self, Duration)> {
        let start = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-bridge"))
            .args(["--silent", url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("failed to spawn mcp-bridge")?;
        let pid = child.id().context("the bridge exited at once")?;
        // Both are `Some`: they were set to `Stdio::piped()` just above and not taken yet.
        let to_bridge = child.stdin.take().expect("stdin is piped");
        let from_bridge = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let mut bridge = Bridge {
            child,
            pid,
            to_bridge,
            from_bridge,
        };
        bridge.send(&initialize_request()).await?;
        let answer = bridge.recv().await?;
        let elapsed = start.elapsed();
        check_initialize(&answer)?;
        bridge.send(INITIALIZED).await?;
        Ok((bridge, elapsed))
    }

    async fn send(&mut self, line: &str) -> Result<()> {
        let framed = format!("{line}\n");
        let written = self.to_bridge.write_all(framed.as_bytes()).await;
        written.context("failed to write to the bridge's stdin")
    }

    async fn recv(&mut self) -> Result<Value> {
        let line = tokio::time::timeout(IO_TIMEOUT, self.from_bridge.next_line())
            .await
            .context("no answer from the bridge within 10 s")?
            .context("failed to read the bridge's stdout")?
            .context("the bridge closed its stdout")?;
        serde_json::from_str(&line).with_context(|| format!("the bridge wrote bad JSON: {line}"))
    }

    /// Closes stdin and checks that the bridge exits cleanly.
    async fn close(self) -> Result<()> {
        let Bridge {
            mut child,
            to_bridge,
            ..
        } = self;
        drop(to_bridge);
        let status = tokio::time::timeout(IO_TIMEOUT, child.wait())
            .await
            .context("the bridge did not exit within 10 s of stdin closing")??;
        ensure!(
            status.success(),
            "the bridge exited with {status} after stdin closed"
        );
        Ok(())
    }
}

impl Peer for Bridge {
    async fn request(&mut self, msg: String) -> Result<Value> {
        self.send(&msg).await?;
        self.recv().await
    }

    async fn call_many(&mut self, ids: Range<u64>) -> Result<()> {
        let (mut next, mut outstanding) = (ids.start, HashSet::new());
        while next < ids.end || !outstanding.is_empty() {
            if next < ids.end && outstanding.len() < IN_FLIGHT {
                self.send(&echo_call(next)).await?;
                outstanding.insert(next);
                next += 1;
            } else {
                let id = check_echo(&self.recv().await?)?;
                ensure!(
                    outstanding.remove(&id),
                    "call {id} answered twice or never made"
                );
            }
        }
        Ok(())
    }

    fn cpu_ticks(&self) -> Result<u64> {
        proc_cpu_ticks(&format!("/proc/{}/stat", self.pid))
    }
}

// --- The direct path ------------------------------------------------------------------------

/// A plain HTTP client holding a session with the upstream.
struct Direct {
    client: reqwest::Client,
    url: String,
    /// `None` until the initialize answer has named the session.
    session: Option<String>,
}

impl Direct {
    /// Builds a client and runs the handshake; also returns the time to the initialize answer.
    async fn connect(url: &str) -> Result<(Self, Duration)> {
        let start = Instant::now();
        let client = reqwest::Client::builder().no_proxy().build()?;
        let mut direct = Direct {
            client,
            url: url.to_owned(),
            session: None,
        };
        let resp = direct.send(initialize_request()).await?;
        let session = header_text(resp.headers(), SESSION_HEADER);
        ensure!(
            !session.is_empty(),
            "no session id with the initialize answer"
        );
        direct.session = Some(session.to_owned());
        let answer: Value = resp.json().await?;
        let elapsed = start.elapsed();
        check_initialize(&answer)?;
        let initialized = direct.send(INITIALIZED.to_owned()).await?.status();
        ensure!(
            initialized == StatusCode::ACCEPTED,
            "{initialized} to notifications/initialized"
        );
        Ok((direct, elapsed))
    }

    async fn send(&self, body: String) -> Result<reqwest::Response> {
        let mut request = self
            .client
            .post(&self.url)
            .header(header::ACCEPT, ACCEPT)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(session) = &self.session {
            request = request
                .header(SESSION_HEADER, session)
                .header("mcp-protocol-version", PROTOCOL_VERSION);
        }
        let resp = tokio::time::timeout(IO_TIMEOUT, request.body(body).send())
            .await
            .context("no answer from the upstream within 10 s")??;
        Ok(resp.error_for_status()?)
    }

    async fn echo(&self, id: u64) -> Result<()> {
        let answer = self.send(echo_call(id)).await?.json().await?;
        ensure!(check_echo(&answer)? == id, "answer to another call");
        Ok(())
    }
}

impl Peer for Direct {
    async fn request(&mut self, msg: String) -> Result<Value> {
        Ok(self.send(msg).await?.json().await?)
    }

    async fn call_many(&mut self, ids: Range<u64>) -> Result<()> {
        let (mut next, mut in_flight) = (ids.start, FuturesUnordered::new());
        while next < ids.end || !in_flight.is_empty() {
            if next < ids.end && in_flight.len() < IN_FLIGHT {
                in_flight.push(self.echo(next));
                next += 1;
            } else if let Some(answered) = in_flight.next().await {
                answered?;
            }
        }
        Ok(())
    }

    fn cpu_ticks(&self) -> Result<u64> {
        // The client runs on the benchmark's main thread, the only caller of this.
        proc_cpu_ticks("/proc/thread-self/stat")
    }
}

// --- /proc, statistics and the report -------------------------------------------------------

/// utime + stime, in clock ticks, from a `stat` file of /proc.
fn proc_cpu_ticks(path: &str) -> Result<u64> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("failed to read {path}"))?;
    // The command name (field 2) may hold spaces, so count the fields after its `)`: the
    // first of them is field 3.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    match (field(14), field(15)) {
        (Some(utime), Some(stime)) => Ok(utime + stime),
        _ => anyhow::bail!("no utime and stime in {path}"),
    }
}

fn peak_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:"));
    let kib = hwm.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
    kib.context("no VmHWM in the bridge's /proc status")
}

/// `getconf CLK_TCK`, or the usual 100 if that cannot be run.
fn clock_ticks_per_sec() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok();
    let text = out.and_then(|out| String::from_utf8(out.stdout).ok());
    text.and_then(|s| s.trim().parse().ok()).unwrap_or(100.0)
}

/// Nearest-rank percentile; an empty slice gives zero.
fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples
        .get(rank.clamp(1, samples.len().max(1)) - 1)
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints the bridge figures beside the direct ones, with ratios and targets.
fn print_table(mut b: Figures, mut d: Figures, starts: (Duration, Duration), rss_kib: u64) {
    let p = |f: &mut Figures, rank| ms(percentile(&mut f.latencies, rank));
    let (b50, d50, b99, d99) = (
        p(&mut b, 50.0),
        p(&mut d, 50.0),
        p(&mut b, 99.0),
        p(&mut d, 99.0),
    );
    let (sb, sd, rss) = (ms(starts.0), ms(starts.1), rss_kib as f64 / 1024.0);
    let (bc, dc, br, dr) = (
        b.cpu_ms_per_call,
        d.cpu_ms_per_call,
        b.calls_per_sec,
        d.calls_per_sec,
    );
    // (metric, unit, decimals, bridge, direct, target, whether the bridge meets it)
    #[rustfmt::skip]
    let rows = [
        ("start to initialize answer, p50", "ms", 2, sb, sd, "< 20 ms", Some(sb < 20.0)),
        ("sequential call latency, p50", "ms", 3, b50, d50, "<= 1.3x direct", Some(b50 <= 1.3 * d50)),
        ("sequential call latency, p99", "ms", 3, b99, d99, "", None),
        ("throughput, 32 in flight", "calls/s", 0, br, dr, "", None),
        ("CPU per call", "ms", 3, bc, dc, "< 0.2 ms", Some(bc < 0.2)),
        ("peak RSS (VmHWM)", "MB", 1, rss, f64::NAN, "< 15 MB", Some(rss < 15.0)),
    ];
    let head = [
        "metric",
        "bridge",
        "direct",
        "ratio",
        "bridge target",
        "result",
    ];
    println!();
    println!(
        "{:<32} {:>14} {:>14} {:>6}   {:<15} {}",
        head[0], head[1], head[2], head[3], head[4], head[5]
    );
    for (metric, unit, decimals, bridge, direct, target, met) in rows {
        let show = |v: f64| {
            if v.is_nan() {
                "n/a".into()
            } else {
                format!("{v:.decimals$} {unit}")
            }
        };
        let ratio = if direct.is_nan() {
            "-".into()
        } else {
            format!("{:.2}x", bridge / direct)
        };
        let result = met.map_or("", |met| if met { "PASS" } else { "MISS" });
        let (bridge, direct) = (show(bridge), show(direct));
        println!("{metric:<32} {bridge:>14} {direct:>14} {ratio:>6}   {target:<15} {result}");
    }
    println!("\nnotes:");
    println!(
        "- direct start = building a reqwest client + the first POST (no exec): a lower bound"
    );
    println!("- bridge CPU = the whole bridge process (utime+stime) over the timed calls; direct");
    println!("  CPU = this benchmark's client thread over the same calls, JSON checks included");
    println!("- direct RSS is n/a: this process also holds the upstream and the bridge driver");
    println!("- PASS/MISS is informational; only wrong or missing answers fail the run");
}
