//! The wire protocols to the remote MCP server: Streamable HTTP and HTTP+SSE as the
//! `initialize` era speaks them (with the 2025-11-25 detection between them), and the
//! 2026-07-28 POST shape.
//!
//! Messages go out through [`Legacy::send`] or [`Modern::call`]; what the server sends
//! comes back on the [`Inbox`]'s channel, read by tasks of their own. When a request cannot
//! be delivered or answered, the transport puts a JSON-RPC error for it on the same
//! channel, so the host always hears back. Every request goes through the one authorized
//! send in `auth`.
//!
//! This module knows nothing of stdio, the command line or translation between eras.

pub(crate) mod events;
pub(crate) mod http;
mod inbox;
mod legacy;
pub(crate) mod modern;
mod sse;
mod streamable;

pub(crate) use events::Cursor;
pub(crate) use http::{Http, Limits};
pub(crate) use inbox::{Inbound, Inbox};
pub(crate) use legacy::{Legacy, Replier};

/// The transport an `initialize`-era connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    Streamable,
    Sse,
}
pub(crate) use modern::Modern;

use crate::auth::SendError;
use crate::jsonrpc;

/// How long the bridge waits for the server to answer an `initialize` of its own.
pub(crate) const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Which transport to use, and in what order to try them (mcp-remote's `--transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Streamable HTTP, falling back to HTTP+SSE when the server answers 400/404/405.
    #[default]
    HttpFirst,
    /// HTTP+SSE, falling back to Streamable HTTP when the SSE stream cannot be opened.
    SseFirst,
    /// Streamable HTTP only.
    HttpOnly,
    /// HTTP+SSE only (2024-11-05 servers).
    SseOnly,
}

impl Mode {
    /// Whether HTTP+SSE is tried first (or only).
    pub(crate) fn sse_first(self) -> bool {
        matches!(self, Mode::SseOnly | Mode::SseFirst)
    }
}

/// Failures of the wire protocols, one variant for each case a caller branches on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The authorized send failed: unreachable, the request failed, unauthorized.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The server answered with a status that means failure.
    #[error("server answered HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status { status: u16, body: String },
    /// The session is gone (HTTP 404 with a session id).
    #[error("the session expired (HTTP 404)")]
    SessionExpired,
    #[error("server redirected to another origin ({location}); not following with credentials")]
    Redirected { location: String },
    #[error("unexpected content type {0:?} from the server")]
    ContentType(String),
    #[error("message from the server larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The connection failed while an answer was being read.
    #[error("reading the server's answer failed")]
    Read(#[source] reqwest::Error),
    #[error("invalid message from the server: {0}")]
    Protocol(String),
    #[error(
        "the HTTP+SSE endpoint {0} is on another origin than the server; refusing to send messages or credentials there"
    )]
    CrossOriginEndpoint(String),
    /// The bridge is stopping; the request was not sent or not waited for.
    #[error("the bridge is shutting down")]
    ShuttingDown,
    /// The host cancelled the request.
    #[error("the request was cancelled")]
    Cancelled,
    /// An answer stream ended before the request was answered, and cannot be resumed.
    #[error("the server closed the stream before answering")]
    StreamEnded,
    /// An answer stream broke and resuming it failed.
    #[error("the answer stream could not be resumed")]
    ResumeFailed(#[source] Box<Error>),
    /// The HTTP+SSE event stream ended while the request waited for its answer there.
    #[error("the event stream ended before the request was answered")]
    StreamLost(#[source] Option<std::sync::Arc<Error>>),
    /// The HTTP+SSE event stream is down and could not be reopened in time.
    #[error("the server's event stream is down and could not be reopened")]
    StreamDown,
    /// The HTTP+SSE connection was abandoned for good.
    #[error("the HTTP+SSE connection failed")]
    Abandoned,
    /// The HTTP+SSE stream named no endpoint to post to.
    #[error("the event stream ended before naming an endpoint")]
    NoEndpoint,
    #[error("the server sent no endpoint event")]
    EndpointTimeout,
    /// The server refused an `initialize` of the bridge's own (a replay, or one made for a
    /// 2026-07-28 host); carries the server's answer.
    #[error("the server refused initialize: {0}")]
    HandshakeRefused(String),
    /// The server did not answer an `initialize` of the bridge's own.
    #[error("the server did not answer initialize")]
    HandshakeUnanswered,
    /// Neither transport works: Streamable HTTP was refused and HTTP+SSE failed.
    #[error("server answered the Streamable HTTP POST with HTTP {status}, and HTTP+SSE failed too")]
    NoTransport {
        status: u16,
        #[source]
        sse: Box<Error>,
    },
    /// The host's first request was not `initialize`, and the server refused it as a request
    /// outside a session (HTTP 400).
    #[error(
        "the server refused {method} with HTTP 400: an MCP session starts with initialize; send initialize (then notifications/initialized) first"
    )]
    InitializeFirst { method: String },
    /// A call to a tool the bridge hid (its header declarations are invalid).
    #[error("tool {name:?} was hidden: {why}")]
    HiddenTool { name: String, why: String },
}

impl Error {
    /// The JSON-RPC error code for a request this error failed.
    pub(crate) fn code(&self) -> i64 {
        match self {
            Error::Protocol(_) | Error::TooLarge { .. } | Error::ContentType(_) => {
                jsonrpc::INTERNAL_ERROR
            }
            Error::HiddenTool { .. } => jsonrpc::INVALID_PARAMS,
            _ => jsonrpc::BRIDGE_ERROR,
        }
    }

    /// Errors after which the bridge must stop rather than retry.
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(self, Error::CrossOriginEndpoint(_))
    }

    /// Whether the server could not be reached at all.
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, Error::Send(SendError::Connect(_)))
    }

    /// Whether the request reached the server but no HTTP answer came back (the connection
    /// was reset or closed first).
    pub(crate) fn is_unanswered(&self) -> bool {
        matches!(self, Error::Send(SendError::Http(_)))
    }

    /// Whether this is an HTTP failure status among `statuses`.
    pub(crate) fn has_status(&self, statuses: &[u16]) -> bool {
        matches!(self, Error::Status { status, .. } if statuses.contains(status))
    }
}

impl From<crate::net::BodyError> for Error {
    fn from(e: crate::net::BodyError) -> Self {
        match e {
            crate::net::BodyError::TooLarge { limit } => Error::TooLarge { limit },
            crate::net::BodyError::Read(e) => Error::Read(e),
        }
    }
}

impl From<events::EventError> for Error {
    fn from(e: events::EventError) -> Self {
        match e {
            events::EventError::TooLarge(e) => Error::TooLarge { limit: e.limit },
            events::EventError::Read(e) => Error::Read(e),
            events::EventError::Decode(e) => Error::Protocol(e),
        }
    }
}
