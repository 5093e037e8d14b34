// Third-party MCP servers ("peers") for the interop tests: start one on a free
// 127.0.0.1 port, wait until it accepts connections, stop it afterwards.
//
// Every wait here has a deadline, and a peer that is not installed is a loud
// failure that names scripts/setup-peers.sh, never a silent skip.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');
const SETUP_HINT = 'run `sudo scripts/setup-peers.sh` (from the repository root) to install the interop peers';

const EVERYTHING_PKG = path.join(HERE, 'node_modules', '@modelcontextprotocol', 'server-everything', 'package.json');
const SDK_PKG = path.join(HERE, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json');
export const VENV_PYTHON = path.join(HERE, '.venv', 'bin', 'python');
export const NODE22 = path.join(HERE, 'node_modules', '.bin', 'node');

/** Throws a clear error when the npm or Python peers are missing. */
export function requirePeers({ python = false, everything = false } = {}) {
  const missing = [];
  if (!existsSync(SDK_PKG)) missing.push(`${SDK_PKG} (npm ci in tests/interop)`);
  if (everything && !existsSync(EVERYTHING_PKG)) missing.push(`${EVERYTHING_PKG} (npm ci in tests/interop)`);
  if (python && !existsSync(VENV_PYTHON)) missing.push(`${VENV_PYTHON} (python venv with requirements.txt)`);
  if (missing.length > 0) {
    throw new Error(`interop peers are not installed; ${SETUP_HINT}. Missing:\n  ${missing.join('\n  ')}`);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * Spawns a server process and resolves once its port (and every port in
 * `alsoPorts`) accepts TCP connections.
 * Rejects (after killing the process) if it exits first or the deadline passes.
 * The peer: { name, port, output(), stop(), kill(), restart() }.
 */
async function startProcess(params) {
  const { name, port, alsoPorts = [], readyTimeoutMs = 20_000 } = params;
  let current = spawnPeer(params);

  const peer = {
    name,
    port,
    output: () => current.output(),
    /** SIGTERM, then SIGKILL after 3 s. */
    stop: () => current.stop(),
    /** SIGKILL: the peer vanishes without closing its connections cleanly. */
    kill: () => current.kill(),
    /** Kills the peer and starts a fresh one (empty state) on the same port. */
    async restart() {
      const before = current.output();
      await current.kill();
      current = spawnPeer(params, before);
      for (const p of [port, ...alsoPorts]) await waitReady(current, name, p, readyTimeoutMs);
    },
  };
  for (const p of [port, ...alsoPorts]) await waitReady(current, name, p, readyTimeoutMs);
  return peer;
}

async function waitReady(proc, name, port, readyTimeoutMs) {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (proc.exited()) {
      throw new Error(
        `${name} exited before it was ready (${JSON.stringify(proc.exited())}); its output:\n${proc.output()}`,
      );
    }
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.stop();
  throw new Error(`${name} did not accept connections on 127.0.0.1:${port} within ${readyTimeoutMs} ms; output:\n${proc.output()}`);
}

/** One server process; its output is kept (the last 32 KiB, after `previousOutput`). */
function spawnPeer({ command, args, env, cwd }, previousOutput = '') {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = previousOutput;
  const keep = (chunk) => {
    output += chunk.toString();
    if (output.length > 32_768) output = output.slice(-32_768);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.once('error', (err) => {
      exited = { code: null, signal: null, error: String(err) };
      resolve(exited);
    });
  });
  const waitExit = (ms) => Promise.race([exitPromise, new Promise((r) => setTimeout(r, ms).unref())]);
  return {
    output: () => output,
    exited: () => exited,
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      await waitExit(3_000);
      if (!exited) {
        child.kill('SIGKILL');
        await waitExit(2_000);
      }
      return exited;
    },
    async kill() {
      if (exited) return exited;
      child.kill('SIGKILL');
      await waitExit(3_000);
      return exited;
    },
  };
}

/**
 * @modelcontextprotocol/server-everything, mode 'streamableHttp' (endpoint /mcp)
 * or 'sse' (GET /sse, POST /message).
 */
export async function startEverything(mode) {
  requirePeers({ everything: true });
  const port = await freePort();
  const peer = await startProcess({
    name: `server-everything (${mode})`,
    command: process.execPath,
    args: [path.join(HERE, 'everything-launcher.mjs'), mode],
    env: { PORT: String(port) },
    cwd: HERE,
    port,
  });
  const base = `http://127.0.0.1:${port}`;
  peer.url = mode === 'sse' ? `${base}/sse` : `${base}/mcp`;
  return peer;
}

/** The Python SDK's FastMCP, transport 'streamable-http' (/mcp) or 'sse' (/sse). */
export async function startFastMcp(transport, { tokenFile } = {}) {
  requirePeers({ python: true });
  const port = await freePort();
  const extra = tokenFile ? ['--token-file', tokenFile] : [];
  const peer = await startProcess({
    name: `python FastMCP (${transport})`,
    command: VENV_PYTHON,
    args: [path.join(HERE, 'fastmcp_server.py'), '--transport', transport, '--port', String(port), ...extra],
    env: { PYTHONUNBUFFERED: '1' },
    cwd: HERE,
    port,
  });
  const base = `http://127.0.0.1:${port}`;
  peer.url = transport === 'sse' ? `${base}/sse` : `${base}/mcp`;
  return peer;
}

const OAUTH_DEMO = path.join(
  HERE, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm', 'examples', 'server', 'simpleStreamableHttp.js',
);

/**
 * The TypeScript SDK's example server with its demo OAuth authorization server:
 * `simpleStreamableHttp.js --oauth` (or, for mode '--oauth-strict',
 * `--oauth --oauth-strict`: the server only enables OAuth with `--oauth`, and
 * strict makes it accept only tokens issued for its own resource, RFC 8707). It serves
 * http://localhost:MCP_PORT/mcp and the AS at http://localhost:MCP_AUTH_PORT/
 * (its own metadata names `localhost`), both bound to 127.0.0.1 through
 * loopback-launcher.mjs. The AS approves every authorization request at once
 * (302 to the redirect URI) and keeps clients and tokens in memory.
 * The peer also has { url, authUrl, mcpPort, authPort }.
 */
export async function startOAuthDemo(mode = '--oauth') {
  requirePeers();
  if (mode !== '--oauth' && mode !== '--oauth-strict') throw new Error(`unknown OAuth demo mode ${mode}`);
  const mcpPort = await freePort();
  let authPort = await freePort();
  while (authPort === mcpPort) authPort = await freePort();
  const peer = await startProcess({
    name: `TS SDK simpleStreamableHttp ${mode}`,
    command: process.execPath,
    args: [path.join(HERE, 'loopback-launcher.mjs'), OAUTH_DEMO, ...(mode === '--oauth' ? [mode] : ['--oauth', mode])],
    env: { MCP_PORT: String(mcpPort), MCP_AUTH_PORT: String(authPort) },
    cwd: HERE,
    port: mcpPort,
    alsoPorts: [authPort],
  });
  peer.url = `http://localhost:${mcpPort}/mcp`;
  peer.authUrl = `http://localhost:${authPort}/`;
  peer.mcpPort = mcpPort;
  peer.authPort = authPort;
  return peer;
}
