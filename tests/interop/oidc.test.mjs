// Authorization through mcp-bridge against a real, certified authorization server:
// npm oidc-provider (oidc-provider.mjs), with the TypeScript SDK's McpServer as the resource
// server behind a token check of our own (JWT access tokens for the MCP server URL, DPoP
// proofs checked field by field). The host is the SDK Client over stdio (host.mjs).
//
//   client credentials, client_secret_basic   --client-credentials --client-id, MCP_BRIDGE_CLIENT_SECRET
//   client credentials, private_key_jwt       --client-credentials --client-id --client-key key.pem
//   DPoP (RFC 9449)                           bound automatically where the server offers ES256;
//                                             Bearer and unbound with --no-dpop; nonces at both servers
//   device code (RFC 8628)                    --device-code on the bridge and on `login`: the
//                                             address and code read from the bridge's stderr, the
//                                             code confirmed or typed, login and consent in real
//                                             headless Chromium (chromium.mjs); aborted on the device
//
// The browser login in real Chromium is browser.test.mjs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  confirmDevice,
  consent,
  enterUserCode,
  launchChromium,
  launchedUrls,
  launcherEnv,
  pageSummary,
  signIn,
} from './chromium.mjs';
import { bridgeBin, connectThroughBridge, requireBridge, withTimeout } from './host.mjs';
import { homeEnv } from './scratch.mjs';
import {
  CALL_TIMEOUT_MS,
  assertAuthenticatedAs,
  assertNoSecrets,
  configDir,
  explain,
  stackFor,
  whoamiThroughBridge,
} from './oidc-stack-host.mjs';

const TEST_TIMEOUT_MS = 60_000;


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

// --- device code ------------------------------------------------------------------------

