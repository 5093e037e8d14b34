//! `MockOAuth`: a scriptable OAuth authorization server on 127.0.0.1:0 for end-to-end
//! authorization tests, plus the protected-resource side of an MCP server (its metadata and a
//! token check in front of `MockMcp`), and `AuthEnv`, the environment a bridge needs for a
//! browser login (a credentials directory and a "browser" program that follows the
//! authorization URL and logs each launch).
//!
//! Everything is recorded, so tests can assert exactly what the bridge sent where, and the
//! server checks what a strict server would: PKCE S256, client authentication by the method
//! the client registered, `resource`, redirect URI, grant types, refresh-token rotation.
//! Misbehaviour is scripted through [`Script`], which tests may change between requests.

use super::mock::{Config, Gate, MockMcp};
use axum::http::{HeaderMap, Method};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

mod endpoints;
mod host;

pub use endpoints::{Proof, s256};
use endpoints::{gate, router};
pub use host::{AuthEnv, Browse, Spy, free_port, port_is_free};

/// Where the Protected Resource Metadata is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrmAt {
    /// At a URL of the authorization server's origin that the 401 challenge names in
    /// `resource_metadata` (and nowhere else).
    Header,
    /// `/.well-known/oauth-protected-resource/mcp` on the MCP server.
    PathAware,
    /// `/.well-known/oauth-protected-resource` on the MCP server.
    Root,
}

/// Where the authorization server metadata is published (relative to the issuer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaAt {
    /// RFC 8414: `/.well-known/oauth-authorization-server{issuer path}`.
    Oauth,
    /// OpenID Connect, path inserted: `/.well-known/openid-configuration{issuer path}`.
    OidcInserted,
    /// OpenID Connect, path appended: `{issuer path}/.well-known/openid-configuration`.
    OidcAppended,
}

/// The `iss` the authorization response carries (RFC 9207).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Iss {
    Correct,
    Wrong,
    Absent,
}

/// How the servers behave; change it with [`MockOAuth::script`] at any time.
#[derive(Debug, Clone)]
pub struct Script {
    /// The authorization server lives at the MCP server's origin (the 2025-03-26 layout).
    pub cohost: bool,
    /// The issuer's path ("" or "/tenant1").
    pub issuer_path: String,
    /// Prefix of the endpoints' paths ("" gives /authorize, /token, ...).
    pub endpoint_prefix: String,
    /// Where the metadata is served; empty: nowhere.
    pub metadata_at: Vec<MetaAt>,
    /// Members replacing (or, when `null`, removing) those of the default metadata.
    pub metadata_patch: Map<String, Value>,
    /// Where the PRM is served; empty: nowhere.
    pub prm_at: Vec<PrmAt>,
    /// Members replacing (or, when `null`, removing) those of the default PRM.
    pub prm_patch: Map<String, Value>,
    /// `scope` in the 401 challenge.
    pub challenge_scope: Option<String>,
    pub iss: Iss,
    /// The authorization response carries another `state`.
    pub wrong_state: bool,
    /// The authorization response is this `error` instead of a code.
    pub authorize_error: Option<String>,
    /// `expires_in` of issued access tokens.
    pub expires_in: Option<u64>,
    pub issue_refresh: bool,
    /// A refresh invalidates the refresh token used and issues a new one.
    pub rotate_refresh: bool,
    /// Every refresh fails with this error code.
    pub refresh_error: Option<String>,
    /// The token endpoint answers 307 to this URL.
    pub token_redirect: Option<String>,
    /// `tools/call` needs these scopes (space separated); else 403 insufficient_scope.
    pub needs_scope: Option<String>,
    /// `tools/call` always gets 403 insufficient_scope.
    pub always_403: bool,
    /// The MCP server answers 401 whatever the token (a broken resource server).
    pub always_401: bool,
    /// The token endpoint rejects every client (invalid_client).
    pub reject_clients: bool,
    /// Appended to every access token issued (a broken or hostile server: a CRLF, say).
    pub token_suffix: String,
    /// How long /authorize takes to answer (a user taking their time).
    pub authorize_delay: Duration,
    /// Like Microsoft Entra: a request with RFC 8707 `resource` is refused
    /// (`invalid_target`), one without it is served.
    pub refuses_resource: bool,
    /// RFC 8628: how long device codes live, and whether the first poll is told to slow
    /// down.
    pub device_lifetime: Duration,
    pub device_slow_down: bool,
    /// Registration refuses any `scope` (`invalid_client_metadata`).
    pub register_refuses_scope: bool,
    /// DPoP (RFC 9449): a nonce both servers insist on (`use_dpop_nonce` until a proof
    /// carries it).
    pub dpop_nonce: Option<String>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            cohost: false,
            issuer_path: String::new(),
            endpoint_prefix: String::new(),
            metadata_at: vec![MetaAt::Oauth],
            metadata_patch: Map::new(),
            prm_at: vec![PrmAt::PathAware],
            prm_patch: Map::new(),
            challenge_scope: None,
            iss: Iss::Correct,
            wrong_state: false,
            authorize_error: None,
            expires_in: Some(3600),
            issue_refresh: true,
            rotate_refresh: true,
            refresh_error: None,
            token_redirect: None,
            needs_scope: None,
            always_403: false,
            always_401: false,
            reject_clients: false,
            token_suffix: String::new(),
            authorize_delay: Duration::ZERO,
            refuses_resource: false,
            dpop_nonce: None,
            device_lifetime: Duration::from_secs(600),
            device_slow_down: false,
            register_refuses_scope: false,
        }
    }
}

