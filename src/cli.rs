//! The command line: clap definitions and the compatibility spellings, nothing else.
//!
//! Guidelines for options:
//! - The default action (no subcommand) runs the bridge, so host configs stay one line long.
//! - Our own names are kebab-case. Spellings users know from supergateway and mcp-remote are
//!   `alias`es (or hidden options) that land in the same field: there is one code path per
//!   behaviour, whatever the spelling.
//! - A secret or a machine-wide setting also has an `MCP_BRIDGE_*` variable (see `env.rs`),
//!   because a token on argv is visible to every user in `ps`.
//! - The first line of a doc comment is the short help; the rest is the long help.
//! - Every option is covered by a parse test at the bottom of this file.

use crate::env;
use crate::era::Protocol;
use crate::store::StoreChoice;
use crate::transport::Mode;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum, ValueHint};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0  clean shutdown (stdin closed, SIGINT or SIGTERM)
  1  operational failure (server unreachable for good, unauthorized, refused endpoint)
  2  usage error (bad option, bad header, refused URL)";

/// Use a remote MCP server (Streamable HTTP or HTTP+SSE) from any stdio MCP host.
///
/// The host starts `mcp-bridge URL` as a stdio server. The bridge forwards each JSON-RPC line
/// from stdin to the server and writes every answer and server message to stdout. Logs go to
/// stderr only.
#[derive(Debug, Parser)]
#[command(
    name = "mcp-bridge",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_long_help = EXIT_CODES
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    #[command(flatten)]
    pub(crate) run: RunArgs,

    #[command(flatten)]
    pub(crate) log: LogArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Authorize with a server now (browser login) and store the tokens.
    Login(Box<ServerArgs>),
    /// Forget stored tokens and client registrations (revoking tokens where the server allows).
    Logout {
        /// The server whose credentials to forget.
        #[arg(value_hint = ValueHint::Url, required_unless_present = "all")]
        url: Option<String>,
        /// Forget the credentials of every server.
        #[arg(long, conflicts_with = "url")]
        all: bool,
        /// Which store to clean.
        #[arg(long, value_enum, default_value_t = StoreChoice::Auto, env = env::MCP_BRIDGE_STORE)]
        store: StoreChoice,
    },
    /// Show stored credentials: server, issuer, scopes, expiry (never the secrets).
    Status {
        /// Only this server.
        #[arg(value_hint = ValueHint::Url)]
        url: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Which store to read.
        #[arg(long, value_enum, default_value_t = StoreChoice::Auto, env = env::MCP_BRIDGE_STORE)]
        store: StoreChoice,
    },
    /// Connect as the bridge would and report every step: what works, what does not, and the fix.
    ///
    /// Reports the URL policy, DNS, TCP and TLS (certificate subject, issuer and expiry), the
    /// protocol era and transport chosen and why, the server's name, version, instructions,
    /// capabilities and the number of tools, resources and prompts, whether it needs
    /// authorization (and what its authorization server supports), what is stored for it,
    /// and host configuration entries to paste. Never opens a browser unless --login is
    /// given. Exits 0 when the server is usable, 1 otherwise.
    Check(Box<CheckArgs>),
    /// Import credentials another tool stored (mcp-remote's ~/.mcp-auth).
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// Where `import` reads from.
#[derive(Debug, Subcommand)]
pub(crate) enum ImportSource {
    /// Import the tokens and client registrations mcp-remote stored, without changing them.
    ///
    /// mcp-remote files each login under a hash of the URL (and of --header, --resource and
    /// a few other options) it was started with, so logins are found by URL: the ones given
    /// here, else the ones host configurations (Claude Desktop, Claude Code, Cursor,
    /// Windsurf, VS Code) run mcp-remote or mcp-bridge with, the servers mcp-bridge has used,
    /// and mcp-remote's debug logs. Logins no known URL matches are listed. Existing
    /// mcp-bridge credentials are kept unless --force is given.
    McpRemote(Box<ImportMcpRemoteArgs>),
}

