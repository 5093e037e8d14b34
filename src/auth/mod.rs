//! Authorization: what requests to the MCP server carry, and the MCP OAuth client behind it
//! (discovery, client identity, browser login with PKCE, refresh, step-up, revocation).
//!
//! Transports send every request through [`Credentials::send`], which attaches the
//! credentials and deals with 401 and 403 answers itself (refresh, login, step-up, one flow
//! at a time across processes too) before handing the answer back. This module knows
//! nothing of stdio, the relay or the protocol eras; what it keeps lives in `crate::store`.

pub(crate) mod assertion;
pub(crate) mod bearer_command;
pub(crate) mod browser;
pub(crate) mod callback;
pub(crate) mod challenge;
mod credentials;
mod device;
pub(crate) mod discovery;
pub(crate) mod dpop;
mod flow;
pub(crate) mod grant;
mod oauth;
mod paste;
mod peer;
pub(crate) mod registration;
mod revoke;
mod token;

pub(crate) use credentials::{Credentials, SendError};
pub(crate) use flow::authorize_param;
pub(crate) use oauth::{AuthOptions, OAuth};
pub(crate) use revoke::revoke_tokens;

use crate::store::{StoreError, lock::LockError};

/// Why authorization failed. The variants callers branch on are their own; the rest carry
/// the text that explains them, and their causes as sources.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    /// Discovery found nothing usable, or something that must not be used.
    #[error("authorization discovery failed: {0}")]
    Discovery(String),
    /// An authorization request could not be sent, or its answer not read.
    #[error("{what} failed")]
    Request {
        /// The request, for the message ("fetching https://as/.well-known/...").
        what: String,
        #[source]
        source: RequestError,
    },
    /// The HTTP client could not be set up.
    #[error(transparent)]
    Client(#[from] crate::net::ClientError),
    #[error("client registration failed: {0}")]
    Registration(String),
    /// The authorization server does not know (or no longer accepts) the client.
    #[error("the authorization server rejected the client ({0})")]
    InvalidClient(String),
    /// The authorization server rejected the grant (an expired or revoked refresh token).
    #[error("the authorization server rejected the grant ({0})")]
    InvalidGrant(String),
    /// The authorization server refused the scope asked for.
    #[error("the authorization server refused the scope ({0})")]
    InvalidScope(String),
    #[error("token request failed: {0}")]
    Token(String),
    /// The browser login did not complete (the authorization server refused, or the
    /// callback failed).
    #[error("login failed: {0}")]
    Login(String),
    /// The loopback callback could not listen or did not deliver a code.
    #[error("login failed")]
    Callback(#[from] callback::CallbackError),
    /// A browser login is needed, and this command may not open one (`check` without
    /// `--login`).
    #[error("a login is needed")]
    LoginNeeded,
    /// A refresh was needed, and there is no refresh token to do it with.
    #[error("login failed: no usable refresh token")]
    NoRefreshToken,
    /// Something the flow must not go along with (no PKCE, a mix-up, an unsafe URL).
    #[error("{0}")]
    Refused(String),
    /// The host went away or a signal arrived while a login was waiting.
    #[error("login cancelled (the host went away, or a signal arrived)")]
    Cancelled,
    #[error("credential store")]
    Store(#[from] StoreError),
    #[error("waiting for another mcp-bridge to finish logging in")]
    Lock(#[source] LockError),
    /// The login or refresh this request waited for (started for another request) failed.
    #[error(transparent)]
    Shared(std::sync::Arc<AuthError>),
}

/// Why an authorization request produced no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RequestError {
    #[error(transparent)]
    Send(reqwest::Error),
    #[error(transparent)]
    Body(crate::net::BodyError),
}

impl AuthError {
    /// An authorization request that could not be sent.
    pub(crate) fn send(what: impl Into<String>, e: reqwest::Error) -> AuthError {
        AuthError::Request {
            what: what.into(),
            source: RequestError::Send(e.without_url()),
        }
    }

    /// An authorization answer that could not be read.
    pub(crate) fn body(what: impl Into<String>, e: crate::net::BodyError) -> AuthError {
        AuthError::Request {
            what: what.into(),
            source: RequestError::Body(e),
        }
    }
}

impl From<LockError> for AuthError {
    fn from(e: LockError) -> Self {
        match e {
            LockError::Cancelled { .. } => AuthError::Cancelled,
            e => AuthError::Lock(e),
        }
    }
}