impl Script {
    /// Sets metadata members (`null` removes one).
    pub fn meta(mut self, patch: Value) -> Self {
        self.metadata_patch
            .extend(patch.as_object().expect("a JSON object").clone());
        self
    }

    /// Sets PRM members (`null` removes one).
    pub fn prm(mut self, patch: Value) -> Self {
        self.prm_patch
            .extend(patch.as_object().expect("a JSON object").clone());
        self
    }
}

/// Which listener a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The authorization server's own origin.
    As,
    /// The MCP server's origin (paths `MockMcp` does not serve itself).
    Mcp,
}

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub side: Side,
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    /// The query (GET) or the form body (POST), decoded.
    pub params: HashMap<String, String>,
    /// The raw body.
    pub body: String,
    /// What the mock answered, in a few words ("ok", "invalid_grant", "404", ...).
    pub outcome: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone)]
struct Client {
    secret: Option<String>,
    method: String,
}

#[derive(Debug, Clone)]
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    resource: Option<String>,
    scope: Option<String>,
}

#[derive(Debug, Clone)]
struct Access {
    scope: Vec<String>,
    expires_at: Option<Instant>,
    valid: bool,
    /// The thumbprint of the DPoP key the token is bound to, if it is.
    jkt: Option<String>,
}

#[derive(Debug, Clone)]
struct Device {
    client_id: String,
    scope: Option<String>,
    approved: Option<bool>,
    expires_at: Instant,
}

#[derive(Debug, Clone)]
struct Refresh {
    client_id: String,
    scope: Option<String>,
    valid: bool,
}

#[derive(Default)]
struct Db {
    clients: HashMap<String, Client>,
    codes: HashMap<String, Code>,
    /// Device codes (RFC 8628) and whether the person approved (`None`: not yet).
    devices: HashMap<String, Device>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    next: u64,
}

struct Shared {
    script: Mutex<Script>,
    log: Mutex<Vec<Seen>>,
    db: Mutex<Db>,
    as_origin: String,
    mcp_origin: String,
    /// Authorization headers the MCP server received, in order.
    mcp_auth: Mutex<Vec<Option<String>>>,
    /// Statuses the MCP gate answered with (401, 403).
    mcp_refusals: Mutex<Vec<u16>>,
    /// Another authorization server whose tokens (only) the MCP server accepts now.
    migrated_to: Mutex<Option<Arc<Shared>>>,
}

impl Shared {
    /// The origin the authorization server lives at.
    fn base(&self, script: &Script) -> String {
        if script.cohost {
            self.mcp_origin.clone()
        } else {
            self.as_origin.clone()
        }
    }

    fn issuer(&self, script: &Script) -> String {
        format!("{}{}", self.base(script), script.issuer_path)
    }

    fn endpoint(&self, script: &Script, name: &str) -> String {
        format!("{}{}/{name}", self.base(script), script.endpoint_prefix)
    }

