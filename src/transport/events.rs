//! Reading a response body as server-sent events, within the size limit, plus the cursor
//! both event-stream transports resume and reconnect with.
//!
//! The events themselves are decoded by the `eventsource-stream` crate. In front of it sits
//! [`Framer`], which sees the bytes first and passes on whole lines:
//!
//! - an event that grows past the limit ends the stream with [`TooLarge`] while it is still
//!   arriving, so no buffer ever holds more than the limit;
//! - line endings become LF (the crate waits for more input after a lone CR, so an event
//!   ended by CRs at the end of a body was never dispatched);
//! - a block with fields but no `data` line gets an empty one (the crate drops such blocks,
//!   losing the `id` and `retry` of a priming event, which the specification keeps);
//! - a leading byte-order mark is dropped (and a second one, which is text, never reaches
//!   the crate first: its own stripping slices the text inside that character and panics),
//!   and bytes that are not UTF-8 are replaced rather
//!   than ending the stream (the replacement characters, which can take more room than the
//!   bytes did, are what counts against the limit);
//! - the crate gets complete lines only, a few dozen at a time: it rescans an incomplete
//!   line from its start on every chunk, and copies the rest of its buffer for every line
//!   it takes, so a long line in small chunks, or one chunk of many short lines, would cost
//!   time quadratic in its size.
//!
//! Every chunk is reserved from the connection's byte [`Budget`] before the framer sees it;
//! an event's bytes go with the event ([`EventReader::take_held`]), and the rest is given
//! back as soon as the framer no longer holds it.
//!
//! This module knows nothing of MCP.

use crate::budget::{Budget, Held};
use bytes::{Bytes, BytesMut};
use eventsource_stream::{EventStream, Eventsource};
use futures::stream::{BoxStream, Stream, StreamExt};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

pub(crate) use eventsource_stream::Event;

/// Delay before reconnecting when the server gave no `retry:` hint.
pub(crate) const DEFAULT_RETRY: Duration = Duration::from_secs(1);
/// The range a server's `retry:` hint is clamped to: no reconnect storm from `retry: 0`, no
/// request left waiting for hours by `retry: 1000000000000`.
pub(crate) const MIN_RETRY: Duration = Duration::from_millis(100);
pub(crate) const MAX_RETRY_HINT: Duration = Duration::from_secs(60);
/// Longest delay that repeated failures grow the wait to (a longer hint still applies).
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// An event grew past the size limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server-sent event larger than {limit} bytes")]
pub(crate) struct TooLarge {
    pub(crate) limit: usize,
}

/// Why a stream of events stopped early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EventError {
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    #[error("reading the event stream failed")]
    Read(#[source] reqwest::Error),
    /// The decoder refused the (already normalized) text; should not happen.
    #[error("the event stream could not be decoded: {0}")]
    Decode(String),
}

/// Events from one response body.
pub(crate) struct EventReader {
    events: EventStream<Framer<BoxStream<'static, Result<Bytes, EventError>>>>,
    /// Bytes read and reserved that no event returned so far has taken.
    pool: Arc<Mutex<Held>>,
    /// Bytes the framer holds of the event it is reading (see [`Framer::gauge`]).
    buffered: Arc<AtomicUsize>,
    /// The reservation of the event returned last, until someone takes it.
    last: Held,
}

impl EventReader {
    /// Events from `resp`, each within `limit` bytes, every byte reserved from `budget`.
    pub(crate) fn new(resp: reqwest::Response, limit: usize, budget: Budget) -> Self {
        let body = resp
            .bytes_stream()
            .map(|chunk| chunk.map_err(EventError::Read))
            .boxed();
        EventReader::within(body, limit, budget)
    }

    /// Events from any stream of byte chunks, with no budget (used by tests).
    pub(crate) fn from_stream(
        body: BoxStream<'static, Result<Bytes, EventError>>,
        limit: usize,
    ) -> Self {
        EventReader::within(body, limit, Budget::unbounded())
    }

    /// Events from any stream of byte chunks, every chunk reserved from `budget` before the
    /// framer sees it. What the framer no longer holds is given back before the next chunk
    /// is read, so comments and keep-alives never add up.
    pub(crate) fn within(
        body: BoxStream<'static, Result<Bytes, EventError>>,
        limit: usize,
        budget: Budget,
    ) -> Self {
        let pool = Arc::new(Mutex::new(Held::default()));
        let buffered = Arc::new(AtomicUsize::new(0));
        let state = (body, budget, pool.clone(), buffered.clone());
        let reserved =
            futures::stream::unfold(state, |(mut body, budget, pool, buffered)| async move {
                let mut held = std::mem::take(&mut *lock(&pool));
                held.shrink_to(buffered.load(Ordering::Relaxed));
                let chunk = body.next().await?;
                if let Ok(bytes) = &chunk {
                    budget.reserve(&mut held, bytes.len()).await;
                }
                *lock(&pool) = held;
                Some((chunk, (body, budget, pool, buffered)))
            })
            .boxed();
        let mut framer = Framer::new(reserved, limit);
        framer.gauge = Some(buffered.clone());
        EventReader {
            events: framer.eventsource(),
            pool,
            buffered,
            last: Held::default(),
        }
    }