/** A scratch dir for one test (removed after it). */
function scratchDir(t, prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Waits until the bridge's stderr (the file it is copied to) shows the device prompt: a line
 * of four spaces and the address, and a line with `code: USERCODE`. Returns { url, code, text }.
 */
async function devicePrompt(file, { failed = () => null, timeoutMs = 15_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const lines = text.split('\n');
    const address = lines.find((l) => /^ {4}\S+$/.test(l));
    const code = lines.map((l) => /code: (\S+)/.exec(l)?.[1]).find(Boolean);
    if (address && code) return { url: new URL(address.slice(4)), code, text };
    const err = failed();
    if (err) throw err;
    if (Date.now() > deadline) throw new Error(`no device prompt on the bridge's stderr within ${timeoutMs} ms:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a bridge whose initialize waits on a device login. Returns { connecting, stderrFile, urlFile, failure() }. */
function startDeviceBridge(t, stack, { args = [], config = configDir(t) } = {}) {
  requireBridge();
  const dir = scratchDir(t, 'mcp-bridge-device-');
  const stderrFile = path.join(dir, 'stderr');
  const urlFile = path.join(dir, 'urls');
  const connecting = connectThroughBridge(
    ['--store', 'memory', '--device-code', '--client-id', stack.clients.device.id, ...args, stack.mcpUrl],
    // The launcher is there to prove the device login never opens a browser itself.
    { env: { MCP_BRIDGE_CONFIG_DIR: config, ...launcherEnv(urlFile) }, connectTimeoutMs: 30_000, stderrFile },
  );
  let failed = null;
  connecting.catch((err) => {
    failed = err;
  });
  t.after(async () => {
    const host = await connecting.catch(() => null);
    await host?.close().catch(() => {});
  });
  return { connecting, stderrFile, urlFile, failure: () => failed };
}

/** The device grant's token requests at the authorization server, as statuses. */
function deviceTokenStatuses(stack) {
  return tokenRequests(stack).map((r) => r.status);
}

describe('oidc-provider: device code (RFC 8628) in headless Chromium', { timeout: TEST_TIMEOUT_MS * 5 }, () => {
  let chrome;
  before(async () => {
    chrome = await launchChromium();
  });
  after(async () => {
    await chrome?.close();
  });

  async function pageFor(t) {
    const page = await chrome.newPage();
    t.after(() => page.context().close().catch(() => {}));
    return page;
  }

  /** Signs in and consents on oidc-provider's forms; asserts the device success page. */
  async function approve(page, login) {
    await signIn(page, login);
    const { listed, response } = await consent(page);
    assert.ok(listed.includes('mcp:tools'), `consent listed ${JSON.stringify(listed)}`);
    const summary = await pageSummary(page, response);
    assert.equal(summary.title, 'Sign-in Success', JSON.stringify(summary));
    assert.match(summary.text, /was successful/);
  }

  test('verification_uri_complete: the page shows the printed code; after login and consent the bridge gets a DPoP-bound token', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const stack = await stackFor(t);
    const bridge = startDeviceBridge(t, stack);
    const prompt = await devicePrompt(bridge.stderrFile, { failed: bridge.failure }).catch((err) => {
      throw explain(err, { stack });
    });
    assert.equal(`${prompt.url.origin}${prompt.url.pathname}`, `${stack.issuer}/device`);
    assert.equal(prompt.url.searchParams.get('user_code'), prompt.code, 'the complete address carries the code shown');
    assert.match(prompt.text, /check that it shows the code: /);

    const page = await pageFor(t);
    await page.goto(prompt.url.href);
    const { shown } = await confirmDevice(page);
    assert.equal(shown, prompt.code, 'the confirmation page shows another code');
    await approve(page, 'erin');

    const host = await withTimeout(bridge.connecting, 20_000, 'initialize after the device login').catch((err) => {
      throw explain(err, { stack });
    });
    try {
      const result = await withTimeout(host.client.callTool({ name: 'whoami', arguments: {} }), CALL_TIMEOUT_MS, 'whoami');
      assert.deepEqual(JSON.parse(result.content[0].text), {
        sub: 'erin',
        client_id: stack.clients.device.id,
        scope: 'mcp:tools',
        bound: true,
      });
    } catch (err) {
      throw explain(err, { host, stack });
    }
    assert.deepEqual(await host.close(), { code: 0, signal: null });
    assertAuthenticatedAs(stack, { scheme: 'DPoP', bound: true });
    // Polled while pending (400 authorization_pending), then issued once; every poll a DPoP proof.
    const statuses = deviceTokenStatuses(stack);
    assert.equal(statuses.at(-1), 200, stack.describe());
    assert.ok(statuses.slice(0, -1).every((s) => s === 400), stack.describe());
    assert.ok(tokenRequests(stack).every((r) => r.dpop), stack.describe());
    assert.deepEqual(launchedUrls(bridge.urlFile), [], 'the device login opened a browser');
    assertNoSecrets(host.stderr(), stack);
  });

  test('verification_uri only, --no-dpop: the code typed into the page, a Bearer token', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const stack = await stackFor(t, { deviceComplete: false });
    const bridge = startDeviceBridge(t, stack, { args: ['--no-dpop'] });
    const prompt = await devicePrompt(bridge.stderrFile, { failed: bridge.failure }).catch((err) => {
      throw explain(err, { stack });
    });
    assert.equal(prompt.url.href, `${stack.issuer}/device`);
    assert.match(prompt.text, /enter the code: /);

    const page = await pageFor(t);
    await page.goto(prompt.url.href);
    await enterUserCode(page, prompt.code);
    const { shown } = await confirmDevice(page);
    assert.equal(shown, prompt.code);
    await approve(page, 'frank');

    const host = await withTimeout(bridge.connecting, 20_000, 'initialize after the device login').catch((err) => {
      throw explain(err, { stack });
    });
    const result = await withTimeout(host.client.callTool({ name: 'whoami', arguments: {} }), CALL_TIMEOUT_MS, 'whoami');
    assert.deepEqual(JSON.parse(result.content[0].text), {
      sub: 'frank',
      client_id: stack.clients.device.id,
      scope: 'mcp:tools',
      bound: false,
    });
    assert.deepEqual(await host.close(), { code: 0, signal: null });
    assertAuthenticatedAs(stack, { scheme: 'Bearer', bound: false });
    assertNoSecrets(host.stderr(), stack);
  });

  test('aborted on the device: initialize fails with a clear error, no token reaches the server', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const stack = await stackFor(t);
    const bridge = startDeviceBridge(t, stack);
    const prompt = await devicePrompt(bridge.stderrFile, { failed: bridge.failure }).catch((err) => {
      throw explain(err, { stack });
    });
    const page = await pageFor(t);
    await page.goto(prompt.url.href);
    await confirmDevice(page, { allow: false });
    const err = await withTimeout(bridge.connecting.then(() => null, (e) => e), 15_000, 'the denied login to reach the host');
    assert.ok(err, 'initialize succeeded after the user aborted');
    assert.match(err.message, /denied on the device/);
    assert.equal(stack.accepted().length, 0, stack.describe());
    assert.equal(deviceTokenStatuses(stack).filter((s) => s === 200).length, 0, stack.describe());
    assertNoSecrets(err.message, stack);
  });

  test('`mcp-bridge login --device-code URL`, then a bridge run uses the stored tokens with no prompt', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    requireBridge();
    const stack = await stackFor(t);
    const config = configDir(t);
    const dir = scratchDir(t, 'mcp-bridge-device-login-');
    const stderrFile = path.join(dir, 'stderr');
    const home = path.join(dir, 'home');
    const args = ['--store', 'file', '--device-code', '--client-id', stack.clients.device.id];
    const child = spawn(bridgeBin(), ['login', ...args, stack.mcpUrl], {
      env: { ...process.env, ...homeEnv(home), MCP_BRIDGE_CONFIG_DIR: config },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.exitCode === null && child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    let ended = null;
    exited.then((status) => {
      ended = new Error(`login exited early: ${JSON.stringify(status)}\n${stderr}`);
    });
    // devicePrompt reads a file; the login's stderr goes to one as it arrives.
    const copy = setInterval(() => writeFileSync(stderrFile, stderr), 50);
    t.after(() => clearInterval(copy));
    const prompt = await devicePrompt(stderrFile, { failed: () => ended }).catch((err) => {
      throw explain(err, { stack, stderr });
    });
    const page = await pageFor(t);
    await page.goto(prompt.url.href);
    await confirmDevice(page);
    await approve(page, 'grace');
    const status = await withTimeout(exited, 20_000, 'mcp-bridge login to finish');
    clearInterval(copy);
    assert.deepEqual(status, { code: 0, signal: null }, `login failed:\n${stderr}`);
    assertNoSecrets(stderr + stdout, stack);
    const deviceRequests = () => stack.asRequests.filter((r) => r.path === '/device/auth').length;
    assert.equal(deviceRequests(), 1);

    const run = await whoamiThroughBridge(stack, { args, config });
    assert.deepEqual(run.who, { sub: 'grace', client_id: stack.clients.device.id, scope: 'mcp:tools', bound: true });
    assert.equal(deviceRequests(), 1, 'the bridge run asked for another device code');
    assert.doesNotMatch(run.stderr, /open this address/);
    assertAuthenticatedAs(stack, { scheme: 'DPoP', bound: true });
    assertNoSecrets(run.stderr, stack);
  });
});