/// Options of `import mcp-remote`.
#[derive(Debug, Args)]
pub(crate) struct ImportMcpRemoteArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,

    /// More server URLs to import.
    #[arg(value_name = "MORE_URLS", value_hint = ValueHint::Url, help_heading = "Import")]
    pub(crate) more_urls: Vec<String>,

    /// mcp-remote's directory (default: ~/.mcp-auth; mcp-remote's own MCP_REMOTE_CONFIG_DIR is honoured).
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath, env = env::MCP_REMOTE_CONFIG_DIR, help_heading = "Import")]
    pub(crate) config_dir: Option<PathBuf>,

    /// Say what would be imported, and store nothing.
    #[arg(long, help_heading = "Import")]
    pub(crate) dry_run: bool,

    /// Print JSON instead of sentences.
    #[arg(long, help_heading = "Import")]
    pub(crate) json: bool,

    /// Replace tokens and registrations mcp-bridge already has for the same server.
    #[arg(long, help_heading = "Import")]
    pub(crate) force: bool,
}

/// Options of `check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,

    /// Print one JSON document with every step instead of the report.
    #[arg(long, env = env::MCP_BRIDGE_CHECK_JSON, help_heading = "Check")]
    pub(crate) json: bool,

    /// List the names of the server's tools, resources and prompts too.
    #[arg(long, env = env::MCP_BRIDGE_CHECK_LIST, help_heading = "Check")]
    pub(crate) list: bool,

    /// Log in (in the browser) if the server needs it; without it, check never opens one.
    #[arg(long, env = env::MCP_BRIDGE_CHECK_LOGIN, help_heading = "Check")]
    pub(crate) login: bool,
}

/// Options for running the bridge (the default action).
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,

    /// Callback port for the browser login (mcp-remote's positional spelling of --callback-port).
    #[arg(
        value_name = "CALLBACK_PORT",
        conflicts_with = "callback_port",
        help_heading = "Compatibility"
    )]
    pub(crate) callback_port_positional: Option<u16>,

    /// Connect over HTTP+SSE to this URL (supergateway's `--sse`).
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url, conflicts_with_all = ["url", "streamable_http"], help_heading = "Transport and protocol")]
    pub(crate) sse: Option<String>,

    /// Connect over Streamable HTTP to this URL (supergateway's `--streamableHttp`).
    #[arg(long = "streamable-http", alias = "streamableHttp", value_name = "URL", value_hint = ValueHint::Url, conflicts_with = "url", help_heading = "Transport and protocol")]
    pub(crate) streamable_http: Option<String>,

    /// Hide tools whose names match PATTERN from the host (`*` matches any run of characters).
    ///
    /// Hidden tools are removed from tools/list answers, and calls to them are refused
    /// without reaching the server. Repeatable.
    #[arg(long, value_name = "PATTERN", help_heading = "Tools")]
    pub(crate) ignore_tool: Vec<String>,

    /// Largest single message accepted from the host or the server, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024, env = env::MCP_BRIDGE_MAX_MESSAGE_SIZE, help_heading = "Limits")]
    pub(crate) max_message_size: usize,

    /// Most requests from the host waiting for their answers at once; past it, stdin is not
    /// read until an answer arrives (nothing is dropped).
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..), env = env::MCP_BRIDGE_MAX_IN_FLIGHT, help_heading = "Limits")]
    pub(crate) max_in_flight: u32,

    /// Most bytes of host requests waiting for their answers at once (a single larger
    /// request still goes, alone); past it, stdin waits as with --max-in-flight. The same
    /// bound holds, separately, for the server's answers not yet written to stdout: past it
    /// the bridge stops reading them.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024, env = env::MCP_BRIDGE_MAX_BYTES_IN_FLIGHT, help_heading = "Limits")]
    pub(crate) max_bytes_in_flight: usize,

    /// Answer a request with an error if the server has not answered it within SECONDS
    /// (and tell the server it was cancelled). Default: wait as long as it takes, since tool
    /// calls may run long.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..), env = env::MCP_BRIDGE_REQUEST_TIMEOUT, help_heading = "Connection")]
    pub(crate) request_timeout: Option<u64>,

    /// Send the server a `ping` after SECONDS without a message either way, so that a load
    /// balancer does not drop an idle session (a failed ping is recovered like any lost
    /// session). Default: never.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..), env = env::MCP_BRIDGE_KEEPALIVE, help_heading = "Connection")]
    pub(crate) keepalive: Option<u64>,

    /// Accepted for supergateway compatibility; only `stdio` is supported.
    #[arg(long = "output-transport", alias = "outputTransport", hide = true, value_parser = ["stdio"])]
    pub(crate) output_transport: Option<String>,
}

