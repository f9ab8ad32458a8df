// What the browser tests share: where things are, a real otcm server on a
// free port with its own data folder, an API client with a cookie session
// and its CSRF token, chromium through playwright-core, screenshots, and the
// counting that ends each file with "N passed, N failed".  Each test file
// keeps its own data, pages and checks.
//
// Environment: OTCM_BIN (default build/otcm), OTCM_CORPUS (default
// ../shared/corpus beside the repository), CHROMIUM (default /usr/bin/chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

/** The otcm binary under test. */
export const BIN = process.env.OTCM_BIN || join(root, 'build', 'otcm');
/** The corpus of real project exports. */
export const CORPUS = process.env.OTCM_CORPUS || resolve(root, '..', 'shared', 'corpus');
/** Where screenshots go. */
export const ARTIFACTS = join(here, 'artifacts');
/** Successive Studio 5000 exports of one project (Simple@<commit>.L5X). */
export const L5X = join(CORPUS, 'l5x', 'tnunnink__L5Sharp', 'tests', 'L5Sharp.Tests.Samples', 'Projects');

/** Fails (the caller's before hook) unless every corpus file is there. */
export function requireCorpus(...files) {
  assert.ok(files.every((f) => existsSync(f)), `corpus files not found under ${L5X}: set OTCM_CORPUS`);
}

/** A fresh random password that meets the server's password rule. */
export const password = () => 'Aa1!' + randomBytes(18).toString('base64url');

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
    s.on('error', fail);
  });
}

/**
 * Starts `otcm serve` on a free local port with a new data folder (named
 * after `prefix`) and the bootstrap administrator's password, and waits up
 * to 180 s for "otcm: serving on".  `args` are extra serve options.
 * Returns { base, dataDir, api, login }:
 *   api(method, path, body, { cookie, csrf, token }) - one request; a
 *     FormData body goes as multipart, any other as JSON; answers
 *     { status, json, text, headers } (json null when the body is not JSON)
 *   login(username, password) - logs in through the API and returns
 *     (method, path, body) => api(...) with that session's cookie and CSRF token
 * Stop it with stopServer.
 */
export async function startServer({ adminPassword, prefix = 'otcm-e2e-', args = [] }) {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dataDir, 0o755);   // the server hands it to the postgres account when run as root
  const port = await freePort();
  const child = spawn(BIN, ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`, ...args], {
    env: { ...process.env, OTCM_ADMIN_PASSWORD: adminPassword },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = { child, dataDir, base: `http://127.0.0.1:${port}` };
  let log = '';
  child.stderr.on('data', (d) => { log = (log + d).slice(-20000); });
  try {
    await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('otcm did not serve within 180 s:\n' + log)), 180000);
      child.stdout.on('data', (d) => {
        if (/otcm: serving on/.test(String(d))) { clearTimeout(timer); ok(); }
      });
      child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`otcm exited ${code}:\n${log}`)); });
    });
  } catch (e) {
    await stopServer(server, { keepData: false });
    throw e;
  }

  server.api = async (method, path, body, { cookie, csrf, token } = {}) => {
    const headers = {};
    if (cookie) headers.Cookie = cookie;
    if (csrf) headers['X-CSRF-Token'] = csrf;
    if (token) headers.Authorization = `Bearer ${token}`;
    const form = body instanceof FormData;
    if (body && !form) headers['Content-Type'] = 'application/json';
    const res = await fetch(server.base + path, { method, headers, body: body && (form ? body : JSON.stringify(body)) });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = null; }
    return { status: res.status, json, text, headers: res.headers };
  };
  server.login = async (username, pw) => {
    const r = await server.api('POST', '/api/v1/session', { username, password: pw });
    assert.equal(r.status, 200, `login ${username}: ${r.text}`);
    const cookie = r.headers.get('set-cookie').split(';')[0];
    const csrf = r.json.csrf_token;
    return (method, path, body) => server.api(method, path, body, { cookie, csrf });
  };
  return server;
}

/** Stops the server and waits for it; removes its data folder unless keepData. */
export async function stopServer(server, { keepData }) {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    const exited = new Promise((ok) => server.child.on('exit', ok));
    server.child.kill('SIGTERM');
    await exited;
  }
  if (!keepData) rmSync(server.dataDir, { recursive: true, force: true });
}

const profiles = new WeakMap();

/**
 * Launches the system's chromium headless as one persistent context on a
 * fresh profile folder; `options` are added to playwright's (acceptDownloads).
 * Close it with closeBrowser.
 */
export async function launchBrowser(options = {}) {
  const profileDir = mkdtempSync(join(tmpdir(), 'otcm-e2e-chromium-'));
  let browser;
  try {
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      ...options,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (e) {
    rmSync(profileDir, { recursive: true, force: true });
    throw e;
  }
  profiles.set(browser, profileDir);
  return browser;
}

/** Closes the browser and removes its profile folder. */
export async function closeBrowser(browser) {
  await browser.close();
  rmSync(profiles.get(browser), { recursive: true, force: true });
}

/**
 * A new page without a session (the context's cookies are cleared), 1280x900,
 * that collects script errors and CSP violations in page.problems (4xx
 * answers and aborted requests aside); tests end with
 * assert.deepEqual(page.problems, []).
 */
export async function openPage(browser) {
  await browser.clearCookies();
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d|ERR_FAILED/.test(m.text())) page.problems.push(m.text());
  });
  page.on('pageerror', (e) => page.problems.push(String(e)));
  return page;
}

/**
 * Returns shot(page, name, fullPage = true), which saves a screenshot as
 * ARTIFACTS/<prefix><name>.png.
 */
export function screenshots(prefix = '') {
  return async (page, name, fullPage = true) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, prefix + name + '.png'), fullPage });
  };
}

/**
 * Counts a file's tests.  Returns { t, counts, summary }: t(name, fn)
 * declares a test that counts as passed or failed, counts holds
 * { passed, failed }, and summary() prints "N passed, N failed".
 */
export function tally() {
  const counts = { passed: 0, failed: 0 };
  const t = (name, fn) => test(name, async () => {
    try { await fn(); counts.passed++; } catch (e) { counts.failed++; throw e; }
  });
  const summary = () => console.log(`${counts.passed} passed, ${counts.failed} failed`);
  return { t, counts, summary };
}

/**
 * The common after hook: closes the browser, stops the server (keeping its
 * data folder when a test failed, to look into) and prints the summary.
 * Either may be missing when the before hook failed part way.
 */
export async function finish({ browser, server, tally: { counts, summary } }) {
  if (browser) await closeBrowser(browser);
  if (server) await stopServer(server, { keepData: counts.failed > 0 });
  summary();
}
