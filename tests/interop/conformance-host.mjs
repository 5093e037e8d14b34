#!/usr/bin/env node
// Client driver for the MCP conformance suite's *client* scenarios.
//
// The suite runs `<command> <serverUrl>` (URL appended as the last argument) with
//   MCP_CONFORMANCE_SCENARIO          scenario name, e.g. tools_call
//   MCP_CONFORMANCE_PROTOCOL_VERSION  spec version the mock server speaks
//   MCP_CONFORMANCE_CONTEXT           optional JSON (e.g. a pre-registered client)
// and scores what reaches its mock server. This driver plays the MCP host: it
// spawns mcp-bridge with the URL, connects the TypeScript SDK Client to it over
// stdio, does what the scenario expects, and exits 0 (1 on any failure).
//
// Adding a scenario: if "connect, list tools, call every tool" is enough, it
// needs nothing here. Otherwise add an entry to SCENARIOS below (bridge flags
// derived from the context, client capabilities, or a custom `run`).
//
// Extra bridge arguments for every scenario: MCP_BRIDGE_EXTRA_ARGS (split on
// spaces), e.g. -vv. The bridge binary: MCP_BRIDGE_BIN (see host.mjs).
// CONFORMANCE_BRIDGE_LOG: append the bridge's complete stderr (and this
// driver's notes) to this file; conformance.sh sets it per scenario.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { connectThroughBridge, withTimeout } from './host.mjs';
import { connectModernHost } from './modern-host.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FAKE_BROWSER = path.join(HERE, 'fake-browser.mjs');
const OVERALL_TIMEOUT_MS = 25_000; // the suite kills the client at 30 s
const CALL_TIMEOUT_MS = 15_000;

/** Form-mode elicitation; the SDK fills omitted fields from schema defaults. */
const ELICITATION_WITH_DEFAULTS = { elicitation: { form: { applyDefaults: true } } };

/**
 * Per-scenario behaviour. Every field is optional:
 *   bridgeArgs(context, scratch)  extra flags for mcp-bridge (before the URL); scratch is
 *                        the scenario's temporary dir, for files the flags name
 *   bridgeEnv(context)   extra environment for mcp-bridge (secrets go here, never argv)
 *   capabilities         client capabilities to advertise
 *   run(host, context)   replaces the default "list tools, call each tool"
 *
 * Every scenario (auth or not) runs the bridge with a fresh temporary HOME/XDG
 * dirs (host.mjs) and a fresh MCP_BRIDGE_CONFIG_DIR, `--store memory`, and
 * MCP_BRIDGE_BROWSER pointing at fake-browser.mjs, which fetches the
 * authorization URL and follows the mock's 302 to the bridge's loopback
 * callback. So a scenario never sees credentials stored by another, and a
 * scenario without auth never launches the browser.
 */
/** The CIMD client id the suite's basic-cimd mock expects. */
const CIMD_CLIENT_ID = 'https://conformance-test.local/client-metadata.json';

/** A pre-registered client from the context: the id as a flag, the secret through the environment. */
const PRE_REGISTERED = {
  bridgeArgs: (ctx) => ['--client-id', ctx.client_id],
  bridgeEnv: (ctx) => (ctx.client_secret ? { MCP_BRIDGE_CLIENT_SECRET: ctx.client_secret } : {}),
};

/** The client is expected to give up (the suite sets allowClientError): fail fast, not at the timeout. */
const EXPECT_REFUSAL = { expectFailure: true };