    fn metadata(&self, script: &Script) -> Value {
        let mut doc = json!({
            "issuer": self.issuer(script),
            "authorization_endpoint": self.endpoint(script, "authorize"),
            "token_endpoint": self.endpoint(script, "token"),
            "registration_endpoint": self.endpoint(script, "register"),
            "revocation_endpoint": self.endpoint(script, "revoke"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
        });
        patch(&mut doc, &script.metadata_patch);
        doc
    }

    fn prm(&self, script: &Script) -> Value {
        let mut doc = json!({
            "resource": format!("{}/mcp", self.mcp_origin),
            "authorization_servers": [self.issuer(script)],
        });
        patch(&mut doc, &script.prm_patch);
        doc
    }

    fn challenge(&self, script: &Script, error: Option<&str>, scope: Option<&str>) -> String {
        let mut c = String::from("Bearer realm=\"mock\"");
        if let Some(e) = error {
            c.push_str(&format!(", error=\"{e}\""));
        }
        if let Some(s) = scope {
            c.push_str(&format!(", scope=\"{s}\""));
        }
        if script.prm_at.contains(&PrmAt::Header) {
            c.push_str(&format!(
                ", resource_metadata=\"{}{CUSTOM_PRM}\"",
                self.as_origin
            ));
        }
        c
    }
}

/// The PRM path on the authorization server's origin that challenges point at.
const CUSTOM_PRM: &str = "/meta/custom-prm.json";

fn patch(doc: &mut Value, with: &Map<String, Value>) {
    let obj = doc.as_object_mut().expect("documents are objects");
    for (k, v) in with {
        if v.is_null() {
            obj.remove(k);
        } else {
            obj.insert(k.clone(), v.clone());
        }
    }
}

/// The authorization server, and the resource-server side of `mcp`.
pub struct MockOAuth {
    state: Arc<Shared>,
    _shutdown: oneshot::Sender<()>,
}

impl MockOAuth {
    /// Starts the authorization server and an MCP server that requires its tokens.
    pub async fn start(script: Script) -> (MockOAuth, MockMcp) {
        Self::start_with(script, Config::default()).await
    }

