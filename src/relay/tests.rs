//! The relay alone: a host on `tokio::io::duplex` pipes and a scripted fake upstream.

use super::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, DuplexStream};

/// How the fake upstream answers a request.
#[derive(Clone, Copy, PartialEq)]
enum Script {
    /// One success answer, echoing the method.
    Echo,
    /// Two error answers for the same id (a broken server).
    ErrorTwice,
    /// No answer at all.
    Silent,
}

#[derive(Debug, thiserror::Error)]
#[error("the fake upstream gave up")]
struct Gone;

struct Fake {
    to_host_tx: mpsc::Sender<Message>,
    script: Script,
    /// Everything the relay sent upstream.
    sent: Arc<Mutex<Vec<Message>>>,
    /// Cancelled to make the upstream fail for good.
    fatal: CancellationToken,
    closed: Arc<Mutex<bool>>,
}

impl Upstream for Fake {
    type Error = Gone;

    async fn send(&mut self, msg: Message) -> Result<(), Gone> {
        self.sent.lock().unwrap().push(msg.clone());
        let Some(id) = msg.id().filter(|_| msg.kind() == Kind::Request) else {
            return Ok(());
        };
        match self.script {
            Script::Echo => {
                let answer = Message::success(id, &json!({"method": msg.method()}));
                let _ = self.to_host_tx.send(answer).await;
            }
            Script::ErrorTwice => {
                for n in 0..2 {
                    let e = Message::error(id, -32000, &format!("failure {n}"));
                    let _ = self.to_host_tx.send(e).await;
                }
            }
            Script::Silent => {}
        }
        Ok(())
    }

    async fn failed(&self) -> Gone {
        self.fatal.cancelled().await;
        Gone
    }

    async fn close(&mut self) {
        *self.closed.lock().unwrap() = true;
    }

    async fn keepalive(&mut self) {
        self.sent
            .lock()
            .unwrap()
            .push(Message::notification("keepalive", None));
    }
}

/// One relay run: the host's pipe ends, the fake's handles, and the run itself.
struct Harness {
    stdin: DuplexStream,
    stdout: tokio::io::Lines<tokio::io::BufReader<DuplexStream>>,
    to_host_tx: mpsc::Sender<Message>,
    sent: Arc<Mutex<Vec<Message>>>,
    fatal: CancellationToken,
    closed: Arc<Mutex<bool>>,
    shutdown: Shutdown,
    run: tokio::task::JoinHandle<QuitReason<Gone>>,
}

fn start(script: Script) -> Harness {
    start_with(script, |_| {})
}

/// [`start`] with changed relay options.
fn start_with(script: Script, change: impl FnOnce(&mut Options)) -> Harness {
    let (stdin, relay_in) = tokio::io::duplex(64 * 1024);
    let (relay_out, stdout) = tokio::io::duplex(64 * 1024);
    let (to_host_tx, inbound) = mpsc::channel(CHANNEL_CAPACITY);
    let sent = Arc::new(Mutex::new(Vec::new()));
    let fatal = CancellationToken::new();
    let closed = Arc::new(Mutex::new(false));
    let fake = Fake {
        to_host_tx: to_host_tx.clone(),
        script,
        sent: sent.clone(),
        fatal: fatal.clone(),
        closed: closed.clone(),
    };
    let mut options = Options {
        max_message: 1024,
        max_in_flight: 3,
        max_bytes_in_flight: 64 * 1024,
        drain_timeout: Duration::from_millis(200),
        tool_filter: ToolFilter::default(),
        request_timeout: None,
        keepalive: None,
    };
    change(&mut options);
    let shutdown = Shutdown::new();
    let run = tokio::spawn(run(
        relay_in,
        relay_out,
        fake,
        inbound,
        options,
        shutdown.clone(),
    ));
    Harness {
        stdin,
        stdout: tokio::io::BufReader::new(stdout).lines(),
        to_host_tx,
        sent,
        fatal,
        closed,
        shutdown,
        run,
    }
}

impl Harness {
    async fn write(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.write_all(b"\n").await.unwrap();
    }

