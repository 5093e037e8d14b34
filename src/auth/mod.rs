//! Authorization: the MCP OAuth client (discovery, client identity, browser login with
//! PKCE, token refresh and step-up) and where its results are kept.
//!
//! The transport asks this module for the current token and hands it every 401/403
//! challenge; the module knows nothing of stdio or of the relay.

pub(crate) mod browser;
pub(crate) mod callback;
pub(crate) mod lock;
pub(crate) mod store;
