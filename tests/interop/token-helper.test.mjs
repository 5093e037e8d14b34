// `--bearer-command` against a real resource server: the Python SDK's FastMCP with its
// bearer authentication (fastmcp_server.py --token-file), over Streamable HTTP and HTTP+SSE,
// with the TypeScript SDK client as the host. The helper is a script that prints the
// current token; the test rotates it, the server answers the old one with the SDK's 401,
// and the bridge runs the helper again, without the host noticing.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import { connectThroughBridge } from './host.mjs';
import { startFastMcp } from './peers.mjs';

const TEST_TIMEOUT_MS = 60_000;

/** A scratch dir with the token file and a helper script that logs each run. */
function helperDir(t) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-helper-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, 'token');
  const runs = path.join(dir, 'runs');
  const script = path.join(dir, 'print-token.sh');
  writeFileSync(
    script,
    `#!/bin/sh\necho run >> '${runs}'\necho 'print-token: issuing' >&2\ncat '${tokenFile}'\n`,
  );
  chmodSync(script, 0o755);
  return {
    tokenFile,
    command: `'${script}'`,
    setToken: (token) => writeFileSync(tokenFile, `${token}\n`),
    runs: () => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0),
  };
}

for (const transport of ['streamable-http', 'sse']) {
  describe(`--bearer-command: python FastMCP ${transport} with bearer authentication`, { timeout: 2 * TEST_TIMEOUT_MS }, () => {
    test('the helper token is used, and renewed when the server refuses it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const h = helperDir(t);
      h.setToken('interop-token-one');
      const peer = await startFastMcp(transport, { tokenFile: h.tokenFile });
      t.after(() => peer.stop());

      const conn = await connectThroughBridge(['--bearer-command', h.command, '-v', peer.url]);
      t.after(() => conn.close());
      const first = await conn.client.callTool({ name: 'echo', arguments: { message: 'one' } });
      assert.equal(first.content[0].text, 'Echo: one');
      const afterFirst = h.runs();
      assert.equal(afterFirst, 1, `one helper run for the handshake and a call\n${conn.stderr()}`);

      // Rotate: the server now refuses the old token with 401; the helper prints the new one.
      h.setToken('interop-token-two');
      const second = await conn.client.callTool({ name: 'echo', arguments: { message: 'two' } });
      assert.equal(second.content[0].text, 'Echo: two');
      assert.equal(h.runs(), 2, conn.stderr());

      await conn.close();
      const log = conn.stderr();
      assert.match(log, /print-token: issuing/);
      for (const secret of ['interop-token-one', 'interop-token-two']) {
        assert.ok(!log.includes(secret), `${secret} reached the log:\n${log}`);
      }
    });
  });
}
