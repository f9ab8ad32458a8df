// Browser test of the patch management pages: an engineer imports a real
// CISA advisory through the import form, finds it on the asset it concerns,
// and signs an assessment there; a refused form keeps what was typed and
// says which rule refused it.  Screenshots go to tests/e2e/artifacts/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CORPUS, requireCorpus, password, startServer, launchBrowser, openPage, screenshots, tally, finish } from './harness.mjs';

const ADVISORY = join(CORPUS, 'csaf', 'cisagov__CSAF', 'OT', 'white', '2024', 'icsa-24-172-01.json');
const users = { admin: password(), eng: password() };
const shot = screenshots('patch-');
const suite = tally();
const t = suite.t;
let server, base, browser, assetId;

async function login(page, username) {
  await page.goto(base + '/login');
  await page.fill('#username', username);
  await page.fill('#password', users[username]);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

before(async () => {
  requireCorpus(ADVISORY);
  server = await startServer({ adminPassword: users.admin, prefix: 'otcm-e2e-patch-' });
  base = server.base;
  const admin = await server.login('admin', users.admin);
  let r = await admin('POST', '/api/v1/users', { username: 'eng', display_name: 'Erin Engineer', role: 'engineer', password: users.eng });
  assert.equal(r.status, 201, r.text);
  r = await admin('POST', '/api/v1/assets', { path: 'plant1/dcs/centum', type: 'scada', vendor: 'Yokogawa', model: 'CENTUM VP', firmware: 'R5.03.00' });
  assert.equal(r.status, 201, r.text);
  assetId = r.json.id;
  browser = await launchBrowser();
});

after(() => finish({ browser, server, tally: suite }));

t('an engineer imports an advisory, finds it on the asset and signs an assessment', async () => {
  const page = await openPage(browser);
  await login(page, 'eng');
  await page.click('nav >> text=Advisories');
  await page.setInputFiles('#file', ADVISORY);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Import")')]);
  assert.equal(new URL(page.url()).pathname, '/advisories/ICSA-24-172-01');
  assert.match(await page.textContent('main'), /plant1\/dcs\/centum/);
  await shot(page, '01-advisory');

  await page.goto(`${base}/assets/${assetId}`);
  await Promise.all([page.waitForNavigation(), page.click('a:has-text("Advisories that concern this asset")')]);
  assert.match(await page.textContent('main'), /ICSA-24-172-01/);
  assert.match(await page.textContent('main'), /not assessed/);
  assert.match(await page.textContent('main'), /1 exposed/);
  await shot(page, '02-exposure');

  await Promise.all([page.waitForNavigation(), page.click('a:has-text("assessment")')]);
  await page.selectOption('#status', 'affected');
  await page.fill('#impact', 'HIS could be crashed from the control network');
  await page.fill('#password', users.eng);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Sign")')]);
  assert.match(await page.textContent('.notice-error'), /assessment-controls/);
  assert.equal(await page.inputValue('#impact'), 'HIS could be crashed from the control network');
  await page.fill('#controls', 'control network isolated by a data diode');
  await page.fill('#password', users.eng);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Sign")')]);
  assert.match(await page.textContent('main'), /Signed\./);
  assert.match(await page.textContent('main'), /Erin Engineer/);
  assert.match(await page.textContent('main'), /control network isolated by a data diode/);
  await shot(page, '03-assessment');
  assert.deepEqual(page.problems, []);
  await page.close();
});
