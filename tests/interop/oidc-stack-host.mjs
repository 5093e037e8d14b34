// What oidc.test.mjs and browser.test.mjs share: a bridge run against the oidc-provider
// stack (oidc-provider.mjs) as an MCP host, and the checks on what the bridge printed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { connectThroughBridge, requireBridge, withTimeout } from './host.mjs';
import { startAuthStack } from './oidc-provider.mjs';

export const CALL_TIMEOUT_MS = 15_000;

/** A fresh authorization and resource server for one test, closed after it. */
export async function stackFor(t, options) {
  const stack = await startAuthStack(options);
  t.after(() => stack.close());
  return stack;
}

/** A config dir of its own for one test (removed after it). */
export function configDir(t) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-oidc-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An Error carrying the bridge's stderr and what the servers saw. */
export function explain(err, { host, stack, stderr } = {}) {
  const parts = [err?.stack ?? String(err)];
  const log = stderr ?? host?.stderr();
  if (log !== undefined) parts.push(`--- bridge stderr ---\n${redact(log, stack)}`);
  if (stack) parts.push(`--- servers ---\n${stack.describe()}`);
  const wrapped = new Error(parts.join('\n'));
  wrapped.stack = wrapped.message;
  return wrapped;
}

/** `text` with every token and secret of `stack` replaced, for failure messages. */
export function redact(text, stack) {
  let out = String(text);
  if (!stack) return out;
  for (const secret of stack.secrets()) out = out.split(secret).join('<redacted>');
  return out;
}

/**
 * Asserts the bridge printed none of the access tokens the resource server saw, the refresh
 * tokens and codes the authorization server issued, nor the client secret.
 */
export function assertNoSecrets(stderr, stack) {
  const tokens = stack.tokens();
  for (const token of tokens) {
    assert.ok(!stderr.includes(token), 'an access token appears in the bridge stderr');
    // A JWT's signature alone is enough to be a leak worth catching.
    assert.ok(!stderr.includes(token.split('.')[2]), 'an access token signature appears in the bridge stderr');
  }
  for (const secret of stack.secrets()) assert.ok(!stderr.includes(secret), 'a token, code or secret appears in the bridge stderr');
}

/**
 * Connects through the bridge (`--store memory` unless `args` says otherwise) to the stack's
 * MCP server, lists tools, calls whoami and closes stdin. Returns { who, stderr, exit }:
 * who is what the resource server's whoami tool saw in the access token.
 */
export async function whoamiThroughBridge(stack, { args = [], env = {}, config, connectTimeoutMs = 20_000 } = {}) {
  requireBridge();
  const store = args.includes('--store') ? [] : ['--store', 'memory'];
  let host;
  try {
    host = await connectThroughBridge([...store, ...args, stack.mcpUrl], {
      env: { MCP_BRIDGE_CONFIG_DIR: config, ...env },
      connectTimeoutMs,
    });
  } catch (err) {
    throw explain(err, { stack });
  }
  try {
    const { tools } = await withTimeout(host.client.listTools(), CALL_TIMEOUT_MS, 'tools/list');
    assert.deepEqual(tools.map((t) => t.name).sort(), ['echo', 'whoami']);
    const result = await withTimeout(host.client.callTool({ name: 'whoami', arguments: {} }), CALL_TIMEOUT_MS, 'tools/call whoami');
    assert.equal(result.isError, undefined, `whoami failed: ${JSON.stringify(result)}`);
    const who = JSON.parse(result.content[0].text);
    const exit = await host.close();
    assert.deepEqual(exit, { code: 0, signal: null }, 'the bridge did not exit 0 on stdin EOF');
    return { who, stderr: host.stderr(), exit };
  } catch (err) {
    await host.close().catch(() => {});
    throw explain(err, { host, stack });
  }
}

/**
 * Asserts how the bridge authenticated every request the resource server let through:
 * all with `scheme`, tokens bound (DPoP) or not, proofs valid when bound; and that no
 * request carrying a token was refused except the ones `allowRefused` lets pass.
 */
export function assertAuthenticatedAs(stack, { scheme, bound, allowRefused = () => false }) {
  const accepted = stack.accepted();
  assert.ok(accepted.length >= 2, `expected at least tools/list and tools/call to pass\n${stack.describe()}`);
  for (const r of accepted) {
    assert.equal(r.scheme, scheme, `a request used ${r.scheme}, not ${scheme}\n${stack.describe()}`);
    assert.equal(r.bound, bound, `a request's token bound=${r.bound}, expected ${bound}\n${stack.describe()}`);
    assert.equal(r.proof, bound ? 'valid' : null, `proof: ${r.proof}\n${stack.describe()}`);
    assert.equal(r.aud, stack.mcpUrl);
  }
  const refused = stack.seen.filter((r) => !r.ok && r.scheme !== null && !allowRefused(r));
  assert.deepEqual(refused.map(({ token, ...r }) => r), [], 'the resource server refused a token the bridge sent');
}
