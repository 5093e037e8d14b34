//! `private_key_jwt` (RFC 7523 section 2.2, OpenID Connect client authentication): the client
//! proves who it is with a short-lived JWT signed by its private key (`--client-key FILE`),
//! sent as `client_assertion` in the token request.
//!
//! The key is a PEM file (PKCS#8, or SEC1 for EC and PKCS#1 for RSA), read once at start and
//! never shown. Its kind decides the algorithm (P-256: ES256, P-384: ES384, Ed25519: EdDSA,
//! RSA: RS256 unless `--client-key-alg` picks RS384, RS512, PS256, PS384 or PS512). The
//! assertion's `iss` and `sub` are the client id, its `aud` the authorization server's
//! issuer, and it lives for [`LIFETIME`] with a fresh `jti`.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, RsaEncoding, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::json;
use std::path::Path;

/// How long an assertion is valid.
const LIFETIME: u64 = 60;

/// `client_assertion_type` for a JWT (RFC 7523 section 2.2).
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The private key that signs client assertions.
pub(crate) struct ClientKey {
    signer: Signer,
    alg: &'static str,
}

enum Signer {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair, &'static dyn RsaEncoding),
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl ClientKey {
    /// Reads the key in `path`, with `alg` (`--client-key-alg`) where the key allows more
    /// than one. The error names the file, never its content.
    pub(crate) fn load(path: &Path, alg: Option<&str>) -> Result<ClientKey, String> {
        let shown = path.display();
        let pem =
            std::fs::read(path).map_err(|e| format!("cannot read --client-key {shown}: {e}"))?;
        let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
            format!("--client-key {shown} holds no PEM private key (PKCS#8, SEC1 or PKCS#1)")
        })?;
        let key =
            ClientKey::from_der(&der, alg).map_err(|e| format!("--client-key {shown}: {e}"))?;
        Ok(key)
    }

    fn from_der(der: &PrivateKeyDer<'_>, alg: Option<&str>) -> Result<ClientKey, String> {
        let bytes = der.secret_der();
        let ec = |ec_alg: &'static signature::EcdsaSigningAlgorithm| match der {
            PrivateKeyDer::Pkcs8(_) => EcdsaKeyPair::from_pkcs8(ec_alg, bytes).ok(),
            PrivateKeyDer::Sec1(_) => EcdsaKeyPair::from_private_key_der(ec_alg, bytes).ok(),
            _ => None,
        };
        let rsa = || match der {
            PrivateKeyDer::Pkcs8(_) => RsaKeyPair::from_pkcs8(bytes).ok(),
            PrivateKeyDer::Pkcs1(_) => RsaKeyPair::from_der(bytes).ok(),
            _ => None,
        };
        let (signer, default) = if let Some(k) = ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING) {
            (Signer::Ec(k), "ES256")
        } else if let Some(k) = ec(&signature::ECDSA_P384_SHA384_FIXED_SIGNING) {
            (Signer::Ec(k), "ES384")
        } else if let Some(k) = matches!(der, PrivateKeyDer::Pkcs8(_))
            .then(|| Ed25519KeyPair::from_pkcs8(bytes).ok())
            .flatten()
        {
            (Signer::Ed(k), "EdDSA")
        } else if let Some(k) = rsa() {
            (Signer::Rsa(k, &signature::RSA_PKCS1_SHA256), "RS256")
        } else {
            return Err(
                "not a key this client can sign with (EC P-256 or P-384, Ed25519, or RSA)".into(),
            );
        };
        let Some(alg) = alg.filter(|a| *a != default) else {
            return Ok(ClientKey {
                signer,
                alg: default,
            });
        };
        let encoding: &'static dyn RsaEncoding = match alg {
            "RS384" => &signature::RSA_PKCS1_SHA384,
            "RS512" => &signature::RSA_PKCS1_SHA512,
            "PS256" => &signature::RSA_PSS_SHA256,
            "PS384" => &signature::RSA_PSS_SHA384,
            "PS512" => &signature::RSA_PSS_SHA512,
            _ => {
                return Err(format!(
                    "--client-key-alg {alg:?} does not fit this key (it signs with {default})"
                ));
            }
        };
        match signer {
            Signer::Rsa(k, _) => Ok(ClientKey {
                signer: Signer::Rsa(k, encoding),
                alg: match alg {
                    "RS384" => "RS384",
                    "RS512" => "RS512",
                    "PS256" => "PS256",
                    "PS384" => "PS384",
                    _ => "PS512",
                },
            }),
            _ => Err(format!(
                "--client-key-alg {alg:?} does not fit this key (it signs with {default})"
            )),
        }
    }

    /// The algorithm the assertions are signed with.
    pub(crate) fn alg(&self) -> &'static str {
        self.alg
    }

    /// A fresh assertion for `client_id` at the authorization server `audience` (its issuer).
    pub(crate) fn assertion(&self, client_id: &str, audience: &str) -> Result<String, String> {
        let rng = SystemRandom::new();
        let mut jti = [0u8; 16];
        rng.fill(&mut jti)
            .map_err(|_| "no random bytes for the assertion".to_owned())?;
        let now = crate::clock::now();
        let header = json!({"alg": self.alg, "typ": "JWT"});
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + LIFETIME,
            "jti": URL_SAFE_NO_PAD.encode(jti),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let failed = |_| "signing the client assertion failed".to_owned();
        let signature = match &self.signer {
            Signer::Ec(k) => k
                .sign(&rng, signing_input.as_bytes())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            Signer::Ed(k) => k.sign(signing_input.as_bytes()).as_ref().to_vec(),
            Signer::Rsa(k, encoding) => {
                let mut out = vec![0u8; k.public_modulus_len()];
                k.sign(*encoding, &rng, signing_input.as_bytes(), &mut out)
                    .map_err(failed)?;
                out
            }
        };
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{KeyPair, UnparsedPublicKey, VerificationAlgorithm};

    fn pem(label: &str, der: &[u8]) -> Vec<u8> {
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
        .into_bytes()
    }

    fn load(pem_bytes: &[u8], alg: Option<&str>) -> Result<ClientKey, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, pem_bytes).unwrap();
        ClientKey::load(&path, alg)
    }

    /// Splits an assertion and checks its signature with the public key.
    fn verify(
        jwt: &str,
        public: &[u8],
        alg: &'static dyn VerificationAlgorithm,
    ) -> serde_json::Value {
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let signed = format!("{}.{}", parts[0], parts[1]);
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        UnparsedPublicKey::new(alg, public)
            .verify(signed.as_bytes(), &sig)
            .expect("the signature verifies");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
    }

    /// A P-256 key signs ES256 assertions with the claims RFC 7523 asks for.
    #[test]
    fn es256_assertion_verifies() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .unwrap();
        let key = load(&pem("PRIVATE KEY", pkcs8.as_ref()), None).unwrap();
        assert_eq!(key.alg(), "ES256");
        let jwt = key.assertion("svc", "https://as.example").unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(jwt.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "ES256");
        let claims = verify(
            &jwt,
            pair.public_key().as_ref(),
            &signature::ECDSA_P256_SHA256_FIXED,
        );
        assert_eq!(claims["iss"], "svc");
        assert_eq!(claims["sub"], "svc");
        assert_eq!(claims["aud"], "https://as.example");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            LIFETIME
        );
        let other = key.assertion("svc", "https://as.example").unwrap();
        let jti = |j: &str| {
            verify(
                j,
                pair.public_key().as_ref(),
                &signature::ECDSA_P256_SHA256_FIXED,
            )["jti"]
                .clone()
        };
        assert_ne!(jti(&jwt), jti(&other), "a fresh jti each time");
        assert!(load(&pem("PRIVATE KEY", pkcs8.as_ref()), Some("RS256")).is_err());
    }

    /// Ed25519 keys sign EdDSA; garbage and missing files are errors that name the file
    /// and never show its content.
    #[test]
    fn other_keys_and_errors() {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let key = load(&pem("PRIVATE KEY", pkcs8.as_ref()), None).unwrap();
        assert_eq!(key.alg(), "EdDSA");
        let jwt = key.assertion("c", "https://as").unwrap();
        verify(&jwt, pair.public_key().as_ref(), &signature::ED25519);

        let e = load(b"secret-looking garbage", None).unwrap_err();
        assert!(
            e.contains("no PEM private key") && !e.contains("garbage"),
            "{e}"
        );
        let e = ClientKey::load(Path::new("/nonexistent/key.pem"), None).unwrap_err();
        assert!(e.contains("/nonexistent/key.pem"), "{e}");
    }
}
