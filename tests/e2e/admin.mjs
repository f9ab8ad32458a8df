// Browser tests of the administrator's, the auditor's and the profile pages:
// a real otcm server with its own PostgreSQL (accounts lock after 3 failed
// logins here, so a lockout is quick to provoke), then chromium
// (playwright-core) as an administrator creating a user and an asset,
// unlocking an account, a user turning on one-time codes and then logging in
// with one, an auditor reading the population and exceptions of a period and
// downloading the CSV, and the audit trail browser with its verification.
// Screenshots go to tests/e2e/artifacts/admin-*.png.  Environment: OTCM_BIN
// (default build/otcm), CHROMIUM (default /usr/bin/chromium).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { password, startServer, launchBrowser, openPage, screenshots, tally, finish } from './harness.mjs';

const users = { admin: password(), eng: password(), audrey: password(), 'carla.ops': password() };
const shot = screenshots('admin-');
const suite = tally();
const t = suite.t;
let server, base, browser;
// a request without a session, or with a bearer token: api(method, path, body, { token })
const api = (...args) => server.api(...args);

// RFC 6238: HMAC-SHA-1 over the 30-second step, dynamic truncation, 6 digits.
function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    assert.ok(v >= 0, `not base32: ${ch}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

function totp(secret, stepOffset = 0) {
  const counter = Math.floor(Date.now() / 1000 / 30) + stepOffset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

async function setup() {
  const admin = await server.login('admin', users.admin);
  for (const [name, role] of [['eng', 'engineer'], ['audrey', 'auditor']]) {
    const r = await admin('POST', '/api/v1/users', { username: name, display_name: `Test ${role}`, role, password: users[name] });
    assert.equal(r.status, 201, r.text);
  }
  // one change in the period, so the population has a row
  let r = await admin('POST', '/api/v1/assets', { path: 'plant1/utilities/line1/plc-water', type: 'plc' });
  assert.equal(r.status, 201, r.text);
  const eng = await server.login('eng', users.eng);
  r = await eng('POST', '/api/v1/changes', {
    type: 'normal', title: 'Raise the <pump> alarm limit', reason: 'nuisance alarms', risk: 'low',
    implementation_plan: 'edit the limit', rollback_plan: 'restore main', affected_assets: [r.json.id],
  });
  assert.equal(r.status, 201, r.text);
  r = await admin('POST', '/api/v1/audit/checkpoint');
  assert.ok(r.status === 201 || r.status === 200, r.text);
}

// A fresh page without a session that records CSP violations and script errors.
async function newPage() {
  const page = await openPage(browser);
  page.on('dialog', (d) => d.accept());   // data-confirm buttons
  return page;
}

async function login(page, username, code) {
  await page.goto(base + '/login');
  await page.fill('#username', username);
  await page.fill('#password', users[username]);
  if (code) await page.fill('#totp_code', code);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

async function navLinks(page) {
  return (await page.locator('header nav a').allTextContents()).map((s) => s.trim());
}

before(async () => {
  server = await startServer({ adminPassword: users.admin, prefix: 'otcm-e2e-admin-',
    args: ['--login-throttle-after', '3', '--login-lock-after', '3'] });
  base = server.base;
  await setup();
  browser = await launchBrowser({ acceptDownloads: true });
});

after(() => finish({ browser, server, tally: suite }));

t('the top bar shows each role its own pages', async () => {
  const page = await newPage();
  await login(page, 'admin');
  assert.deepEqual(await navLinks(page), ['My work', 'Assets', 'Changes', 'Advisories', 'Plant', 'Incidents', 'Reports', 'Samples', 'Audit trail', 'Users', 'Manage assets', 'Webhooks', 'Directory']);
  await browser.clearCookies();
  await login(page, 'audrey');
  assert.deepEqual(await navLinks(page), ['My work', 'Assets', 'Changes', 'Advisories', 'Plant', 'Incidents', 'Reports', 'Samples', 'Audit trail']);
  await browser.clearCookies();
  await login(page, 'eng');
  assert.deepEqual(await navLinks(page), ['My work', 'Assets', 'Changes', 'Advisories', 'Plant', 'Incidents']);
  // pages of other roles are refused
  const res = await page.goto(base + '/admin/users');
  assert.equal(res.status(), 403);
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('an administrator creates a user, changes their role, and registers and edits an asset', async () => {
  const page = await newPage();
  await login(page, 'admin');
  await page.click('nav >> text=Users');
  assert.equal(new URL(page.url()).pathname, '/admin/users');
  // a refused form keeps what was typed and says why
  await page.fill('#username', 'carla.ops');
  await page.fill('#display_name', 'Carla <Ops>');
  await page.selectOption('#role', 'engineer');
  await page.fill('#password', 'short');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Create user")')]);
  assert.match(await page.textContent('.notice-error'), /password/i);
  assert.equal(await page.inputValue('#username'), 'carla.ops');
  await page.fill('#password', users['carla.ops']);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Create user")')]);
  assert.match(await page.textContent('.notice-ok'), /User created/);
  const row = page.locator('tr[data-user="carla.ops"]');
  assert.match(await row.textContent(), /Carla <Ops>/);   // markup shown as text
  await row.locator('select[name=role]').selectOption('qa');
  await Promise.all([page.waitForNavigation(), row.locator('button:has-text("Change role")').click()]);
  assert.match(await page.textContent('.notice-ok'), /Role changed/);
  assert.equal(await page.locator('tr[data-user="carla.ops"] select[name=role]').inputValue(), 'qa');
  await shot(page, '01-users');

  await page.click('nav >> text=Manage assets');
  await page.fill('#site', 'plant1');
  await page.fill('#area', 'boilerhouse');
  await page.fill('#line', 'line3');
  await page.fill('#name', 'plc-boiler');
  await page.selectOption('#type', 'plc');
  await page.fill('#vendor', 'Rockwell');
  await page.fill('#model', '1756-L83E');
  await shot(page, '02-asset-form');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Register asset")')]);
  assert.match(new URL(page.url()).pathname, /^\/admin\/assets\/\d+$/);
  assert.match(await page.textContent('.notice-ok'), /Asset registered/);
  assert.equal(await page.textContent('h1'), 'plant1/boilerhouse/line3/plc-boiler');
  await page.fill('#firmware', 'v33.011');
  await page.fill('#model', '');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Save")')]);
  assert.match(await page.textContent('.notice-ok'), /Saved/);
  assert.equal(await page.inputValue('#firmware'), 'v33.011');
  assert.equal(await page.inputValue('#model'), '');
  await shot(page, '03-asset-edit');
  // a bad path is refused on the page, naming the rule
  await page.fill('#path', 'plant1//bad');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Save")')]);
  assert.match(await page.textContent('.notice-error'), /path/);
  assert.equal(await page.inputValue('#path'), 'plant1//bad');
  // the register lists it, and the asset tree has it too
  await page.click('nav >> text=Manage assets');
  assert.match(await page.textContent('#assets'), /plant1\/boilerhouse\/line3\/plc-boiler/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('a locked account is shown locked and the administrator unlocks it', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await api('POST', '/api/v1/session', { username: 'carla.ops', password: 'not-her-password' });
    assert.equal(r.status, i < 2 ? 401 : 423, r.text);
  }
  let r = await api('POST', '/api/v1/session', { username: 'carla.ops', password: users['carla.ops'] });
  assert.equal(r.status, 423);
  const page = await newPage();
  await login(page, 'admin');
  await page.goto(base + '/admin/users');
  const row = page.locator('tr[data-user="carla.ops"]');
  assert.match(await row.textContent(), /locked/);
  await shot(page, '04-user-locked');
  await Promise.all([page.waitForNavigation(), row.locator('button:has-text("Unlock")').click()]);
  assert.match(await page.textContent('.notice-ok'), /unlocked/);
  assert.doesNotMatch(await page.locator('tr[data-user="carla.ops"]').textContent(), /locked/);
  r = await api('POST', '/api/v1/session', { username: 'carla.ops', password: users['carla.ops'] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('a user turns on one-time codes in the profile and must then give one to log in', async () => {
  const page = await newPage();
  await login(page, 'carla.ops');
  await page.click('header .who a');
  assert.equal(new URL(page.url()).pathname, '/profile');
  assert.match(await page.textContent('main'), /qa/);
  // a session alone cannot enrol: the form asks for the password again
  await page.fill('#totp_password', 'not-her-password');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Set up one-time codes")')]);
  assert.match(await page.textContent('.notice-error'), /password/i);
  await page.fill('#totp_password', users['carla.ops']);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Set up one-time codes")')]);
  assert.equal(new URL(page.url()).pathname, '/profile/totp');   // a POST answer: the secret is in no URL
  const secret = (await page.textContent('[data-once=totp-secret]')).trim();
  const uri = (await page.textContent('[data-once=totp-uri]')).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.ok(uri.startsWith('otpauth://totp/otcm:carla.ops?secret=' + secret), uri);
  await shot(page, '05-totp-enrol');
  // a wrong code is refused; the right one turns codes on
  await page.fill('#totp_confirm_password', users['carla.ops']);
  await page.fill('#totp_code', totp(secret) === '000000' ? '111111' : '000000');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Turn on one-time codes")')]);
  assert.match(await page.textContent('.notice-error'), /code/i);
  await page.fill('#totp_confirm_password', users['carla.ops']);
  await page.fill('#totp_code', totp(secret));
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Turn on one-time codes")')]);
  assert.match(await page.textContent('.notice-ok'), /One-time codes are on/);
  assert.match(await page.textContent('#totp'), /on/);
  await shot(page, '06-totp-on');

  // the password alone no longer logs in, the code it asks for does
  await page.click('button:has-text("Log out")');
  await login(page, 'carla.ops');
  assert.match(await page.textContent('.notice-error'), /one-time code/);
  assert.equal(new URL(page.url()).pathname, '/login');
  await shot(page, '07-login-needs-code');
  await login(page, 'carla.ops', totp(secret, 1));   // the next step: the current one was spent
  assert.equal(new URL(page.url()).pathname, '/');
  assert.match(await page.textContent('h1'), /My work/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('API tokens are issued on the profile page, shown once, and revoked there', async () => {
  const page = await newPage();
  await login(page, 'eng');
  await page.goto(base + '/profile');
  await page.fill('#token_name', 'line 3 collector');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Issue token")')]);
  assert.equal(new URL(page.url()).pathname, '/profile/tokens');   // not in the URL
  const token = (await page.textContent('[data-once=token]')).trim();
  assert.match(token, /^otcm_[0-9a-f]{64}$/);
  await shot(page, '08-token-issued');
  let r = await api('GET', '/api/v1/session', null, { token });
  assert.equal(r.status, 200);
  assert.equal(r.json.user.username, 'eng');
  // the profile shows it again without its secret
  await page.goto(base + '/profile');
  assert.doesNotMatch(await page.content(), new RegExp(token));
  const row = page.locator('#tokens tr:has-text("line 3 collector")');
  assert.match(await row.textContent(), /active/);
  await Promise.all([page.waitForNavigation(), row.locator('button:has-text("Revoke")').click()]);
  assert.match(await page.textContent('.notice-ok'), /revoked/);
  assert.match(await page.locator('#tokens tr:has-text("line 3 collector")').textContent(), /revoked/);
  r = await api('GET', '/api/v1/session', null, { token });
  assert.equal(r.status, 401);
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('an auditor reads the population and exceptions of a period and downloads the CSV', async () => {
  const page = await newPage();
  await login(page, 'audrey');
  await page.click('nav >> text=Reports');
  assert.match(await page.textContent('main'), /Choose a period/);
  // the form starts on this month so far
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(await page.inputValue('#to_day'), today);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Show reports")')]);
  assert.match(page.url(), /from=\d{4}-\d\d-01T00%3A00%3A00Z|from=\d{4}-\d\d-01T00:00:00Z/);
  assert.match(await page.textContent('#population'), /Population: 1 change$/);
  assert.match(await page.textContent('main'), /Raise the <pump> alarm limit/);
  assert.match(await page.textContent('#consistency'), /consistent/);
  // a new installation has never passed a restore drill: that is its one exception
  assert.match(await page.textContent('#exceptions'), /Exceptions: 1/);
  assert.match(await page.textContent('main'), /Restore drill overdue/);
  assert.match(await page.textContent('main'), /no restore drill had ever passed/);
  await shot(page, '09-reports');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#population-csv')]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv, /^key,type,state,title,/);
  assert.match(csv, /CHG-\d+,normal,draft,Raise the <pump> alarm limit/);
  // a period that ends before it starts is explained
  await page.fill('#from_day', '2030-02-01');
  await page.fill('#to_day', '2030-01-01');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Show reports")')]);
  assert.match(await page.textContent('.notice-error'), /before the first/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('the audit browser verifies the trail, shows the checkpoint and filters by object', async () => {
  const page = await newPage();
  await login(page, 'audrey');
  await page.click('nav >> text=Audit trail');
  assert.match(await page.textContent('#verification'), /verified/);
  assert.doesNotMatch(await page.textContent('#verification'), /does not verify/);
  assert.match(await page.textContent('#checkpoint'), /events 1 to \d+/);
  const rows = await page.locator('#events tbody tr').count();
  assert.ok(rows > 5, `${rows} events`);
  // hashes are shown short, with the full value in the title
  const hash = page.locator('#events tbody tr >> nth=0 >> td >> nth=-1 >> code');
  assert.match(await hash.textContent(), /^[0-9a-f]{12}$/);
  assert.match(await hash.getAttribute('title'), /^[0-9a-f]{64}$/);
  await shot(page, '10-audit');
  await page.fill('#object_type', 'user');
  await page.fill('#object_id', 'carla.ops');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Filter")')]);
  const objects = await page.locator('#events tbody tr td:nth-child(5)').allTextContents();
  assert.ok(objects.length >= 5, objects.join('\n'));
  for (const o of objects) assert.equal(o.trim(), 'user carla.ops');
  const actions = (await page.locator('#events tbody tr td:nth-child(4)').allTextContents()).join(' ');
  assert.match(actions, /user\.create/);
  assert.match(actions, /session\.login\.locked/);
  assert.match(actions, /totp\.enable/);
  await shot(page, '11-audit-filtered');
  // an event in the checkpoint links its inclusion proof
  await page.goto(base + '/audit?after=0');
  const proof = await page.getAttribute('#events tbody tr >> nth=0 >> a:has-text("proof")', 'href');
  assert.equal(proof, '/api/v1/audit/events/1/inclusion');
  const res = await page.request.get(base + proof);
  assert.equal(res.status(), 200);
  assert.equal((await res.json()).seq, 1);
  assert.deepEqual(page.problems, []);
  await page.close();
});
