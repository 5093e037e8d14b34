//! Decoding `text/event-stream` bodies (the WHATWG server-sent events format) with a size
//! limit.
//!
//! [`Decoder`] is fed byte chunks as they arrive, split anywhere (even inside a CRLF or a
//! UTF-8 sequence), and returns complete events. An event larger than the limit is an error,
//! so a hostile server cannot make the bridge buffer without bound. This module knows nothing
//! of HTTP or MCP.

/// One dispatched event block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Event {
    /// The `event:` field; empty means the default type, `message`.
    pub(crate) event: String,
    /// The `data:` lines joined with `\n`.
    pub(crate) data: String,
    /// The `id:` field, when the block had one.
    pub(crate) id: Option<String>,
    /// The `retry:` field in milliseconds, when the block had a valid one.
    pub(crate) retry: Option<u64>,
}

impl Event {
    /// The event type with the default applied.
    pub(crate) fn kind(&self) -> &str {
        if self.event.is_empty() {
            "message"
        } else {
            &self.event
        }
    }
}

/// The stream broke the size limit.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("server-sent event larger than {limit} bytes")]
pub(crate) struct TooLarge {
    pub(crate) limit: usize,
}

/// Incremental event-stream decoder.
pub(crate) struct Decoder {
    limit: usize,
    /// Bytes of the line being read (no terminator yet).
    line: Vec<u8>,
    /// The event being assembled.
    pending: Event,
    /// Whether the block being assembled has any field at all.
    has_fields: bool,
    /// `data:` lines in the block so far (an empty first one still counts).
    data_lines: usize,
    /// Bytes held for the current event (line plus data), checked against the limit.
    held: usize,
    /// The previous chunk ended in CR, so a leading LF in the next one is part of it.
    after_cr: bool,
    /// Nothing has been read yet (a leading byte-order mark is dropped).
    at_start: bool,
}

impl Decoder {
    pub(crate) fn new(limit: usize) -> Self {
        Decoder {
            limit,
            line: Vec::new(),
            pending: Event::default(),
            has_fields: false,
            data_lines: 0,
            held: 0,
            after_cr: false,
            at_start: true,
        }
    }

    /// Feeds a chunk and returns the events it completed.
    pub(crate) fn feed(&mut self, mut chunk: &[u8]) -> Result<Vec<Event>, TooLarge> {
        let mut out = Vec::new();
        if self.at_start && !chunk.is_empty() {
            self.at_start = false;
            if let Some(rest) = chunk.strip_prefix(b"\xEF\xBB\xBF") {
                chunk = rest;
            }
        }
        if self.after_cr && chunk.first() == Some(&b'\n') {
            chunk = &chunk[1..];
        }
        self.after_cr = false;
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.push_bytes(&chunk[..end])?;
            let line = std::mem::take(&mut self.line);
            self.held -= line.len();
            if let Some(event) = self.process_line(&line)? {
                out.push(event);
            }
            let crlf = chunk[end] == b'\r' && chunk.get(end + 1) == Some(&b'\n');
            if chunk[end] == b'\r' && end + 1 == chunk.len() {
                self.after_cr = true;
            }
            chunk = &chunk[end + if crlf { 2 } else { 1 }..];
        }
        self.push_bytes(chunk)?;
        Ok(out)
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), TooLarge> {
        self.held += bytes.len();
        if self.held > self.limit {
            return Err(TooLarge { limit: self.limit });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8]) -> Result<Option<Event>, TooLarge> {
        if line.is_empty() {
            let done = std::mem::take(&mut self.pending);
            let had = std::mem::replace(&mut self.has_fields, false);
            self.data_lines = 0;
            self.held = self.line.len();
            return Ok(had.then_some(done));
        }
        if line[0] == b':' {
            return Ok(None); // comment, often a keep-alive
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        self.has_fields = true;
        match field {
            "event" => self.pending.event = value.to_owned(),
            "data" => {
                if self.data_lines > 0 {
                    self.pending.data.push('\n');
                    self.held += 1;
                }
                self.pending.data.push_str(value);
                self.held += value.len();
                self.data_lines += 1;
                if self.held > self.limit {
                    return Err(TooLarge { limit: self.limit });
                }
            }
            "id" if !value.contains('\0') => self.pending.id = Some(value.to_owned()),
            "retry" => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.pending.retry = Some(ms);
                }
            }
            _ => {}
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<Event> {
        let mut d = Decoder::new(1024);
        input
            .chunks(piece)
            .flat_map(|c| d.feed(c).unwrap())
            .collect()
    }

    fn ev(event: &str, data: &str, id: Option<&str>) -> Event {
        Event {
            event: event.into(),
            data: data.into(),
            id: id.map(Into::into),
            retry: None,
        }
    }

    /// Every split of the input gives the same events, whatever the line terminators.
    #[test]
    fn splits_anywhere() {
        let input = "\u{feff}: keepalive\r\nevent: endpoint\r\ndata: /messages?s=1\r\n\r\nid: 7\ndata: {\"a\":\ndata: 1}\n\nretry: 250\rid: 8\rdata:\r\r";
        let expected = vec![
            ev("endpoint", "/messages?s=1", None),
            ev("", "{\"a\":\n1}", Some("7")),
            Event {
                retry: Some(250),
                ..ev("", "", Some("8"))
            },
        ];
        for piece in 1..input.len() {
            assert_eq!(
                decode_in_pieces(input.as_bytes(), piece),
                expected,
                "piece size {piece}"
            );
        }
    }

    /// A block with only an id (a priming event) is still reported so its id is recorded.
    #[test]
    fn reports_id_only_blocks() {
        assert_eq!(
            decode_in_pieces(b"id: p1\n\n", 100),
            vec![ev("", "", Some("p1"))]
        );
        assert_eq!(decode_in_pieces(b"\n\n:x\n\n", 100), vec![]);
    }

    /// An event over the limit is an error, even when it never ends.
    #[test]
    fn enforces_the_limit() {
        let mut d = Decoder::new(16);
        assert!(d.feed(b"data: 0123456789\n").is_ok());
        assert_eq!(d.feed(b"data: 0123456789\n"), Err(TooLarge { limit: 16 }));
        let mut d = Decoder::new(16);
        assert!(d.feed(&[b'x'; 17]).is_err());
        // Many small events pass: the limit is per event.
        let mut d = Decoder::new(16);
        for _ in 0..100 {
            assert_eq!(d.feed(b"data: 0123456789\n\n").unwrap().len(), 1);
        }
    }

    /// `event:` and `retry:` are parsed; a bad retry is ignored.
    #[test]
    fn parses_fields() {
        let evs = decode_in_pieces(b"event:message\nretry: x\ndata:a\n\n", 100);
        assert_eq!(evs, vec![ev("message", "a", None)]);
        assert_eq!(evs[0].kind(), "message");
    }
}
