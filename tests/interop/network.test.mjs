// The network options against real servers: --request-timeout (a long tool call is
// answered with an error in time, the server is told, the session goes on) and
// --keepalive (the server really answers the bridge's own ping; the host never sees it).
// Cookies and --connect-timeout need a server that sets cookies or never finishes a
// handshake; they are tested in-process (tests/it/options.rs).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { connectThroughBridge } from './host.mjs';
import { startEverything, startFastMcp } from './peers.mjs';

const peers = [
  {
    title: 'server-everything streamableHttp',
    start: () => startEverything('streamableHttp'),
    long: { name: 'trigger-long-running-operation', arguments: { duration: 8, steps: 4 } },
  },
  {
    title: 'python FastMCP sse',
    start: () => startFastMcp('sse'),
    long: { name: 'long_running', arguments: { steps: 4, delay_ms: 2000 } },
    args: ['--transport', 'sse-only'],
  },
  {
    title: 'python FastMCP streamable-http',
    start: () => startFastMcp('streamable-http'),
    long: { name: 'long_running', arguments: { steps: 4, delay_ms: 2000 } },
  },
];

// Both servers have an `echo` tool taking `message`.
const ECHO = { name: 'echo', arguments: { message: 'still here' } };

async function waitFor(what, pred, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const spec of peers) {
  describe(`network options: ${spec.title}`, () => {
    let peer;
    before(async () => {
      peer = await spec.start();
    });
    after(async () => {
      await peer?.stop();
    });

    test('--request-timeout answers a call the server takes too long over', async () => {
      const conn = await connectThroughBridge([...(spec.args ?? []), '--request-timeout', '1', peer.url]);
      try {
        const started = Date.now();
        // The SDK's own timeout is far longer: the answer must be the bridge's.
        await assert.rejects(
          conn.client.callTool(spec.long, undefined, { timeout: 60_000 }),
          (err) => {
            assert.match(String(err.message), /--request-timeout/);
            return true;
          },
        );
        assert.ok(Date.now() - started < 6_000, 'the bridge answered at its timeout, not the server at its end');
        // The session goes on; the late answer never reaches the host.
        const result = await conn.client.callTool(ECHO);
        assert.match(result.content[0].text, /still here/);
        await new Promise((r) => setTimeout(r, 500));
        const answers = conn.messages.filter((m) => m.id !== undefined && (m.result || m.error));
        const ids = answers.map((m) => JSON.stringify(m.id));
        assert.equal(new Set(ids).size, ids.length, `one answer per request: ${ids}`);
      } finally {
        const status = await conn.close();
        assert.equal(status.code, 0, conn.stderr());
      }
    });

    test('--keepalive pings an idle server, which answers; the host sees nothing', async () => {
      const conn = await connectThroughBridge([...(spec.args ?? []), '--keepalive', '1', '-v', peer.url]);
      try {
        await waitFor('two keepalive answers in the log', () =>
          (conn.stderr().match(/the server answered the keepalive ping/g) ?? []).length >= 2,
        );
        assert.doesNotMatch(conn.stderr(), /keepalive ping failed|did not answer the keepalive/);
        assert.deepEqual(
          conn.messages.filter((m) => m.id !== undefined && m.method === undefined),
          [],
          'no answer to a ping of the bridge reached the host',
        );
        const result = await conn.client.callTool(ECHO);
        assert.match(result.content[0].text, /still here/);
      } finally {
        const status = await conn.close();
        assert.equal(status.code, 0, conn.stderr());
      }
    });
  });
}