    /// The next event, or `None` when the server ended the body.
    pub(crate) async fn next_event(&mut self) -> Result<Option<Event>, EventError> {
        use eventsource_stream::EventStreamError as E;
        match self.events.next().await {
            None => Ok(None),
            Some(Ok(event)) => {
                let buffered = self.buffered.load(Ordering::Relaxed);
                self.last = lock(&self.pool).split_off_all_but(buffered);
                Ok(Some(event))
            }
            Some(Err(E::Transport(e))) => Err(e),
            Some(Err(E::Utf8(e))) => Err(EventError::Decode(e.to_string())),
            Some(Err(E::Parser(e))) => Err(EventError::Decode(e.to_string())),
        }
    }

    /// The bytes reserved for the event returned last; they stay reserved for as long as
    /// the result lives (otherwise until the next event is read).
    pub(crate) fn take_held(&mut self) -> Held {
        std::mem::take(&mut self.last)
    }
}

fn lock(pool: &Mutex<Held>) -> std::sync::MutexGuard<'_, Held> {
    pool.lock().expect("the pool lock is never poisoned")
}

/// The adapter in front of the decoder (see the module documentation).
pub(crate) struct Framer<S> {
    inner: S,
    limit: usize,
    /// The line being read (no terminator yet).
    line: BytesMut,
    /// Bytes of the current event's lines so far (terminators aside), counted against the
    /// limit.
    held: usize,
    /// The last byte seen was a CR, so a following LF belongs to it.
    after_cr: bool,
    /// Bytes at the very start, held until it is clear whether they are a byte-order mark.
    head: Option<Vec<u8>>,
    /// The event has a field other than a comment.
    has_field: bool,
    /// The event has a `data` field.
    has_data: bool,
    /// Complete lines (LF-terminated), grouped into pieces for the decoder, with the
    /// number of lines in each.
    ready: VecDeque<(BytesMut, usize)>,
    /// No line has been queued yet.
    first_line: bool,
    /// Set after an error or the end: nothing more is read.
    done: bool,
    /// Where the framer publishes how many bytes of the current event it holds, after every
    /// chunk: the reader's reservation follows it.
    gauge: Option<Arc<AtomicUsize>>,
    /// An event grew too large; reported once the lines completed before it are passed on.
    failed: Option<TooLarge>,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Most lines handed to the decoder at once. It copies what follows a line each time it
/// takes one, so a piece of many lines costs lines x length; small pieces keep it linear.
const LINES_PER_PIECE: usize = 64;

impl<S> Framer<S> {
    pub(crate) fn new(inner: S, limit: usize) -> Self {
        Framer {
            inner,
            limit,
            line: BytesMut::new(),
            held: 0,
            after_cr: false,
            head: Some(Vec::new()),
            has_field: false,
            has_data: false,
            ready: VecDeque::new(),
            first_line: true,
            done: false,
            gauge: None,
            failed: None,
        }
    }

    /// Takes a chunk; its complete lines join `ready`.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        // Drop a byte-order mark at the very start, even one split across chunks.
        let Some(head) = &mut self.head else {
            return self.feed(chunk);
        };
        head.extend_from_slice(chunk);
        if head.len() < BOM.len() && BOM.starts_with(head) {
            return Ok(());
        }
        let held = self.head.take().expect("checked above");
        self.feed(held.strip_prefix(BOM).unwrap_or(&held))
    }

