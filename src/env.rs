//! Every environment variable mcp-bridge reads, in one place.

/// Bearer token sent to the server (same as `--bearer`); keeps the token out of `ps`.
pub(crate) const MCP_BRIDGE_BEARER: &str = "MCP_BRIDGE_BEARER";
/// A token helper whose stdout is the bearer token (same as `--bearer-command`).
pub(crate) const MCP_BRIDGE_BEARER_COMMAND: &str = "MCP_BRIDGE_BEARER_COMMAND";
/// Seconds a helper's token is used (same as `--bearer-command-ttl`).
pub(crate) const MCP_BRIDGE_BEARER_COMMAND_TTL: &str = "MCP_BRIDGE_BEARER_COMMAND_TTL";
/// PEM file of extra trusted CA certificates (same as `--ca-cert`).
pub(crate) const MCP_BRIDGE_CA_CERT: &str = "MCP_BRIDGE_CA_CERT";
/// File of extra `Name: value` headers (same as `--header-file`).
pub(crate) const MCP_BRIDGE_HEADER_FILE: &str = "MCP_BRIDGE_HEADER_FILE";
/// Transport choice (same as `--transport`).
pub(crate) const MCP_BRIDGE_TRANSPORT: &str = "MCP_BRIDGE_TRANSPORT";
/// Log level (same as `--log-level`); `RUST_LOG` overrides it.
pub(crate) const MCP_BRIDGE_LOG_LEVEL: &str = "MCP_BRIDGE_LOG_LEVEL";
/// Message size limit in bytes (same as `--max-message-size`).
pub(crate) const MCP_BRIDGE_MAX_MESSAGE_SIZE: &str = "MCP_BRIDGE_MAX_MESSAGE_SIZE";
pub(crate) const MCP_BRIDGE_MAX_IN_FLIGHT: &str = "MCP_BRIDGE_MAX_IN_FLIGHT";
pub(crate) const MCP_BRIDGE_MAX_BYTES_IN_FLIGHT: &str = "MCP_BRIDGE_MAX_BYTES_IN_FLIGHT";
/// Browser to open the login URL with, instead of the system opener (run directly, no shell).
pub(crate) const MCP_BRIDGE_BROWSER: &str = "MCP_BRIDGE_BROWSER";
/// Directory for the credentials file, the credential index and lock files (default: the
/// OS config directory, e.g. `~/.config/mcp-bridge`).
pub(crate) const MCP_BRIDGE_CONFIG_DIR: &str = "MCP_BRIDGE_CONFIG_DIR";
/// A full tracing filter (for example `mcp_bridge=trace`); overrides every logging option.
pub(crate) const RUST_LOG: &str = "RUST_LOG";
/// Pre-registered OAuth client id (same as `--client-id`).
pub(crate) const MCP_BRIDGE_CLIENT_ID: &str = "MCP_BRIDGE_CLIENT_ID";
/// Secret of the pre-registered OAuth client (same as `--client-secret`); keeps it out of `ps`.
pub(crate) const MCP_BRIDGE_CLIENT_SECRET: &str = "MCP_BRIDGE_CLIENT_SECRET";
/// `true` to authorize with the client credentials grant (same as `--client-credentials`).
pub(crate) const MCP_BRIDGE_CLIENT_CREDENTIALS: &str = "MCP_BRIDGE_CLIENT_CREDENTIALS";
/// The client's private key for `private_key_jwt` (same as `--client-key`).
pub(crate) const MCP_BRIDGE_CLIENT_KEY: &str = "MCP_BRIDGE_CLIENT_KEY";
/// The JWS algorithm for the client's key (same as `--client-key-alg`).
pub(crate) const MCP_BRIDGE_CLIENT_KEY_ALG: &str = "MCP_BRIDGE_CLIENT_KEY_ALG";
/// `true` to log in with the device authorization grant (same as `--device-code`).
pub(crate) const MCP_BRIDGE_DEVICE_CODE: &str = "MCP_BRIDGE_DEVICE_CODE";
/// A workload identity token file for the JWT-bearer grant (same as `--jwt-bearer-file`).
pub(crate) const MCP_BRIDGE_JWT_BEARER_FILE: &str = "MCP_BRIDGE_JWT_BEARER_FILE";
/// An OpenID Connect ID token file for enterprise SSO (same as `--id-token-file`).
pub(crate) const MCP_BRIDGE_ID_TOKEN_FILE: &str = "MCP_BRIDGE_ID_TOKEN_FILE";
/// The identity provider's issuer (same as `--idp-issuer`).
pub(crate) const MCP_BRIDGE_IDP_ISSUER: &str = "MCP_BRIDGE_IDP_ISSUER";
/// The identity provider's token endpoint (same as `--idp-token-endpoint`).
pub(crate) const MCP_BRIDGE_IDP_TOKEN_ENDPOINT: &str = "MCP_BRIDGE_IDP_TOKEN_ENDPOINT";
/// The bridge's client id at the identity provider (same as `--idp-client-id`).
pub(crate) const MCP_BRIDGE_IDP_CLIENT_ID: &str = "MCP_BRIDGE_IDP_CLIENT_ID";
/// The secret of that client (same as `--idp-client-secret`); keeps it out of `ps`.
pub(crate) const MCP_BRIDGE_IDP_CLIENT_SECRET: &str = "MCP_BRIDGE_IDP_CLIENT_SECRET";
/// Port of the loopback callback for browser logins (same as `--callback-port`).
pub(crate) const MCP_BRIDGE_CALLBACK_PORT: &str = "MCP_BRIDGE_CALLBACK_PORT";
/// Path of the loopback callback for browser logins (same as `--callback-path`).
pub(crate) const MCP_BRIDGE_CALLBACK_PATH: &str = "MCP_BRIDGE_CALLBACK_PATH";
/// Credential store: auto, keyring, file or memory (same as `--store`).
pub(crate) const MCP_BRIDGE_STORE: &str = "MCP_BRIDGE_STORE";
/// Protocol era (same as `--protocol`).
pub(crate) const MCP_BRIDGE_PROTOCOL: &str = "MCP_BRIDGE_PROTOCOL";
/// Seconds a TCP+TLS connection may take (same as `--connect-timeout`).
pub(crate) const MCP_BRIDGE_CONNECT_TIMEOUT: &str = "MCP_BRIDGE_CONNECT_TIMEOUT";
/// Seconds a host request may wait for its answer (same as `--request-timeout`).
pub(crate) const MCP_BRIDGE_REQUEST_TIMEOUT: &str = "MCP_BRIDGE_REQUEST_TIMEOUT";
/// Seconds of quiet after which the bridge pings the server (same as `--keepalive`).
pub(crate) const MCP_BRIDGE_KEEPALIVE: &str = "MCP_BRIDGE_KEEPALIVE";
/// `true` to keep no cookies from the server (same as `--no-cookies`).
pub(crate) const MCP_BRIDGE_NO_COOKIES: &str = "MCP_BRIDGE_NO_COOKIES";
/// `true` to leave out the RFC 8707 `resource` parameter (same as `--no-resource`).
pub(crate) const MCP_BRIDGE_NO_RESOURCE: &str = "MCP_BRIDGE_NO_RESOURCE";
/// `true` to never bind tokens to a DPoP key (same as `--no-dpop`).
pub(crate) const MCP_BRIDGE_NO_DPOP: &str = "MCP_BRIDGE_NO_DPOP";
/// `true` to make `check` print JSON (same as `check --json`).
pub(crate) const MCP_BRIDGE_CHECK_JSON: &str = "MCP_BRIDGE_CHECK_JSON";
/// `true` to make `check` list tool, resource and prompt names (same as `check --list`).
pub(crate) const MCP_BRIDGE_CHECK_LIST: &str = "MCP_BRIDGE_CHECK_LIST";
/// `true` to let `check` log in in the browser (same as `check --login`).
pub(crate) const MCP_BRIDGE_CHECK_LOGIN: &str = "MCP_BRIDGE_CHECK_LOGIN";
/// mcp-remote's own base directory (default `~/.mcp-auth`); `import mcp-remote` reads it
/// (same as `--config-dir`).
pub(crate) const MCP_REMOTE_CONFIG_DIR: &str = "MCP_REMOTE_CONFIG_DIR";
/// Set (to anything but empty) to turn colors off in what commands print for a person.
pub(crate) const NO_COLOR: &str = "NO_COLOR";
/// The terminal type; `dumb` turns off colors and the live line.
pub(crate) const TERM: &str = "TERM";
/// Extra trusted CA certificates (honoured as usual, added to `--ca-cert`).
pub(crate) const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
