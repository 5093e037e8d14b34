# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mcp_bridge_global_optspecs
    string join \n transport= protocol= H/header= header-file= bearer= bearer-command= bearer-command-ttl= allow-http ca-cert= connect-timeout= no-cookies client-id= client-secret= client-credentials client-key= client-key-alg= device-code jwt-bearer-file= id-token-file= idp-issuer= idp-token-endpoint= idp-client-id= idp-client-secret= static-oauth-client-info= static-oauth-client-metadata= client-metadata-url= scope= resource= no-resource no-dpop authorize-param= callback-port= callback-path= host= auth-timeout= no-browser store= sse= streamable-http= ignore-tool= max-message-size= max-in-flight= max-bytes-in-flight= request-timeout= keepalive= output-transport= v/verbose q/quiet log-level= debug silent h/help V/version
end

function __fish_mcp_bridge_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mcp_bridge_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mcp_bridge_using_subcommand
    set -l cmd (__fish_mcp_bridge_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l transport -d 'Which transport to use, and in what order to try them' -r -f -a "http-first\t'Streamable HTTP, falling back to HTTP+SSE when the server answers 400/404/405'
sse-first\t'HTTP+SSE, falling back to Streamable HTTP when the SSE stream cannot be opened'
http-only\t'Streamable HTTP only'
sse-only\t'HTTP+SSE only (2024-11-05 servers)'"
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l protocol -d 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one' -r -f -a "auto\t'Ask with `server/discover` first (2026-07-28), fall back to `initialize`'
legacy\t'Only the `initialize` era (2024-11-05 to 2025-11-25)'
modern\t'Only 2026-07-28'"
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -s H -l header -d 'Send an extra HTTP header, as \'Name: value\'. Repeatable' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l header-file -d 'Read extra headers from a file of \'Name: value\' lines (# starts a comment). Repeatable' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l bearer -d 'Send `Authorization: Bearer TOKEN` with every request to the server' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l bearer-command -d 'Take the bearer token from a helper\'s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l bearer-command-ttl -d 'Seconds a token from --bearer-command is used before the helper runs again' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l ca-cert -d 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l connect-timeout -d 'Seconds a TCP and TLS connection to the server (or authorization server) may take' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l client-id -d 'Use this pre-registered OAuth client id instead of registering' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l client-secret -d 'The secret of the pre-registered client (prefer the environment variable)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l client-key -d 'The client\'s private key (PEM): the client authenticates with a signed JWT (private_key_jwt) instead of a secret, with --client-credentials or --jwt-bearer-file' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l client-key-alg -d 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l jwt-bearer-file -d 'Authorize as a workload with the JWT-bearer grant (RFC 7523): the platform\'s identity token in FILE, read again for every token request' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l id-token-file -d 'Enterprise SSO: exchange the OpenID Connect ID token in FILE at the identity provider for an ID-JAG and present it to the server\'s authorization server (needs --idp-client-id and --idp-issuer or --idp-token-endpoint)' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l idp-issuer -d 'The identity provider\'s issuer, for --id-token-file (its metadata names its token endpoint)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l idp-token-endpoint -d 'The identity provider\'s token endpoint, for --id-token-file (instead of discovering it from --idp-issuer)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l idp-client-id -d 'The bridge\'s client id at the identity provider, for --id-token-file' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l idp-client-secret -d 'The secret of that client at the identity provider (prefer the environment variable)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l static-oauth-client-info -d 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l static-oauth-client-metadata -d 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l client-metadata-url -d 'An https URL serving this client\'s Client ID Metadata Document, used as the client id where the authorization server supports such documents' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l scope -d 'Scopes to request instead of the ones the server suggests (comma or space separated)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l resource -d 'The resource (RFC 8707) to request tokens for, instead of the discovered one' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l authorize-param -d 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l callback-port -d 'Port of the loopback callback for the browser login (default: one derived from the server URL)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l callback-path -d 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l host -d 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1' -r -f -a "127.0.0.1\t''
localhost\t''"
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l auth-timeout -d 'Seconds to wait for the browser login to finish' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l store -d 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)' -r -f -a "auto\t'The OS keyring if it works, else a private file in the config directory'
keyring\t'The OS keyring only; fail if there is none'
file\t'A private file (mode 0600) in the config directory'
memory\t'This process\'s memory only; nothing survives exit'"
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l sse -d 'Connect over HTTP+SSE to this URL (supergateway\'s `--sse`)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l streamable-http -d 'Connect over Streamable HTTP to this URL (supergateway\'s `--streamableHttp`)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l ignore-tool -d 'Hide tools whose names match PATTERN from the host (`*` matches any run of characters)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l max-message-size -d 'Largest single message accepted from the host or the server, in bytes' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l max-in-flight -d 'Most requests from the host waiting for their answers at once; past it, stdin is not read until an answer arrives (nothing is dropped)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l max-bytes-in-flight -d 'Most bytes of host requests waiting for their answers at once (a single larger request still goes, alone); past it, stdin waits as with --max-in-flight. The same bound holds, separately, for the server\'s answers not yet written to stdout: past it the bridge stops reading them' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l request-timeout -d 'Answer a request with an error if the server has not answered it within SECONDS (and tell the server it was cancelled). Default: wait as long as it takes, since tool calls may run long' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l keepalive -d 'Send the server a `ping` after SECONDS without a message either way, so that a load balancer does not drop an idle session (a failed ping is recovered like any lost session). Default: never' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l output-transport -d 'Accepted for supergateway compatibility; only `stdio` is supported' -r -f -a "stdio\t''"
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l log-level -d 'Set the log level outright (supergateway\'s `--logLevel`)' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
none\t'No logs at all'"
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l allow-http -d 'Allow plain http:// to a host other than this machine'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l no-cookies -d 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l client-credentials -d 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l device-code -d 'Log in with the device authorization grant (RFC 8628): open the address shown, on any device, and approve the code; for machines with no browser'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l no-resource -d 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l no-dpop -d 'Never bind tokens to a DPoP key (RFC 9449), even where the authorization server offers it'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l no-browser -d 'Print the login URL instead of opening a browser'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -s v -l verbose -d 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -s q -l quiet -d 'Less logging (-q: warnings and errors only, -qq: errors only)'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l debug -d 'Same as --log-level debug (mcp-remote\'s `--debug`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -l silent -d 'Same as --log-level none (mcp-remote\'s `--silent`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -s V -l version -d 'Print version'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -a "login" -d 'Authorize with a server now (browser login) and store the tokens'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -a "logout" -d 'Forget stored tokens and client registrations (revoking tokens where the server allows)'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -a "status" -d 'Show stored credentials: server, issuer, scopes, expiry (never the secrets)'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -a "check" -d 'Connect as the bridge would and report every step: what works, what does not, and the fix'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -a "import" -d 'Import credentials another tool stored (mcp-remote\'s ~/.mcp-auth)'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -a "completions" -d 'Print a shell completion script'
complete -c mcp-bridge -n "__fish_mcp_bridge_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l transport -d 'Which transport to use, and in what order to try them' -r -f -a "http-first\t'Streamable HTTP, falling back to HTTP+SSE when the server answers 400/404/405'
sse-first\t'HTTP+SSE, falling back to Streamable HTTP when the SSE stream cannot be opened'
http-only\t'Streamable HTTP only'
sse-only\t'HTTP+SSE only (2024-11-05 servers)'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l protocol -d 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one' -r -f -a "auto\t'Ask with `server/discover` first (2026-07-28), fall back to `initialize`'
legacy\t'Only the `initialize` era (2024-11-05 to 2025-11-25)'
modern\t'Only 2026-07-28'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -s H -l header -d 'Send an extra HTTP header, as \'Name: value\'. Repeatable' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l header-file -d 'Read extra headers from a file of \'Name: value\' lines (# starts a comment). Repeatable' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l bearer -d 'Send `Authorization: Bearer TOKEN` with every request to the server' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l bearer-command -d 'Take the bearer token from a helper\'s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l bearer-command-ttl -d 'Seconds a token from --bearer-command is used before the helper runs again' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l ca-cert -d 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l connect-timeout -d 'Seconds a TCP and TLS connection to the server (or authorization server) may take' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l client-id -d 'Use this pre-registered OAuth client id instead of registering' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l client-secret -d 'The secret of the pre-registered client (prefer the environment variable)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l client-key -d 'The client\'s private key (PEM): the client authenticates with a signed JWT (private_key_jwt) instead of a secret, with --client-credentials or --jwt-bearer-file' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l client-key-alg -d 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l jwt-bearer-file -d 'Authorize as a workload with the JWT-bearer grant (RFC 7523): the platform\'s identity token in FILE, read again for every token request' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l id-token-file -d 'Enterprise SSO: exchange the OpenID Connect ID token in FILE at the identity provider for an ID-JAG and present it to the server\'s authorization server (needs --idp-client-id and --idp-issuer or --idp-token-endpoint)' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l idp-issuer -d 'The identity provider\'s issuer, for --id-token-file (its metadata names its token endpoint)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l idp-token-endpoint -d 'The identity provider\'s token endpoint, for --id-token-file (instead of discovering it from --idp-issuer)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l idp-client-id -d 'The bridge\'s client id at the identity provider, for --id-token-file' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l idp-client-secret -d 'The secret of that client at the identity provider (prefer the environment variable)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l static-oauth-client-info -d 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l static-oauth-client-metadata -d 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l client-metadata-url -d 'An https URL serving this client\'s Client ID Metadata Document, used as the client id where the authorization server supports such documents' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l scope -d 'Scopes to request instead of the ones the server suggests (comma or space separated)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l resource -d 'The resource (RFC 8707) to request tokens for, instead of the discovered one' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l authorize-param -d 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l callback-port -d 'Port of the loopback callback for the browser login (default: one derived from the server URL)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l callback-path -d 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l host -d 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1' -r -f -a "127.0.0.1\t''
localhost\t''"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l auth-timeout -d 'Seconds to wait for the browser login to finish' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l store -d 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)' -r -f -a "auto\t'The OS keyring if it works, else a private file in the config directory'
keyring\t'The OS keyring only; fail if there is none'
file\t'A private file (mode 0600) in the config directory'
memory\t'This process\'s memory only; nothing survives exit'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l log-level -d 'Set the log level outright (supergateway\'s `--logLevel`)' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
none\t'No logs at all'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l allow-http -d 'Allow plain http:// to a host other than this machine'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l no-cookies -d 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l client-credentials -d 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l device-code -d 'Log in with the device authorization grant (RFC 8628): open the address shown, on any device, and approve the code; for machines with no browser'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l no-resource -d 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l no-dpop -d 'Never bind tokens to a DPoP key (RFC 9449), even where the authorization server offers it'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l no-browser -d 'Print the login URL instead of opening a browser'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -s v -l verbose -d 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -s q -l quiet -d 'Less logging (-q: warnings and errors only, -qq: errors only)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l debug -d 'Same as --log-level debug (mcp-remote\'s `--debug`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -l silent -d 'Same as --log-level none (mcp-remote\'s `--silent`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand logout" -l store -d 'Which store to clean' -r -f -a "auto\t'The OS keyring if it works, else a private file in the config directory'
keyring\t'The OS keyring only; fail if there is none'
file\t'A private file (mode 0600) in the config directory'
memory\t'This process\'s memory only; nothing survives exit'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand logout" -l log-level -d 'Set the log level outright (supergateway\'s `--logLevel`)' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
none\t'No logs at all'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand logout" -l all -d 'Forget the credentials of every server'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand logout" -s v -l verbose -d 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand logout" -s q -l quiet -d 'Less logging (-q: warnings and errors only, -qq: errors only)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand logout" -l debug -d 'Same as --log-level debug (mcp-remote\'s `--debug`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand logout" -l silent -d 'Same as --log-level none (mcp-remote\'s `--silent`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand status" -l store -d 'Which store to read' -r -f -a "auto\t'The OS keyring if it works, else a private file in the config directory'
keyring\t'The OS keyring only; fail if there is none'
file\t'A private file (mode 0600) in the config directory'
memory\t'This process\'s memory only; nothing survives exit'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand status" -l log-level -d 'Set the log level outright (supergateway\'s `--logLevel`)' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
none\t'No logs at all'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand status" -l json -d 'Print JSON instead of a table'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand status" -s v -l verbose -d 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand status" -s q -l quiet -d 'Less logging (-q: warnings and errors only, -qq: errors only)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand status" -l debug -d 'Same as --log-level debug (mcp-remote\'s `--debug`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand status" -l silent -d 'Same as --log-level none (mcp-remote\'s `--silent`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l transport -d 'Which transport to use, and in what order to try them' -r -f -a "http-first\t'Streamable HTTP, falling back to HTTP+SSE when the server answers 400/404/405'
sse-first\t'HTTP+SSE, falling back to Streamable HTTP when the SSE stream cannot be opened'
http-only\t'Streamable HTTP only'
sse-only\t'HTTP+SSE only (2024-11-05 servers)'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l protocol -d 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one' -r -f -a "auto\t'Ask with `server/discover` first (2026-07-28), fall back to `initialize`'
legacy\t'Only the `initialize` era (2024-11-05 to 2025-11-25)'
modern\t'Only 2026-07-28'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -s H -l header -d 'Send an extra HTTP header, as \'Name: value\'. Repeatable' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l header-file -d 'Read extra headers from a file of \'Name: value\' lines (# starts a comment). Repeatable' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l bearer -d 'Send `Authorization: Bearer TOKEN` with every request to the server' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l bearer-command -d 'Take the bearer token from a helper\'s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l bearer-command-ttl -d 'Seconds a token from --bearer-command is used before the helper runs again' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l ca-cert -d 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l connect-timeout -d 'Seconds a TCP and TLS connection to the server (or authorization server) may take' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l client-id -d 'Use this pre-registered OAuth client id instead of registering' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l client-secret -d 'The secret of the pre-registered client (prefer the environment variable)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l client-key -d 'The client\'s private key (PEM): the client authenticates with a signed JWT (private_key_jwt) instead of a secret, with --client-credentials or --jwt-bearer-file' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l client-key-alg -d 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l jwt-bearer-file -d 'Authorize as a workload with the JWT-bearer grant (RFC 7523): the platform\'s identity token in FILE, read again for every token request' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l id-token-file -d 'Enterprise SSO: exchange the OpenID Connect ID token in FILE at the identity provider for an ID-JAG and present it to the server\'s authorization server (needs --idp-client-id and --idp-issuer or --idp-token-endpoint)' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l idp-issuer -d 'The identity provider\'s issuer, for --id-token-file (its metadata names its token endpoint)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l idp-token-endpoint -d 'The identity provider\'s token endpoint, for --id-token-file (instead of discovering it from --idp-issuer)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l idp-client-id -d 'The bridge\'s client id at the identity provider, for --id-token-file' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l idp-client-secret -d 'The secret of that client at the identity provider (prefer the environment variable)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l static-oauth-client-info -d 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l static-oauth-client-metadata -d 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l client-metadata-url -d 'An https URL serving this client\'s Client ID Metadata Document, used as the client id where the authorization server supports such documents' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l scope -d 'Scopes to request instead of the ones the server suggests (comma or space separated)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l resource -d 'The resource (RFC 8707) to request tokens for, instead of the discovered one' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l authorize-param -d 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l callback-port -d 'Port of the loopback callback for the browser login (default: one derived from the server URL)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l callback-path -d 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l host -d 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1' -r -f -a "127.0.0.1\t''
localhost\t''"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l auth-timeout -d 'Seconds to wait for the browser login to finish' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l store -d 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)' -r -f -a "auto\t'The OS keyring if it works, else a private file in the config directory'
keyring\t'The OS keyring only; fail if there is none'
file\t'A private file (mode 0600) in the config directory'
memory\t'This process\'s memory only; nothing survives exit'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l log-level -d 'Set the log level outright (supergateway\'s `--logLevel`)' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
none\t'No logs at all'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l allow-http -d 'Allow plain http:// to a host other than this machine'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l no-cookies -d 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l client-credentials -d 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l device-code -d 'Log in with the device authorization grant (RFC 8628): open the address shown, on any device, and approve the code; for machines with no browser'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l no-resource -d 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l no-dpop -d 'Never bind tokens to a DPoP key (RFC 9449), even where the authorization server offers it'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l no-browser -d 'Print the login URL instead of opening a browser'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l json -d 'Print one JSON document with every step instead of the report'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l list -d 'List the names of the server\'s tools, resources and prompts too'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l login -d 'Log in (in the browser) if the server needs it; without it, check never opens one'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -s v -l verbose -d 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -s q -l quiet -d 'Less logging (-q: warnings and errors only, -qq: errors only)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l debug -d 'Same as --log-level debug (mcp-remote\'s `--debug`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -l silent -d 'Same as --log-level none (mcp-remote\'s `--silent`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and not __fish_seen_subcommand_from mcp-remote help" -l log-level -d 'Set the log level outright (supergateway\'s `--logLevel`)' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
none\t'No logs at all'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and not __fish_seen_subcommand_from mcp-remote help" -s v -l verbose -d 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and not __fish_seen_subcommand_from mcp-remote help" -s q -l quiet -d 'Less logging (-q: warnings and errors only, -qq: errors only)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and not __fish_seen_subcommand_from mcp-remote help" -l debug -d 'Same as --log-level debug (mcp-remote\'s `--debug`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and not __fish_seen_subcommand_from mcp-remote help" -l silent -d 'Same as --log-level none (mcp-remote\'s `--silent`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and not __fish_seen_subcommand_from mcp-remote help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and not __fish_seen_subcommand_from mcp-remote help" -f -a "mcp-remote" -d 'Import the tokens and client registrations mcp-remote stored, without changing them'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and not __fish_seen_subcommand_from mcp-remote help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l transport -d 'Which transport to use, and in what order to try them' -r -f -a "http-first\t'Streamable HTTP, falling back to HTTP+SSE when the server answers 400/404/405'
sse-first\t'HTTP+SSE, falling back to Streamable HTTP when the SSE stream cannot be opened'
http-only\t'Streamable HTTP only'
sse-only\t'HTTP+SSE only (2024-11-05 servers)'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l protocol -d 'Which protocol era to speak: ask for 2026-07-28 first (auto), or pin one' -r -f -a "auto\t'Ask with `server/discover` first (2026-07-28), fall back to `initialize`'
legacy\t'Only the `initialize` era (2024-11-05 to 2025-11-25)'
modern\t'Only 2026-07-28'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -s H -l header -d 'Send an extra HTTP header, as \'Name: value\'. Repeatable' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l header-file -d 'Read extra headers from a file of \'Name: value\' lines (# starts a comment). Repeatable' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l bearer -d 'Send `Authorization: Bearer TOKEN` with every request to the server' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l bearer-command -d 'Take the bearer token from a helper\'s stdout (`gcloud auth print-identity-token`), run again after a 401 or the TTL' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l bearer-command-ttl -d 'Seconds a token from --bearer-command is used before the helper runs again' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l ca-cert -d 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l connect-timeout -d 'Seconds a TCP and TLS connection to the server (or authorization server) may take' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l client-id -d 'Use this pre-registered OAuth client id instead of registering' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l client-secret -d 'The secret of the pre-registered client (prefer the environment variable)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l client-key -d 'The client\'s private key (PEM): the client authenticates with a signed JWT (private_key_jwt) instead of a secret, with --client-credentials or --jwt-bearer-file' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l client-key-alg -d 'The JWS algorithm for --client-key where the key allows several (RSA: RS256, RS384, RS512, PS256, PS384, PS512)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l jwt-bearer-file -d 'Authorize as a workload with the JWT-bearer grant (RFC 7523): the platform\'s identity token in FILE, read again for every token request' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l id-token-file -d 'Enterprise SSO: exchange the OpenID Connect ID token in FILE at the identity provider for an ID-JAG and present it to the server\'s authorization server (needs --idp-client-id and --idp-issuer or --idp-token-endpoint)' -r -F
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l idp-issuer -d 'The identity provider\'s issuer, for --id-token-file (its metadata names its token endpoint)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l idp-token-endpoint -d 'The identity provider\'s token endpoint, for --id-token-file (instead of discovering it from --idp-issuer)' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l idp-client-id -d 'The bridge\'s client id at the identity provider, for --id-token-file' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l idp-client-secret -d 'The secret of that client at the identity provider (prefer the environment variable)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l static-oauth-client-info -d 'Pre-registered client as JSON ({"client_id": ..., "client_secret": ...}) or @FILE (mcp-remote)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l static-oauth-client-metadata -d 'Extra client metadata for registration, as JSON or @FILE (mcp-remote)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l client-metadata-url -d 'An https URL serving this client\'s Client ID Metadata Document, used as the client id where the authorization server supports such documents' -r -f
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l scope -d 'Scopes to request instead of the ones the server suggests (comma or space separated)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l resource -d 'The resource (RFC 8707) to request tokens for, instead of the discovered one' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l authorize-param -d 'An extra parameter for the authorization request, as KEY=VALUE (repeatable), for servers that need one (`prompt=login`, `audience=...`)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l callback-port -d 'Port of the loopback callback for the browser login (default: one derived from the server URL)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l callback-path -d 'Path of the loopback callback, for clients registered with a fixed redirect URI (default /oauth/callback)' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l host -d 'Host name in the callback URL: 127.0.0.1 (default) or localhost. It always listens on 127.0.0.1' -r -f -a "127.0.0.1\t''
localhost\t''"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l auth-timeout -d 'Seconds to wait for the browser login to finish' -r
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l store -d 'Where to keep tokens: the OS keyring, a 0600 file, or memory only (auto: keyring when usable, else file)' -r -f -a "auto\t'The OS keyring if it works, else a private file in the config directory'
keyring\t'The OS keyring only; fail if there is none'
file\t'A private file (mode 0600) in the config directory'
memory\t'This process\'s memory only; nothing survives exit'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l config-dir -d 'mcp-remote\'s directory (default: ~/.mcp-auth; mcp-remote\'s own MCP_REMOTE_CONFIG_DIR is honoured)' -r -f -a "(__fish_complete_directories)"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l log-level -d 'Set the log level outright (supergateway\'s `--logLevel`)' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
none\t'No logs at all'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l allow-http -d 'Allow plain http:// to a host other than this machine'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l no-cookies -d 'Keep no cookies from the server. By default the cookies it sets are kept for the run (never on disk, never sent to the authorization server), for load balancers that pin a session with one'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l client-credentials -d 'Authorize as a service with no user: the client credentials grant with --client-id and --client-secret (no browser, no registration)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l device-code -d 'Log in with the device authorization grant (RFC 8628): open the address shown, on any device, and approve the code; for machines with no browser'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l no-resource -d 'Leave out the RFC 8707 `resource` parameter, for authorization servers that reject it (Microsoft Entra)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l no-dpop -d 'Never bind tokens to a DPoP key (RFC 9449), even where the authorization server offers it'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l no-browser -d 'Print the login URL instead of opening a browser'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l dry-run -d 'Say what would be imported, and store nothing'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l json -d 'Print JSON instead of sentences'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l force -d 'Replace tokens and registrations mcp-bridge already has for the same server'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -s v -l verbose -d 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -s q -l quiet -d 'Less logging (-q: warnings and errors only, -qq: errors only)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l debug -d 'Same as --log-level debug (mcp-remote\'s `--debug`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -l silent -d 'Same as --log-level none (mcp-remote\'s `--silent`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from mcp-remote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "mcp-remote" -d 'Import the tokens and client registrations mcp-remote stored, without changing them'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand completions" -l log-level -d 'Set the log level outright (supergateway\'s `--logLevel`)' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
none\t'No logs at all'"
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand completions" -s v -l verbose -d 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand completions" -s q -l quiet -d 'Less logging (-q: warnings and errors only, -qq: errors only)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand completions" -l debug -d 'Same as --log-level debug (mcp-remote\'s `--debug`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand completions" -l silent -d 'Same as --log-level none (mcp-remote\'s `--silent`)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand help; and not __fish_seen_subcommand_from login logout status check import completions help" -f -a "login" -d 'Authorize with a server now (browser login) and store the tokens'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand help; and not __fish_seen_subcommand_from login logout status check import completions help" -f -a "logout" -d 'Forget stored tokens and client registrations (revoking tokens where the server allows)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand help; and not __fish_seen_subcommand_from login logout status check import completions help" -f -a "status" -d 'Show stored credentials: server, issuer, scopes, expiry (never the secrets)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand help; and not __fish_seen_subcommand_from login logout status check import completions help" -f -a "check" -d 'Connect as the bridge would and report every step: what works, what does not, and the fix'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand help; and not __fish_seen_subcommand_from login logout status check import completions help" -f -a "import" -d 'Import credentials another tool stored (mcp-remote\'s ~/.mcp-auth)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand help; and not __fish_seen_subcommand_from login logout status check import completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand help; and not __fish_seen_subcommand_from login logout status check import completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-bridge -n "__fish_mcp_bridge_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "mcp-remote" -d 'Import the tokens and client registrations mcp-remote stored, without changing them'
