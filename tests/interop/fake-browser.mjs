#!/usr/bin/env node
// A stand-in for the user's web browser in the authorization tests.
//
// mcp-bridge runs the program named by MCP_BRIDGE_BROWSER with the
// authorization URL as its single argument (no shell). This one:
//   1. appends one line "<epoch ms> <pid> <url>" to the file named by
//      FAKE_BROWSER_LOG (if set), so tests can count browser launches;
//   2. unless FAKE_BROWSER_MODE=ignore, GETs the URL and follows redirects
//      (the demo and mock authorization servers approve at once and 302 to the
//      bridge's loopback callback), carrying cookies along the way.
//
// FAKE_BROWSER_MODE:
//   follow  (default) as above; with FAKE_BROWSER_LINGER_SECS=N it then stays
//           running N more seconds, like a browser command that only returns
//           when its window closes
//   ignore  log the launch, then exit 0 without opening anything: a user who
//           never finishes the login
//   hang    log the launch, then sleep for FAKE_BROWSER_HANG_SECS (default 120)
//           without opening anything: a launcher that never returns
//
// Only http(s) URLs on loopback hosts are fetched; anything else is refused.
// Progress goes to stdout (the bridge passes it to its stderr); exit status 1
// on any failure.
import { appendFileSync } from 'node:fs';

const MAX_HOPS = 10;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function say(msg) {
  process.stdout.write(`fake-browser[${process.pid}]: ${msg}\n`);
}

async function main() {
  const url = process.argv[2];
  if (process.argv.length !== 3 || !url) {
    say(`expected exactly one argument (the URL), got ${JSON.stringify(process.argv.slice(2))}`);
    return 2;
  }
  if (process.env.FAKE_BROWSER_LOG) {
    appendFileSync(process.env.FAKE_BROWSER_LOG, `${Date.now()} ${process.pid} ${url}\n`);
  }
  const mode = process.env.FAKE_BROWSER_MODE ?? 'follow';
  if (mode === 'ignore') {
    say('launched; not opening the URL (FAKE_BROWSER_MODE=ignore)');
    return 0;
  }
  if (mode === 'hang') {
    const secs = Number(process.env.FAKE_BROWSER_HANG_SECS ?? 120);
    say(`launched; sleeping ${secs} s without opening the URL (FAKE_BROWSER_MODE=hang)`);
    await new Promise((r) => setTimeout(r, secs * 1000));
    return 0;
  }
  if (mode !== 'follow') {
    say(`unknown FAKE_BROWSER_MODE=${mode}`);
    return 2;
  }

  let current = new URL(url);
  const cookies = new Map();
  for (let hop = 0; hop <= MAX_HOPS; hop += 1) {
    if (!/^https?:$/.test(current.protocol) || !LOOPBACK.has(current.hostname)) {
      say(`refusing to open ${current.href}: not an http(s) URL on a loopback host`);
      return 1;
    }
    const headers = {};
    if (cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(current, { redirect: 'manual', headers, signal: AbortSignal.timeout(15_000) });
    for (const line of res.headers.getSetCookie?.() ?? []) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    say(`GET ${current.origin}${current.pathname} -> ${res.status}${location ? ` (to ${new URL(location, current).origin}${new URL(location, current).pathname})` : ''}`);
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      current = new URL(location, current);
      continue;
    }
    const body = await res.text();
    if (!res.ok) {
      say(`final page answered ${res.status}: ${body.slice(0, 300)}`);
      return 1;
    }
    const linger = Number(process.env.FAKE_BROWSER_LINGER_SECS ?? 0);
    if (linger > 0) {
      say(`login page done; staying open ${linger} s (FAKE_BROWSER_LINGER_SECS)`);
      await new Promise((r) => setTimeout(r, linger * 1000));
    }
    return 0;
  }
  say(`more than ${MAX_HOPS} redirects`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`failed: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
