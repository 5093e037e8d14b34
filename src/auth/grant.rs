//! How the bridge obtains tokens for a server: a person in a browser (here or on another
//! device), or a service with no person at all (its own credentials, a workload identity token, an enterprise ID token).

use crate::store::GrantKind;
use std::path::PathBuf;

/// The grant the OAuth client uses when it needs new tokens.
#[derive(Debug, Clone, Default)]
pub(crate) enum Grant {
    /// Authorization code with PKCE in the user's browser (the default).
    #[default]
    Browser,
    /// The device authorization grant (RFC 8628, `--device-code`): a person, with a browser
    /// on another device.
    DeviceCode,
    /// The client credentials grant (`--client-credentials`): the client's secret or key.
    ClientCredentials,
    /// The JWT-bearer grant (RFC 7523) with the workload identity token in this file
    /// (`--jwt-bearer-file`), read again for every token request.
    JwtBearer { assertion_file: PathBuf },
    /// Enterprise-managed authorization (`--id-token-file`): the ID token is exchanged at the
    /// identity provider for an ID-JAG, which the JWT-bearer grant presents.
    Enterprise(Box<Enterprise>),
}

/// The identity provider side of enterprise-managed authorization.
#[derive(Debug, Clone)]
pub(crate) struct Enterprise {
    /// The OpenID Connect ID token from the company's single sign-on, read for every exchange.
    pub(crate) id_token_file: PathBuf,
    /// The identity provider's issuer as given (its metadata names the token endpoint),
    /// checked to be a URL.
    pub(crate) idp_issuer: Option<String>,
    /// The identity provider's token endpoint, when given rather than discovered.
    pub(crate) idp_token_endpoint: Option<url::Url>,
    /// The bridge's client at the identity provider.
    pub(crate) idp_client_id: String,
    pub(crate) idp_client_secret: Option<crate::secret::Secret>,
}

impl Grant {
    /// What `status` says about tokens obtained this way.
    pub(crate) fn kind(&self) -> GrantKind {
        match self {
            Grant::Browser => GrantKind::Browser,
            Grant::DeviceCode => GrantKind::DeviceCode,
            Grant::ClientCredentials => GrantKind::ClientCredentials,
            Grant::JwtBearer { .. } => GrantKind::JwtBearer,
            Grant::Enterprise(_) => GrantKind::Enterprise,
        }
    }

    /// A grant with no person: no browser, no registration, and a new token costs one
    /// request, so one is fetched ahead of expiry as after a 401.
    pub(crate) fn is_service(&self) -> bool {
        !matches!(self, Grant::Browser | Grant::DeviceCode)
    }
}