const SCENARIOS = {
  // Only the handshake is scored; listing tools (there are none) does no harm.
  initialize: {},
  // One tool, add_numbers(a, b): the default arguments give numbers.
  tools_call: {},
  // The tool's POST stream closes after a priming event; the bridge must
  // reconnect with GET + Last-Event-ID after `retry` ms and deliver the result.
  'sse-retry': {},
  // The tool sends elicitation/create with defaults; we accept with an empty
  // form and the SDK applies the schema defaults (SEP-1034).
  'elicitation-sep1034-client-defaults': { capabilities: ELICITATION_WITH_DEFAULTS },
  // Echo the focal tool's inputSchema, exactly as the bridge delivered it
  // (raw tools/list result from stdout), back through json_schema_echo.
  'json-schema-2020-12-preservation': { run: echoRawSchema },

  // --- Authorization (the mock AS auto-approves; fake-browser.mjs follows the redirects) ---
  // PRM / AS metadata discovery variants, DCR, PKCE, RFC 8707 resource.
  'auth/metadata-default': {},
  'auth/metadata-var1': {},
  'auth/metadata-var2': {},
  'auth/metadata-var3': {},
  // The AS advertises client_id_metadata_document_supported: the URL is the client id.
  'auth/basic-cimd': { bridgeArgs: () => ['--client-metadata-url', CIMD_CLIENT_ID] },
  'auth/scope-from-www-authenticate': {},
  'auth/scope-from-scopes-supported': {},
  'auth/scope-omitted-when-undefined': {},
  // tools/list needs mcp:basic (401 challenge), tools/call needs mcp:write (403 insufficient_scope).
  'auth/scope-step-up': {},
  // Every authorized request gets 403 insufficient_scope: at most 3 authorizations, then give up.
  'auth/scope-retry-limit': EXPECT_REFUSAL,
  // DCR answers with token_endpoint_auth_method basic / post / none (and a secret for the first two).
  'auth/token-endpoint-auth-basic': {},
  'auth/token-endpoint-auth-post': {},
  'auth/token-endpoint-auth-none': {},
  // No registration endpoint; context: { client_id, client_secret, issuer }.
  'auth/pre-registration': PRE_REGISTERED,
  // Extension io.modelcontextprotocol/oauth-client-credentials: no user, no browser; the
  // context gives the pre-registered client; the AS takes client_secret_basic only.
  // The same with private_key_jwt: the context's PEM key (ES256) goes in a file.
  'auth/client-credentials-jwt': {
    bridgeArgs: (ctx, scratch) => {
      const key = path.join(scratch, 'client-key.pem');
      writeFileSync(key, ctx.private_key_pem, { mode: 0o600 });
      return ['--client-credentials', '--client-id', ctx.client_id, '--client-key', key];
    },
  },
  'auth/client-credentials-basic': {
    bridgeArgs: (ctx) => ['--client-credentials', '--client-id', ctx.client_id],
    bridgeEnv: (ctx) => ({ MCP_BRIDGE_CLIENT_SECRET: ctx.client_secret }),
  },
  // Extension io.modelcontextprotocol/auth/wif: the workload's identity token (the
  // context's valid_jwt) in a file, the JWT-bearer grant, a client with no secret.
  'auth/wif-jwt-bearer': {
    bridgeArgs: (ctx, scratch) => {
      const token = path.join(scratch, 'workload-token.jwt');
      writeFileSync(token, ctx.valid_jwt, { mode: 0o600 });
      return ['--jwt-bearer-file', token, '--client-id', ctx.client_id];
    },
  },
  // Extension io.modelcontextprotocol/enterprise-managed-authorization: the SSO ID token
  // in a file, exchanged at the IdP for an ID-JAG, presented with the client's secret.
  'auth/enterprise-managed-authorization': {
    bridgeArgs: (ctx, scratch) => {
      const token = path.join(scratch, 'id-token.jwt');
      writeFileSync(token, ctx.idp_id_token, { mode: 0o600 });
      return [
        '--id-token-file', token,
        '--idp-issuer', ctx.idp_issuer,
        '--idp-token-endpoint', ctx.idp_token_endpoint,
        '--idp-client-id', ctx.idp_client_id,
        '--client-id', ctx.client_id,
      ];
    },
    bridgeEnv: (ctx) => ({ MCP_BRIDGE_CLIENT_SECRET: ctx.client_secret }),
  },
  // Extension io.modelcontextprotocol/auth/dpop: the browser login (auto-approved) with
  // tokens bound to a DPoP key; -nonce adds a use_dpop_nonce round at both servers.
  'auth/dpop': {},
  'auth/dpop-nonce': {},
  // 2025-03-26: no PRM. AS metadata at the server root (routes under /oauth), or no
  // metadata at all (default /authorize, /token, /register at the origin).
  'auth/2025-03-26-oauth-metadata-backcompat': {},
  'auth/2025-03-26-oauth-endpoint-fallback': {},
  // 2026-07-28 (the MCP requests after auth use the modern protocol; see CONFORMANCE-NOTES.md).
  'auth/iss-supported': {},
  'auth/iss-not-advertised': {},
  'auth/iss-supported-missing': EXPECT_REFUSAL,
  'auth/iss-wrong-issuer': EXPECT_REFUSAL,
  'auth/iss-unexpected': EXPECT_REFUSAL,
  'auth/iss-normalized': EXPECT_REFUSAL,
  'auth/resource-mismatch': EXPECT_REFUSAL,
  'auth/metadata-issuer-mismatch': EXPECT_REFUSAL,
  // DCR (not CIMD: the suite cannot fetch the CIMD URL) so grant_types can be checked.
  'auth/offline-access-scope': {},
  'auth/offline-access-not-supported': {},
  'auth/authorization-server-migration': {},

  // --- 2026-07-28 servers. The host (TS SDK 1.x) speaks 2025-11-25; the bridge translates:
  // it probes with server/discover, answers initialize itself, adds _meta and the headers.
  // The first POST is refused with -32022; the bridge retries the probe once.
  'request-metadata': {},
  // input_required results become elicitation/create requests to the host; the bridge
  // retries with inputResponses, the exact requestState and a new id.
  'sep-2322-client-request-state': { capabilities: ELICITATION_WITH_DEFAULTS },
  'http-standard-headers': {},
  // Both tools with the scenario's own arguments (values that need base64, a null).
  'http-custom-headers': { run: callToolsFromContext },
  // The bridge hides the ten tools with invalid x-mcp-header declarations.
  'http-invalid-tool-headers': {},
  // Its server cannot answer tools/call; listing is what is checked (no $ref fetched).
  'json-schema-ref-no-deref': { run: listOnly },
};

