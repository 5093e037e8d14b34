//! The OAuth client for a service with no user: discovery as usual, then one token request,
//! with no registration and no browser. Three grants:
//!
//! - client credentials (`--client-credentials`, the MCP extension
//!   `io.modelcontextprotocol/oauth-client-credentials`) with the pre-registered client's
//!   secret or private key (RFC 7523 `private_key_jwt`, see [`crate::auth::assertion`]);
//! - JWT bearer (`--jwt-bearer-file`, RFC 7523 section 2.1, workload identity): the
//!   platform's token from a file, read again for every request since platforms rotate it;
//! - enterprise-managed authorization (`--id-token-file`, the extension
//!   `io.modelcontextprotocol/enterprise-managed-authorization`): the single sign-on ID
//!   token is exchanged at the identity provider (RFC 8693) for an ID-JAG, which the
//!   JWT-bearer grant presents to the MCP server's authorization server.
//!
//! A new token is fetched when the old one is about to expire, on a 401, and (with the
//! union of the scopes) on a 403 `insufficient_scope`. An assertion the authorization
//! server refused is never sent again: the error is reported once and stands until the
//! file holds another token.

use super::{FlowState, OAuth};
use crate::auth::challenge::Challenge;
use crate::auth::discovery::{self, AsMetadata};
use crate::auth::dpop::DpopKey;
use crate::auth::grant::{Enterprise, Grant};
use crate::auth::{AuthError, token};
use crate::clock;
use crate::secret::Secret;
use crate::store::Registration;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

/// Largest token file read (a JWT is a few kilobytes).
const TOKEN_FILE_LIMIT: u64 = 64 * 1024;
/// RFC 8693 token types of the enterprise exchange.
const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
const ID_JAG_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

impl OAuth {
    /// Fetches a token with the service grant; the caller holds both locks.
    pub(super) async fn service_locked(
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
        // No user, so no refresh token to ask for: offline_access means nothing here.
        let mut scopes = self.choose_scopes(&discovery, challenge, step_up_scopes);
        scopes.retain(|s| s != "offline_access");
        let resource = self
            .options
            .send_resource
            .then_some(discovery.resource.as_str());
        let dpop = self.new_dpop_key(&discovery)?;
        let request = ServiceRequest {
            metadata,
            scopes: &scopes,
            resource,
            dpop: dpop.as_deref(),
        };
        let (issued, registration) = match &self.options.grant {
            Grant::ClientCredentials => self.client_credentials(&request).await?,
            Grant::JwtBearer { assertion_file } => {
                let assertion = read_token_file(assertion_file, "workload identity token").await?;
                let refusal = Refusal::check(flow, &assertion)?;
                let refused = format!("the token in {}", assertion_file.display());
                refusal.record(flow, &refused, self.jwt_bearer(&request, &assertion).await)?
            }
            Grant::Enterprise(enterprise) => {
                let file = &enterprise.id_token_file;
                let id_token = read_token_file(file, "ID token").await?;
                let refusal = Refusal::check(flow, &id_token)?;
                let refused = format!(
                    "the ID token in {} (at the identity provider's token exchange)",
                    file.display()
                );
                let exchanged = self.id_jag(enterprise, &request, &id_token).await;
                let jag = refusal.record(flow, &refused, exchanged)?;
                let refused = format!(
                    "the ID-JAG for the ID token in {} (at the authorization server)",
                    file.display()
                );
                refusal.record(flow, &refused, self.jwt_bearer(&request, &jag).await)?
            }
            Grant::Browser | Grant::DeviceCode => {
                return Err(AuthError::Refused(
                    "a login by a person is not a service grant".into(),
                ));
            }
        };
        let tokens = self.tokens_from(
            issued,
            &registration,
            &discovery.resource,
            &scopes,
            None,
            request.dpop,
        )?;
        self.store.put_tokens(&tokens).await?;
        tracing::info!(
            issuer = %tokens.issuer,
            "authorized as a service ({})",
            tokens.grant.describe()
        );
        flow.requested = scopes;
        flow.discovery = Some(discovery);
        self.adopt(tokens);
        Ok(())
    }

    async fn client_credentials(
        &self,
        request: &ServiceRequest<'_>,
    ) -> Result<(token::Issued, Registration), AuthError> {
        let metadata = request.metadata;
        offers_grant(
            metadata,
            "client_credentials",
            "the client credentials grant",
        )?;
        let registration = self.service_client(metadata, true)?;
        tracing::debug!(issuer = %metadata.issuer, "requesting a token with the client credentials grant");
        let assertion = self.client_assertion(&registration, metadata)?;
        let issued = token::client_credentials(
            self.via(request),
            metadata,
            &registration,
            request.scopes,
            request.resource,
            assertion.as_deref(),
        )
        .await?;
        Ok((issued, registration))
    }

