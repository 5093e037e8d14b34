#!/usr/bin/env node
// Harness self-check, not a product: a minimal stdio <-> HTTP proxy made of the
// TypeScript SDK's client transports. Point the harness at it to tell a harness
// or peer problem from a bridge problem:
//
//   MCP_BRIDGE_BIN=tests/interop/reference-bridge.mjs tests/interop/run.sh
//
// Accepts the bridge's spelling `[--transport sse-only] URL`. It passes the
// 2025-11-25 peer tests and conformance scenarios; it knows nothing of auth or
// of the 2026-07-28 protocol. REFERENCE_BRIDGE_LOG=FILE logs every message.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const args = process.argv.slice(2);
const url = new URL(args[args.length - 1]);
const legacySse = args.includes('sse-only') || args.includes('--sse');
const transport = legacySse ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url);
const logFile = process.env.REFERENCE_BRIDGE_LOG;
const trace = (dir, msg) => logFile && appendFileSync(logFile, `${dir} ${JSON.stringify(msg)}\n`);
const write = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);

const initializeIds = new Set();
transport.onmessage = (msg) => {
  trace('<', msg);
  // The Streamable HTTP transport sends MCP-Protocol-Version once told which one.
  if (initializeIds.has(msg.id) && msg.result?.protocolVersion) transport.setProtocolVersion?.(msg.result.protocolVersion);
  write(msg);
};
transport.onerror = (err) => process.stderr.write(`reference-bridge: ${err}\n`);
// The SDK opens the standalone GET stream after `notifications/initialized`
// without waiting for it. Servers drop messages meant for that stream while it
// is not open (the SDK server does), so remember the attempt and wait for it
// before forwarding anything else.
let getStreamOpening = null;
if (typeof transport._startOrAuthSse === 'function') {
  const open = transport._startOrAuthSse.bind(transport);
  transport._startOrAuthSse = (options) => (getStreamOpening = open(options));
}
await transport.start();

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    write({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    continue;
  }
  trace('>', msg);
  if (msg.method === 'initialize') initializeIds.add(msg.id);
  // Not awaited: requests go out concurrently (an elicitation answer must not
  // wait for the tool call it belongs to).
  const sent = transport.send(msg).catch((err) => {
    process.stderr.write(`reference-bridge: send failed: ${err}\n`);
    if (msg.id !== undefined && msg.method) write({ jsonrpc: '2.0', id: msg.id, error: { code: -32000, message: String(err) } });
  });
  if (msg.method === 'notifications/initialized') {
    await sent;
    await getStreamOpening?.catch(() => {});
  }
}
if (!legacySse) await transport.terminateSession?.().catch(() => {});
await transport.close();
process.exit(0);
