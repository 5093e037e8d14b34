// Authorization through mcp-bridge against the TypeScript SDK's OAuth demo:
// simpleStreamableHttp.js --oauth (and --oauth --oauth-strict), whose demo
// authorization server registers clients dynamically and approves every
// authorization request at once with a 302 to the bridge's loopback callback.
//
// The "browser" is fake-browser.mjs (MCP_BRIDGE_BROWSER): it follows the
// redirects and appends one line per launch to FAKE_BROWSER_LOG, so each test
// can count logins. Every test has its own MCP_BRIDGE_CONFIG_DIR and --store file
// (the OS keyring is never touched: HOME and XDG dirs are temporary too).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { bridgeBin, connectThroughBridge, requireBridge, withTimeout } from './host.mjs';
import { startOAuthDemo } from './peers.mjs';
import { homeEnv, runBridge, scratch } from './scratch.mjs';

const TEST_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 15_000;

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** True if 127.0.0.1:port can be bound right now. */
function canBind(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The loopback callback port from an authorization URL (its redirect_uri parameter). */
function callbackPort(authorizationUrl) {
  const redirect = new URL(authorizationUrl).searchParams.get('redirect_uri');
  assert.ok(redirect, `no redirect_uri in ${authorizationUrl}`);
  return Number(new URL(redirect).port);
}

/** Access tokens the demo server logged for authenticated requests ("Authenticated user: { token: '...' ..."). */
function tokensSeenBy(peer) {
  return [...new Set([...peer.output().matchAll(/token: '([^']+)'/g)].map((m) => m[1]))];
}

/** Every file and directory under dir (relative paths). */
function walk(dir, prefix = '') {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    out.push(rel);
    if (entry.isDirectory()) out.push(...walk(path.join(dir, entry.name), rel));
  }
  return out;
}

function explain(err, { host, peer, extra } = {}) {
  const parts = [err?.stack ?? String(err)];
  if (extra) parts.push(extra);
  if (host) parts.push(`--- bridge stderr ---\n${host.stderr()}`);
  if (peer) parts.push(`--- ${peer.name} output (tail) ---\n${peer.output().slice(-3_000)}`);
  const wrapped = new Error(parts.join('\n'));
  wrapped.stack = wrapped.message;
  return wrapped;
}

/** Connect through the bridge, list tools, call greet, close; asserts a clean exit. */
async function useServer(peer, s, { args = [], env = {}, label = 'bridge run' } = {}) {
  requireBridge();
  const started = Date.now();
  let host;
  try {
    host = await connectThroughBridge(['--store', 'file', ...args, peer.url], {
      env: s.env(env),
      connectTimeoutMs: 20_000,
    });
  } catch (err) {
    throw explain(err, { peer, extra: `(${label}) browser launches: ${JSON.stringify(s.launches())}` });
  }
  try {
    const { tools } = await withTimeout(host.client.listTools(), CALL_TIMEOUT_MS, 'tools/list');
    assert.ok(
      tools.some((t) => t.name === 'greet'),
      `greet not listed: ${tools.map((t) => t.name)}`,
    );
    const result = await withTimeout(
      host.client.callTool({ name: 'greet', arguments: { name: 'bridge' } }),
      CALL_TIMEOUT_MS,
      'tools/call greet',
    );
    assert.equal(result.content?.[0]?.text, 'Hello, bridge!');
    const usedMs = Date.now() - started;
    const closing = Date.now();
    let exitMs;
    host.exit.then(() => {
      exitMs = Date.now() - closing;
    });
    const exit = await host.close();
    assert.deepEqual(exit, { code: 0, signal: null }, 'the bridge did not exit 0 on stdin EOF');
    return { host, usedMs, exitMs };
  } catch (err) {
    await host.close().catch(() => {});
    throw explain(err, { host, peer, extra: `(${label})` });
  }
}

async function statusJson(s, url) {
  const res = await runBridge(['status', '--json', '--store', 'file', ...(url ? [url] : [])], s.env());
  assert.equal(res.code, 0, `status --json exited ${res.code}\nstderr:\n${res.stderr}`);
  let parsed;
  try {
    parsed = JSON.parse(res.stdout);
  } catch (err) {
    throw new Error(`status --json printed non-JSON: ${err.message}\nstdout:\n${res.stdout}`);
  }
  return { ...res, entries: parsed };
}

for (const mode of ['--oauth', '--oauth-strict']) {
  describe(`TS SDK OAuth demo (simpleStreamableHttp ${mode})`, { timeout: 6 * TEST_TIMEOUT_MS }, () => {
    let peer;
    before(async () => {
      peer = await startOAuthDemo(mode);
    });
    after(async () => {
      await peer?.stop();
    });

    test('first run logs in once (one browser launch); a second run reuses the stored tokens', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const s = scratch(t);
      await useServer(peer, s, { label: 'first run' });
      const first = s.launches();
      assert.equal(first.length, 1, `expected exactly one browser launch, got ${JSON.stringify(first)}`);
      const auth = new URL(first[0].url);
      assert.equal(auth.origin + '/', peer.authUrl, 'the browser was not sent to the demo authorization server');
      assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(auth.searchParams.get('resource'), peer.url, 'RFC 8707 resource is not the server URL');

      await useServer(peer, s, { label: 'second run' });
      assert.equal(s.launches().length, 1, `the second run opened the browser again: ${JSON.stringify(s.launches())}`);
    });

    test('login, status (no secrets), a run without browser, logout', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const s = scratch(t);
      const login = await runBridge(['login', '--store', 'file', peer.url], s.env());
      assert.equal(login.code, 0, `login exited ${login.code}\nstderr:\n${login.stderr}`);
      assert.equal(s.launches().length, 1, 'login did not open the browser exactly once');
      assert.equal(login.stdout, '', 'login wrote to stdout');
      assert.match(login.stderr, new RegExp(peer.authUrl.replace(/[/.]/g, '\\$&')), 'login did not report the issuer');
      assert.match(login.stderr, /mcp:tools/, 'login did not report the scopes');

      const status = await statusJson(s);
      const tokens = status.entries.filter((e) => e.kind === 'tokens');
      assert.equal(tokens.length, 1, `expected one token entry: ${status.stdout}`);
      assert.equal(tokens[0].server, peer.url);
      assert.equal(tokens[0].issuer, peer.authUrl);
      assert.deepEqual(tokens[0].scopes, ['mcp:tools']);
      assert.equal(tokens[0].expired, false);

      // A bridge run needs no browser; the demo server logs the token it accepted.
      await useServer(peer, s, { label: 'run after login' });
      assert.equal(s.launches().length, 1, 'the run after login opened the browser');
      const seen = tokensSeenBy(peer);
      assert.ok(seen.length > 0, 'the demo server logged no authenticated request');

      // The access token must never show in status output or the index.
      const again = await statusJson(s);
      const text = await runBridge(['status', '--store', 'file'], s.env());
      assert.equal(text.code, 0, `status exited ${text.code}\nstderr:\n${text.stderr}`);
      assert.match(text.stdout, new RegExp(peer.url.replace(/[/.]/g, '\\$&')), 'status does not list the server');
      const index = path.join(s.config, 'index.json');
      assert.ok(existsSync(index), `no index.json in the config dir: ${walk(s.config)}`);
      const indexText = readFileSync(index, 'utf8');
      for (const token of seen) {
        for (const [what, out] of [
          ['status --json stdout', again.stdout],
          ['status --json stderr', again.stderr],
          ['status stdout', text.stdout],
          ['status stderr', text.stderr],
          ['login stderr', login.stderr],
          ['index.json', indexText],
        ]) {
          assert.ok(!out.includes(token), `the access token appears in ${what}`);
        }
      }
      assert.doesNotMatch(again.stdout, /access_token|refresh_token|client_secret/, 'status --json has secret fields');
      // The config dir is private, and so is every file of the credential store
      // (anything holding the token or a client id). Other files (caches) that
      // others could read are only reported.
      const rootPerm = statSync(s.config).mode & 0o777;
      assert.equal(rootPerm & 0o077, 0, `the config dir is accessible to others (mode ${rootPerm.toString(8)})`);
      for (const rel of walk(s.config)) {
        const file = path.join(s.config, rel);
        const st = statSync(file);
        const perm = st.mode & 0o777;
        if ((perm & 0o077) === 0) continue;
        const content = st.isFile() ? readFileSync(file, 'utf8') : '';
        const credential = st.isDirectory() || seen.some((tok) => content.includes(tok)) || content.includes('client_id');
        assert.ok(!credential, `${rel} is part of the credential store but accessible to others (mode ${perm.toString(8)})`);
        t.diagnostic(`note: ${rel} is readable by others (mode ${perm.toString(8)}); it holds no credentials`);
      }

      const logout = await runBridge(['logout', '--store', 'file', peer.url], s.env());
      assert.equal(logout.code, 0, `logout exited ${logout.code}\nstderr:\n${logout.stderr}`);
      const empty = await statusJson(s);
      assert.deepEqual(
        empty.entries.filter((e) => e.server === peer.url),
        [],
        `status still shows the server after logout: ${empty.stdout}`,
      );
      assert.deepEqual(empty.entries, [], `status is not empty after logout: ${empty.stdout}`);
      if (existsSync(s.config)) {
        for (const rel of walk(s.config)) {
          const file = path.join(s.config, rel);
          if (!statSync(file).isFile()) continue;
          const content = readFileSync(file, 'utf8');
          for (const token of seen) assert.ok(!content.includes(token), `${rel} still holds the access token after logout`);
        }
      }
    });
  });
}

