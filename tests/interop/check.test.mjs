// `mcp-bridge check URL` against real third-party servers: server-everything over
// Streamable HTTP and over HTTP+SSE, the Python SDK's FastMCP over both, and the TS
// SDK's OAuth demo (no browser without --login; one login with it; the stored tokens
// reported afterwards, never the token itself).
//
// Each run gets its own config dir, `--store file` and the counting fake browser
// (scratch.mjs), so a test can prove that check opened no browser.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { requireBridge } from './host.mjs';
import { startEverything, startFastMcp, startOAuthDemo } from './peers.mjs';
import { runBridge, scratch } from './scratch.mjs';

const TEST_TIMEOUT_MS = 60_000;

/** `mcp-bridge check --json ARGS`: the exit code, the parsed document and stderr. */
async function checkJson(s, args) {
  requireBridge();
  const res = await runBridge(['check', '--json', '--store', 'file', ...args], s.env());
  let doc;
  try {
    doc = JSON.parse(res.stdout);
  } catch (err) {
    throw new Error(`check --json printed non-JSON (${err.message}):\n${res.stdout}\nstderr:\n${res.stderr}`);
  }
  return { ...res, doc };
}

/** What every usable server's document has: the steps before MCP, and host entries. */
function assertUsable(res, url) {
  const { doc } = res;
  const why = `exit ${res.code}; ${JSON.stringify(doc.verdict)}\nstderr:\n${res.stderr}`;
  assert.equal(res.code, 0, why);
  assert.equal(doc.usable, true, why);
  assert.equal(doc.url, url);
  assert.equal(doc.policy.allowed, true);
  assert.deepEqual(doc.dns.addresses, ['127.0.0.1']);
  assert.equal(doc.tcp.error, null);
  assert.equal(doc.tls, null);
  assert.equal(doc.protocol.era, 'initialize', JSON.stringify(doc.protocol));
  assert.match(doc.protocol.era_reason, /^server\/discover answered HTTP \d{3}/);
  const name = Object.keys(doc.hosts.claude_desktop.mcpServers)[0];
  assert.deepEqual(doc.hosts.claude_desktop.mcpServers[name], { command: 'mcp-bridge', args: [url] });
  assert.equal(doc.hosts.vscode.servers[name].type, 'stdio');
  assert.equal(doc.hosts.claude_code, `claude mcp add ${name} -- mcp-bridge ${url}`);
}

/** Why the bridge chose each transport, as check reports it. */
const WHY = {
  'streamable-http': /^the server answered the first POST as Streamable HTTP$/,
  'http+sse': /^the Streamable HTTP POST answered 40\d, so HTTP\+SSE$/,
};

const peers = [
  ['server-everything streamableHttp', () => startEverything('streamableHttp'), 'mcp-servers/everything', 'streamable-http', 'echo'],
  ['server-everything sse', () => startEverything('sse'), 'mcp-servers/everything', 'http+sse', 'echo'],
  ['python FastMCP streamable-http', () => startFastMcp('streamable-http'), 'mcp-bridge-interop-fastmcp', 'streamable-http', 'long_running'],
  ['python FastMCP sse', () => startFastMcp('sse'), 'mcp-bridge-interop-fastmcp', 'http+sse', 'ask_name'],
].map(([title, start, name, transport, tool]) => ({ title, start, name, transport, reason: WHY[transport], tool }));

