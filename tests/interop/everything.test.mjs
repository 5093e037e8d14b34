// @modelcontextprotocol/server-everything (the TypeScript SDK's reference
// server) through mcp-bridge, over Streamable HTTP and over legacy HTTP+SSE.
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
};

definePeerSuite({
  title: 'server-everything streamableHttp',
  start: () => startEverything('streamableHttp'),
  direct: 'streamable',
  bridgeArgs: (url) => [url],
  spec,
});

definePeerSuite({
  title: 'server-everything sse',
  start: () => startEverything('sse'),
  direct: 'sse',
  bridgeArgs: (url) => ['--transport', 'sse-only', url],
  spec,
});
