//! A 2026-07-28 host on an `initialize`-era server.
//!
//! The bridge performs the handshake upstream with what the host's `_meta` says, answers
//! `server/discover` itself from the server's `initialize` result, and strips the
//! per-request protocol keys the session now carries.
//!
//! Such a server asks its questions (elicitation, sampling, roots) as requests in the middle
//! of a call; a 2026-07-28 host expects an `input_required` result instead, and retries the
//! call with its answers. The [`Broker`] parks the server's request, answers the host's call
//! with `input_required` (the bridge's token as `requestState`), and when the host retries,
//! the answers go to the server and the call's eventual result reaches the host under the
//! retry's id. The call itself keeps running upstream the whole time.

use super::{Error, shapes};
use crate::jsonrpc::{Id, Kind, Message};
use crate::mcp::{MODERN_VERSION, MRTR_METHODS};
use crate::transport::{self, Inbound, Inbox, Legacy, Replier};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The connection for a 2026-07-28 host on an `initialize`-era server.
pub(super) struct ModernHost {
    legacy: Legacy,
    inbox: Inbox,
    broker: std::sync::Arc<Broker>,
    /// The server's `initialize` result, from which `server/discover` is answered.
    initialized: Value,
}

impl ModernHost {
    /// Initializes upstream with the host's capabilities and identity from `meta`, then
    /// handles the host's first message. `None` when the server refused (the first message
    /// was answered with the error; the next one asks again).
    pub(super) async fn connect(
        mut legacy: Legacy,
        inbox: Inbox,
        broker: std::sync::Arc<Broker>,
        first: Message,
        meta: &Map<String, Value>,
    ) -> Result<Option<ModernHost>, Error> {
        tracing::info!(
            "the server speaks only the initialize era; translating for a {MODERN_VERSION} host"
        );
        let id = inbox.internal_id("initialize");
        let initialize = shapes::initialize_for(&id, meta);
        let mut answer = inbox.watch(&id, false);
        // Returns once the answer is in (or the wait for it ran out).
        legacy.send(initialize).await?;
        let reply = answer.try_recv().ok();
        let Some(initialized) = reply.as_ref().and_then(|r| r.result::<Value>()) else {
            let why = reply
                .map(|r| r.as_str().to_owned())
                .unwrap_or_else(|| "no answer".into());
            let e = Error::Transport(transport::Error::HandshakeRefused(why));
            if let Some(id) = first.id().filter(|_| first.kind() == Kind::Request) {
                inbox.fail_with(id, e.code(), &e).await;
            }
            return Ok(None);
        };
        // The server's mid-call questions become "input required" answers for this host.
        broker.activate(legacy.replier());
        legacy
            .send(Message::notification("notifications/initialized", None))
            .await?;
        let mut connected = ModernHost {
            legacy,
            inbox,
            broker,
            initialized,
        };
        connected.send(first).await?;
        Ok(Some(connected))
    }

    /// Handles one message from the host.
    pub(super) async fn send(&mut self, msg: Message) -> Result<(), Error> {
        if msg.kind() != Kind::Request {
            return Ok(self.legacy.send(msg).await?);
        }
        if let Some(answer) = self.answer_locally(&msg) {
            self.inbox.deliver(answer).await;
            return Ok(());
        }
        let msg = shapes::without_protocol_meta(&msg);
        match self.broker.resume(msg) {
            Retry::Answers(answers) => {
                tracing::debug!("the host answered the server's questions; passing them on");
                for answer in answers {
                    self.legacy.send(answer).await?;
                }
            }
            Retry::Forward(msg) => {
                if msg.method().is_some_and(|m| MRTR_METHODS.contains(&m)) {
                    self.broker.track(msg.id().expect("requests have ids"));
                }
                self.legacy.send(msg).await?;
            }
        }
        Ok(())
    }

    /// `server/discover`, answered from the server's `initialize` result, and requests at
    /// a protocol version the bridge cannot serve, answered "unsupported version".
    fn answer_locally(&self, msg: &Message) -> Option<Message> {
        let id = msg.id()?;
        match (msg.method(), shapes::modern_version_of(msg)) {
            (_, Some(v)) if v != MODERN_VERSION => Some(shapes::unsupported_version(id, &v)),
            (Some("server/discover"), _) => Some(Message::success(
                id,
                &shapes::discover_result(&self.initialized),
            )),
            _ => None,
        }
    }

    pub(super) async fn failed(&self) -> transport::Error {
        self.legacy.failed().await
    }

    /// The `initialize`-era connection the bridge holds upstream.
    pub(super) fn legacy(&self) -> &Legacy {
        &self.legacy
    }

    pub(super) async fn close(&mut self) {
        self.legacy.close().await;
    }
}

/// Parks server requests and maps retries back to the calls they continue. Idle (passing
/// everything through) until [`Broker::activate`].
/// Most server questions waiting for the host's answers during one call. A host answers
/// them by retrying the call; a server that asks more before it does is refused.
const MAX_PARKED_PER_CALL: usize = 16;
/// Most server questions waiting for the host's answers in all.
const MAX_PARKED: usize = 256;

