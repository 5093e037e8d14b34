//! `--soak [--calls N]`: the release bridge under a long run of server faults, watched for
//! lost answers and for leaks.
//!
//! The server is ours, in-process (axum, on a thread and runtime of its own), behind
//! `FaultProxy` (tests/it/support/proxy.rs). It speaks Streamable HTTP with sessions and a GET
//! stream, and for each `tools/call` it draws a fault: a slow answer, an answer stream that
//! ends with nothing, an expired session (404 to the session id, which the bridge must
//! replace), an HTTP 500; the rest are answered, half as JSON and half as event streams.
//! Now and then the driver restarts the server: the port stops listening for a moment
//! (every connection reset), and it comes back on the same port knowing no session.
//!
//! The driver plays the host with up to `IN_FLIGHT` calls outstanding and checks that each
//! call gets exactly one answer (a correct echo, or an error) and that the counts match at
//! the end; a missing, duplicate or wrong answer fails the run. It samples the bridge's
//! VmRSS every so many calls, and reports the peak (VmHWM) and final RSS, the RSS slope
//! after warm-up (least squares, in MB per 10,000 calls), and the bridge's open file
//! descriptors after warm-up and at the end, each counted with no call in flight: live TCP
//! connections (idle pooled ones vary in number) apart from everything else, which must
//! not grow (a socket kept open after its connection ended would show there).

use super::proxy::{FaultProxy, NewConnections};
use super::{Bridge, IN_FLIGHT, PROTOCOL_VERSION, SESSION_HEADER, check_echo, echo_call};
use super::{header_text, reply};
use anyhow::{Context, Result, bail, ensure};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Calls made when `--calls` is not given.
pub(crate) const DEFAULT_CALLS: u64 = 100_000;
/// Seeds the server's and the driver's draws, so runs are alike.
const SEED: u64 = 0x5eed_2026_1204;
/// Chance of each fault per call, in calls per 10,000.
const SLOW_PER_10K: u64 = 200;
const DROP_PER_10K: u64 = 100;
const EXPIRE_PER_10K: u64 = 50;
const FAIL_PER_10K: u64 = 100;
/// How long a slow answer takes, at most, in ms.
const SLOW_MAX_MS: u64 = 200;
/// Chance of a restart before each call, per million calls (about 10 in 100,000).
const RESTART_PER_MILLION: u64 = 100;
/// How long a restarted server does not listen.
const RESTART_DOWN: Duration = Duration::from_millis(100);
/// The RSS growth allowed after warm-up, in MB per 10,000 calls.
const SLOPE_TARGET: f64 = 1.0;

/// xorshift64*: a quick, seedable sequence of draws (nothing here is secret).
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A draw in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the server does to a call instead of answering it at once.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Forget the session and answer 404.
    Expire,
    /// Answer HTTP 500.
    Fail,
    /// Answer with an event stream that ends with nothing in it.
    Drop,
    /// Answer, after up to `SLOW_MAX_MS`.
    Slow,
}

impl Fault {
    /// The fault for a draw in `0..10_000`, if any.
    fn from_draw(mut draw: u64) -> Option<Fault> {
        for (chance, fault) in [
            (EXPIRE_PER_10K, Fault::Expire),
            (FAIL_PER_10K, Fault::Fail),
            (DROP_PER_10K, Fault::Drop),
            (SLOW_PER_10K, Fault::Slow),
        ] {
            if draw < chance {
                return Some(fault);
            }
            draw -= chance;
        }
        None
    }
}

/// Faults the server has injected so far.
#[derive(Default)]
struct Injected {
    slow: AtomicU64,
    dropped: AtomicU64,
    expired: AtomicU64,
    failed: AtomicU64,
    initializes: AtomicU64,
}

/// The soak server's state.
struct SoakServer {
    /// Live sessions; each token ends that session's GET stream when cancelled.
    sessions: Mutex<HashMap<String, CancellationToken>>,
    next_session: AtomicU64,
    draws: Mutex<Draws>,
    injected: Injected,
}

impl SoakServer {
    fn sessions(&self) -> MutexGuard<'_, HashMap<String, CancellationToken>> {
        // Nothing that holds this lock can panic, so it is never poisoned.
        self.sessions
            .lock()
            .expect("session lock is never poisoned")
    }

    fn draw(&self, n: u64) -> u64 {
        // As above: never poisoned.
        self.draws
            .lock()
            .expect("draw lock is never poisoned")
            .below(n)
    }

    /// Ends a session and its GET stream.
    fn expire(&self, session: &str) {
        if let Some(token) = self.sessions().remove(session) {
            token.cancel();
        }
    }

    /// A restarted server knows no session.
    fn forget_sessions(&self) {
        for (_, token) in self.sessions().drain() {
            token.cancel();
        }
    }
}

