// One real MCP session through an installed mcp-bridge command, as a host would run it,
// for scripts/test-packages.sh (assertions) and scripts/measure-install.sh (figures).
//
//   node tests/packages/session.mjs [options] -- COMMAND [ARGS...]
//
//   --server-name NAME  the serverInfo.name initialize must report (required)
//   --tool NAME         a tool tools/list must list, then called as echo (default echo)
//   --top binary|node   what the process the host spawned must be once it answers: the
//                       mcp-bridge binary itself, or a node process (default: not checked)
//   --nodes N           how many node processes the spawned process tree may hold once it
//                       answers (default: not checked)
//   --signal NAME       after the answers, send this signal to the spawned process instead
//                       of closing stdin, and require the whole tree to be gone in 10 s
//   --runs N            repeat the session N times (default 1)
//   --json              print one JSON object per run on stdout instead of a sentence
//
// Each run spawns COMMAND with piped stdio, writes `initialize` at once, and times the
// answer (spawn to first answer). It then sends notifications/initialized, tools/list and
// tools/call, and checks their answers. After that it reads the process tree under the
// spawned pid from /proc: which executables run there, and the sum of their peak RSS
// (VmHWM; a process that replaced itself with execve counts from the exec on). Closing stdin
// must end the command with exit code 0. Anything unexpected exits 1 with the reason.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function usage(message) {
  process.stderr.write(`session.mjs: error: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { tool: 'echo', top: null, nodes: null, signal: null, runs: 1, json: false, serverName: null };
  let i = 0;
  for (; i < argv.length && argv[i] !== '--'; i++) {
    const arg = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${arg} needs a value`));
    if (arg === '--server-name') options.serverName = value();
    else if (arg === '--tool') options.tool = value();
    else if (arg === '--top') options.top = value();
    else if (arg === '--nodes') options.nodes = Number(value());
    else if (arg === '--signal') options.signal = value();
    else if (arg === '--runs') options.runs = Number(value());
    else if (arg === '--json') options.json = true;
    else usage(`unknown option ${arg}`);
  }
  options.command = argv.slice(i + 1);
  if (options.command.length === 0) usage('no command after --');
  if (!options.serverName) usage('--server-name is required');
  if (options.top && !['binary', 'node'].includes(options.top)) usage('--top is binary or node');
  return options;
}

/** Every process id under `root` (itself first), from /proc's parent links. */
function processTree(root) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  const tree = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift();
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** What runs as `pid`: its executable's file name and peak RSS in KiB. */
function describe(pid) {
  let exe = '?';
  try {
    exe = path.basename(fs.readlinkSync(`/proc/${pid}/exe`)).replace(/ \(deleted\)$/, '');
  } catch {
    // a zombie, or gone
  }
  let hwm = 0;
  try {
    const match = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    if (match) hwm = Number(match[1]);
  } catch {
    // gone
  }
  return { pid, exe, hwm };
}

function isNode(exe) {
  return /^node(\d+)?(\.exe)?$/.test(exe);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Reads the child's stdout line by line and hands each JSON-RPC answer to whoever waits for its id. */
class Peer {
  constructor(child) {
    this.child = child;
    this.waiting = new Map();
    this.buffer = '';
    this.closed = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      this.buffer += chunk;
      let newline;
      while ((newline = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, newline).trim();
        this.buffer = this.buffer.slice(newline + 1);
        if (!line) continue;
        let message;
        try {
          message = JSON.parse(line);
        } catch {
          this.fail(new Error(`stdout carried a line that is not JSON: ${line.slice(0, 200)}`));
          continue;
        }
        const waiter = message.id !== undefined && this.waiting.get(message.id);
        if (waiter) {
          this.waiting.delete(message.id);
          waiter.resolve(message);
        }
      }
    });
    this.closed.then(({ code, signal }) => this.fail(new Error(`the command exited (code ${code}, signal ${signal}) before answering`)));
  }

  fail(error) {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  send(message) {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  request(id, method, params, timeoutMs = 30_000) {
    const answer = new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      setTimeout(() => reject(new Error(`no answer to ${method} in ${timeoutMs} ms`)), timeoutMs).unref();
    });
    this.send({ jsonrpc: '2.0', id, method, params });
    return answer;
  }
}

