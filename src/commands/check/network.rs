//! The steps below HTTP: the URL policy (the bridge's own, `endpoint::check_server_url`),
//! name resolution (the bridge's own resolver, `net::resolve`) and the TCP connection.

use super::report::{Dns, Policy, Tcp, Verdict};
use crate::endpoint;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use url::Url;

/// The bridge's URL policy on `url`.
pub(super) fn policy(url: &Url, allow_http: bool) -> Policy {
    match endpoint::check_server_url(url, allow_http) {
        Ok(()) if url.scheme() == "http" && !endpoint::is_loopback(url) => Policy {
            allowed: true,
            detail: "allowed: plain http, because --allow-http was given".into(),
        },
        Ok(()) if url.scheme() == "http" => Policy {
            allowed: true,
            detail: "allowed: plain http to this machine".into(),
        },
        Ok(()) => Policy {
            allowed: true,
            detail: "allowed: https".into(),
        },
        Err(e) => Policy {
            allowed: false,
            detail: e.to_string(),
        },
    }
}

/// The verdict for a refused URL.
pub(super) fn policy_verdict(policy: &Policy) -> Verdict {
    let fix = if policy.detail.contains("--allow-http") {
        "use https, or pass --allow-http if the network is trusted"
    } else {
        "correct the URL"
    };
    Verdict::fail(format!("the URL is refused: {}", policy.detail), fix)
}

/// The proxy the bridge's HTTP clients go through for `url` (reqwest reads the usual
/// variables), as `host:port (from VARIABLE)`, never its credentials; `None` for this
/// machine (its requests never take a proxy, see `net::Client`) or when no variable is set. `NO_PROXY` is left to reqwest: a host it excludes is
/// still reported here, and its direct steps then decide nothing.
pub(super) fn proxy(url: &Url, var: impl Fn(&str) -> Option<String>) -> Option<String> {
    if endpoint::is_loopback(url) {
        return None;
    }
    let names: &[&str] = if url.scheme() == "https" {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    names.iter().find_map(|name| {
        let value = var(name).filter(|v| !v.trim().is_empty())?;
        let shown = Url::parse(&value)
            .ok()
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
            .unwrap_or_else(|| "(a value that is not a URL)".into());
        Some(format!("{shown} (from {name})"))
    })
}

/// Resolves the URL's host as the bridge's HTTP clients do.
pub(super) async fn resolve(url: &Url) -> (Dns, Vec<SocketAddr>) {
    let host = url.host_str().unwrap_or_default().to_owned();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(443);
    let started = Instant::now();
    let found = crate::net::resolve(bare, port).await;
    let millis = started.elapsed().as_millis();
    match found {
        Ok(addrs) if !addrs.is_empty() => {
            let dns = Dns {
                host,
                addresses: addrs.iter().map(|a| a.ip().to_string()).collect(),
                millis,
                error: None,
            };
            (dns, addrs)
        }
        Ok(_) => (dns_error(host, millis, "no addresses".into()), Vec::new()),
        Err(e) => (dns_error(host, millis, e.to_string()), Vec::new()),
    }
}

fn dns_error(host: String, millis: u128, error: String) -> Dns {
    Dns {
        host,
        addresses: Vec::new(),
        millis,
        error: Some(error),
    }
}

/// The verdict for a name that does not resolve.
pub(super) fn dns_verdict(dns: &Dns) -> Verdict {
    Verdict::fail(
        format!("the name {} does not resolve", dns.host),
        "check the spelling of the host name, and your network or VPN",
    )
}

/// Connects to the first address that answers, within `timeout` for each.
pub(super) async fn connect(addrs: &[SocketAddr], timeout: Duration) -> (Tcp, Option<TcpStream>) {
    let started = Instant::now();
    let mut errors = Vec::new();
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let tcp = Tcp {
                    address: Some(addr.to_string()),
                    millis: started.elapsed().as_millis(),
                    error: None,
                };
                return (tcp, Some(stream));
            }
            Ok(Err(e)) => errors.push(format!("{addr}: {e}")),
            Err(_) => errors.push(format!("{addr}: no answer within {} s", timeout.as_secs())),
        }
    }
    let tcp = Tcp {
        address: None,
        millis: started.elapsed().as_millis(),
        error: Some(errors.join("; ")),
    };
    (tcp, None)
}

