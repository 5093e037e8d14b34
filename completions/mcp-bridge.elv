
use builtin;
use str;

set edit:completion:arg-completer[mcp-bridge] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mcp-bridge'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mcp-bridge'= {
            cand --transport 'Which transport to use, and in what order to try them'
            cand --protocol 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one'
            cand -H 'Send an extra HTTP header, as ''Name: value''. Repeatable'
            cand --header 'Send an extra HTTP header, as ''Name: value''. Repeatable'
            cand --header-file 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable'
            cand --bearer 'Send `Authorization: Bearer TOKEN` with every request to the server'
            cand --bearer-command 'Take the bearer token from a helper''s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL'
            cand --bearer-command-ttl 'Seconds a token from --bearer-command is used before the helper runs again'
            cand --ca-cert 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable'
            cand --connect-timeout 'Seconds a TCP and TLS connection to the server (or authorization server) may take'
            cand --client-id 'Use this pre-registered OAuth client id instead of registering'
            cand --client-secret 'The secret of the pre-registered client (prefer the environment variable)'
            cand --client-key 'The client''s private key (PEM) for --client-credentials: the client authenticates with a signed JWT (private_key_jwt) instead of a secret'
            cand --client-key-alg 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)'
            cand --static-oauth-client-info 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)'
            cand --static-oauth-client-metadata 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)'
            cand --client-metadata-url 'An https URL serving this client''s Client ID Metadata Document, used as the client id where the authorization server supports such documents'
            cand --scope 'Scopes to request instead of the ones the server suggests (comma or space separated)'
            cand --resource 'The resource (RFC 8707) to request tokens for, instead of the discovered one'
            cand --authorize-param 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)'
            cand --callback-port 'Port of the loopback callback for the browser login (default: one derived from the server URL)'
            cand --callback-path 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)'
            cand --host 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1'
            cand --auth-timeout 'Seconds to wait for the browser login to finish'
            cand --store 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)'
            cand --sse 'Connect over HTTP+SSE to this URL (supergateway''s `--sse`)'
            cand --streamable-http 'Connect over Streamable HTTP to this URL (supergateway''s `--streamableHttp`)'
            cand --ignore-tool 'Hide tools whose names match PATTERN from the host (`*` matches any run of characters)'
            cand --max-message-size 'Largest single message accepted from the host or the server, in bytes'
            cand --max-in-flight 'Most requests from the host waiting for their answers at once; past it, stdin is not read until an answer arrives (nothing is dropped)'
            cand --max-bytes-in-flight 'Most bytes of host requests waiting for their answers at once (a single larger request still goes, alone); past it, stdin waits as with --max-in-flight'
            cand --request-timeout 'Answer a request with an error if the server has not answered it within SECONDS (and tell the server it was cancelled). Default: wait as long as it takes, since tool calls may run long'
            cand --keepalive 'Send the server a `ping` after SECONDS without a message either way, so that a load balancer does not drop an idle session (a failed ping is recovered like any lost session). Default: never'
            cand --output-transport 'Accepted for supergateway compatibility; only `stdio` is supported'
            cand --log-level 'Set the log level outright (supergateway''s `--logLevel`)'
            cand --allow-http 'Allow plain http:// to a host other than this machine'
            cand --no-cookies 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one'
            cand --client-credentials 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)'
            cand --no-resource 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)'
            cand --no-browser 'Print the login URL instead of opening a browser'
            cand -v 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand --verbose 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand -q 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --debug 'Same as --log-level debug (mcp-remote''s `--debug`)'
            cand --silent 'Same as --log-level none (mcp-remote''s `--silent`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand login 'Authorize with a server now (browser login) and store the tokens'
            cand logout 'Forget stored tokens and client registrations (revoking tokens where the server allows)'
            cand status 'Show stored credentials: server, issuer, scopes, expiry (never the secrets)'
            cand check 'Connect as the bridge would and report every step: what works, what does not, and the fix'
            cand import 'Import credentials another tool stored (mcp-remote''s ~/.mcp-auth)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcp-bridge;login'= {
            cand --transport 'Which transport to use, and in what order to try them'
            cand --protocol 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one'
            cand -H 'Send an extra HTTP header, as ''Name: value''. Repeatable'
            cand --header 'Send an extra HTTP header, as ''Name: value''. Repeatable'
            cand --header-file 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable'
            cand --bearer 'Send `Authorization: Bearer TOKEN` with every request to the server'
            cand --bearer-command 'Take the bearer token from a helper''s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL'
            cand --bearer-command-ttl 'Seconds a token from --bearer-command is used before the helper runs again'
            cand --ca-cert 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable'
            cand --connect-timeout 'Seconds a TCP and TLS connection to the server (or authorization server) may take'
            cand --client-id 'Use this pre-registered OAuth client id instead of registering'
            cand --client-secret 'The secret of the pre-registered client (prefer the environment variable)'
            cand --client-key 'The client''s private key (PEM) for --client-credentials: the client authenticates with a signed JWT (private_key_jwt) instead of a secret'
            cand --client-key-alg 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)'
            cand --static-oauth-client-info 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)'
            cand --static-oauth-client-metadata 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)'
            cand --client-metadata-url 'An https URL serving this client''s Client ID Metadata Document, used as the client id where the authorization server supports such documents'
            cand --scope 'Scopes to request instead of the ones the server suggests (comma or space separated)'
            cand --resource 'The resource (RFC 8707) to request tokens for, instead of the discovered one'
            cand --authorize-param 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)'
            cand --callback-port 'Port of the loopback callback for the browser login (default: one derived from the server URL)'
            cand --callback-path 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)'
            cand --host 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1'
            cand --auth-timeout 'Seconds to wait for the browser login to finish'
            cand --store 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)'
            cand --log-level 'Set the log level outright (supergateway''s `--logLevel`)'
            cand --allow-http 'Allow plain http:// to a host other than this machine'
            cand --no-cookies 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one'
            cand --client-credentials 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)'
            cand --no-resource 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)'
            cand --no-browser 'Print the login URL instead of opening a browser'
            cand -v 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand --verbose 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand -q 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --debug 'Same as --log-level debug (mcp-remote''s `--debug`)'
            cand --silent 'Same as --log-level none (mcp-remote''s `--silent`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcp-bridge;logout'= {
            cand --store 'Which store to clean'
            cand --log-level 'Set the log level outright (supergateway''s `--logLevel`)'
            cand --all 'Forget the credentials of every server'
            cand -v 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand --verbose 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand -q 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --debug 'Same as --log-level debug (mcp-remote''s `--debug`)'
            cand --silent 'Same as --log-level none (mcp-remote''s `--silent`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcp-bridge;status'= {
            cand --store 'Which store to read'
            cand --log-level 'Set the log level outright (supergateway''s `--logLevel`)'
            cand --json 'Print JSON instead of a table'
            cand -v 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand --verbose 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand -q 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --debug 'Same as --log-level debug (mcp-remote''s `--debug`)'
            cand --silent 'Same as --log-level none (mcp-remote''s `--silent`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcp-bridge;check'= {
            cand --transport 'Which transport to use, and in what order to try them'
            cand --protocol 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one'
            cand -H 'Send an extra HTTP header, as ''Name: value''. Repeatable'
            cand --header 'Send an extra HTTP header, as ''Name: value''. Repeatable'
            cand --header-file 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable'
            cand --bearer 'Send `Authorization: Bearer TOKEN` with every request to the server'
            cand --bearer-command 'Take the bearer token from a helper''s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL'
            cand --bearer-command-ttl 'Seconds a token from --bearer-command is used before the helper runs again'
            cand --ca-cert 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable'
            cand --connect-timeout 'Seconds a TCP and TLS connection to the server (or authorization server) may take'
            cand --client-id 'Use this pre-registered OAuth client id instead of registering'
            cand --client-secret 'The secret of the pre-registered client (prefer the environment variable)'
            cand --client-key 'The client''s private key (PEM) for --client-credentials: the client authenticates with a signed JWT (private_key_jwt) instead of a secret'
            cand --client-key-alg 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)'
            cand --static-oauth-client-info 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)'
            cand --static-oauth-client-metadata 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)'
            cand --client-metadata-url 'An https URL serving this client''s Client ID Metadata Document, used as the client id where the authorization server supports such documents'
            cand --scope 'Scopes to request instead of the ones the server suggests (comma or space separated)'
            cand --resource 'The resource (RFC 8707) to request tokens for, instead of the discovered one'
            cand --authorize-param 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)'
            cand --callback-port 'Port of the loopback callback for the browser login (default: one derived from the server URL)'
            cand --callback-path 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)'
            cand --host 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1'
            cand --auth-timeout 'Seconds to wait for the browser login to finish'
            cand --store 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)'
            cand --log-level 'Set the log level outright (supergateway''s `--logLevel`)'
            cand --allow-http 'Allow plain http:// to a host other than this machine'
            cand --no-cookies 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one'
            cand --client-credentials 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)'
            cand --no-resource 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)'
            cand --no-browser 'Print the login URL instead of opening a browser'
            cand --json 'Print one JSON document with every step instead of the report'
            cand --list 'List the names of the server''s tools, resources and prompts too'
            cand --login 'Log in (in the browser) if the server needs it; without it, check never opens one'
            cand -v 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand --verbose 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand -q 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --debug 'Same as --log-level debug (mcp-remote''s `--debug`)'
            cand --silent 'Same as --log-level none (mcp-remote''s `--silent`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcp-bridge;import'= {
            cand --log-level 'Set the log level outright (supergateway''s `--logLevel`)'
            cand -v 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand --verbose 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand -q 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --debug 'Same as --log-level debug (mcp-remote''s `--debug`)'
            cand --silent 'Same as --log-level none (mcp-remote''s `--silent`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand mcp-remote 'Import the tokens and client registrations mcp-remote stored, without changing them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcp-bridge;import;mcp-remote'= {
            cand --transport 'Which transport to use, and in what order to try them'
            cand --protocol 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one'
            cand -H 'Send an extra HTTP header, as ''Name: value''. Repeatable'
            cand --header 'Send an extra HTTP header, as ''Name: value''. Repeatable'
            cand --header-file 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable'
            cand --bearer 'Send `Authorization: Bearer TOKEN` with every request to the server'
            cand --bearer-command 'Take the bearer token from a helper''s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL'
            cand --bearer-command-ttl 'Seconds a token from --bearer-command is used before the helper runs again'
            cand --ca-cert 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable'
            cand --connect-timeout 'Seconds a TCP and TLS connection to the server (or authorization server) may take'
            cand --client-id 'Use this pre-registered OAuth client id instead of registering'
            cand --client-secret 'The secret of the pre-registered client (prefer the environment variable)'
            cand --client-key 'The client''s private key (PEM) for --client-credentials: the client authenticates with a signed JWT (private_key_jwt) instead of a secret'
            cand --client-key-alg 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)'
            cand --static-oauth-client-info 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)'
            cand --static-oauth-client-metadata 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)'
            cand --client-metadata-url 'An https URL serving this client''s Client ID Metadata Document, used as the client id where the authorization server supports such documents'
            cand --scope 'Scopes to request instead of the ones the server suggests (comma or space separated)'
            cand --resource 'The resource (RFC 8707) to request tokens for, instead of the discovered one'
            cand --authorize-param 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)'
            cand --callback-port 'Port of the loopback callback for the browser login (default: one derived from the server URL)'
            cand --callback-path 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)'
            cand --host 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1'
            cand --auth-timeout 'Seconds to wait for the browser login to finish'
            cand --store 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)'
            cand --config-dir 'mcp-remote''s directory (default: ~/.mcp-auth; mcp-remote''s own MCP_REMOTE_CONFIG_DIR is honoured)'
            cand --log-level 'Set the log level outright (supergateway''s `--logLevel`)'
            cand --allow-http 'Allow plain http:// to a host other than this machine'
            cand --no-cookies 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one'
            cand --client-credentials 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)'
            cand --no-resource 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)'
            cand --no-browser 'Print the login URL instead of opening a browser'
            cand --dry-run 'Say what would be imported, and store nothing'
            cand --json 'Print JSON instead of sentences'
            cand --force 'Replace tokens and registrations mcp-bridge already has for the same server'
            cand -v 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand --verbose 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand -q 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --debug 'Same as --log-level debug (mcp-remote''s `--debug`)'
            cand --silent 'Same as --log-level none (mcp-remote''s `--silent`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcp-bridge;import;help'= {
            cand mcp-remote 'Import the tokens and client registrations mcp-remote stored, without changing them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcp-bridge;import;help;mcp-remote'= {
        }
        &'mcp-bridge;import;help;help'= {
        }
        &'mcp-bridge;completions'= {
            cand --log-level 'Set the log level outright (supergateway''s `--logLevel`)'
            cand -v 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand --verbose 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
            cand -q 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Less logging (-q: warnings and errors only, -qq: errors only)'
            cand --debug 'Same as --log-level debug (mcp-remote''s `--debug`)'
            cand --silent 'Same as --log-level none (mcp-remote''s `--silent`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcp-bridge;help'= {
            cand login 'Authorize with a server now (browser login) and store the tokens'
            cand logout 'Forget stored tokens and client registrations (revoking tokens where the server allows)'
            cand status 'Show stored credentials: server, issuer, scopes, expiry (never the secrets)'
            cand check 'Connect as the bridge would and report every step: what works, what does not, and the fix'
            cand import 'Import credentials another tool stored (mcp-remote''s ~/.mcp-auth)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcp-bridge;help;login'= {
        }
        &'mcp-bridge;help;logout'= {
        }
        &'mcp-bridge;help;status'= {
        }
        &'mcp-bridge;help;check'= {
        }
        &'mcp-bridge;help;import'= {
            cand mcp-remote 'Import the tokens and client registrations mcp-remote stored, without changing them'
        }
        &'mcp-bridge;help;import;mcp-remote'= {
        }
        &'mcp-bridge;help;completions'= {
        }
        &'mcp-bridge;help;help'= {
        }
    ]
    $completions[$command]
}
