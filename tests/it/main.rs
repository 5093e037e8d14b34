//! End-to-end tests: the real `mcp-bridge` binary over real pipes against in-process servers
//! on 127.0.0.1:0. Interop with third-party peers lives in tests/interop (run by .ci/run).

mod auth;
mod check;
mod faults;
mod hostile;
mod import;
mod invariants;
mod keyring;
mod legacy;
mod modern;
mod options;
mod scale;
mod streamable;
mod support;
mod terminal;
mod tls;
mod token_helper;