/// The verdict for a server that could not be connected to.
pub(super) fn tcp_verdict(url: &Url, tcp: &Tcp) -> Verdict {
    let place = format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    );
    let error = tcp.error.as_deref().unwrap_or_default();
    if error.contains("no answer within") {
        Verdict::fail(
            format!("{place} does not answer (the connection timed out)"),
            "is the server running, and does a firewall let you through? (--connect-timeout waits longer)",
        )
    } else {
        Verdict::fail(
            format!("nothing listens at {place}"),
            "is the server running?",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdicts of the URL policy are the bridge's own.
    #[test]
    fn policy_verdicts() {
        let url = |u: &str| Url::parse(u).unwrap();
        assert!(policy(&url("https://h.example/mcp"), false).allowed);
        assert!(policy(&url("http://127.0.0.1:3000/mcp"), false).allowed);
        let refused = policy(&url("http://h.example/mcp"), false);
        assert!(!refused.allowed);
        assert!(policy_verdict(&refused).line().contains("--allow-http"));
        assert!(
            policy(&url("http://h.example/mcp"), true)
                .detail
                .contains("--allow-http")
        );
        assert!(!policy(&url("https://u:p@h.example/"), false).allowed);
    }

    /// A refused connection reads as a server that is down; a timeout as one that is silent.
    #[test]
    fn connection_verdicts() {
        let url = Url::parse("http://127.0.0.1:9/mcp").unwrap();
        let refused = Tcp {
            address: None,
            millis: 0,
            error: Some("127.0.0.1:9: Connection refused".into()),
        };
        assert_eq!(
            tcp_verdict(&url, &refused).line(),
            "nothing listens at 127.0.0.1:9; is the server running?"
        );
        let silent = Tcp {
            error: Some("127.0.0.1:9: no answer within 5 s".into()),
            ..refused
        };
        assert!(tcp_verdict(&url, &silent).line().contains("timed out"));
    }

    /// The proxy for the URL's scheme is named without its credentials; loopback has none.
    #[test]
    fn proxies() {
        let url = |u: &str| Url::parse(u).unwrap();
        let vars = |name: &str| match name {
            "HTTPS_PROXY" => Some("http://user:pw@proxy.corp:3128".to_owned()),
            "all_proxy" => Some("socks5://socks.corp:1080".to_owned()),
            _ => None,
        };
        assert_eq!(
            proxy(&url("https://h.example/mcp"), vars).as_deref(),
            Some("proxy.corp:3128 (from HTTPS_PROXY)")
        );
        assert_eq!(
            proxy(&url("http://h.example/mcp"), vars).as_deref(),
            Some("socks.corp:1080 (from all_proxy)")
        );
        assert_eq!(proxy(&url("http://127.0.0.1:3000/mcp"), vars), None);
        assert_eq!(proxy(&url("https://h.example/mcp"), |_| None), None);
    }

    /// localhost resolves to this machine without asking DNS; a down port is refused.
    #[tokio::test]
    async fn resolves_and_connects() {
        let url = Url::parse("http://localhost:1/mcp").unwrap();
        let (dns, addrs) = resolve(&url).await;
        assert_eq!(dns.addresses, ["127.0.0.1", "::1"]);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let addrs: Vec<SocketAddr> = addrs
            .iter()
            .take(1)
            .map(|a| SocketAddr::new(a.ip(), port))
            .collect();
        let (tcp, stream) = connect(&addrs, Duration::from_secs(5)).await;
        assert!(stream.is_none() && tcp.error.is_some());
    }
}
