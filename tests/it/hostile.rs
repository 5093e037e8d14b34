//! Attacks and faulty peers, each played by a real process or socket on the other end: what
//! a hostile host writes on stdin, what a hostile or broken server answers. Each test here
//! reproduces a defect that was found, and holds the fix in place.

use crate::support::Bridge;
use crate::support::raw::{RawServer, Seen, initialize_result};
use serde_json::{Value, json};

/// A raw server that speaks the `initialize` era and answers every call with `answer`.
async fn server(answer: impl Fn(&Seen) -> Option<String> + Send + Sync + 'static) -> RawServer {
    RawServer::start(move |seen| match seen.method.as_deref() {
        Some("initialize") => Some(initialize_result(seen.id.as_deref().unwrap_or("null"))),
        None if seen.id.is_none() => None,
        Some(m) if m.starts_with("notifications/") => None,
        _ => answer(seen),
    })
    .await
}

fn start(url: &str, extra: &[&str]) -> Bridge {
    let mut args = vec![url, "--protocol", "legacy"];
    args.extend_from_slice(extra);
    Bridge::start(&args)
}

/// `--ignore-tool` reads only what it needs, with a parser that has no number-range or depth
/// failure, and refuses what it cannot read: no `1e999`, deep nesting or duplicate `name`
/// lets a call through, and a list carrying `1e999` is still filtered.
#[tokio::test]
async fn ignore_tool_fails_closed() {
    let server = server(|seen| {
        let id = seen.id.clone().unwrap_or_default();
        Some(match seen.method.as_deref() {
            Some("tools/list") => format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"tools":[{{"name":"read","inputSchema":{{"type":"object","maximum":1e999}}}},{{"name":"delete_all","inputSchema":{{"type":"object"}}}}]}}}}"#
            ),
            _ => format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[]}}}}"#),
        })
    })
    .await;
    let mut bridge = start(&server.url(), &["--ignore-tool", "delete*"]);
    bridge.initialize().await;
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let calls = [
        r#"{"name":"delete_all","arguments":{"x":1e999}}"#.to_owned(),
        format!(r#"{{"name":"delete_all","arguments":{{"x":{deep}}}}}"#),
        r#"{"name":"read","name":"delete_all"}"#.to_owned(),
    ];
    for (i, params) in calls.iter().enumerate() {
        bridge
            .send_raw(&format!(
                r#"{{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{params}}}"#,
                i + 1
            ))
            .await;
        let (answer, _) = bridge.recv_answer(json!(i + 1)).await;
        assert!(answer["error"]["message"].is_string(), "{params}: {answer}");
    }
    assert!(
        server.calls("tools/call").is_empty(),
        "no call reached the server"
    );

    bridge
        .send_raw(r#"{"jsonrpc":"2.0","id":9,"method":"tools/list"}"#)
        .await;
    let line = bridge.recv_line().await;
    assert!(!line.contains("delete_all"), "{line}");
    assert!(
        line.contains("\"read\"") && line.contains("1e999"),
        "{line}"
    );
    bridge.finish().await;
}

/// Only JSON objects are messages: an array from the host is refused with an answer, and an
/// array from the server (for `initialize` or for a call) becomes an error for the host;
/// nothing panics and the array never reaches stdout.
#[tokio::test]
async fn arrays_are_never_messages() {
    let server = RawServer::start(|seen| {
        let id = seen.id.clone().unwrap_or_else(|| "null".into());
        match seen.method.as_deref() {
            Some("initialize") if id == "0" => Some(format!(r#"[["2.0",{id},null,{{}}]]"#)),
            Some("initialize") => Some(initialize_result(&id)),
            Some("tools/call") => Some(format!(r#"["2.0",{id},{{"content":[]}}]"#)),
            _ => None,
        }
    })
    .await;
    let mut bridge = start(&server.url(), &[]);
    bridge.send_raw(r#"["2.0",5,"tools/list"]"#).await;
    let refused = bridge.recv().await;
    assert_eq!(refused["error"]["code"], -32600, "{refused}");

    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"h","version":"1"}}});
    bridge.send(init.clone()).await;
    let (answer, _) = bridge.recv_answer(json!(0)).await;
    assert!(answer["error"]["message"].is_string(), "{answer}");

    let mut init = init;
    init["id"] = json!(1);
    bridge.send(init).await;
    let (answer, _) = bridge.recv_answer(json!(1)).await;
    assert!(answer["result"].is_object(), "{answer}");
    bridge
        .send_raw(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .await;
    bridge
        .send_raw(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}"#)
        .await;
    let line = bridge.recv_line().await;
    let answer: Value = serde_json::from_str(&line).unwrap();
    assert!(answer.is_object() && answer["error"].is_object(), "{line}");
    assert_eq!(answer["id"], 2);
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The same with a 2026-07-28 server, for a legacy host (whose answers the bridge
/// translates) and a 2026-07-28 host (whose answers pass through): a call the server answers
/// with an array, as JSON or on an event stream after another array event, gets exactly one
/// answer, a JSON-RPC error, at once; nothing else reaches stdout and nothing panics.
#[tokio::test]
async fn arrays_from_a_modern_server_are_never_messages() {
    use crate::support::modern_mock::{Config, ModernMock};
    for sse in [false, true] {
        let server = ModernMock::start(Config {
            sse,
            ..Config::default()
        })
        .await;
        for modern_host in [false, true] {
            let mut bridge = Bridge::start(&[&server.url()]);
            let call = if modern_host {
                crate::modern::modern_request(1, "tools/call", json!({"name": "array"}))
            } else {
                bridge.initialize().await;
                json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"array"}})
            };
            bridge.send(call).await;
            let line = tokio::time::timeout(std::time::Duration::from_secs(10), bridge.recv_line())
                .await
                .expect("the call is answered before shutdown");
            let answer: Value = serde_json::from_str(&line).unwrap();
            assert!(answer.is_object(), "sse={sse} modern={modern_host}: {line}");
            assert_eq!(answer["id"], 1, "{line}");
            assert!(answer["error"]["message"].is_string(), "{line}");
            bridge.close_stdin();
            let rest = bridge.drain_stdout().await;
            assert!(rest.is_empty(), "more on stdout: {rest:?}");
            let (code, stderr) = bridge.finish().await;
            assert_eq!(code, Some(0), "{stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
        assert_eq!(
            server.tool_calls("array").len(),
            2,
            "both calls reached the server"
        );
    }
}

/// Ids are compared as the exact number: two ids past `f64`'s precision stay apart, the
/// bridge's own errors carry the host's id text, and a JavaScript server's `1.0`, `1e2` and
/// `-0` answer the requests `1`, `100` and `0`, which get their own id text back.
#[tokio::test]
async fn ids_are_exact() {
    let server = server(|seen| {
        let id = seen.id.clone().unwrap_or_default();
        // Answer as a JavaScript server would write the number back.
        let written = match id.as_str() {
            "1" => "1.0".to_owned(),
            "100" => "1e2".to_owned(),
            "0" => "-0".to_owned(),
            _ => id,
        };
        if seen.body.contains("\"fail\"") {
            return Some(String::from("not json"));
        }
        Some(format!(
            r#"{{"jsonrpc":"2.0","id":{written},"result":{{"content":[]}}}}"#
        ))
    })
    .await;
    let mut bridge = start(&server.url(), &[]);
    bridge.initialize().await;
    let big_a = "123456789012345678901234567890";
    let big_b = "123456789012345678901234567891";
    for id in [big_a, big_b, "1", "100", "0"] {
        bridge
            .send_raw(&format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"x"}}}}"#
            ))
            .await;
    }
    let mut ids = Vec::new();
    for _ in 0..5 {
        let line = bridge.recv_line().await;
        assert!(line.contains("\"result\""), "{line}");
        let start = line.find("\"id\":").unwrap() + 5;
        let end = start + line[start..].find([',', '}']).unwrap();
        ids.push(line[start..end].to_owned());
    }
    ids.sort();
    let mut expected = vec![big_a, big_b, "1", "100", "0"];
    expected.sort();
    assert_eq!(ids, expected);

    // A bridge-made error (the server's answer is not JSON) carries the id as written.
    bridge
        .send_raw(&format!(
            r#"{{"jsonrpc":"2.0","id":{big_a}0,"method":"tools/call","params":{{"name":"fail"}}}}"#
        ))
        .await;
    let line = bridge.recv_line().await;
    assert!(line.contains(&format!("\"id\":{big_a}0")), "{line}");
    assert!(line.contains("\"error\""), "{line}");
    bridge.finish().await;
}

