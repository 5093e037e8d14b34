//! The HTTP side every transport shares: the MCP server's URL, the client, the credentials
//! and the limits, and the few request shapes the transports make (a POST of one
//! message, a GET of an event stream, a DELETE), all sent through `auth`'s authorized send.

use super::Error;
use super::events::EventReader;
use crate::auth::Credentials;
use crate::budget::{Budget, Held};
use crate::mcp;
use crate::net;
use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, Response};
use std::time::Duration;
use url::Url;

/// `MCP-Protocol-Version`.
pub(crate) const PROTOCOL_VERSION: HeaderName =
    HeaderName::from_static(mcp::PROTOCOL_VERSION_HEADER);
/// `Mcp-Session-Id`.
pub(crate) const SESSION: HeaderName = HeaderName::from_static(mcp::SESSION_HEADER);
/// `Last-Event-ID`.
pub(crate) const LAST_EVENT_ID: HeaderName = HeaderName::from_static(mcp::LAST_EVENT_ID_HEADER);
/// `Mcp-Method` (2026-07-28).
pub(crate) const METHOD: HeaderName = HeaderName::from_static(mcp::METHOD_HEADER);
/// `Mcp-Name` (2026-07-28).
pub(crate) const NAME: HeaderName = HeaderName::from_static(mcp::NAME_HEADER);

const ACCEPT_BOTH: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");
const ACCEPT_EVENTS: HeaderValue = HeaderValue::from_static("text/event-stream");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
/// Largest error body read to explain a failure.
pub(crate) const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Extra headers for one request.
pub(crate) type Headers<'a> = &'a [(HeaderName, HeaderValue)];

/// Everything needed to make a request to the MCP server.
#[derive(Debug)]
pub(crate) struct Http {
    client: net::Client,
    /// The server URL the user gave; its origin is where credentials may go.
    url: Url,
    credentials: Credentials,
    limits: Limits,
}

/// How much of what the server sends the bridge accepts and holds.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Largest message (JSON body or event) accepted from the server.
    pub(crate) max_message: usize,
    /// The bytes of answers read and not yet written to the host, shared by every request.
    pub(crate) budget: Budget,
}

impl Limits {
    /// Messages up to `max_message` bytes, with no bound on what is held (one-off commands).
    pub(crate) fn unbounded(max_message: usize) -> Limits {
        Limits {
            max_message,
            budget: Budget::unbounded(),
        }
    }
}

impl Http {
    pub(crate) fn new(
        client: net::Client,
        url: Url,
        credentials: Credentials,
        limits: Limits,
    ) -> Http {
        Http {
            client,
            url,
            credentials,
            limits,
        }
    }

    /// The server URL.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// Largest message accepted from the server.
    pub(crate) fn max_message(&self) -> usize {
        self.limits.max_message
    }

    /// POSTs one JSON-RPC message to `url`, accepting JSON or an event stream in reply.
    pub(crate) async fn post(
        &self,
        url: &Url,
        body: &str,
        headers: Headers<'_>,
    ) -> Result<Response, Error> {
        let body = Bytes::copy_from_slice(body.as_bytes());
        let resp = self
            .credentials
            .send(&self.client, Method::POST, url, |req| {
                with_headers(req, headers)
                    .header(ACCEPT, ACCEPT_BOTH)
                    .header(CONTENT_TYPE, JSON)
                    .body(body.clone())
            })
            .await?;
        Ok(resp)
    }

    /// A GET that opens an event stream at `url`.
    pub(crate) async fn get_stream(
        &self,
        url: &Url,
        headers: Headers<'_>,
    ) -> Result<Response, Error> {
        let resp = self
            .credentials
            .send(&self.client, Method::GET, url, |req| {
                with_headers(req, headers).header(ACCEPT, ACCEPT_EVENTS)
            })
            .await?;
        Ok(resp)
    }

    /// A DELETE of the server URL, bounded by `timeout` (for ending a session).
    pub(crate) async fn delete(
        &self,
        headers: Headers<'_>,
        timeout: Duration,
    ) -> Result<Response, Error> {
        let resp = self
            .credentials
            .send(&self.client, Method::DELETE, &self.url, |req| {
                with_headers(req, headers).timeout(timeout)
            })
            .await?;
        Ok(resp)
    }

    /// Reads a whole answer body within the message size limit; its bytes stay reserved
    /// from the budget for as long as the [`Held`] lives.
    pub(crate) async fn read_body(&self, resp: Response) -> Result<(Bytes, Held), Error> {
        let limits = &self.limits;
        Ok(net::read_body_within(resp, limits.max_message, &limits.budget).await?)
    }

    /// Reads an answer body as server-sent events, within the size limit and the budget.
    pub(crate) fn events(&self, resp: Response) -> EventReader {
        EventReader::new(resp, self.limits.max_message, self.limits.budget.clone())
    }
}

fn with_headers(mut req: reqwest::RequestBuilder, headers: Headers<'_>) -> reqwest::RequestBuilder {
    for (name, value) in headers {
        req = req.header(name.clone(), value.clone());
    }
    req
}

/// A header value for text the server gave us (a session id, a protocol version), if it is
/// visible ASCII (the only kind the specification allows; anything else is not echoed).
pub(crate) fn echo_value(text: &str) -> Option<HeaderValue> {
    let visible = !text.is_empty() && text.bytes().all(|b| (0x21..=0x7e).contains(&b));
    visible.then(|| HeaderValue::from_str(text).ok()).flatten()
}

/// A non-2xx answer as an error: a redirect names where it went, otherwise the status and
/// an excerpt of the body.
pub(crate) async fn failure(resp: Response) -> Error {
    let status = resp.status();
    if status.is_redirection() {
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?");
        return Error::Redirected {
            location: location.to_owned(),
        };
    }
    let body = net::read_body(resp, ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    Error::Status {
        status: status.as_u16(),
        body: excerpt(&body),
    }
}

/// Whether a response is a successful event stream.
pub(crate) fn is_event_stream(resp: &Response) -> bool {
    resp.status().is_success() && net::media_type(resp) == "text/event-stream"
}

/// A short, printable excerpt of an error body for messages and logs.
pub(crate) fn excerpt(body: &[u8]) -> String {
    net::excerpt(&String::from_utf8_lossy(body), 200)
}
