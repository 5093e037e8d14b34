//! The interactive part of the OAuth client: a browser login (discovery, the scopes to ask
//! for, the client's identity, the loopback callback, the code exchange).

use super::{FlowState, OAuth, derived_port};
use crate::auth::challenge::Challenge;
use crate::auth::discovery::{self, Discovery};
use crate::auth::dpop::DpopKey;
use crate::auth::grant::Grant;
use crate::auth::registration::{self, Source};
use crate::auth::{AuthError, device, flow, token};
use crate::store::Registration;
use url::Url;

impl OAuth {
    /// Discovery, client identity, browser, token; the caller holds both locks.
    pub(super) async fn login_locked(
        &self,
        flow: &mut FlowState,
        challenge: Option<&Challenge>,
        step_up_scopes: Option<Vec<String>>,
    ) -> Result<(), AuthError> {
        if self.options.grant.is_service() {
            return self.service_locked(flow, challenge, step_up_scopes).await;
        }
        let mut discovery = discovery::discover(&self.http, &self.server, challenge).await?;
        if let Some(resource) = &self.options.resource {
            discovery.resource = resource.clone();
        }
        // Refuse a server without PKCE S256 before registering with it or binding a port.
        let methods = &discovery.metadata.code_challenge_methods_supported;
        flow::require_s256(methods.as_deref())?;
        let scopes = self.choose_scopes(&discovery, challenge, step_up_scopes);
        let dpop = self.new_dpop_key(&discovery)?;
        if matches!(self.options.grant, Grant::DeviceCode) {
            let (issued, registration) = self
                .device_code(&discovery, &scopes, dpop.as_deref())
                .await?;
            return self
                .finish_login(
                    flow,
                    discovery,
                    &scopes,
                    issued,
                    &registration,
                    dpop.as_deref(),
                )
                .await;
        }
        // One retry with a fresh registration if the server no longer knows a cached one.
        let mut retried = false;
        let (issued, registration) = loop {
            let callback = self.bind_callback().await?;
            let redirect_uri = callback.redirect_uri();
            let (registration, source) = registration::client_for(
                &self.http,
                &self.store,
                &discovery.metadata,
                &redirect_uri,
                &self.options.client,
                &scopes,
            )
            .await
            .map_err(|e| static_token_hint(&discovery, e))?;
            let login = flow::Login {
                discovery: &discovery,
                registration: &registration,
                scopes: &scopes,
                send_resource: self.options.send_resource,
                extra_params: &self.options.authorize_params,
                paste: self.options.paste,
                launcher: &self.options.launcher,
                timeout: self.options.timeout,
                cancel: &self.cancel,
                dpop: dpop.as_deref(),
            };
            match flow::browser_login(&self.http, callback, login).await {
                Ok(issued) => break (issued, registration),
                Err(e)
                    if !retried
                        && self
                            .register_again(&e, source, &discovery, &redirect_uri)
                            .await? =>
                {
                    retried = true;
                }
                Err(e) => return Err(e),
            }
        };
        self.finish_login(
            flow,
            discovery,
            &scopes,
            issued,
            &registration,
            dpop.as_deref(),
        )
        .await
    }

    /// Keeps the tokens a login obtained: stored, in use, and remembered as this process's.
    async fn finish_login(
        &self,
        flow: &mut FlowState,
        discovery: Discovery,
        scopes: &[String],
        issued: token::Issued,
        registration: &Registration,
        dpop: Option<&DpopKey>,
    ) -> Result<(), AuthError> {
        let tokens = self.tokens_from(
            issued,
            registration,
            &discovery.resource,
            scopes,
            None,
            dpop,
        )?;
        self.store.put_tokens(&tokens).await?;
        flow.requested = scopes.to_vec();
        flow.discovery = Some(discovery);
        self.adopt(tokens.clone());
        tracing::info!(issuer = %tokens.issuer, "authorized");
        *self
            .logged_in
            .write()
            .expect("token lock is never poisoned") = Some(tokens);
        Ok(())
    }

