//! The process's stdin and stdout, and newline-delimited framing over any byte stream, with
//! a size limit.
//!
//! [`host_input`] and [`host_output`] give the stdio streams in the cheapest form: when they
//! are pipes or sockets (as every host makes them) they are read and written without
//! blocking, on the runtime's own thread; otherwise (a terminal, a file) through tokio's
//! blocking pool. [`LineReader`] yields one line at a time and never holds more than the
//! limit in memory: an over-long line is skipped to its end and reported as
//! [`Line::TooLong`]. [`write_line`] writes one message followed by `\n` and flushes. This
//! module knows nothing of JSON-RPC.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt};

/// A byte source for the relay.
pub(crate) type Input = Box<dyn AsyncRead + Send + Unpin>;
/// A byte sink for the relay.
pub(crate) type Output = Box<dyn AsyncWrite + Send + Unpin>;

/// The process's stdin.
pub(crate) fn host_input() -> Input {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        match nonblocking::input(std::io::stdin().as_fd()) {
            Ok(Some(input)) => return input,
            Ok(None) => {}
            Err(e) => tracing::debug!("stdin stays blocking: {e}"),
        }
    }
    Box::new(tokio::io::stdin())
}

/// The process's stdout.
pub(crate) fn host_output() -> Output {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        match nonblocking::output(std::io::stdout().as_fd()) {
            Ok(Some(output)) => return output,
            Ok(None) => {}
            Err(e) => tracing::debug!("stdout stays blocking: {e}"),
        }
    }
    Box::new(tokio::io::stdout())
}

#[cfg(unix)]
mod nonblocking {
    //! Pipes and sockets registered with the runtime's reactor. The descriptor is duplicated,
    //! so the original stays open; non-blocking mode applies to our end only (the host's end
    //! of a pipe or socket pair is a separate open file).

    use super::{Input, Output};
    use std::os::fd::{BorrowedFd, OwnedFd};
    use std::os::unix::fs::FileTypeExt;

    enum Kind {
        Pipe(OwnedFd),
        Socket(tokio::net::UnixStream),
    }

    /// A pipe or socket we can drive without blocking; `Ok(None)` for anything else.
    fn classify(fd: BorrowedFd<'_>) -> std::io::Result<Option<Kind>> {
        let file = std::fs::File::from(fd.try_clone_to_owned()?);
        let file_type = file.metadata()?.file_type();
        if file_type.is_fifo() {
            return Ok(Some(Kind::Pipe(OwnedFd::from(file))));
        }
        if file_type.is_socket() {
            let socket = std::os::unix::net::UnixStream::from(OwnedFd::from(file));
            socket.set_nonblocking(true)?;
            return Ok(Some(Kind::Socket(tokio::net::UnixStream::from_std(
                socket,
            )?)));
        }
        Ok(None)
    }

    pub(super) fn input(fd: BorrowedFd<'_>) -> std::io::Result<Option<Input>> {
        Ok(match classify(fd)? {
            Some(Kind::Pipe(fd)) => Some(Box::new(
                tokio::net::unix::pipe::Receiver::from_owned_fd(fd)?,
            )),
            Some(Kind::Socket(s)) => Some(Box::new(s)),
            None => None,
        })
    }

    pub(super) fn output(fd: BorrowedFd<'_>) -> std::io::Result<Option<Output>> {
        Ok(match classify(fd)? {
            Some(Kind::Pipe(fd)) => {
                Some(Box::new(tokio::net::unix::pipe::Sender::from_owned_fd(fd)?))
            }
            Some(Kind::Socket(s)) => Some(Box::new(s)),
            None => None,
        })
    }
}

/// One frame read from the input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A complete line without its terminator (`\n` or `\r\n`), lossily decoded as UTF-8.
    Text(String),
    /// A line longer than the limit; its bytes were discarded. Holds the length seen.
    TooLong(usize),
}

/// Reads lines of at most `limit` bytes. Cancel-safe between calls: partial state lives in
/// the struct, not in the future.
pub(crate) struct LineReader<R> {
    inner: R,
    limit: usize,
    buf: Vec<u8>,
    /// Bytes of the current over-long line seen so far, when discarding.
    discarding: Option<usize>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    pub(crate) fn new(inner: R, limit: usize) -> Self {
        LineReader {
            inner,
            limit,
            buf: Vec::new(),
            discarding: None,
        }
    }

