//! The mock's HTTP side: one fallback handler per listener that records each request and
//! dispatches it to the metadata documents, /authorize, /token, /register or /revoke, and the
//! token check that stands in front of the MCP server.

use super::{
    Access, CUSTOM_PRM, Client, Code, Db, Device, Iss, MetaAt, PrmAt, Refresh, Script, Seen,
    Shared, Side,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) fn router(state: Arc<Shared>, side: Side) -> Router {
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
    let delay = state.script.lock().unwrap().authorize_delay;
    if path.ends_with("/authorize") && !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
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
        (Method::POST, "/device") => device_authorization(state, &script, seen),
        (Method::POST, "/register")
            if script.register_refuses_scope && seen.json().get("scope").is_some() =>
        {
            bad::<()>(StatusCode::BAD_REQUEST, "invalid_client_metadata", "scope")
                .unwrap_err()
                .answer()
        }
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
    } else if script.refuses_resource && seen.param("resource").is_some() {
        pairs.push(("error", "invalid_target".into()));
        pairs.push((
            "error_description",
            "the resource parameter is not supported".into(),
        ));
        outcome = "invalid_target".into();
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
    if script.reject_clients {
        return bad::<()>(StatusCode::UNAUTHORIZED, "invalid_client", "scripted")
            .unwrap_err()
            .answer();
    }
    let mut db = state.db.lock().unwrap();
    // A workload's JWT-bearer grant may come with no client at all (the assertion is the
    // credential).
    let anonymous = seen.param("grant_type") == Some(JWT_BEARER)
        && seen.param("client_id").is_none()
        && seen.header("authorization").is_none();
    let client_id = match client_auth(&db, cimd, seen) {
        _ if anonymous => String::new(),
        Ok(id) => id,
        Err(e) => return e.answer(),
    };
    // RFC 9449: a proof binds the token to its key (its signature is the conformance
    // suite's to check; this server checks what binds).
    let jkt = match seen.header("dpop").map(Proof::parse) {
        None => None,
        Some(None) => {
            return bad::<()>(StatusCode::BAD_REQUEST, "invalid_dpop_proof", "malformed")
                .unwrap_err()
                .answer();
        }
        Some(Some(proof)) => {
            if let Some(nonce) = &script.dpop_nonce
                && proof.claims["nonce"].as_str() != Some(nonce)
            {
                let mut r = oauth_error(StatusCode::BAD_REQUEST, "use_dpop_nonce");
                r.headers_mut()
                    .insert("dpop-nonce", nonce.parse().expect("ASCII"));
                return (r, "use_dpop_nonce".into());
            }
            if proof.claims["htm"] != "POST" || proof.claims.get("ath").is_some() {
                return bad::<()>(StatusCode::BAD_REQUEST, "invalid_dpop_proof", "claims")
                    .unwrap_err()
                    .answer();
            }
            Some(proof.jkt)
        }
    };
    let resource = seen.param("resource");
    if seen.param("grant_type") == Some(TOKEN_EXCHANGE) {
        return token_exchange(seen);
    }
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
                Some(_) if script.refuses_resource && resource.is_some() => bad(
                    StatusCode::BAD_REQUEST,
                    "invalid_target",
                    "resource refused",
                ),
                Some(code)
                    if (resource.is_none() && !script.refuses_resource)
                        || resource != code.resource.as_deref() =>
                {
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
                Some(_) if script.refuses_resource && resource.is_some() => bad(
                    StatusCode::BAD_REQUEST,
                    "invalid_target",
                    "resource refused",
                ),
                Some(r)
                    if r.valid
                        && r.client_id == client_id
                        && (resource.is_some() || script.refuses_resource) =>
                {
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
        // A service's client (RFC 6749 section 4.4): authenticated above, nothing else.
        Some("client_credentials") if script.refuses_resource && resource.is_some() => bad(
            StatusCode::BAD_REQUEST,
            "invalid_target",
            "resource refused",
        ),
        Some("client_credentials") if resource.is_none() && !script.refuses_resource => {
            bad(StatusCode::BAD_REQUEST, "invalid_target", "no resource")
        }
        Some("client_credentials") => Ok(seen.param("scope").map(str::to_owned)),
        Some(DEVICE_CODE) => {
            let code = seen.param("device_code").unwrap_or("");
            let slow = script.device_slow_down && seen_polls(state, code) == 0;
            match db.devices.get(code).cloned() {
                None => bad(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "unknown device code",
                ),
                Some(d) if d.client_id != client_id => bad(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "another client's code",
                ),
                Some(d) if d.expires_at <= Instant::now() => {
                    bad(StatusCode::BAD_REQUEST, "expired_token", "expired")
                }
                Some(_) if slow => bad(StatusCode::BAD_REQUEST, "slow_down", "first poll"),
                Some(Device { approved: None, .. }) => {
                    bad(StatusCode::BAD_REQUEST, "authorization_pending", "pending")
                }
                Some(Device {
                    approved: Some(false),
                    ..
                }) => bad(StatusCode::BAD_REQUEST, "access_denied", "denied"),
                Some(_) if resource.is_none() && !script.refuses_resource => {
                    bad(StatusCode::BAD_REQUEST, "invalid_target", "no resource")
                }
                Some(d) => {
                    db.devices.remove(code);
                    Ok(d.scope)
                }
            }
        }
        // RFC 7523: a workload token ("wif-ok...") or an ID-JAG this server's own token
        // exchange minted for it.
        Some(JWT_BEARER) => {
            let assertion = seen.param("assertion").unwrap_or("");
            let jag = format!("jag-for:{}", state.issuer(script));
            if resource.is_none() && !script.refuses_resource {
                bad(StatusCode::BAD_REQUEST, "invalid_target", "no resource")
            } else if assertion.starts_with("wif-ok") || assertion == jag {
                Ok(seen.param("scope").map(str::to_owned))
            } else {
                bad(StatusCode::BAD_REQUEST, "invalid_grant", "assertion")
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
    let access_token = format!("at-{n}{}", script.token_suffix);
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
                .and_then(|s| Instant::now().checked_add(Duration::from_secs(s))),
            valid: true,
            jkt: jkt.clone(),
        },
    );
    let token_type = if jkt.is_some() { "DPoP" } else { "Bearer" };
    let mut body = json!({"access_token": access_token, "token_type": token_type});
    if let Some(e) = script.expires_in {
        body["expires_in"] = json!(e);
    }
    if let Some(s) = &scope {
        body["scope"] = json!(s);
    }
    let refreshing = seen.param("grant_type") == Some("refresh_token");
    // RFC 6749 section 4.4.3: no refresh token for client credentials.
    let service = matches!(
        seen.param("grant_type"),
        Some("client_credentials" | JWT_BEARER)
    );
    if script.issue_refresh && !service && (!refreshing || script.rotate_refresh) {
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

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The device polls for `code` seen so far (before this one).
fn seen_polls(state: &Shared, code: &str) -> usize {
    state
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.param("device_code") == Some(code))
        .count()
}

/// RFC 8628 section 3.1: a device code for an authenticated client, one poll a second.
fn device_authorization(state: &Shared, script: &Script, seen: &Seen) -> (Response, String) {
    let mut db = state.db.lock().unwrap();
    let client_id = match client_auth(&db, false, seen) {
        Ok(id) => id,
        Err(e) => return e.answer(),
    };
    db.next += 1;
    let n = db.next;
    let device_code = format!("dc-{n}");
    let user_code = format!("WDJB-{n:04}");
    db.devices.insert(
        device_code.clone(),
        Device {
            client_id,
            scope: seen.param("scope").map(str::to_owned),
            approved: None,
            expires_at: Instant::now() + script.device_lifetime,
        },
    );
    let issuer = state.issuer(script);
    let body = json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": format!("{issuer}/activate"),
        "verification_uri_complete": format!("{issuer}/activate?user_code={user_code}"),
        "expires_in": script.device_lifetime.as_secs(),
        "interval": 1,
    });
    (axum::Json(body).into_response(), "device code".into())
}
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_JAG: &str = "urn:ietf:params:oauth:token-type:id-jag";

/// The identity provider's side of enterprise-managed authorization (RFC 8693): an ID token
/// ("idt-ok...") becomes an ID-JAG for the `audience` (the client was authenticated above).
fn token_exchange(seen: &Seen) -> (Response, String) {
    let subject = seen.param("subject_token").unwrap_or("");
    let audience = seen.param("audience");
    let checked = if seen.param("subject_token_type")
        != Some("urn:ietf:params:oauth:token-type:id_token")
        || seen.param("requested_token_type") != Some(ID_JAG)
        || audience.is_none()
        || seen.param("resource").is_none()
    {
        bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token exchange parameters",
        )
    } else if !subject.starts_with("idt-ok") {
        bad(StatusCode::BAD_REQUEST, "invalid_grant", "ID token")
    } else {
        Ok(())
    };
    if let Err(e) = checked {
        return e.answer();
    }
    let body = json!({
        "access_token": format!("jag-for:{}", audience.unwrap_or_default()),
        "issued_token_type": ID_JAG,
        "token_type": "N_A",
        "expires_in": 300,
    });
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
pub(super) fn gate(state: &Shared, headers: &HeaderMap, body: &Value) -> Option<Response> {
    let script = state.script.lock().unwrap().clone();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    state.mcp_auth.lock().unwrap().push(auth.clone());
    let (scheme, token) = match auth.as_deref().and_then(|a| a.split_once(' ')) {
        Some((scheme, token)) => (Some(scheme), Some(token)),
        None => (None, None),
    };
    let migrated = state.migrated_to.lock().unwrap().clone();
    let issuer = migrated.as_deref().unwrap_or(state);
    let access = token.and_then(|t| issuer.db.lock().unwrap().access.get(t).cloned());
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
    // A bound token needs the DPoP scheme and a proof by its key for it; a bearer token the
    // Bearer scheme.
    let bound = access.as_ref().and_then(|a| a.jkt.clone());
    let proof = headers
        .get("dpop")
        .and_then(|v| v.to_str().ok())
        .and_then(Proof::parse);
    let proven = match (&bound, &proof) {
        (None, _) => scheme == Some("Bearer"),
        (Some(jkt), Some(p)) => {
            let htm_fits = match body {
                Value::Null => p.claims["htm"] == "GET" || p.claims["htm"] == "DELETE",
                _ => p.claims["htm"] == "POST",
            };
            scheme == Some("DPoP")
                && p.jkt == *jkt
                && htm_fits
                && p.claims["ath"].as_str() == token.map(s256).as_deref()
        }
        (Some(_), None) => false,
    };
    if !live || !proven || script.always_401 {
        let error = token.map(|_| "invalid_token");
        let challenge = state.challenge(&script, error, script.challenge_scope.as_deref());
        return refuse(StatusCode::UNAUTHORIZED, challenge);
    }
    if let (Some(nonce), Some(p)) = (&script.dpop_nonce, &proof)
        && p.claims["nonce"].as_str() != Some(nonce)
    {
        let mut r = refuse(
            StatusCode::UNAUTHORIZED,
            r#"DPoP error="use_dpop_nonce""#.to_owned(),
        )?;
        r.headers_mut()
            .insert("dpop-nonce", nonce.parse().expect("ASCII"));
        return Some(r);
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

/// A DPoP proof's protected header and claims, and the thumbprint (RFC 7638) of its key.
pub struct Proof {
    pub header: Value,
    pub claims: Value,
    pub jkt: String,
}

impl Proof {
    /// Reads a proof (without checking its signature), or `None` if it is not a dpop+jwt
    /// with a public EC key.
    pub fn parse(jwt: &str) -> Option<Proof> {
        use base64::Engine as _;
        let decode = |part: &str| -> Option<Value> {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .ok()?;
            serde_json::from_slice(&bytes).ok()
        };
        let mut parts = jwt.split('.');
        let header = decode(parts.next()?)?;
        let claims = decode(parts.next()?)?;
        parts.next()?;
        let jwk = &header["jwk"];
        if header["typ"] != "dpop+jwt" || jwk.get("d").is_some() || claims["jti"].as_str().is_none()
        {
            return None;
        }
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
            jwk["crv"].as_str()?,
            jwk["kty"].as_str()?,
            jwk["x"].as_str()?,
            jwk["y"].as_str()?
        );
        let jkt = base64(&Sha256::digest(canonical.as_bytes()), true);
        Some(Proof {
            header,
            claims,
            jkt,
        })
    }
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
