// The browser login through mcp-bridge in a real browser: headless Chromium (Debian's
// chromium, driven by playwright-core; chromium.mjs) through oidc-provider's own login and
// consent forms (oidc-provider.mjs), back to the bridge's loopback callback. The bridge hands
// the authorization URL to url-launcher.mjs (MCP_BRIDGE_BROWSER), which writes it to a file
// this test reads; the test then drives Chromium there. Each case checks the page Chromium
// ends on at the callback (what it says happened, and that the tab may be closed), then what
// the bridge did:
//
//   - login and consent: the success page, then the tool call works with a DPoP-bound token
//     for the signed-in user; a second run with the same config dir (--store file) reuses the
//     stored tokens and their DPoP key with no browser;
//   - dynamic client registration (no --client-id) with --no-dpop: a Bearer token;
//   - consent denied (access_denied): the error page, and the pending initialize fails with
//     a clear error;
//   - a callback with the wrong state while the login waits: the "not this login" page, the
//     login goes on, and the real login then succeeds (the forged code is never redeemed).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { consent, launchChromium, launchedUrls, launcherEnv, pageSummary, signIn, waitForLaunch } from './chromium.mjs';
import { connectThroughBridge, requireBridge, withTimeout } from './host.mjs';
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


/**
 * Starts a bridge whose `initialize` waits on a browser login. Returns { connecting, url, urlFile,
 * config, failure() }: `connecting` settles with the host (see host.mjs) once the login is done.
 */
async function startLogin(t, stack, { args = [], config = configDir(t), store = ['--store', 'memory'] } = {}) {
  requireBridge();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-browser-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const urlFile = path.join(dir, 'urls');
  const connecting = connectThroughBridge(
    [...store, '--callback-port', String(stack.clients.native.callbackPort), ...args, stack.mcpUrl],
    { env: { MCP_BRIDGE_CONFIG_DIR: config, ...launcherEnv(urlFile) }, connectTimeoutMs: 30_000 },
  );
  let failed = null;
  connecting.catch((err) => {
    failed = err;
  });
  // Whatever happens in the test, the bridge goes (a login never finished ends at the
  // connect deadline, which closes it too).
  t.after(async () => {
    const host = await connecting.catch(() => null);
    await host?.close().catch(() => {});
  });
  const url = await waitForLaunch(urlFile, { failed: () => failed }).catch((err) => {
    throw explain(err, { stack });
  });
  return { connecting, url: new URL(url), urlFile, config, failure: () => failed };
}

/** Checks the authorization request the bridge made. */
function assertAuthorizationRequest(url, stack, { clientId }) {
  const q = url.searchParams;
  assert.equal(`${url.origin}${url.pathname}`, `${stack.issuer}/auth`);
  assert.equal(q.get('response_type'), 'code');
  if (clientId) assert.equal(q.get('client_id'), clientId);
  assert.equal(q.get('redirect_uri'), stack.clients.native.redirectUri);
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.ok((q.get('state') ?? '').length >= 16, 'state is missing or short');
  assert.equal(q.get('resource'), stack.mcpUrl);
  assert.ok((q.get('scope') ?? '').split(' ').includes('mcp:tools'), `scope: ${q.get('scope')}`);
}

/** Asserts the page Chromium is on is the bridge's callback page with this title and text. */
function assertCallbackPage(summary, stack, { status, title, says }) {
  assert.ok(
    summary.url.startsWith(`${stack.clients.native.redirectUri}?`),
    `Chromium ended on ${summary.url}, not the loopback callback`,
  );
  assert.equal(summary.status, status, `callback page status (${JSON.stringify(summary)})`);
  assert.equal(summary.title, `mcp-bridge: ${title}`);
  assert.equal(summary.heading, title);
  for (const re of says) assert.match(summary.text, re, `the page says: ${summary.text}`);
}

/** A Chromium page in a context of its own, closed after the test. */
async function pageFor(t, chrome) {
  const page = await chrome.newPage();
  t.after(() => page.context().close().catch(() => {}));
  return page;
}

