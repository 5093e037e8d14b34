//! Revoking tokens at the authorization server (RFC 7009) before they are forgotten,
//! authenticated as the client they were issued to.
//!
//! The request is ours rather than the `oauth2` crate's: the crate refuses any revocation
//! endpoint that is not https, while the MCP specification (and our endpoint policy) allow
//! plain http to this machine.

use super::AuthError;
use super::discovery;
use super::registration::{self, ClientIdentity};
use crate::net;
use crate::secret::Secret;
use crate::store::{Registration, Store, Tokens};
use url::Url;

/// What became of one revocation.
#[derive(Debug)]
pub(crate) struct Revoked {
    /// `refresh_token` or `access_token`.
    pub(crate) hint: &'static str,
    /// `Ok` when the authorization server accepted it.
    pub(crate) outcome: Result<(), AuthError>,
}

/// Revokes the refresh token (first: revoking it usually ends the access token too) and
/// then the access token. Returns nothing when the authorization server offers no
/// revocation; a failure to find its metadata is an error.
pub(crate) async fn revoke_tokens(
    http: &net::Client,
    store: &Store,
    tokens: &Tokens,
) -> Result<Vec<Revoked>, AuthError> {
    let metadata = discovery::fetch_as_metadata(http, &tokens.issuer).await?;
    let Some(endpoint) = metadata.revocation_endpoint.clone() else {
        return Ok(Vec::new());
    };
    discovery::check_endpoint(&endpoint, "revocation endpoint")?;
    let redirect = tokens
        .redirect_uri
        .as_deref()
        .and_then(|r| Url::parse(r).ok())
        .unwrap_or_else(|| endpoint.clone());
    let client_registration = registration::issued_to(
        store,
        &metadata,
        &redirect,
        &ClientIdentity::default(),
        tokens,
    )
    .await?;
    let mut pending = Vec::new();
    if let Some(refresh) = &tokens.refresh_token {
        pending.push(("refresh_token", refresh));
    }
    pending.push(("access_token", &tokens.access_token));
    let mut done = Vec::new();
    for (hint, token) in pending {
        let outcome = revoke(http, &endpoint, &client_registration, token, hint).await;
        done.push(Revoked { hint, outcome });
    }
    Ok(done)
}

/// One RFC 7009 request, authenticated the way the client authenticates at the token
/// endpoint (RFC 6749 section 2.3.1: HTTP Basic with form-encoded parts, or the secret in
/// the body; a public client sends its id in the body).
async fn revoke(
    http: &net::Client,
    endpoint: &Url,
    client: &Registration,
    token: &Secret,
    hint: &str,
) -> Result<(), AuthError> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token.expose())
        .append_pair("token_type_hint", hint);
    let secret = client
        .client_secret
        .as_ref()
        .filter(|_| client.token_endpoint_auth_method != "none");
    let mut request = http.for_url(endpoint)?.post(endpoint.clone());
    match secret {
        Some(secret) if client.token_endpoint_auth_method != "client_secret_post" => {
            let encode = |s: &str| -> String {
                url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
            };
            request = request.basic_auth(encode(&client.client_id), Some(encode(secret.expose())));
        }
        Some(secret) => {
            form.append_pair("client_id", &client.client_id)
                .append_pair("client_secret", secret.expose());
        }
        None => {
            form.append_pair("client_id", &client.client_id);
        }
    }
    let what = format!(
        "the revocation request to {}",
        crate::endpoint::for_log(endpoint)
    );
    let resp = request
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form.finish())
        .send()
        .await
        .map_err(|e| AuthError::send(what, e))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body = net::read_body(resp, 64 * 1024).await.unwrap_or_default();
    let detail = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            let error = v.get("error")?.as_str()?.to_owned();
            let description = v
                .get("error_description")
                .and_then(|d| d.as_str())
                .map(|d| format!(": {}", net::excerpt(d, 300)))
                .unwrap_or_default();
            Some(format!("{}{description}", net::excerpt(&error, 64)))
        })
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    Err(AuthError::Token(detail))
}
