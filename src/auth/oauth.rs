//! The OAuth client for one MCP server: which tokens are in use, and what to do when the
//! server challenges them (adopt another process's, refresh, log in, step up).
//!
//! One flow at a time: within the process an async mutex, across processes the login lock
//! in the config directory. A caller that waited takes the outcome of the flow that ran
//! meanwhile, success or failure: it retries with the new token, or fails with that flow's
//! error, instead of starting another (five requests in flight mean one browser, not five).

use super::browser::Launcher;
use super::challenge::Challenge;
use super::discovery::{self, AsMetadata, Discovery};
use super::dpop::{self, DpopKey};
use super::grant::Grant;
use super::registration::{self, ClientIdentity};
use super::{AuthError, token};
use crate::clock::{self, now};
use crate::endpoint;
use crate::net;
use crate::secret::Secret;
use crate::store::{Registration, Store, StoreChoice, Tokens, lock};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

mod login;
mod service;

/// Refresh this long before the access token expires.
const REFRESH_AHEAD: u64 = 60;
/// Scope step-ups in a row that bring no new scope before a 403 is final.
const MAX_STEP_UPS: u32 = 2;
/// How long another process's login may hold the lock before we give up waiting.
const LOCK_WAIT_SLACK: Duration = Duration::from_secs(30);
/// Derived callback ports are in this range (below Linux's ephemeral ports).
const CALLBACK_PORT_BASE: u16 = 20000;
const CALLBACK_PORT_SPAN: u16 = 12000;

/// Authorization settings from the command line.
#[derive(Debug, Clone)]
pub(crate) struct AuthOptions {
    pub(crate) store: StoreChoice,
    pub(crate) client: ClientIdentity,
    /// Scopes to request instead of the ones discovery suggests (`--scope`).
    pub(crate) scopes: Option<Vec<String>>,
    /// The `resource` to request instead of the discovered one (mcp-remote's `--resource`).
    pub(crate) resource: Option<String>,
    /// Whether to send RFC 8707 `resource` at all (`--no-resource` clears it).
    pub(crate) send_resource: bool,
    /// Extra authorization request parameters (`--authorize-param`), checked not to be ones
    /// the flow owns.
    pub(crate) authorize_params: Vec<(String, String)>,
    /// A fixed callback port (`--callback-port`); else one derived from the server.
    pub(crate) callback_port: Option<u16>,
    /// The path of the loopback callback (`--callback-path`), checked.
    pub(crate) callback_path: String,
    /// The host name in the redirect URI: `127.0.0.1` or `localhost` (mcp-remote's `--host`).
    pub(crate) callback_host: String,
    /// How long to wait for the user to finish in the browser.
    pub(crate) timeout: Duration,
    pub(crate) launcher: Launcher,
    /// Log in afresh at the first challenge, ignoring stored tokens (the `login` command).
    pub(crate) fresh_login: bool,
    /// How new tokens are obtained: a browser login, or a grant for a service.
    pub(crate) grant: Grant,
    /// Also take the redirect address pasted on the terminal (`login --no-browser` with a
    /// terminal on stdin).
    pub(crate) paste: bool,
    /// Whether tokens are bound to a DPoP key where the authorization server offers it
    /// (`--no-dpop` clears it).
    pub(crate) dpop: bool,
    /// Whether a browser login may run; without it a challenge that needs one fails with
    /// [`AuthError::LoginNeeded`] (`check` without `--login`).
    pub(crate) interactive: bool,
}

/// Per-process state of the authorization flow, behind one async mutex so logins and
/// refreshes never run twice at once.
#[derive(Default)]
struct FlowState {
    /// The last discovery, reused for refreshes.
    discovery: Option<Discovery>,
    /// The scopes last requested (step-up adds to them).
    requested: Vec<String>,
    step_ups: u32,
    /// How the last flow (refresh, login, step-up) that failed went wrong, for the requests
    /// that waited for it.
    last_failure: Option<Arc<AuthError>>,
    /// The digest of the last assertion (or ID token) the authorization server refused, and
    /// why: it is never presented again.
    refused_assertion: Option<([u8; 32], Arc<AuthError>)>,
}