/// Options that name a server and how to reach it; shared by every command that does.
#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// The remote MCP server URL, e.g. https://example.com/mcp.
    #[arg(value_hint = ValueHint::Url)]
    pub(crate) url: Option<String>,

    /// Which transport to use, and in what order to try them.
    #[arg(long, value_enum, default_value_t = Mode::HttpFirst, env = env::MCP_BRIDGE_TRANSPORT, help_heading = "Transport and protocol")]
    pub(crate) transport: Mode,

    /// Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one.
    #[arg(long, value_enum, default_value_t = Protocol::Auto, env = env::MCP_BRIDGE_PROTOCOL, help_heading = "Transport and protocol")]
    pub(crate) protocol: Protocol,

    /// Send an extra HTTP header, as 'Name: value'. Repeatable.
    ///
    /// `${VAR}` in the value is replaced by the environment variable VAR (an unset variable
    /// is an error). Values are never logged when the name suggests a credential.
    #[arg(
        short = 'H',
        long = "header",
        value_name = "NAME: VALUE",
        help_heading = "Connection"
    )]
    pub(crate) headers: Vec<String>,

    /// Read extra headers from a file of 'Name: value' lines (# starts a comment). Repeatable.
    ///
    /// Keeps secrets out of the command line; `${VAR}` expands as in --header.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, env = env::MCP_BRIDGE_HEADER_FILE, help_heading = "Connection")]
    pub(crate) header_file: Vec<PathBuf>,

    /// Send `Authorization: Bearer TOKEN` with every request to the server.
    ///
    /// Prefer the environment variable: a token on the command line is visible in `ps`.
    /// `${VAR}` expands as in --header.
    #[arg(long, alias = "oauth2Bearer", value_name = "TOKEN", env = env::MCP_BRIDGE_BEARER, hide_env_values = true, help_heading = "Authorization")]
    pub(crate) bearer: Option<String>,

    /// Take the bearer token from a helper's stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL.
    ///
    /// Split into words as a shell would, but run directly: no variables, globs or pipes.
    /// Its stderr is logged; its output, the token, never is.
    #[arg(long, value_name = "COMMAND", env = env::MCP_BRIDGE_BEARER_COMMAND, conflicts_with = "bearer", help_heading = "Authorization")]
    pub(crate) bearer_command: Option<String>,

    /// Seconds a token from --bearer-command is used before the helper runs again.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, env = env::MCP_BRIDGE_BEARER_COMMAND_TTL, help_heading = "Authorization")]
    pub(crate) bearer_command_ttl: u64,

    /// Allow plain http:// to a host other than this machine.
    #[arg(long, alias = "allowHttp", help_heading = "Connection")]
    pub(crate) allow_http: bool,

    /// Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, env = env::MCP_BRIDGE_CA_CERT, help_heading = "Connection")]
    pub(crate) ca_cert: Vec<PathBuf>,

    /// Seconds a TCP and TLS connection to the server (or authorization server) may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..), env = env::MCP_BRIDGE_CONNECT_TIMEOUT, help_heading = "Connection")]
    pub(crate) connect_timeout: u64,

    /// Keep no cookies from the server. By default the cookies it sets are kept for the run
    /// (never on disk, never sent to the authorization server), for load balancers that pin
    /// a session with one.
    #[arg(long, env = env::MCP_BRIDGE_NO_COOKIES, help_heading = "Connection")]
    pub(crate) no_cookies: bool,

    #[command(flatten)]
    pub(crate) oauth: OAuthArgs,
}

/// How to authorize when the server answers 401 (OAuth; not used with --bearer or an
/// Authorization header).
#[derive(Debug, Args)]
#[command(next_help_heading = "Authorization")]
pub(crate) struct OAuthArgs {
    /// Use this pre-registered OAuth client id instead of registering.
    #[arg(long, value_name = "ID", env = env::MCP_BRIDGE_CLIENT_ID)]
    pub(crate) client_id: Option<String>,

