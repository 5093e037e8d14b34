//! The TLS handshake, made here with the roots the bridge trusts (the platform's, plus
//! `--ca-cert` and `SSL_CERT_FILE`, verified the way reqwest verifies them), to show the
//! leaf certificate (subject, issuer, expiry) or the exact TLS error.

use super::report::{Tls, Verdict};
use crate::net::TlsConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Runs the handshake for `host` over `stream`; `now` is for the days left.
pub(super) async fn handshake(
    stream: TcpStream,
    host: &str,
    roots: &TlsConfig,
    timeout: Duration,
    now: u64,
) -> Tls {
    let started = Instant::now();
    let mut tls = Tls::default();
    let verifier = match verifier(roots) {
        Ok(v) => v,
        Err(e) => {
            tls.error = Some(format!("cannot set up TLS: {e:#}"));
            return tls;
        }
    };
    let recording = Arc::new(Recording {
        inner: verifier,
        leaf: Mutex::new(None),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("the default provider supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(recording.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let name = match ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']')) {
        Ok(name) => name.to_owned(),
        Err(e) => {
            tls.error = Some(format!("{host:?} cannot be a TLS server name: {e}"));
            return tls;
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(timeout, connector.connect(name, stream)).await;
    tls.millis = started.elapsed().as_millis();
    match result {
        Ok(Ok(stream)) => {
            let (_, session) = stream.get_ref();
            tls.version = session.protocol_version().map(|v| {
                v.as_str()
                    .map(|s| s.replace('_', "."))
                    .unwrap_or_else(|| format!("{v:?}"))
            });
            tls.alpn = session
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned());
        }
        Ok(Err(e)) => tls.error = Some(describe_error(&e)),
        Err(_) => tls.error = Some(format!("no TLS handshake within {} s", timeout.as_secs())),
    }
    let leaf = recording
        .leaf
        .lock()
        .expect("the certificate lock is never poisoned")
        .take();
    if let Some(der) = leaf {
        describe_certificate(&der, now, &mut tls);
    }
    tls
}

/// The cryptography reqwest uses.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// The platform's verifier with the extra roots, as reqwest builds it.
fn verifier(roots: &TlsConfig) -> anyhow::Result<Arc<dyn ServerCertVerifier>> {
    let extra = roots.der_roots()?;
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(provider())?
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider())?
    };
    Ok(Arc::new(verifier))
}

/// The rustls error inside an I/O error, in rustls's own words.
fn describe_error(e: &std::io::Error) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => {
            format!("invalid peer certificate: {}", certificate_error(c))
        }
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}

fn certificate_error(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => {
            "it is signed by a certificate authority this machine does not trust (UnknownIssuer)"
                .into()
        }
        C::Expired | C::ExpiredContext { .. } => "it has expired (Expired)".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "it is not valid yet (NotValidYet)".into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "it is not valid for this host name (NotValidForName)".into()
        }
        C::Revoked => "it has been revoked (Revoked)".into(),
        C::Other(o) => format!("{o}"),
        other => format!("{other:?}"),
    }
}

/// Subject, issuer and validity of the leaf certificate.
fn describe_certificate(der: &[u8], now: u64, tls: &mut Tls) {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            tls.subject = Some(cert.subject().to_string());
            tls.issuer = Some(cert.issuer().to_string());
            let validity = cert.validity();
            let not_after = validity.not_after.timestamp();
            tls.not_before = Some(validity.not_before.timestamp());
            tls.not_after = Some(not_after);
            tls.days_left = Some((not_after - now as i64).div_euclid(86_400));
        }
        Err(e) => tls.subject = Some(format!("(the certificate cannot be read: {e})")),
    }
}

/// The verdict for a failed handshake.
pub(super) fn verdict(tls: &Tls) -> Verdict {
    let error = tls.error.clone().unwrap_or_default();
    let fix = if error.contains("UnknownIssuer") {
        "pass --ca-cert FILE (or set MCP_BRIDGE_CA_CERT or SSL_CERT_FILE) with the certificate of the CA that signed it"
    } else if error.contains("Expired") || error.contains("NotValidYet") {
        "the server's certificate must be renewed (or this machine's clock is wrong)"
    } else if error.contains("NotValidForName") {
        "use the host name the certificate was issued for"
    } else {
        "is this port serving TLS? (an http:// URL, or the wrong port)"
    };
    Verdict::fail(format!("the TLS handshake failed: {error}"), fix)
}

/// The platform verifier, keeping the leaf certificate it was shown (even when it refuses it).
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn ServerCertVerifier>,
    leaf: Mutex<Option<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self
            .leaf
            .lock()
            .expect("the certificate lock is never poisoned") =
            Some(end_entity.clone().into_owned());
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind of TLS failure gets its own fix.
    #[test]
    fn tls_verdicts() {
        let failed = |e: &str| Tls {
            error: Some(e.into()),
            ..Tls::default()
        };
        let unknown = verdict(&failed(&format!(
            "invalid peer certificate: {}",
            certificate_error(&rustls::CertificateError::UnknownIssuer)
        )));
        assert!(unknown.line().contains("--ca-cert"), "{}", unknown.line());
        let expired = verdict(&failed(&certificate_error(
            &rustls::CertificateError::Expired,
        )));
        assert!(expired.line().contains("renewed"));
        let plain = verdict(&failed(
            "received corrupt message of type InvalidContentType",
        ));
        assert!(plain.line().contains("serving TLS"));
    }
}
