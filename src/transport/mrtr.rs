//! "Input required" for a 2026-07-28 host on an `initialize`-era server.
//!
//! Such a server asks its questions (elicitation, sampling, roots) as requests in the middle
//! of a call; a 2026-07-28 host expects an `input_required` result instead, and retries the
//! call with its answers. The broker parks the server's request, answers the host's call
//! with `input_required` (the bridge's token as `requestState`), and when the host retries,
//! sends the answers to the server and delivers the call's eventual result under the
//! retry's id. The call itself keeps running upstream the whole time.

use crate::jsonrpc::{Id, Message};
use crate::modern;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// Parks server requests and maps retries back to the calls they continue.
#[derive(Default)]
pub(crate) struct InputBroker {
    state: Mutex<State>,
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

/// What to do with a host request.
pub(crate) enum Retry {
    /// Not a retry the broker knows: forward it.
    Forward(Message),
    /// A retry: these answers go to the server; the call's result will reach the host
    /// under the retry's id.
    Answers(Vec<Message>),
}

impl InputBroker {
    /// Starts tracking a host call that may be asked for input.
    pub(crate) fn track(&self, id: &Id) {
        self.state
            .lock()
            .expect("broker lock is never poisoned")
            .calls
            .insert(id.clone(), id.clone());
    }

    /// The host id a call's answer goes to now (and stops tracking the call).
    pub(crate) fn finish(&self, call: &Id) -> Id {
        let mut state = self.state.lock().expect("broker lock is never poisoned");
        state.parked.retain(|_, p| &p.call != call);
        state.calls.remove(call).unwrap_or_else(|| call.clone())
    }

    /// A request the server sent during `related` (or, from the GET stream, during the only
    /// call in flight). Returns the `input_required` answer for the host, or the request
    /// back when it belongs to no call the broker tracks.
    pub(crate) fn park(&self, request: Message, related: Option<&Id>) -> Result<Message, Message> {
        let mut state = self.state.lock().expect("broker lock is never poisoned");
        let call = match related {
            Some(id) if state.calls.contains_key(id) => id.clone(),
            None if state.calls.len() == 1 => state.calls.keys().next().expect("one call").clone(),
            _ => return Err(request),
        };
        let (Some(server_id), Some(method)) =
            (request.id().cloned(), request.method().map(str::to_owned))
        else {
            return Err(request);
        };
        state.next += 1;
        let token = format!("mcp-bridge-input-{}", state.next);
        let params: Value = request.field("params").unwrap_or(json!({}));
        let mut ask = json!({"method": method});
        if !params.is_null() {
            ask["params"] = params;
        }
        let mut requests = Map::new();
        requests.insert("input".into(), ask);
        state.parked.insert(
            token.clone(),
            Parked {
                call: call.clone(),
                questions: vec![("input".into(), server_id)],
            },
        );
        let host_id = state.calls.get(&call).expect("tracked above").clone();
        let result = json!({"resultType": "input_required", "inputRequests": requests, "requestState": token});
        Ok(Message::result_response(&host_id, &result))
    }

    /// Recognizes a host retry by its `requestState` and turns its `inputResponses` into
    /// answers for the server.
    pub(crate) fn resume(&self, msg: Message) -> Retry {
        let Some(params) = msg.field::<Value>("params") else {
            return Retry::Forward(msg);
        };
        let Some(token) = params.get("requestState").and_then(Value::as_str) else {
            return Retry::Forward(msg);
        };
        let mut state = self.state.lock().expect("broker lock is never poisoned");
        let Some(parked) = state.parked.remove(token) else {
            return Retry::Forward(msg);
        };
        let retry_id = msg.id().expect("requests have ids").clone();
        state.calls.insert(parked.call.clone(), retry_id);
        let responses = params
            .get("inputResponses")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let answers = parked
            .questions
            .into_iter()
            .map(|(key, server_id)| match responses.get(&key) {
                Some(result) => Message::result_response(&server_id, result),
                None => Message::error_response(
                    &server_id,
                    crate::jsonrpc::INTERNAL_ERROR,
                    "the client gave no answer",
                ),
            })
            .collect();
        Retry::Answers(answers)
    }
}

/// Whether a host request may be answered with `input_required`.
pub(crate) fn may_need_input(msg: &Message) -> bool {
    msg.method()
        .is_some_and(|m| modern::MRTR_METHODS.contains(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> Message {
        Message::parse(text).unwrap()
    }

    /// A server question becomes input_required for the host; the retry's answer goes back
    /// to the server and the call's result goes to the retry's id.
    #[test]
    fn parks_and_resumes() {
        let broker = InputBroker::default();
        let call = msg(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t"}}"#);
        let call_id = call.id().unwrap().clone();
        broker.track(&call_id);
        let ask = msg(
            r#"{"jsonrpc":"2.0","id":"s1","method":"elicitation/create","params":{"message":"name?"}}"#,
        );
        let answer = broker.park(ask, Some(&call_id)).unwrap();
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
        assert_eq!(broker.finish(&call_id).as_json(), "6");
    }

    /// Requests unrelated to a tracked call, and unknown tokens, pass through.
    #[test]
    fn passes_the_rest_through() {
        let broker = InputBroker::default();
        let ask = msg(r#"{"jsonrpc":"2.0","id":"s1","method":"roots/list"}"#);
        assert!(broker.park(ask, None).is_err());
        let other = msg(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"requestState":"nope"}}"#,
        );
        assert!(matches!(broker.resume(other), Retry::Forward(_)));
    }
}
