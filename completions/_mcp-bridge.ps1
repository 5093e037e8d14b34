
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mcp-bridge' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mcp-bridge'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mcp-bridge' {
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Which transport to use, and in what order to try them')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header-file', '--header-file', [CompletionResultType]::ParameterName, 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable')
            [CompletionResult]::new('--bearer', '--bearer', [CompletionResultType]::ParameterName, 'Send `Authorization: Bearer TOKEN` with every request to the server')
            [CompletionResult]::new('--bearer-command', '--bearer-command', [CompletionResultType]::ParameterName, 'Take the bearer token from a helper''s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL')
            [CompletionResult]::new('--bearer-command-ttl', '--bearer-command-ttl', [CompletionResultType]::ParameterName, 'Seconds a token from --bearer-command is used before the helper runs again')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds a TCP and TLS connection to the server (or authorization server) may take')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Use this pre-registered OAuth client id instead of registering')
            [CompletionResult]::new('--client-secret', '--client-secret', [CompletionResultType]::ParameterName, 'The secret of the pre-registered client (prefer the environment variable)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client''s private key (PEM): the client authenticates with a signed JWT (private_key_jwt) instead of a secret, with --client-credentials or --jwt-bearer-file')
            [CompletionResult]::new('--client-key-alg', '--client-key-alg', [CompletionResultType]::ParameterName, 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)')
            [CompletionResult]::new('--jwt-bearer-file', '--jwt-bearer-file', [CompletionResultType]::ParameterName, 'Authorize as a workload with the JWT-bearer grant (RFC 7523): the platform''s identity token in FILE, read again for every token request')
            [CompletionResult]::new('--id-token-file', '--id-token-file', [CompletionResultType]::ParameterName, 'Enterprise SSO: exchange the OpenID Connect ID token in FILE at the identity provider for an ID-JAG and present it to the server''s authorization server (needs --idp-client-id and --idp-issuer or --idp-token-endpoint)')
            [CompletionResult]::new('--idp-issuer', '--idp-issuer', [CompletionResultType]::ParameterName, 'The identity provider''s issuer, for --id-token-file (its metadata names its token endpoint)')
            [CompletionResult]::new('--idp-token-endpoint', '--idp-token-endpoint', [CompletionResultType]::ParameterName, 'The identity provider''s token endpoint, for --id-token-file (instead of discovering it from --idp-issuer)')
            [CompletionResult]::new('--idp-client-id', '--idp-client-id', [CompletionResultType]::ParameterName, 'The bridge''s client id at the identity provider, for --id-token-file')
            [CompletionResult]::new('--idp-client-secret', '--idp-client-secret', [CompletionResultType]::ParameterName, 'The secret of that client at the identity provider (prefer the environment variable)')
            [CompletionResult]::new('--static-oauth-client-info', '--static-oauth-client-info', [CompletionResultType]::ParameterName, 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)')
            [CompletionResult]::new('--static-oauth-client-metadata', '--static-oauth-client-metadata', [CompletionResultType]::ParameterName, 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)')
            [CompletionResult]::new('--client-metadata-url', '--client-metadata-url', [CompletionResultType]::ParameterName, 'An https URL serving this client''s Client ID Metadata Document, used as the client id where the authorization server supports such documents')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scopes to request instead of the ones the server suggests (comma or space separated)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'The resource (RFC 8707) to request tokens for, instead of the discovered one')
            [CompletionResult]::new('--authorize-param', '--authorize-param', [CompletionResultType]::ParameterName, 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)')
            [CompletionResult]::new('--callback-port', '--callback-port', [CompletionResultType]::ParameterName, 'Port of the loopback callback for the browser login (default: one derived from the server URL)')
            [CompletionResult]::new('--callback-path', '--callback-path', [CompletionResultType]::ParameterName, 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1')
            [CompletionResult]::new('--auth-timeout', '--auth-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the browser login to finish')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)')
            [CompletionResult]::new('--sse', '--sse', [CompletionResultType]::ParameterName, 'Connect over HTTP+SSE to this URL (supergateway''s `--sse`)')
            [CompletionResult]::new('--streamable-http', '--streamable-http', [CompletionResultType]::ParameterName, 'Connect over Streamable HTTP to this URL (supergateway''s `--streamableHttp`)')
            [CompletionResult]::new('--ignore-tool', '--ignore-tool', [CompletionResultType]::ParameterName, 'Hide tools whose names match PATTERN from the host (`*` matches any run of characters)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest single message accepted from the host or the server, in bytes')
            [CompletionResult]::new('--max-in-flight', '--max-in-flight', [CompletionResultType]::ParameterName, 'Most requests from the host waiting for their answers at once; past it, stdin is not read until an answer arrives (nothing is dropped)')
            [CompletionResult]::new('--max-bytes-in-flight', '--max-bytes-in-flight', [CompletionResultType]::ParameterName, 'Most bytes of host requests waiting for their answers at once (a single larger request still goes, alone); past it, stdin waits as with --max-in-flight. The same bound holds, separately, for the server''s answers not yet written to stdout: past it the bridge stops reading them')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Answer a request with an error if the server has not answered it within SECONDS (and tell the server it was cancelled). Default: wait as long as it takes, since tool calls may run long')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Send the server a `ping` after SECONDS without a message either way, so that a load balancer does not drop an idle session (a failed ping is recovered like any lost session). Default: never')
            [CompletionResult]::new('--output-transport', '--output-transport', [CompletionResultType]::ParameterName, 'Accepted for supergateway compatibility; only `stdio` is supported')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a host other than this machine')
            [CompletionResult]::new('--no-cookies', '--no-cookies', [CompletionResultType]::ParameterName, 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one')
            [CompletionResult]::new('--client-credentials', '--client-credentials', [CompletionResultType]::ParameterName, 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)')
            [CompletionResult]::new('--device-code', '--device-code', [CompletionResultType]::ParameterName, 'Log in with the device authorization grant (RFC 8628): open the address shown, on any device, and approve the code; for machines with no browser')
            [CompletionResult]::new('--no-resource', '--no-resource', [CompletionResultType]::ParameterName, 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)')
            [CompletionResult]::new('--no-dpop', '--no-dpop', [CompletionResultType]::ParameterName, 'Never bind tokens to a DPoP key (RFC 9449), even where the authorization server offers it')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the login URL instead of opening a browser')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Authorize with a server now (browser login) and store the tokens')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget stored tokens and client registrations (revoking tokens where the server allows)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show stored credentials: server, issuer, scopes, expiry (never the secrets)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Connect as the bridge would and report every step: what works, what does not, and the fix')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import credentials another tool stored (mcp-remote''s ~/.mcp-auth)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcp-bridge;login' {
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Which transport to use, and in what order to try them')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header-file', '--header-file', [CompletionResultType]::ParameterName, 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable')
            [CompletionResult]::new('--bearer', '--bearer', [CompletionResultType]::ParameterName, 'Send `Authorization: Bearer TOKEN` with every request to the server')
            [CompletionResult]::new('--bearer-command', '--bearer-command', [CompletionResultType]::ParameterName, 'Take the bearer token from a helper''s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL')
            [CompletionResult]::new('--bearer-command-ttl', '--bearer-command-ttl', [CompletionResultType]::ParameterName, 'Seconds a token from --bearer-command is used before the helper runs again')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds a TCP and TLS connection to the server (or authorization server) may take')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Use this pre-registered OAuth client id instead of registering')
            [CompletionResult]::new('--client-secret', '--client-secret', [CompletionResultType]::ParameterName, 'The secret of the pre-registered client (prefer the environment variable)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client''s private key (PEM): the client authenticates with a signed JWT (private_key_jwt) instead of a secret, with --client-credentials or --jwt-bearer-file')
            [CompletionResult]::new('--client-key-alg', '--client-key-alg', [CompletionResultType]::ParameterName, 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)')
            [CompletionResult]::new('--jwt-bearer-file', '--jwt-bearer-file', [CompletionResultType]::ParameterName, 'Authorize as a workload with the JWT-bearer grant (RFC 7523): the platform''s identity token in FILE, read again for every token request')
            [CompletionResult]::new('--id-token-file', '--id-token-file', [CompletionResultType]::ParameterName, 'Enterprise SSO: exchange the OpenID Connect ID token in FILE at the identity provider for an ID-JAG and present it to the server''s authorization server (needs --idp-client-id and --idp-issuer or --idp-token-endpoint)')
            [CompletionResult]::new('--idp-issuer', '--idp-issuer', [CompletionResultType]::ParameterName, 'The identity provider''s issuer, for --id-token-file (its metadata names its token endpoint)')
            [CompletionResult]::new('--idp-token-endpoint', '--idp-token-endpoint', [CompletionResultType]::ParameterName, 'The identity provider''s token endpoint, for --id-token-file (instead of discovering it from --idp-issuer)')
            [CompletionResult]::new('--idp-client-id', '--idp-client-id', [CompletionResultType]::ParameterName, 'The bridge''s client id at the identity provider, for --id-token-file')
            [CompletionResult]::new('--idp-client-secret', '--idp-client-secret', [CompletionResultType]::ParameterName, 'The secret of that client at the identity provider (prefer the environment variable)')
            [CompletionResult]::new('--static-oauth-client-info', '--static-oauth-client-info', [CompletionResultType]::ParameterName, 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)')
            [CompletionResult]::new('--static-oauth-client-metadata', '--static-oauth-client-metadata', [CompletionResultType]::ParameterName, 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)')
            [CompletionResult]::new('--client-metadata-url', '--client-metadata-url', [CompletionResultType]::ParameterName, 'An https URL serving this client''s Client ID Metadata Document, used as the client id where the authorization server supports such documents')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scopes to request instead of the ones the server suggests (comma or space separated)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'The resource (RFC 8707) to request tokens for, instead of the discovered one')
            [CompletionResult]::new('--authorize-param', '--authorize-param', [CompletionResultType]::ParameterName, 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)')
            [CompletionResult]::new('--callback-port', '--callback-port', [CompletionResultType]::ParameterName, 'Port of the loopback callback for the browser login (default: one derived from the server URL)')
            [CompletionResult]::new('--callback-path', '--callback-path', [CompletionResultType]::ParameterName, 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1')
            [CompletionResult]::new('--auth-timeout', '--auth-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the browser login to finish')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a host other than this machine')
            [CompletionResult]::new('--no-cookies', '--no-cookies', [CompletionResultType]::ParameterName, 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one')
            [CompletionResult]::new('--client-credentials', '--client-credentials', [CompletionResultType]::ParameterName, 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)')
            [CompletionResult]::new('--device-code', '--device-code', [CompletionResultType]::ParameterName, 'Log in with the device authorization grant (RFC 8628): open the address shown, on any device, and approve the code; for machines with no browser')
            [CompletionResult]::new('--no-resource', '--no-resource', [CompletionResultType]::ParameterName, 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)')
            [CompletionResult]::new('--no-dpop', '--no-dpop', [CompletionResultType]::ParameterName, 'Never bind tokens to a DPoP key (RFC 9449), even where the authorization server offers it')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the login URL instead of opening a browser')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;logout' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Which store to clean')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Forget the credentials of every server')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;status' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Which store to read')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;check' {
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Which transport to use, and in what order to try them')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header-file', '--header-file', [CompletionResultType]::ParameterName, 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable')
            [CompletionResult]::new('--bearer', '--bearer', [CompletionResultType]::ParameterName, 'Send `Authorization: Bearer TOKEN` with every request to the server')
            [CompletionResult]::new('--bearer-command', '--bearer-command', [CompletionResultType]::ParameterName, 'Take the bearer token from a helper''s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL')
            [CompletionResult]::new('--bearer-command-ttl', '--bearer-command-ttl', [CompletionResultType]::ParameterName, 'Seconds a token from --bearer-command is used before the helper runs again')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds a TCP and TLS connection to the server (or authorization server) may take')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Use this pre-registered OAuth client id instead of registering')
            [CompletionResult]::new('--client-secret', '--client-secret', [CompletionResultType]::ParameterName, 'The secret of the pre-registered client (prefer the environment variable)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client''s private key (PEM): the client authenticates with a signed JWT (private_key_jwt) instead of a secret, with --client-credentials or --jwt-bearer-file')
            [CompletionResult]::new('--client-key-alg', '--client-key-alg', [CompletionResultType]::ParameterName, 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)')
            [CompletionResult]::new('--jwt-bearer-file', '--jwt-bearer-file', [CompletionResultType]::ParameterName, 'Authorize as a workload with the JWT-bearer grant (RFC 7523): the platform''s identity token in FILE, read again for every token request')
            [CompletionResult]::new('--id-token-file', '--id-token-file', [CompletionResultType]::ParameterName, 'Enterprise SSO: exchange the OpenID Connect ID token in FILE at the identity provider for an ID-JAG and present it to the server''s authorization server (needs --idp-client-id and --idp-issuer or --idp-token-endpoint)')
            [CompletionResult]::new('--idp-issuer', '--idp-issuer', [CompletionResultType]::ParameterName, 'The identity provider''s issuer, for --id-token-file (its metadata names its token endpoint)')
            [CompletionResult]::new('--idp-token-endpoint', '--idp-token-endpoint', [CompletionResultType]::ParameterName, 'The identity provider''s token endpoint, for --id-token-file (instead of discovering it from --idp-issuer)')
            [CompletionResult]::new('--idp-client-id', '--idp-client-id', [CompletionResultType]::ParameterName, 'The bridge''s client id at the identity provider, for --id-token-file')
            [CompletionResult]::new('--idp-client-secret', '--idp-client-secret', [CompletionResultType]::ParameterName, 'The secret of that client at the identity provider (prefer the environment variable)')
            [CompletionResult]::new('--static-oauth-client-info', '--static-oauth-client-info', [CompletionResultType]::ParameterName, 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)')
            [CompletionResult]::new('--static-oauth-client-metadata', '--static-oauth-client-metadata', [CompletionResultType]::ParameterName, 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)')
            [CompletionResult]::new('--client-metadata-url', '--client-metadata-url', [CompletionResultType]::ParameterName, 'An https URL serving this client''s Client ID Metadata Document, used as the client id where the authorization server supports such documents')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scopes to request instead of the ones the server suggests (comma or space separated)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'The resource (RFC 8707) to request tokens for, instead of the discovered one')
            [CompletionResult]::new('--authorize-param', '--authorize-param', [CompletionResultType]::ParameterName, 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)')
            [CompletionResult]::new('--callback-port', '--callback-port', [CompletionResultType]::ParameterName, 'Port of the loopback callback for the browser login (default: one derived from the server URL)')
            [CompletionResult]::new('--callback-path', '--callback-path', [CompletionResultType]::ParameterName, 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1')
            [CompletionResult]::new('--auth-timeout', '--auth-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the browser login to finish')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a host other than this machine')
            [CompletionResult]::new('--no-cookies', '--no-cookies', [CompletionResultType]::ParameterName, 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one')
            [CompletionResult]::new('--client-credentials', '--client-credentials', [CompletionResultType]::ParameterName, 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)')
            [CompletionResult]::new('--device-code', '--device-code', [CompletionResultType]::ParameterName, 'Log in with the device authorization grant (RFC 8628): open the address shown, on any device, and approve the code; for machines with no browser')
            [CompletionResult]::new('--no-resource', '--no-resource', [CompletionResultType]::ParameterName, 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)')
            [CompletionResult]::new('--no-dpop', '--no-dpop', [CompletionResultType]::ParameterName, 'Never bind tokens to a DPoP key (RFC 9449), even where the authorization server offers it')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the login URL instead of opening a browser')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document with every step instead of the report')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List the names of the server''s tools, resources and prompts too')
            [CompletionResult]::new('--login', '--login', [CompletionResultType]::ParameterName, 'Log in (in the browser) if the server needs it; without it, check never opens one')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;import' {
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('mcp-remote', 'mcp-remote', [CompletionResultType]::ParameterValue, 'Import the tokens and client registrations mcp-remote stored, without changing them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcp-bridge;import;mcp-remote' {
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Which transport to use, and in what order to try them')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header-file', '--header-file', [CompletionResultType]::ParameterName, 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable')
            [CompletionResult]::new('--bearer', '--bearer', [CompletionResultType]::ParameterName, 'Send `Authorization: Bearer TOKEN` with every request to the server')
            [CompletionResult]::new('--bearer-command', '--bearer-command', [CompletionResultType]::ParameterName, 'Take the bearer token from a helper''s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL')
            [CompletionResult]::new('--bearer-command-ttl', '--bearer-command-ttl', [CompletionResultType]::ParameterName, 'Seconds a token from --bearer-command is used before the helper runs again')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds a TCP and TLS connection to the server (or authorization server) may take')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Use this pre-registered OAuth client id instead of registering')
            [CompletionResult]::new('--client-secret', '--client-secret', [CompletionResultType]::ParameterName, 'The secret of the pre-registered client (prefer the environment variable)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The client''s private key (PEM): the client authenticates with a signed JWT (private_key_jwt) instead of a secret, with --client-credentials or --jwt-bearer-file')
            [CompletionResult]::new('--client-key-alg', '--client-key-alg', [CompletionResultType]::ParameterName, 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)')
            [CompletionResult]::new('--jwt-bearer-file', '--jwt-bearer-file', [CompletionResultType]::ParameterName, 'Authorize as a workload with the JWT-bearer grant (RFC 7523): the platform''s identity token in FILE, read again for every token request')
            [CompletionResult]::new('--id-token-file', '--id-token-file', [CompletionResultType]::ParameterName, 'Enterprise SSO: exchange the OpenID Connect ID token in FILE at the identity provider for an ID-JAG and present it to the server''s authorization server (needs --idp-client-id and --idp-issuer or --idp-token-endpoint)')
            [CompletionResult]::new('--idp-issuer', '--idp-issuer', [CompletionResultType]::ParameterName, 'The identity provider''s issuer, for --id-token-file (its metadata names its token endpoint)')
            [CompletionResult]::new('--idp-token-endpoint', '--idp-token-endpoint', [CompletionResultType]::ParameterName, 'The identity provider''s token endpoint, for --id-token-file (instead of discovering it from --idp-issuer)')
            [CompletionResult]::new('--idp-client-id', '--idp-client-id', [CompletionResultType]::ParameterName, 'The bridge''s client id at the identity provider, for --id-token-file')
            [CompletionResult]::new('--idp-client-secret', '--idp-client-secret', [CompletionResultType]::ParameterName, 'The secret of that client at the identity provider (prefer the environment variable)')
            [CompletionResult]::new('--static-oauth-client-info', '--static-oauth-client-info', [CompletionResultType]::ParameterName, 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)')
            [CompletionResult]::new('--static-oauth-client-metadata', '--static-oauth-client-metadata', [CompletionResultType]::ParameterName, 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)')
            [CompletionResult]::new('--client-metadata-url', '--client-metadata-url', [CompletionResultType]::ParameterName, 'An https URL serving this client''s Client ID Metadata Document, used as the client id where the authorization server supports such documents')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scopes to request instead of the ones the server suggests (comma or space separated)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'The resource (RFC 8707) to request tokens for, instead of the discovered one')
            [CompletionResult]::new('--authorize-param', '--authorize-param', [CompletionResultType]::ParameterName, 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)')
            [CompletionResult]::new('--callback-port', '--callback-port', [CompletionResultType]::ParameterName, 'Port of the loopback callback for the browser login (default: one derived from the server URL)')
            [CompletionResult]::new('--callback-path', '--callback-path', [CompletionResultType]::ParameterName, 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1')
            [CompletionResult]::new('--auth-timeout', '--auth-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the browser login to finish')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'mcp-remote''s directory (default: ~/.mcp-auth; mcp-remote''s own MCP_REMOTE_CONFIG_DIR is honoured)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a host other than this machine')
            [CompletionResult]::new('--no-cookies', '--no-cookies', [CompletionResultType]::ParameterName, 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one')
            [CompletionResult]::new('--client-credentials', '--client-credentials', [CompletionResultType]::ParameterName, 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)')
            [CompletionResult]::new('--device-code', '--device-code', [CompletionResultType]::ParameterName, 'Log in with the device authorization grant (RFC 8628): open the address shown, on any device, and approve the code; for machines with no browser')
            [CompletionResult]::new('--no-resource', '--no-resource', [CompletionResultType]::ParameterName, 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)')
            [CompletionResult]::new('--no-dpop', '--no-dpop', [CompletionResultType]::ParameterName, 'Never bind tokens to a DPoP key (RFC 9449), even where the authorization server offers it')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the login URL instead of opening a browser')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say what would be imported, and store nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of sentences')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace tokens and registrations mcp-bridge already has for the same server')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;import;help' {
            [CompletionResult]::new('mcp-remote', 'mcp-remote', [CompletionResultType]::ParameterValue, 'Import the tokens and client registrations mcp-remote stored, without changing them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcp-bridge;import;help;mcp-remote' {
            break
        }
        'mcp-bridge;import;help;help' {
            break
        }
        'mcp-bridge;completions' {
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;help' {
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Authorize with a server now (browser login) and store the tokens')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget stored tokens and client registrations (revoking tokens where the server allows)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show stored credentials: server, issuer, scopes, expiry (never the secrets)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Connect as the bridge would and report every step: what works, what does not, and the fix')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import credentials another tool stored (mcp-remote''s ~/.mcp-auth)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcp-bridge;help;login' {
            break
        }
        'mcp-bridge;help;logout' {
            break
        }
        'mcp-bridge;help;status' {
            break
        }
        'mcp-bridge;help;check' {
            break
        }
        'mcp-bridge;help;import' {
            [CompletionResult]::new('mcp-remote', 'mcp-remote', [CompletionResultType]::ParameterValue, 'Import the tokens and client registrations mcp-remote stored, without changing them')
            break
        }
        'mcp-bridge;help;import;mcp-remote' {
            break
        }
        'mcp-bridge;help;completions' {
            break
        }
        'mcp-bridge;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
