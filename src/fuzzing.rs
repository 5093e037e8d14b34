//! Entry points for the fuzz targets in `fuzz/`: one function per target, each feeding
//! arbitrary bytes to the bridge's parsers of untrusted input and panicking when an
//! invariant those parsers own is broken.
//!
//! The checks are stated from the outside: what a parser promises in its documentation and
//! in DESIGN.md, verified against an independent reading of the input where one is cheap
//! (a framing of lines, a form decoder, a base64 decoder), never by calling the code under
//! test a second way and comparing it with itself. Each submodule owns one target's checks.
//!
//! This module is public only so that `fuzz/` can call it, and hidden from the docs; it
//! changes nothing in how the bridge behaves. The unit tests at the bottom run every seed in
//! `fuzz/corpus/`, so a plain `cargo test` replays the corpus and every past finding.

mod callback;
mod challenge;
mod envelope;
mod headers;
mod metadata;
mod sse;
mod urls;

/// Stdin framing and the JSON-RPC envelope: `stdio::LineReader` over the input,
/// then `jsonrpc::Message::parse` and `jsonrpc::parse_batch` on every line
/// and on the whole input.
///
/// Input: a byte choosing the line limit (below 128: that many bytes; else 1 MiB), a byte
/// choosing the read buffer size, then the stream.
pub fn stdin_envelope(data: &[u8]) {
    envelope::check(data);
}

/// Server-sent events through the adapter in front of `eventsource-stream`, as one chunk, in
/// fuzzer-chosen chunks and a byte at a time; all three must agree.
///
/// Input: a byte choosing the size limit, a byte `n` (mod 8), `n` chunk sizes, then the body.
pub fn sse_events(data: &[u8]) {
    sse::check(data);
}

/// `WWW-Authenticate` parsing (`auth::challenge::parse` and `bearer`).
///
/// Input: the header value.
pub fn www_authenticate(data: &[u8]) {
    challenge::check(data);
}

/// The URL policy: `endpoint` and the endpoint and resource checks of discovery.
///
/// Input: a URL (or a reference relative to `https://mcp.example/api/mcp`), a newline, and a
/// candidate protected-resource `resource` for it.
pub fn url_policy(data: &[u8]) {
    urls::check(data);
}

/// Authorization server metadata validation, and the protected resource metadata path.
///
/// Input: the expected issuer (also the server URL for the PRM path when it is one), a
/// newline, and the JSON document.
pub fn as_metadata(data: &[u8]) {
    metadata::check(data);
}

/// The login callback's decision (`auth::callback::judge`).
///
/// Input: the expected `state`, a newline, and the query string.
pub fn callback_query(data: &[u8]) {
    callback::check(data);
}

/// The 2026-07-28 header value encoding and the `Mcp-Param-*` headers of a tool call.
///
/// Input: a value to encode; when it is also a JSON object with `inputSchema` (and
/// optionally `arguments`), the headers for that call are checked too.
pub fn modern_headers(data: &[u8]) {
    headers::check(data);
}

/// Splits at the first newline (the second half is empty when there is none).
fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Runs every file of `fuzz/corpus/<target>/` through `check`; returns how many.
    fn replay(target: &str, check: fn(&[u8])) -> usize {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let mut seeds = 0;
        for entry in std::fs::read_dir(&dir).expect("every target has a committed corpus") {
            let path = entry.expect("the corpus directory is readable").path();
            let data = std::fs::read(&path).expect("a seed file is readable");
            check(&data);
            seeds += 1;
        }
        assert!(seeds > 0, "no seeds in {}", dir.display());
        seeds
    }

    /// Every committed seed passes every check of its target.
    #[test]
    fn corpus_passes() {
        replay("stdin_envelope", super::stdin_envelope);
        replay("sse_events", super::sse_events);
        replay("www_authenticate", super::www_authenticate);
        replay("url_policy", super::url_policy);
        replay("as_metadata", super::as_metadata);
        replay("callback_query", super::callback_query);
        replay("modern_headers", super::modern_headers);
    }

    /// Input shorter than a target's header bytes is ignored, not a panic.
    #[test]
    fn short_input_is_fine() {
        for check in [
            super::stdin_envelope,
            super::sse_events,
            super::www_authenticate,
            super::url_policy,
            super::as_metadata,
            super::callback_query,
            super::modern_headers,
        ] {
            check(b"");
            check(b"\n");
            check(b"\x80");
        }
    }
}