describe('browser login in headless Chromium through oidc-provider', { timeout: TEST_TIMEOUT_MS * 5 }, () => {
  let chrome;
  before(async () => {
    chrome = await launchChromium();
  });
  after(async () => {
    await chrome?.close();
  });

  test('login and consent: the success page, a DPoP-bound token for the user; a second run reuses it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const stack = await stackFor(t);
    const { id } = stack.clients.native;
    const config = configDir(t);
    const login = await startLogin(t, stack, { args: ['--client-id', id], config, store: ['--store', 'file'] });
    assertAuthorizationRequest(login.url, stack, { clientId: id });

    const page = await pageFor(t, chrome);
    await page.goto(login.url.href);
    await signIn(page, 'alice');
    const { listed, response } = await consent(page);
    // oidc-provider asks consent for the MCP server's scope at that resource.
    assert.ok(listed.includes('mcp:tools') && listed.includes(`${stack.mcpUrl}:`), `consent listed ${JSON.stringify(listed)}`);
    const summary = await pageSummary(page, response);
    assertCallbackPage(summary, stack, {
      status: 200,
      title: 'Authorization complete',
      says: [/Authorization complete/, /you can close this tab/i],
    });
    // RFC 9207: the authorization server named itself in the redirect.
    assert.equal(new URL(summary.url).searchParams.get('iss'), stack.issuer);

    const host = await withTimeout(login.connecting, 20_000, 'initialize after the login').catch((err) => {
      throw explain(err, { stack });
    });
    try {
      const result = await withTimeout(host.client.callTool({ name: 'whoami', arguments: {} }), CALL_TIMEOUT_MS, 'whoami');
      assert.deepEqual(JSON.parse(result.content[0].text), { sub: 'alice', client_id: id, scope: 'mcp:tools', bound: true });
    } catch (err) {
      throw explain(err, { host, stack });
    }
    assert.deepEqual(await host.close(), { code: 0, signal: null });
    assertAuthenticatedAs(stack, { scheme: 'DPoP', bound: true });
    assert.equal(launchedUrls(login.urlFile).length, 1);
    assertNoSecrets(host.stderr(), stack);

    // Same config dir: the stored tokens and their DPoP key, no browser.
    const firstTokens = new Set(stack.accepted().map((r) => r.token));
    const second = await whoamiThroughBridge(stack, {
      args: ['--store', 'file', '--client-id', id, '--callback-port', String(stack.clients.native.callbackPort)],
      env: launcherEnv(login.urlFile),
      config,
    });
    assert.deepEqual(second.who, { sub: 'alice', client_id: id, scope: 'mcp:tools', bound: true });
    assert.equal(launchedUrls(login.urlFile).length, 1, 'the second run opened the browser again');
    assertAuthenticatedAs(stack, { scheme: 'DPoP', bound: true });
    assert.deepEqual(new Set(stack.accepted().map((r) => r.token)), firstTokens, 'the second run used another token');
    assertNoSecrets(second.stderr, stack);
    assert.deepEqual(chrome.blocked.filter((o) => !o.startsWith('https://fonts.g')), [], 'a page reached for the internet');
  });

  test('dynamic client registration (no --client-id) and --no-dpop: a Bearer token', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    // oidc-provider checks a registration's `scope` against its own scopes_supported, which
    // do not hold the resource's mcp:tools: the bridge registers with the ones it knows.
    const stack = await stackFor(t);
    const login = await startLogin(t, stack, { args: ['--no-dpop'] });
    assertAuthorizationRequest(login.url, stack, {});
    const clientId = login.url.searchParams.get('client_id');
    assert.ok(![stack.clients.native.id, stack.clients.device.id].includes(clientId), 'not a newly registered client');
    assert.ok(stack.asRequests.some((r) => r.method === 'POST' && r.path === '/reg' && r.status === 201), stack.describe());

    const page = await pageFor(t, chrome);
    await page.goto(login.url.href);
    await signIn(page, 'bob');
    const { response } = await consent(page);
    assertCallbackPage(await pageSummary(page, response), stack, {
      status: 200,
      title: 'Authorization complete',
      says: [/you can close this tab/i],
    });
    const host = await withTimeout(login.connecting, 20_000, 'initialize after the login').catch((err) => {
      throw explain(err, { stack });
    });
    const result = await withTimeout(host.client.callTool({ name: 'whoami', arguments: {} }), CALL_TIMEOUT_MS, 'whoami');
    assert.deepEqual(JSON.parse(result.content[0].text), { sub: 'bob', client_id: clientId, scope: 'mcp:tools', bound: false });
    assert.deepEqual(await host.close(), { code: 0, signal: null });
    assertAuthenticatedAs(stack, { scheme: 'Bearer', bound: false });
    assertNoSecrets(host.stderr(), stack);
  });

  test('consent denied: the "Login failed" page, and initialize fails with access_denied', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const stack = await stackFor(t);
    const login = await startLogin(t, stack, { args: ['--client-id', stack.clients.native.id] });
    const page = await pageFor(t, chrome);
    await page.goto(login.url.href);
    await signIn(page, 'carol');
    const { response } = await consent(page, { allow: false });
    const summary = await pageSummary(page, response);
    assertCallbackPage(summary, stack, {
      status: 400,
      title: 'Login failed',
      says: [/Access was declined/, /you can close this tab/i],
    });
    assert.equal(new URL(summary.url).searchParams.get('error'), 'access_denied');

    const err = await withTimeout(login.connecting.then(() => null, (e) => e), 10_000, 'the failed login to reach the host');
    assert.ok(err, 'initialize succeeded after the user denied consent');
    assert.match(err.message, /login failed/);
    assert.match(err.message, /access_denied/);
    assert.equal(stack.seen.filter((r) => r.scheme !== null).length, 0, 'a token reached the resource server');
    assert.equal(stack.asRequests.filter((r) => r.path === '/token').length, 0, 'the bridge went to the token endpoint');
    assertNoSecrets(err.message, stack);
  });

  test('a callback with the wrong state: the "Not this login" page, the login goes on and then succeeds', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const stack = await stackFor(t);
    const { id, redirectUri } = stack.clients.native;
    const login = await startLogin(t, stack, { args: ['--client-id', id] });
    const page = await pageFor(t, chrome);

    const forged = new URL(redirectUri);
    forged.search = new URLSearchParams({ code: 'forged-code-0123456789', state: 'not-the-state-of-this-login', iss: stack.issuer }).toString();
    const forgedResponse = await page.goto(forged.href);
    assertCallbackPage(await pageSummary(page, forgedResponse), stack, {
      status: 400,
      title: 'Not this login',
      says: [/does not belong to the login in progress/, /ignored/],
    });
    // The login is still waiting.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(login.failure(), null, `the login ended after a wrong-state callback: ${login.failure()?.message}`);

    await page.goto(login.url.href);
    await signIn(page, 'dave');
    const { response } = await consent(page);
    assertCallbackPage(await pageSummary(page, response), stack, {
      status: 200,
      title: 'Authorization complete',
      says: [/you can close this tab/i],
    });
    const host = await withTimeout(login.connecting, 20_000, 'initialize after the login').catch((err) => {
      throw explain(err, { stack });
    });
    const result = await withTimeout(host.client.callTool({ name: 'whoami', arguments: {} }), CALL_TIMEOUT_MS, 'whoami');
    assert.equal(JSON.parse(result.content[0].text).sub, 'dave');
    assert.deepEqual(await host.close(), { code: 0, signal: null });
    // Only the real code was redeemed, once.
    assert.deepEqual(
      stack.asRequests.filter((r) => r.path === '/token').map((r) => r.status),
      [200],
      stack.describe(),
    );
    assert.equal(launchedUrls(login.urlFile).length, 1);
    assertNoSecrets(host.stderr(), stack);
  });
});