    /// As [`MockOAuth::start`], with the MCP server's configuration given.
    pub async fn start_with(script: Script, config: Config) -> (MockOAuth, MockMcp) {
        let mcp_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let as_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let mcp_addr = mcp_listener.local_addr().expect("bound");
        let addr = as_listener.local_addr().expect("bound");
        let state = Arc::new(Shared {
            script: Mutex::new(script),
            log: Mutex::default(),
            db: Mutex::default(),
            as_origin: format!("http://{addr}"),
            mcp_origin: format!("http://{mcp_addr}"),
            mcp_auth: Mutex::default(),
            mcp_refusals: Mutex::default(),
            migrated_to: Mutex::default(),
        });
        let gate_state = state.clone();
        let config = Config {
            gate: Some(Gate(Arc::new(move |headers, body| {
                gate(&gate_state, headers, body)
            }))),
            fallback: Some(router(state.clone(), Side::Mcp)),
            ..config
        };
        let mcp = MockMcp::start_on(mcp_listener, config);
        let (tx, rx) = oneshot::channel::<()>();
        let app = router(state.clone(), Side::As);
        tokio::spawn(async move {
            let _ = axum::serve(as_listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        let oauth = MockOAuth {
            state,
            _shutdown: tx,
        };
        (oauth, mcp)
    }

    /// The person at the device approves (or denies) every code waiting.
    pub fn decide_devices(&self, approve: bool) {
        for d in self.state.db.lock().unwrap().devices.values_mut() {
            d.approved.get_or_insert(approve);
        }
    }

    /// Changes the script.
    pub fn script(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.state.script.lock().unwrap());
    }

    /// The issuer identifier as the metadata states it.
    pub fn issuer(&self) -> String {
        let script = self.state.script.lock().unwrap();
        self.state.issuer(&script)
    }

    /// `http://127.0.0.1:<port>` of the authorization server.
    pub fn origin(&self) -> String {
        self.state.as_origin.clone()
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Seen> {
        self.state.log.lock().unwrap().clone()
    }

    /// Requests whose path ends with `suffix` (`"/token"`, say).
    pub fn hits(&self, suffix: &str) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|s| s.path.ends_with(suffix))
            .collect()
    }

    /// Token requests of this grant type.
    pub fn grants(&self, grant_type: &str) -> Vec<Seen> {
        self.hits("/token")
            .into_iter()
            .filter(|s| s.param("grant_type") == Some(grant_type))
            .collect()
    }

    /// The paths of every GET, in order (discovery).
    pub fn gets(&self) -> Vec<(Side, String)> {
        self.requests()
            .into_iter()
            .filter(|s| s.method == Method::GET)
            .map(|s| (s.side, s.path))
            .collect()
    }

    /// Pre-registers a client.
    pub fn add_client(&self, id: &str, secret: Option<&str>, method: &str) {
        self.state.db.lock().unwrap().clients.insert(
            id.to_owned(),
            Client {
                secret: secret.map(str::to_owned),
                method: method.to_owned(),
            },
        );
    }

    /// Issues an access token and a refresh token to `client_id` as if it had logged in
    /// elsewhere (another tool's login, for `import`): returns (access, refresh).
    pub fn mint(&self, client_id: &str, scope: &str) -> (String, String) {
        let mut db = self.state.db.lock().unwrap();
        db.next += 1;
        let n = db.next;
        let (access, refresh) = (format!("at-minted-{n}"), format!("rt-minted-{n}"));
        db.access.insert(
            access.clone(),
            Access {
                scope: scope.split_whitespace().map(str::to_owned).collect(),
                expires_at: Instant::now().checked_add(Duration::from_secs(3600)),
                valid: true,
                jkt: None,
            },
        );
        db.refresh.insert(
            refresh.clone(),
            Refresh {
                client_id: client_id.to_owned(),
                scope: Some(scope.to_owned()),
                valid: true,
            },
        );
        (access, refresh)
    }

    /// Moves the MCP server to `other`'s authorization server: its PRM names that issuer and
    /// only that server's tokens are accepted from now on.
    pub fn migrate_to(&self, other: &MockOAuth) {
        let issuer = other.issuer();
        self.script(|s| {
            s.prm_patch
                .insert("authorization_servers".into(), json!([issuer]));
        });
        *self.state.migrated_to.lock().unwrap() = Some(other.state.clone());
    }

    /// Forgets every registered client (a server that lost its database).
    pub fn forget_clients(&self) {
        self.state.db.lock().unwrap().clients.clear();
    }

    /// Invalidates every access token (the server revoked them; refresh tokens stay good).
    pub fn invalidate_access(&self) {
        for a in self.state.db.lock().unwrap().access.values_mut() {
            a.valid = false;
        }
    }

    /// Invalidates every token, refresh tokens included.
    pub fn invalidate_all(&self) {
        let mut db = self.state.db.lock().unwrap();
        for a in db.access.values_mut() {
            a.valid = false;
        }
        for r in db.refresh.values_mut() {
            r.valid = false;
        }
    }

    /// Every token value issued so far (access and refresh).
    pub fn issued_tokens(&self) -> Vec<String> {
        let db = self.state.db.lock().unwrap();
        db.access.keys().chain(db.refresh.keys()).cloned().collect()
    }

    /// The Authorization headers the MCP server received.
    pub fn mcp_authorizations(&self) -> Vec<Option<String>> {
        self.state.mcp_auth.lock().unwrap().clone()
    }

    /// The statuses the MCP server refused requests with.
    pub fn mcp_refusals(&self) -> Vec<u16> {
        self.state.mcp_refusals.lock().unwrap().clone()
    }

    /// Asserts that no request to the authorization server or to the metadata beside the MCP
    /// server carried a bearer token (or any issued token anywhere in it).
    pub fn assert_no_token_leak(&self) {
        let issued = self.issued_tokens();
        for s in self.requests() {
            let auth = s.header("authorization").unwrap_or("");
            assert!(
                !auth.to_ascii_lowercase().starts_with("bearer"),
                "a bearer token reached {} {}",
                s.method,
                s.path
            );
            for t in issued.iter().filter(|t| t.starts_with("at-")) {
                assert!(
                    !auth.contains(t.as_str())
                        && !s.path.contains(t.as_str())
                        && !s.body.contains(t.as_str())
                        || s.path.ends_with("/revoke"),
                    "access token {t} reached {} {}",
                    s.method,
                    s.path
                );
            }
        }
    }
}

impl Drop for MockOAuth {
    /// Whatever else a test checks: no token went where it does not belong.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_no_token_leak();
        }
    }
}
