//! `mcp-bridge logout URL | --all`: forget tokens and client registrations, revoking the
//! tokens first (RFC 7009) where the authorization server offers revocation.

use crate::auth::discovery::{self, AsMetadata};
use crate::auth::store::{ItemKind, Registration, Store, StoreKind, Tokens};
use crate::exit::{ExitStatus, usage};
use crate::transport::http::{ClientOptions, build_oauth_client};
use url::Url;

pub(crate) async fn logout(
    url: Option<String>,
    all: bool,
    kind: StoreKind,
) -> anyhow::Result<ExitStatus> {
    let server_id = match &url {
        Some(u) => Some(super::server_id(u)?),
        None if all => None,
        None => return Err(usage(anyhow::anyhow!("name a server URL, or pass --all"))),
    };
    let store = super::open_store(kind).await?;
    let http = build_oauth_client(&ClientOptions::default())?;
    let entries = store.list().await?;

    let mut issuers = Vec::new();
    let mut removed = 0;
    for entry in entries.iter().filter(|e| e.kind == ItemKind::Tokens) {
        if server_id
            .as_ref()
            .is_some_and(|s| entry.server_url.as_deref() != Some(s.as_str()))
        {
            continue;
        }
        if let Some(tokens) = store.load_tokens(&entry.key).await? {
            revoke_all(&http, &store, &tokens).await;
        }
        store.delete_tokens(&entry.key).await?;
        eprintln!(
            "mcp-bridge: forgot the tokens for {}",
            entry.server_url.as_deref().unwrap_or("?")
        );
        issuers.push(entry.issuer.clone());
        removed += 1;
    }
    // Registrations go too, unless another server's tokens still rely on them.
    let remaining = store.list().await?;
    for entry in entries.iter().filter(|e| e.kind == ItemKind::Registration) {
        let in_use = remaining
            .iter()
            .any(|r| r.kind == ItemKind::Tokens && r.issuer == entry.issuer);
        if (all || issuers.contains(&entry.issuer)) && !in_use {
            store.delete_registration(&entry.key).await?;
            eprintln!(
                "mcp-bridge: forgot the client registration at {}",
                entry.issuer
            );
            removed += 1;
        }
    }
    if removed == 0 {
        eprintln!(
            "mcp-bridge: nothing stored{}",
            url.map(|u| format!(" for {u}")).unwrap_or_default()
        );
    }
    Ok(ExitStatus::Success)
}

/// Revokes the refresh token and the access token, best effort: a failure is reported and
/// the local copies are forgotten anyway.
async fn revoke_all(http: &reqwest::Client, store: &Store, tokens: &Tokens) {
    let metadata = match discovery::fetch_as_metadata(http, &tokens.issuer).await {
        Ok(m) => m,
        Err(e) => {
            return eprintln!(
                "mcp-bridge: could not revoke tokens at {} ({e})",
                tokens.issuer
            );
        }
    };
    let Some(endpoint) = &metadata.revocation_endpoint else {
        return;
    };
    let registration = registration_of(store, tokens).await;
    let mut pairs = vec![(tokens.access_token.expose(), "access_token")];
    if let Some(r) = &tokens.refresh_token {
        pairs.insert(0, (r.expose(), "refresh_token"));
    }
    for (token, hint) in pairs {
        if let Err(e) = revoke(
            http,
            &metadata,
            endpoint,
            &registration,
            &tokens.client_id,
            token,
            hint,
        )
        .await
        {
            eprintln!(
                "mcp-bridge: revoking the {hint} at {} failed: {e}",
                tokens.issuer
            );
        }
    }
}

async fn registration_of(store: &Store, tokens: &Tokens) -> Option<Registration> {
    for entry in store.list().await.ok()? {
        if entry.kind == ItemKind::Registration
            && entry.issuer == tokens.issuer
            && entry.client_id == tokens.client_id
        {
            return store.load_registration(&entry.key).await.ok().flatten();
        }
    }
    None
}

/// One RFC 7009 revocation request, authenticated the way the client authenticates.
async fn revoke(
    http: &reqwest::Client,
    metadata: &AsMetadata,
    endpoint: &Url,
    registration: &Option<Registration>,
    client_id: &str,
    token: &str,
    hint: &str,
) -> anyhow::Result<()> {
    discovery::check_endpoint(endpoint, "revocation endpoint")?;
    let mut form = vec![("token", token), ("token_type_hint", hint)];
    let mut req = http.post(endpoint.clone());
    match registration {
        Some(r)
            if r.token_endpoint_auth_method == "client_secret_basic"
                && r.client_secret.is_some() =>
        {
            let secret = r.client_secret.as_ref().map(|s| s.expose().to_owned());
            req = req.basic_auth(client_id, secret);
        }
        Some(r)
            if r.token_endpoint_auth_method == "client_secret_post"
                && r.client_secret.is_some() =>
        {
            form.push(("client_id", client_id));
            form.push((
                "client_secret",
                r.client_secret
                    .as_ref()
                    .map(|s| s.expose())
                    .unwrap_or_default(),
            ));
        }
        _ => form.push(("client_id", client_id)),
    }
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let resp = req
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("request failed: {e}"))?;
    let _ = metadata;
    anyhow::ensure!(
        resp.status().is_success(),
        "HTTP {}",
        resp.status().as_u16()
    );
    Ok(())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
