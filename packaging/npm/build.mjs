#!/usr/bin/env node
// Builds the npm packages of mcp-bridge from a release binary, packed with `npm pack`:
//
//   mcp-bridge                   the command: a Node launcher (bin/mcp-bridge), the
//                                postinstall that swaps it for the binary (install.js), and
//                                an optional dependency on every platform package below
//   @mcp-bridge/<platform>-<arch>  one per platform, holding only the binary; its `os`,
//                                `cpu` (and `libc`) fields make npm install just the one
//                                that fits the machine
//
// usage: node packaging/npm/build.mjs [--binary PATH] [--out DIR] [--platform OS-ARCH]
//                                     [--version X.Y.Z] [--platform-only]
//
//   --binary PATH     the release binary (default target/release/mcp-bridge)
//   --out DIR         where the .tgz files go (default target/npm)
//   --platform OS-ARCH  which platform the binary is for, in Node's terms (default this
//                     machine's, e.g. linux-x64); one of PLATFORMS below
//   --version X.Y.Z   the packages' version (default the one in Cargo.toml); a binary for
//                     this machine must answer `--version` with it
//   --platform-only   build only the platform package (for the other machines of a release)
//
// The paths of the packed tarballs are printed on stdout, one a line; progress goes to
// stderr. packaging/README.md describes a release; scripts/test-packages.sh installs the
// result without a registry.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

/** Every platform a release ships a package for: Node's `os-arch`, and what npm matches. */
const PLATFORMS = {
  'linux-x64': { os: 'linux', cpu: 'x64', libc: 'glibc', exe: 'mcp-bridge', magic: 'elf' },
  'linux-arm64': { os: 'linux', cpu: 'arm64', libc: 'glibc', exe: 'mcp-bridge', magic: 'elf' },
  'darwin-x64': { os: 'darwin', cpu: 'x64', exe: 'mcp-bridge', magic: 'macho' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64', exe: 'mcp-bridge', magic: 'macho' },
  'win32-x64': { os: 'win32', cpu: 'x64', exe: 'mcp-bridge.exe', magic: 'pe' },
};
const SCOPE = '@mcp-bridge';

function say(message) {
  process.stderr.write(`build.mjs: ${message}\n`);
}

function die(message) {
  process.stderr.write(`build.mjs: error: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = {
    binary: path.join(root, 'target/release/mcp-bridge'),
    out: path.join(root, 'target/npm'),
    platform: `${process.platform}-${process.arch}`,
    version: null,
    platformOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) die(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--binary':
        options.binary = path.resolve(value());
        break;
      case '--out':
        options.out = path.resolve(value());
        break;
      case '--platform':
        options.platform = value();
        break;
      case '--version':
        options.version = value();
        break;
      case '--platform-only':
        options.platformOnly = true;
        break;
      case '-h':
      case '--help':
        process.stderr.write(
          'usage: node packaging/npm/build.mjs [--binary PATH] [--out DIR] ' +
            '[--platform OS-ARCH] [--version X.Y.Z] [--platform-only]\n',
        );
        process.exit(0);
        break;
      default:
        die(`unknown argument ${arg} (see --help)`);
    }
  }
  if (!PLATFORMS[options.platform]) {
    die(`no package for platform ${options.platform}; known: ${Object.keys(PLATFORMS).join(', ')}`);
  }
  return options;
}

/** The `[package]` fields of Cargo.toml the packages repeat. */
function cargoPackage() {
  const text = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
  const section = text.split(/^\[/m).find((part) => part.startsWith('package]'));
  if (!section) die('Cargo.toml has no [package] section');
  const field = (name) => {
    const match = section.match(new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, 'm'));
    if (!match) die(`Cargo.toml [package] has no ${name}`);
    return match[1];
  };
  return {
    version: field('version'),
    description: field('description'),
    license: field('license'),
    repository: field('repository'),
  };
}

/** Refuses a binary that is not an executable for `platform` (a mix-up in a release). */
function checkFormat(binary, platform) {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(binary, 'r');
  try {
    fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  const magic = head.readUInt32BE(0);
  const found =
    magic === 0x7f454c46
      ? 'elf'
      : [0xcffaedfe, 0xcefaedfe, 0xfeedfacf, 0xcafebabe].includes(magic)
        ? 'macho'
        : head[0] === 0x4d && head[1] === 0x5a
          ? 'pe'
          : 'unknown';
  if (found !== PLATFORMS[platform].magic) {
    die(`${binary} is ${found === 'unknown' ? 'not an executable' : `a ${found} file`}, not a ${platform} executable`);
  }
}

/** Runs a binary for this machine and checks it reports `version`. */
function checkVersion(binary, version) {
  let answer;
  try {
    answer = execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (error) {
    die(`${binary} --version failed: ${error.message}`);
  }
  if (answer !== `mcp-bridge ${version}`) die(`${binary} --version says "${answer}", expected "mcp-bridge ${version}"`);
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Packs the directory with `npm pack` into `out` and returns the tarball's path. */
function pack(dir, out) {
  const result = execFileSync('npm', ['pack', '--json', '--pack-destination', out], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [{ filename }] = JSON.parse(result);
  return path.join(out, filename);
}

function common(cargo, version) {
  return {
    version,
    license: cargo.license,
    repository: { type: 'git', url: `git+${cargo.repository}.git` },
    homepage: `${cargo.repository}#readme`,
  };
}

function buildPlatformPackage(options, cargo, version, stage) {
  const platform = PLATFORMS[options.platform];
  const name = `${SCOPE}/${options.platform}`;
  const dir = path.join(stage, options.platform);
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const target = path.join(dir, 'bin', platform.exe);
  fs.copyFileSync(options.binary, target);
  fs.chmodSync(target, 0o755);
  fs.copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'));
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    `# ${name}\n\nThe prebuilt \`mcp-bridge\` binary for ${options.platform}. Install ` +
      '[`mcp-bridge`](https://www.npmjs.com/package/mcp-bridge) instead: it depends on this ' +
      'package on the machines it fits.\n',
  );
  writeJson(path.join(dir, 'package.json'), {
    name,
    ...common(cargo, version),
    description: `The ${options.platform} binary of mcp-bridge`,
    os: [platform.os],
    cpu: [platform.cpu],
    ...(platform.libc ? { libc: [platform.libc] } : {}),
    files: ['bin/', 'LICENSE', 'README.md'],
    preferUnplugged: true,
  });
  return dir;
}

