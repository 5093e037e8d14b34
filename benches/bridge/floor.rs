//! The floor under the per-call instruction count: the least any relay from stdio to
//! Streamable HTTP built on hyper must execute. It keeps one HTTP/1.1 connection (hyper's
//! connection API, no pool), POSTs each stdin line as it is with the session id, and writes
//! each `data:` line of the answer body to stdout. No JSON is parsed, no limit is kept, no
//! id is tracked, nothing is authorized: every instruction the bridge executes above this
//! is the price of what it does for the host.
//!
//! Run by `instructions.rs` under callgrind, as `bridge --floor-relay URL` (this benchmark's
//! own executable in a hidden mode).

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::header::{ACCEPT, CONTENT_TYPE, HOST, HeaderValue};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SESSION: &str = "mcp-session-id";

/// Relays stdin to `url` until stdin ends.
pub(crate) async fn run(url: &str) -> Result<()> {
    let url: hyper::Uri = url.parse().context("the floor relay's URL")?;
    let host = url.host().context("no host")?.to_owned();
    let port = url.port_u16().unwrap_or(80);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await?;
    tokio::spawn(connection);
    let host = HeaderValue::from_str(&format!("{host}:{port}"))?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    let mut session: Option<HeaderValue> = None;
    while let Some(line) = lines.next_line().await? {
        let mut request = hyper::Request::post(url.clone())
            .header(HOST, host.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream");
        if let Some(id) = &session {
            request = request.header(SESSION, id.clone());
        }
        let request = request.body(Full::new(bytes::Bytes::from(line)))?;
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        if let Some(id) = response.headers().get(SESSION) {
            session = Some(id.clone());
        }
        let body = response.into_body().collect().await?.to_bytes();
        for data in body
            .split(|b| *b == b'\n')
            .filter_map(|l| l.strip_prefix(b"data: "))
        {
            out.write_all(data).await?;
            out.write_all(b"\n").await?;
        }
        out.flush().await?;
    }
    Ok(())
}
