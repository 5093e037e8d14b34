//! DPoP (RFC 9449, the MCP extension `io.modelcontextprotocol/auth/dpop`): tokens bound to a
//! key pair the bridge generates, so a stolen access token is useless without the key.
//!
//! Every token request carries a proof signed by the key (`htm`, `htu`, `iat`, a fresh
//! `jti`), and so does every request to the MCP server, with `ath` (the access token's hash)
//! and the `DPoP` authorization scheme. A server that wants a nonce answers `use_dpop_nonce`
//! with a `DPoP-Nonce` header; the nonce is remembered per origin and the request sent once
//! more with it. The key is ES256 (P-256), kept with the tokens it is bound to (in the same
//! store, as a secret), and never shown.

use super::AuthError;
use crate::secret::Secret;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use url::Url;

/// The one algorithm the bridge signs proofs with.
pub(crate) const ALG: &str = "ES256";
/// The response header that carries a server's nonce.
pub(crate) const NONCE_HEADER: &str = "dpop-nonce";
/// The request header that carries the proof.
pub(crate) const PROOF_HEADER: &str = "dpop";
/// Nonces remembered at most (one per origin: the MCP server and its authorization server).
const MAX_NONCES: usize = 16;
/// Longest nonce taken from a server.
const MAX_NONCE_LEN: usize = 512;

