// postinstall of the npm package `mcp-bridge`: makes `bin/mcp-bridge` the native binary
// itself, so the installed command starts without Node at all.
//
// npm links the command to bin/mcp-bridge, the Node launcher. When the platform package
// (@mcp-bridge/<platform>-<arch>) is installed and its binary answers `--version` with this
// package's version, this replaces the launcher with a hard link to the binary (a copy
// where a hard link cannot be made, across file systems). It never fails the install:
// anything unexpected leaves the launcher in place, which finds and runs the binary the
// same way, only with Node in front. Skipped on Windows (npm's .cmd shims run bin files
// with node, so a native binary there cannot stand in for the launcher). With
// `--ignore-scripts` (or an npm that does not allow this package's scripts) it never runs,
// and the launcher stays.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
const launcher = path.join(here, 'bin', 'mcp-bridge');
const { version } = require('./package.json');
const platformPackage = `@mcp-bridge/${process.platform}-${process.arch}`;

function note(message) {
  process.stderr.write(`mcp-bridge: ${message}\n`);
}

function replaceLauncher() {
  if (process.platform === 'win32') return 'Windows runs npm commands through node';
  if (process.versions.pnp) return 'Yarn Plug\'n\'Play has no node_modules to link into';

  let manifest;
  try {
    manifest = require.resolve(`${platformPackage}/package.json`, { paths: [here] });
  } catch {
    return `${platformPackage} is not installed (yet)`;
  }
  const binary = path.join(path.dirname(manifest), 'bin', 'mcp-bridge');
  const answer = execFileSync(binary, ['--version'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 10_000,
  }).trim();
  if (answer !== `mcp-bridge ${version}`) {
    return `${binary} --version says ${JSON.stringify(answer)}, not mcp-bridge ${version}`;
  }

  // Put the binary beside the launcher under a temporary name, then rename it over the
  // launcher: the command is never missing, even for a moment.
  const temporary = `${launcher}.${process.pid}.tmp`;
  fs.rmSync(temporary, { force: true });
  try {
    fs.linkSync(binary, temporary);
  } catch {
    fs.copyFileSync(binary, temporary);
    fs.chmodSync(temporary, 0o755);
  }
  try {
    fs.renameSync(temporary, launcher);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  return null;
}

try {
  const skipped = replaceLauncher();
  if (skipped) note(`kept the Node launcher: ${skipped}`);
} catch (error) {
  note(`kept the Node launcher: ${error.message}`);
}
