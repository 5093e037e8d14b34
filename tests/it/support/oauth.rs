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
use super::{Bridge, WAIT};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

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

fn router(state: Arc<Shared>, side: Side) -> Router {
    Router::new().fallback(handle).with_state((state, side))
}

fn record(state: &Shared, seen: Seen) {
    state.log.lock().unwrap().push(seen);
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({"error": error}))).into_response()
}

async fn handle(
    State((state, side)): State<(Arc<Shared>, Side)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    let raw = if method == Method::GET {
        uri.query().unwrap_or("").to_owned()
    } else {
        body.clone()
    };
    let params: HashMap<String, String> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let path = uri.path().to_owned();
    let mut seen = Seen {
        side,
        method: method.clone(),
        path: path.clone(),
        headers: headers.clone(),
        params,
        body,
        outcome: String::new(),
    };
    let (resp, outcome) = dispatch(&state, side, &seen);
    seen.outcome = outcome;
    record(&state, seen);
    resp
}

fn dispatch(state: &Shared, side: Side, seen: &Seen) -> (Response, String) {
    let script = state.script.lock().unwrap().clone();
    let path = seen.path.as_str();
    let not_found = || (StatusCode::NOT_FOUND.into_response(), "404".to_owned());
    // Protected Resource Metadata.
    let prm_here = match side {
        Side::As => path == CUSTOM_PRM && script.prm_at.contains(&PrmAt::Header),
        Side::Mcp => {
            (path == "/.well-known/oauth-protected-resource/mcp"
                && script.prm_at.contains(&PrmAt::PathAware))
                || (path == "/.well-known/oauth-protected-resource"
                    && script.prm_at.contains(&PrmAt::Root))
        }
    };
    if prm_here && seen.method == Method::GET {
        return (axum::Json(state.prm(&script)).into_response(), "prm".into());
    }
    let as_side = if script.cohost { Side::Mcp } else { Side::As };
    if side != as_side {
        return not_found();
    }
    let ip = &script.issuer_path;
    let meta_here = script.metadata_at.iter().any(|at| {
        let p = match at {
            MetaAt::Oauth => format!("/.well-known/oauth-authorization-server{ip}"),
            MetaAt::OidcInserted => format!("/.well-known/openid-configuration{ip}"),
            MetaAt::OidcAppended => format!("{ip}/.well-known/openid-configuration"),
        };
        p == path
    });
    if meta_here && seen.method == Method::GET {
        return (
            axum::Json(state.metadata(&script)).into_response(),
            "metadata".into(),
        );
    }
    let Some(name) = path.strip_prefix(script.endpoint_prefix.as_str()) else {
        return not_found();
    };
    match (seen.method.clone(), name) {
        (Method::GET, "/authorize") => authorize(state, &script, seen),
        (Method::POST, "/token") => token(state, &script, seen),
        (Method::POST, "/register") => register(state, seen),
        (Method::POST, "/revoke") => revoke(state, seen),
        _ => not_found(),
    }
}

fn authorize(state: &Shared, script: &Script, seen: &Seen) -> (Response, String) {
    let (Some(redirect_uri), Some(client_id)) =
        (seen.param("redirect_uri"), seen.param("client_id"))
    else {
        return (
            (StatusCode::BAD_REQUEST, "no redirect_uri or client_id").into_response(),
            "bad request".into(),
        );
    };
    let state_param = if script.wrong_state {
        "forged-state"
    } else {
        seen.param("state").unwrap_or("")
    };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let outcome;
    if let Some(error) = &script.authorize_error {
        pairs.push(("error", error.clone()));
        pairs.push(("error_description", "scripted refusal".into()));
        outcome = error.clone();
    } else {
        let mut db = state.db.lock().unwrap();
        db.next += 1;
        let code = format!("code-{}", db.next);
        db.codes.insert(
            code.clone(),
            Code {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                challenge: seen.param("code_challenge").unwrap_or("").to_owned(),
                resource: seen.param("resource").map(str::to_owned),
                scope: seen.param("scope").map(str::to_owned),
            },
        );
        pairs.push(("code", code));
        outcome = "code".into();
    }
    pairs.push(("state", state_param.to_owned()));
    match script.iss {
        Iss::Correct => pairs.push(("iss", state.issuer(script))),
        Iss::Wrong => pairs.push(("iss", "https://evil.example".into())),
        Iss::Absent => {}
    }
    let mut location = url::Url::parse(redirect_uri).expect("the bridge sends a URL");
    for (k, v) in &pairs {
        location.query_pairs_mut().append_pair(k, v);
    }
    (
        (StatusCode::FOUND, [("location", location.to_string())]).into_response(),
        outcome,
    )
}

