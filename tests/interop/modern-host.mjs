// A 2026-07-28 ("modern") MCP host of our own, for the conformance runs that need one
// (no SDK speaks that version yet): it starts mcp-bridge with piped stdio and sends
// requests with no `initialize`, each carrying the host's protocol version, capabilities
// and identity in `params._meta`. It offers the same small surface as the SDK-based host
// in host.mjs (client.listTools, client.callTool, messages, stderr, close), so a scenario's
// body runs unchanged on either.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import readline from 'node:readline';

import { requireBridge, withTimeout } from './host.mjs';

export const MODERN_VERSION = '2026-07-28';

/** Starts the bridge with `args` as a 2026-07-28 host would. */
export async function connectModernHost(args, { capabilities = {}, clientInfo, env = {}, stderrFile } = {}) {
  const bin = requireBridge();
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderrText = '';
  child.stderr.on('data', (chunk) => {
    if (stderrFile) appendFileSync(stderrFile, chunk);
    stderrText += chunk.toString();
    if (stderrText.length > 65_536) stderrText = stderrText.slice(-65_536);
  });
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const messages = [];
  const pending = new Map();
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      for (const { reject } of pending.values()) reject(new Error(`the bridge wrote a line that is not JSON: ${line}`));
      return;
    }
    messages.push(msg);
    if (msg.id === undefined || msg.method !== undefined) return; // the server's own requests and notifications
    const waiter = pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`${msg.error.code}: ${msg.error.message}`));
    else waiter.resolve(msg.result);
  });
  child.once('exit', () => {
    for (const { reject } of pending.values()) reject(new Error(`the bridge exited\n--- bridge stderr ---\n${stderrText}`));
    pending.clear();
  });

  let nextId = 1;
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': clientInfo ?? { name: 'mcp-bridge-modern-host', version: '1.0.0' },
  };
  const request = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      const body = { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...(params._meta ?? {}), ...meta } } };
      child.stdin.write(`${JSON.stringify(body)}\n`);
    });
  const complete = (result, what) => {
    // A 2026-07-28 server may ask the host for input mid-call; these scenarios never do.
    if (result?.resultType && result.resultType !== 'complete') {
      throw new Error(`${what}: the result asks for input (${result.resultType}), which this host does not give`);
    }
    return result;
  };

  const discovered = complete(await withTimeout(request('server/discover'), 20_000, 'server/discover'), 'server/discover');
  return {
    discovered,
    messages,
    stderr: () => stderrText,
    client: {
      async listTools() {
        return complete(await request('tools/list'), 'tools/list');
      },
      async callTool({ name, arguments: args }) {
        return complete(await request('tools/call', { name, arguments: args }), `tools/call ${name}`);
      },
    },
    async close() {
      child.stdin.end();
      return withTimeout(exit, 6_000, 'waiting for the bridge to exit').catch(() => {
        child.kill('SIGKILL');
        return { code: null, signal: null };
      });
    },
  };
}