/// `*.localhost` counts as this machine for the plain-http rule, so it must resolve only to
/// loopback (RFC 6761), never through DNS: a bearer token for `http://app.localhost:PORT`
/// reaches the server on 127.0.0.1 whatever the system resolver says about that name.
#[tokio::test]
async fn localhost_names_never_leave_the_machine() {
    use crate::support::mock::{Config, MockMcp};
    let server = MockMcp::start(Config::default()).await;
    let url = server.url().replace("127.0.0.1", "app.localhost");
    let mut bridge = Bridge::start(&[&url, "--bearer", "sekrit-localhost-token"]);
    let init = bridge.initialize().await;
    assert!(init["result"].is_object(), "{init}");
    let (code, stderr) = bridge.finish().await;
    assert_eq!(code, Some(0), "{stderr}");
    let seen = server.calls("initialize");
    assert_eq!(
        seen[0].header("authorization"),
        Some("Bearer sekrit-localhost-token")
    );
}

/// Nor through a proxy: with `HTTP_PROXY` (and `ALL_PROXY`) pointing at a listener and no
/// `NO_PROXY`, requests to `127.0.0.1`, `localhost` names and `[::1]` still go straight to
/// the server, so the bearer token never reaches the proxy in clear text.
#[tokio::test]
async fn this_machine_is_never_reached_through_a_proxy() {
    use crate::support::mock::{Config, MockMcp};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = proxy.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let server = MockMcp::start(Config::default()).await;
    let direct = server.url();
    for url in [direct.clone(), direct.replace("127.0.0.1", "app.localhost")] {
        let proxy_url = proxy_url.clone();
        let mut bridge =
            Bridge::start_with(&[&url, "--bearer", "sekrit-proxy-token"], move |cmd| {
                cmd.env("HTTP_PROXY", &proxy_url)
                    .env("http_proxy", &proxy_url)
                    .env("ALL_PROXY", &proxy_url)
                    .env_remove("NO_PROXY")
                    .env_remove("no_proxy");
            });
        let init = bridge.initialize().await;
        assert!(init["result"].is_object(), "{url}: {init}");
        let (code, stderr) = bridge.finish().await;
        assert_eq!(code, Some(0), "{stderr}");
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the proxy was used");
    assert_eq!(server.calls("initialize").len(), 2);
}

/// A host that stops reading stdout cannot keep the bridge alive: with 200 answers of 50 kB
/// waiting behind a full pipe, SIGTERM (and, separately, stdin EOF) still ends the process
/// within the shutdown bounds (the drain, then the final answers).
#[tokio::test]
async fn shutdown_is_bounded_when_the_host_stops_reading() {
    use crate::support::mock::{Config, MockMcp};
    for how in ["SIGTERM", "EOF"] {
        let server = MockMcp::start(Config::default()).await;
        let mut bridge = Bridge::start(&[&server.url(), "--max-message-size", "4000000"]);
        bridge.initialize().await;
        for id in 1..=200 {
            bridge
                .send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
                    "params":{"name":"big","arguments":{"bytes":50_000}}}))
                .await;
        }
        // Let the answers pile up behind a full pipe.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let started = std::time::Instant::now();
        match how {
            "SIGTERM" => bridge.signal("TERM"),
            _ => bridge.close_stdin(),
        }
        let exited =
            tokio::time::timeout(std::time::Duration::from_secs(15), bridge.child.wait()).await;
        if exited.is_err() {
            let _ = bridge.child.start_kill();
            bridge.close_stdout();
            let (_, stderr) = bridge.finish().await;
            let tail: Vec<&str> = stderr
                .lines()
                .filter(|l| {
                    !l.contains("TRACE")
                        && !l.contains("pooling")
                        && !l.contains("POST")
                        && !l.contains("connect")
                })
                .collect();
            panic!(
                "{how}: still running after {:?} ({} bytes of stderr): {tail:#?}",
                started.elapsed(),
                stderr.len()
            );
        }
    }
}

