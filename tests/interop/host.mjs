// A real MCP host for the interop tests: the official TypeScript SDK `Client`
// over `StdioClientTransport`, spawning the mcp-bridge binary exactly as Claude
// Desktop or Cursor would (`mcp-bridge [OPTIONS] <URL>`, JSON-RPC on stdio).
//
// Library use:
//   import { connectThroughBridge } from './host.mjs';
//   const host = await connectThroughBridge(['http://127.0.0.1:PORT/mcp']);
//   await host.client.listTools(); ...; await host.close();
//
// Command-line use (a quick manual check; prints the tool list as JSON):
//   node host.mjs [BRIDGE ARGS...] URL
//
// The bridge binary comes from $MCP_BRIDGE_BIN, else ../../target/debug/mcp-bridge
// relative to this file.
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Absolute path of the bridge binary under test. */
export function bridgeBin() {
  return process.env.MCP_BRIDGE_BIN
    ? path.resolve(process.env.MCP_BRIDGE_BIN)
    : path.resolve(HERE, '..', '..', 'target', 'debug', 'mcp-bridge');
}

/** Throws a clear error if the bridge binary has not been built. */
export function requireBridge() {
  const bin = bridgeBin();
  if (!existsSync(bin)) {
    throw new Error(
      `mcp-bridge binary not found at ${bin}; build it with \`cargo build\` or set MCP_BRIDGE_BIN`,
    );
  }
  return bin;
}

/**
 * Records every message the transport delivers, before the SDK's Protocol
 * dispatches it. Lets tests see exactly what the bridge wrote on stdout, in
 * order, independent of the SDK's own dispatching (which runs notification
 * handlers on a later microtask than responses, so a progress notification
 * that arrives in the same chunk as its response is dropped by the SDK).
 */
function tapMessages(transport, limit = 10_000) {
  const messages = [];
  const dispatch = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (messages.length < limit) messages.push(message);
    dispatch?.(message, extra);
  };
  return messages;
}

/** SDK errors that are races inside the SDK client itself, not peer or bridge faults. */
export function isSdkClientRace(err) {
  return /Received a progress notification for an unknown token/.test(String(err));
}

const DEFAULT_CLIENT_INFO = { name: 'mcp-bridge-interop-host', version: '1.0.0' };

/** Rejects with `what` timed out after `ms`, so no step can hang a test. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Spawns the bridge with `args` and connects an SDK Client to it over stdio.
 *
 * Options:
 *   capabilities   client capabilities to advertise (default none)
 *   clientInfo     { name, version }
 *   env            extra environment for the bridge (merged over process.env)
 *   isolateHome    run the bridge with a fresh temporary HOME and XDG_* dirs, removed
 *                  on close, so stored credentials never leak between runs or into
 *                  the user's own (default true)
 *   connectTimeoutMs  deadline for spawn + initialize (default 15 s)
 *   setup(client)  called before connect, to install request handlers
 *   stderrFile     also append everything the bridge prints on stderr to this file
 *                  (complete, unlike stderr() which keeps the last 64 KiB)
 *
 * Returns { client, transport, stderr(), errors, messages, exit, close() }:
 *   stderr()  everything the bridge printed on stderr so far (its logs)
 *   errors    errors the SDK reported (e.g. a non-JSON line on stdout)
 *   messages  every JSON-RPC message read from the bridge's stdout after connect
 *   exit      promise of { code, signal } once the bridge process ends
 *   close()   closes stdin (the host going away), waits for the bridge to exit
 */
