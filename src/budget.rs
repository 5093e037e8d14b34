//! The bound on bytes from the server that the bridge holds for the host.
//!
//! Every byte of an answer body or event is reserved here as it is read and stays reserved
//! until the message made of it has been written to stdout (or dropped), so a host that
//! stops reading stdout, or a server that streams many large answers at once, stops the
//! reading (TCP backpressure) instead of growing memory. Bytes are reserved chunk by chunk,
//! so that many small answers need not wait for room for a large one.
//!
//! Readers that each hold part of a message could wait for one another forever once the
//! budget is spent. To rule that out, one reader at a time may go over it: a reader that
//! finds no room waits for room or for the single overdraft, whichever comes first, and
//! keeps the overdraft until its message has been written. At most the budget plus one
//! message is ever held.

use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// The budget shared by every reader of a connection (cheap to clone).
#[derive(Debug, Clone, Default)]
pub(crate) struct Budget {
    /// `None`: no bound (one-off commands and tests).
    inner: Option<Arc<Inner>>,
}

#[derive(Debug)]
struct Inner {
    room: Arc<Semaphore>,
    total: usize,
    overdraft: Arc<Mutex<()>>,
}

/// Bytes reserved from a [`Budget`]; given back when dropped.
#[derive(Debug, Default)]
pub(crate) struct Held {
    permits: Option<OwnedSemaphorePermit>,
    overdraft: Option<OwnedMutexGuard<()>>,
}

impl Budget {
    /// A budget of `total` bytes (at least one).
    pub(crate) fn new(total: usize) -> Budget {
        let total = total.clamp(1, Semaphore::MAX_PERMITS);
        Budget {
            inner: Some(Arc::new(Inner {
                room: Arc::new(Semaphore::new(total)),
                total,
                overdraft: Arc::new(Mutex::new(())),
            })),
        }
    }

    /// No bound at all.
    pub(crate) fn unbounded() -> Budget {
        Budget { inner: None }
    }

    /// Reserves `n` more bytes into `held`, waiting while there is no room (see the module
    /// documentation for why this cannot wait forever while the host reads stdout).
    pub(crate) async fn reserve(&self, held: &mut Held, n: usize) {
        let Some(inner) = &self.inner else { return };
        if held.overdraft.is_some() || n == 0 {
            return;
        }
        let n = u32::try_from(n.min(inner.total)).unwrap_or(u32::MAX);
        if let Ok(permits) = inner.room.clone().try_acquire_many_owned(n) {
            return held.add(permits);
        }
        tracing::trace!(bytes = n, "no room for more of the server's bytes; waiting");
        tokio::select! {
            permits = inner.room.clone().acquire_many_owned(n) => {
                if let Ok(permits) = permits {
                    held.add(permits);
                }
            }
            guard = inner.overdraft.clone().lock_owned() => held.overdraft = Some(guard),
        }
    }

    /// Bytes free right now (for tests and logs).
    #[cfg(test)]
    pub(crate) fn available(&self) -> usize {
        self.inner
            .as_ref()
            .map_or(usize::MAX, |inner| inner.room.available_permits())
    }
}

impl Held {
    fn add(&mut self, permits: OwnedSemaphorePermit) {
        match &mut self.permits {
            Some(mine) => mine.merge(permits),
            None => self.permits = Some(permits),
        }
    }

    /// Bytes reserved (the overdraft aside).
    pub(crate) fn bytes(&self) -> usize {
        self.permits.as_ref().map_or(0, |p| p.num_permits())
    }

    /// Moves everything but `keep` bytes out into a new `Held` (the overdraft goes with
    /// it); what stays is what a reader still buffers for its next message.
    pub(crate) fn split_off_all_but(&mut self, keep: usize) -> Held {
        let give = self.bytes().saturating_sub(keep);
        let permits = match &mut self.permits {
            Some(mine) if give == mine.num_permits() => self.permits.take(),
            Some(mine) if give > 0 => mine.split(give),
            _ => None,
        };
        Held {
            permits,
            overdraft: self.overdraft.take(),
        }
    }

    /// Gives back all but `keep` bytes (a reader's buffer shrank without making a message);
    /// the overdraft goes back once nothing is buffered.
    pub(crate) fn shrink_to(&mut self, keep: usize) {
        let overdraft = self.overdraft.take().filter(|_| keep > 0);
        drop(self.split_off_all_but(keep));
        self.overdraft = overdraft;
    }
}

/// A reservation shared by the messages made from the same bytes (the items of a batch,
/// copies handed to watchers); given back when the last of them is dropped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Share {
    _held: Option<Arc<Held>>,
}

impl Share {
    pub(crate) fn new(held: Held) -> Share {
        if held.permits.is_none() && held.overdraft.is_none() {
            return Share::default();
        }
        Share {
            _held: Some(Arc::new(held)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn bytes_come_back_when_dropped() {
        let budget = Budget::new(100);
        let mut held = Held::default();
        budget.reserve(&mut held, 30).await;
        budget.reserve(&mut held, 30).await;
        assert_eq!((held.bytes(), budget.available()), (60, 40));
        let share = Share::new(held);
        let copy = share.clone();
        drop(share);
        assert_eq!(budget.available(), 40);
        drop(copy);
        assert_eq!(budget.available(), 100);
    }

    /// Two readers each half way through a message larger than what is left: one takes
    /// the overdraft and finishes; the other waits until that message is given back.
    #[tokio::test]
    async fn half_read_messages_never_wait_for_each_other_forever() {
        let budget = Budget::new(100);
        let (mut a, mut b) = (Held::default(), Held::default());
        budget.reserve(&mut a, 50).await;
        budget.reserve(&mut b, 50).await;
        let more = |held| {
            let budget = budget.clone();
            async move {
                let mut held = held;
                budget.reserve(&mut held, 40).await;
                held
            }
        };
        let a = tokio::time::timeout(Duration::from_secs(5), more(a))
            .await
            .expect("the first reader takes the overdraft");
        assert!(a.overdraft.is_some());
        let waiting = tokio::spawn(more(b));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "only one reader may overdraw");
        drop(a);
        let b = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("room once the first message is given back")
            .unwrap();
        assert_eq!(b.bytes() + usize::from(b.overdraft.is_some()) * 40, 90);
    }

    #[tokio::test]
    async fn a_reader_keeps_only_what_it_still_buffers() {
        let budget = Budget::new(100);
        let mut pool = Held::default();
        budget.reserve(&mut pool, 70).await;
        let event = pool.split_off_all_but(20);
        assert_eq!((event.bytes(), pool.bytes()), (50, 20));
        pool.shrink_to(5);
        assert_eq!(budget.available(), 100 - 50 - 5);
        drop(event);
        pool.shrink_to(0);
        assert_eq!(budget.available(), 100);
    }

    #[tokio::test]
    async fn an_unbounded_budget_never_waits() {
        let budget = Budget::unbounded();
        let mut held = Held::default();
        budget.reserve(&mut held, usize::MAX).await;
        assert_eq!(held.bytes(), 0);
    }
}