/// A GET stream that says `retry: 0` and closes, again and again, is reopened at a paced rate
/// (the hint is clamped, an empty event is no progress, the wait grows), not thousands of
/// times a second.
#[tokio::test]
async fn a_get_stream_with_retry_zero_is_paced() {
    use crate::support::mock::{Config, MockMcp};
    use axum::http::Method;
    let server = MockMcp::start(Config {
        stream_prelude: Some("retry: 0\n\n".into()),
        stream_close: true,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&[&server.url()]);
    bridge.initialize().await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let gets = server.http(Method::GET).len();
    assert!((2..=15).contains(&gets), "{gets} GETs in 3 s");
    let answer = bridge
        .request(
            1,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"ok"}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "ok");
    bridge.finish().await;
}

/// HTTP+SSE: a stream that closes right after an event id with a control byte is reopened
/// at a paced rate, and that id (which no header could carry) is never sent back.
#[tokio::test]
async fn sse_reconnects_are_paced_and_unusable_ids_dropped() {
    use crate::support::mock::{Config, MockMcp};
    use axum::http::Method;
    let server = MockMcp::start(Config {
        legacy_only: true,
        stream_prelude: Some("id: bad\u{1}id\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"x\"}}\n\n".into()),
        stream_close: true,
        ..Config::default()
    })
    .await;
    let mut bridge = Bridge::start(&["--sse", &server.sse_url()]);
    bridge
        .send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"h","version":"1"}}}))
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let gets = server.http(Method::GET);
    assert!((1..=15).contains(&gets.len()), "{} GETs in 3 s", gets.len());
    assert!(
        gets.iter().all(|g| g.header("last-event-id").is_none()),
        "an unusable event id was sent back"
    );
    let _ = bridge.finish().await;
}

