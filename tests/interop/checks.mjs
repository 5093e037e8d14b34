// The assertions every interop peer gets, through the bridge and directly.
//
// A peer description ("spec") names its tools:
//   echo:  { name, args, expectText }            a call whose text result is known
//   long:  { name, args, steps, expectText }     a call that sends `steps` progress notifications
import assert from 'node:assert/strict';

import { isSdkClientRace, withTimeout } from './host.mjs';

const CALL_TIMEOUT_MS = 20_000;

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
