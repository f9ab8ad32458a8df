// Browser tests of the web pages: a real otcm server with its own PostgreSQL,
// data created through the API, then chromium (playwright-core) clicking
// through the pages as an engineer.  Screenshots of every page visited go to
// tests/e2e/artifacts/.  Environment: OTCM_BIN (default build/otcm),
// OTCM_CORPUS (default ../shared/corpus beside the repository), CHROMIUM
// (default /usr/bin/chromium).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { L5X, requireCorpus, password, startServer, launchBrowser, openPage, screenshots, tally, finish } from './harness.mjs';

const V1 = join(L5X, 'Simple@0eff1eed.L5X');
const V2 = join(L5X, 'Simple@a8de9ecb.L5X');

const users = { admin: password(), eng: password(), appr: password() };
const shot = screenshots();
const suite = tally();
const t = suite.t;
let server, base, browser, assetId, changeKey, v1Commit, v2Commit;

function versionForm(file, name, message, branch) {
  const f = new FormData();
  f.append('message', message);
  if (branch) f.append('branch', branch);
  f.append('file', new Blob([readFileSync(file)]), name);
  return f;
}

async function setup() {
  const admin = await server.login('admin', users.admin);
  for (const [name, role] of [['eng', 'engineer'], ['appr', 'approver']]) {
    const r = await admin('POST', '/api/v1/users', { username: name, display_name: `Test ${role}`, role, password: users[name] });
    assert.equal(r.status, 201, r.text);
  }
  let r = await admin('POST', '/api/v1/assets', { path: 'plant1/boilerhouse/line3/plc-main', type: 'plc', vendor: 'Rockwell', model: '1756-L83E' });
  assert.equal(r.status, 201, r.text);
  assetId = r.json.id;
  r = await admin('POST', '/api/v1/assets', { path: 'plant1/boilerhouse/line3/hmi-1', type: 'hmi' });
  assert.equal(r.status, 201, r.text);
  r = await admin('POST', '/api/v1/assets', { path: 'plant2/packing/<b>odd</b>', type: 'plc' });
  // a path with markup is refused by the API's path rule; either way nothing unescaped may reach a page
  // two real successive exports of one Studio 5000 project: the first is the
  // baseline on main, the next goes to a work branch (main moves only by release)
  r = await admin('POST', `/api/v1/assets/${assetId}/versions`, versionForm(V1, 'Simple.L5X', 'baseline from site <script>alert(1)</script>'));
  assert.equal(r.status, 201, r.text);
  v1Commit = r.json.commit;
  r = await admin('POST', `/api/v1/assets/${assetId}/versions`, versionForm(V2, 'Simple.L5X', 'tags added', 'work/site'));
  assert.equal(r.status, 201, r.text);
  v2Commit = r.json.commit;
  const eng = await server.login('eng', users.eng);
  r = await eng('POST', '/api/v1/changes', {
    type: 'normal', title: 'Add counter tags & <alarm> limits', reason: 'operators asked for shift counters',
    risk: 'medium', safety_related: false, implementation_plan: 'add tags Tag_0..Tag_n', rollback_plan: 'redeploy main',
    affected_assets: [assetId],
  });
  assert.equal(r.status, 201, r.text);
  changeKey = r.json.key;
  r = await eng('POST', `/api/v1/changes/${changeKey}/transitions`, { to: 'submitted', reason: 'ready' });
  assert.equal(r.status, 200, r.text);
  const appr = await server.login('appr', users.appr);
  r = await appr('POST', `/api/v1/changes/${changeKey}/signatures`, { meaning: 'authorised', password: users.appr });
  assert.equal(r.status, 201, r.text);
}

// A fresh page with no session that records CSP violations and script
// errors (a test fails on any).  withScript: false blocks otcm.js, the only
// script, so the page runs as it would without JavaScript.
async function newPage({ withScript = true } = {}) {
  const page = await openPage(browser);
  if (!withScript) await page.route('**/static/otcm.js*', (route) => route.abort());
  return page;
}

