//! Token endpoint requests: redeeming an authorization code (with the PKCE verifier) and
//! refreshing, both with the RFC 8707 `resource` (unless `--no-resource`), through the
//! `oauth2` crate on our own reqwest client (no redirects followed, bounded time).

use super::AuthError;
use super::discovery::AsMetadata;
use crate::net;
use crate::secret::Secret;
use crate::store::Registration;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use std::time::Duration;
use url::Url;

/// Largest token response accepted.
const RESPONSE_LIMIT: usize = 256 * 1024;

/// What the token endpoint issued.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub(crate) access_token: Secret,
    pub(crate) refresh_token: Option<Secret>,
    pub(crate) token_type: String,
    pub(crate) expires_in: Option<Duration>,
    /// The scopes granted, when the server said (else the ones requested apply).
    pub(crate) scopes: Option<Vec<String>>,
}

/// Redeems an authorization code.
pub(crate) async fn redeem_code(
    http: &net::Client,
    metadata: &AsMetadata,
    registration: &Registration,
    code: &Secret,
    verifier: PkceCodeVerifier,
    redirect_uri: &Url,
    resource: Option<&str>,
) -> Result<Issued, AuthError> {
    let client = oauth_client(metadata, registration);
    let redirect = RedirectUrl::from_url(redirect_uri.clone());
    let mut request = client
        .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
        .set_pkce_verifier(verifier)
        .set_redirect_uri(std::borrow::Cow::Owned(redirect));
    if let Some(resource) = resource {
        request = request.add_extra_param("resource", resource);
    }
    let response = request
        .request_async(&Sender(http))
        .await
        .map_err(classify)?;
    issued(&response)
}

/// Exchanges a refresh token for new tokens.
pub(crate) async fn refresh(
    http: &net::Client,
    metadata: &AsMetadata,
    registration: &Registration,
    refresh_token: &Secret,
    resource: Option<&str>,
) -> Result<Issued, AuthError> {
    let client = oauth_client(metadata, registration);
    let token = RefreshToken::new(refresh_token.expose().to_owned());
    let mut request = client.exchange_refresh_token(&token);
    if let Some(resource) = resource {
        request = request.add_extra_param("resource", resource);
    }
    let response = request
        .request_async(&Sender(http))
        .await
        .map_err(classify)?;
    issued(&response)
}

/// The client credentials grant (RFC 6749 section 4.4, the MCP extension
/// `io.modelcontextprotocol/oauth-client-credentials`): the client authenticates as the
/// registration says (or with a signed `assertion`, RFC 7523) and asks for `scopes` for
/// `resource`.
pub(crate) async fn client_credentials(
    http: &net::Client,
    metadata: &AsMetadata,
    registration: &Registration,
    scopes: &[String],
    resource: Option<&str>,
    assertion: Option<&str>,
) -> Result<Issued, AuthError> {
    let client = oauth_client(metadata, registration);
    let mut request = client
        .exchange_client_credentials()
        .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())));
    if let Some(assertion) = assertion {
        // private_key_jwt: the client id in the body (no secret is set), the signed
        // assertion beside it.
        request = request
            .add_extra_param("client_assertion_type", super::assertion::ASSERTION_TYPE)
            .add_extra_param("client_assertion", assertion);
    }
    if let Some(resource) = resource {
        request = request.add_extra_param("resource", resource);
    }
    let response = request
        .request_async(&Sender(http))
        .await
        .map_err(classify)?;
    issued(&response)
}

type Client = BasicClient<
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// A client for the token endpoint authenticating as the registration says.
fn oauth_client(metadata: &AsMetadata, registration: &Registration) -> Client {
    let auth_type = match registration.token_endpoint_auth_method.as_str() {
        "client_secret_post" => AuthType::RequestBody,
        _ => AuthType::BasicAuth,
    };
    let mut client = BasicClient::new(ClientId::new(registration.client_id.clone()))
        .set_auth_type(auth_type)
        .set_token_uri(TokenUrl::from_url(metadata.token_endpoint.clone()));
    // With "none" the client id goes in the body and no secret is sent.
    if registration.token_endpoint_auth_method != "none"
        && let Some(secret) = &registration.client_secret
    {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
    }
    client
}

/// The tokens of a response, refused when the access token could not travel in an
/// `Authorization` header as it is (a CR or LF, a space, a control byte, or nothing at all):
/// such a token would never be accepted, and every request would log in again.
fn issued(response: &oauth2::basic::BasicTokenResponse) -> Result<Issued, AuthError> {
    let access = response.access_token().secret();
    if access.is_empty() || !access.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(AuthError::Token(
            "the authorization server issued an access token that cannot be sent in an HTTP header (empty, or with spaces, line breaks or other control characters)".into(),
        ));
    }
    Ok(Issued {
        access_token: Secret::new(access.clone()),
        refresh_token: response
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone())),
        token_type: response.token_type().as_ref().to_owned(),
        expires_in: response.expires_in(),
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|s: &Scope| s.to_string()).collect()),
    })
}

/// Maps the crate's error to ours; the server's own error code decides what happens next.
fn classify(e: RequestTokenError<AuthError, oauth2::basic::BasicErrorResponse>) -> AuthError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let description = r
                .error_description()
                .map(|d| format!(": {}", net::excerpt(d, 300)))
                .unwrap_or_default();
            match r.error() {
                BasicErrorResponseType::InvalidGrant => {
                    AuthError::InvalidGrant(format!("invalid_grant{description}"))
                }
                BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => {
                    AuthError::InvalidClient(format!("{}{description}", r.error().as_ref()))
                }
                other => AuthError::Token(format!("{}{description}", other.as_ref())),
            }
        }
        RequestTokenError::Request(e) => e,
        RequestTokenError::Parse(e, _) => {
            AuthError::Token(format!("the token response is not valid: {e}"))
        }
        RequestTokenError::Other(e) => AuthError::Token(e),
    }
}

/// Hands `oauth2` our reqwest client. A named type (rather than a closure) keeps the
/// request futures `Send`.
struct Sender<'a>(&'a net::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for Sender<'_> {
    type Error = AuthError;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, AuthError>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

/// Sends one token endpoint request with reqwest and hands the answer back to `oauth2`.
async fn send(
    http: &net::Client,
    req: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, AuthError> {
    let (parts, body) = req.into_parts();
    let url = Url::parse(&parts.uri.to_string())
        .map_err(|e| AuthError::Token(format!("bad endpoint URL: {e}")))?;
    let what = format!("the request to {}", crate::endpoint::for_log(&url));
    let resp = http
        .for_url(&url)?
        .request(parts.method, url.clone())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| AuthError::send(what.clone(), e))?;
    let status = resp.status();
    if status.is_redirection() {
        return Err(AuthError::Token(format!(
            "the token endpoint redirected (HTTP {}); not following",
            status.as_u16()
        )));
    }
    let headers = resp.headers().clone();
    let body = net::read_body(resp, RESPONSE_LIMIT)
        .await
        .map_err(|e| AuthError::body(what, e))?;
    let mut out = http::Response::builder().status(status);
    if let Some(h) = out.headers_mut() {
        *h = headers;
    }
    out.body(body.to_vec())
        .map_err(|e| AuthError::Token(format!("bad token response: {e}")))
}