    /// The secret of the pre-registered client (prefer the environment variable).
    #[arg(long, value_name = "SECRET", env = env::MCP_BRIDGE_CLIENT_SECRET, hide_env_values = true, requires = "client_id")]
    pub(crate) client_secret: Option<String>,

    /// Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration).
    #[arg(long, requires = "client_id", env = env::MCP_BRIDGE_CLIENT_CREDENTIALS)]
    pub(crate) client_credentials: bool,

    /// The client's private key (PEM): the client authenticates with a signed JWT (private_key_jwt) instead of a secret, with --client-credentials or --jwt-bearer-file.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, env = env::MCP_BRIDGE_CLIENT_KEY, requires = "client_id", conflicts_with = "client_secret")]
    pub(crate) client_key: Option<PathBuf>,

    /// The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512).
    #[arg(long, value_name = "ALG", env = env::MCP_BRIDGE_CLIENT_KEY_ALG, requires = "client_key")]
    pub(crate) client_key_alg: Option<String>,

    /// Log in with the device authorization grant (RFC 8628): open the address shown, on any device, and approve the code; for machines with no browser.
    #[arg(long, env = env::MCP_BRIDGE_DEVICE_CODE, conflicts_with_all = ["client_credentials", "jwt_bearer_file", "id_token_file"])]
    pub(crate) device_code: bool,

    /// Authorize as a workload with the JWT-bearer grant (RFC 7523): the platform's identity token in FILE, read again for every token request.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, env = env::MCP_BRIDGE_JWT_BEARER_FILE, conflicts_with_all = ["client_credentials", "id_token_file"])]
    pub(crate) jwt_bearer_file: Option<PathBuf>,

    /// Enterprise SSO: exchange the OpenID Connect ID token in FILE at the identity provider for an ID-JAG and present it to the server's authorization server (needs --idp-client-id and --idp-issuer or --idp-token-endpoint).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, env = env::MCP_BRIDGE_ID_TOKEN_FILE, conflicts_with = "client_credentials", requires = "idp_client_id")]
    pub(crate) id_token_file: Option<PathBuf>,

    /// The identity provider's issuer, for --id-token-file (its metadata names its token endpoint).
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url, env = env::MCP_BRIDGE_IDP_ISSUER, requires = "id_token_file")]
    pub(crate) idp_issuer: Option<String>,

    /// The identity provider's token endpoint, for --id-token-file (instead of discovering it from --idp-issuer).
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url, env = env::MCP_BRIDGE_IDP_TOKEN_ENDPOINT, requires = "id_token_file")]
    pub(crate) idp_token_endpoint: Option<String>,

    /// The bridge's client id at the identity provider, for --id-token-file.
    #[arg(long, value_name = "ID", env = env::MCP_BRIDGE_IDP_CLIENT_ID)]
    pub(crate) idp_client_id: Option<String>,

    /// The secret of that client at the identity provider (prefer the environment variable).
    #[arg(long, value_name = "SECRET", env = env::MCP_BRIDGE_IDP_CLIENT_SECRET, hide_env_values = true, requires = "idp_client_id")]
    pub(crate) idp_client_secret: Option<String>,

    /// Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote).
    #[arg(
        long,
        alias = "staticOauthClientInfo",
        value_name = "JSON|@FILE",
        conflicts_with = "client_id"
    )]
    pub(crate) static_oauth_client_info: Option<String>,

    /// Extra client metadata for registration, as JSON or @FILE (mcp-remote).
    #[arg(long, alias = "staticOauthClientMetadata", value_name = "JSON|@FILE")]
    pub(crate) static_oauth_client_metadata: Option<String>,

    /// An https URL serving this client's Client ID Metadata Document, used as the client id
    /// where the authorization server supports such documents.
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub(crate) client_metadata_url: Option<String>,

    /// Scopes to request instead of the ones the server suggests (comma or space separated).
    #[arg(long, value_name = "SCOPES", value_delimiter = ',')]
    pub(crate) scope: Vec<String>,

    /// The resource (RFC 8707) to request tokens for, instead of the discovered one.
    #[arg(long, value_name = "URL")]
    pub(crate) resource: Option<String>,

    /// Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra).
    #[arg(long, alias = "disable-resource-parameter", conflicts_with = "resource", env = env::MCP_BRIDGE_NO_RESOURCE)]
    pub(crate) no_resource: bool,

    /// Never bind tokens to a DPoP key (RFC 9449), even where the authorization server offers it.
    #[arg(long, env = env::MCP_BRIDGE_NO_DPOP)]
    pub(crate) no_dpop: bool,

    /// An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`).
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) authorize_param: Vec<String>,

    /// Port of the loopback callback for the browser login (default: one derived from the server URL).
    #[arg(long, value_name = "PORT", env = env::MCP_BRIDGE_CALLBACK_PORT)]
    pub(crate) callback_port: Option<u16>,

    /// Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback).
    #[arg(long, value_name = "PATH", env = env::MCP_BRIDGE_CALLBACK_PATH)]
    pub(crate) callback_path: Option<String>,

    /// Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1.
    #[arg(long = "host", value_name = "HOST", default_value = "127.0.0.1", value_parser = ["127.0.0.1", "localhost"])]
    pub(crate) callback_host: String,

    /// Seconds to wait for the browser login to finish.
    #[arg(
        long,
        alias = "authTimeout",
        value_name = "SECONDS",
        default_value_t = 300
    )]
    pub(crate) auth_timeout: u64,

    /// Print the login URL instead of opening a browser.
    #[arg(long)]
    pub(crate) no_browser: bool,

    /// Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file).
    #[arg(long, value_enum, default_value_t = StoreChoice::Auto, env = env::MCP_BRIDGE_STORE)]
    pub(crate) store: StoreChoice,
}

