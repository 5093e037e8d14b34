// One node:test suite per (peer, transport): start the peer on a free port,
// check it directly with the SDK (no bridge), then run the same checks with
// the SDK host talking to the bridge over stdio, and stop the peer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { checkConcurrent, checkEcho, checkListTools, checkNoErrors, checkProgress } from './checks.mjs';
import { connectDirect, connectThroughBridge, requireBridge } from './host.mjs';

const TEST_TIMEOUT_MS = 60_000;

/**
 * title:      suite name
 * start():    resolves to a peer { url, stop(), output() }
 * direct:     'streamable' | 'sse' (SDK transport for the sanity check)
 * bridgeArgs: (url) => argv for mcp-bridge
 * spec:       tool description for checks.mjs
 */
export function definePeerSuite({ title, start, direct, bridgeArgs, spec }) {
  describe(title, { timeout: 4 * TEST_TIMEOUT_MS }, () => {
    let peer;

    before(async () => {
      peer = await start();
    });

    after(async () => {
      await peer?.stop();
    });

    const explain = (err, host) => {
      const parts = [err?.stack ?? String(err)];
      if (host) parts.push(`--- bridge stderr ---\n${host.stderr()}`);
      if (peer) parts.push(`--- ${peer.name} output (tail) ---\n${peer.output().slice(-4_000)}`);
      return new Error(parts.join('\n'));
    };

    test('peer works with the SDK client directly (no bridge)', { timeout: TEST_TIMEOUT_MS }, async () => {
      const conn = await connectDirect(peer.url, direct);
      try {
        await checkListTools(conn, spec);
        await checkEcho(conn, spec);
        await checkProgress(conn, spec);
        checkNoErrors(conn);
      } finally {
        await conn.close();
      }
    });

    test('through mcp-bridge: list tools, echo, progress, concurrency, clean exit', { timeout: TEST_TIMEOUT_MS }, async () => {
      requireBridge();
      const args = bridgeArgs(peer.url);
      let host;
      try {
        host = await connectThroughBridge(args);
      } catch (err) {
        throw explain(err);
      }
      const step = async (name, fn) => {
        try {
          await fn();
        } catch (err) {
          const failed = host;
          host = undefined;
          await failed.close().catch(() => {});
          err.message = `step "${name}" failed: ${err.message}`;
          throw explain(err, failed);
        }
      };
      await step('tools/list', () => checkListTools(host, spec));
      await step('echo', () => checkEcho(host, spec));
      await step('long-running tool with progress', () => checkProgress(host, spec));
      await step('short call overtakes a long one', () => checkConcurrent(host, spec));
      await step('stdout carried only JSON-RPC', () => checkNoErrors(host));

      // The host goes away: stdin closes. The SDK sends SIGTERM after 2 s, so
      // a quick exit with code 0 means the bridge shut down on EOF by itself.
      const started = Date.now();
      const exit = await host.close();
      const elapsed = Date.now() - started;
      assert.ok(
        exit.code === 0 && exit.signal === null && elapsed < 2_000,
        `bridge did not exit 0 on its own within 2 s of stdin closing ` +
          `(got ${JSON.stringify(exit)} after ${elapsed} ms)\n--- bridge stderr ---\n${host.stderr()}`,
      );
    });
  });
}
