//! The policy for server URLs: which ones the bridge will talk to, and how they appear in
//! logs.
//!
//! Plain `http://` is allowed only to loopback hosts unless the user opts in, credentials in
//! the URL are refused (they would end up in logs and process lists), and query values are
//! hidden when a URL is logged.

use anyhow::bail;
use std::net::IpAddr;
use url::{Host, Url};

/// Checks a server URL given by the user.
pub(crate) fn check_server_url(url: &Url, allow_http: bool) -> anyhow::Result<()> {
    match url.scheme() {
        "https" => {}
        "http" if allow_http || is_loopback(url) => {}
        "http" => bail!(
            "refusing plain http to {} (tokens and data would cross the network unencrypted); use https, or pass --allow-http",
            url.host_str().unwrap_or("?")
        ),
        other => bail!("unsupported URL scheme {other:?}: the server URL must be http or https"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        bail!(
            "the server URL must not contain a user name or password; pass credentials with --bearer or --header"
        );
    }
    if url.host().is_none() {
        bail!("the server URL has no host");
    }
    Ok(())
}

/// Whether the URL's host is this machine (`localhost`, 127.0.0.0/8, `::1`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => is_localhost_name(d),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Whether `host` names this machine by RFC 6761 (`localhost`, or a name under it).
pub(crate) fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host.eq_ignore_ascii_case("localhost")
        || host
            .len()
            .checked_sub(".localhost".len())
            .is_some_and(|at| {
                host.is_char_boundary(at) && host[at..].eq_ignore_ascii_case(".localhost")
            })
}

/// Whether two URLs share scheme, host and port.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// The URL for a log line: query values (which sometimes carry API keys) are hidden. Names
/// are kept as written: decoding them would let an encoded `&`, `=` or line break change
/// where one pair ends and the next begins.
pub(crate) fn for_log(url: &Url) -> String {
    let Some(query) = url.query() else {
        return url.to_string();
    };
    let names: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            format!("{name}=(redacted)")
        })
        .collect();
    let mut shown = url.clone();
    shown.set_query(Some(&names.join("&")));
    shown.to_string()
}

/// The canonical URI of the server for `resource` when there is no PRM: no fragment, no
/// trailing slash.
pub(crate) fn canonical_resource(server: &Url) -> String {
    let mut url = server.clone();
    url.set_fragment(None);
    let text = url.to_string();
    match text.strip_suffix('/') {
        Some(stripped) if url.query().is_none() => stripped.to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, allow_http: bool) -> Result<(), String> {
        check_server_url(&Url::parse(url).unwrap(), allow_http).map_err(|e| e.to_string())
    }

    /// `localhost` and names under it are this machine, whatever their case or a final dot;
    /// look-alikes are not.
    #[test]
    fn localhost_names() {
        for name in ["localhost", "LocalHost.", "app.localhost", "a.b.LOCALHOST"] {
            assert!(is_localhost_name(name), "{name}");
        }
        for name in [
            "localhost.example",
            "notlocalhost",
            "app-localhost",
            "example.com",
            "é",
        ] {
            assert!(!is_localhost_name(name), "{name}");
        }
    }

    /// https always passes; http only to loopback or with the opt-in.
    #[test]
    fn http_needs_loopback_or_opt_in() {
        assert!(check("https://example.com/mcp", false).is_ok());
        assert!(check("http://127.0.0.1:8080/mcp", false).is_ok());
        assert!(check("http://127.1.2.3/mcp", false).is_ok());
        assert!(check("http://[::1]:9/mcp", false).is_ok());
        assert!(check("http://localhost/mcp", false).is_ok());
        assert!(
            check("http://example.com/mcp", false)
                .unwrap_err()
                .contains("--allow-http")
        );
        assert!(check("http://localhost.example.com/mcp", false).is_err());
        assert!(check("http://example.com/mcp", true).is_ok());
    }

    /// Other schemes and embedded credentials are refused.
    #[test]
    fn refuses_bad_urls() {
        assert!(
            check("ftp://example.com/", false)
                .unwrap_err()
                .contains("scheme")
        );
        assert!(check("file:///etc/passwd", false).is_err());
        assert!(
            check("https://user:pw@example.com/", false)
                .unwrap_err()
                .contains("user name")
        );
    }

    /// Query values are hidden in logs; names stay for debugging.
    #[test]
    fn hides_query_values() {
        let u = Url::parse("https://h/mcp?api_key=s3cret&x=1").unwrap();
        assert_eq!(for_log(&u), "https://h/mcp?api_key=(redacted)&x=(redacted)");
        let u = Url::parse("https://h/mcp").unwrap();
        assert_eq!(for_log(&u), "https://h/mcp");
    }

    /// Names are shown as written: an encoded `&`, `=` or line break in a name does not move
    /// a value into view or drop part of the name. Found by the `url_policy` fuzz target.
    #[test]
    fn keeps_encoded_names_whole() {
        let u = Url::parse("https://h/mcp?a%26b=s3cret&c%3Dd=s3cret&e%0af=s3cret&flag").unwrap();
        assert_eq!(
            for_log(&u),
            "https://h/mcp?a%26b=(redacted)&c%3Dd=(redacted)&e%0af=(redacted)&flag=(redacted)"
        );
    }

    /// Origins compare scheme, host and port.
    #[test]
    fn compares_origins() {
        let a = Url::parse("https://h:443/a").unwrap();
        assert!(same_origin(&a, &Url::parse("https://h/b?c").unwrap()));
        assert!(!same_origin(&a, &Url::parse("http://h/a").unwrap()));
        assert!(!same_origin(&a, &Url::parse("https://h:8443/a").unwrap()));
        assert!(!same_origin(&a, &Url::parse("https://evil.h/a").unwrap()));
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// The canonical resource drops the fragment and a bare trailing slash.
    #[test]
    fn canonical_resources() {
        assert_eq!(
            canonical_resource(&url("https://H.example/")),
            "https://h.example"
        );
        assert_eq!(
            canonical_resource(&url("https://h.example/mcp#x")),
            "https://h.example/mcp"
        );
        assert_eq!(
            canonical_resource(&url("https://h.example:8443/a/")),
            "https://h.example:8443/a"
        );
    }
}
