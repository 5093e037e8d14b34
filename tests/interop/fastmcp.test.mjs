// The Python SDK's FastMCP (fastmcp_server.py) through mcp-bridge, over
// Streamable HTTP and over legacy HTTP+SSE.
import { startFastMcp } from './peers.mjs';
import { definePeerSuite } from './suite.mjs';

const spec = {
  echo: { name: 'echo', args: {}, expectText: (m) => `Echo: ${m}` },
  long: {
    name: 'long_running',
    args: { steps: 4, delay_ms: 250 },
    steps: 4,
    expectText: /^Long running operation completed: 4 steps$/,
  },
};

definePeerSuite({
  title: 'python FastMCP streamable-http',
  start: () => startFastMcp('streamable-http'),
  direct: 'streamable',
  bridgeArgs: (url) => [url],
  spec,
});

definePeerSuite({
  title: 'python FastMCP sse',
  start: () => startFastMcp('sse'),
  direct: 'sse',
  bridgeArgs: (url) => ['--transport', 'sse-only', url],
  spec,
});
