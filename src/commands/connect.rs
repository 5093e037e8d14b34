//! Turning the options that name a server into a checked connection: the URL policy, the
//! user's headers and token, the trusted roots, and the OAuth client when no static
//! credentials were given. Shared by every command that talks to a server.

use crate::auth::assertion::ClientKey;
use crate::auth::bearer_command::BearerCommand;
use crate::auth::grant::{Enterprise, Grant};
use crate::auth::registration::ClientIdentity;
use crate::auth::{AuthOptions, Credentials, OAuth, authorize_param, browser, callback};
use crate::cli::{OAuthArgs, ServerArgs};
use crate::exit::usage;
use crate::headers::{self, Header};
use crate::jsonrpc::{Id, Message};
use crate::net;
use crate::secret::Secret;
use crate::store;
use crate::transport::{Http, Limits};
use crate::upstream::{Inbound, Upstream};
use crate::{endpoint, env};
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

/// What the options say about reaching the server.
pub(crate) struct Connection {
    pub(crate) http: Arc<Http>,
    /// The OAuth client, when requests are authorized with OAuth.
    pub(crate) oauth: Option<Arc<OAuth>>,
}

/// When a browser login may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginPolicy {
    /// When the server's challenge needs one (the bridge).
    AsNeeded,
    /// At the first challenge, whatever is stored (`login`).
    Fresh,
    /// Never: a challenge that needs one fails (`check` without `--login`).
    Never,
}

/// Checks the URL and builds everything needed to make requests to the server. `cancel`
/// stops a login in progress; `login` says when a browser login may run.
pub(crate) fn connection(
    server: &ServerArgs,
    url_text: &str,
    limits: Limits,
    callback_port: Option<u16>,
    cancel: &CancellationToken,
    login: LoginPolicy,
) -> anyhow::Result<Connection> {
    let url = Url::parse(url_text)
        .map_err(|e| usage(anyhow::anyhow!("{url_text:?} is not a valid URL: {e}")))?;
    endpoint::check_server_url(&url, server.allow_http).map_err(usage)?;

    let lookup = |name: &str| std::env::var(name).ok();
    let mut extra: Vec<Header> = Vec::new();
    for spec in &server.headers {
        extra.push(headers::parse_header(spec, &lookup).map_err(usage)?);
    }
    for path in &server.header_file {
        extra.extend(headers::read_header_file(path, &lookup).map_err(usage)?);
    }
    let bearer = match &server.bearer {
        Some(token) => Some(bearer_token(token, &lookup)?),
        None => None,
    };
    let authorization_header = extra
        .iter()
        .any(|h| h.name == reqwest::header::AUTHORIZATION);
    if bearer.is_some() && authorization_header {
        return Err(usage(anyhow::anyhow!(
            "both --bearer and an Authorization header were given; use one"
        )));
    }
    let command = match &server.bearer_command {
        Some(_) if authorization_header => {
            return Err(usage(anyhow::anyhow!(
                "both --bearer-command and an Authorization header were given; use one"
            )));
        }
        Some(line) => Some(
            BearerCommand::parse(line, Duration::from_secs(server.bearer_command_ttl.max(1)))
                .map_err(|e| usage(anyhow::anyhow!(e)))?,
        ),
        None => None,
    };

    let settings = net_settings(server)?;
    let oauth = if bearer.is_some() || command.is_some() || authorization_header {
        None
    } else {
        let mut options = auth_options(&server.oauth, callback_port)?;
        options.fresh_login = login == LoginPolicy::Fresh;
        options.interactive = login != LoginPolicy::Never;
        // `login --no-browser` on a terminal also takes the redirect address pasted there;
        // the bridge's stdin is the protocol's, never read for this.
        options.paste = login == LoginPolicy::Fresh
            && server.oauth.no_browser
            && std::io::IsTerminal::is_terminal(&std::io::stdin());
        let config_dir = store::config_dir().context("cannot find a directory for credentials")?;
        Some(OAuth::new(
            url.clone(),
            options,
            Arc::new(net::Client::oauth(settings.clone())),
            config_dir,
            cancel.clone(),
        ))
    };
    tracing::debug!(
        url = %endpoint::for_log(&url),
        headers = ?extra.iter().map(|h| headers::describe(h.name.as_str(), h.value.expose())).collect::<Vec<_>>(),
        bearer = bearer.is_some(),
        bearer_command = ?command,
        "server"
    );
    let mut credentials = Credentials::new(url.clone(), extra, bearer, oauth.clone());
    if let Some(command) = command {
        credentials = credentials.with_command(command);
    }
    let http = Http::new(net::Client::streaming(settings), url, credentials, limits);
    Ok(Connection {
        http: Arc::new(http),
        oauth,
    })
}

