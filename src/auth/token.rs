//! Token endpoint requests: redeeming an authorization code (with the PKCE verifier),
//! refreshing and the client credentials grant through the `oauth2` crate, and the grants it
//! has no builder for (JWT bearer, token exchange) as plain forms; all with the RFC 8707
//! `resource` (unless `--no-resource`), on our own reqwest client (no redirects followed,
//! bounded time).

use super::AuthError;
use super::discovery::AsMetadata;
use super::dpop::{self, DpopKey};
use crate::net;
use crate::secret::Secret;
use crate::store::Registration;
use base64::Engine as _;
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
    /// What a token exchange (RFC 8693) says it issued.
    pub(crate) issued_token_type: Option<String>,
}

/// The JWT-bearer grant (RFC 7523 section 2.1).
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The token exchange grant (RFC 8693).
pub(crate) const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Redeems an authorization code.
pub(crate) async fn redeem_code(
    via: Via<'_>,
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
    let response = request.request_async(&via).await.map_err(classify)?;
    issued(&response)
}

/// Exchanges a refresh token for new tokens.
pub(crate) async fn refresh(
    via: Via<'_>,
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
    let response = request.request_async(&via).await.map_err(classify)?;
    issued(&response)
}

/// The client credentials grant (RFC 6749 section 4.4, the MCP extension
/// `io.modelcontextprotocol/oauth-client-credentials`): the client authenticates as the
/// registration says (or with a signed `assertion`, RFC 7523) and asks for `scopes` for
/// `resource`.
pub(crate) async fn client_credentials(
    via: Via<'_>,
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
    let response = request.request_async(&via).await.map_err(classify)?;
    issued(&response)
}

/// A token request the `oauth2` crate has no builder for (the JWT-bearer grant, token
/// exchange): `params` are the grant's own form fields, and the client authenticates as
/// `registration` says (its secret in a Basic header or the body, a signed
/// `client_assertion`, or only its id with `none`; nothing at all without a client id).
pub(crate) async fn form_grant(
    via: Via<'_>,
    token_endpoint: &Url,
    registration: &Registration,
    params: &[(&str, &str)],
    client_assertion: Option<&str>,
) -> Result<Issued, AuthError> {
    let response = post_form(via, token_endpoint, registration, params, client_assertion).await?;
    token_response(&response)
}

/// POSTs a form to an authorization server endpoint with the client's authentication (see
/// [`form_grant`]) and hands back the answer, whatever its status.
pub(crate) async fn post_form(
    via: Via<'_>,
    endpoint: &Url,
    registration: &Registration,
    params: &[(&str, &str)],
    client_assertion: Option<&str>,
) -> Result<oauth2::HttpResponse, AuthError> {
    let (body, basic) = client_form(registration, params, client_assertion);
    let mut request = http::Request::builder()
        .method(http::Method::POST)
        .uri(endpoint.as_str())
        .header(http::header::ACCEPT, "application/json")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    if let Some(basic) = basic {
        request = request.header(http::header::AUTHORIZATION, basic);
    }
    let request = request
        .body(body.into_bytes())
        .map_err(|e| AuthError::Token(format!("bad token request: {e}")))?;
    send(via.http, request, via.dpop).await
}

/// The tokens of a token endpoint's answer, or the error it gave.
pub(crate) fn token_response(response: &oauth2::HttpResponse) -> Result<Issued, AuthError> {
    let body = response.body();
    if !response.status().is_success() {
        return match serde_json::from_slice::<oauth2::basic::BasicErrorResponse>(body) {
            Ok(r) => Err(server_error(&r)),
            Err(_) => Err(AuthError::Token(format!(
                "the token endpoint answered HTTP {}: {}",
                response.status().as_u16(),
                net::excerpt(&String::from_utf8_lossy(body), 300)
            ))),
        };
    }
    let parsed: oauth2::basic::BasicTokenResponse = serde_json::from_slice(body)
        .map_err(|e| AuthError::Token(format!("the token response is not valid: {e}")))?;
    let mut out = issued(&parsed)?;
    out.issued_token_type = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("issued_token_type")?.as_str().map(str::to_owned));
    Ok(out)
}