/// A DPoP key pair and the nonces servers gave for it.
pub(crate) struct DpopKey {
    pair: EcdsaKeyPair,
    /// The PKCS#8 document, base64url, as the store keeps it.
    stored: Secret,
    /// The public key as a JWK (`kty`, `crv`, `x`, `y`).
    jwk: serde_json::Value,
    nonces: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("thumbprint", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A new key pair.
    pub(crate) fn generate() -> Result<DpopKey, AuthError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| AuthError::Token("could not generate a DPoP key".into()))?;
        DpopKey::from_pkcs8(pkcs8.as_ref())
    }

    /// The key stored with tokens (see [`DpopKey::stored`]).
    pub(crate) fn from_stored(stored: &Secret) -> Result<DpopKey, AuthError> {
        let der = URL_SAFE_NO_PAD
            .decode(stored.expose())
            .map_err(|_| AuthError::Token("the stored DPoP key is not readable".into()))?;
        DpopKey::from_pkcs8(&der)
    }

    fn from_pkcs8(der: &[u8]) -> Result<DpopKey, AuthError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|_| AuthError::Token("the DPoP key is not a P-256 key".into()))?;
        // An uncompressed point: 0x04, then x and y of 32 bytes each.
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err(AuthError::Token("unexpected DPoP public key form".into()));
        }
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        Ok(DpopKey {
            pair,
            stored: Secret::new(URL_SAFE_NO_PAD.encode(der)),
            jwk,
            nonces: Mutex::default(),
        })
    }

    /// The key as the store keeps it (a secret like the tokens themselves).
    pub(crate) fn stored(&self) -> Secret {
        self.stored.clone()
    }

    /// The JWK SHA-256 thumbprint (RFC 7638), what a bound token's `cnf.jkt` holds.
    pub(crate) fn thumbprint(&self) -> String {
        // The required members in lexicographic order, no whitespace.
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().unwrap_or_default(),
            self.jwk["y"].as_str().unwrap_or_default()
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// A fresh proof for one request: `method` to `url` (its query and fragment left out),
    /// with `ath` for `access_token` and the nonce last given by `url`'s origin.
    pub(crate) fn proof(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&Secret>,
    ) -> Result<String, AuthError> {
        let rng = SystemRandom::new();
        let mut jti = [0u8; 16];
        rng.fill(&mut jti)
            .map_err(|_| AuthError::Token("no random bytes for a DPoP proof".into()))?;
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let header = json!({"typ": "dpop+jwt", "alg": ALG, "jwk": self.jwk});
        let mut claims = json!({
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "htm": method,
            "htu": htu.as_str(),
            "iat": crate::clock::now(),
        });
        if let Some(token) = access_token {
            claims["ath"] =
                json!(URL_SAFE_NO_PAD.encode(Sha256::digest(token.expose().as_bytes())));
        }
        if let Some(nonce) = self.nonce_for(url) {
            claims["nonce"] = json!(nonce);
        }
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&rng, signing_input.as_bytes())
            .map_err(|_| AuthError::Token("signing a DPoP proof failed".into()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// Remembers the nonce in a response from `url` (`DPoP-Nonce`), if it has a usable one;
    /// `true` when it is new (a request refused for want of it is worth sending again).
    pub(crate) fn take_nonce(&self, url: &Url, headers: &http::HeaderMap) -> bool {
        let Some(nonce) = headers
            .get(NONCE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.len() <= MAX_NONCE_LEN && is_nqchar(n))
        else {
            return false;
        };
        let origin = url.origin().ascii_serialization();
        let mut nonces = self.nonces.lock().expect("nonce lock is never poisoned");
        if nonces.len() >= MAX_NONCES && !nonces.contains_key(&origin) {
            nonces.clear();
        }
        nonces.insert(origin, nonce.to_owned()).as_deref() != Some(nonce)
    }

    fn nonce_for(&self, url: &Url) -> Option<String> {
        self.nonces
            .lock()
            .expect("nonce lock is never poisoned")
            .get(&url.origin().ascii_serialization())
            .cloned()
    }
}

/// RFC 9449 section 8.1: a nonce is `1*NQCHAR` (printable ASCII but `"` and `\`).
fn is_nqchar(nonce: &str) -> bool {
    nonce
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

/// Whether a server's metadata asks for DPoP with an algorithm the bridge signs with:
/// `Some(true)` yes, `Some(false)` it advertises DPoP but not ES256, `None` no DPoP.
pub(crate) fn offered(algs: Option<&[String]>) -> Option<bool> {
    algs.map(|algs| algs.iter().any(|a| a == ALG))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    /// A proof is a dpop+jwt signed by the key in its header, with the claims RFC 9449 asks
    /// for; every proof has its own jti; ath is the token's hash; the query is left out.
    #[test]
    fn proofs_are_signed_fresh_and_bound_to_the_token() {
        let key = DpopKey::generate().unwrap();
        let url = Url::parse("https://mcp.example/mcp?session=1#x").unwrap();
        let token = Secret::new("at-123".into());
        let a = key.proof("POST", &url, Some(&token)).unwrap();
        let b = key.proof("POST", &url, Some(&token)).unwrap();
        let parts: Vec<&str> = a.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert!(header["jwk"].get("d").is_none(), "no private part");
        let claims = decode(parts[1]);
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://mcp.example/mcp");
        assert_eq!(
            claims["ath"],
            URL_SAFE_NO_PAD.encode(Sha256::digest(b"at-123"))
        );
        assert!(claims.get("nonce").is_none());
        assert_ne!(claims["jti"], decode(b.split('.').nth(1).unwrap())["jti"]);
        // The signature verifies with the public key of the header's JWK.
        let x = URL_SAFE_NO_PAD
            .decode(header["jwk"]["x"].as_str().unwrap())
            .unwrap();
        let y = URL_SAFE_NO_PAD
            .decode(header["jwk"]["y"].as_str().unwrap())
            .unwrap();
        let mut point = vec![4u8];
        point.extend(x);
        point.extend(y);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("the proof verifies");
    }

    /// The stored form gives the same key back (tokens stay bound across processes), and the
    /// thumbprint is RFC 7638's.
    #[test]
    fn stored_keys_round_trip() {
        let key = DpopKey::generate().unwrap();
        let again = DpopKey::from_stored(&key.stored()).unwrap();
        assert_eq!(key.thumbprint(), again.thumbprint());
        assert_eq!(key.jwk, again.jwk);
        assert!(DpopKey::from_stored(&Secret::new("not a key".into())).is_err());
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            key.jwk["x"].as_str().unwrap(),
            key.jwk["y"].as_str().unwrap()
        );
        assert_eq!(
            key.thumbprint(),
            URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
        );
    }

    /// Nonces are kept per origin, only printable ones are taken, and only a new one counts
    /// as a reason to send again.
    #[test]
    fn nonces_per_origin() {
        let key = DpopKey::generate().unwrap();
        let rs = Url::parse("https://mcp.example/mcp").unwrap();
        let authz = Url::parse("https://as.example/token").unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert(NONCE_HEADER, "n-1".parse().unwrap());
        assert!(key.take_nonce(&rs, &headers));
        assert!(!key.take_nonce(&rs, &headers), "the same nonce again");
        let claims = |url: &Url| {
            decode(
                key.proof("GET", url, None)
                    .unwrap()
                    .split('.')
                    .nth(1)
                    .unwrap(),
            )
        };
        assert_eq!(claims(&rs)["nonce"], "n-1");
        assert!(claims(&authz).get("nonce").is_none());
        headers.insert(NONCE_HEADER, "has\"quote".parse().unwrap());
        assert!(!key.take_nonce(&authz, &headers));
        assert!(!key.take_nonce(&authz, &http::HeaderMap::new()));
    }
}