/// The HTTP client settings the options ask for: trusted roots, connect timeout, cookies.
pub(crate) fn net_settings(server: &ServerArgs) -> anyhow::Result<net::Settings> {
    let mut ca_certs = server.ca_cert.clone();
    if let Some(file) = std::env::var_os(env::SSL_CERT_FILE).filter(|f| !f.is_empty()) {
        ca_certs.push(file.into());
    }
    Ok(net::Settings {
        tls: net::TlsConfig::from_files(&ca_certs)?,
        connect_timeout: Duration::from_secs(server.connect_timeout),
        cookies: !server.no_cookies,
    })
}

/// The static token from `--bearer`, with `${VAR}` expanded and a `Bearer ` prefix dropped.
fn bearer_token(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Secret> {
    let token = headers::expand_vars(text.trim(), lookup)
        .context("in the bearer token")
        .map_err(usage)?;
    let token = token
        .strip_prefix("Bearer ")
        .unwrap_or(&token)
        .trim()
        .to_owned();
    if token.is_empty() || reqwest::header::HeaderValue::from_str(&token).is_err() {
        return Err(usage(anyhow::anyhow!(
            "the bearer token is empty or has characters not allowed in a header"
        )));
    }
    Ok(Secret::new(token))
}

/// Turns the OAuth options into the authorization settings (usage errors exit 2).
fn auth_options(args: &OAuthArgs, callback_port: Option<u16>) -> anyhow::Result<AuthOptions> {
    let mut client = ClientIdentity {
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone().map(Secret::new),
        ..ClientIdentity::default()
    };
    if let Some(info) = &args.static_oauth_client_info {
        let info = json_or_file(info, "--static-oauth-client-info")?;
        let field = |name: &str| info.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        client.client_id = Some(field("client_id").ok_or_else(|| {
            usage(anyhow::anyhow!(
                "--static-oauth-client-info needs a \"client_id\""
            ))
        })?);
        client.client_secret = field("client_secret").map(Secret::new);
        client.auth_method = field("token_endpoint_auth_method");
    }
    if let Some(meta) = &args.static_oauth_client_metadata {
        client.extra_metadata = Some(json_or_file(meta, "--static-oauth-client-metadata")?);
    }
    if let Some(url) = &args.client_metadata_url {
        let url = Url::parse(url)
            .map_err(|e| usage(anyhow::anyhow!("--client-metadata-url {url:?}: {e}")))?;
        if url.scheme() != "https" || url.path() == "/" {
            return Err(usage(anyhow::anyhow!(
                "--client-metadata-url must be an https URL with a path"
            )));
        }
        client.metadata_url = Some(url);
    }
    client.device_grant = args.device_code;
    if let Some(path) = &args.client_key {
        let key = ClientKey::load(path, args.client_key_alg.as_deref())
            .map_err(|e| usage(anyhow::anyhow!(e)))?;
        client.key = Some(Arc::new(key));
    }
    if args.client_credentials && client.client_secret.is_none() && client.key.is_none() {
        return Err(usage(anyhow::anyhow!(
            "--client-credentials needs the client's secret (--client-secret or MCP_BRIDGE_CLIENT_SECRET) or its key (--client-key)"
        )));
    }
    let scopes: Vec<String> = args
        .scope
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_owned)
        .collect();
    Ok(AuthOptions {
        store: args.store,
        client,
        scopes: (!scopes.is_empty()).then_some(scopes),
        resource: args.resource.clone(),
        send_resource: !args.no_resource,
        dpop: !args.no_dpop,
        authorize_params: args
            .authorize_param
            .iter()
            .map(|p| authorize_param(p).map_err(|e| usage(anyhow::anyhow!(e))))
            .collect::<anyhow::Result<_>>()?,
        callback_port,
        callback_path: match &args.callback_path {
            Some(path) => {
                callback::check_path(path).map_err(|e| usage(anyhow::anyhow!(e)))?;
                path.clone()
            }
            None => callback::CALLBACK_PATH.to_owned(),
        },
        callback_host: args.callback_host.clone(),
        timeout: Duration::from_secs(args.auth_timeout.max(1)),
        launcher: browser::launcher_from_env(args.no_browser),
        fresh_login: false,
        grant: grant(args)?,
        paste: false,
        interactive: true,
    })
}