/// HTTP+SSE with the server down: a call fails at once (as soon as the reconnect it asks for
/// fails, not after a wait), and once the server is back the next call reconnects at once
/// instead of waiting out the backoff.
#[tokio::test]
async fn sse_server_down_then_back() {
    use crate::support::mock::{Config, MockMcp};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let legacy = || Config {
        legacy_only: true,
        ..Config::default()
    };
    let server = MockMcp::start_on(listener, legacy());
    let mut bridge = Bridge::start(&["--sse", &server.sse_url()]);
    bridge.initialize().await;
    let echo = |id: i64| json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"echo","arguments":{"text":"back"}}});
    server.close_streams();
    drop(server);
    // Long enough for the reconnect backoff to reach its cap.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let asked = std::time::Instant::now();
    bridge.send(echo(1)).await;
    let (down, _) = bridge.recv_answer(json!(1)).await;
    assert!(down["error"].is_object(), "{down}");
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );

    let listener = crate::support::rebind(addr).await;
    let _server = MockMcp::start_on(listener, legacy());
    let asked = std::time::Instant::now();
    bridge.send(echo(2)).await;
    let (answer, _) = bridge.recv_answer(json!(2)).await;
    assert_eq!(answer["result"]["content"][0]["text"], "back", "{answer}");
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );
    bridge.finish().await;
}

/// HTTP+SSE with a server that accepts connections and drops them: ten calls sent together
/// all fail at once, and they share the reconnect they ask for instead of each opening one.
#[tokio::test]
async fn sse_calls_while_down_fail_together_on_one_reconnect() {
    use crate::support::mock::{Config, MockMcp};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = MockMcp::start_on(
        listener,
        Config {
            legacy_only: true,
            ..Config::default()
        },
    );
    let mut bridge = Bridge::start(&["--sse", &server.sse_url()]);
    bridge.initialize().await;
    server.close_streams();
    drop(server);
    let listener = crate::support::rebind(addr).await;
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    // Let the bridge see the stream gone and its backoff grow past what the test waits.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let before = accepted.load(Ordering::SeqCst);
    let asked = std::time::Instant::now();
    let calls: Vec<Value> = (1..=10)
        .map(|id| json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}))
        .collect();
    for call in calls {
        bridge.send(call).await;
    }
    let mut failed = std::collections::HashSet::new();
    while failed.len() < 10 {
        let answer = bridge.recv().await;
        assert!(answer["error"].is_object(), "{answer}");
        assert!(
            failed.insert(answer["id"].as_u64().unwrap()),
            "twice: {answer}"
        );
    }
    let took = asked.elapsed();
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    let attempts = accepted.load(Ordering::SeqCst) - before;
    assert!(
        (1..=4).contains(&attempts),
        "{attempts} connections for 10 calls"
    );
    bridge.finish().await;
}