/// The OAuth client for one MCP server.
pub(crate) struct OAuth {
    server: Url,
    /// The server's identity in the store (its canonical URL).
    server_id: String,
    options: AuthOptions,
    /// Client for authorization requests: bounded time, no redirects followed.
    http: Arc<net::Client>,
    config_dir: PathBuf,
    /// Fires when the host goes away; a login in progress stops at once.
    cancel: CancellationToken,
    store: Store,
    loaded: tokio::sync::OnceCell<()>,
    /// The tokens in use; read on every request.
    current: RwLock<Option<Tokens>>,
    /// The DPoP key the tokens in use are bound to, if they are.
    dpop: RwLock<Option<Arc<DpopKey>>>,
    /// Whether the next challenge must run a browser login (see [`AuthOptions::fresh_login`]).
    fresh_login: AtomicBool,
    /// The tokens the last browser login in this process obtained.
    logged_in: RwLock<Option<Tokens>>,
    /// The last challenge the server answered with: its status and `Bearer` challenge.
    challenged: RwLock<Option<(u16, Option<Challenge>)>>,
    flow: tokio::sync::Mutex<FlowState>,
    /// Flows finished (either way); a request that saw it change while it waited for
    /// `flow` takes that flow's outcome instead of starting another.
    flows_done: AtomicU64,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("server", &self.describe())
            .finish_non_exhaustive()
    }
}

impl OAuth {
    pub(crate) fn new(
        server: Url,
        options: AuthOptions,
        http: Arc<net::Client>,
        config_dir: PathBuf,
        cancel: CancellationToken,
    ) -> Arc<Self> {
        let server_id = endpoint::canonical_resource(&server);
        let store = Store::open(options.store, config_dir.clone());
        Arc::new(OAuth {
            server,
            server_id,
            fresh_login: AtomicBool::new(options.fresh_login),
            options,
            http,
            config_dir,
            cancel,
            store,
            loaded: tokio::sync::OnceCell::new(),
            current: RwLock::new(None),
            dpop: RwLock::new(None),
            logged_in: RwLock::new(None),
            challenged: RwLock::new(None),
            flow: tokio::sync::Mutex::new(FlowState::default()),
            flows_done: AtomicU64::new(0),
        })
    }

    /// The access token to send, if there is one.
    pub(crate) fn bearer(&self) -> Option<Secret> {
        self.current
            .read()
            .expect("token lock is never poisoned")
            .as_ref()
            .map(|t| t.access_token.clone())
    }

    /// The DPoP key the access token is bound to, if it is: requests then carry a proof
    /// signed by it and the `DPoP` scheme.
    pub(crate) fn dpop(&self) -> Option<Arc<DpopKey>> {
        self.dpop
            .read()
            .expect("key lock is never poisoned")
            .clone()
    }

    /// The tokens a browser login in this process obtained, if one ran.
    pub(crate) fn logged_in(&self) -> Option<Tokens> {
        self.logged_in
            .read()
            .expect("token lock is never poisoned")
            .clone()
    }

    /// The last challenge (status and `Bearer` challenge) the server answered with, if any.
    pub(crate) fn challenged(&self) -> Option<(u16, Option<Challenge>)> {
        self.challenged
            .read()
            .expect("challenge lock is never poisoned")
            .clone()
    }

    /// Called before each request: loads stored tokens the first time and refreshes them
    /// shortly before they expire. Failures are logged; the request then meets a 401.
    pub(crate) async fn prepare(&self) {
        // The rare paths are boxed: inline, their state would make every request's future
        // (which is moved, whole, when a request task starts) many kilobytes larger.
        self.loaded
            .get_or_init(|| {
                Box::pin(async {
                    if self.fresh_login.load(Ordering::Relaxed) {
                        return;
                    }
                    match self.load_stored().await {
                        Ok(Some(t)) => self.adopt(t),
                        Ok(None) => {}
                        Err(e) => tracing::warn!("could not read stored credentials: {e}"),
                    }
                })
            })
            .await;
        let stale = self
            .current
            .read()
            .expect("token lock is never poisoned")
            .as_ref()
            .is_some_and(|t| {
                (t.refresh_token.is_some() || self.options.grant.is_service())
                    && t.expires_at.is_some_and(|at| at <= now() + REFRESH_AHEAD)
            });
        if stale {
            let sent = self.bearer();
            if let Err(e) = Box::pin(self.renew(sent, None, false)).await {
                tracing::warn!("could not refresh the access token ahead of expiry: {e}");
            }
        }
    }

