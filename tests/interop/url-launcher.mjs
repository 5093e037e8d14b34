#!/usr/bin/env node
// The "browser" command for the real-browser tests (browser.test.mjs, the device-code
// test): mcp-bridge runs MCP_BRIDGE_BROWSER with the authorization URL as its last
// argument; this appends "<pid> <url>" as one line to the file named by URL_LAUNCHER_FILE
// and exits 0 at once. The test watches that file and drives headless Chromium to the URL.
import { appendFileSync } from 'node:fs';

const url = process.argv.at(-1);
const file = process.env.URL_LAUNCHER_FILE;
if (process.argv.length < 3 || !url || !file) {
  process.stdout.write('url-launcher: expected a URL argument and URL_LAUNCHER_FILE\n');
  process.exit(2);
}
appendFileSync(file, `${process.pid} ${url}\n`);
