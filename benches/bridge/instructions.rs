//! The bridge's cost in instructions, which (unlike time) repeats exactly on a busy machine:
//! `valgrind --tool=callgrind` counts what the bridge executes while it serves a fixed
//! workload against a real server, `@modelcontextprotocol/server-everything` over
//! Streamable HTTP (its answers are event streams).
//!
//! Two runs, of 100 and 600 sequential `tools/call echo` after the handshake:
//! per call = (I(600) - I(100)) / 500, and start-up = I(100) - 105 calls' worth (the 100
//! calls plus the handshake and shutdown). Each run starts with an empty config directory,
//! so it includes the 2026-07-28 probe a first contact makes.
//!
//! The same two runs of the floor relay (`floor.rs`: one hyper connection passing lines and
//! `data:` lines through, nothing parsed or checked) show how much of the bridge's per-call
//! figure any hyper-based relay pays anyway.
//!
//! Needs `valgrind` on the PATH and the interop peers installed (`scripts/setup-peers.sh`).

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Calls in the short and the long run.
const SHORT: u64 = 100;
const LONG: u64 = 600;
/// The cost targets (issue 7).
const PER_CALL_TARGET: u64 = 60_000;
const START_UP_TARGET: u64 = 10_000_000;

/// Runs both measurements and prints them.
pub(crate) fn measure(bridge: &Path) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let interop = root.join("tests/interop");
    ensure!(
        interop
            .join("node_modules/@modelcontextprotocol/server-everything")
            .exists(),
        "server-everything is not installed; run scripts/setup-peers.sh"
    );
    ensure!(
        Command::new("valgrind")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "valgrind is not installed (Debian package valgrind)"
    );
    let port = free_port()?;
    let server = Server::start(&interop, port)?;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let bridge_run = |calls| run_counted(bridge, &["--silent", &url], calls);
    let short = bridge_run(SHORT)?;
    let long = bridge_run(LONG)?;
    let this = std::env::current_exe()?;
    let floor_run = |calls| run_counted(&this, &["--floor-relay", &url], calls);
    let floor = (floor_run(SHORT)?, floor_run(LONG)?);
    drop(server);
    ensure!(long > short, "the longer run cost less ({long} <= {short})");
    let per_call = (long - short) / (LONG - SHORT);
    let start_up = short.saturating_sub((SHORT + 5) * per_call);
    println!();
    println!("instructions (valgrind --tool=callgrind, server-everything over Streamable HTTP):");
    println!("  {SHORT} calls: {short}   {LONG} calls: {long}");
    let verdict = |value: u64, target: u64| if value <= target { "PASS" } else { "MISS" };
    println!(
        "  per call:  {per_call:>12}   target <= {PER_CALL_TARGET:>10}  {}",
        verdict(per_call, PER_CALL_TARGET)
    );
    println!(
        "  start-up:  {start_up:>12}   target <= {START_UP_TARGET:>10}  {}",
        verdict(start_up, START_UP_TARGET)
    );
    let floor_per_call = floor.1.saturating_sub(floor.0) / (LONG - SHORT);
    println!("  floor relay (bare hyper connection, nothing parsed): {floor_per_call} per call");
    Ok(())
}

/// `program args` under callgrind serving `calls` sequential echo calls; its instruction
/// count.
fn run_counted(program: &Path, args: &[&str], calls: u64) -> Result<u64> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("callgrind.out");
    let mut child = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(program)
        .args(args)
        .env("MCP_BRIDGE_CONFIG_DIR", dir.path().join("config"))
        .env("MCP_BRIDGE_STORE", "memory")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("failed to start valgrind")?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut ask = |msg: Value, id: u64, then: Option<&str>| -> Result<Value> {
        writeln!(stdin, "{msg}")?;
        stdin.flush()?;
        loop {
            let mut line = String::new();
            ensure!(stdout.read_line(&mut line)? > 0, "the bridge closed stdout");
            let answer: Value = serde_json::from_str(&line)?;
            if answer["id"] == id {
                ensure!(answer.get("result").is_some(), "an error: {answer}");
                if let Some(next) = then {
                    writeln!(stdin, "{next}")?;
                }
                return Ok(answer);
            }
        }
    };
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},
        "clientInfo":{"name":"bridge-bench","version":"0"}}});
    let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    ask(init, 0, Some(initialized))?;
    for id in 1..=calls {
        let call = json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
            "params":{"name":"echo","arguments":{"message":format!("call {id}")}}});
        let answer = ask(call, id, None)?;
        let text = answer
            .pointer("/result/content/0/text")
            .and_then(Value::as_str);
        ensure!(
            text.is_some_and(|t| t.contains(&format!("call {id}"))),
            "wrong echo: {answer}"
        );
    }
    drop(stdin);
    let status = child.wait()?;
    ensure!(status.success(), "the bridge exited with {status}");
    let text = std::fs::read_to_string(&out).context("no callgrind output")?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .context("no instruction total in the callgrind output")
}

/// server-everything on 127.0.0.1, stopped on drop.
struct Server(Child);

impl Server {
    fn start(interop: &Path, port: u16) -> Result<Server> {
        let node = interop.join("node_modules/.bin/node");
        let node = if node.exists() {
            node
        } else {
            PathBuf::from("node")
        };
        let child = Command::new(node)
            .arg(interop.join("everything-launcher.mjs"))
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start server-everything")?;
        let server = Server(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("server-everything did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