    /// Handles a 401 or 403 from the server for a request sent with `sent`. `Ok` means a
    /// new token is in place and the request should be retried.
    pub(crate) async fn on_challenge(
        &self,
        status: u16,
        challenge: Option<&Challenge>,
        sent: Option<Secret>,
    ) -> Result<(), AuthError> {
        *self
            .challenged
            .write()
            .expect("challenge lock is never poisoned") = Some((status, challenge.cloned()));
        if status == 403 {
            let Some(c) = challenge.filter(|c| c.error() == Some("insufficient_scope")) else {
                return Err(AuthError::Refused(
                    "the server refused access (HTTP 403)".into(),
                ));
            };
            return self.step_up(c, sent).await;
        }
        self.renew(sent, challenge, true).await
    }

    /// Gets a token that differs from `sent`: another process's, a refreshed one, or (when
    /// `interactive`) one from a browser login.
    async fn renew(
        &self,
        sent: Option<Secret>,
        challenge: Option<&Challenge>,
        interactive: bool,
    ) -> Result<(), AuthError> {
        let seen = self.flows_done.load(Ordering::Acquire);
        let mut flow = self.flow.lock().await;
        if let Some(outcome) = self.outcome_since(&flow, seen, &sent) {
            return outcome;
        }
        let result = self
            .renew_locked(&mut flow, sent, challenge, interactive)
            .await;
        if !interactive && result.is_err() {
            // A refresh ahead of expiry that failed settles nothing for a request that met a
            // 401: that one may still log in.
            return result;
        }
        self.finish_flow(&mut flow, result)
    }

    /// What a request that waited for the flow mutex makes of the flows that ran meanwhile:
    /// `None` if none did (this request runs its own), else their outcome: a token other
    /// than the one it sent, or the last failure (one login for all of them, never one each).
    fn outcome_since(
        &self,
        flow: &FlowState,
        seen: u64,
        sent: &Option<Secret>,
    ) -> Option<Result<(), AuthError>> {
        let current = self.bearer();
        if current.is_some() && current != *sent {
            return Some(Ok(())); // replaced while we waited
        }
        if self.flows_done.load(Ordering::Acquire) == seen {
            return None;
        }
        let failure = flow.last_failure.clone()?;
        Some(Err(AuthError::Shared(failure)))
    }

    /// Records how a flow ended, for the requests waiting behind it.
    fn finish_flow(
        &self,
        flow: &mut FlowState,
        result: Result<(), AuthError>,
    ) -> Result<(), AuthError> {
        let result = result.map_err(|e| match e {
            AuthError::Shared(e) => e,
            e => Arc::new(e),
        });
        flow.last_failure = result.as_ref().err().cloned();
        self.flows_done.fetch_add(1, Ordering::Release);
        result.map_err(AuthError::Shared)
    }