describe('TS SDK OAuth demo: concurrency and shutdown', { timeout: 6 * TEST_TIMEOUT_MS }, () => {
  let peer;
  before(async () => {
    peer = await startOAuthDemo('--oauth');
  });
  after(async () => {
    await peer?.stop();
  });

  test('three bridges at once, empty config dir: one browser launch, all three connect', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = scratch(t);
    const started = Date.now();
    const results = await Promise.allSettled([1, 2, 3].map((n) => useServer(peer, s, { label: `bridge ${n} of 3` })));
    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason?.message ?? String(r.reason));
    assert.deepEqual(failures, [], `some bridges failed:\n${failures.join('\n\n')}`);
    const launches = s.launches();
    assert.equal(launches.length, 1, `expected ONE browser launch for three bridges, got ${launches.length}: ${JSON.stringify(launches)}`);
    const status = await statusJson(s);
    assert.equal(
      status.entries.filter((e) => e.kind === 'tokens' && e.server === peer.url).length,
      1,
      `expected one stored token set: ${status.stdout}`,
    );
    assert.equal(
      status.entries.filter((e) => e.kind === 'registration').length,
      1,
      `expected one client registration: ${status.stdout}`,
    );
    t.diagnostic(`three bridges done in ${Date.now() - started} ms`);

    const logout = await runBridge(['logout', '--all', '--store', 'file'], s.env());
    assert.equal(logout.code, 0, `logout --all exited ${logout.code}\nstderr:\n${logout.stderr}`);
    const empty = await statusJson(s);
    assert.deepEqual(empty.entries, [], `status is not empty after logout --all: ${empty.stdout}`);
  });

  test('a browser command that does not return (stays open after the login) holds nothing up', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = scratch(t);
    const started = Date.now();
    const { usedMs, exitMs } = await useServer(peer, s, { env: { FAKE_BROWSER_LINGER_SECS: '60' }, label: 'lingering browser' });
    assert.equal(s.launches().length, 1);
    assert.ok(usedMs < 10_000, `login + tools/list + call took ${usedMs} ms with the browser command still running`);
    // The process exit, not the host's close(): the browser command holds the
    // bridge's stderr pipe (its stdout goes there), so the pipe stays open.
    assert.ok(exitMs < 2_000, `the bridge took ${exitMs} ms to exit after stdin closed, with the browser command still running`);
    t.diagnostic(`login and calls in ${usedMs} ms, exit ${exitMs} ms after stdin closed, browser command still running (total ${Date.now() - started} ms)`);
  });

  test('the usual callback port is busy: the login uses another port (the demo AS checks redirect_uri)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = scratch(t);
    // Learn the port the bridge uses for this server, then forget the tokens.
    await useServer(peer, s, { label: 'first login' });
    const usual = callbackPort(s.launches()[0].url);
    const logout = await runBridge(['logout', '--store', 'file', peer.url], s.env());
    assert.equal(logout.code, 0, `logout exited ${logout.code}\nstderr:\n${logout.stderr}`);

    const squatter = net.createServer((sock) => sock.destroy());
    await new Promise((resolve, reject) => {
      squatter.once('error', reject);
      squatter.listen(usual, '127.0.0.1', resolve);
    });
    t.after(() => squatter.close());
    await useServer(peer, s, { label: 'login with the usual port busy' });
    const launches = s.launches();
    assert.equal(launches.length, 2, `expected a second login: ${JSON.stringify(launches)}`);
    const other = callbackPort(launches[1].url);
    assert.notEqual(other, usual, 'the bridge sent the busy port as redirect_uri');
  });

  // [browser mode, how the host ends the bridge, known bridge bug (node:test todo) or undefined]
  const endings = [
    ['ignore', 'stdin'],
    ['hang', 'stdin'],
    ['ignore', 'SIGTERM'],
  ];
  for (const [browserMode, ending, todo] of endings) {
    const how = ending === 'stdin' ? 'host closes stdin' : 'host sends SIGTERM';
    const browserText = browserMode === 'ignore' ? 'never opens the URL' : 'never returns';
    test(`${how} while the login is pending (browser ${browserText}): prompt exit, callback port freed`, { timeout: TEST_TIMEOUT_MS, todo }, async (t) => {
      requireBridge();
      const s = scratch(t);
      const home = path.join(s.dir, 'home');
      const env = { ...process.env, ...homeEnv(home), ...s.env({ FAKE_BROWSER_MODE: browserMode }) };
      const child = spawn(bridgeBin(), ['--store', 'file', peer.url], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      let exited = null;
      const exit = new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          exited = { code, signal, at: Date.now() };
          resolve(exited);
        });
      });
      t.after(() => {
        if (!exited) child.kill('SIGKILL');
      });
      const fail = (msg) => {
        throw new Error(`${msg}\n--- bridge stdout ---\n${stdout}\n--- bridge stderr ---\n${stderr}`);
      };

      child.stdin.write(
        `${JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'stdin-close-test', version: '1.0.0' } },
        })}\n`,
      );

      // Wait for the login to be pending: the browser was launched.
      const deadline = Date.now() + 15_000;
      while (s.launches().length === 0 && !exited && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      if (exited) fail(`the bridge exited before the browser step: ${JSON.stringify(exited)}`);
      if (s.launches().length === 0) fail('the browser was not launched within 15 s');
      const url = s.launches()[0].url;
      const port = callbackPort(url);
      // The URL is on stderr too (for users without a browser).
      const printed = stderr.match(/redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A(\d+)/);
      if (printed) assert.equal(Number(printed[1]), port, 'the URL on stderr names another callback port');
      assert.ok(await canConnect(port), `nothing listens on the callback port ${port} while the login is pending`);

      const closedAt = Date.now();
      if (ending === 'stdin') child.stdin.end();
      else child.kill('SIGTERM');
      const status = await Promise.race([exit, new Promise((r) => setTimeout(() => r(null), 10_000).unref())]);
      if (!status) fail(`the bridge was still running 10 s after the ${ending === 'stdin' ? 'stdin EOF' : 'SIGTERM'}`);
      const ms = status.at - closedAt;
      t.diagnostic(`bridge exited ${JSON.stringify({ code: status.code, signal: status.signal })} ${ms} ms after the ${ending === 'stdin' ? 'stdin EOF' : 'SIGTERM'}`);
      if (ms > 5_000) fail(`the bridge took ${ms} ms to exit (want a few seconds at most)`);
      assert.equal(status.signal, null, `the bridge died of ${status.signal}`);
      assert.equal(status.code, 0, `exit code ${status.code} (documented: 0 for a clean shutdown on stdin EOF or SIGTERM)\n${stderr}`);
      assert.ok(await canBind(port), `callback port ${port} is still in use after the bridge exited`);
      const answers = stdout.split('\n').filter(Boolean).map((line) => {
        const msg = JSON.parse(line);
        assert.equal(msg.jsonrpc, '2.0', `non-JSON-RPC line on stdout: ${line}`);
        return msg;
      });
      // The pending initialize still gets an answer: an error, since the login never finished.
      const answer = answers.find((m) => m.id === 1);
      assert.ok(answer?.error, `the pending initialize was not answered with an error: ${stdout}`);
    });
  }
});