/// Starts the server and the proxy in front of it on a thread and runtime of their own.
fn start_server() -> Result<(Arc<SoakServer>, FaultProxy)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("failed to bind")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let server = Arc::new(SoakServer {
        sessions: Mutex::new(HashMap::new()),
        next_session: AtomicU64::new(0),
        draws: Mutex::new(Draws(SEED)),
        injected: Injected::default(),
    });
    let app = Router::new()
        .route(
            "/mcp",
            post(handle_post).get(handle_get).delete(handle_delete),
        )
        .with_state(server.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (proxy_tx, proxy_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("soak-server".into())
        .spawn(move || {
            runtime.block_on(async move {
                // The receiver waits for this one message; if it is gone, so is the run.
                let _ = proxy_tx.send(FaultProxy::start(addr).await);
                let served = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => axum::serve(listener, app).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = served {
                    eprintln!("soak: the server failed: {e}");
                }
            });
        })?;
    let proxy = proxy_rx
        .recv()
        .context("the server thread failed to start")?;
    Ok((server, proxy))
}

async fn handle_post(
    State(server): State<Arc<SoakServer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid json").into_response();
    };
    let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
    let id = msg.get("id").cloned();
    if method == "initialize" {
        server.injected.initializes.fetch_add(1, Ordering::Relaxed);
        let n = server.next_session.fetch_add(1, Ordering::Relaxed);
        let session = format!("soak-{n}");
        server
            .sessions()
            .insert(session.clone(), CancellationToken::new());
        let result = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "soak-server", "version": "0.0.0" },
        });
        return ([(SESSION_HEADER, session)], reply(id, Ok(result))).into_response();
    }
    let session = header_text(&headers, SESSION_HEADER).to_owned();
    if session.is_empty() {
        return (StatusCode::BAD_REQUEST, "missing session id").into_response();
    }
    if !server.sessions().contains_key(&session) {
        return (StatusCode::NOT_FOUND, "no such session").into_response();
    }
    if id.is_none() || method.is_empty() {
        return StatusCode::ACCEPTED.into_response();
    }
    let text = msg
        .pointer("/params/arguments/text")
        .and_then(Value::as_str);
    let Some(text) = text.filter(|_| method == "tools/call") else {
        return reply(id, Err((-32601, "method not found"))).into_response();
    };
    let answer = reply(
        id,
        Ok(json!({ "content": [{ "type": "text", "text": text }] })),
    );
    let injected = &server.injected;
    match Fault::from_draw(server.draw(10_000)) {
        Some(Fault::Expire) => {
            injected.expired.fetch_add(1, Ordering::Relaxed);
            server.expire(&session);
            return (StatusCode::NOT_FOUND, "session expired").into_response();
        }
        Some(Fault::Fail) => {
            injected.failed.fetch_add(1, Ordering::Relaxed);
            return (StatusCode::INTERNAL_SERVER_ERROR, "soak: injected failure").into_response();
        }
        Some(Fault::Drop) => {
            injected.dropped.fetch_add(1, Ordering::Relaxed);
            return event_stream(Body::empty());
        }
        Some(Fault::Slow) => {
            injected.slow.fetch_add(1, Ordering::Relaxed);
            let ms = 1 + server.draw(SLOW_MAX_MS);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        None => {}
    }
    if server.draw(2) == 0 {
        answer.into_response()
    } else {
        event_stream(Body::from(format!("data: {}\n\n", answer.0)))
    }
}

