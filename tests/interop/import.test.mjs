// `mcp-bridge import mcp-remote` against files written by the real mcp-remote
// package (pinned in package.json) after a real login at the TypeScript SDK's
// OAuth demo server (simpleStreamableHttp.js --oauth).
//
// mcp-remote opens the browser through the `open` package, which on Linux runs
// the xdg-open script it ships; that script hands the URL to $BROWSER. So
// BROWSER (and, for mcp-remote's own fallbacks, an `xdg-open` first on PATH)
// is a wrapper that runs fake-browser.mjs, which logs the launch and follows
// the redirects to mcp-remote's callback. HOME and MCP_REMOTE_CONFIG_DIR are
// temporary. The test drives one tools/call through mcp-remote (so its login
// completes and its files are written), stops it, checksums its directory,
// imports with our own config dir, checks the printed summary and that the
// directory is unchanged, then runs mcp-bridge against the server: it must
// get there with the imported tokens and no browser launch.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { connectThroughBridge, requireBridge, withTimeout } from './host.mjs';
import { HERE, NODE22, startOAuthDemo } from './peers.mjs';
import { runBridge } from './scratch.mjs';

const FAKE_BROWSER = path.join(HERE, 'fake-browser.mjs');
const MCP_REMOTE = path.join(HERE, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');
const CALL_TIMEOUT_MS = 20_000;

/** sha256 over every file's relative path, mode and content, sorted. */
function checksum(dir) {
  const hash = createHash('sha256');
  const walk = (d, rel) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const st = statSync(full);
      const r = path.join(rel, name);
      hash.update(`${r}\0${st.mode}\0${st.mtimeMs}\0`);
      if (st.isDirectory()) walk(full, r);
      else hash.update(readFileSync(full));
    }
  };
  walk(dir, '');
  return hash.digest('hex');
}

function launches(log) {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
}

