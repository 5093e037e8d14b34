// The assertions every interop peer gets, through the bridge and directly.
//
// A peer description ("spec") names its tools:
//   echo:   { name, args, expectText }            a call whose text result is known
//   long:   { name, args, steps, expectText }     a call that sends `steps` progress notifications
//   elicit: { name, args, expectText }            a call that sends elicitation/create mid-call
//   sample: { name, args, expectText }            a call that sends sampling/createMessage mid-call
import assert from 'node:assert/strict';

import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { isSdkClientRace, withTimeout } from './host.mjs';

const CALL_TIMEOUT_MS = 20_000;
/**
 * How long a call may stay unanswered after its server was killed. Generous:
 * against a server whose streams carry event ids the bridge first tries to
 * resume the stream (with backoff, about 31 s in total as of this writing)
 * before it gives up; this bound only rules out a hang.
 */
const PEER_DEATH_DEADLINE_MS = 45_000;

function textOf(result) {
  assert.ok(Array.isArray(result?.content), `tool result has no content array: ${JSON.stringify(result)}`);
  return result.content
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

/** tools/list contains both tools the spec names. */
export async function checkListTools({ client }, spec) {
  const { tools } = await withTimeout(client.listTools(), CALL_TIMEOUT_MS, 'tools/list');
  const names = tools.map((t) => t.name);
  for (const name of [spec.echo.name, spec.long.name]) {
    assert.ok(names.includes(name), `tools/list lacks ${name}; got ${names.join(', ')}`);
  }
  return names;
}

/** The echo tool returns the expected text. */
export async function checkEcho({ client }, spec, message = 'hello from the interop host') {
  const args = { ...spec.echo.args, message };
  const result = await withTimeout(
    client.callTool({ name: spec.echo.name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS }),
    CALL_TIMEOUT_MS + 1_000,
    `tools/call ${spec.echo.name}`,
  );
  assert.notEqual(result.isError, true, `echo returned an error: ${JSON.stringify(result)}`);
  assert.equal(textOf(result), spec.echo.expectText(message));
}

/**
 * The long-running tool reports progress and then returns its final result.
 *
 * What the bridge delivered is checked on the raw message stream: all `steps`
 * progress notifications, increasing, each before the response. The SDK's
 * onprogress callback must fire at least once (it can miss the last
 * notification when it arrives in the same read as the response: an SDK race).
 */
export async function checkProgress(conn, spec) {
  const { client, messages } = conn;
  const progress = [];
  const firstIndex = messages.length;
  const result = await withTimeout(
    client.callTool({ name: spec.long.name, arguments: spec.long.args }, undefined, {
      timeout: CALL_TIMEOUT_MS,
      onprogress: (p) => progress.push(p),
    }),
    CALL_TIMEOUT_MS + 1_000,
    `tools/call ${spec.long.name}`,
  );
  assert.notEqual(result.isError, true, `long-running tool returned an error: ${JSON.stringify(result)}`);
  assert.match(textOf(result), spec.long.expectText);
  assert.ok(progress.length >= 1, 'the host\'s progress callback never fired');

  const seen = messages.slice(firstIndex);
  const responseAt = seen.findIndex((m) => 'id' in m && ('result' in m || 'error' in m) && !('method' in m));
  assert.ok(responseAt >= 0, `the tool response is not in the message stream: ${JSON.stringify(seen)}`);
  const notes = seen.filter((m) => m.method === 'notifications/progress');
  const values = notes.map((m) => m.params.progress);
  assert.equal(notes.length, spec.long.steps, `expected ${spec.long.steps} progress notifications, got ${JSON.stringify(values)}`);
  for (let i = 1; i < values.length; i++) {
    assert.ok(values[i] > values[i - 1], `progress not increasing: ${JSON.stringify(values)}`);
  }
  const lastNoteAt = seen.lastIndexOf(notes[notes.length - 1]);
  assert.ok(lastNoteAt < responseAt, 'a progress notification arrived after the response it belongs to');
  return progress;
}

/** The SDK reported no errors except its own known races. */
export function checkNoErrors(conn) {
  assert.deepEqual(conn.errors.filter((e) => !isSdkClientRace(e)).map(String), []);
}

/**
 * A short call made while the long-running one is still in flight finishes
 * first: requests are not serialised behind a pending one.
 */
export async function checkConcurrent(conn, spec) {
  const { client } = conn;
  const order = [];
  const long = withTimeout(
    client.callTool({ name: spec.long.name, arguments: spec.long.args }, undefined, {
      timeout: CALL_TIMEOUT_MS,
      onprogress: () => {},
    }),
    CALL_TIMEOUT_MS + 1_000,
    `tools/call ${spec.long.name} (concurrent)`,
  ).then((r) => {
    order.push('long');
    return r;
  });
  // Let the long call reach the server before the short one starts.
  await new Promise((r) => setTimeout(r, 100));
  const short = checkEcho(conn, spec, 'while the long call runs').then(() => order.push('echo'));
  await Promise.all([long, short]);
  assert.deepEqual(order, ['echo', 'long'], 'the echo call waited for the long-running call to finish');
}

/** What the interop host answers to server-to-client requests. */
export const ELICITED_NAME = 'Ada Lovelace';
export const SAMPLED_TEXT = 'sampled by the interop host';

/**
 * Host options for connect: advertise elicitation (form) and sampling, and
 * answer them with fixed content so the tool results can be checked.
 */
export function hostWithServerRequests() {
  return {
    capabilities: { elicitation: { form: {} }, sampling: {} },
    setup(client) {
      client.setRequestHandler(ElicitRequestSchema, async () => ({
        action: 'accept',
        content: { name: ELICITED_NAME, check: true },
      }));
      client.setRequestHandler(CreateMessageRequestSchema, async () => ({
        role: 'assistant',
        content: { type: 'text', text: SAMPLED_TEXT },
        model: 'interop-test-model',
        stopReason: 'endTurn',
      }));
    },
  };
}

/** Waits until tools/list shows `name` (some servers register tools after initialize). */
async function waitForTool(client, name, ms = 5_000) {
  const deadline = Date.now() + ms;
  let names = [];
  while (Date.now() < deadline) {
    const { tools } = await withTimeout(client.listTools(), CALL_TIMEOUT_MS, 'tools/list');
    names = tools.map((t) => t.name);
    if (names.includes(name)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`tool ${name} never appeared in tools/list; got ${names.join(', ')}`);
}

/**
 * A tool that sends the host a request mid-call (elicitation/create or
 * sampling/createMessage): the host's answer must get back to the server.
 * which: 'elicit' | 'sample'
 */
export async function checkServerRequest(conn, spec, which) {
  const { client } = conn;
  const tool = spec[which];
  await waitForTool(client, tool.name);
  const result = await withTimeout(
    client.callTool({ name: tool.name, arguments: tool.args }, undefined, { timeout: CALL_TIMEOUT_MS }),
    CALL_TIMEOUT_MS + 1_000,
    `tools/call ${tool.name}`,
  );
  assert.notEqual(result.isError, true, `${tool.name} returned an error: ${JSON.stringify(result)}`);
  assert.match(textOf(result), tool.expectText);
}

/**
 * The peer dies while a call is in flight: the bridge must answer that call
 * with a JSON-RPC error (invariant 1), not leave it hanging or exit silently.
 */
export async function checkPeerDeath(conn, spec, peer) {
  const { client, messages } = conn;
  const firstIndex = messages.length;
  const call = client
    .callTool({ name: spec.long.name, arguments: spec.long.args }, undefined, {
      timeout: PEER_DEATH_DEADLINE_MS + 5_000,
      onprogress: () => {},
    })
    .then(
      (result) => ({ result }),
      (error) => ({ error }),
    );
  await new Promise((r) => setTimeout(r, 300));
  await peer.kill();
  const outcome = await withTimeout(call, PEER_DEATH_DEADLINE_MS, `pending ${spec.long.name} after the peer died`);
  assert.ok(outcome.error, `the call succeeded although the peer was killed: ${JSON.stringify(outcome.result)}`);
  const answered = messages.slice(firstIndex).some((m) => 'error' in m && m.id !== undefined && m.id !== null);
  assert.ok(
    answered,
    `the bridge wrote no JSON-RPC error for the pending call; the host saw: ${outcome.error}`,
  );
}

/** Text that framing must not disturb: escapes, U+2028/2029, astral characters. */
export const AWKWARD_TEXT = 'line 1\nline 2\r\n\ttab "quotes" \\backslash\\ \u2028\u2029 é 漢字 🎉 </script>';

/** Echo round-trips awkward characters and a 1 MiB payload unchanged. */
export async function checkPayloads(conn, spec) {
  await checkEcho(conn, spec, AWKWARD_TEXT);
  const big = 'x'.repeat(1024 * 1024 - 7) + '-end-🎉';
  await checkEcho(conn, spec, big);
}

/** 32 echo calls in flight at once each get their own answer. */
export async function checkManyInFlight(conn, spec, n = 32) {
  const calls = [];
  for (let i = 0; i < n; i++) calls.push(checkEcho(conn, spec, `call number ${i}`));
  await Promise.all(calls);
}

/** ping round-trips. */
export async function checkPing({ client }) {
  await withTimeout(client.ping({ timeout: CALL_TIMEOUT_MS }), CALL_TIMEOUT_MS + 1_000, 'ping');
}

/**
 * A notification the server sends on its own (not tied to a request: the
 * standalone GET stream in Streamable HTTP, the SSE stream in HTTP+SSE) reaches
 * the host. `trigger` starts it; `stop` ends it.
 */
export async function checkUnsolicited(conn, { trigger, stop, method, withinMs = 4_000 }) {
  const { client, messages } = conn;
  const firstIndex = messages.length;
  await withTimeout(client.callTool(trigger, undefined, { timeout: CALL_TIMEOUT_MS }), CALL_TIMEOUT_MS, `tools/call ${trigger.name}`);
  const deadline = Date.now() + withinMs;
  let seen;
  while (Date.now() < deadline && !seen) {
    seen = messages.slice(firstIndex).find((m) => m.method === method);
    if (!seen) await new Promise((r) => setTimeout(r, 50));
  }
  if (stop) await withTimeout(client.callTool(stop, undefined, { timeout: CALL_TIMEOUT_MS }), CALL_TIMEOUT_MS, `tools/call ${stop.name}`);
  assert.ok(seen, `no ${method} notification reached the host within ${withinMs} ms of ${trigger.name}`);
}

/**
 * The peer restarts with empty state on the same port between two calls: the
 * bridge must notice the lost session (404 on Streamable HTTP, a new stream on
 * HTTP+SSE), initialize a new one with the host's original parameters, and
 * carry the next call through. The host does nothing special.
 */
export async function checkPeerRestart(conn, spec, peer) {
  await checkEcho(conn, spec, 'before the restart');
  await peer.restart();
  await checkEcho(conn, spec, 'after the restart');
  await checkEcho(conn, spec, 'and once more');
}