    async fn renew_locked(
        &self,
        flow: &mut FlowState,
        sent: Option<Secret>,
        challenge: Option<&Challenge>,
        interactive: bool,
    ) -> Result<(), AuthError> {
        let _lock = self.lock().await?;
        if interactive && self.fresh_login.swap(false, Ordering::Relaxed) {
            return self.login_locked(flow, challenge, None).await;
        }
        // Another process may have logged in or refreshed while we waited for the lock.
        if let Some(stored) = self.load_stored().await?
            && Some(&stored.access_token) != sent.as_ref()
            && stored
                .expires_at
                .is_none_or(|at| at > now() + REFRESH_AHEAD)
        {
            tracing::info!("using credentials another mcp-bridge just stored");
            self.adopt(stored);
            return Ok(());
        }
        let current = self
            .current
            .read()
            .expect("token lock is never poisoned")
            .clone();
        let current = match current {
            Some(tokens) if interactive => self.check_issuer(flow, challenge, tokens).await,
            other => other,
        };
        if let Some(tokens) = current.filter(|t| t.refresh_token.is_some()) {
            match self.refresh(flow, &tokens).await {
                Ok(()) => return Ok(()),
                Err(AuthError::InvalidGrant(e)) => {
                    tracing::info!("the refresh token was rejected ({e}); logging in again");
                    self.forget_tokens().await?;
                }
                Err(e) => tracing::info!("refresh failed ({e}); logging in again"),
            }
        }
        if self.options.grant.is_service() {
            // No user: a new token costs one request, ahead of expiry as after a 401.
            return self.service_locked(flow, challenge, None).await;
        }
        if !interactive {
            return Err(AuthError::NoRefreshToken);
        }
        if !self.options.interactive {
            return Err(AuthError::LoginNeeded);
        }
        self.login_locked(flow, challenge, None).await
    }

    /// After a 401: the tokens, unless the server's metadata now names another authorization
    /// server than the one that issued them (a migration), whose refresh token must not be
    /// used there. The fresh discovery is kept for the refresh; if it fails, the tokens are
    /// tried as they are.
    async fn check_issuer(
        &self,
        flow: &mut FlowState,
        challenge: Option<&Challenge>,
        tokens: Tokens,
    ) -> Option<Tokens> {
        match discovery::discover(&self.http, &self.server, challenge).await {
            Ok(found) if found.metadata.issuer != tokens.issuer => {
                tracing::info!(
                    issuer = %found.metadata.issuer,
                    "the server now uses another authorization server; logging in there"
                );
                flow.discovery = Some(found);
                None
            }
            Ok(found) => {
                flow.discovery = Some(found);
                Some(tokens)
            }
            Err(e) => {
                tracing::debug!(
                    "could not check the authorization server ({e}); refreshing anyway"
                );
                Some(tokens)
            }
        }
    }

    /// 403 `insufficient_scope`: log in again with the union of the scopes asked so far and
    /// the ones challenged, a bounded number of times.
    async fn step_up(&self, challenge: &Challenge, sent: Option<Secret>) -> Result<(), AuthError> {
        let seen = self.flows_done.load(Ordering::Acquire);
        let mut flow = self.flow.lock().await;
        if let Some(outcome) = self.outcome_since(&flow, seen, &sent) {
            return outcome;
        }
        let result = self.step_up_locked(&mut flow, challenge).await;
        self.finish_flow(&mut flow, result)
    }

