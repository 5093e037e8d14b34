// The README's quick start, run as written: the JSON lines it tells a newcomer to paste
// and the MCP Inspector CLI commands it shows, against a real server-everything (on a free
// port instead of 3001) and the pinned Inspector. If the README drifts, this fails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';

import { requireBridge, withTimeout } from './host.mjs';
import { HERE, NODE22, REPO_ROOT, startEverything } from './peers.mjs';

const README_URL = 'http://127.0.0.1:3001/mcp';
const INSPECTOR = path.join(HERE, 'node_modules', '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js');

/** The README's "Quick start" section. */
function quickStart() {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Quick start');
  const end = readme.indexOf('\n## ', start + 1);
  assert.ok(start >= 0 && end > start, 'README.md has a "## Quick start" section');
  return readme.slice(start, end);
}

/** The contents of every fenced block of `lang` in `text`. */
function blocks(text, lang) {
  const found = [];
  const fence = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  for (const m of text.matchAll(fence)) found.push(m[1]);
  return found;
}

/** The Inspector commands shown, each as its argument list after `npx -y PACKAGE`. */
function inspectorCommands(section) {
  const commands = [];
  for (const block of blocks(section, 'sh')) {
    for (const line of block.replace(/\\\n\s*/g, ' ').split('\n')) {
      const words = line.trim().split(/\s+/);
      if (words[0] === 'npx' && words.includes('@modelcontextprotocol/inspector')) {
        commands.push(words.slice(words.indexOf('@modelcontextprotocol/inspector') + 1));
      }
    }
  }
  return commands;
}

/** A directory holding `mcp-bridge` (the binary under test), for a PATH. */
function bridgeOnPath() {
  const dir = mkdtempSync(path.join(tmpdir(), 'quickstart-'));
  symlinkSync(requireBridge(), path.join(dir, 'mcp-bridge'));
  return dir;
}

/** Runs the bridge, writes `lines` one by one (waiting for each request's answer), returns stdout lines. */
async function paste(url, lines) {
  const child = spawn(requireBridge(), [url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const out = [];
  const waiting = new Map();
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    out.push(line);
    const id = JSON.parse(line).id;
    waiting.get(id)?.();
  });
  for (const line of lines) {
    const msg = JSON.parse(line);
    const answered = 'id' in msg ? new Promise((r) => waiting.set(msg.id, r)) : null;
    child.stdin.write(line + '\n');
    if (answered) await withTimeout(answered, 15_000, `an answer to ${msg.method}`);
  }
  child.stdin.end();
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0, stderr);
  return out.map((l) => JSON.parse(l));
}

/** Runs one Inspector command with `mcp-bridge` on PATH; resolves with its stdout. */
function inspector(args, pathDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE22, [INSPECTOR, ...args], {
      env: { ...process.env, PATH: `${pathDir}${path.delimiter}${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`inspector ${args.join(' ')} exited ${code}:\n${stdout}\n${stderr}`));
    });
  });
}

describe('README quick start', () => {
  let peer;
  let pathDir;
  const section = quickStart();

  before(async () => {
    peer = await startEverything('streamableHttp');
    pathDir = bridgeOnPath();
  });
  after(async () => {
    await peer?.stop();
    if (pathDir) rmSync(pathDir, { recursive: true, force: true });
  });

  test('shows the server it starts and the bridge command for it', () => {
    assert.match(section, /npx -y @modelcontextprotocol\/server-everything streamableHttp/);
    assert.ok(section.includes(`mcp-bridge ${README_URL}`), 'the bridge command names the server-everything URL');
  });

  test('the lines to paste initialize and call echo', async () => {
    const [json] = blocks(section, 'json');
    assert.ok(json, 'a json block of lines to paste');
    const lines = json.trim().split('\n');
    assert.equal(JSON.parse(lines[0]).method, 'initialize', 'the first line is initialize');
    const answers = await paste(peer.url, lines);
    const init = answers.find((a) => a.id === 1);
    assert.equal(init?.result?.serverInfo?.name, 'mcp-servers/everything', JSON.stringify(init));
    const echo = answers.find((a) => a.id === 2);
    assert.equal(echo?.result?.content?.[0]?.text, 'Echo: hello', JSON.stringify(echo));
    assert.equal(answers.length, 2, 'one answer per request, nothing else on stdout');
  });

  test('a first request other than initialize is told to send initialize first', async () => {
    const [answer] = await paste(peer.url, ['{"jsonrpc":"2.0","id":1,"method":"tools/list"}']);
    assert.ok(answer.error, JSON.stringify(answer));
    assert.match(answer.error.message, /send initialize/);
  });

  test('every Inspector command shown works', async () => {
    const commands = inspectorCommands(section);
    assert.ok(commands.length >= 2, 'the quick start shows Inspector commands');
    for (const args of commands) {
      const shown = args.map((a) => (a === README_URL ? peer.url : a));
      assert.ok(shown.includes(peer.url), `the command names the server: ${args.join(' ')}`);
      const out = await inspector(shown, pathDir);
      const result = JSON.parse(out.slice(out.indexOf('{')));
      const method = shown[shown.indexOf('--method') + 1];
      if (method === 'tools/list') {
        assert.ok(result.tools.some((t) => t.name === 'echo'), out);
      } else if (method === 'tools/call') {
        const arg = shown[shown.indexOf('--tool-arg') + 1].split('=')[1];
        assert.equal(result.content[0].text, `Echo: ${arg}`, out);
      } else {
        assert.fail(`no check for an Inspector command with --method ${method}`);
      }
    }
  });
});
