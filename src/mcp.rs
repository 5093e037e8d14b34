//! Names the MCP specification defines and several layers use: protocol versions, the HTTP
//! headers of the Streamable HTTP transports, the `_meta` keys of 2026-07-28, and its error
//! codes. Only constants live here; what they mean in a message is the era's and the
//! transport's business.

/// The 2026-07-28 protocol version (the "modern" era), the one the bridge speaks upstream.
pub(crate) const MODERN_VERSION: &str = "2026-07-28";
/// The `initialize`-era versions a host may ask for, newest first.
pub(crate) const LEGACY_VERSIONS: &[&str] =
    &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// The newest `initialize`-era version, sent where the bridge itself must pick one.
pub(crate) const LATEST_LEGACY_VERSION: &str = LEGACY_VERSIONS[0];

/// Header: the negotiated (or, in 2026-07-28, the per-request) protocol version.
pub(crate) const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
/// Header: the session of an `initialize`-era Streamable HTTP connection.
pub(crate) const SESSION_HEADER: &str = "mcp-session-id";
/// Header (2026-07-28): the request's method.
pub(crate) const METHOD_HEADER: &str = "mcp-method";
/// Header (2026-07-28): the tool or prompt name, or the resource URI, a request is about.
pub(crate) const NAME_HEADER: &str = "mcp-name";
/// Header prefix (2026-07-28): tool arguments a tool declares with `x-mcp-header`.
pub(crate) const PARAM_HEADER_PREFIX: &str = "Mcp-Param-";
/// Header: where to resume an event stream (server-sent events).
pub(crate) const LAST_EVENT_ID_HEADER: &str = "last-event-id";

/// `_meta` key (2026-07-28): the protocol version of a request.
pub(crate) const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key (2026-07-28): the client's capabilities.
pub(crate) const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key (2026-07-28): the client's name and version.
pub(crate) const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key (2026-07-28): the log level the client asked for.
pub(crate) const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
/// `_meta` key (2026-07-28): the server's name and version in a DiscoverResult.
pub(crate) const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// Prefix of every `_meta` key the protocol itself owns.
pub(crate) const META_PROTOCOL_PREFIX: &str = "io.modelcontextprotocol/";

/// JSON-RPC error (2026-07-28): a header does not match the body.
pub(crate) const HEADER_MISMATCH: i64 = -32020;
/// JSON-RPC error (2026-07-28): the server does not speak the request's version.
pub(crate) const UNSUPPORTED_VERSION: i64 = -32022;

/// Methods whose results may ask for input in 2026-07-28 ("input required").
pub(crate) const MRTR_METHODS: &[&str] = &["tools/call", "prompts/get", "resources/read"];