/// The form of a token request with the client's authentication: in the body, or as the
/// `Authorization: Basic` value returned beside it.
fn client_form(
    registration: &Registration,
    params: &[(&str, &str)],
    client_assertion: Option<&str>,
) -> (String, Option<String>) {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(params.iter().copied());
    let id = registration.client_id.as_str();
    let secret = registration.client_secret.as_ref().map(|s| s.expose());
    let mut basic = None;
    match (
        registration.token_endpoint_auth_method.as_str(),
        secret,
        client_assertion,
    ) {
        _ if id.is_empty() => {}
        (_, _, Some(assertion)) => {
            form.append_pair("client_id", id);
            form.append_pair("client_assertion_type", super::assertion::ASSERTION_TYPE);
            form.append_pair("client_assertion", assertion);
        }
        ("client_secret_basic", Some(secret), None) => {
            // RFC 6749 section 2.3.1: both parts form-encoded before the Basic encoding.
            let encode =
                |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", encode(id), encode(secret));
            basic = Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ));
        }
        ("client_secret_post", Some(secret), None) => {
            form.append_pair("client_id", id);
            form.append_pair("client_secret", secret);
        }
        _ => {
            form.append_pair("client_id", id);
        }
    }
    (form.finish(), basic)
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
        issued_token_type: None,
    })
}

/// Maps the crate's error to ours; the server's own error code decides what happens next.
fn classify(e: RequestTokenError<AuthError, oauth2::basic::BasicErrorResponse>) -> AuthError {
    match e {
        RequestTokenError::ServerResponse(r) => server_error(&r),
        RequestTokenError::Request(e) => e,
        RequestTokenError::Parse(e, _) => {
            AuthError::Token(format!("the token response is not valid: {e}"))
        }
        RequestTokenError::Other(e) => AuthError::Token(e),
    }
}

/// The authorization server's own error: its code decides what happens next.
fn server_error(r: &oauth2::basic::BasicErrorResponse) -> AuthError {
    let description = r
        .error_description()
        .map(|d| format!(": {}", net::excerpt(d, 300)))
        .unwrap_or_default();
    let code = net::excerpt(r.error().as_ref(), 80);
    match r.error() {
        BasicErrorResponseType::InvalidGrant => {
            AuthError::InvalidGrant(format!("invalid_grant{description}"))
        }
        BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient => {
            AuthError::InvalidClient(format!("{code}{description}"))
        }
        BasicErrorResponseType::InvalidScope => {
            AuthError::InvalidScope(format!("invalid_scope{description}"))
        }
        _ => AuthError::Token(format!("{code}{description}")),
    }
}

/// How token requests travel: our reqwest client, with proofs by the DPoP key the tokens
/// are to be bound to, if any. Also hands `oauth2` the client (a named type rather than a
/// closure keeps the request futures `Send`).
#[derive(Clone, Copy)]
pub(crate) struct Via<'a> {
    pub(crate) http: &'a net::Client,
    pub(crate) dpop: Option<&'a DpopKey>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for Via<'_> {
    type Error = AuthError;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, AuthError>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send(self.http, request, self.dpop))
    }
}

/// Sends one token endpoint request with reqwest and hands the answer back to `oauth2`.
/// With a DPoP key the request carries a fresh proof, and is sent once more with the
/// server's nonce when it answers `use_dpop_nonce` (RFC 9449 section 8).
async fn send(
    http: &net::Client,
    req: oauth2::HttpRequest,
    dpop: Option<&DpopKey>,
) -> Result<oauth2::HttpResponse, AuthError> {
    let (parts, body) = req.into_parts();
    let url = Url::parse(&parts.uri.to_string())
        .map_err(|e| AuthError::Token(format!("bad endpoint URL: {e}")))?;
    let what = format!("the request to {}", crate::endpoint::for_log(&url));
    let mut nonce_retried = false;
    loop {
        let mut headers = parts.headers.clone();
        if let Some(key) = dpop {
            let proof = key.proof(parts.method.as_str(), &url, None)?;
            let value = http::HeaderValue::from_str(&proof)
                .map_err(|_| AuthError::Token("a DPoP proof that is no header value".into()))?;
            headers.insert(dpop::PROOF_HEADER, value);
        }
        let resp = http
            .for_url(&url)?
            .request(parts.method.clone(), url.clone())
            .headers(headers)
            .body(body.clone())
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
            .map_err(|e| AuthError::body(what.clone(), e))?;
        let new_nonce = dpop.is_some_and(|key| key.take_nonce(&url, &headers));
        if status == http::StatusCode::BAD_REQUEST
            && new_nonce
            && !nonce_retried
            && error_code(&body).as_deref() == Some("use_dpop_nonce")
        {
            tracing::debug!(
                "the authorization server wants a DPoP nonce; sending the token request again with it"
            );
            nonce_retried = true;
            continue;
        }
        let mut out = http::Response::builder().status(status);
        if let Some(h) = out.headers_mut() {
            *h = headers;
        }
        return out
            .body(body.to_vec())
            .map_err(|e| AuthError::Token(format!("bad token response: {e}")));
    }
}

/// The OAuth `error` code of an error response body.
pub(crate) fn error_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    Some(value.get("error")?.as_str()?.to_owned())
}
