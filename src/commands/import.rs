//! `mcp-bridge import mcp-remote [URL...]`: moves the logins mcp-remote stored into
//! mcp-bridge's credential store, and says what it took, what it left and why.
//!
//! mcp-remote files each login under a hash of the URL it was started with (see
//! `import/mcp_remote.rs`), so a login is found by computing that hash for a URL: the ones
//! named on the command line, else the ones host configurations, mcp-bridge's own memory and
//! mcp-remote's debug logs mention. Logins that no known URL matches are listed, never
//! guessed at. mcp-remote's files are only ever opened for reading.
//!
//! A login is usable when it has a refresh token or an access token that has not expired,
//! names its client, and the authorization server that issued it is known (recorded by
//! mcp-remote 0.14 and later; found by discovery against the server otherwise). Its client
//! registration comes along, so refreshes authenticate as before; a browser login reuses it
//! only when its redirect URI is one mcp-bridge's loopback callback can serve.

mod hosts;
mod mcp_remote;
mod report;

use crate::auth::discovery;
use crate::cli::{ImportMcpRemoteArgs, ImportSource};
use crate::endpoint;
use crate::exit::{ExitStatus, usage};
use crate::net;
use crate::secret::Secret;
use crate::store::{Registration, Store, Tokens};
use anyhow::Context;
use hosts::Candidate;
use mcp_remote::{KeyInputs, RawClient, Stored};
use report::{Entry, Report, Status};
use std::collections::HashSet;
use url::Url;

pub(crate) async fn import(source: ImportSource) -> anyhow::Result<ExitStatus> {
    match source {
        ImportSource::McpRemote(args) => from_mcp_remote(*args).await,
    }
}

async fn from_mcp_remote(args: ImportMcpRemoteArgs) -> anyhow::Result<ExitStatus> {
    let base = match &args.config_dir {
        Some(dir) if !dir.as_os_str().is_empty() => dir.clone(),
        _ => directories::BaseDirs::new()
            .map(|b| b.home_dir().join(".mcp-auth"))
            .ok_or_else(|| {
                usage(anyhow::anyhow!(
                    "cannot find mcp-remote's directory: set HOME or pass --config-dir"
                ))
            })?,
    };
    let named: Vec<String> = args
        .server
        .url
        .iter()
        .chain(&args.more_urls)
        .cloned()
        .collect();
    for url in &named {
        let parsed = Url::parse(url)
            .map_err(|e| usage(anyhow::anyhow!("{url:?} is not a valid URL: {e}")))?;
        endpoint::check_server_url(&parsed, args.server.allow_http).map_err(usage)?;
    }
    let found = mcp_remote::read_base(&base)
        .with_context(|| format!("cannot read mcp-remote's directory {}", base.display()))?;
    let store = super::open_store(args.server.oauth.store)?;

    let candidates = if named.is_empty() {
        let ours = crate::store::config_dir().ok();
        let stored: Vec<String> = store
            .entries()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| e.server_url)
            .collect();
        let mut all = hosts::from_configs(&hosts::config_files());
        all.extend(hosts::known_to_us(ours.as_deref(), &stored));
        for s in found.stored.values() {
            all.extend(s.logged_urls.iter().map(|u| Candidate {
                inputs: KeyInputs::url(u),
                source: format!("mcp-remote's debug log ({}/{}_debug.log)", s.dir, s.key),
            }));
        }
        all
    } else {
        named.iter().map(|u| command_line(&args, u)).collect()
    };

    let mut importer = Importer {
        args: &args,
        store,
        http: None,
        done_keys: HashSet::new(),
        done_servers: HashSet::new(),
    };
    let mut entries = Vec::new();
    for candidate in &candidates {
        let Some((key, stored)) = matching(&found, &candidate.inputs) else {
            if !named.is_empty() {
                entries.push(Entry::not_found(candidate, &candidate.inputs.key()));
            }
            continue;
        };
        if !importer.done_keys.insert(key.clone()) {
            continue; // the same login, found again by another source
        }
        entries.push(importer.one(candidate, stored).await?);
    }
    let unmatched = found
        .stored
        .values()
        .filter(|s| !importer.done_keys.contains(&s.key))
        .map(report::Unmatched::of)
        .collect();
    let report = Report {
        mcp_remote_dir: base.display().to_string(),
        dry_run: args.dry_run,
        entries,
        unmatched,
        ignored: found.ignored,
    };
    report.print(args.json)?;
    let all_named_imported = report
        .entries
        .iter()
        .all(|e| matches!(e.status, Status::Imported | Status::WouldImport));
    Ok(if named.is_empty() || all_named_imported {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// A URL from the command line, with the options that decide mcp-remote's key.
fn command_line(args: &ImportMcpRemoteArgs, url: &str) -> Candidate {
    let mut inputs = KeyInputs::url(url);
    for h in &args.server.headers {
        inputs.add_header(h);
    }
    inputs.resource = args.server.oauth.resource.clone();
    for param in &args.server.oauth.authorize_param {
        inputs.add_authorize_param(param);
    }
    inputs.client_metadata_url = args.server.oauth.client_metadata_url.clone();
    Candidate {
        inputs,
        source: "the command line".into(),
    }
}

/// The stored login these inputs name: the URL as written, else as mcp-bridge would write
/// it (the same server, spelled another way).
fn matching<'a>(found: &'a mcp_remote::Found, inputs: &KeyInputs) -> Option<(String, &'a Stored)> {
    let mut spellings = vec![inputs.url.clone()];
    if let Ok(u) = Url::parse(&inputs.url) {
        spellings.push(u.to_string());
        spellings.push(endpoint::canonical_resource(&u));
    }
    spellings.dedup();
    spellings.into_iter().find_map(|url| {
        let key = KeyInputs {
            url,
            ..inputs.clone()
        }
        .key();
        found.stored.get(&key).map(|s| (key, s))
    })
}

struct Importer<'a> {
    args: &'a ImportMcpRemoteArgs,
    store: Store,
    /// For discovery, made when first needed.
    http: Option<net::Client>,
    done_keys: HashSet<String>,
    done_servers: HashSet<String>,
}