/// Authenticates the client of a token request: the client id, or the error to answer.
fn client_auth(db: &Db, script_cimd: bool, seen: &Seen) -> Result<String, Refusal> {
    let invalid = |why: &str| bad(StatusCode::UNAUTHORIZED, "invalid_client", why);
    let basic = seen
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(decode_basic);
    let form_id = seen.param("client_id").map(str::to_owned);
    let form_secret = seen.param("client_secret").map(str::to_owned);
    let id = match (&basic, &form_id) {
        (Some((id, _)), _) => id.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => return invalid("no client id"),
    };
    let client = match db.clients.get(&id) {
        Some(c) => c.clone(),
        None if script_cimd && id.starts_with("https://") => Client {
            secret: None,
            method: "none".into(),
        },
        None => return invalid("unknown client"),
    };
    let ok = match client.method.as_str() {
        "client_secret_basic" => {
            form_secret.is_none()
                && basic.as_ref().map(|(_, s)| s.as_str()) == client.secret.as_deref()
        }
        "client_secret_post" => {
            basic.is_none() && form_secret.is_some() && form_secret == client.secret
        }
        _ => basic.is_none() && form_secret.is_none(),
    };
    if !ok {
        return invalid(&format!("wrong authentication for {}", client.method));
    }
    Ok(id)
}

