//! `--latency`: what the bridge adds to a call on a slow network. The benchmark's upstream
//! sits behind `FaultProxy` (tests/it/support/proxy.rs) with 50 ms added each way, and the
//! same sequential `tools/call echo` requests go through that proxy along two paths: the
//! release bridge over its stdio, and a direct `reqwest` client. Calls alternate between
//! the paths, so both see the same machine load; the report is the p50 of each and the
//! bridge's overhead in percent of the direct p50 (target: within 5%).
//!
//! The proxy and the upstream run on threads and runtimes of their own; the client side
//! runs on the benchmark's main thread.

use super::proxy::FaultProxy;
use super::{Bridge, Direct, Peer, check_echo, echo_call, ms, percentile, start_upstream};
use anyhow::{Context, Result, ensure};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Added delay, each way.
const LATENCY: Duration = Duration::from_millis(50);
/// Untimed calls on each path first.
const WARMUP: u64 = 10;
/// Timed calls on each path when `--calls` is not given.
pub(crate) const DEFAULT_CALLS: u64 = 200;
/// The most the bridge may add to the direct p50, in percent.
const TARGET_PERCENT: f64 = 5.0;

/// Runs the comparison with `calls` timed calls on each path and prints the figures.
pub(crate) async fn measure(calls: u64) -> Result<()> {
    let upstream: SocketAddr = ([127, 0, 0, 1], start_upstream()?).into();
    let proxy = spawn_proxy(upstream)?;
    proxy.set_latency(LATENCY);
    let url = proxy.url("/mcp");

    let mut bridge = Bridge::start(&url).await.context("bridge start")?.0;
    let mut direct = Direct::connect(&url).await.context("direct start")?.0;
    let (mut via_bridge, mut via_direct) = (Vec::new(), Vec::new());
    let mut id = 2;
    for n in 0..WARMUP + calls {
        let timed = n >= WARMUP;
        // Alternate which path goes first, so neither always follows the other.
        for path in if n % 2 == 0 { [0, 1] } else { [1, 0] } {
            let start = Instant::now();
            let answer = if path == 0 {
                bridge.request(echo_call(id)).await?
            } else {
                direct.request(echo_call(id)).await?
            };
            let took = start.elapsed();
            ensure!(check_echo(&answer)? == id, "answer to another call");
            if timed {
                if path == 0 {
                    via_bridge.push(took);
                } else {
                    via_direct.push(took);
                }
            }
            id += 1;
        }
    }
    bridge.close().await?;

    let b50 = ms(percentile(&mut via_bridge, 50.0));
    let d50 = ms(percentile(&mut via_direct, 50.0));
    let b90 = ms(percentile(&mut via_bridge, 90.0));
    let d90 = ms(percentile(&mut via_direct, 90.0));
    let overhead = (b50 - d50) / d50 * 100.0;
    let verdict = if overhead <= TARGET_PERCENT {
        "PASS"
    } else {
        "MISS"
    };
    println!(
        "mcp-bridge latency benchmark: {calls} sequential calls per path after {WARMUP} warm-up,"
    );
    println!(
        "through a TCP proxy adding {} ms each way to {url} (axum, JSON answers)",
        LATENCY.as_millis()
    );
    println!();
    println!("{:<28} {:>12} {:>12}", "per call", "bridge", "direct");
    println!("{:<28} {:>9.3} ms {:>9.3} ms", "p50", b50, d50);
    println!("{:<28} {:>9.3} ms {:>9.3} ms", "p90", b90, d90);
    println!();
    println!(
        "bridge overhead at p50: {:+.3} ms = {overhead:+.2}% of direct   target <= {TARGET_PERCENT}%   {verdict}",
        b50 - d50
    );
    println!(
        "(the network alone is {} ms a round trip)",
        2 * LATENCY.as_millis()
    );
    Ok(())
}

/// Starts the proxy on a thread and runtime of its own, in front of `target`.
fn spawn_proxy(target: SocketAddr) -> Result<FaultProxy> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (proxy_tx, proxy_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("proxy".into())
        .spawn(move || {
            runtime.block_on(async move {
                // The receiver waits for this one message; if it is gone, so is the run.
                let _ = proxy_tx.send(FaultProxy::start(target).await);
                std::future::pending::<()>().await;
            });
        })?;
    proxy_rx.recv().context("the proxy thread failed to start")
}
