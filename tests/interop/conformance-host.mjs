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
// spaces). The bridge binary: MCP_BRIDGE_BIN (see host.mjs).
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { connectThroughBridge, withTimeout } from './host.mjs';

const OVERALL_TIMEOUT_MS = 25_000; // the suite kills the client at 30 s
const CALL_TIMEOUT_MS = 15_000;

/** Form-mode elicitation; the SDK fills omitted fields from schema defaults. */
const ELICITATION_WITH_DEFAULTS = { elicitation: { form: { applyDefaults: true } } };

/**
 * Per-scenario behaviour. Every field is optional:
 *   bridgeArgs(context)  extra flags for mcp-bridge (before the URL), e.g. a
 *                        pre-registered client from the context:
 *                        (ctx) => ['--client-id', ctx.client_id, '--client-secret', ctx.client_secret]
 *   bridgeEnv(context)   extra environment for mcp-bridge
 *   capabilities         client capabilities to advertise
 *   run(host, context)   replaces the default "list tools, call each tool"
 *
 * The bridge always runs with a fresh temporary HOME/XDG dirs (host.mjs), so a
 * scenario never sees credentials stored by another. An auth scenario with a
 * pre-registered client would look like this (secrets through the
 * environment, never argv):
 *   'auth/pre-registration': {
 *     bridgeArgs: (ctx) => ['--client-id', ctx.client_id],
 *     bridgeEnv: (ctx) => ({ MCP_BRIDGE_CLIENT_SECRET: ctx.client_secret }),
 *   },
 * plus whatever makes the bridge's browser step fetch the authorization URL
 * (the suite's /authorize redirects straight to the callback).
 */
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
};

const DEFAULT_SCENARIO = { capabilities: ELICITATION_WITH_DEFAULTS };

function log(msg) {
  process.stderr.write(`conformance-host: ${msg}\n`);
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
  const extra = (process.env.MCP_BRIDGE_EXTRA_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...extra, ...(scenario.bridgeArgs?.(context) ?? []), url];
  log(`scenario=${name} version=${version} bridge args: ${JSON.stringify(args)}`);

  const host = await connectThroughBridge(args, {
    capabilities: scenario.capabilities ?? {},
    env: scenario.bridgeEnv?.(context) ?? {},
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
    err.message += `\n--- bridge stderr ---\n${host.stderr()}`;
    await host.close().catch(() => {});
    throw err;
  }
  const started = Date.now();
  const exit = await host.close();
  log(`bridge exited ${JSON.stringify(exit)} ${Date.now() - started} ms after stdin closed`);
  if (exit.code !== 0) {
    throw new Error(`bridge exit status ${JSON.stringify(exit)}\n--- bridge stderr ---\n${host.stderr()}`);
  }
}

withTimeout(main(), OVERALL_TIMEOUT_MS, 'conformance-host')
  .then(() => process.exit(0))
  .catch((err) => {
    log(`FAILED: ${err.stack ?? err}`);
    process.exit(1);
  });
