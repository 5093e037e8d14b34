//! Checks for `url_policy`: the server URL policy, the metadata endpoint check and the
//! protected-resource check agree with each other and with an independent reading of the
//! URL; logged URLs never show a query value.

use crate::auth::discovery::{check_endpoint, check_resource};
use crate::endpoint::{
    canonical_resource, check_server_url, for_log, is_localhost_name, is_loopback,
};
use url::{Host, Url};

/// The server the resource check runs against when the input's first line is not an http(s)
/// URL, and the base of relative first lines.
const DEFAULT_SERVER: &str = "https://mcp.example/api/mcp";

/// A query value that no log line may contain.
const MARKER: &str = "zq9Marker";

pub(super) fn check(data: &[u8]) {
    let (first, second) = super::split_line(data);
    let first = String::from_utf8_lossy(first);
    let second = String::from_utf8_lossy(second);
    let default = Url::parse(DEFAULT_SERVER).expect("the default server is a URL");

    check_localhost_name(&first);
    let url = Url::parse(&first).or_else(|_| default.join(&first)).ok();
    if let Some(url) = &url {
        check_url(url);
    }
    let server = url
        .filter(|u| check_server_url(u, true).is_ok())
        .unwrap_or(default);
    check_resource_verdict(&second, &server);
}

/// `localhost` and names under it, any case, final dots ignored; nothing else.
fn check_localhost_name(host: &str) {
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    let want = name == "localhost" || name.ends_with(".localhost");
    assert_eq!(is_localhost_name(host), want, "is_localhost_name({host:?})");
}

fn check_url(url: &Url) {
    let strict = check_server_url(url, false).is_ok();
    let lax = check_server_url(url, true).is_ok();
    let endpoint = check_endpoint(url, "fuzzed URL").is_ok();
    let loopback = names_this_machine(url);
    assert_eq!(is_loopback(url), loopback, "is_loopback({url})");

    assert!(
        !strict || lax,
        "allowed without --allow-http but refused with it: {url}"
    );
    assert_eq!(
        endpoint, strict,
        "the server policy and the endpoint check disagree on {url}"
    );
    if lax {
        assert!(
            matches!(url.scheme(), "http" | "https")
                && url.username().is_empty()
                && url.password().is_none()
                && url.host().is_some(),
            "allowed: {url}"
        );
    }
    if strict && url.scheme() == "http" {
        assert!(loopback, "plain http allowed off this machine: {url}");
    }

    check_for_log(url);

    if lax {
        let resource = canonical_resource(url);
        let parsed = Url::parse(&resource).expect("a canonical resource is a URL");
        assert!(parsed.fragment().is_none() && parsed.origin() == url.origin());
        if url.query().is_none() {
            assert!(
                check_resource(&resource, url).is_ok(),
                "the canonical resource {resource} is refused for {url}"
            );
        }
    }
}

/// The host is `localhost` (or under it), in 127.0.0.0/8, or `::1`.
fn names_this_machine(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.octets()[0] == 127,
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// The log form depends on the query's names only: with every value replaced by a marker
/// it is the same, and the marker never shows. The names it shows read back as the names of
/// the URL's own pairs, in order, each with a hidden value.
fn check_for_log(url: &Url) {
    let shown = for_log(url);
    let Some(query) = url.query() else {
        assert_eq!(shown, url.as_str());
        return;
    };
    let names = |u: &Url| -> Vec<String> { u.query_pairs().map(|(k, _)| k.into_owned()).collect() };
    let shown_url = Url::parse(&shown).expect("a URL's log form is a URL");
    assert_eq!(
        names(&shown_url),
        names(url),
        "the log form of {url} renames its pairs"
    );
    assert!(
        shown_url.query_pairs().all(|(_, v)| v == "(redacted)"),
        "the log form of {url} shows a value: {shown}"
    );
    if url.as_str().contains(MARKER) {
        return;
    }
    // Values replaced in the text itself: re-encoding the names could change their spelling.
    let marked_query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => format!("{name}={MARKER}"),
            None if pair.is_empty() => String::new(),
            None => format!("{pair}={MARKER}"),
        })
        .collect();
    let mut marked = url.clone();
    marked.set_query(Some(&marked_query.join("&")));
    let marked_shown = for_log(&marked);
    assert!(
        !marked_shown.contains(MARKER),
        "a query value is logged: {marked_shown}"
    );
    assert_eq!(
        shown, marked_shown,
        "the log form of {url} depends on its query values"
    );
}

/// A resource the check accepts names this server and nothing more: the same origin, a path
/// prefix at a segment boundary, no user info, query or fragment, and nothing the URL parser
/// drops without a trace (tabs, line breaks, surrounding spaces or controls).
pub(super) fn check_resource_verdict(resource: &str, server: &Url) {
    let Ok(accepted) = check_resource(resource, server) else {
        return;
    };
    assert_eq!(accepted, resource, "check_resource returns what it checked");
    let parsed = Url::parse(resource).expect("an accepted resource is a URL");
    assert_eq!(parsed.origin(), server.origin(), "{resource} for {server}");
    assert!(
        parsed.username().is_empty() && parsed.password().is_none(),
        "user info in {resource:?}"
    );
    assert!(parsed.query().is_none(), "a query in {resource:?}");
    assert!(parsed.fragment().is_none(), "a fragment in {resource:?}");
    let want = parsed.path().trim_end_matches('/');
    let have = server.path().trim_end_matches('/');
    let rest = have.strip_prefix(want);
    assert!(
        rest.is_some_and(|r| r.is_empty() || r.starts_with('/')),
        "{resource:?} is not a prefix of {server}"
    );
    assert!(
        !resource
            .chars()
            .any(|c| c.is_control() || c.is_whitespace()),
        "{resource:?} has characters the URL parser drops"
    );
}