    async fn step_up_locked(
        &self,
        flow: &mut FlowState,
        challenge: &Challenge,
    ) -> Result<(), AuthError> {
        let mut scopes = flow.requested.clone();
        if scopes.is_empty()
            && let Some(t) = self
                .current
                .read()
                .expect("token lock is never poisoned")
                .as_ref()
        {
            scopes = t.scopes.clone();
        }
        let known = scopes.len();
        for s in challenge.scopes().unwrap_or_default() {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        // A challenge for scopes not asked for yet is progress (a tool that needs more than the
        // last one did), so the count starts again; one that brings nothing new counts toward
        // the limit, which stops a server that refuses whatever it is given.
        if scopes.len() > known {
            flow.step_ups = 0;
        }
        flow.step_ups += 1;
        if flow.step_ups > MAX_STEP_UPS {
            return Err(AuthError::Refused(format!(
                "the server still refuses access after {MAX_STEP_UPS} scope step-ups; giving up"
            )));
        }
        tracing::info!(scopes = %scopes.join(" "), "the server needs more scope; authorizing again");
        if !self.options.interactive {
            return Err(AuthError::LoginNeeded);
        }
        let _lock = self.lock().await?;
        self.login_locked(flow, Some(challenge), Some(scopes)).await
    }

    /// Refreshes `tokens` and stores the result (keeping the old refresh token when the
    /// server does not rotate it).
    async fn refresh(&self, flow: &mut FlowState, tokens: &Tokens) -> Result<(), AuthError> {
        let Some(refresh_token) = &tokens.refresh_token else {
            return Err(AuthError::NoRefreshToken);
        };
        let metadata = match &flow.discovery {
            Some(d) if d.metadata.issuer == tokens.issuer => d.metadata.clone(),
            _ => match discovery::fetch_as_metadata(&self.http, &tokens.issuer).await {
                Ok(metadata) => metadata,
                // A 2025-03-26 server may publish no metadata: discovery knows its defaults.
                Err(e) => match discovery::discover(&self.http, &self.server, None).await {
                    Ok(found) if found.metadata.issuer == tokens.issuer => found.metadata,
                    _ => return Err(e),
                },
            },
        };
        let registration = self.registration_for(&metadata, tokens).await?;
        let resource = tokens
            .resource
            .clone()
            .unwrap_or_else(|| self.server_id.clone());
        tracing::debug!("refreshing the access token");
        // A bound refresh token is refreshed with the same key (RFC 9449 section 5).
        let key = self.key_of(tokens)?;
        let via = token::Via {
            http: &self.http,
            dpop: key.as_deref(),
        };
        let issued = token::refresh(
            via,
            &metadata,
            &registration,
            refresh_token,
            self.options.send_resource.then_some(resource.as_str()),
        )
        .await?;
        let renewed = self.tokens_from(
            issued,
            &registration,
            &resource,
            &tokens.scopes,
            tokens.refresh_token.clone(),
            key.as_deref(),
        )?;
        self.store.put_tokens(&renewed).await?;
        self.adopt(renewed);
        Ok(())
    }

    /// The client the tokens were issued to, for authenticating a refresh.
    async fn registration_for(
        &self,
        metadata: &AsMetadata,
        tokens: &Tokens,
    ) -> Result<Registration, AuthError> {
        let redirect = Url::parse(tokens.redirect_uri.as_deref().unwrap_or(""))
            .unwrap_or_else(|_| self.server.clone());
        registration::issued_to(
            &self.store,
            metadata,
            &redirect,
            &self.options.client,
            tokens,
        )
        .await
    }

    /// The tokens from a token response. A `DPoP` token is bound to `dpop`, the key its
    /// request's proof was signed with; one the server bound without being asked is refused
    /// (it could never be used), and a `Bearer` one is used as such.
    fn tokens_from(
        &self,
        issued: token::Issued,
        registration: &Registration,
        resource: &str,
        requested: &[String],
        previous_refresh: Option<Secret>,
        dpop: Option<&DpopKey>,
    ) -> Result<Tokens, AuthError> {
        let bound = issued.token_type.eq_ignore_ascii_case("dpop");
        if bound && dpop.is_none() {
            return Err(AuthError::Token(
                "the authorization server issued a DPoP-bound token to a request without a DPoP proof".into(),
            ));
        }
        if !bound && let Some(key) = dpop {
            tracing::info!(
                thumbprint = %key.thumbprint(),
                "the authorization server issued a bearer token despite the DPoP proof; using it as a bearer token"
            );
        }
        let now = now();
        Ok(Tokens {
            server_url: self.server_id.clone(),
            issuer: registration.issuer.clone(),
            client_id: registration.client_id.clone(),
            access_token: issued.access_token,
            refresh_token: issued.refresh_token.or(previous_refresh),
            token_type: issued.token_type,
            scopes: issued.scopes.unwrap_or_else(|| requested.to_vec()),
            expires_at: issued.expires_in.map(|d| clock::after(now, d.as_secs())),
            obtained_at: now,
            resource: Some(resource.to_owned()),
            redirect_uri: Some(registration.redirect_uri.clone()).filter(|r| !r.is_empty()),
            grant: self.options.grant.kind(),
            dpop_key: dpop.filter(|_| bound).map(DpopKey::stored),
        })
    }

    /// The key for a new grant: a fresh one where the authorization server offers DPoP with
    /// ES256 (or the resource requires it) and `--no-dpop` was not given.
    fn new_dpop_key(&self, discovery: &Discovery) -> Result<Option<Arc<DpopKey>>, AuthError> {
        let algs = discovery
            .metadata
            .dpop_signing_alg_values_supported
            .as_deref();
        let use_it = match (dpop::offered(algs), discovery.dpop_required) {
            (Some(false), true) => {
                return Err(AuthError::Refused(format!(
                    "the server takes only DPoP-bound tokens, and its authorization server signs none with {} (it offers {})",
                    dpop::ALG,
                    crate::net::excerpt(&algs.unwrap_or_default().join(", "), 200)
                )));
            }
            (Some(false), false) | (None, false) => false,
            (Some(true), _) | (None, true) => true,
        };
        if !use_it {
            return Ok(None);
        }
        if !self.options.dpop {
            if discovery.dpop_required {
                tracing::warn!("the server takes only DPoP-bound tokens, but --no-dpop was given");
            }
            return Ok(None);
        }
        let key = DpopKey::generate()?;
        tracing::debug!(thumbprint = %key.thumbprint(), "binding the tokens to a new DPoP key");
        Ok(Some(Arc::new(key)))
    }

    /// The key `tokens` are bound to: the one in use when it is that one (its nonces kept).
    fn key_of(&self, tokens: &Tokens) -> Result<Option<Arc<DpopKey>>, AuthError> {
        let Some(stored) = &tokens.dpop_key else {
            return Ok(None);
        };
        match self.dpop() {
            Some(key) if key.stored() == *stored => Ok(Some(key)),
            _ => Ok(Some(Arc::new(DpopKey::from_stored(stored)?))),
        }
    }

    fn adopt(&self, tokens: Tokens) {
        let key = match self.key_of(&tokens) {
            Ok(key) => key,
            Err(e) => {
                tracing::warn!("the DPoP key stored with the tokens is not usable ({e})");
                None
            }
        };
        *self.dpop.write().expect("key lock is never poisoned") = key;
        *self.current.write().expect("token lock is never poisoned") = Some(tokens);
    }

    /// The stored tokens for this server, whichever authorization server issued them.
    async fn load_stored(&self) -> Result<Option<Tokens>, AuthError> {
        if !self.store.mentions(&self.server_id).await {
            return Ok(None);
        }
        Ok(self.store.tokens_for(&self.server_id).await?)
    }

    async fn forget_tokens(&self) -> Result<(), AuthError> {
        *self.current.write().expect("token lock is never poisoned") = None;
        self.store.forget_tokens_for(&self.server_id).await?;
        Ok(())
    }

    /// The cross-process lock for this server's flows.
    async fn lock(&self) -> Result<lock::FlowLock, AuthError> {
        let key = lock_key(&self.server_id);
        let wait = self.options.timeout + LOCK_WAIT_SLACK;
        let lock = lock::acquire(&self.config_dir, &key, wait, &self.cancel).await?;
        if lock.waited() {
            tracing::info!("another mcp-bridge finished its login; checking what it stored");
        }
        tracing::debug!(lock = %lock.path().display(), "holding the login lock");
        Ok(lock)
    }

    /// Where this server's credentials come from, for log lines.
    pub(crate) fn describe(&self) -> String {
        endpoint::for_log(&self.server)
    }
}

/// The callback port for a server: stable, so a registered redirect URI stays valid.
pub(crate) fn derived_port(server_id: &str) -> u16 {
    let digest = Sha256::digest(server_id.as_bytes());
    CALLBACK_PORT_BASE + u16::from_be_bytes([digest[0], digest[1]]) % CALLBACK_PORT_SPAN
}

fn lock_key(server_id: &str) -> String {
    let digest = Sha256::digest(server_id.as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ports are stable per server, differ between servers, and stay in range.
    #[test]
    fn derived_ports() {
        let a = derived_port("https://a.example/mcp");
        assert_eq!(a, derived_port("https://a.example/mcp"));
        assert_ne!(a, derived_port("https://b.example/mcp"));
        for s in ["x", "y", "https://z/mcp"] {
            let p = derived_port(s);
            assert!((CALLBACK_PORT_BASE..CALLBACK_PORT_BASE + CALLBACK_PORT_SPAN).contains(&p));
        }
    }
}
