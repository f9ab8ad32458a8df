// Browser test of the diff page on a real multi-file TwinCAT change: one
// commit of a TwinCAT library project (POUs, DUTs, GVLs, task and PLC
// project files) together with two versions of a vacuum system's .tsproj
// (I/O, links, tasks) and a generated .tmc.  The overview must open in
// Chromium in under a second and stay small, summarise by category, fold the
// generated file, and still lead to every change the API reports.
// Environment as in harness.mjs.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CORPUS, requireCorpus, password, startServer, launchBrowser, openPage, screenshots, tally, finish } from './harness.mjs';

const COMMIT = '2766f0d94a9c1b321740ccf81033f46cbb4f89bf';   // a 61-file commit of lcls-twincat-general
const TSPROJ = 'twincat/pcdshub__lcls-plc-kfe-vac/plc/plc-kfe-vac/plc-kfe-vac.tsproj';
const TSPROJ_VERSIONS = [1, 2];   // the largest step of its history: 515 changes
const TMC = 'twincat/pcdshub__lcls-twincat-general/LCLSGeneral/GlobalEvents.tmc';

const users = { admin: password(), eng: password() };
const shot = screenshots('diff-');
const suite = tally();
const t = suite.t;
let server, base, browser, assetId, fromCommit, toCommit;
let oldFiles, newFiles;

// The tree path of a corpus file: its path in its own repository.
const treePath = (file) => file.split('/').slice(2).join('/');

// { file: [{ version, local, commit }] } from the corpus's HISTORY.tsv.
function history() {
  const rows = readFileSync(join(CORPUS, 'HISTORY.tsv'), 'utf8').split('\n').slice(1).filter(Boolean);
  const byFile = {};
  for (const r of rows) {
    const [file, version, local, commit] = r.split('\t');
    (byFile[file] ||= []).push({ version: Number(version), local, commit });
  }
  for (const v of Object.values(byFile)) v.sort((a, b) => a.version - b.version);
  return byFile;
}

// Old and new trees: every file of the commit (the version before it, and
// its own), the .tsproj pair, and the .tmc with one data type renamed.
function trees() {
  const byFile = history();
  const before = new Map(), after = new Map();
  for (const [file, versions] of Object.entries(byFile)) {
    const i = versions.findIndex((v) => v.commit === COMMIT);
    if (i < 0) continue;
    if (i > 0) before.set(treePath(file), readFileSync(join(CORPUS, versions[i - 1].local)));
    after.set(treePath(file), readFileSync(join(CORPUS, versions[i].local)));
  }
  const ts = byFile[TSPROJ];
  const pick = (n) => ts.find((v) => v.version === n).local;
  before.set('plc-kfe-vac/plc-kfe-vac.tsproj', readFileSync(join(CORPUS, pick(TSPROJ_VERSIONS[0]))));
  after.set('plc-kfe-vac/plc-kfe-vac.tsproj', readFileSync(join(CORPUS, pick(TSPROJ_VERSIONS[1]))));
  const tmc = readFileSync(join(CORPUS, TMC), 'utf8');
  before.set('LCLSGeneral/GlobalEvents.tmc', Buffer.from(tmc));
  after.set('LCLSGeneral/GlobalEvents.tmc', Buffer.from(tmc.replace(/>LCLSGeneralEventClass</, '>LCLSGeneralEventClass2<')));
  return { before, after };
}

function versionForm(files, message, branch) {
  const f = new FormData();
  f.append('message', message);
  if (branch) f.append('branch', branch);
  for (const [path, bytes] of files) f.append('file', new Blob([bytes]), path);
  return f;
}

before(async () => {
  requireCorpus(join(CORPUS, 'HISTORY.tsv'), join(CORPUS, TMC));
  ({ before: oldFiles, after: newFiles } = trees());
  assert.ok(newFiles.size >= 50, `only ${newFiles.size} files`);
  server = await startServer({ adminPassword: users.admin, prefix: 'otcm-e2e-diff-' });
  base = server.base;
  const admin = await server.login('admin', users.admin);
  let r = await admin('POST', '/api/v1/users', { username: 'eng', display_name: 'Test engineer', role: 'engineer', password: users.eng });
  assert.equal(r.status, 201, r.text);
  r = await admin('POST', '/api/v1/assets', { path: 'lcls/kfe/vac-plc', type: 'plc', vendor: 'Beckhoff' });
  assert.equal(r.status, 201, r.text);
  assetId = r.json.id;
  r = await admin('POST', `/api/v1/assets/${assetId}/versions`, versionForm(oldFiles, 'baseline'));
  assert.equal(r.status, 201, r.text);
  fromCommit = r.json.commit;
  r = await admin('POST', `/api/v1/assets/${assetId}/versions`, versionForm(newFiles, 'library and I/O update', 'work/io'));
  assert.equal(r.status, 201, r.text);
  toCommit = r.json.commit;
  browser = await launchBrowser();
});