#[derive(Default)]
pub(super) struct Broker {
    active: AtomicBool,
    state: Mutex<State>,
    /// Answers the server's questions the broker refuses (over the bounds).
    replier: std::sync::OnceLock<Replier>,
}

#[derive(Default)]
struct State {
    /// Calls that may be asked for input: upstream id (the host's first id) → the host id
    /// the call's answer must now go to.
    calls: HashMap<Id, Id>,
    /// Server requests waiting for the host's answers, by `requestState` token.
    parked: HashMap<String, Parked>,
    next: u64,
}

struct Parked {
    /// The call the questions belong to (its upstream id).
    call: Id,
    /// The key each question has in `inputRequests`, and the server's request id.
    questions: Vec<(String, Id)>,
}

/// What became of a server request.
enum Parking {
    /// Parked: the call's `input_required` answer, for the host.
    Parked(Message),
    /// Not asked during a call the broker tracks: the request itself, for the host.
    NotACall(Message),
    /// Over the bounds: the error for the server.
    Refused(Message),
}

/// What to do with a host request.
pub(super) enum Retry {
    /// Not a retry the broker knows: forward it.
    Forward(Message),
    /// A retry: these answers go to the server; the call's result will reach the host
    /// under the retry's id.
    Answers(Vec<Message>),
}