fn event_stream(body: Body) -> Response {
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

/// The GET stream of a live session: it carries nothing, and ends with the session.
async fn handle_get(State(server): State<Arc<SoakServer>>, headers: HeaderMap) -> Response {
    let token = server
        .sessions()
        .get(header_text(&headers, SESSION_HEADER))
        .cloned();
    let Some(token) = token else {
        return (StatusCode::NOT_FOUND, "no such session").into_response();
    };
    let ends = futures::stream::once(async move {
        token.cancelled().await;
        Ok::<_, std::convert::Infallible>(Bytes::new())
    });
    event_stream(Body::from_stream(ends))
}

async fn handle_delete(State(server): State<Arc<SoakServer>>, headers: HeaderMap) -> StatusCode {
    let session = header_text(&headers, SESSION_HEADER);
    if server.sessions().contains_key(session) {
        server.expire(session);
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

// --- The driver ---------------------------------------------------------------------------

/// What the host has seen.
#[derive(Default)]
struct Tally {
    /// Calls sent and not answered yet.
    outstanding: HashSet<u64>,
    sent: u64,
    results: u64,
    errors: u64,
    /// Error answers by the start of their message.
    error_kinds: BTreeMap<String, u64>,
}

impl Tally {
    /// Files one message from the bridge; fails on an answer that is wrong, repeated, or
    /// to no call.
    fn take(&mut self, msg: &Value) -> Result<()> {
        if msg.get("method").is_some() {
            return Ok(()); // a notification or a server request: not an answer
        }
        let id = msg["id"]
            .as_u64()
            .with_context(|| format!("answer without a call's id: {msg}"))?;
        ensure!(
            self.outstanding.remove(&id),
            "call {id} answered twice or never made: {msg}"
        );
        match (msg.get("result"), msg["error"]["message"].as_str()) {
            (Some(_), None) => {
                check_echo(msg)?;
                self.results += 1;
            }
            (None, Some(message)) => {
                self.errors += 1;
                *self.error_kinds.entry(error_kind(message)).or_default() += 1;
            }
            _ => bail!("neither a result nor an error: {msg}"),
        }
        Ok(())
    }

    fn answers(&self) -> u64 {
        self.results + self.errors
    }
}

/// The gist of an error message: its text before the first colon, cut to 60 characters.
fn error_kind(message: &str) -> String {
    let head = message.split(':').next().unwrap_or(message);
    head.chars().take(60).collect()
}

/// One reading of the bridge's memory and descriptors.
#[derive(Debug, Clone, Copy)]
struct Reading {
    rss_kib: u64,
    fds: usize,
    /// Descriptors that are established TCP connections (idle pooled ones included).
    connections: usize,
}

impl Reading {
    /// Everything but live connections: pipes, epoll, the signal socket pair, and any
    /// socket left open after its connection ended. None of it may grow.
    fn rest(&self) -> usize {
        self.fds - self.connections
    }
}

fn read(pid: u32) -> Result<Reading> {
    let established = established_inodes()?;
    let (mut fds, mut connections) = (0, 0);
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        fds += 1;
        // An fd closed between listing and reading is simply not a connection.
        let target = std::fs::read_link(entry?.path()).unwrap_or_default();
        let inode = target
            .to_string_lossy()
            .strip_prefix("socket:[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse::<u64>().ok());
        if inode.is_some_and(|inode| established.contains(&inode)) {
            connections += 1;
        }
    }
    Ok(Reading {
        rss_kib: status_kib(pid, "VmRSS:")?,
        fds,
        connections,
    })
}

/// The socket inodes of every established TCP connection on this machine.
fn established_inodes() -> Result<HashSet<u64>> {
    let mut inodes = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text =
            std::fs::read_to_string(table).with_context(|| format!("failed to read {table}"))?;
        // Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...; st 01 is
        // ESTABLISHED.
        for line in text.lines().skip(1) {
            let columns: Vec<&str> = line.split_whitespace().collect();
            if columns.get(3) == Some(&"01")
                && let Some(inode) = columns.get(9).and_then(|i| i.parse().ok())
            {
                inodes.insert(inode);
            }
        }
    }
    Ok(inodes)
}

/// A `kB` figure from /proc/<pid>/status.
fn status_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let value = status.lines().find_map(|l| l.strip_prefix(field));
    let kib = value.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
    kib.with_context(|| format!("no {field} in the bridge's /proc status"))
}

/// Least-squares slope of y over x.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), (x, y)| {
        (num + (x - mx) * (y - my), den + (x - mx) * (x - mx))
    });
    if den == 0.0 { 0.0 } else { num / den }
}