    /// Splits bytes after the start into lines.
    fn feed(&mut self, mut chunk: &[u8]) -> Result<(), TooLarge> {
        while !chunk.is_empty() {
            if std::mem::take(&mut self.after_cr) && chunk[0] == b'\n' {
                chunk = &chunk[1..];
                continue;
            }
            let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') else {
                self.extend(chunk)?;
                break;
            };
            self.extend(&chunk[..end])?;
            self.after_cr = chunk[end] == b'\r';
            chunk = &chunk[end + 1..];
            self.end_line()?;
        }
        Ok(())
    }

    fn extend(&mut self, bytes: &[u8]) -> Result<(), TooLarge> {
        self.held += bytes.len();
        if self.held > self.limit {
            return Err(TooLarge { limit: self.limit });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// A line terminator: an empty line ends the event, any other line joins it.
    fn end_line(&mut self) -> Result<(), TooLarge> {
        let mut line = std::mem::take(&mut self.line);
        if let Cow::Owned(decoded) = String::from_utf8_lossy(&line) {
            self.held += decoded.len().saturating_sub(line.len());
            if self.held > self.limit {
                return Err(TooLarge { limit: self.limit });
            }
            line = BytesMut::from(decoded.as_bytes());
        }
        if line.is_empty() {
            if self.has_field && !self.has_data {
                self.emit(b"data:");
            }
            self.emit(b"");
            self.held = 0;
            self.has_field = false;
            self.has_data = false;
            return Ok(());
        }
        if line[0] != b':' {
            self.has_field = true;
            self.has_data |= &line[..] == b"data" || line.starts_with(b"data:");
        }
        self.emit(&line);
        Ok(())
    }

    /// Queues one line for the decoder, with an LF.
    fn emit(&mut self, line: &[u8]) {
        if std::mem::take(&mut self.first_line) && line.starts_with(BOM) {
            // The decoder strips a U+FEFF that starts its input by slicing off one byte of
            // it, which panics. This one is not a byte-order mark (that went in `push`) but
            // the start of a field name; an empty comment first keeps it so.
            self.emit(b":");
        }
        if self
            .ready
            .back()
            .is_none_or(|(_, lines)| *lines >= LINES_PER_PIECE)
        {
            self.ready.push_back((BytesMut::new(), 0));
        }
        let (piece, lines) = self.ready.back_mut().expect("a piece is open");
        piece.extend_from_slice(line);
        piece.extend_from_slice(b"\n");
        *lines += 1;
    }
}

impl<S> Stream for Framer<S>
where
    S: Stream<Item = Result<Bytes, EventError>> + Unpin,
{
    type Item = Result<String, EventError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some((piece, _)) = self.ready.pop_front() {
                let text = match String::from_utf8(Vec::from(piece)) {
                    Ok(text) => text,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                };
                return Poll::Ready(Some(Ok(text)));
            }
            if let Some(e) = self.failed.take() {
                return Poll::Ready(Some(Err(e.into())));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let chunk = match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    // An event the body ends in the middle of is not dispatched.
                    self.done = true;
                    continue;
                }
                Poll::Ready(Some(Err(e))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(chunk))) => chunk,
            };
            if let Err(e) = self.push(&chunk) {
                // Events that ended before the one that grew too large still reach the
                // decoder, however the bytes were split into chunks; the error follows.
                self.done = true;
                self.failed = Some(e);
            }
            if let Some(gauge) = &self.gauge {
                gauge.store(self.held, Ordering::Relaxed);
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
    /// Records an event's id (the stream's last event id, which an empty `id:` clears) and
    /// retry hint (clamped). An id that could not be sent back as a `Last-Event-ID` header
    /// (a control byte, say) is ignored, as the specification ignores one with a NUL. Only a
    /// message resets the failure count: a stream of empty events is no progress.
    pub(crate) fn note(&mut self, event: &Event) {
        if event.id.is_empty() {
            self.last_event_id = None;
        } else if usable_event_id(&event.id) {
            self.last_event_id = Some(event.id.clone());
        } else {
            tracing::debug!("ignoring an event id that cannot be sent back");
        }
        if let Some(retry) = event.retry {
            self.retry = retry.clamp(MIN_RETRY, MAX_RETRY_HINT);
        }
        if is_message(event) {
            self.failures = 0;
        }
    }

    /// The wait before the next attempt: the server's hint, doubled for each failure in a row
    /// up to [`BACKOFF_CAP`] (or the hint, if longer). The growth beyond the hint is cut by up
    /// to half at random, so that many clients do not come back in step; the hint itself is
    /// always waited.
    pub(crate) fn delay(&self) -> Duration {
        let factor = 1u32 << self.failures.min(6);
        let full = (self.retry * factor).min(BACKOFF_CAP.max(self.retry));
        full - (full - self.retry).mul_f64(jitter() * 0.5)
    }
}

/// Whether an event id can travel back in a `Last-Event-ID` header as it is.
fn usable_event_id(id: &str) -> bool {
    id.bytes().all(|b| b == b'\t' || (0x20..=0x7e).contains(&b))
}

/// A number in [0, 1) that differs from call to call (not for anything secret).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos().into())
            .unwrap_or(0),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether an event carries a message: the default type, with data.
pub(crate) fn is_message(event: &Event) -> bool {
    event.event == "message" && !event.data.is_empty()
}

#[cfg(test)]
mod tests;
