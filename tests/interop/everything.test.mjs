// @modelcontextprotocol/server-everything (the TypeScript SDK's reference
// server) through mcp-bridge, over Streamable HTTP and over legacy HTTP+SSE.
import assert from 'node:assert/strict';

import { ELICITED_NAME, SAMPLED_TEXT } from './checks.mjs';
import { startEverything } from './peers.mjs';
import { definePeerSuite } from './suite.mjs';

const spec = {
  echo: { name: 'echo', args: {}, expectText: (m) => `Echo: ${m}` },
  long: {
    name: 'trigger-long-running-operation',
    args: { duration: 1.2, steps: 4 },
    steps: 4,
    expectText: /^Long running operation completed\. Duration: 1\.2 seconds, Steps: 4\.$/,
  },
  elicit: { name: 'trigger-elicitation-request', args: {}, expectText: new RegExp(`- Name: ${ELICITED_NAME}`) },
  sample: { name: 'trigger-sampling-request', args: { prompt: 'say something' }, expectText: new RegExp(SAMPLED_TEXT) },
  // Simulated logging sends a notifications/message at once (and every 5 s),
  // tied to no request.
  unsolicited: {
    trigger: { name: 'toggle-simulated-logging', arguments: {} },
    stop: { name: 'toggle-simulated-logging', arguments: {} },
    method: 'notifications/message',
  },
};

definePeerSuite({
  title: 'server-everything streamableHttp',
  start: () => startEverything('streamableHttp'),
  direct: 'streamable',
  bridgeArgs: (url) => [url],
  altArgs: {
    '--transport http-only': (url) => ['--transport', 'http-only', url],
    '--streamableHttp URL (supergateway spelling)': (url) => ['--streamableHttp', url],
  },
  // After a restart this server answers the old session id with 400, not the
  // 404 the spec prescribes, so a client cannot tell that the session is gone.
  restart: false,
  // The bridge ends the session on exit (DELETE); the server logs it.
  afterClose: async (peer) => {
    const deadline = Date.now() + 2_000;
    while (Date.now() < deadline && !/Received session termination request/.test(peer.output())) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(peer.output(), /Received session termination request/, 'the bridge did not DELETE its session on exit');
  },
  spec,
});

definePeerSuite({
  title: 'server-everything sse',
  start: () => startEverything('sse'),
  direct: 'sse',
  bridgeArgs: (url) => ['--transport', 'sse-only', url],
  altArgs: {
    'with the default transport (http-first falls back to SSE)': (url) => [url],
    '--sse URL (supergateway spelling)': (url) => ['--sse', url],
  },
  spec,
});
