//! Checks for `sse_events`: a response body decoded as server-sent events must give the same
//! events, and stop with the same error, however the network splits it; no event may exceed
//! the size limit.

use crate::transport::events::{Event, EventReader};
use bytes::Bytes;
use futures::StreamExt as _;

/// The limit a limit byte of 255 selects: larger than any input.
const LARGE_LIMIT: usize = 1 << 20;

/// What decoding a body gave: the events, and the error that ended it early, if one did.
type Outcome = (Vec<Event>, Option<String>);

pub(super) fn check(data: &[u8]) {
    let [limit, sizes, rest @ ..] = data else {
        return;
    };
    let limit = match *limit {
        255 => LARGE_LIMIT,
        n => 1 + usize::from(n) * 2,
    };
    let sizes = usize::from(*sizes % 8);
    if rest.len() < sizes {
        return;
    }
    let (sizes, body) = rest.split_at(sizes);

    let whole = decode(vec![body.to_vec()], limit);
    for event in &whole.0 {
        // The type defaults to `message` when the server names none.
        let named_type = if event.event == "message" {
            ""
        } else {
            &event.event
        };
        for (what, len) in [
            ("data", event.data.len()),
            ("id", event.id.len()),
            ("type", named_type.len()),
        ] {
            assert!(
                len <= limit,
                "an event's {what} has {len} bytes, over {limit}"
            );
        }
    }
    let split = decode(chunks(body, sizes), limit);
    assert_eq!(split, whole, "chunks of {sizes:?} against one chunk");
    let bytewise = decode(body.chunks(1).map(<[u8]>::to_vec).collect(), limit);
    assert_eq!(bytewise, whole, "one byte at a time against one chunk");
}

/// The body cut into pieces whose sizes cycle through `sizes` (mod 32); a size of 0 gives an
/// empty chunk followed by one byte.
fn chunks(body: &[u8], sizes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut next = sizes.iter().cycle();
    while !rest.is_empty() {
        let size = match next.next().map(|s| usize::from(s % 32)) {
            None => 3,
            Some(0) => {
                out.push(Vec::new());
                1
            }
            Some(n) => n,
        };
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        out.push(chunk.to_vec());
        rest = tail;
    }
    out
}

/// Decodes a body delivered as `chunks`.
fn decode(chunks: Vec<Vec<u8>>, limit: usize) -> Outcome {
    let body = futures::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c)))).boxed();
    let mut reader = EventReader::from_stream(body, limit);
    futures::executor::block_on(async {
        let mut events = Vec::new();
        loop {
            match reader.next_event().await {
                Ok(Some(event)) => events.push(event),
                Ok(None) => return (events, None),
                Err(e) => return (events, Some(e.to_string())),
            }
        }
    })
}