function withTimeout(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms).unref()),
  ]);
}

async function runOnce(options) {
  const [file, ...args] = options.command;
  const started = process.hrtime.bigint();
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.on('error', (error) => usage(`could not start ${file}: ${error.message}`));
  const peer = new Peer(child);
  try {
    const init = await peer.request(1, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'mcp-bridge-package-test', version: '1' },
    });
    const firstAnswerMs = Number(process.hrtime.bigint() - started) / 1e6;
    const serverName = init.result?.serverInfo?.name;
    if (serverName !== options.serverName) {
      throw new Error(`initialize answered ${JSON.stringify(init).slice(0, 300)}, not server ${options.serverName}`);
    }
    peer.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const list = await peer.request(2, 'tools/list', {});
    const names = (list.result?.tools ?? []).map((tool) => tool.name);
    if (!names.includes(options.tool)) {
      throw new Error(`tools/list has no ${options.tool}: ${JSON.stringify(list).slice(0, 300)}`);
    }
    const call = await peer.request(3, 'tools/call', { name: options.tool, arguments: { message: 'from a package' } });
    const text = call.result?.content?.[0]?.text ?? '';
    if (!text.includes('from a package')) throw new Error(`tools/call ${options.tool} answered ${JSON.stringify(call).slice(0, 300)}`);

    const tree = processTree(child.pid).map(describe);
    const rssKiB = tree.reduce((sum, p) => sum + p.hwm, 0);
    const nodes = tree.filter((p) => isNode(p.exe)).length;
    const binaries = tree.filter((p) => p.exe === 'mcp-bridge');
    const shape = tree.map((p) => `${p.exe}[${p.pid}]`).join(' > ');
    if (binaries.length !== 1) throw new Error(`expected one mcp-bridge process in the tree, found: ${shape}`);
    if (options.top === 'binary' && tree[0].exe !== 'mcp-bridge') {
      throw new Error(`the spawned process is ${tree[0].exe}, not the mcp-bridge binary (tree: ${shape})`);
    }
    if (options.top === 'node' && !isNode(tree[0].exe)) {
      throw new Error(`the spawned process is ${tree[0].exe}, not node (tree: ${shape})`);
    }
    if (options.nodes !== null && nodes !== options.nodes) {
      throw new Error(`expected ${options.nodes} node process(es) in the tree, found ${nodes} (tree: ${shape})`);
    }

    let exit;
    if (options.signal) {
      process.kill(child.pid, options.signal);
      exit = await withTimeout(peer.closed, 10_000, `exiting after ${options.signal}`);
      const left = tree.filter((p) => alive(p.pid) && p.pid !== child.pid);
      // Give the binary a moment if the launcher went first.
      for (let i = 0; i < 50 && left.some((p) => alive(p.pid)); i++) await new Promise((r) => setTimeout(r, 100));
      const still = left.filter((p) => alive(p.pid));
      if (still.length > 0) throw new Error(`after ${options.signal}, still running: ${still.map((p) => `${p.exe}[${p.pid}]`).join(', ')}`);
    } else {
      child.stdin.end();
      exit = await withTimeout(peer.closed, 15_000, 'exiting after stdin closed');
      if (exit.code !== 0) throw new Error(`exited with code ${exit.code} (signal ${exit.signal}) after stdin closed`);
    }
    return { firstAnswerMs, rssKiB, nodes, tree: shape, exit };
  } catch (error) {
    child.kill('SIGKILL');
    error.message += stderr ? `\n--- its stderr (last lines) ---\n${stderr}` : '';
    throw error;
  }
}

const options = parseArgs(process.argv.slice(2));
try {
  for (let run = 0; run < options.runs; run++) {
    const result = await runOnce(options);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const end = options.signal ? `ended by ${options.signal}` : 'exit 0 on EOF';
      process.stdout.write(
        `ok: initialize in ${result.firstAnswerMs.toFixed(1)} ms, tools/list and tools/call answered, ` +
          `tree ${result.tree}, peak RSS ${(result.rssKiB / 1024).toFixed(1)} MiB, ${end}\n`,
      );
    }
  }
} catch (error) {
  process.stderr.write(`session.mjs: FAILED: ${error.message}\n`);
  process.exit(1);
}
