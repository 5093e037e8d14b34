// One node:test suite per (peer, transport): start the peer on a free port,
// check it directly with the SDK (no bridge), then run the same checks with
// the SDK host talking to the bridge over stdio, and stop the peer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  checkConcurrent,
  checkEcho,
  checkListTools,
  checkManyInFlight,
  checkNoErrors,
  checkPayloads,
  checkPeerDeath,
  checkPeerRestart,
  checkPing,
  checkProgress,
  checkServerRequest,
  checkUnsolicited,
  hostWithServerRequests,
} from './checks.mjs';
import { connectDirect, connectThroughBridge, requireBridge } from './host.mjs';

const TEST_TIMEOUT_MS = 60_000;

/**
 * title:        suite name
 * start():      resolves to a peer { name, url, stop(), kill(), output() }
 * direct:       'streamable' | 'sse' (SDK transport for the sanity check)
 * bridgeArgs:   (url) => argv for mcp-bridge
 * altArgs:      { label: (url) => argv } other spellings that must reach the same
 *               peer (auto-detection, compatibility flags); checked lightly
 * afterClose:   optional (peer) => void, extra assertions once the bridge exited
 * restart:      false to skip the peer-restart test (a server that does not
 *               signal a lost session the way the spec says)
 * spec:         tool description for checks.mjs; spec.unsolicited (optional) names
 *               a notification the server sends on its own (see checkUnsolicited)
 */
export function definePeerSuite({ title, start, direct, bridgeArgs, altArgs = {}, afterClose, restart = true, spec }) {
  describe(title, { timeout: 6 * TEST_TIMEOUT_MS }, () => {
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
      const wrapped = new Error(parts.join('\n'));
      wrapped.stack = wrapped.message;
      return wrapped;
    };

    /** Connects through the bridge, runs the steps, closes; every failure carries the logs. */
    const throughBridge = async (args, steps, { expectCleanExit = true } = {}) => {
      requireBridge();
      let host;
      try {
        host = await connectThroughBridge(args, hostWithServerRequests());
      } catch (err) {
        throw explain(err);
      }
      for (const [name, fn] of steps) {
        try {
          await fn(host);
        } catch (err) {
          await host.close().catch(() => {});
          err.message = `step "${name}" failed (bridge args ${JSON.stringify(args)}): ${err.message}`;
          throw explain(err, host);
        }
      }
      // The host goes away: stdin closes. The SDK sends SIGTERM after 2 s, so
      // a quick exit with code 0 means the bridge shut down on EOF by itself.
      const started = Date.now();
      const exit = await host.close();
      const elapsed = Date.now() - started;
      if (expectCleanExit && !(exit.code === 0 && exit.signal === null && elapsed < 2_000)) {
        throw explain(
          new Error(
            `bridge did not exit 0 on its own within 2 s of stdin closing (got ${JSON.stringify(exit)} after ${elapsed} ms)`,
          ),
          host,
        );
      }
      return host;
    };

    test('peer works with the SDK client directly (no bridge)', { timeout: TEST_TIMEOUT_MS }, async () => {
      const conn = await connectDirect(peer.url, direct, hostWithServerRequests());
      try {
        await checkListTools(conn, spec);
        await checkEcho(conn, spec);
        await checkPayloads(conn, spec);
        await checkProgress(conn, spec);
        await checkServerRequest(conn, spec, 'elicit');
        await checkServerRequest(conn, spec, 'sample');
        checkNoErrors(conn);
      } finally {
        await conn.close();
      }
    });

    test('through mcp-bridge: tools, progress, server requests, concurrency, clean exit', { timeout: TEST_TIMEOUT_MS }, async () => {
      await throughBridge(bridgeArgs(peer.url), [
        ['tools/list', (h) => checkListTools(h, spec)],
        ['echo', (h) => checkEcho(h, spec)],
        ['ping', (h) => checkPing(h)],
        ['awkward characters and a 1 MiB payload', (h) => checkPayloads(h, spec)],
        ['32 calls in flight', (h) => checkManyInFlight(h, spec)],
        ['long-running tool with progress', (h) => checkProgress(h, spec)],
        ['elicitation/create answered mid-call', (h) => checkServerRequest(h, spec, 'elicit')],
        ['sampling/createMessage answered mid-call', (h) => checkServerRequest(h, spec, 'sample')],
        ['short call overtakes a long one', (h) => checkConcurrent(h, spec)],
        ...(spec.unsolicited ? [['server notification outside any request', (h) => checkUnsolicited(h, spec.unsolicited)]] : []),
        ['stdout carried only JSON-RPC', (h) => checkNoErrors(h)],
      ]);
      if (afterClose) await afterClose(peer);
    });

    for (const [label, argsFor] of Object.entries(altArgs)) {
      test(`through mcp-bridge ${label}: tools/list and echo`, { timeout: TEST_TIMEOUT_MS }, async () => {
        await throughBridge(argsFor(peer.url), [
          ['tools/list', (h) => checkListTools(h, spec)],
          ['echo', (h) => checkEcho(h, spec)],
          ['stdout carried only JSON-RPC', (h) => checkNoErrors(h)],
        ]);
      });
    }

    if (restart) {
      test('through mcp-bridge: the peer restarts between calls, the bridge starts a new session', { timeout: TEST_TIMEOUT_MS }, async () => {
        await throughBridge(bridgeArgs(peer.url), [
          ['tools/list', (h) => checkListTools(h, spec)],
          ['echo, restart the peer, echo', (h) => checkPeerRestart(h, spec, peer)],
          ['stdout carried only JSON-RPC', (h) => checkNoErrors(h)],
        ]);
      });
    }

    // Last: it kills the peer.
    test('through mcp-bridge: the peer dies mid-call, the call gets an error', { timeout: TEST_TIMEOUT_MS }, async () => {
      await throughBridge(
        bridgeArgs(peer.url),
        [
          ['tools/list', (h) => checkListTools(h, spec)],
          ['pending call answered with an error after SIGKILL of the peer', (h) => checkPeerDeath(h, spec, peer)],
        ],
        { expectCleanExit: false },
      );
    });
  });
}
