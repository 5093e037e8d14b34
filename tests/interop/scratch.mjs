// What the tests that run mcp-bridge commands to completion share: a scratch
// directory per test (config dir, a counting fake browser, a temporary HOME) and
// a runner for `mcp-bridge ARGS` that collects its exit code, stdout and stderr.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { bridgeBin } from './host.mjs';
import { HERE } from './peers.mjs';

const FAKE_BROWSER = path.join(HERE, 'fake-browser.mjs');

/** A scratch dir per test: config dir, browser log, temporary HOME. Removed by cleanup(). */
export function scratch(t) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-oauth-'));
  const s = {
    dir,
    config: path.join(dir, 'config'),
    browserLog: path.join(dir, 'browser.log'),
    /** Environment for the bridge: its own config dir and the counting fake browser. */
    env(extra = {}) {
      return {
        // fake-browser.mjs runs as `#!/usr/bin/env node`: this node first on PATH.
        PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
        MCP_BRIDGE_CONFIG_DIR: s.config,
        MCP_BRIDGE_BROWSER: FAKE_BROWSER,
        FAKE_BROWSER_LOG: s.browserLog,
        ...extra,
      };
    },
    /** Browser launches so far, as [{ pid, url }]. */
    launches() {
      if (!existsSync(s.browserLog)) return [];
      return readFileSync(s.browserLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [, pid, url] = line.split(' ');
          return { pid: Number(pid), url };
        });
    },
  };
  /** SIGKILL every fake browser still running (the hang / linger modes). */
  s.killBrowsers = () => {
    for (const { pid } of s.launches()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  t.after(() => {
    s.killBrowsers();
    rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

/** HOME and the XDG directories, all under `home` (so nothing of the user's is read). */
export function homeEnv(home) {
  return {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
  };
}

/** Runs `mcp-bridge ARGS` to completion (login, status, logout), with a temporary HOME. */
export function runBridge(args, env, { timeoutMs = 30_000 } = {}) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-home-'));
  return new Promise((resolve, reject) => {
    const child = spawn(bridgeBin(), args, {
      env: { ...process.env, ...homeEnv(home), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mcp-bridge ${args.join(' ')} did not finish within ${timeoutMs} ms\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr });
    });
  });
}
