//! Reading an HTTP response body as a stream of server-sent events, within the size limit,
//! plus the reconnect delay both transports use.

use super::Error;
use super::sse_parse::{Decoder, Event};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::collections::VecDeque;
use std::time::Duration;

/// Delay before reconnecting when the server gave no `retry:` hint.
pub(crate) const DEFAULT_RETRY: Duration = Duration::from_secs(1);
/// Longest delay between reconnect attempts after repeated failures.
pub(crate) const MAX_RETRY: Duration = Duration::from_secs(30);

/// Events from one response body.
pub(crate) struct EventReader {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: Decoder,
    ready: VecDeque<Event>,
}

impl EventReader {
    pub(crate) fn new(resp: reqwest::Response, limit: usize) -> Self {
        EventReader {
            body: resp.bytes_stream().boxed(),
            decoder: Decoder::new(limit),
            ready: VecDeque::new(),
        }
    }

    /// The next event, or `None` when the server ended the body.
    pub(crate) async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Ok(Some(event));
            }
            match self.body.next().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(Error::from_reqwest(e)),
                Some(Ok(chunk)) => {
                    let events = self
                        .decoder
                        .feed(&chunk)
                        .map_err(|e| Error::TooLarge { limit: e.limit })?;
                    self.ready.extend(events);
                }
            }
        }
    }
}

/// Where to resume a stream and how long to wait first.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    /// The last event id seen (sent as `Last-Event-ID` when resuming).
    pub(crate) last_event_id: Option<String>,
    /// The server's latest `retry:` hint.
    pub(crate) retry: Duration,
    /// Consecutive attempts that produced no event.
    pub(crate) failures: u32,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            last_event_id: None,
            retry: DEFAULT_RETRY,
            failures: 0,
        }
    }
}

impl Cursor {
    /// Records an event's id and retry hint.
    pub(crate) fn note(&mut self, event: &Event) {
        if let Some(id) = &event.id {
            self.last_event_id = Some(id.clone()).filter(|id| !id.is_empty());
        }
        if let Some(ms) = event.retry {
            self.retry = Duration::from_millis(ms);
        }
        self.failures = 0;
    }

    /// The wait before the next attempt: the server's hint, doubled for each failure in a row.
    pub(crate) fn delay(&self) -> Duration {
        let factor = 1u32 << self.failures.min(5);
        (self.retry * factor).min(MAX_RETRY.max(self.retry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's retry hint is honoured and backs off on failures, within the cap.
    #[test]
    fn backs_off_from_the_hint() {
        let mut c = Cursor::default();
        assert_eq!(c.delay(), DEFAULT_RETRY);
        c.note(&Event {
            id: Some("5".into()),
            retry: Some(200),
            ..Event::default()
        });
        assert_eq!(
            (c.delay(), c.last_event_id.as_deref()),
            (Duration::from_millis(200), Some("5"))
        );
        c.failures = 2;
        assert_eq!(c.delay(), Duration::from_millis(800));
        c.failures = 30;
        assert_eq!(c.delay(), Duration::from_millis(6400));
        c.retry = Duration::from_secs(20);
        assert_eq!(c.delay(), MAX_RETRY);
    }
}