for (const p of peers) {
  describe(`check: ${p.title}`, { timeout: 3 * TEST_TIMEOUT_MS }, () => {
    let peer;
    before(async () => {
      peer = await p.start();
    });
    after(async () => {
      await peer?.stop();
    });

    test('usable: era, transport and why, server, counts and names, host entries', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const s = scratch(t);
      const res = await checkJson(s, ['--list', peer.url]);
      assertUsable(res, peer.url);
      const { doc } = res;
      assert.equal(doc.protocol.transport, p.transport, JSON.stringify(doc.protocol));
      assert.match(doc.protocol.transport_reason, p.reason);
      assert.equal(doc.server.name, p.name);
      assert.ok(doc.server.capabilities.tools, JSON.stringify(doc.server.capabilities));
      assert.ok(doc.server.tools.count > 0, JSON.stringify(doc.server.tools));
      assert.equal(doc.server.tools.names.length, doc.server.tools.count);
      assert.ok(doc.server.tools.names.includes(p.tool), JSON.stringify(doc.server.tools.names));
      assert.equal(doc.authorization.required, false);
      assert.deepEqual(s.launches(), []);
    });

    test('the report for a person: steps on stdout, progress on stderr, exit 0', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const s = scratch(t);
      const res = await runBridge(['check', '--store', 'file', peer.url], s.env());
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      assert.match(res.stdout, new RegExp(`^  server         ${p.name.replace('/', '\\/')} `, 'm'));
      assert.match(res.stdout, new RegExp(`^  transport      ${p.transport.replace('+', '\\+')} \\(`, 'm'));
      assert.match(res.stdout, /^  tools          \d+$/m);
      assert.match(res.stdout, /\nusable: the server answers, and the bridge can use it\n/);
      assert.match(res.stdout, /\nClaude Code:\nclaude mcp add /);
      assert.match(res.stderr, /^connecting$/m);
      assert.doesNotMatch(res.stderr, /usable: /, 'the result is on stdout only');
    });
  });
}

describe('check: TS SDK OAuth demo', { timeout: 4 * TEST_TIMEOUT_MS }, () => {
  let peer;
  before(async () => {
    peer = await startOAuthDemo('--oauth');
  });
  after(async () => {
    await peer?.stop();
  });

  test('no browser without --login; --login logs in once; then the stored tokens', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = scratch(t);
    const first = await checkJson(s, [peer.url]);
    const { doc } = first;
    assert.equal(first.code, 1, `${JSON.stringify(doc.verdict)}\n${first.stderr}`);
    assert.deepEqual(s.launches(), [], 'check opened a browser without --login');
    assert.equal(doc.verdict.reason, 'the server needs a login');
    assert.equal(doc.verdict.fix, `run \`mcp-bridge login ${peer.url}\` (or \`mcp-bridge check --login ${peer.url}\`)`);
    const auth = doc.authorization;
    assert.equal(auth.required, true);
    assert.equal(auth.method, 'oauth');
    assert.equal(auth.status, 401);
    assert.equal(auth.resource_metadata.resource, peer.url);
    assert.deepEqual(auth.resource_metadata.authorization_servers, [peer.authUrl]);
    const asm = auth.authorization_server;
    assert.equal(asm.issuer, peer.authUrl);
    assert.equal(asm.guessed, false);
    assert.ok(asm.pkce_methods.includes('S256'), JSON.stringify(asm));
    assert.ok(asm.grant_types.includes('authorization_code'), JSON.stringify(asm));
    assert.ok(asm.registration_endpoint, 'the demo registers clients dynamically');
    assert.deepEqual(auth.stored, []);

    const login = await runBridge(['check', '--login', '--store', 'file', peer.url], s.env());
    assert.equal(login.code, 0, `${login.stdout}\n${login.stderr}`);
    assert.equal(s.launches().length, 1, 'one browser login');
    assert.match(login.stdout, /\nusable: /);

    const again = await checkJson(s, [peer.url]);
    assert.equal(again.code, 0, `${JSON.stringify(again.doc.verdict)}\n${again.stderr}`);
    assert.equal(s.launches().length, 1, 'the stored tokens were used, no browser');
    assert.equal(again.doc.server.name, 'simple-streamable-http-server');
    const stored = again.doc.authorization.stored;
    assert.equal(stored.length, 1, JSON.stringify(stored));
    assert.equal(stored[0].issuer, peer.authUrl);
    assert.equal(stored[0].backend, 'file');
    assert.equal(stored[0].expired, false);
    const token = peer.output().match(/token: '([^']+)'/)?.[1];
    assert.ok(token, 'the demo server logged the token it accepted');
    assert.ok(!again.stdout.includes(token), 'the token is in the report');
  });
});