impl Broker {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("broker lock is never poisoned")
    }

    /// From now on, the server's questions during calls are parked; `replier` refuses the
    /// ones over the bounds.
    pub(super) fn activate(&self, replier: Option<Replier>) {
        if let Some(replier) = replier {
            let _ = self.replier.set(replier);
        }
        self.active.store(true, Ordering::Relaxed);
    }

    /// Starts tracking a host call that may be asked for input.
    pub(super) fn track(&self, id: &Id) {
        self.lock().calls.insert(id.clone(), id.clone());
    }

    /// A message from the server on its way to the host: a question during a tracked call
    /// becomes that call's `input_required` answer, and a tracked call's answer goes to the
    /// id the host retried with. `None` when nothing is left to deliver.
    pub(super) fn inbound(&self, item: Inbound) -> Option<Message> {
        if !self.active.load(Ordering::Relaxed) {
            return Some(item.msg);
        }
        let Inbound { msg, during } = item;
        match msg.kind() {
            // Parked: the call's input_required answer; not parked: the request itself;
            // over the bounds: refused to the server, nothing for the host.
            Kind::Request => match self.park(msg, during.as_ref()) {
                Parking::Parked(for_host) | Parking::NotACall(for_host) => Some(for_host),
                Parking::Refused(refusal) => {
                    match self.replier.get() {
                        Some(replier) => replier.send(refusal),
                        None => tracing::debug!("no way to refuse a server request; dropped"),
                    }
                    None
                }
            },
            Kind::Result | Kind::Error => {
                let Some(id) = msg.id() else { return Some(msg) };
                let mut state = self.lock();
                let Some(target) = state.calls.remove(id) else {
                    return Some(msg);
                };
                state.parked.retain(|_, p| &p.call != id);
                drop(state);
                Some(if target.same_text(id) {
                    msg
                } else {
                    msg.with_id(&target)
                })
            }
            Kind::Notification => Some(msg),
        }
    }

    /// A request the server sent during `during` (or, from the GET stream, during the only
    /// call in flight). Returns the `input_required` answer for the host, or the request
    /// back when it belongs to no call the broker tracks.
    fn park(&self, request: Message, during: Option<&Id>) -> Parking {
        let mut state = self.lock();
        let call = match during {
            Some(id) if state.calls.contains_key(id) => id.clone(),
            None if state.calls.len() == 1 => state.calls.keys().next().expect("one call").clone(),
            _ => return Parking::NotACall(request),
        };
        let (Some(server_id), Some(method)) = (request.id().cloned(), request.method()) else {
            return Parking::NotACall(request);
        };
        let for_call = state.parked.values().filter(|p| p.call == call).count();
        if for_call >= MAX_PARKED_PER_CALL || state.parked.len() >= MAX_PARKED {
            tracing::warn!(
                method,
                "the server asked more questions than the host has answered; refusing this one"
            );
            return Parking::Refused(Message::error(
                &server_id,
                crate::jsonrpc::BRIDGE_ERROR,
                &format!(
                    "too many questions waiting for the client's answers (at most {MAX_PARKED_PER_CALL} per call and {MAX_PARKED} in all)"
                ),
            ));
        }
        state.next += 1;
        let token = format!("mcp-bridge-input-{}", state.next);
        let result = shapes::input_request_result(method, request.params(), &token);
        state.parked.insert(
            token,
            Parked {
                call: call.clone(),
                questions: vec![("input".into(), server_id)],
            },
        );
        let host_id = state.calls.get(&call).expect("tracked above").clone();
        Parking::Parked(Message::success(&host_id, &result))
    }

    /// Recognizes a host retry by its `requestState` and turns its `inputResponses` into
    /// answers for the server.
    pub(super) fn resume(&self, msg: Message) -> Retry {
        let Some((token, responses)) = shapes::retry_answers(&msg) else {
            return Retry::Forward(msg);
        };
        let mut state = self.lock();
        let Some(parked) = state.parked.remove(&token) else {
            return Retry::Forward(msg);
        };
        let retry_id = msg.id().expect("requests have ids").clone();
        state.calls.insert(parked.call.clone(), retry_id);
        let answers = parked
            .questions
            .into_iter()
            .map(|(key, server_id)| match responses.get(&key) {
                Some(result) => Message::success(&server_id, result),
                None => shapes::unanswered(&server_id),
            })
            .collect();
        Retry::Answers(answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(text: &str) -> Message {
        Message::parse(text).unwrap()
    }

    fn inbound(msg: Message, during: Option<&Id>) -> Inbound {
        Inbound {
            msg,
            during: during.cloned(),
        }
    }

    /// A server question becomes input_required for the host; the retry's answer goes back
    /// to the server and the call's result goes to the retry's id.
    #[test]
    fn parks_and_resumes() {
        let broker = Broker::default();
        broker.activate(None);
        let call = msg(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t"}}"#);
        let call_id = call.id().unwrap().clone();
        broker.track(&call_id);
        let ask = msg(
            r#"{"jsonrpc":"2.0","id":"s1","method":"elicitation/create","params":{"message":"name?"}}"#,
        );
        let answer = broker.inbound(inbound(ask, Some(&call_id))).unwrap();
        let v: Value = serde_json::from_str(answer.as_str()).unwrap();
        assert_eq!(v["id"], 5);
        assert_eq!(v["result"]["resultType"], "input_required");
        assert_eq!(
            v["result"]["inputRequests"]["input"]["method"],
            "elicitation/create"
        );
        let token = v["result"]["requestState"].as_str().unwrap().to_owned();
        let retry = msg(&format!(
            r#"{{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{{"name":"t","inputResponses":{{"input":{{"action":"accept"}}}},"requestState":"{token}"}}}}"#
        ));
        let Retry::Answers(answers) = broker.resume(retry) else {
            panic!("a retry")
        };
        let v: Value = serde_json::from_str(answers[0].as_str()).unwrap();
        assert_eq!(
            (v["id"].clone(), v["result"]["action"].clone()),
            (json!("s1"), json!("accept"))
        );
        let result = msg(r#"{"jsonrpc":"2.0","id":5,"result":{"content":[]}}"#);
        let delivered = broker.inbound(inbound(result, None)).unwrap();
        assert_eq!(delivered.id().unwrap().as_json(), "6");
    }

    /// Requests unrelated to a tracked call, unknown tokens, and everything before the
    /// broker is active, pass through.
    #[test]
    fn passes_the_rest_through() {
        let broker = Broker::default();
        let ask = msg(r#"{"jsonrpc":"2.0","id":"s1","method":"roots/list"}"#);
        broker.track(ask.id().unwrap());
        assert_eq!(
            broker.inbound(inbound(ask.clone(), None)).unwrap().kind(),
            Kind::Request
        );
        broker.activate(None);
        let lone = Broker::default();
        lone.activate(None);
        assert_eq!(
            lone.inbound(inbound(ask, None)).unwrap().kind(),
            Kind::Request
        );
        let other = msg(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"requestState":"nope"}}"#,
        );
        assert!(matches!(broker.resume(other), Retry::Forward(_)));
    }

    /// A server that keeps asking during one call (or across calls) gets errors past the
    /// bounds, and the broker holds no more than the bounds.
    #[test]
    fn questions_are_bounded() {
        let broker = Broker::default();
        broker.activate(None);
        let call = msg(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t"}}"#);
        let call_id = call.id().unwrap().clone();
        broker.track(&call_id);
        let mut for_host = 0;
        for i in 0..10_000 {
            let ask = msg(&format!(
                r#"{{"jsonrpc":"2.0","id":"s{i}","method":"elicitation/create","params":{{"message":"?"}}}}"#
            ));
            if broker.inbound(inbound(ask, Some(&call_id))).is_some() {
                for_host += 1;
            }
        }
        assert_eq!(for_host, MAX_PARKED_PER_CALL);
        assert_eq!(broker.lock().parked.len(), MAX_PARKED_PER_CALL);
        for c in 100..400 {
            let id = msg(&format!(
                r#"{{"jsonrpc":"2.0","id":{c},"method":"tools/call"}}"#
            ))
            .id()
            .unwrap()
            .clone();
            broker.track(&id);
            let ask = msg(&format!(
                r#"{{"jsonrpc":"2.0","id":"t{c}","method":"elicitation/create","params":{{}}}}"#
            ));
            broker.inbound(inbound(ask, Some(&id)));
        }
        assert_eq!(broker.lock().parked.len(), MAX_PARKED);
    }
}