fn token(state: &Shared, script: &Script, seen: &Seen) -> (Response, String) {
    if let Some(to) = &script.token_redirect {
        return (
            (StatusCode::TEMPORARY_REDIRECT, [("location", to.clone())]).into_response(),
            "redirected".into(),
        );
    }
    let cimd = state
        .metadata(script)
        .get("client_id_metadata_document_supported")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut db = state.db.lock().unwrap();
    let client_id = match client_auth(&db, cimd, seen) {
        Ok(id) => id,
        Err(e) => return e.answer(),
    };
    let resource = seen.param("resource");
    let checked = match seen.param("grant_type") {
        Some("authorization_code") => {
            let code = seen.param("code").and_then(|c| db.codes.remove(c));
            match code {
                None => bad(StatusCode::BAD_REQUEST, "invalid_grant", "unknown code"),
                Some(code) if code.client_id != client_id => bad(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "another client's code",
                ),
                Some(code) if seen.param("redirect_uri") != Some(code.redirect_uri.as_str()) => {
                    bad(StatusCode::BAD_REQUEST, "invalid_grant", "redirect_uri")
                }
                Some(code)
                    if seen.param("code_verifier").map(s256) != Some(code.challenge.clone()) =>
                {
                    bad(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE verifier")
                }
                Some(code) if resource.is_none() || resource != code.resource.as_deref() => {
                    bad(StatusCode::BAD_REQUEST, "invalid_target", "resource")
                }
                Some(code) => Ok(code.scope),
            }
        }
        Some("refresh_token") => {
            let old = seen.param("refresh_token").unwrap_or("").to_owned();
            match db.refresh.get(&old).cloned() {
                _ if script.refresh_error.is_some() => {
                    let e = script.refresh_error.clone().unwrap_or_default();
                    bad(StatusCode::BAD_REQUEST, &e, "scripted")
                }
                Some(r) if r.valid && r.client_id == client_id && resource.is_some() => {
                    if script.rotate_refresh {
                        db.refresh.get_mut(&old).expect("just found").valid = false;
                    }
                    Ok(r.scope)
                }
                Some(r) if r.valid && r.client_id == client_id => {
                    bad(StatusCode::BAD_REQUEST, "invalid_target", "no resource")
                }
                _ => bad(StatusCode::BAD_REQUEST, "invalid_grant", "refresh token"),
            }
        }
        _ => bad(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type",
        ),
    };
    let scope = match checked {
        Ok(scope) => scope,
        Err(e) => return e.answer(),
    };
    db.next += 1;
    let n = db.next;
    let access_token = format!("at-{n}");
    db.access.insert(
        access_token.clone(),
        Access {
            scope: scope
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            expires_at: script
                .expires_in
                .map(|s| Instant::now() + Duration::from_secs(s)),
            valid: true,
        },
    );
    let mut body = json!({"access_token": access_token, "token_type": "Bearer"});
    if let Some(e) = script.expires_in {
        body["expires_in"] = json!(e);
    }
    if let Some(s) = &scope {
        body["scope"] = json!(s);
    }
    let refreshing = seen.param("grant_type") == Some("refresh_token");
    if script.issue_refresh && (!refreshing || script.rotate_refresh) {
        let rt = format!("rt-{n}");
        db.refresh.insert(
            rt.clone(),
            Refresh {
                client_id,
                scope,
                valid: true,
            },
        );
        body["refresh_token"] = json!(rt);
    }
    (axum::Json(body).into_response(), "ok".into())
}

/// An OAuth error to answer with, and why (for the record).
struct Refusal {
    status: StatusCode,
    error: String,
    why: String,
}

impl Refusal {
    /// The answer, and the outcome to record.
    fn answer(self) -> (Response, String) {
        let outcome = format!("{} ({})", self.error, self.why);
        (oauth_error(self.status, &self.error), outcome)
    }
}

fn bad<T>(status: StatusCode, error: &str, why: &str) -> Result<T, Refusal> {
    Err(Refusal {
        status,
        error: error.to_owned(),
        why: why.to_owned(),
    })
}

fn register(state: &Shared, seen: &Seen) -> (Response, String) {
    let req = seen.json();
    let method = req["token_endpoint_auth_method"]
        .as_str()
        .unwrap_or("client_secret_basic")
        .to_owned();
    let mut db = state.db.lock().unwrap();
    db.next += 1;
    let id = format!("dcr-{}", db.next);
    let secret = (method != "none").then(|| format!("dcr-secret-{}", db.next));
    db.clients.insert(
        id.clone(),
        Client {
            secret: secret.clone(),
            method: method.clone(),
        },
    );
    let mut body = req.clone();
    body["client_id"] = json!(id);
    body["token_endpoint_auth_method"] = json!(method);
    if let Some(s) = secret {
        body["client_secret"] = json!(s);
    }
    (
        (StatusCode::CREATED, axum::Json(body)).into_response(),
        "registered".into(),
    )
}

fn revoke(state: &Shared, seen: &Seen) -> (Response, String) {
    let token = seen.param("token").unwrap_or("");
    let mut db = state.db.lock().unwrap();
    if let Some(a) = db.access.get_mut(token) {
        a.valid = false;
    }
    if let Some(r) = db.refresh.get_mut(token) {
        r.valid = false;
    }
    (StatusCode::OK.into_response(), "revoked".into())
}

/// The MCP server's token check.
fn gate(state: &Shared, headers: &HeaderMap, body: &Value) -> Option<Response> {
    let script = state.script.lock().unwrap().clone();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    state.mcp_auth.lock().unwrap().push(auth.clone());
    let token = auth.as_deref().and_then(|a| a.strip_prefix("Bearer "));
    let access = token.and_then(|t| state.db.lock().unwrap().access.get(t).cloned());
    let live = access
        .as_ref()
        .is_some_and(|a| a.valid && a.expires_at.is_none_or(|at| at > Instant::now()));
    let refuse = |status: StatusCode, challenge: String| {
        state.mcp_refusals.lock().unwrap().push(status.as_u16());
        let mut r = (status, "no").into_response();
        r.headers_mut()
            .insert("www-authenticate", challenge.parse().expect("ASCII"));
        Some(r)
    };
    if !live {
        let error = token.map(|_| "invalid_token");
        let challenge = state.challenge(&script, error, script.challenge_scope.as_deref());
        return refuse(StatusCode::UNAUTHORIZED, challenge);
    }
    if body.get("method").and_then(Value::as_str) == Some("tools/call") {
        let have = access.map(|a| a.scope).unwrap_or_default();
        let needed = script.needs_scope.clone().unwrap_or_default();
        let missing = needed
            .split_whitespace()
            .any(|s| !have.iter().any(|h| h == s));
        if script.always_403 || missing {
            let scope = if needed.is_empty() { "more" } else { &needed };
            let challenge = state.challenge(&script, Some("insufficient_scope"), Some(scope));
            return refuse(StatusCode::FORBIDDEN, challenge);
        }
    }
    None
}

/// base64url(SHA-256(verifier)) without padding (RFC 7636 S256).
pub fn s256(verifier: &str) -> String {
    base64(&Sha256::digest(verifier.as_bytes()), true)
}

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 (url-safe without padding, or standard with padding).
pub fn base64(data: &[u8], url: bool) -> String {
    let table = if url { URL } else { STD };
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(table[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        if !url {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64(s: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = STD.iter().position(|&x| x == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Some(out)
}

/// `Basic` credentials: base64 of the form-urlencoded id and secret joined by ':'.
fn decode_basic(b64: &str) -> Option<(String, String)> {
    let text = String::from_utf8(unbase64(b64.trim())?).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((dec(id), dec(secret)))
}

/// What the test "browser" does with the authorization URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browse {
    /// Fetches it and follows the redirects (to the bridge's callback): the user approves.
    Follow,
    /// Nothing: the user never finishes.
    Idle,
}

/// A credentials directory and a browser for bridges that log in.
pub struct AuthEnv {
    pub dir: tempfile::TempDir,
    pub config_dir: PathBuf,
    pub browser: PathBuf,
    pub browser_log: PathBuf,
}

/// The Python interpreter, resolved once with the caller's environment (the bridge's is
/// cleared, and version-manager shims need theirs).
fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 runs (the test browser is a Python script)");
        String::from_utf8(out.stdout)
            .expect("a UTF-8 path")
            .trim()
            .to_owned()
    })
}

impl AuthEnv {
    pub fn new(browse: Browse) -> AuthEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_dir = dir.path().join("config");
        let browser = dir.path().join("browser.py");
        let browser_log = dir.path().join("browser.log");
        let follow = browse == Browse::Follow;
        let script = format!(
            r#"#!{python}
import json, sys, urllib.request
with open({log:?}, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\n")
if {follow}:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
    try:
        opener.open(sys.argv[1], timeout=10).read()
    except Exception as e:
        print("test browser:", e, file=sys.stderr)
"#,
            python = python(),
            log = browser_log.display().to_string(),
            follow = if follow { "True" } else { "False" },
        );
        std::fs::write(&browser, script).expect("write the browser");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755))
                .expect("chmod the browser");
        }
        AuthEnv {
            dir,
            config_dir,
            browser,
            browser_log,
        }
    }

    /// The variables a bridge needs to log in here.
    pub fn vars(&self) -> Vec<(String, String)> {
        vec![
            (
                "MCP_BRIDGE_CONFIG_DIR".into(),
                self.config_dir.display().to_string(),
            ),
            (
                "MCP_BRIDGE_BROWSER".into(),
                self.browser.display().to_string(),
            ),
            ("MCP_BRIDGE_STORE".into(), "file".into()),
        ]
    }

    /// Starts a bridge with `args` (the server URL among them) in this environment.
    pub fn bridge(&self, args: &[&str]) -> Bridge {
        self.bridge_with(args, &[])
    }

    /// As [`AuthEnv::bridge`], with extra environment variables.
    pub fn bridge_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Bridge {
        let vars = self.vars();
        Bridge::start_with(args, |cmd| {
            cmd.envs(vars);
            cmd.envs(extra.iter().copied());
        })
    }

    /// Runs the bridge to completion (a subcommand, say) with stdin closed.
    pub async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let home = self.dir.path().join("home");
        let mut cmd = super::command(&home);
        cmd.args(args)
            .envs(self.vars())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = tokio::time::timeout(WAIT, cmd.output())
            .await
            .expect("the command finishes in time")
            .expect("run the bridge");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The argument lists of every browser launch so far.
    pub fn launches(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.browser_log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("the browser logs JSON"))
            .collect()
    }

    /// Waits until the browser has been launched `n` times.
    pub async fn wait_launches(&self, n: usize) {
        let start = Instant::now();
        while self.launches().len() < n {
            assert!(
                start.elapsed() < WAIT,
                "the browser was not launched {n} times"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The path of a file in this environment's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A listener that records the head of every request it gets and answers 404: a place the
/// bridge must never send credentials to.
pub struct Spy {
    pub addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Spy {
    /// Binds `ip:port` (port 0 for any).
    pub async fn bind(ip: &str, port: u16) -> Spy {
        let listener = tokio::net::TcpListener::bind((ip, port))
            .await
            .unwrap_or_else(|e| panic!("bind {ip}:{port}: {e}"));
        let addr = listener.local_addr().expect("bound");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut n = 0;
                    while n < buf.len() {
                        match sock.read(&mut buf[n..]).await {
                            Ok(0) | Err(_) => break,
                            Ok(k) => n += k,
                        }
                        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                    let _ = sock
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Spy { addr, heads }
    }

    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Whether `port` on 127.0.0.1 can be bound now.
pub fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}