/// Runs the soak with `calls` calls and prints the report; fails if any call was not
/// answered exactly once.
pub(crate) async fn run(calls: u64) -> Result<()> {
    ensure!(calls >= 1000, "a soak needs at least 1000 calls");
    let (server, proxy) = start_server()?;
    let url = proxy.url("/mcp");
    let mut bridge = Bridge::start(&url).await.context("bridge start")?.0;
    let pid = bridge.pid;
    let warmup = calls / 10;
    let sample_every = (calls / 200).max(100);
    let mut draws = Draws(SEED.rotate_left(17));
    let mut tally = Tally::default();
    let mut samples: Vec<(f64, f64)> = Vec::new();
    let (mut after_warmup, mut peak_fds, mut restarts) = (None, 0, 0);
    let started = Instant::now();
    let mut next_id = 2;
    while tally.sent < calls || !tally.outstanding.is_empty() {
        if tally.sent == calls || tally.outstanding.len() >= IN_FLIGHT {
            let msg = bridge.recv().await.with_context(|| {
                format!(
                    "waiting for {} answers after {} calls",
                    tally.outstanding.len(),
                    tally.sent
                )
            })?;
            tally.take(&msg)?;
            continue;
        }
        if tally.sent % sample_every == 0 {
            let reading = read(pid)?;
            peak_fds = peak_fds.max(reading.fds);
            if tally.sent >= warmup {
                samples.push((tally.sent as f64, reading.rss_kib as f64 / 1024.0));
            }
        }
        if tally.sent == warmup {
            // Descriptors are counted with no call in flight.
            while !tally.outstanding.is_empty() {
                tally.take(&bridge.recv().await?)?;
            }
            after_warmup = Some(read(pid)?);
        }
        if draws.below(1_000_000) < RESTART_PER_MILLION {
            restarts += 1;
            proxy.cut(RESTART_DOWN, NewConnections::Refused);
            server.forget_sessions();
        }
        bridge.send(&echo_call(next_id)).await?;
        tally.outstanding.insert(next_id);
        tally.sent += 1;
        next_id += 1;
    }
    let elapsed = started.elapsed();
    let at_end = read(pid)?;
    let peak_kib = status_kib(pid, "VmHWM:")?;
    bridge.close().await.context("the bridge at the end")?;
    let after_warmup = after_warmup.context("no reading after warm-up")?;
    ensure!(
        tally.sent == tally.answers(),
        "{} calls sent but {} answers received",
        tally.sent,
        tally.answers()
    );

    let injected = &server.injected;
    let count = |n: &AtomicU64| n.load(Ordering::Relaxed);
    println!(
        "mcp-bridge soak: {} calls, {IN_FLIGHT} in flight, through a fault proxy to {url}",
        tally.sent
    );
    println!(
        "{:.1} s, {:.0} calls/s; RSS sampled every {sample_every} calls, warm-up {warmup} calls",
        elapsed.as_secs_f64(),
        tally.sent as f64 / elapsed.as_secs_f64()
    );
    println!(
        "server faults: {} slow, {} streams dropped, {} sessions expired, {} HTTP 500, {} restarts ({} initialize in all)",
        count(&injected.slow),
        count(&injected.dropped),
        count(&injected.expired),
        count(&injected.failed),
        restarts,
        count(&injected.initializes),
    );
    println!(
        "answers: {} results, {} errors",
        tally.results, tally.errors
    );
    for (kind, n) in &tally.error_kinds {
        println!("  {n:>7}  {kind}");
    }

    let slope_per_10k = slope(&samples) * 10_000.0;
    let mb = |kib: u64| kib as f64 / 1024.0;
    // Pooled connections come and go with the calls in flight, so their number differs
    // from one quiet moment to the next; the rest must not grow.
    let grew = at_end.rest() > after_warmup.rest();
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    let rows = [
        (
            "calls sent / answers received",
            format!("{} / {}", tally.sent, tally.answers()),
            "equal",
            verdict(tally.sent == tally.answers()),
        ),
        (
            "peak RSS (VmHWM)",
            format!("{:.1} MB", mb(peak_kib)),
            "",
            "",
        ),
        (
            "final RSS (VmRSS)",
            format!("{:.1} MB", mb(at_end.rss_kib)),
            "",
            "",
        ),
        (
            "RSS after warm-up (VmRSS)",
            format!("{:.1} MB", mb(after_warmup.rss_kib)),
            "",
            "",
        ),
        (
            "RSS slope after warm-up",
            format!("{slope_per_10k:+.3} MB/10k calls"),
            "< 1 MB/10k",
            verdict(slope_per_10k < SLOPE_TARGET),
        ),
        (
            "open fds after warm-up / at end",
            format!("{} / {}", after_warmup.fds, at_end.fds),
            "",
            "",
        ),
        (
            "  live TCP connections",
            format!("{} / {}", after_warmup.connections, at_end.connections),
            "",
            "",
        ),
        (
            "  everything else",
            format!("{} / {}", after_warmup.rest(), at_end.rest()),
            "no growth",
            verdict(!grew),
        ),
        ("  peak fds sampled", format!("{peak_fds}"), "", ""),
    ];
    println!();
    println!(
        "{:<34} {:>22}   {:<12} result",
        "metric", "bridge", "target"
    );
    for (metric, value, target, result) in rows {
        println!("{metric:<34} {value:>22}   {target:<12} {result}");
    }
    println!("\nnotes:");
    println!(
        "- fds are counted with no call in flight; live connections include idle pooled ones,"
    );
    println!("  whose number varies, so the verdict is on the other descriptors");
    println!("- PASS/MISS is informational; a call not answered exactly once fails the run");
    Ok(())
}