    async fn request(&mut self, id: &str, method: &str) {
        self.write(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}"}}"#
        ))
        .await;
    }

    /// The next line on stdout, as JSON; fails the test after a few seconds.
    async fn read(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(5), self.stdout.next_line())
            .await
            .expect("an answer in time")
            .unwrap()
            .expect("stdout still open");
        serde_json::from_str(&line).expect("stdout carries JSON only")
    }

    /// Every line until the relay closes stdout.
    async fn read_to_end(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(5), self.stdout.next_line()).await
        {
            out.push(serde_json::from_str(&line).expect("stdout carries JSON only"));
        }
        out
    }

    async fn finish(self) -> QuitReason<Gone> {
        tokio::time::timeout(Duration::from_secs(5), self.run)
            .await
            .expect("the relay stops in time")
            .unwrap()
    }
}

/// Answers by id, in the order they came.
fn ids(answers: &[Value]) -> Vec<String> {
    answers.iter().map(|a| a["id"].to_string()).collect()
}

/// A server that answers every request twice (with errors) still gives the host exactly
/// one answer per request.
#[tokio::test]
async fn one_answer_per_request_under_a_failing_upstream() {
    let mut h = start(Script::ErrorTwice);
    for id in 1..=5 {
        h.request(&id.to_string(), "tools/call").await;
    }
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(h.read().await);
    }
    drop(std::mem::replace(&mut h.stdin, tokio::io::duplex(1).0));
    let rest = h.read_to_end().await;
    assert!(rest.is_empty(), "no second answers: {rest:?}");
    let mut got = ids(&answers);
    got.sort();
    assert_eq!(got, ["1", "2", "3", "4", "5"]);
    assert!(answers.iter().all(|a| a["error"]["message"] == "failure 0"));
}

/// A request whose id is still in flight is refused at once; the first keeps its place and
/// gets its own answer.
#[tokio::test]
async fn a_duplicate_host_id_is_refused() {
    let mut h = start(Script::Silent);
    h.request("7", "tools/call").await;
    h.request("7", "tools/list").await;
    let refusal = h.read().await;
    assert_eq!(refusal["id"], 7);
    assert_eq!(refusal["error"]["code"], jsonrpc::INVALID_REQUEST);
    assert_eq!(
        h.sent.lock().unwrap().len(),
        1,
        "the duplicate never went upstream"
    );
    let first = Message::success(&Id::from_raw("7").unwrap(), &json!({"ok": true}));
    h.to_host_tx.send(first).await.unwrap();
    assert_eq!(h.read().await["result"]["ok"], true);
}

/// An answer nobody asked for is dropped; notifications and real answers pass.
#[tokio::test]
async fn answers_to_unknown_ids_are_dropped() {
    let mut h = start(Script::Silent);
    h.request("1", "ping").await;
    let stray = Message::success(&Id::from_raw("99").unwrap(), &json!({}));
    h.to_host_tx.send(stray).await.unwrap();
    let note = Message::notification("notifications/message", Some(&json!({"level": "info"})));
    h.to_host_tx.send(note).await.unwrap();
    let answer = Message::success(&Id::from_raw("1").unwrap(), &json!({}));
    h.to_host_tx.send(answer).await.unwrap();
    assert_eq!(h.read().await["method"], "notifications/message");
    assert_eq!(h.read().await["id"], 1);
}