impl Importer<'_> {
    /// Decides about one matched login, and stores it unless this is a dry run. Only a
    /// store failure is an error; everything else is an entry in the report.
    async fn one(&mut self, candidate: &Candidate, stored: &Stored) -> anyhow::Result<Entry> {
        let mut entry = Entry::matched(candidate, stored);
        match self.plan(candidate, stored, &mut entry).await? {
            Err(reason) => entry.skip(reason),
            Ok((tokens, registration)) => {
                entry.describe(&tokens);
                if !self.args.dry_run {
                    if let Some(r) = &registration {
                        self.store.put_registration(r).await?;
                    }
                    self.store.put_tokens(&tokens).await?;
                }
                entry.status = if self.args.dry_run {
                    Status::WouldImport
                } else {
                    Status::Imported
                };
            }
        }
        Ok(entry)
    }

    /// The tokens (and registration) to store, or why not.
    async fn plan(
        &mut self,
        candidate: &Candidate,
        stored: &Stored,
        entry: &mut Entry,
    ) -> anyhow::Result<Result<(Tokens, Option<Registration>), String>> {
        let inputs = &candidate.inputs;
        let url = match Url::parse(&inputs.url) {
            Ok(u) => u,
            Err(e) => {
                return Ok(Err(format!(
                    "{} is not a valid URL ({e})",
                    report::shown(&inputs.url)
                )));
            }
        };
        if let Err(e) = endpoint::check_server_url(&url, self.args.server.allow_http) {
            return Ok(Err(e.to_string()));
        }
        let server_id = endpoint::canonical_resource(&url);
        entry.server = Some(report::shown(&server_id));
        let raw = match &stored.tokens {
            None => {
                return Ok(Err(
                    "mcp-remote stored a client registration but no tokens (its login never finished)"
                        .into(),
                ));
            }
            Some(f) => match &f.content {
                Ok(t) => (t, f.written),
                Err(reason) => return Ok(Err(format!("{} {reason}", f.name))),
            },
        };
        let (raw, written) = raw;
        let now = crate::clock::now();
        let expires_at = raw.expires_at(written);
        let refresh = raw.refresh_token.clone().filter(|t| !t.expose().is_empty());
        if let Some(at) = expires_at.filter(|at| *at <= now)
            && refresh.is_none()
        {
            return Ok(Err(format!(
                "the access token expired {} ago and there is no refresh token; log in with `mcp-bridge login {}`",
                super::human_duration(now - at),
                report::shown(&inputs.url)
            )));
        }
        if !self.done_servers.insert(server_id.clone()) {
            return Ok(Err(
                "another mcp-remote login for this server was taken above".into(),
            ));
        }
        let mut client = match &stored.client {
            Some(f) => match &f.content {
                Ok(c) => Some((c, f.written)),
                Err(reason) => {
                    entry.notes.push(format!("{} {reason}; not used", f.name));
                    None
                }
            },
            None => None,
        };
        if let (Some(t), Some((c, _))) = (&raw.issuer, &client)
            && c.issuer.as_ref().is_some_and(|ci| !same_issuer(ci, t))
        {
            entry.notes.push(
                "its client registration is for another authorization server; not used".into(),
            );
            client = None;
        }

        // Which authorization server issued them: recorded, else discovered.
        let recorded = raw
            .issuer
            .clone()
            .or_else(|| client.as_ref().and_then(|(c, _)| c.issuer.clone()));
        let mut resource = inputs
            .resource
            .clone()
            .or_else(|| self.args.server.oauth.resource.clone());
        let issuer = match recorded {
            Some(issuer) => issuer,
            None => match self.discover(&url).await {
                Ok(found) => {
                    entry.notes.push(format!(
                        "mcp-remote did not record the authorization server; discovery found {}",
                        found.metadata.issuer
                    ));
                    resource.get_or_insert(found.resource);
                    found.metadata.issuer
                }
                Err(e) => {
                    return Ok(Err(format!(
                        "mcp-remote did not record which authorization server issued these tokens, and discovery against the server failed: {e}"
                    )));
                }
            },
        };

        if !self.args.force
            && let Some(ours) = self.store.tokens_for(&server_id).await?
        {
            return Ok(Err(format!(
                "mcp-bridge already has tokens for this server (from {}); kept them (pass --force to replace them)",
                ours.issuer
            )));
        }

        let registration = match &client {
            Some((c, client_written)) => {
                self.registration(c, *client_written, &issuer, entry)
                    .await?
            }
            None => None,
        };
        let client_id = match (&client, &self.args.server.oauth.client_id) {
            (Some((c, _)), _) => c.client_id.clone(),
            (None, Some(id)) => id.clone(),
            (None, None) => match &inputs.client_metadata_url {
                Some(url) => url.clone(),
                None => {
                    return Ok(Err(
                        "mcp-remote kept no client for these tokens (it never saves a --static-oauth-client-info client); pass --client-id (and --client-secret) to import them".into(),
                    ));
                }
            },
        };
        let registration = registration.or_else(|| {
            let id = self.args.server.oauth.client_id.as_ref()?;
            (client.is_none()).then(|| self.configured_client(id, &issuer))
        });
        let tokens = Tokens {
            server_url: server_id,
            issuer,
            client_id,
            access_token: raw.access_token.clone(),
            refresh_token: refresh,
            token_type: raw
                .token_type
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "Bearer".into()),
            scopes: raw.scopes(),
            expires_at,
            obtained_at: raw.obtained_at(written),
            resource,
            redirect_uri: registration
                .as_ref()
                .map(|r| r.redirect_uri.clone())
                .filter(|r| !r.is_empty()),
            grant: crate::store::GrantKind::Browser,
            dpop_key: None,
        };
        Ok(Ok((tokens, registration)))
    }

    /// The registration to store for mcp-remote's client, if it is still good.
    async fn registration(
        &self,
        client: &RawClient,
        written: u64,
        issuer: &str,
        entry: &mut Entry,
    ) -> anyhow::Result<Option<Registration>> {
        if let Some(at) = client.client_secret_expires_at.filter(|at| *at != 0)
            && at <= crate::clock::now()
        {
            entry.registration = Some(
                "not imported: its client secret has expired (the next login registers mcp-bridge anew)"
                    .into(),
            );
            return Ok(None);
        }
        let servable = client.redirect_uris.iter().find_map(|r| servable(r));
        let redirect_uri = match &servable {
            Some((uri, _, _)) => uri.clone(),
            None => client.redirect_uris.first().cloned().unwrap_or_default(),
        };
        if !self.args.force
            && self
                .store
                .registration(issuer, &redirect_uri)
                .await?
                .is_some()
        {
            entry.registration = Some(
                "mcp-bridge already has a client registered there for the same redirect URI; kept it"
                    .into(),
            );
            return Ok(None);
        }
        entry.registration = Some(match &servable {
            Some((_, host, port)) => format!(
                "imported; a browser login reuses it with `--host {host} --callback-port {port}` (else mcp-bridge registers anew)"
            ),
            None => format!(
                "imported for refreshing; mcp-bridge's callback cannot serve its redirect URI ({}), so a browser login registers anew",
                if redirect_uri.is_empty() {
                    "none"
                } else {
                    &redirect_uri
                }
            ),
        });
        let method = client
            .token_endpoint_auth_method
            .clone()
            .unwrap_or_else(|| match client.client_secret {
                Some(_) => "client_secret_basic".into(),
                None => "none".into(),
            });
        Ok(Some(Registration {
            issuer: issuer.to_owned(),
            client_id: client.client_id.clone(),
            client_secret: client.client_secret.clone(),
            redirect_uri,
            token_endpoint_auth_method: method,
            registration_access_token: client.registration_access_token.clone(),
            created_at: client.client_id_issued_at.unwrap_or(written),
        }))
    }

    /// The client given with --client-id (and --client-secret), kept for refreshes.
    fn configured_client(&self, client_id: &str, issuer: &str) -> Registration {
        let secret = self
            .args
            .server
            .oauth
            .client_secret
            .clone()
            .map(Secret::new);
        Registration {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            token_endpoint_auth_method: if secret.is_some() {
                "client_secret_basic".into()
            } else {
                "none".into()
            },
            client_secret: secret,
            redirect_uri: String::new(),
            registration_access_token: None,
            created_at: crate::clock::now(),
        }
    }

    async fn discover(&mut self, url: &Url) -> anyhow::Result<discovery::Discovery> {
        if self.http.is_none() {
            let settings = super::connect::net_settings(&self.args.server)?;
            self.http = Some(net::Client::oauth(settings));
        }
        let http = self.http.as_ref().expect("set just above");
        discovery::discover(http, url, None)
            .await
            .map_err(|e| anyhow::anyhow!(net::error_chain(&e)))
    }
}