after(() => finish({ browser, server, tally: suite }));

async function login(page) {
  await page.goto(base + '/login');
  await page.fill('#username', 'eng');
  await page.fill('#password', users.eng);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

t('the diff of a 60-file TwinCAT change opens in under a second and every change is reachable', async () => {
  const page = await openPage(browser);
  await login(page);
  const url = `${base}/assets/${assetId}/diff?from=${fromCommit}&to=${toCommit}`;
  // the best of three loads after a warm one: the machine's other work is not the page's.
  // What the page itself costs is Chromium's part, from the first byte of the answer to
  // the load event (parsing, style, layout, paint): under a second with room to spare.
  // The whole load, the server's diff of 60 files included, is held under a second as
  // well; on a machine busy with other work (load above the core count) that bound is
  // stretched by the load, and the log says so.
  await page.goto(url);
  const timings = [];
  for (let i = 0; i < 3; i++) {
    await page.goto(url);
    timings.push(await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      return { load: n.loadEventEnd - n.startTime, server: n.responseStart - n.requestStart,
        browser: n.loadEventEnd - n.responseStart };
    }));
  }
  const best = (key) => Math.min(...timings.map((x) => x[key]));
  const html = await page.content();
  const busy = Math.max(1, os.loadavg()[0] / os.cpus().length);
  console.log('diff page loads: ' + timings.map((x) => `${x.load.toFixed(0)} ms (server ${x.server.toFixed(0)}, ` +
    `Chromium ${x.browser.toFixed(0)})`).join(', ') + `; ${html.length} bytes of HTML; machine load ${busy.toFixed(1)}x`);
  assert.ok(best('browser') < 1000, `Chromium took ${best('browser')} ms`);
  assert.ok(best('load') < 1000 * busy, `the page took ${best('load')} ms at load ${busy.toFixed(1)}x`);
  assert.ok(html.length < 400 * 1024, `the page is ${html.length} bytes`);
  await shot(page, '01-overview', false);

  // the summary by category and the file list
  const summary = await page.textContent('table.otcm-diff-summary');
  for (const label of ['Logic', 'I/O and hardware', 'Configuration', 'Generated']) assert.match(summary, new RegExp(label));
  assert.equal(await page.locator('table.otcm-diff-files tbody tr').count(), newFiles.size);
  // the generated file is folded, the I/O configuration is not
  const sections = page.locator('details.otcm-diff');
  const tmcIndex = (await page.locator('table.otcm-diff-files tbody tr td:first-child').allTextContents())
    .findIndex((p) => p.endsWith('GlobalEvents.tmc'));
  assert.ok(tmcIndex >= 0);
  assert.equal(await sections.nth(tmcIndex).getAttribute('open'), null);
  const tsprojRow = page.locator('table.otcm-diff-files tbody tr', { hasText: 'plc-kfe-vac.tsproj' });
  assert.match(await tsprojRow.textContent(), /I\/O and hardware/);
  assert.deepEqual(page.problems, []);

  // every change the API reports is on the overview or on the file's own pages
  const api = await page.request.get(`${base}/api/v1/assets/${assetId}/diff?from=${fromCommit}&to=${toCommit}`);
  assert.equal(api.status(), 200);
  const files = (await api.json()).files;
  assert.equal(files.length, newFiles.size);
  let total = 0, one = null;
  for (const [i, f] of files.entries()) {
    const n = f.semantic ? f.semantic.changes.length : 0;
    total += n;
    if (await sections.nth(i).locator('td[class^="k-"]').count() === n) continue;
    if (!one) {
      one = await openPage(browser);   // a second page: signs in afresh
      await login(one);
    }
    let seen = 0;
    for (let p = 0; ; p++) {
      await one.goto(`${url}&file=${encodeURIComponent(f.path)}&page=${p}`);
      seen += await one.locator('td[class^="k-"]').count();
      if (p === 0 && i === tmcIndex) await shot(one, '02-file', false);
      if (!await one.locator('a[rel=next]').count()) break;
    }
    assert.equal(seen, n, `${f.path}: ${seen} of ${n} changes reachable`);
  }
  if (one) {
    assert.deepEqual(one.problems, []);
    await one.close();
  }
  assert.ok(total > 100, `only ${total} changes`);
  await page.close();
});

t('a file that did not change is refused by name', async () => {
  const admin = await server.login('admin', users.admin);
  const r = await admin('GET', `/assets/${assetId}/diff?from=${fromCommit}&to=${toCommit}&file=nope.TcPOU`);
  assert.equal(r.status, 404);
  const p = await admin('GET', `/assets/${assetId}/diff?from=${fromCommit}&to=${toCommit}&page=x`);
  assert.equal(p.status, 400);
});