const DEFAULT_SCENARIO = { capabilities: ELICITATION_WITH_DEFAULTS };

function log(msg) {
  const line = `conformance-host: ${msg}\n`;
  process.stderr.write(line);
  if (process.env.CONFORMANCE_BRIDGE_LOG) appendFileSync(process.env.CONFORMANCE_BRIDGE_LOG, line);
}

/** Arguments for a tool call, made up from its input schema. */
export function argumentsFor(schema) {
  const args = {};
  const props = schema?.properties ?? {};
  let n = 0;
  for (const [name, prop] of Object.entries(props)) {
    n += 1;
    args[name] = valueFor(prop, n);
  }
  return args;
}

function valueFor(prop, n) {
  if (prop === null || typeof prop !== 'object') return 'test';
  if ('default' in prop) return prop.default;
  if ('const' in prop) return prop.const;
  if (Array.isArray(prop.enum) && prop.enum.length > 0) return prop.enum[0];
  const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type;
  switch (type) {
    case 'number':
    case 'integer':
      return n + 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return argumentsFor(prop);
    case 'null':
      return null;
    default:
      return 'test';
  }
}

/** The default scenario body: list tools, call each one, fail on any error. */
async function listAndCallAll(host) {
  const { tools } = await withTimeout(host.client.listTools(), CALL_TIMEOUT_MS, 'tools/list');
  log(`tools: ${tools.map((t) => t.name).join(', ') || '(none)'}`);
  for (const tool of tools) {
    const args = argumentsFor(tool.inputSchema);
    const result = await withTimeout(
      host.client.callTool({ name: tool.name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS }),
      CALL_TIMEOUT_MS + 1_000,
      `tools/call ${tool.name}`,
    );
    log(`called ${tool.name}(${JSON.stringify(args)}) -> ${JSON.stringify(result).slice(0, 300)}`);
  }
}

/** Lists the tools, then calls exactly the tools and arguments the scenario gives. */
async function callToolsFromContext(host, context) {
  await withTimeout(host.client.listTools(), CALL_TIMEOUT_MS, 'tools/list');
  for (const call of context.toolCalls ?? []) {
    await withTimeout(
      host.client.callTool({ name: call.name, arguments: call.arguments }, undefined, { timeout: CALL_TIMEOUT_MS }),
      CALL_TIMEOUT_MS + 1_000,
      `tools/call ${call.name}`,
    );
    log(`called ${call.name} with the scenario's arguments`);
  }
}

/** Lists the tools and nothing else. */
async function listOnly(host) {
  const { tools } = await withTimeout(host.client.listTools(), CALL_TIMEOUT_MS, 'tools/list');
  log(`tools: ${tools.map((t) => t.name).join(', ') || '(none)'}`);
}

/** Calls json_schema_echo with json_schema_2020_12_tool's raw inputSchema. */
async function echoRawSchema(host) {
  const before = host.messages.length;
  const { tools } = await withTimeout(host.client.listTools(), CALL_TIMEOUT_MS, 'tools/list');
  const raw = host.messages.slice(before).find((m) => Array.isArray(m.result?.tools));
  if (!raw) throw new Error('no raw tools/list result seen on the bridge stdout');
  const focal = raw.result.tools.find((t) => t.name === 'json_schema_2020_12_tool');
  if (!focal) throw new Error(`json_schema_2020_12_tool not listed: ${tools.map((t) => t.name)}`);
  await withTimeout(
    host.client.callTool({ name: 'json_schema_echo', arguments: { schema: focal.inputSchema } }, undefined, {
      timeout: CALL_TIMEOUT_MS,
    }),
    CALL_TIMEOUT_MS + 1_000,
    'tools/call json_schema_echo',
  );
}