    /// The JWT-bearer grant with `assertion` (a workload identity token or an ID-JAG), the
    /// client authenticating if it has an id (and with its secret or key if it has one).
    async fn jwt_bearer(
        &self,
        request: &ServiceRequest<'_>,
        assertion: &Secret,
    ) -> Result<(token::Issued, Registration), AuthError> {
        let metadata = request.metadata;
        offers_grant(metadata, token::JWT_BEARER, "the JWT-bearer grant")?;
        let registration = self.service_client(metadata, false)?;
        tracing::debug!(issuer = %metadata.issuer, "requesting a token with the JWT-bearer grant");
        let scope = request.scopes.join(" ");
        let mut params = vec![
            ("grant_type", token::JWT_BEARER),
            ("assertion", assertion.expose()),
        ];
        if !scope.is_empty() {
            params.push(("scope", &scope));
        }
        if let Some(resource) = request.resource {
            params.push(("resource", resource));
        }
        let client_assertion = self.client_assertion(&registration, metadata)?;
        let issued = token::form_grant(
            self.via(request),
            &metadata.token_endpoint,
            &registration,
            &params,
            client_assertion.as_deref(),
        )
        .await?;
        Ok((issued, registration))
    }

    /// Exchanges the ID token at the identity provider for an ID-JAG (RFC 8693) for the MCP
    /// server's authorization server.
    async fn id_jag(
        &self,
        enterprise: &Enterprise,
        request: &ServiceRequest<'_>,
        id_token: &Secret,
    ) -> Result<Secret, AuthError> {
        let endpoint = match (&enterprise.idp_token_endpoint, &enterprise.idp_issuer) {
            (Some(endpoint), _) => endpoint.clone(),
            (None, Some(issuer)) => {
                discovery::fetch_as_metadata(&self.http, issuer)
                    .await?
                    .token_endpoint
            }
            (None, None) => {
                return Err(AuthError::Refused(
                    "--id-token-file needs --idp-issuer or --idp-token-endpoint".into(),
                ));
            }
        };
        // The ID token goes there: https, or http only on this machine.
        discovery::check_endpoint(&endpoint, "identity provider's token endpoint")?;
        let idp = Registration {
            issuer: enterprise.idp_issuer.clone().unwrap_or_default(),
            client_id: enterprise.idp_client_id.clone(),
            client_secret: enterprise.idp_client_secret.clone(),
            redirect_uri: String::new(),
            token_endpoint_auth_method: if enterprise.idp_client_secret.is_some() {
                "client_secret_basic".into()
            } else {
                "none".into()
            },
            registration_access_token: None,
            created_at: clock::now(),
        };
        let scope = request.scopes.join(" ");
        let mut params = vec![
            ("grant_type", token::TOKEN_EXCHANGE),
            ("requested_token_type", ID_JAG_TYPE),
            ("subject_token", id_token.expose()),
            ("subject_token_type", ID_TOKEN_TYPE),
            ("audience", request.metadata.issuer.as_str()),
        ];
        if let Some(resource) = request.resource {
            params.push(("resource", resource));
        }
        if !scope.is_empty() {
            params.push(("scope", &scope));
        }
        tracing::debug!(idp = %crate::endpoint::for_log(&endpoint), "exchanging the ID token for an ID-JAG");
        // The ID-JAG is an assertion for the authorization server, not a token to bind.
        let via = token::Via {
            http: &self.http,
            dpop: None,
        };
        let issued = token::form_grant(via, &endpoint, &idp, &params, None).await?;
        match issued.issued_token_type.as_deref() {
            Some(ID_JAG_TYPE) => Ok(issued.access_token),
            other => Err(AuthError::Token(format!(
                "the identity provider issued {} instead of an ID-JAG ({ID_JAG_TYPE})",
                other.map_or("a token of no stated type".to_owned(), |t| {
                    crate::net::excerpt(t, 100)
                })
            ))),
        }
    }

    /// How this grant's token requests travel (with proofs by the key to bind to).
    fn via<'a>(&'a self, request: &ServiceRequest<'a>) -> token::Via<'a> {
        token::Via {
            http: &self.http,
            dpop: request.dpop,
        }
    }

    /// The `private_key_jwt` assertion for one token request, when the client has a key.
    fn client_assertion(
        &self,
        registration: &Registration,
        metadata: &AsMetadata,
    ) -> Result<Option<String>, AuthError> {
        match &self.options.client.key {
            Some(key) if !registration.client_id.is_empty() => key
                .assertion(&registration.client_id, &metadata.issuer)
                .map(Some)
                .map_err(AuthError::Token),
            _ => Ok(None),
        }
    }