export async function connectThroughBridge(args, options = {}) {
  const bin = requireBridge();
  const {
    capabilities = {},
    clientInfo = DEFAULT_CLIENT_INFO,
    env = {},
    connectTimeoutMs = 15_000,
    setup,
    isolateHome = true,
    stderrFile,
  } = options;

  let home;
  const homeEnv = {};
  if (isolateHome) {
    home = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-home-'));
    Object.assign(homeEnv, {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
    });
  }
  const removeHome = () => home && rmSync(home, { recursive: true, force: true });

  // Pass the full environment (the SDK's default keeps only a safe subset):
  // RUST_LOG, HOME and MCP_BRIDGE_* must reach the bridge.
  const childEnv = {};
  for (const [k, v] of Object.entries({ ...process.env, ...homeEnv, ...env })) {
    if (typeof v === 'string') childEnv[k] = v;
  }
  const transport = new StdioClientTransport({
    command: bin,
    args,
    env: childEnv,
    stderr: 'pipe',
  });
  let stderrText = '';
  transport.stderr?.on('data', (chunk) => {
    if (stderrFile) appendFileSync(stderrFile, chunk);
    stderrText += chunk.toString();
    if (stderrText.length > 65_536) stderrText = stderrText.slice(-65_536);
  });

  const client = new Client(clientInfo, { capabilities });
  const errors = [];
  client.onerror = (err) => errors.push(err);
  if (setup) setup(client);

  let resolveExit;
  const exit = new Promise((resolve) => {
    resolveExit = resolve;
  });

  try {
    await withTimeout(client.connect(transport), connectTimeoutMs, `connecting to the bridge (${args.join(' ')})`);
  } catch (err) {
    await transport.close().catch(() => {});
    removeHome();
    err.message += `\n--- bridge stderr ---\n${stderrText}`;
    throw err;
  }

  const messages = tapMessages(transport);

  // The SDK does not expose the exit status; watch the child process directly.
  const proc = transport._process;
  if (proc) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolveExit({ code: proc.exitCode, signal: proc.signalCode });
    } else {
      proc.once('exit', (code, signal) => resolveExit({ code, signal }));
    }
  } else {
    resolveExit({ code: null, signal: null, unknown: true });
  }

  return {
    client,
    transport,
    errors,
    messages,
    exit,
    stderr: () => stderrText,
    home,
    async close() {
      await transport.close();
      const status = await withTimeout(exit, 6_000, 'waiting for the bridge to exit').catch(() => ({
        code: null,
        signal: null,
      }));
      removeHome();
      return status;
    },
  };
}

/**
 * Connects an SDK Client straight to a server (no bridge): a sanity check that
 * the peer itself works, so a failure through the bridge points at the bridge.
 * kind: 'streamable' | 'sse'.
 */
export async function connectDirect(url, kind, { connectTimeoutMs = 15_000, capabilities = {}, setup } = {}) {
  const transport =
    kind === 'sse' ? new SSEClientTransport(new URL(url)) : new StreamableHTTPClientTransport(new URL(url));
  const client = new Client(DEFAULT_CLIENT_INFO, { capabilities });
  const errors = [];
  client.onerror = (err) => errors.push(err);
  if (setup) setup(client);
  await withTimeout(client.connect(transport), connectTimeoutMs, `connecting directly to ${url}`);
  const messages = tapMessages(transport);
  return {
    client,
    transport,
    errors,
    messages,
    async close() {
      await withTimeout(client.close(), 5_000, 'closing direct client').catch(() => {});
    },
  };
}

// Command-line mode: node host.mjs [BRIDGE ARGS...] URL
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    console.error('usage: node host.mjs [BRIDGE ARGS...] URL');
    process.exit(2);
  }
  let host;
  try {
    host = await connectThroughBridge(args);
    const tools = await withTimeout(host.client.listTools(), 15_000, 'tools/list');
    console.log(JSON.stringify({ server: host.client.getServerVersion(), tools: tools.tools.map((t) => t.name) }, null, 2));
    const exit = await host.close();
    console.error(`bridge exited: ${JSON.stringify(exit)}`);
    process.exit(0);
  } catch (err) {
    console.error(`host: ${err.stack ?? err}`);
    if (host) console.error(`--- bridge stderr ---\n${host.stderr()}`);
    await host?.close().catch(() => {});
    process.exit(1);
  }
}
