// Authorization through mcp-bridge against a real, certified authorization server:
// npm oidc-provider (oidc-provider.mjs), with the TypeScript SDK's McpServer as the resource
// server behind a token check of our own (JWT access tokens for the MCP server URL, DPoP
// proofs checked field by field). The host is the SDK Client over stdio (host.mjs).
//
//   client credentials, client_secret_basic   --client-credentials --client-id, MCP_BRIDGE_CLIENT_SECRET
//   client credentials, private_key_jwt       --client-credentials --client-id --client-key key.pem
//   DPoP (RFC 9449)                           bound automatically where the server offers ES256;
//                                             Bearer and unbound with --no-dpop; nonces at both servers
//
// The browser login in real Chromium is browser.test.mjs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { startAuthStack } from './oidc-provider.mjs';
import { assertAuthenticatedAs, assertNoSecrets, configDir, whoamiThroughBridge } from './oidc-stack-host.mjs';

const TEST_TIMEOUT_MS = 60_000;

/** A fresh authorization and resource server for one test. */
async function stackFor(t, options) {
  const stack = await startAuthStack(options);
  t.after(() => stack.close());
  return stack;
}

/** POSTs to the token endpoint: { status, dpop } in order. */
function tokenRequests(stack) {
  return stack.asRequests.filter((r) => r.method === 'POST' && r.path === '/token');
}

describe('oidc-provider: client credentials', { timeout: TEST_TIMEOUT_MS }, () => {
  test('client_secret_basic, DPoP-bound by default (the server offers ES256)', async (t) => {
    const stack = await stackFor(t);
    const { id, secret } = stack.clients.secret;
    const { who, stderr } = await whoamiThroughBridge(stack, {
      args: ['--client-credentials', '--client-id', id],
      env: { MCP_BRIDGE_CLIENT_SECRET: secret },
      config: configDir(t),
    });
    assert.deepEqual(who, { sub: id, client_id: id, scope: 'mcp:tools', bound: true });
    assertAuthenticatedAs(stack, { scheme: 'DPoP', bound: true });
    assert.ok(!stack.seen.some((r) => r.scheme === 'Bearer'), `a request used Bearer\n${stack.describe()}`);
    // One token, from one token request that carried a DPoP proof.
    assert.equal(stack.tokens().length, 1, stack.describe());
    assert.deepEqual(tokenRequests(stack).map((r) => [r.status, r.dpop]), [[200, true]], stack.describe());
    assertNoSecrets(stderr, stack);
  });

  test('client_secret_basic with --no-dpop: a Bearer token, not bound', async (t) => {
    const stack = await stackFor(t);
    const { id, secret } = stack.clients.secret;
    const { who, stderr } = await whoamiThroughBridge(stack, {
      args: ['--client-credentials', '--client-id', id, '--no-dpop'],
      env: { MCP_BRIDGE_CLIENT_SECRET: secret },
      config: configDir(t),
    });
    assert.deepEqual(who, { sub: id, client_id: id, scope: 'mcp:tools', bound: false });
    assertAuthenticatedAs(stack, { scheme: 'Bearer', bound: false });
    assert.ok(!stack.seen.some((r) => r.scheme === 'DPoP'), `a request used DPoP\n${stack.describe()}`);
    assert.deepEqual(tokenRequests(stack).map((r) => [r.status, r.dpop]), [[200, false]], stack.describe());
    assertNoSecrets(stderr, stack);
  });

  test('a wrong client secret: the tool call fails with a clear error, nothing reaches the server', async (t) => {
    const stack = await stackFor(t);
    const { id, secret } = stack.clients.secret;
    const wrong = `${secret.slice(0, -4)}AAAA`;
    await assert.rejects(
      whoamiThroughBridge(stack, {
        args: ['--client-credentials', '--client-id', id],
        env: { MCP_BRIDGE_CLIENT_SECRET: wrong },
        config: configDir(t),
      }),
      (err) => {
        assert.match(err.message, /invalid_client|client authentication failed|refused/i);
        assert.ok(!err.message.includes(wrong), 'the wrong secret appears in the error or the log');
        return true;
      },
    );
    assert.equal(stack.accepted().length, 0, stack.describe());
    assert.equal(stack.tokens().length, 0, stack.describe());
  });

  test('private_key_jwt (--client-key, ES256), DPoP-bound', async (t) => {
    const stack = await stackFor(t);
    const { id, keyFile } = stack.clients.jwt;
    const { who, stderr } = await whoamiThroughBridge(stack, {
      args: ['--client-credentials', '--client-id', id, '--client-key', keyFile],
      config: configDir(t),
    });
    assert.deepEqual(who, { sub: id, client_id: id, scope: 'mcp:tools', bound: true });
    assertAuthenticatedAs(stack, { scheme: 'DPoP', bound: true });
    assert.deepEqual(tokenRequests(stack).map((r) => [r.status, r.dpop]), [[200, true]], stack.describe());
    assertNoSecrets(stderr, stack);
  });

  test('private_key_jwt with --no-dpop: Bearer', async (t) => {
    const stack = await stackFor(t);
    const { id, keyFile } = stack.clients.jwt;
    const { who, stderr } = await whoamiThroughBridge(stack, {
      args: ['--client-credentials', '--client-id', id, '--client-key', keyFile, '--no-dpop'],
      config: configDir(t),
    });
    assert.deepEqual(who, { sub: id, client_id: id, scope: 'mcp:tools', bound: false });
    assertAuthenticatedAs(stack, { scheme: 'Bearer', bound: false });
    assertNoSecrets(stderr, stack);
  });
});

describe('oidc-provider: DPoP nonces', { timeout: TEST_TIMEOUT_MS }, () => {
  test('the authorization server and the resource server both require a nonce: one use_dpop_nonce round at each', async (t) => {
    const stack = await stackFor(t, { asNonce: true, rsNonce: true });
    const { id, secret } = stack.clients.secret;
    const { who, stderr } = await whoamiThroughBridge(stack, {
      args: ['--client-credentials', '--client-id', id],
      env: { MCP_BRIDGE_CLIENT_SECRET: secret },
      config: configDir(t),
    });
    assert.deepEqual(who, { sub: id, client_id: id, scope: 'mcp:tools', bound: true });
    // The resource server's nonce challenge is the only token it refused, and only once.
    assertAuthenticatedAs(stack, { scheme: 'DPoP', bound: true, allowRefused: (r) => r.why === 'use_dpop_nonce' });
    assert.equal(stack.seen.filter((r) => r.why === 'use_dpop_nonce').length, 1, stack.describe());
    // At the token endpoint: refused for the nonce, then issued.
    assert.deepEqual(tokenRequests(stack).map((r) => [r.status, r.dpop]), [[400, true], [200, true]], stack.describe());
    assertNoSecrets(stderr, stack);
  });
});
