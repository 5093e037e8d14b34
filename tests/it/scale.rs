//! Scale: thousands of calls, and a batch of a hundred thousand, through one bridge. The
//! resources the bridge holds (file descriptors, memory) stay bounded by its limits, not by
//! how much the host sends, and every request gets exactly one answer.

use crate::support::mock::{Config, MockMcp};
use crate::support::{Bridge, open_fds, peak_rss_kib};
use serde_json::{Value, json};

/// Three thousand calls sent at once to a server that takes a few milliseconds each, with
/// `--max-in-flight 50`: the bridge's open file descriptors never exceed what 50 connections
/// need, and once warmed up they do not grow (no connection or stream is leaked per call).
#[tokio::test]
async fn file_descriptors_stay_flat_over_thousands_of_calls() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--max-in-flight", "50"]);
    bridge.initialize().await;
    let pid = bridge.child.id().expect("running");
    let at_start = open_fds(pid);
    const CALLS: u64 = 3000;
    let writer = {
        let lines: String = (1..=CALLS)
            .map(|id| {
                format!(
                    "{}\n",
                    json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
                        "params":{"name":"slow","arguments":{"ms":3}}})
                )
            })
            .collect();
        bridge.raw_stdin_writer(lines)
    };
    let (mut most, mut after_warm_up) = (0, None);
    let mut seen = 0usize;
    bridge
        .recv_answers(CALLS as usize, |a| {
            assert_eq!(a["result"]["content"][0]["text"], "slow done", "{a}");
            seen += 1;
            if seen.is_multiple_of(100) {
                let fds = open_fds(pid);
                most = most.max(fds);
                if seen == 500 {
                    after_warm_up = Some(fds);
                }
            }
        })
        .await;
    drop(writer.await.expect("stdin writer"));
    let at_end = open_fds(pid);
    bridge.finish().await;
    let after_warm_up = after_warm_up.expect("sampled after warm-up");
    eprintln!(
        "fds: {at_start} at start, {after_warm_up} after 500 calls, {most} at most, {at_end} at the end"
    );
    assert!(
        most <= at_start + 50 + 10,
        "{most} fds open at once (start {at_start}, --max-in-flight 50)"
    );
    assert!(
        at_end <= after_warm_up + 5,
        "fds grew from {after_warm_up} to {at_end} over {CALLS} calls"
    );
    assert!(
        server.slow_most() <= 50,
        "{} at the server",
        server.slow_most()
    );
}

/// One batch of 100,000 requests: every element is answered, once, and the bridge's peak
/// memory stays bounded (it took 435 MB before requests in flight were bounded).
#[tokio::test]
async fn a_batch_of_a_hundred_thousand_is_answered_in_bounded_memory() {
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    let pid = bridge.child.id().expect("running");
    const CALLS: u64 = 100_000;
    let batch: Vec<Value> = (1..=CALLS)
        .map(|id| json!({"jsonrpc":"2.0","id":id,"method":"ping"}))
        .collect();
    let writer = bridge.raw_stdin_writer(format!("{}\n", Value::Array(batch)));
    bridge
        .recv_answers(CALLS as usize, |a| {
            assert!(a["result"].is_object(), "{a}");
        })
        .await;
    drop(writer.await.expect("stdin writer"));
    let peak = peak_rss_kib(pid);
    bridge.finish().await;
    eprintln!("peak RSS for a batch of {CALLS}: {peak} KiB");
    assert!(peak < 150 * 1024, "peak RSS {peak} KiB");
}