/// The answer carries the id text the host used, even when the server spells the number
/// another way.
#[tokio::test]
async fn answers_keep_the_host_id_text() {
    let mut h = start(Script::Silent);
    h.request("1.0", "ping").await;
    h.request("123456789012345678901234567890", "ping").await;
    for id in ["1", "123456789012345678901234567890"] {
        let answer = Message::success(&Id::from_raw(id).unwrap(), &json!({}));
        h.to_host_tx.send(answer).await.unwrap();
    }
    let mut raw = Vec::new();
    for _ in 0..2 {
        let line = h.stdout.next_line().await.unwrap().unwrap();
        raw.push(line);
    }
    assert!(raw[0].contains(r#""id":1.0"#), "{}", raw[0]);
    assert!(
        raw[1].contains(r#""id":123456789012345678901234567890"#),
        "{}",
        raw[1]
    );
}

/// stdin closing with requests pending: a bounded wait, then an error answer for each, the
/// upstream closed, and a clean quit.
#[tokio::test]
async fn eof_answers_every_pending_request() {
    let mut h = start(Script::Silent);
    for id in ["1", "\"two\"", "3"] {
        h.request(id, "tools/call").await;
    }
    let closed = h.closed.clone();
    drop(std::mem::replace(&mut h.stdin, tokio::io::duplex(1).0));
    let answers = h.read_to_end().await;
    let mut got = ids(&answers);
    got.sort();
    assert_eq!(got, ["\"two\"", "1", "3"]);
    assert!(answers.iter().all(|a| {
        a["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shutting down")
    }));
    assert!(matches!(h.finish().await, QuitReason::StdinClosed));
    assert!(*closed.lock().unwrap());
}

/// A signal ends the relay; what is pending is answered.
#[tokio::test]
async fn a_signal_stops_the_relay() {
    let mut h = start(Script::Silent);
    h.request("1", "tools/call").await;
    while h.sent.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    let host_gone = h.shutdown.host_gone();
    h.shutdown.signal();
    assert!(
        host_gone.is_cancelled(),
        "a login in progress stops at once"
    );
    let answers = h.read_to_end().await;
    assert_eq!(ids(&answers), ["1"]);
    assert!(matches!(h.finish().await, QuitReason::Signal));
}

/// An upstream that fails for good ends the relay; pending requests get its reason.
#[tokio::test]
async fn a_fatal_upstream_answers_what_is_pending() {
    let mut h = start(Script::Silent);
    h.request("1", "tools/call").await;
    while h.sent.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    h.fatal.cancel();
    let answers = h.read_to_end().await;
    assert!(
        answers[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the fake upstream gave up")
    );
    assert!(matches!(h.finish().await, QuitReason::Fatal(Gone)));
}

/// Bad input gets the right error and the relay goes on; arrays are not messages.
#[tokio::test]
async fn bad_input_is_answered_and_survived() {
    let mut h = start(Script::Echo);
    h.write("{oops").await;
    assert_eq!(h.read().await["error"]["code"], jsonrpc::PARSE_ERROR);
    // A positional array is a batch of three non-messages, each refused.
    h.write(r#"["2.0",5,"tools/list"]"#).await;
    for _ in 0..3 {
        assert_eq!(h.read().await["error"]["code"], jsonrpc::INVALID_REQUEST);
    }
    h.write(&"x".repeat(2000)).await;
    assert!(
        h.read().await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeds the limit")
    );
    h.request("2", "tools/list").await;
    assert_eq!(h.read().await["result"]["method"], "tools/list");
}

/// Past the bound on requests in flight, requests wait and then stdin waits: the upstream
/// sees no more than the bound until answers make room, and nothing is lost; a request still
/// waiting when stdin closes is answered with an error.
#[tokio::test]
async fn requests_in_flight_are_bounded() {
    let mut h = start(Script::Silent);
    // The bound is 3: three go upstream, three wait.
    for id in 1..=6 {
        h.request(&id.to_string(), "tools/call").await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let requests = |h: &Harness| {
        h.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.kind() == Kind::Request)
            .count()
    };
    assert_eq!(requests(&h), 3, "the bound holds");
    // Answer the first two: two more go upstream, in order.
    for id in ["1", "2"] {
        let id = Id::from_raw(id).unwrap();
        h.to_host_tx
            .send(Message::success(&id, &json!({})))
            .await
            .unwrap();
        assert_eq!(h.read().await["id"].to_string(), id.to_string());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(requests(&h), 5);
    let sent: Vec<String> = h
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.id().unwrap().to_string())
        .collect();
    assert_eq!(sent, ["1", "2", "3", "4", "5"]);
    // At the end every request has its one answer: the one still waiting says it never
    // went out, the three in flight get the shutdown answer.
    drop(std::mem::replace(&mut h.stdin, tokio::io::duplex(1).0));
    let rest = h.read_to_end().await;
    let mut got = ids(&rest);
    got.sort();
    assert_eq!(got, ["3", "4", "5", "6"], "{rest:?}");
    let never_sent = rest.iter().find(|a| a["id"] == 6).unwrap();
    assert!(
        never_sent["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stdin closed before this request could be sent"),
        "{never_sent}"
    );
}

/// What the relay sent upstream, as text.
fn sent_text(h: &Harness) -> Vec<String> {
    h.sent
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// A request the server leaves unanswered past --request-timeout gets one error answer, the
/// server is told it is cancelled (naming the id exactly as the host wrote it), and the
/// server's late answer is dropped. `initialize` is never cancelled.
#[tokio::test(start_paused = true)]
async fn a_request_past_its_timeout_is_answered_and_cancelled() {
    let mut h = start_with(Script::Silent, |o| {
        o.request_timeout = Some(Duration::from_secs(30));
    });
    h.request("1", "initialize").await;
    h.request("123456789012345678901234567890", "tools/call")
        .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    h.request("3", "tools/call").await;
    // (The harness's read gives up after 5 s, so the clock is moved past each deadline first.)
    tokio::time::sleep(Duration::from_secs(21)).await;
    let mut first = [h.read().await, h.read().await];
    first.sort_by_key(|a| a["id"].to_string());
    assert_eq!(first[0]["id"], 1);
    assert_eq!(
        sent_text(&h)
            .iter()
            .filter(|m| m.contains("cancelled"))
            .count(),
        1,
        "the third request is not due yet"
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let third = h.read().await;
    for answer in first.iter().chain([&third]) {
        let text = answer["error"]["message"].as_str().unwrap();
        assert!(text.contains("--request-timeout"), "{text}");
        assert_eq!(answer["error"]["code"], jsonrpc::BRIDGE_ERROR);
    }
    assert_eq!(third["id"], 3);
    let sent = sent_text(&h);
    let cancels: Vec<&String> = sent
        .iter()
        .filter(|m| m.contains("notifications/cancelled"))
        .collect();
    assert_eq!(cancels.len(), 2, "{sent:?}");
    assert!(
        cancels[0].contains(r#""requestId":123456789012345678901234567890"#),
        "{}",
        cancels[0]
    );
    assert!(cancels[1].contains(r#""requestId":3"#), "{}", cancels[1]);
    // The late answer is dropped; what follows it still passes.
    let late = Message::success(&Id::from_raw("3").unwrap(), &json!({}));
    h.to_host_tx.send(late).await.unwrap();
    let note = Message::notification("notifications/message", Some(&json!({"level": "info"})));
    h.to_host_tx.send(note).await.unwrap();
    assert_eq!(h.read().await["method"], "notifications/message");
}

/// A request answered in time is not touched by the timeout.
#[tokio::test(start_paused = true)]
async fn a_request_answered_in_time_keeps_its_answer() {
    let mut h = start_with(Script::Echo, |o| {
        o.request_timeout = Some(Duration::from_secs(5));
    });
    h.request("1", "tools/list").await;
    assert_eq!(h.read().await["result"]["method"], "tools/list");
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(!sent_text(&h).iter().any(|m| m.contains("cancelled")));
    drop(std::mem::replace(&mut h.stdin, tokio::io::duplex(1).0));
    assert!(h.read_to_end().await.is_empty(), "no second answer");
}

/// After --keepalive of quiet either way the upstream is asked to keep the connection
/// alive, once per quiet period; traffic in either direction postpones it.
#[tokio::test(start_paused = true)]
async fn keepalive_runs_after_quiet_only() {
    let mut h = start_with(Script::Echo, |o| {
        o.keepalive = Some(Duration::from_secs(30))
    });
    let pings = |h: &Harness| {
        sent_text(h)
            .iter()
            .filter(|m| m.contains("keepalive"))
            .count()
    };
    // Host traffic every 20 s: never quiet for 30 s.
    for n in 0..5 {
        h.request(&n.to_string(), "ping").await;
        h.read().await;
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
    assert_eq!(pings(&h), 0);
    // Server traffic alone also counts.
    for _ in 0..3 {
        let note = Message::notification("notifications/progress", None);
        h.to_host_tx.send(note).await.unwrap();
        h.read().await;
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
    assert_eq!(pings(&h), 0);
    // Quiet: one ping per 30 s.
    tokio::time::sleep(Duration::from_secs(85)).await;
    assert_eq!(pings(&h), 3);
}