/// The grant the options ask for: a browser login unless one of the service grants.
fn grant(args: &OAuthArgs) -> anyhow::Result<Grant> {
    let url = |value: &Option<String>, flag: &str| -> anyhow::Result<Option<Url>> {
        value
            .as_deref()
            .map(|v| Url::parse(v).map_err(|e| usage(anyhow::anyhow!("{flag} {v:?}: {e}"))))
            .transpose()
    };
    if let Some(file) = &args.id_token_file {
        url(&args.idp_issuer, "--idp-issuer")?;
        let idp_issuer = args.idp_issuer.clone();
        let idp_token_endpoint = url(&args.idp_token_endpoint, "--idp-token-endpoint")?;
        if idp_issuer.is_none() && idp_token_endpoint.is_none() {
            return Err(usage(anyhow::anyhow!(
                "--id-token-file needs --idp-issuer or --idp-token-endpoint"
            )));
        }
        return Ok(Grant::Enterprise(Box::new(Enterprise {
            id_token_file: file.clone(),
            idp_issuer,
            idp_token_endpoint,
            idp_client_id: args.idp_client_id.clone().unwrap_or_default(),
            idp_client_secret: args.idp_client_secret.clone().map(Secret::new),
        })));
    }
    if let Some(file) = &args.jwt_bearer_file {
        return Ok(Grant::JwtBearer {
            assertion_file: file.clone(),
        });
    }
    if args.client_credentials {
        return Ok(Grant::ClientCredentials);
    }
    if args.device_code {
        return Ok(Grant::DeviceCode);
    }
    if args.client_key.is_some() {
        return Err(usage(anyhow::anyhow!(
            "--client-key is for --client-credentials or --jwt-bearer-file"
        )));
    }
    Ok(Grant::Browser)
}

/// Reads a JSON object given inline or as `@FILE`.
fn json_or_file(
    value: &str,
    flag: &str,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let text = match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("failed to read {flag} file {path}"))
            .map_err(usage)?,
        None => value.to_owned(),
    };
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(usage(anyhow::anyhow!("{flag} must be a JSON object"))),
        Err(e) => Err(usage(anyhow::anyhow!("{flag} is not valid JSON: {e}"))),
    }
}

/// The `initialize` parameters of a host named mcp-bridge (for commands that talk to the
/// server themselves).
pub(crate) fn initialize_params() -> serde_json::Value {
    serde_json::json!({
        "protocolVersion": crate::mcp::LATEST_LEGACY_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "mcp-bridge", "version": env!("CARGO_PKG_VERSION")},
    })
}

/// Sends a request through `era` as a host would and waits for its answer (other messages
/// from the server are passed over).
pub(crate) async fn request(
    era: &mut impl Upstream,
    inbound: &mut impl Inbound,
    id: &Id,
    method: &str,
    params: Option<&serde_json::Value>,
) -> anyhow::Result<Message> {
    era.send(Message::request(id, method, params))
        .await
        .map_err(anyhow::Error::new)
        .context("could not connect to the server")?;
    loop {
        match inbound.recv().await {
            Some(msg) if msg.is_response() && msg.id() == Some(id) => return Ok(msg),
            Some(_) => continue,
            None => anyhow::bail!("the connection ended before the server answered"),
        }
    }
}