    /// The device authorization grant: the client (registered for it where need be, once
    /// more if the server no longer knows a cached one), then the code shown and polled for.
    async fn device_code(
        &self,
        discovery: &Discovery,
        scopes: &[String],
        dpop: Option<&DpopKey>,
    ) -> Result<(token::Issued, Registration), AuthError> {
        // The client is registered as a native app with its usual loopback redirect URI
        // (which a device login never listens on), so one registration serves both ways.
        let port = self
            .options
            .callback_port
            .unwrap_or_else(|| derived_port(&self.server_id));
        let redirect_uri = Url::parse(&format!(
            "http://{}:{port}{}",
            self.options.callback_host, self.options.callback_path
        ))
        .map_err(|e| AuthError::Refused(format!("no redirect URI for the device client: {e}")))?;
        let mut retried = false;
        loop {
            let (registration, source) = registration::client_for(
                &self.http,
                &self.store,
                &discovery.metadata,
                &redirect_uri,
                &self.options.client,
                scopes,
            )
            .await
            .map_err(|e| static_token_hint(discovery, e))?;
            let login = device::DeviceLogin {
                metadata: &discovery.metadata,
                registration: &registration,
                scopes,
                resource: self
                    .options
                    .send_resource
                    .then_some(discovery.resource.as_str()),
                server: &self.describe(),
                timeout: self.options.timeout,
                cancel: &self.cancel,
                dpop,
            };
            match device::device_login(&self.http, login).await {
                Ok(issued) => return Ok((issued, registration)),
                // A cached client from a browser login may not be allowed the device grant.
                Err(e)
                    if !retried
                        && self
                            .register_again(&e, source, discovery, &redirect_uri)
                            .await? =>
                {
                    retried = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether a login that failed with `e` is tried once more with a fresh registration:
    /// when the server refused a client we registered or cached (it may have forgotten it,
    /// or not allow it this grant). The stale registration is forgotten first.
    async fn register_again(
        &self,
        e: &AuthError,
        source: Source,
        discovery: &Discovery,
        redirect_uri: &Url,
    ) -> Result<bool, AuthError> {
        let AuthError::InvalidClient(why) = e else {
            return Ok(false);
        };
        if !matches!(source, Source::Cached | Source::Registered) {
            return Ok(false);
        }
        tracing::info!(
            "the authorization server rejected the stored registration ({why}); registering again"
        );
        self.store
            .forget_registration(&discovery.metadata.issuer, redirect_uri.as_str())
            .await?;
        Ok(true)
    }

    /// The scopes to request: a step-up's union (which already holds `--scope`'s), else
    /// `--scope`, else the challenge's, else the PRM's `scopes_supported`, else none; plus
    /// `offline_access` when the authorization server offers it (for a refresh token).
    pub(super) fn choose_scopes(
        &self,
        discovery: &Discovery,
        challenge: Option<&Challenge>,
        step_up: Option<Vec<String>>,
    ) -> Vec<String> {
        let mut scopes = step_up
            .or_else(|| self.options.scopes.clone())
            .or_else(|| challenge.and_then(Challenge::scopes))
            .or_else(|| discovery.prm_scopes.clone())
            .unwrap_or_default();
        let offers_offline = discovery
            .metadata
            .scopes_supported
            .as_ref()
            .is_some_and(|s| s.iter().any(|s| s == "offline_access"));
        if offers_offline && !scopes.iter().any(|s| s == "offline_access") {
            scopes.push("offline_access".to_owned());
        }
        scopes
    }

    /// Binds the loopback callback: the pinned port, else the server's derived port, else
    /// (when that one is busy) any free port, which means a fresh registration.
    async fn bind_callback(&self) -> Result<crate::auth::callback::CallbackServer, AuthError> {
        use crate::auth::callback::{self, CallbackError};
        let host = &self.options.callback_host;
        let path = &self.options.callback_path;
        if let Some(port) = self.options.callback_port {
            return Ok(callback::bind_at(host, port, path).await?);
        }
        let port = derived_port(&self.server_id);
        match callback::bind_at(host, port, path).await {
            Ok(server) => Ok(server),
            Err(CallbackError::PortInUse(_)) => {
                tracing::info!(
                    port,
                    "the usual callback port is busy; using another (the client registers again)"
                );
                Ok(callback::bind_at(host, 0, path).await?)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// A registration that failed against endpoints that were only guessed (the server has no
/// OAuth metadata at all) most likely means OAuth is the wrong way in: say what to do.
fn static_token_hint(discovery: &Discovery, e: AuthError) -> AuthError {
    if !discovery.guessed {
        return e;
    }
    AuthError::Refused(format!(
        "this server answered 401 but publishes no OAuth metadata, so it probably wants a static token: pass --bearer TOKEN or set MCP_BRIDGE_BEARER (OAuth was tried anyway and failed: {})",
        crate::net::error_chain(&e)
    ))
}
