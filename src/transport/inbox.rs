//! Where messages from the server go: the channel to the host side, with watchers that let
//! a layer see (or keep to itself) the answer to one of its own requests, and the counter
//! for the ids of those requests.

use super::Error;
use crate::budget::{Held, Share};
use crate::jsonrpc::{self, Id, Message};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// One message for the host side, with the host request whose answer stream carried it
/// (`None` for the GET stream, an HTTP+SSE stream, a JSON body, or a bridge-made message).
#[derive(Debug)]
pub(crate) struct Inbound {
    pub(crate) msg: Message,
    pub(crate) during: Option<Id>,
}

/// The sending end of the channel to the host side, shared by every task of a connection.
#[derive(Clone)]
pub(crate) struct Inbox {
    inner: Arc<Inner>,
}

struct Inner {
    /// Sender half of the host channel; the era layer's inbound side holds the receiver.
    to_host_tx: mpsc::Sender<Inbound>,
    /// Answers someone is waiting for, by request id (a layer's own, and a transport's).
    watchers: Mutex<HashMap<Id, Vec<Watcher>>>,
    /// Counter for the bridge's own request ids.
    next_internal: AtomicU64,
}

struct Watcher {
    tx: oneshot::Sender<Message>,
    /// Whether the host should also get the answer (false for the bridge's own requests).
    forward: bool,
}

impl Inbox {
    /// An inbox whose messages go to `to_host_tx`.
    pub(crate) fn new(to_host_tx: mpsc::Sender<Inbound>) -> Inbox {
        Inbox {
            inner: Arc::new(Inner {
                to_host_tx,
                watchers: Mutex::new(HashMap::new()),
                next_internal: AtomicU64::new(1),
            }),
        }
    }

    /// A fresh id for a request of the bridge's own; hosts never see it.
    pub(crate) fn internal_id(&self, label: &str) -> Id {
        Id::internal(
            label,
            self.inner.next_internal.fetch_add(1, Ordering::Relaxed),
        )
    }

    /// Hands a message from the server on. Waits when the host is slow (backpressure).
    pub(crate) async fn deliver(&self, msg: Message) {
        self.deliver_during(msg, None).await;
    }

    /// [`Inbox::deliver`] for a message that arrived while answering `during`.
    pub(crate) async fn deliver_during(&self, msg: Message, during: Option<&Id>) {
        if msg.is_response()
            && let Some(id) = msg.id()
        {
            let watchers = self
                .inner
                .watchers
                .lock()
                .expect("watcher lock is never poisoned")
                .remove(id);
            if let Some(watchers) = watchers {
                let mut forward = true;
                for w in watchers {
                    forward &= w.forward;
                    let _ = w.tx.send(msg.clone());
                }
                if !forward {
                    return;
                }
            }
        }
        let during = during.cloned();
        // A closed channel means the relay is shutting down; nothing is waiting any more.
        let _ = self.inner.to_host_tx.send(Inbound { msg, during }).await;
    }

    /// Delivers a bridge-made error answer for request `id`.
    pub(crate) async fn fail(&self, id: &Id, error: &Error) {
        self.fail_with(id, error.code(), error).await;
    }

    /// Delivers a bridge-made error answer for request `id` with `code`.
    pub(crate) async fn fail_with(
        &self,
        id: &Id,
        code: i64,
        error: &(dyn std::error::Error + Send + Sync),
    ) {
        let text = crate::net::error_chain(error);
        if id.is_internal() {
            // The bridge's own request: whoever sent it reports the failure in its terms.
            tracing::debug!(%id, "request failed: {text}");
        } else {
            tracing::warn!(%id, "request failed: {text}");
        }
        self.deliver(Message::error(id, code, &text)).await;
    }

    /// Returns a receiver that gets the answer to `id` once it arrives; unless `forward`,
    /// the host never sees it.
    pub(crate) fn watch(&self, id: &Id, forward: bool) -> oneshot::Receiver<Message> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .watchers
            .lock()
            .expect("watcher lock is never poisoned")
            .entry(id.clone())
            .or_default()
            .push(Watcher { tx, forward });
        rx
    }

    /// Stops waiting for the answer to `id` (it took too long); a late one goes to the host
    /// side, whose pending check drops it.
    pub(crate) fn unwatch(&self, id: &Id) {
        self.inner
            .watchers
            .lock()
            .expect("watcher lock is never poisoned")
            .remove(id);
    }

    /// Parses a body or event data from the server and delivers each message in it, as
    /// arriving during `during`. The messages hold `held` (the bytes they were read from)
    /// until the last of them is dropped. Returns the ids of the responses it delivered.
    pub(crate) async fn deliver_text(
        &self,
        text: &str,
        during: Option<&Id>,
        held: Held,
    ) -> Result<Vec<Id>, Error> {
        let items = jsonrpc::parse_batch(text).map_err(|e| Error::Protocol(e.to_string()))?;
        let share = Share::new(held);
        let mut answered = Vec::new();
        for item in items {
            match item {
                Ok(msg) => {
                    let msg = msg.holding(share.clone());
                    if msg.is_response()
                        && let Some(id) = msg.id()
                    {
                        answered.push(id.clone());
                    }
                    self.deliver_during(msg, during).await;
                }
                Err(e) => tracing::warn!("dropping an invalid message from the server: {e}"),
            }
        }
        Ok(answered)
    }
}
