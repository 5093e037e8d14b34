
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
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header-file', '--header-file', [CompletionResultType]::ParameterName, 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable')
            [CompletionResult]::new('--bearer', '--bearer', [CompletionResultType]::ParameterName, 'Send `Authorization: Bearer TOKEN` with every request to the server')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable')
            [CompletionResult]::new('--sse', '--sse', [CompletionResultType]::ParameterName, 'Connect over HTTP+SSE to this URL (supergateway''s `--sse`)')
            [CompletionResult]::new('--streamable-http', '--streamable-http', [CompletionResultType]::ParameterName, 'Connect over Streamable HTTP to this URL (supergateway''s `--streamableHttp`)')
            [CompletionResult]::new('--ignore-tool', '--ignore-tool', [CompletionResultType]::ParameterName, 'Hide tools whose names match PATTERN from the host (`*` matches any run of characters)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest single message accepted from the host or the server, in bytes')
            [CompletionResult]::new('--output-transport', '--output-transport', [CompletionResultType]::ParameterName, 'Accepted for supergateway compatibility; only `stdio` is supported')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a host other than this machine')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Authorize with a server now (browser login) and store the tokens [not yet available]')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget stored tokens and client registrations [not yet available]')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show stored credentials, never the secrets [not yet available]')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcp-bridge;login' {
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Which transport to use, and in what order to try them')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send an extra HTTP header, as ''Name: value''. Repeatable')
            [CompletionResult]::new('--header-file', '--header-file', [CompletionResultType]::ParameterName, 'Read extra headers from a file of ''Name: value'' lines (# starts a comment). Repeatable')
            [CompletionResult]::new('--bearer', '--bearer', [CompletionResultType]::ParameterName, 'Send `Authorization: Bearer TOKEN` with every request to the server')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file too (SSL_CERT_FILE is also honoured). Repeatable')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a host other than this machine')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;logout' {
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Forget the credentials of every server')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;status' {
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;completions' {
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Set the log level outright (supergateway''s `--logLevel`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging (-v debug, -vv trace). RUST_LOG overrides every logging option')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less logging (-q errors and warnings only... -qq errors only)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Same as --log-level debug (mcp-remote''s `--debug`)')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Same as --log-level none (mcp-remote''s `--silent`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcp-bridge;help' {
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Authorize with a server now (browser login) and store the tokens [not yet available]')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget stored tokens and client registrations [not yet available]')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show stored credentials, never the secrets [not yet available]')
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
