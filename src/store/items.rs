//! What the store holds: tokens per MCP server, client registrations per authorization
//! server, the secret-free index entries that describe them, and the keys they are filed
//! under.

use super::{Result, StoreError};
use crate::secret::Secret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Tokens for one MCP server, from one authorization server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tokens {
    /// The MCP server URL (canonical resource) the tokens are for.
    pub(crate) server_url: String,
    /// Issuer of the authorization server that minted them.
    pub(crate) issuer: String,
    /// The client they were issued to.
    pub(crate) client_id: String,
    /// Sent as `Authorization: Bearer` to the server's origin only.
    pub(crate) access_token: Secret,
    /// For the refresh grant, if the authorization server issued one.
    #[serde(default)]
    pub(crate) refresh_token: Option<Secret>,
    /// As returned by the token endpoint (normally `Bearer`).
    pub(crate) token_type: String,
    /// Scopes granted (or requested, when the token response did not say).
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// When the access token expires, in unix seconds, if known.
    #[serde(default)]
    pub(crate) expires_at: Option<u64>,
    /// When the tokens were obtained, in unix seconds.
    pub(crate) obtained_at: u64,
    /// The `resource` (RFC 8707) they were requested for; refreshes ask for the same.
    #[serde(default)]
    pub(crate) resource: Option<String>,
    /// The redirect URI of the client they were issued to (finds its registration again).
    #[serde(default)]
    pub(crate) redirect_uri: Option<String>,
    /// How they were obtained.
    #[serde(default)]
    pub(crate) grant: GrantKind,
    /// The DPoP key the tokens are bound to (RFC 9449), as a PKCS#8 document in base64url:
    /// as secret as the tokens, and kept with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dpop_key: Option<Secret>,
}

/// How tokens were obtained, as `status` shows it (tokens stored before this was recorded
/// came from a browser login).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GrantKind {
    #[default]
    Browser,
    DeviceCode,
    ClientCredentials,
    JwtBearer,
    Enterprise,
}

impl GrantKind {
    /// For people.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            GrantKind::Browser => "browser login",
            GrantKind::DeviceCode => "device code",
            GrantKind::ClientCredentials => "client credentials",
            GrantKind::JwtBearer => "JWT bearer (workload identity)",
            GrantKind::Enterprise => "enterprise SSO (ID-JAG)",
        }
    }
}

/// A client identity at one authorization server (from Dynamic Client Registration, a
/// Client ID Metadata Document, or given by the user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Registration {
    /// Issuer of the authorization server the client is registered with.
    pub(crate) issuer: String,
    /// The client id.
    pub(crate) client_id: String,
    /// The client secret, for confidential clients.
    #[serde(default)]
    pub(crate) client_secret: Option<Secret>,
    /// The redirect URI the client was registered with.
    pub(crate) redirect_uri: String,
    /// `none`, `client_secret_basic` or `client_secret_post`.
    pub(crate) token_endpoint_auth_method: String,
    /// RFC 7592 registration access token, if the authorization server returned one.
    #[serde(default)]
    pub(crate) registration_access_token: Option<Secret>,
    /// When the client was registered, in unix seconds.
    pub(crate) created_at: u64,
}

/// Where to keep credentials (`--store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StoreChoice {
    /// The OS keyring if it works, else a private file in the config directory.
    #[default]
    Auto,
    /// The OS keyring only; fail if there is none.
    Keyring,
    /// A private file (mode 0600) in the config directory.
    File,
    /// This process's memory only; nothing survives exit.
    Memory,
}

/// Which backend holds an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Location {
    /// The OS keyring.
    Keyring,
    /// `credentials.json` in the config directory.
    File,
    /// This process's memory.
    Memory,
}

/// What an index entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ItemKind {
    /// A [`Tokens`].
    Tokens,
    /// A [`Registration`].
    Registration,
}

/// One stored item as `index.json` lists it: enough for `status` and `logout`, no secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexEntry {
    /// The item's key.
    pub(crate) key: String,
    /// Tokens or registration.
    pub(crate) kind: ItemKind,
    /// The MCP server, for tokens.
    #[serde(default)]
    pub(crate) server_url: Option<String>,
    /// The authorization server.
    pub(crate) issuer: String,
    /// The client.
    pub(crate) client_id: String,
    /// Granted scopes, for tokens.
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// Access token expiry (unix seconds), for tokens.
    #[serde(default)]
    pub(crate) expires_at: Option<u64>,
    /// How the tokens were obtained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) grant: Option<GrantKind>,
    /// Whether the tokens are bound to a DPoP key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) dpop: bool,
    /// Where the item itself is.
    pub(crate) backend: Location,
}

/// The key under which the tokens for `server_url`, issued by `issuer`, are stored.
///
/// Pass the canonical resource URL: the key is computed from the exact strings, with each
/// part length-prefixed, so two servers, two tenants (paths) or two issuers never collide.
pub(crate) fn tokens_key(server_url: &str, issuer: &str) -> String {
    hashed_key("tokens", &[server_url, issuer])
}

/// The key under which the client registration at `issuer` for `redirect_uri` is stored.
pub(crate) fn registration_key(issuer: &str, redirect_uri: &str) -> String {
    hashed_key("registration", &[issuer, redirect_uri])
}

/// `<kind>:<32 hex digits of sha256(kind, len-prefixed parts)>`.
fn hashed_key(kind: &str, parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(kind.as_bytes());
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let hex: String = hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{kind}:{hex}")
}

/// An item the store can hold.
pub(super) trait Item: Serialize + DeserializeOwned + Send + 'static {
    const KIND: ItemKind;
    /// The index line for this item under `key`.
    fn index_entry(&self, key: &str) -> IndexEntry;
}

impl Item for Tokens {
    const KIND: ItemKind = ItemKind::Tokens;
    fn index_entry(&self, key: &str) -> IndexEntry {
        IndexEntry {
            key: key.to_owned(),
            kind: Self::KIND,
            server_url: Some(self.server_url.clone()),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
            expires_at: self.expires_at,
            grant: Some(self.grant),
            dpop: self.dpop_key.is_some(),
            backend: Location::Memory,
        }
    }
}

impl Item for Registration {
    const KIND: ItemKind = ItemKind::Registration;
    fn index_entry(&self, key: &str) -> IndexEntry {
        IndexEntry {
            key: key.to_owned(),
            kind: Self::KIND,
            server_url: None,
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            scopes: Vec::new(),
            expires_at: None,
            grant: None,
            dpop: false,
            backend: Location::Memory,
        }
    }
}

/// Item keys: what the key helpers produce, plus anything equally harmless as a file-map
/// key and a keyring user name.
pub(super) fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidKey {
            key: key.to_owned(),
        })
    }
}