    /// Returns the next line, or `None` at end of input. A final line without a newline is
    /// still returned. Blank lines are skipped.
    pub(crate) async fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            let chunk = self.inner.fill_buf().await?;
            if chunk.is_empty() {
                // End of input: flush what is left.
                if let Some(seen) = self.discarding.take() {
                    return Ok(Some(Line::TooLong(seen)));
                }
                if self.buf.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                return Ok(Some(self.take_line()));
            }
            let newline = chunk.iter().position(|&b| b == b'\n');
            let take = newline.map_or(chunk.len(), |i| i + 1);
            match self.discarding.as_mut() {
                Some(seen) => *seen += take,
                None if self.buf.len() + take > self.limit + 2 => {
                    // +2 allows the terminator; the line itself is over the limit.
                    self.discarding = Some(self.buf.len() + take);
                    self.buf = Vec::new();
                }
                None => self.buf.extend_from_slice(&chunk[..take]),
            }
            self.inner.consume(take);
            if newline.is_some() {
                if let Some(seen) = self.discarding.take() {
                    return Ok(Some(Line::TooLong(seen)));
                }
                if self.buf.iter().all(u8::is_ascii_whitespace) {
                    self.buf.clear();
                    continue;
                }
                return Ok(Some(self.take_line()));
            }
        }
    }

    fn take_line(&mut self) -> Line {
        let mut bytes = std::mem::take(&mut self.buf);
        while bytes.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            bytes.pop();
        }
        if bytes.len() > self.limit {
            return Line::TooLong(bytes.len());
        }
        Line::Text(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }
}

/// Writes `text` and a newline, then flushes, so the reader sees the whole message at once.
pub(crate) async fn write_line<W: AsyncWrite + Unpin>(
    out: &mut W,
    text: &str,
) -> std::io::Result<()> {
    debug_assert!(
        !text.contains('\n'),
        "messages are made single-line before writing"
    );
    out.write_all(text.as_bytes()).await?;
    out.write_all(b"\n").await?;
    out.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncWriteExt, BufReader};

    async fn read_all(input: &[u8], limit: usize, buf_cap: usize) -> Vec<Line> {
        let (mut tx, rx) = tokio::io::duplex(64);
        let data = input.to_vec();
        tokio::spawn(async move {
            // Small writes force lines to arrive split across many reads.
            for piece in data.chunks(3) {
                tx.write_all(piece).await.unwrap();
            }
        });
        let mut reader = LineReader::new(BufReader::with_capacity(buf_cap, rx), limit);
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().await.unwrap() {
            lines.push(line);
        }
        lines
    }

    /// Lines split across reads come out whole; CRLF and blank lines are handled.
    #[tokio::test]
    async fn frames_lines() {
        let lines = read_all(b"{\"a\":1}\r\n\n  \n{\"b\":2}\nlast", 100, 4).await;
        assert_eq!(
            lines,
            vec![
                Line::Text("{\"a\":1}".into()),
                Line::Text("{\"b\":2}".into()),
                Line::Text("last".into())
            ]
        );
    }

    /// An over-long line is reported and skipped; the next line is read normally.
    #[tokio::test]
    async fn skips_long_lines() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\nok\n");
        input.extend_from_slice(&[b'y'; 30]);
        let lines = read_all(&input, 10, 8).await;
        assert_eq!(
            lines,
            vec![
                Line::TooLong(51),
                Line::Text("ok".into()),
                Line::TooLong(30)
            ]
        );
    }

    /// A line of exactly the limit passes.
    #[tokio::test]
    async fn limit_is_inclusive() {
        let lines = read_all(b"0123456789\r\n", 10, 4).await;
        assert_eq!(lines, vec![Line::Text("0123456789".into())]);
    }

    /// Invalid UTF-8 does not stop the reader.
    #[tokio::test]
    async fn tolerates_bad_utf8() {
        let lines = read_all(b"a\xffb\nc\n", 10, 4).await;
        assert_eq!(
            lines,
            vec![Line::Text("a\u{fffd}b".into()), Line::Text("c".into())]
        );
    }
}