async function main() {
  const url = process.argv[process.argv.length - 1];
  const name = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  const version = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '';
  let context = {};
  if (process.env.MCP_CONFORMANCE_CONTEXT) {
    context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT);
  }
  if (!url || !/^https?:\/\//.test(url)) throw new Error(`last argument is not a server URL: ${url}`);

  const scenario = SCENARIOS[name] ?? DEFAULT_SCENARIO;
  if (!(name in SCENARIOS)) log(`scenario "${name}" has no entry; using the default behaviour`);
  // A fresh config dir (locks, index) and the fake browser, for every scenario.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-conformance-'));
  const extra = (process.env.MCP_BRIDGE_EXTRA_ARGS ?? '').split(' ').filter(Boolean);
  const args = ['--store', 'memory', ...extra, ...(scenario.bridgeArgs?.(context, scratch) ?? []), url];
  log(`scenario=${name} version=${version} bridge args: ${JSON.stringify(args)}`);

  const browserLog = path.join(scratch, 'browser.log');
  const bridgeLog = process.env.CONFORMANCE_BRIDGE_LOG;
  const env = {
    // fake-browser.mjs runs as `#!/usr/bin/env node`: this node first on PATH.
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    MCP_BRIDGE_CONFIG_DIR: path.join(scratch, 'config'),
    MCP_BRIDGE_BROWSER: FAKE_BROWSER,
    FAKE_BROWSER_LOG: browserLog,
    ...(scenario.bridgeEnv?.(context) ?? {}),
  };
  const browserLaunches = () => {
    try {
      return readFileSync(browserLog, 'utf8').split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  };

  // CONFORMANCE_HOST=modern: the host speaks 2026-07-28 (modern-host.mjs), not 2025-11-25.
  const modernHost = process.env.CONFORMANCE_HOST === 'modern';
  let host;
  try {
    host = modernHost
      ? await connectModernHost(args, {
          capabilities: scenario.capabilities ?? {},
          env,
          stderrFile: bridgeLog,
          clientInfo: { name: 'mcp-bridge-conformance-modern-host', version: '1.0.0' },
        })
      : await connectThroughBridge(args, {
      capabilities: scenario.capabilities ?? {},
      env,
      stderrFile: bridgeLog,
      clientInfo: { name: 'mcp-bridge-conformance-host', version: '1.0.0' },
      setup: (client) => {
        if (scenario.capabilities?.elicitation) {
          // Accept with an empty form: the SDK fills in the schema's defaults.
          client.setRequestHandler(ElicitRequestSchema, async (req) => {
            log(`elicitation/create: ${JSON.stringify(req.params).slice(0, 300)}`);
            return { action: 'accept', content: {} };
          });
        }
      },
    });
    try {
      await (scenario.run ?? listAndCallAll)(host, context);
    } catch (err) {
      if (scenario.expectFailure) {
        // The scenario wants the client to give up; its checks score how.
        log(`refused, as this scenario expects: ${String(err).split('\n')[0]}`);
      } else {
        err.message += `\n--- bridge stderr ---\n${host.stderr()}`;
        throw err;
      }
    }
    const started = Date.now();
    const exit = await host.close();
    host = undefined;
    log(`bridge exited ${JSON.stringify(exit)} ${Date.now() - started} ms after stdin closed`);
    if (exit.code !== 0 && !scenario.expectFailure) {
      throw new Error(`bridge exit status ${JSON.stringify(exit)}`);
    }
  } catch (err) {
    if (scenario.expectFailure && !/timed out/.test(String(err))) {
      log(`refused, as this scenario expects: ${String(err).split('\n')[0]}`);
    } else {
      throw err;
    }
  } finally {
    await host?.close().catch(() => {});
    log(`browser launches: ${browserLaunches()}`);
    rmSync(scratch, { recursive: true, force: true });
  }
}

withTimeout(main(), OVERALL_TIMEOUT_MS, 'conformance-host')
  .then(() => process.exit(0))
  .catch((err) => {
    // The full text (with the bridge's stderr) for the suite's report; the
    // bridge log already has that stderr, so only the first line goes there.
    process.stderr.write(`conformance-host: FAILED: ${err.stack ?? err}\n`);
    if (process.env.CONFORMANCE_BRIDGE_LOG) {
      appendFileSync(process.env.CONFORMANCE_BRIDGE_LOG, `conformance-host: FAILED: ${String(err).split('\n')[0]}\n`);
    }
    process.exit(1);
  });