async function login(page, username) {
  await page.goto(base + '/');
  assert.match(page.url(), /\/login\?next=%2F$/);
  await page.fill('#username', username);
  await page.fill('#password', users[username]);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

before(async () => {
  requireCorpus(V1, V2);
  server = await startServer({ adminPassword: users.admin });
  base = server.base;
  await setup();
  // one persistent context on a fresh profile folder; each test starts without cookies
  browser = await launchBrowser();
});

after(() => finish({ browser, server, tally: suite }));

t('a wrong password is shown on the login form, the right one logs in', async () => {
  const page = await newPage();
  await page.goto(base + '/login');
  await page.fill('#username', 'eng');
  await page.fill('#password', 'not-the-password');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.match(await page.textContent('.notice-error'), /wrong username or password/);
  assert.equal(await page.inputValue('#username'), 'eng');
  await shot(page, '01-login-refused');
  await page.fill('#password', users.eng);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.equal(new URL(page.url()).pathname, '/');
  assert.match(await page.textContent('h1'), /My work/);
  assert.match(await page.textContent('main'), new RegExp(changeKey));
  // the title's markup arrives as text
  assert.match(await page.textContent('main'), /Add counter tags & <alarm> limits/);
  await shot(page, '02-home');
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('the asset tree leads to the asset, its timeline and files', async () => {
  const page = await newPage();
  await login(page, 'eng');
  await page.click('nav >> text=Assets');
  assert.match(await page.textContent('#asset-tree'), /boilerhouse/);
  await page.fill('#q', 'hmi');   // the script filters as one types
  assert.equal(await page.isVisible('li[data-path="plant1/boilerhouse/line3/plc-main"]'), false);
  await page.fill('#q', '');
  await shot(page, '03-assets');
  await page.click('a:has-text("plc-main")');
  assert.equal(new URL(page.url()).pathname, `/assets/${assetId}`);
  const timeline = await page.locator('.timeline li').allTextContents();
  assert.equal(timeline.length, 1, timeline.join('\n'));
  assert.match(timeline[0], /baseline from site <script>alert\(1\)<\/script>/);   // shown, not run
  assert.match(await page.textContent('main'), /Simple\.L5X/);
  assert.ok((await page.textContent('main')).includes('work/site'));   // the work branch is listed
  await shot(page, '04-asset');
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('the diff of two real L5X exports shows tags by object, then the raw patch as a download', async () => {
  const page = await newPage();
  await login(page, 'eng');
  await page.goto(`${base}/assets/${assetId}/diff?from=${v1Commit}&to=${v2Commit}`);
  assert.match(await page.textContent('h1'), /What changed/);
  const text = await page.textContent('main');
  assert.match(text, /Simple\.L5X/);
  assert.match(text, /l5x: \d+ changes/);
  assert.match(text, /Tag_0/);
  assert.ok(await page.locator('details.group').count() >= 1);
  await shot(page, '05-diff', false);   // the first screen: long diffs make tall pages
  // a patch this size (250 kB) is a download, not part of the page
  const patchUrl = await page.getAttribute('p.raw a', 'href');
  assert.match(patchUrl, /format=patch$/);
  const patch = await page.request.get(base + patchUrl);
  assert.equal(patch.status(), 200);
  assert.match(await patch.text(), /^diff --git /);
  // the version page links the API's downloads
  await page.goto(`${base}/assets/${assetId}`);
  await page.click('.timeline li >> nth=0 >> code');
  assert.match(await page.textContent('main'), /Files/);
  const zip = await page.getAttribute('a:has-text("zip")', 'href');
  assert.match(zip, new RegExp(`^/api/v1/assets/${assetId}/versions/[0-9a-f]{40}/archive\\?format=zip$`));
  const res = await page.request.get(base + zip);
  assert.equal(res.status(), 200);
  await shot(page, '06-version');
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('the change page shows fields, actions and the audit trail, and an action moves the change', async () => {
  const page = await newPage();
  await login(page, 'eng');
  await page.goto(`${base}/changes/${changeKey}`);
  const main = await page.textContent('main');
  assert.match(main, /authorised/);
  assert.match(main, /operators asked for shift counters/);
  assert.match(main, /change\.transition/);   // audit trail
  // an upload is not possible before implementing: greyed, with the rule's sentence beside it
  assert.equal(await page.isDisabled('button:has-text("Upload a version")'), true);
  assert.ok((await page.textContent('.action:has(button:has-text("Upload a version")) .why')).length > 10);
  await shot(page, '07-change-authorised');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Start implementing")')]);
  assert.match(await page.textContent('.notice-ok'), /moved on/);
  assert.match(await page.textContent('h1'), /implementing/);
  await shot(page, '08-change-implementing');
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('a bad upload is refused with a clear message, with and without the script', async () => {
  // with the script: the API answers, the refusal is shown in place
  const page = await newPage();
  await login(page, 'eng');
  await page.goto(`${base}/changes/${changeKey}`);
  await page.click('a:has-text("upload a version")');
  assert.equal(await page.inputValue('#change'), changeKey);
  await page.setInputFiles('#archive', { name: 'project.zip', mimeType: 'application/zip', buffer: Buffer.from('this is not a zip file') });
  await page.click('button:has-text("Upload")');
  await page.waitForSelector('[data-upload-status].notice-error');
  assert.match(await page.textContent('[data-upload-status]'), /Upload refused \(4\d\d\): .*archive/i);
  await shot(page, '09-upload-refused-js');
  // a good upload under the change goes to its branch and opens the version
  await page.setInputFiles('#archive', []);
  await page.setInputFiles('#files', V2);
  await page.fill('#message', 'counter tags for the change');
  await Promise.all([page.waitForURL(/\/versions\/[0-9a-f]{40}$/), page.click('button:has-text("Upload")')]);
  assert.match(await page.textContent('main'), new RegExp(`changes/${changeKey}`));
  await shot(page, '10-uploaded-version');
  assert.deepEqual(page.problems, []);
  await page.close();

  // without the script: the form posts to the page route, which answers with the page
  const plain = await newPage({ withScript: false });
  await login(plain, 'eng');
  await plain.goto(`${base}/assets/${assetId}/upload`);
  await Promise.all([plain.waitForNavigation(), plain.click('button:has-text("Upload")')]);
  assert.match(await plain.textContent('.notice-error'), /choose one or more files/);
  await plain.setInputFiles('#archive', { name: 'project.zip', mimeType: 'application/zip', buffer: Buffer.from('still not a zip') });
  const [resp] = await Promise.all([plain.waitForNavigation(), plain.click('button:has-text("Upload")')]);
  assert.ok(resp.status() >= 400 && resp.status() < 500, `status ${resp.status()}`);
  assert.match(await plain.textContent('.notice-error'), /archive/i);
  await shot(plain, '11-upload-refused-plain');
  await plain.close();
});

t('errors are HTML pages, pages carry a strict CSP, static files are cached by hash', async () => {
  const page = await newPage();
  await login(page, 'eng');
  const res = await page.goto(`${base}/assets/999999`);
  assert.equal(res.status(), 404);
  assert.match(res.headers()['content-type'], /text\/html/);
  assert.match(await page.textContent('h1'), /404/);
  await shot(page, '12-not-found');
  const home = await page.goto(base + '/');
  const csp = home.headers()['content-security-policy'];
  assert.match(csp, /default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'/);
  const css = await page.getAttribute('link[rel=stylesheet]', 'href');
  assert.match(css, /^\/static\/otcm\.css\?v=[0-9a-f]{16}$/);
  const r = await page.request.get(base + css);
  assert.equal(r.status(), 200);
  assert.match(r.headers()['cache-control'], /immutable/);
  // a form without its CSRF token is refused
  const forged = await page.request.post(`${base}/changes/${changeKey}/actions`, { form: { kind: 'transition', value: 'cancelled' } });
  assert.equal(forged.status(), 403);
  // an API route still answers problem+json
  const api = await page.request.get(`${base}/api/v1/assets/999999`);
  assert.match(api.headers()['content-type'], /application\/problem\+json/);
  // a tablet width keeps the page usable
  await page.setViewportSize({ width: 800, height: 1000 });
  await page.goto(`${base}/changes/${changeKey}`);
  await shot(page, '13-change-tablet');
  assert.deepEqual(page.problems, []);
  await page.close();
});
