// The Python SDK's FastMCP (fastmcp_server.py) through mcp-bridge, over
// Streamable HTTP and over legacy HTTP+SSE.
import { ELICITED_NAME, SAMPLED_TEXT } from './checks.mjs';
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
  elicit: { name: 'ask_name', args: {}, expectText: new RegExp(`^Hello, ${ELICITED_NAME}$`) },
  sample: { name: 'sample', args: { prompt: 'say something' }, expectText: new RegExp(`^Sampled: ${SAMPLED_TEXT}$`) },
};

definePeerSuite({
  title: 'python FastMCP streamable-http',
  start: () => startFastMcp('streamable-http'),
  direct: 'streamable',
  bridgeArgs: (url) => [url],
  altArgs: {
    '--transport http-only': (url) => ['--transport', 'http-only', url],
  },
  spec,
});

definePeerSuite({
  title: 'python FastMCP sse',
  start: () => startFastMcp('sse'),
  direct: 'sse',
  bridgeArgs: (url) => ['--transport', 'sse-only', url],
  altArgs: {
    'with the default transport (http-first falls back to SSE)': (url) => [url],
    '--sse URL (supergateway spelling)': (url) => ['--sse', url],
  },
  spec,
});