/// Issuers as the MCP SDK compares them: equal, or equal but for one trailing slash.
fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// A redirect URI mcp-bridge's callback can serve: `http://localhost:PORT/oauth/callback`
/// or the same on 127.0.0.1. Returns it with its host and port.
fn servable(uri: &str) -> Option<(String, String, u16)> {
    let u = Url::parse(uri).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    let ok = u.scheme() == "http"
        && (host == "localhost" || host == "127.0.0.1")
        && u.path() == crate::auth::callback::CALLBACK_PATH
        && u.query().is_none()
        && u.fragment().is_none()
        && u.username().is_empty();
    Some((uri.to_owned(), host, u.port()?)).filter(|_| ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only loopback http redirect URIs on the callback path can be served.
    #[test]
    fn servable_redirects() {
        assert_eq!(
            servable("http://localhost:5678/oauth/callback"),
            Some((
                "http://localhost:5678/oauth/callback".into(),
                "localhost".into(),
                5678
            ))
        );
        assert!(servable("http://127.0.0.1:1/oauth/callback").is_some());
        for bad in [
            "http://localhost:5678/callback",
            "https://localhost:5678/oauth/callback",
            "http://example.com:5678/oauth/callback",
            "http://localhost/oauth/callback",
            "http://localhost:1/oauth/callback?x=1",
            "not a url",
        ] {
            assert!(servable(bad).is_none(), "{bad}");
        }
        assert!(same_issuer("http://as/", "http://as") && !same_issuer("http://a", "http://b"));
    }

    /// URLs in the report hide query values, which may be API keys.
    #[test]
    fn report_hides_query_values() {
        let shown = report::shown("https://h/mcp?api_key=SECRET123&x=1");
        assert!(
            !shown.contains("SECRET123") && shown.contains("api_key="),
            "{shown}"
        );
        assert!(!report::shown("not a url?key=SECRET123").contains("SECRET123"));
    }
}
