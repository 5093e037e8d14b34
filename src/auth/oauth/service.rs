//! The OAuth client for a service with no user (`--client-credentials`, the MCP extension
//! `io.modelcontextprotocol/oauth-client-credentials`): discovery as usual, then the client
//! credentials grant with the pre-registered client's secret or private key (RFC 7523
//! `private_key_jwt`, see [`crate::auth::assertion`]); no registration, no browser.
//! A new token is fetched when the old one is about to expire, on a 401, and (with the
//! union of the scopes) on a 403 `insufficient_scope`.

use super::{FlowState, OAuth};
use crate::auth::challenge::Challenge;
use crate::auth::discovery::{self, AsMetadata};
use crate::auth::{AuthError, token};
use crate::clock;
use crate::secret::Secret;
use crate::store::Registration;

impl OAuth {
    /// Fetches a token with the client credentials grant; the caller holds both locks.
    pub(super) async fn client_credentials_locked(
        &self,
        flow: &mut FlowState,
        challenge: Option<&Challenge>,
        step_up_scopes: Option<Vec<String>>,
    ) -> Result<(), AuthError> {
        let mut discovery = discovery::discover(&self.http, &self.server, challenge).await?;
        if let Some(resource) = &self.options.resource {
            discovery.resource = resource.clone();
        }
        let metadata = &discovery.metadata;
        if let Some(grants) = &metadata.grant_types_supported
            && !grants.iter().any(|g| g == "client_credentials")
        {
            return Err(AuthError::Refused(format!(
                "the authorization server {} does not offer the client credentials grant (its grant_types_supported: {})",
                metadata.issuer,
                crate::net::excerpt(&grants.join(", "), 200)
            )));
        }
        let registration = self.service_client(metadata)?;
        // No user, so no refresh token to ask for: offline_access means nothing here.
        let mut scopes = self.choose_scopes(&discovery, challenge, step_up_scopes);
        scopes.retain(|s| s != "offline_access");
        let resource = self
            .options
            .send_resource
            .then_some(discovery.resource.as_str());
        tracing::debug!(issuer = %metadata.issuer, "requesting a token with the client credentials grant");
        let assertion = match &self.options.client.key {
            Some(key) => Some(
                key.assertion(&registration.client_id, &metadata.issuer)
                    .map_err(AuthError::Token)?,
            ),
            None => None,
        };
        let issued = token::client_credentials(
            &self.http,
            metadata,
            &registration,
            &scopes,
            resource,
            assertion.as_deref(),
        )
        .await?;
        let tokens = self.tokens_from(issued, &registration, &discovery.resource, &scopes, None);
        self.store.put_tokens(&tokens).await?;
        tracing::info!(issuer = %tokens.issuer, "authorized as a service (client credentials)");
        flow.requested = scopes;
        flow.discovery = Some(discovery);
        self.adopt(tokens);
        Ok(())
    }

    /// The pre-registered client, authenticating with its private key (`private_key_jwt`)
    /// or with its secret the way the authorization server supports (`client_secret_basic`
    /// unless it lists only `client_secret_post`).
    fn service_client(&self, metadata: &AsMetadata) -> Result<Registration, AuthError> {
        let client = &self.options.client;
        let methods = metadata.token_endpoint_auth_methods_supported.as_deref();
        let Some(client_id) = &client.client_id else {
            return Err(AuthError::Refused(
                "--client-credentials needs --client-id".into(),
            ));
        };
        if let Some(key) = &client.key {
            if let Some(m) = methods.filter(|m| !m.iter().any(|m| m == "private_key_jwt")) {
                return Err(AuthError::Refused(format!(
                    "the authorization server {} does not take private_key_jwt at its token endpoint (it supports {})",
                    metadata.issuer,
                    crate::net::excerpt(&m.join(", "), 200)
                )));
            }
            if let Some(algs) = &metadata.token_endpoint_auth_signing_alg_values_supported
                && !algs.iter().any(|a| a == key.alg())
            {
                return Err(AuthError::Refused(format!(
                    "the authorization server {} does not take {} assertions (it takes {}); choose one with --client-key-alg where the key allows it",
                    metadata.issuer,
                    key.alg(),
                    crate::net::excerpt(&algs.join(", "), 200)
                )));
            }
            return Ok(service_registration(
                metadata,
                client_id,
                None,
                "private_key_jwt".into(),
            ));
        }
        let Some(secret) = &client.client_secret else {
            return Err(AuthError::Refused(
                "--client-credentials needs --client-secret (or MCP_BRIDGE_CLIENT_SECRET) or --client-key".into(),
            ));
        };
        let method = match methods {
            // RFC 8414: absent means client_secret_basic.
            None => "client_secret_basic",
            Some(m) if m.iter().any(|m| m == "client_secret_basic") => "client_secret_basic",
            Some(m) if m.iter().any(|m| m == "client_secret_post") => "client_secret_post",
            Some(m) => {
                return Err(AuthError::Refused(format!(
                    "the authorization server {} accepts no client secret at its token endpoint (it supports {})",
                    metadata.issuer,
                    crate::net::excerpt(&m.join(", "), 200)
                )));
            }
        };
        let method = client
            .auth_method
            .clone()
            .unwrap_or_else(|| method.to_owned());
        Ok(service_registration(
            metadata,
            client_id,
            Some(secret.clone()),
            method,
        ))
    }
}

/// A service's client as the token requests need it (it has no redirect URI).
fn service_registration(
    metadata: &AsMetadata,
    client_id: &str,
    client_secret: Option<Secret>,
    token_endpoint_auth_method: String,
) -> Registration {
    Registration {
        issuer: metadata.issuer.clone(),
        client_id: client_id.to_owned(),
        client_secret,
        redirect_uri: String::new(),
        token_endpoint_auth_method,
        registration_access_token: None,
        created_at: clock::now(),
    }
}
