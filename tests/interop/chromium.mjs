// A real browser for the authorization tests: Debian's chromium (/usr/bin/chromium, from
// scripts/setup-peers.sh) driven headless by playwright-core, which never downloads a
// browser of its own. Pages may reach only 127.0.0.1 / [::1] / localhost: every other
// request (oidc-provider's pages @import a web font) is aborted and counted, and the
// host resolver maps every name to nothing, so no test talks to the internet.
//
// Also: the helpers that wait for the URL the bridge handed to url-launcher.mjs, and the
// steps through oidc-provider's development login and consent forms.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { HERE } from './peers.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const URL_LAUNCHER = path.join(HERE, 'url-launcher.mjs');
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Throws a clear error when chromium is not installed. */
export function requireChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}; run \`sudo scripts/setup-peers.sh\` (it installs the Debian chromium package)`);
  }
}

/** Starts headless Chromium. Returns { browser, newPage(), blocked, close() }. */
export async function launchChromium() {
  requireChromium();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost', '--no-first-run'],
    timeout: 30_000,
  });
  const blocked = [];
  return {
    browser,
    /** Requests to anything but loopback that a page tried (and that were aborted). */
    blocked,
    /** A page in a fresh context (no cookies shared with other tests). */
    async newPage() {
      const context = await browser.newContext();
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (/^https?:$/.test(url.protocol) && LOOPBACK.has(url.hostname)) return route.continue();
        blocked.push(url.origin);
        return route.abort('blockedbyclient');
      });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.setDefaultNavigationTimeout(15_000);
      return page;
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** Environment that makes the bridge hand its URLs to url-launcher.mjs, which writes them to `file`. */
export function launcherEnv(file) {
  return {
    // url-launcher.mjs runs as `#!/usr/bin/env node`: this node first on PATH.
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    MCP_BRIDGE_BROWSER: URL_LAUNCHER,
    URL_LAUNCHER_FILE: file,
  };
}

/** The URLs the launcher has been given so far. */
export function launchedUrls(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(line.indexOf(' ') + 1));
}

/**
 * Resolves with the `n`th URL (1-based) handed to the launcher, polling `file`; rejects
 * after `timeoutMs`, or at once if `failed()` returns an error (e.g. the bridge's connect
 * rejected first).
 */
export async function waitForLaunch(file, { n = 1, timeoutMs = 15_000, failed = () => null } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const urls = launchedUrls(file);
    if (urls.length >= n) return urls[n - 1];
    const err = failed();
    if (err) throw err;
    if (Date.now() > deadline) throw new Error(`the bridge did not open a browser within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** On oidc-provider's login form: signs in as `login` (devInteractions takes any password). */
export async function signIn(page, login) {
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any password');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

/**
 * On oidc-provider's consent form: reads what it lists, then accepts (Continue) or denies
 * (Cancel). Returns { listed, response } (response: of the page the redirects end on).
 */
export async function consent(page, { allow = true } = {}) {
  await page.waitForSelector('input[name=prompt][value=consent]', { state: 'attached' });
  const listed = await page.locator('.login-card li').allInnerTexts();
  const action = allow ? page.click('button[type=submit]:has-text("Continue")') : page.click('a:has-text("Cancel")');
  const [response] = await Promise.all([page.waitForNavigation(), action]);
  return { listed, response };
}

/** { status, title, heading, text } of the page Chromium is on. */
export async function pageSummary(page, response) {
  return {
    url: page.url(),
    status: response?.status() ?? null,
    title: await page.title(),
    heading: (await page.locator('h1').first().innerText().catch(() => '')).trim(),
    text: (await page.locator('body').innerText()).trim(),
  };
}

/** On oidc-provider's device code input page (verification_uri): types the code, continues. */
export async function enterUserCode(page, code) {
  await page.waitForSelector('input[name=user_code]');
  await page.fill('input[name=user_code]', code);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit][form="op.deviceInputForm"]')]);
}

/**
 * On oidc-provider's device confirmation page: returns the code it shows, then continues
 * (allow) or aborts. Resolves once the browser has moved on.
 */
export async function confirmDevice(page, { allow = true } = {}) {
  await page.waitForSelector('form[id="op.deviceConfirmForm"]', { state: 'attached' });
  const shown = (await page.locator('code').first().innerText()).trim();
  const button = allow ? 'button[autofocus][form="op.deviceConfirmForm"]' : 'button[name=abort]';
  const [response] = await Promise.all([page.waitForNavigation(), page.click(button)]);
  return { shown, response };
}