describe('import mcp-remote: files written by the real mcp-remote', { timeout: 180_000 }, () => {
  let peer;
  before(async () => {
    if (!existsSync(MCP_REMOTE)) throw new Error(`mcp-remote is not installed at ${MCP_REMOTE}; run npm ci in tests/interop`);
    peer = await startOAuthDemo('--oauth');
  });
  after(async () => {
    await peer?.stop();
  });

  test('log in with mcp-remote, import, then the bridge connects without a browser', { timeout: 150_000 }, async (t) => {
    requireBridge();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-import-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const home = path.join(dir, 'home');
    const remoteDir = path.join(dir, 'mcp-auth');
    const ours = path.join(dir, 'ours');
    const bin = path.join(dir, 'bin');
    const browserLog = path.join(dir, 'browser.log');
    for (const d of [home, bin]) mkdirSync(d, { recursive: true });
    // The browser: a wrapper that runs fake-browser.mjs on this Node.
    const opener = path.join(bin, 'xdg-open');
    writeFileSync(opener, `#!/bin/sh\nexec "${process.execPath}" "${FAKE_BROWSER}" "$1"\n`);
    chmodSync(opener, 0o755);
    const common = {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
      FAKE_BROWSER_LOG: browserLog,
    };
    for (const k of ['DISPLAY', 'WAYLAND_DISPLAY', 'XDG_CURRENT_DESKTOP', 'KDE_FULL_SESSION', 'GNOME_DESKTOP_SESSION_ID', 'DESKTOP_SESSION']) {
      common[k] = '';
    }

    // 1. mcp-remote logs in (browser step automated) and serves one tool call.
    const remoteEnv = { ...process.env, ...common, MCP_REMOTE_CONFIG_DIR: remoteDir, BROWSER: opener };
    for (const [k, v] of Object.entries(remoteEnv)) if (v === '' || typeof v !== 'string') delete remoteEnv[k];
    const transport = new StdioClientTransport({
      command: existsSync(NODE22) ? NODE22 : process.execPath,
      args: [MCP_REMOTE, peer.url],
      env: remoteEnv,
      stderr: 'pipe',
    });
    let remoteLog = '';
    transport.stderr?.on('data', (c) => (remoteLog += c));
    const client = new Client({ name: 'import-test-host', version: '1.0.0' });
    try {
      await withTimeout(client.connect(transport), 60_000, 'connecting through mcp-remote');
      const result = await withTimeout(
        client.callTool({ name: 'greet', arguments: { name: 'remote' } }),
        CALL_TIMEOUT_MS,
        'tools/call greet through mcp-remote',
      );
      assert.equal(result.content?.[0]?.text, 'Hello, remote!');
    } catch (err) {
      throw new Error(`${err.stack}\n--- mcp-remote stderr ---\n${remoteLog.slice(-4000)}\n--- demo ---\n${peer.output().slice(-2000)}`);
    } finally {
      await client.close().catch(() => {});
    }
    const remoteLaunches = launches(browserLog);
    assert.equal(remoteLaunches.length, 1, `mcp-remote should have opened the browser once: ${remoteLaunches}`);
    const store = path.join(remoteDir, 'mcp-remote-v1');
    const files = readdirSync(store);
    const key = createHash('md5').update(peer.url).digest('hex');
    assert.ok(files.includes(`${key}_tokens.json`), `no tokens.json for the URL's key in ${files}`);
    const remoteTokens = JSON.parse(readFileSync(path.join(store, `${key}_tokens.json`), 'utf8'));
    const secrets = [remoteTokens.access_token, remoteTokens.refresh_token].filter(Boolean);
    const clientInfo = JSON.parse(readFileSync(path.join(store, `${key}_client_info.json`), 'utf8'));
    if (clientInfo.client_secret) secrets.push(clientInfo.client_secret);
    assert.ok(secrets.length >= 1);
    const before = checksum(remoteDir);

    // 2. A dry run names the login and writes nothing.
    const env = { ...common, MCP_BRIDGE_CONFIG_DIR: ours, MCP_BRIDGE_BROWSER: FAKE_BROWSER };
    const dry = await runBridge(['import', 'mcp-remote', peer.url, '--config-dir', remoteDir, '--store', 'file', '--dry-run'], env);
    assert.equal(dry.code, 0, `dry run exited ${dry.code}\n${dry.stdout}\n${dry.stderr}`);
    assert.match(dry.stdout, new RegExp(`would import: ${peer.url.replace(/[/.]/g, '\\$&')}`));
    assert.ok(!existsSync(path.join(ours, 'credentials.json')), 'the dry run wrote credentials');

    // 3. The import.
    const imp = await runBridge(['import', 'mcp-remote', peer.url, '--config-dir', remoteDir, '--store', 'file'], env);
    t.diagnostic(`import said:\n${imp.stdout}`);
    assert.equal(imp.code, 0, `import exited ${imp.code}\n${imp.stdout}\n${imp.stderr}`);
    assert.match(imp.stdout, new RegExp(`imported: ${peer.url.replace(/[/.]/g, '\\$&')}`));
    assert.match(imp.stdout, new RegExp(`issuer: +${peer.authUrl.replace(/[/.]/g, '\\$&')}`));
    assert.match(imp.stdout, new RegExp(`client: +${clientInfo.client_id}`));
    assert.match(imp.stdout, /scopes: +mcp:tools/);
    assert.match(imp.stdout, /1 imported, 0 skipped, 0 not found, 0 not matched/);
    assert.match(imp.stdout, /callback-port \d+/, 'the summary does not say how a login reuses the client');
    for (const s of secrets) {
      assert.ok(!imp.stdout.includes(s) && !imp.stderr.includes(s), 'a secret appears in the import output');
      assert.ok(!dry.stdout.includes(s) && !dry.stderr.includes(s), 'a secret appears in the dry-run output');
    }
    assert.equal(checksum(remoteDir), before, "the import changed mcp-remote's directory");

    // The import again: kept, not replaced, without --force.
    const again = await runBridge(['import', 'mcp-remote', peer.url, '--config-dir', remoteDir, '--store', 'file', '--json'], env);
    const report = JSON.parse(again.stdout);
    assert.equal(report.entries[0].status, 'skipped');
    assert.match(report.entries[0].reason, /already has tokens/);
    assert.equal(again.code, 1);

    // 4. A bridge run reaches the server with the imported tokens: no browser.
    const host = await connectThroughBridge(['--store', 'file', peer.url], { env, connectTimeoutMs: 20_000 });
    try {
      const result = await withTimeout(
        host.client.callTool({ name: 'greet', arguments: { name: 'bridge' } }),
        CALL_TIMEOUT_MS,
        'tools/call greet through mcp-bridge',
      );
      assert.equal(result.content?.[0]?.text, 'Hello, bridge!');
    } finally {
      await host.close();
    }
    assert.equal(launches(browserLog).length, 1, `the bridge opened a browser: ${launches(browserLog)}`);
    assert.ok(peer.output().includes(remoteTokens.access_token), 'the demo server never saw the imported access token');
    assert.equal(checksum(remoteDir), before, "mcp-remote's directory changed");
  });
});