/// The work in flight is bounded: a host that sends 300 requests at once to a slow server
/// (one batch of 150, then 150 lines) never has more than `--max-in-flight` of them at the
/// server; stdin waits (backpressure) and every request gets its answer.
#[tokio::test]
async fn work_in_flight_is_bounded() {
    use crate::support::mock::{Config, MockMcp};
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--max-in-flight", "20"]);
    bridge.initialize().await;
    let slow = |id: u64| json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"slow","arguments":{"ms":100}}});
    let batch: Vec<Value> = (1..=150).map(slow).collect();
    bridge.send(Value::Array(batch)).await;
    for id in 151..=300 {
        bridge.send(slow(id)).await;
    }
    bridge
        .recv_answers(300, |a| {
            assert_eq!(a["result"]["content"][0]["text"], "slow done", "{a}");
        })
        .await;
    bridge.finish().await;
    let most = server.slow_most();
    assert!(
        (1..=20).contains(&most),
        "{most} calls at the server at once"
    );
}

/// Bytes in flight are bounded too: large requests to a slow server wait their turn
/// (here six of 400 kB with a 1 MB bound: two at a time), and a single request over the
/// bound still goes, alone.
#[tokio::test]
async fn bytes_in_flight_are_bounded() {
    use crate::support::mock::{Config, MockMcp};
    let server = MockMcp::start(Config::default()).await;
    let mut bridge = Bridge::start(&[&server.url(), "--max-bytes-in-flight", "1000000"]);
    bridge.initialize().await;
    let padding = "p".repeat(400_000);
    for id in 1..=6u64 {
        bridge
            .send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
                "params":{"name":"slow","arguments":{"ms":150,"padding":padding}}}))
            .await;
    }
    let huge = "h".repeat(1_500_000);
    bridge
        .send(json!({"jsonrpc":"2.0","id":7,"method":"tools/call",
            "params":{"name":"slow","arguments":{"ms":10,"padding":huge}}}))
        .await;
    for _ in 1..=7 {
        let answer = bridge.recv().await;
        assert_eq!(
            answer["result"]["content"][0]["text"], "slow done",
            "{answer}"
        );
    }
    bridge.finish().await;
    let most = server.slow_most();
    assert!(
        (1..=2).contains(&most),
        "{most} large calls at the server at once"
    );
}

/// The answers waiting for a host that stopped reading stdout are bounded in bytes: sixty
/// answers of 4 MB (240 MB) to a host that reads nothing leave the bridge's peak memory
/// near the 8 MB bound (without the bound: 311 MB), because the bridge stops reading the
/// server's bodies instead of holding them; once the host reads again, every answer
/// arrives, once. As JSON bodies and as event streams.
#[tokio::test]
async fn answers_held_for_a_host_that_stopped_reading_are_bounded() {
    use crate::support::mock::{Answer, Config};
    for answer in [Answer::Json, Answer::Sse] {
        answers_held_are_bounded(Config {
            answer,
            ..Config::default()
        })
        .await;
    }
}

async fn answers_held_are_bounded(config: crate::support::mock::Config) {
    let server = crate::support::mock::MockMcp::start(config).await;
    let mut bridge = Bridge::start(&[
        &server.url(),
        "--max-message-size",
        "5000000",
        "--max-bytes-in-flight",
        "8000000",
    ]);
    bridge.initialize().await;
    const CALLS: u64 = 60;
    const BYTES: usize = 4_000_000;
    for id in 1..=CALLS {
        bridge
            .send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
                "params":{"name":"big","arguments":{"bytes":BYTES}}}))
            .await;
    }
    // The host reads nothing while the server answers everything it can: until the
    // bridge's memory has not grown for three seconds (a debug build parses slowly).
    let pid = bridge.child.id().expect("running");
    let (mut peak, mut still) = (0, 0);
    for _ in 0..120 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = crate::support::peak_rss_kib(pid);
        still = if now > peak + 1024 { 0 } else { still + 1 };
        peak = peak.max(now);
        if still == 6 {
            break;
        }
    }
    eprintln!("bridge peak RSS with the host not reading: {peak} KiB");
    let mut answered = std::collections::HashSet::new();
    while answered.len() < CALLS as usize {
        let answer = bridge.recv().await;
        let text = answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            text.len(),
            BYTES,
            "{}",
            &answer.to_string()[..200.min(answer.to_string().len())]
        );
        assert!(
            answered.insert(answer["id"].as_u64().unwrap()),
            "answered twice"
        );
    }
    bridge.finish().await;
    assert!(
        peak < 100 * 1024,
        "peak RSS {peak} KiB while {} MB of answers waited",
        CALLS * BYTES as u64 / 1_000_000
    );
}