function buildMainPackage(cargo, version, stage) {
  const dir = path.join(stage, 'mcp-bridge');
  const source = path.join(here, 'mcp-bridge');
  fs.cpSync(source, dir, { recursive: true });
  fs.chmodSync(path.join(dir, 'bin', 'mcp-bridge'), 0o755);
  fs.copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'));
  writeJson(path.join(dir, 'package.json'), {
    name: 'mcp-bridge',
    ...common(cargo, version),
    description: cargo.description,
    keywords: ['mcp', 'model-context-protocol', 'proxy', 'stdio', 'oauth'],
    bin: { 'mcp-bridge': 'bin/mcp-bridge' },
    scripts: { postinstall: 'node install.js' },
    optionalDependencies: Object.fromEntries(Object.keys(PLATFORMS).map((p) => [`${SCOPE}/${p}`, version])),
    engines: { node: '>=18' },
    files: ['bin/', 'install.js', 'LICENSE', 'README.md'],
  });
  return dir;
}

const options = parseArgs(process.argv.slice(2));
const cargo = cargoPackage();
const version = options.version ?? cargo.version;
if (!fs.existsSync(options.binary)) die(`no binary at ${options.binary} (cargo build --release first, or pass --binary)`);
checkFormat(options.binary, options.platform);
if (options.platform === `${process.platform}-${process.arch}`) checkVersion(options.binary, version);

fs.mkdirSync(options.out, { recursive: true });
const stage = fs.mkdtempSync(path.join(options.out, '.stage-'));
try {
  const dirs = [buildPlatformPackage(options, cargo, version, stage)];
  if (!options.platformOnly) dirs.push(buildMainPackage(cargo, version, stage));
  for (const dir of dirs) {
    const tarball = pack(dir, options.out);
    say(`packed ${path.relative(process.cwd(), tarball) || tarball}`);
    process.stdout.write(`${tarball}\n`);
  }
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