/// How much to log (all logs go to stderr).
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// More logging (-v debug, -vv trace). RUST_LOG overrides every logging option.
    #[arg(short, long, action = ArgAction::Count, global = true, help_heading = "Logging")]
    pub(crate) verbose: u8,

    /// Less logging (-q: warnings and errors only, -qq: errors only).
    #[arg(short, long, action = ArgAction::Count, global = true, conflicts_with = "verbose", help_heading = "Logging")]
    pub(crate) quiet: u8,

    /// Set the log level outright (supergateway's `--logLevel`).
    #[arg(long, alias = "logLevel", value_enum, global = true, env = env::MCP_BRIDGE_LOG_LEVEL, help_heading = "Logging")]
    pub(crate) log_level: Option<LogLevel>,

    /// Same as --log-level debug (mcp-remote's `--debug`).
    #[arg(long, global = true, hide_short_help = true, help_heading = "Logging")]
    pub(crate) debug: bool,

    /// Same as --log-level none (mcp-remote's `--silent`).
    #[arg(long, global = true, hide_short_help = true, help_heading = "Logging")]
    pub(crate) silent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    /// No logs at all.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("mcp-bridge").chain(args.iter().copied()))
    }

    /// The definition passes clap's own consistency checks.
    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// A bare URL runs the bridge with the defaults.
    #[test]
    fn url_alone_runs() {
        let cli = parse(&["https://h/mcp"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.run.server.url.as_deref(), Some("https://h/mcp"));
        assert_eq!(cli.run.server.transport, Mode::HttpFirst);
        assert_eq!(cli.run.max_message_size, 16 * 1024 * 1024);
        assert_eq!(cli.run.max_in_flight, 256);
        assert_eq!(cli.run.max_bytes_in_flight, 64 * 1024 * 1024);
    }

    /// supergateway's spellings land in the canonical fields.
    #[test]
    fn supergateway_spellings() {
        let cli = parse(&[
            "--sse",
            "https://h/sse",
            "--oauth2Bearer",
            "t",
            "--header",
            "X-A: 1",
            "--logLevel",
            "debug",
            "--outputTransport",
            "stdio",
        ])
        .unwrap();
        assert_eq!(cli.run.sse.as_deref(), Some("https://h/sse"));
        assert_eq!(cli.run.server.bearer.as_deref(), Some("t"));
        assert_eq!(cli.run.server.headers, vec!["X-A: 1"]);
        assert_eq!(cli.log.log_level, Some(LogLevel::Debug));
        let cli = parse(&["--streamableHttp", "https://h/mcp", "--logLevel", "none"]).unwrap();
        assert_eq!(cli.run.streamable_http.as_deref(), Some("https://h/mcp"));
        assert_eq!(cli.log.log_level, Some(LogLevel::None));
        assert!(parse(&["--outputTransport", "sse", "--sse", "https://h"]).is_err());
    }

    /// mcp-remote's spellings land in the canonical fields.
    #[test]
    fn mcp_remote_spellings() {
        let cli = parse(&[
            "https://h/mcp",
            "--header",
            "Authorization:Bearer x",
            "--transport",
            "sse-only",
            "--allow-http",
            "--debug",
            "--ignore-tool",
            "delete*",
            "--ignore-tool",
            "x",
        ])
        .unwrap();
        assert_eq!(cli.run.server.transport, Mode::SseOnly);
        assert!(cli.run.server.allow_http && cli.log.debug);
        assert_eq!(cli.run.ignore_tool, vec!["delete*", "x"]);
        for t in ["http-first", "sse-first", "http-only", "sse-only"] {
            assert!(parse(&["https://h", "--transport", t]).is_ok(), "{t}");
        }
        assert!(parse(&["https://h", "--silent"]).unwrap().log.silent);
    }

    /// Conflicting ways of naming the server are usage errors.
    #[test]
    fn one_url_only() {
        assert!(parse(&["https://h", "--sse", "https://h/sse"]).is_err());
        assert!(parse(&["--sse", "https://a", "--streamableHttp", "https://b"]).is_err());
        assert!(parse(&["-v", "-q", "https://h"]).is_err());
    }

    /// Subcommands parse, and a URL is not mistaken for one.
    #[test]
    fn subcommands() {
        assert!(matches!(
            parse(&["completions", "bash"]).unwrap().command,
            Some(Command::Completions { .. })
        ));
        assert!(matches!(
            parse(&["logout", "--all"]).unwrap().command,
            Some(Command::Logout { all: true, .. })
        ));
        assert!(matches!(
            parse(&["status", "--json"]).unwrap().command,
            Some(Command::Status { json: true, .. })
        ));
        assert!(matches!(
            parse(&["login", "https://h"]).unwrap().command,
            Some(Command::Login(_))
        ));
        assert!(parse(&["logout", "https://h", "--all"]).is_err());
        let cli = parse(&[
            "check",
            "https://h/mcp",
            "--json",
            "--list",
            "--login",
            "--bearer",
            "t",
            "--transport",
            "sse-only",
            "--ca-cert",
            "ca.pem",
        ])
        .unwrap();
        let Some(Command::Check(args)) = cli.command else {
            panic!("check")
        };
        assert!(args.json && args.list && args.login);
        assert_eq!(args.server.url.as_deref(), Some("https://h/mcp"));
        assert_eq!(args.server.bearer.as_deref(), Some("t"));
        assert_eq!(args.server.transport, Mode::SseOnly);
        assert_eq!(args.server.ca_cert, [PathBuf::from("ca.pem")]);
        let Some(Command::Check(args)) = parse(&["check", "https://h"]).unwrap().command else {
            panic!("check")
        };
        assert!(!args.json && !args.list && !args.login);
        let cli = parse(&[
            "import",
            "mcp-remote",
            "https://a/mcp",
            "https://b/mcp",
            "--config-dir",
            "/x",
            "--dry-run",
            "--json",
            "--force",
            "--store",
            "file",
        ])
        .unwrap();
        let Some(Command::Import {
            source: ImportSource::McpRemote(args),
        }) = cli.command
        else {
            panic!("import")
        };
        assert_eq!(args.server.url.as_deref(), Some("https://a/mcp"));
        assert_eq!(args.more_urls, ["https://b/mcp"]);
        assert_eq!(args.config_dir, Some(PathBuf::from("/x")));
        assert!(args.dry_run && args.json && args.force);
        assert_eq!(args.server.oauth.store, StoreChoice::File);
        assert!(parse(&["import", "mcp-remote"]).is_ok());
    }

    /// OAuth options, including mcp-remote's spellings and its positional callback port.
    #[test]
    fn oauth_options() {
        let cli = parse(&[
            "https://h/mcp",
            "3334",
            "--host",
            "localhost",
            "--resource",
            "https://h/mcp",
            "--auth-timeout",
            "60",
            "--static-oauth-client-info",
            "{\"client_id\":\"c\"}",
            "--scope",
            "a,b",
            "--store",
            "file",
            "--no-browser",
        ])
        .unwrap();
        assert_eq!(cli.run.callback_port_positional, Some(3334));
        let o = &cli.run.server.oauth;
        assert_eq!(
            (o.callback_host.as_str(), o.auth_timeout, o.no_browser),
            ("localhost", 60, true)
        );
        assert_eq!(o.scope, vec!["a", "b"]);
        assert_eq!(o.store, StoreChoice::File);
        assert!(parse(&["https://h", "--host", "example.com"]).is_err());
        assert!(
            parse(&["https://h", "--client-secret", "s"]).is_err(),
            "a secret needs a client id"
        );
        assert!(parse(&["https://h", "1", "--callback-port", "2"]).is_err());
        let cli = parse(&[
            "login",
            "https://h",
            "--client-id",
            "c",
            "--callback-port",
            "9999",
        ])
        .unwrap();
        let Some(Command::Login(args)) = cli.command else {
            panic!("login")
        };
        assert_eq!(args.oauth.client_id.as_deref(), Some("c"));
    }

    /// Network options, from flags and from their variables.
    #[test]
    fn network_options() {
        let cli = parse(&["https://h"]).unwrap();
        assert_eq!(cli.run.server.connect_timeout, 30);
        assert!(!cli.run.server.no_cookies);
        assert_eq!((cli.run.request_timeout, cli.run.keepalive), (None, None));
        let cli = parse(&[
            "https://h",
            "--connect-timeout",
            "5",
            "--request-timeout",
            "120",
            "--keepalive",
            "45",
            "--no-cookies",
        ])
        .unwrap();
        assert_eq!(cli.run.server.connect_timeout, 5);
        assert!(cli.run.server.no_cookies);
        assert_eq!(
            (cli.run.request_timeout, cli.run.keepalive),
            (Some(120), Some(45))
        );
        for zero in ["--connect-timeout", "--request-timeout", "--keepalive"] {
            assert!(parse(&["https://h", zero, "0"]).is_err(), "{zero} 0");
        }
        let cli = parse(&[
            "login",
            "https://h",
            "--connect-timeout",
            "3",
            "--no-cookies",
        ])
        .unwrap();
        let Some(Command::Login(args)) = cli.command else {
            panic!("login")
        };
        assert_eq!((args.connect_timeout, args.no_cookies), (3, true));
        assert!(parse(&["login", "https://h", "--keepalive", "3"]).is_err());
    }

    /// Repeatable options collect every value.
    #[test]
    fn repeatable_options() {
        let cli = parse(&[
            "https://h",
            "-H",
            "A: 1",
            "-H",
            "B: 2",
            "--header-file",
            "f1",
            "--ca-cert",
            "c1",
            "--ca-cert",
            "c2",
        ])
        .unwrap();
        assert_eq!(cli.run.server.headers.len(), 2);
        assert_eq!(cli.run.server.header_file.len(), 1);
        assert_eq!(cli.run.server.ca_cert.len(), 2);
    }

    /// `man/mcp-bridge.1` is generated from this CLI; it must match it.
    /// `UPDATE_MAN=1 cargo test man_page_is_current` regenerates it.
    #[test]
    fn man_page_is_current() {
        use clap::CommandFactory;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/mcp-bridge.1");
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .expect("the man page renders");
        if std::env::var_os("UPDATE_MAN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &page).unwrap();
        }
        let stored = std::fs::read(&path).unwrap_or_default();
        assert!(
            stored == page,
            "{} is stale; regenerate with UPDATE_MAN=1 cargo test man_page_is_current",
            path.display()
        );
    }
}