    /// The pre-registered client, authenticating with its private key (`private_key_jwt`)
    /// or with its secret the way the authorization server supports (`client_secret_basic`
    /// unless it lists only `client_secret_post`). Without `needs_credential` (the JWT-bearer
    /// grant, whose assertion is the credential) the client may be only an id, or nothing.
    fn service_client(
        &self,
        metadata: &AsMetadata,
        needs_credential: bool,
    ) -> Result<Registration, AuthError> {
        let client = &self.options.client;
        let methods = metadata.token_endpoint_auth_methods_supported.as_deref();
        let Some(client_id) = &client.client_id else {
            if needs_credential {
                return Err(AuthError::Refused(
                    "--client-credentials needs --client-id".into(),
                ));
            }
            return Ok(service_registration(metadata, "", None, "none".into()));
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
            if needs_credential {
                return Err(AuthError::Refused(
                    "--client-credentials needs --client-secret (or MCP_BRIDGE_CLIENT_SECRET) or --client-key".into(),
                ));
            }
            return Ok(service_registration(
                metadata,
                client_id,
                None,
                "none".into(),
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

/// What every service grant asks for.
struct ServiceRequest<'a> {
    metadata: &'a AsMetadata,
    scopes: &'a [String],
    /// RFC 8707 `resource`, unless `--no-resource`.
    resource: Option<&'a str>,
    /// The key the tokens are to be bound to (DPoP), if any.
    dpop: Option<&'a DpopKey>,
}

/// The memory of a refused assertion: the same token is never presented twice.
struct Refusal {
    digest: [u8; 32],
}

impl Refusal {
    /// Fails at once with the earlier refusal when `token` is the one refused.
    fn check(flow: &FlowState, token: &Secret) -> Result<Refusal, AuthError> {
        let digest: [u8; 32] = Sha256::digest(token.expose().as_bytes()).into();
        match &flow.refused_assertion {
            Some((refused, error)) if *refused == digest => Err(AuthError::Shared(error.clone())),
            _ => Ok(Refusal { digest }),
        }
    }

    /// Remembers a refusal of the token (the grant was refused, not merely not answered);
    /// `refused` names what was refused, for the message.
    fn record<T>(
        &self,
        flow: &mut FlowState,
        refused: &str,
        result: Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        let e = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !matches!(
            e,
            AuthError::InvalidGrant(_) | AuthError::InvalidClient(_) | AuthError::InvalidScope(_)
        ) {
            return Err(e);
        }
        let e = Arc::new(AuthError::Refused(format!(
            "{refused} was refused ({}); it will not be sent again: put a new one in the file",
            crate::net::error_chain(&e)
        )));
        tracing::error!("{e}");
        flow.refused_assertion = Some((self.digest, e.clone()));
        Err(AuthError::Shared(e))
    }
}

/// Refuses a grant the authorization server says it does not offer (absent means unknown).
fn offers_grant(metadata: &AsMetadata, grant: &str, name: &str) -> Result<(), AuthError> {
    match &metadata.grant_types_supported {
        Some(grants) if !grants.iter().any(|g| g == grant) => Err(AuthError::Refused(format!(
            "the authorization server {} does not offer {name} (its grant_types_supported: {})",
            metadata.issuer,
            crate::net::excerpt(&grants.join(", "), 200)
        ))),
        _ => Ok(()),
    }
}

/// Reads a token the platform or the user keeps in a file: trimmed, bounded, and never
/// shown (not even in errors).
async fn read_token_file(path: &Path, what: &str) -> Result<Secret, AuthError> {
    use tokio::io::AsyncReadExt as _;
    let unreadable = |e: std::io::Error| {
        AuthError::Refused(format!(
            "could not read the {what} file {}: {e}",
            path.display()
        ))
    };
    let file = tokio::fs::File::open(path).await.map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(TOKEN_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(unreadable)?;
    if bytes.len() as u64 > TOKEN_FILE_LIMIT {
        return Err(AuthError::Refused(format!(
            "the {what} file {} is larger than {TOKEN_FILE_LIMIT} bytes",
            path.display()
        )));
    }
    let text = String::from_utf8_lossy(&bytes);
    let token = text.trim();
    if token.is_empty() || !token.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(AuthError::Refused(format!(
            "the {what} file {} holds no token (it is empty, or has spaces or control characters inside)",
            path.display()
        )));
    }
    Ok(Secret::new(token.to_owned()))
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
