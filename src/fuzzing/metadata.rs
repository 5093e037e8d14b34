//! Checks for `as_metadata`: authorization server metadata that validation accepts names the
//! expected issuer and only usable endpoints, and the protected resource metadata path
//! (resource check, then the issuer's metadata URLs) goes only where it may.

use crate::auth::discovery::{
    AsMetadata, RawAsMetadata, ResourceMetadata, as_metadata_candidates, check_endpoint,
    prm_candidates, validate_metadata,
};
use url::{Host, Url};

/// The server for the PRM path when the first line is not an http(s) URL.
const DEFAULT_SERVER: &str = "https://mcp.example/api/mcp";

/// The endpoint members, and whether validation requires each.
const ENDPOINTS: [(&str, bool); 4] = [
    ("authorization_endpoint", true),
    ("token_endpoint", true),
    ("registration_endpoint", false),
    ("revocation_endpoint", false),
];

pub(super) fn check(data: &[u8]) {
    let (first, body) = super::split_line(data);
    let issuer = String::from_utf8_lossy(first);

    // As `fetch_json` reads it: not this shape means "no metadata here".
    if let Ok(raw) = serde_json::from_slice::<RawAsMetadata>(body)
        && let Ok(metadata) = validate_metadata(raw, &issuer)
    {
        check_metadata(&metadata, &issuer, body);
    }

    let server = Url::parse(&issuer)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| Url::parse(DEFAULT_SERVER).expect("the default server is a URL"));
    if let Ok(prm) = serde_json::from_slice::<ResourceMetadata>(body) {
        check_prm_path(&prm, &server);
    }
}

fn check_metadata(metadata: &AsMetadata, issuer: &str, body: &[u8]) {
    assert_eq!(
        metadata.issuer, issuer,
        "accepted metadata for another issuer"
    );
    let endpoints = [
        Some(&metadata.authorization_endpoint),
        Some(&metadata.token_endpoint),
        metadata.registration_endpoint.as_ref(),
        metadata.revocation_endpoint.as_ref(),
    ];
    // The JSON text as written, to compare the endpoints with (when it is plain JSON).
    let written = serde_json::from_slice::<serde_json::Value>(body).ok();
    for ((name, required), url) in ENDPOINTS.into_iter().zip(endpoints) {
        let Some(url) = url else {
            assert!(!required, "accepted metadata without {name}");
            continue;
        };
        assert_usable(url, name);
        if let Some(raw) = written
            .as_ref()
            .and_then(|w| w.get(name))
            .and_then(|v| v.as_str())
        {
            assert!(
                !raw.chars().any(|c| c.is_control() || c.is_whitespace()),
                "{name} {raw:?} was accepted with characters the URL parser drops"
            );
            assert_eq!(
                Url::parse(raw).ok().as_ref(),
                Some(url),
                "{name} as written"
            );
        }
    }
}

/// https, or http to this machine; no user info.
fn assert_usable(url: &Url, what: &str) {
    let loopback = match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    assert!(
        url.scheme() == "https" || (url.scheme() == "http" && loopback),
        "{what} {url} is neither https nor http to this machine"
    );
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{what} {url} has user info"
    );
}

/// The resource must pass the resource check's promises; the first authorization server, if
/// its URL passes the endpoint check, gives metadata URLs on its own origin only; the PRM
/// URLs tried for the server stay on the server's origin.
fn check_prm_path(prm: &ResourceMetadata, server: &Url) {
    super::urls::check_resource_verdict(&prm.resource, server);
    if let Some(issuer) = prm.authorization_servers.first()
        && let Ok(issuer_url) = Url::parse(issuer)
        && check_endpoint(&issuer_url, "authorization server").is_ok()
    {
        for candidate in as_metadata_candidates(&issuer_url) {
            assert_eq!(candidate.origin(), issuer_url.origin(), "{candidate}");
            assert!(candidate.query().is_none() && candidate.fragment().is_none());
            assert_usable(&candidate, "metadata URL");
        }
    }
    for candidate in prm_candidates(server, None) {
        assert_eq!(candidate.origin(), server.origin(), "{candidate}");
        assert!(candidate.query().is_none() && candidate.fragment().is_none());
        assert!(
            candidate
                .path()
                .starts_with("/.well-known/oauth-protected-resource"),
            "{candidate}"
        );
    }
}
