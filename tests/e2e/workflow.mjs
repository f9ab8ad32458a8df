// The change process in a real browser, from raising a change to its
// release: an engineer raises and edits a change and uploads two versions
// of a real Studio 5000 export, QA writes FAT and SAT protocols and runs
// them step by step with a photo and a deviation, a witness signs, an
// approver who did not author it approves, the engineer records the
// deployment, QA runs SAT and the approver releases.  On the way: an
// approver who uploaded content is refused (rule and sentence on the
// page), a bad upload is refused with a clear message, and every signature
// shows what was signed and its manifestation.  Users and the asset are
// created through the API; everything else through the pages.
// Screenshots go to tests/e2e/artifacts/ (workflow-*.png).  Environment as
// pages.mjs: OTCM_BIN, OTCM_CORPUS, CHROMIUM.  The asset's baseline on main
// (an earlier export of the same project) is uploaded through the API too.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { L5X, requireCorpus, password, startServer, launchBrowser, openPage, screenshots, tally, finish } from './harness.mjs';

const V1 = join(L5X, 'Simple@0eff1eed.L5X');
const V2 = join(L5X, 'Simple@a8de9ecb.L5X');
const V3 = join(L5X, 'Simple@36d44355.L5X');
// a 1x1 PNG: the photo attached to a test step
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

const users = { admin: password(), eng: password(), lead: password(), qa1: password(), qa2: password(), appr: password() };
const names = { eng: 'Erin Engineer', lead: 'Lee Lead', qa1: 'Quinn Tester', qa2: 'Wanda Witness', appr: 'Avery Approver' };
const shot = screenshots('workflow-');
const suite = tally();
const t = suite.t;
let server, base, browser, admin, assetId, leadId, changeKey, fatRun, satRun;

// A page logged in as `username` that records CSP violations and script errors.
async function as(username) {
  const page = await openPage(browser);
  await page.goto(base + '/login');
  await page.fill('#username', username);
  await page.fill('#password', users[username]);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.equal(new URL(page.url()).pathname, '/', `${username} logged in`);
  return page;
}

async function done(page) {
  assert.deepEqual(page.problems, []);
  await page.close();
}

const click = (page, selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);

async function openChange(page) {
  await page.goto(`${base}/changes/${changeKey}`);
}

// The signing dialog: check what it shows, sign with the password, land on the manifestation.
async function sign(page, username, meaning, shotName) {
  assert.match(await page.textContent('h1'), new RegExp(`Sign .*: ${meaning}`));
  assert.match(await page.textContent('.sign-meaning'), /Meaning of this signature/);
  assert.match(await page.textContent('.sign-meaning'), new RegExp(names[username]));
  const digest = await page.locator('[data-sha256]').count() ? await page.textContent('[data-sha256]') : null;
  if (shotName) await shot(page, shotName);
  await page.fill('#password', users[username]);
  await click(page, 'button:has-text("Sign:")');
  assert.match(page.url(), /\/signatures\/\d+\?new=1$/);
  assert.match(await page.textContent('.notice-ok'), /Signed/);
  assert.equal((await page.textContent('.printed-name')).trim(), names[username]);
  assert.match(await page.textContent('.manifestation'), new RegExp(`meaning\\s*${meaning}`));
  assert.match(await page.textContent('.manifestation'), /date and time\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  const recorded = (await page.textContent('.manifestation [data-sha256]')).trim();
  assert.match(recorded, /^[0-9a-f]{64}$/);
  // what the dialog said would be signed is what was signed
  if (digest) assert.equal(recorded, digest.trim());
  return recorded;
}

before(async () => {
  requireCorpus(V1, V2, V3);
  server = await startServer({ adminPassword: users.admin, prefix: 'otcm-e2e-wf-' });
  base = server.base;
  admin = await server.login('admin', users.admin);
  for (const [name, role] of [['eng', 'engineer'], ['lead', 'engineer'], ['qa1', 'qa'], ['qa2', 'qa'], ['appr', 'approver']]) {
    const r = await admin('POST', '/api/v1/users', { username: name, display_name: names[name], role, password: users[name] });
    assert.equal(r.status, 201, r.text);
    if (name === 'lead') leadId = r.json.id;
  }
  const r = await admin('POST', '/api/v1/assets', { path: 'plant1/boilerhouse/line3/plc-main', type: 'plc', vendor: 'Rockwell', model: '1756-L83E' });
  assert.equal(r.status, 201, r.text);
  assetId = r.json.id;
  // the asset's released baseline on main, as read from the controller before this change
  const baseline = new FormData();
  baseline.append('message', 'baseline read from site');
  baseline.append('file', new Blob([readFileSync(V1)]), 'Simple.L5X');
  const b = await admin('POST', `/api/v1/assets/${assetId}/versions`, baseline);
  assert.equal(b.status, 201, b.text);
  browser = await launchBrowser();
});

after(() => finish({ browser, server, tally: suite }));

t('an engineer raises a change from the form, edits it in draft and submits it', async () => {
  const page = await as('eng');
  await click(page, 'nav >> text=Changes');
  await click(page, 'a:has-text("Raise a change")');
  await page.fill('#title', 'Add shift counter tags & <alarm> limits');
  await page.fill('#reason', 'operators asked for shift counters');
  await page.selectOption('#type', 'normal');
  await page.selectOption('#risk', 'medium');
  await page.check('#safety_related');
  await page.check('input[data-asset-path="plant1/boilerhouse/line3/plc-main"]');
  // a refusal keeps what was typed: a window that ends before it starts
  await page.fill('#window_start', '2030-05-01T10:00');
  await page.fill('#window_end', '2030-05-01T06:00');
  await click(page, 'button:has-text("Raise the change")');
  assert.match(await page.textContent('.notice-error'), /window/);
  assert.equal(await page.inputValue('#reason'), 'operators asked for shift counters');
  assert.equal(await page.isChecked('input[data-asset-path="plant1/boilerhouse/line3/plc-main"]'), true);
  await shot(page, '01-raise-refused');
  await page.fill('#implementation_plan', '1. download to the PLC in program mode\n2. check the counters');
  await page.fill('#rollback_plan', 'download the released baseline from main');
  await page.fill('#window_start', '2030-05-01T06:00');
  await page.fill('#window_end', '2030-05-01T10:00');
  await shot(page, '01-raise');
  await click(page, 'button:has-text("Raise the change")');
  assert.match(page.url(), /\/changes\/CHG-\d+\?done=created$/);
  changeKey = page.url().match(/CHG-\d+/)[0];
  assert.match(await page.textContent('h1'), /draft/);
  assert.match(await page.textContent('main'), /Add shift counter tags & <alarm> limits/);
  assert.match(await page.textContent('main'), /safety-related/);
  assert.match(await page.textContent('main'), /2030-05-01 06:00:00/);
  // edit freely while in draft
  await click(page, 'a:has-text("Edit the change")');
  assert.equal(await page.isVisible('#edit_reason'), false);
  await page.fill('#title', 'Add shift counter tags and alarm limits');
  await click(page, 'button:has-text("Save")');
  assert.match(await page.textContent('.notice-ok'), /Saved/);
  assert.match(await page.textContent('h1'), /Add shift counter tags and alarm limits/);
  await click(page, 'button:has-text("Submit for authorisation")');
  assert.match(await page.textContent('h1'), /submitted/);
  await shot(page, '02-submitted');
  await done(page);
});

t('an approver authorises it through the signing dialog and sees the manifestation', async () => {
  const page = await as('appr');
  await openChange(page);
  await click(page, 'a:has-text("Authorise (sign)")');
  // the dialog shows the change's fields and its assets
  assert.match(await page.textContent('main'), /Add shift counter tags and alarm limits/);
  assert.match(await page.textContent('main'), /plant1\/boilerhouse\/line3\/plc-main/);
  // a wrong password is refused on the dialog
  await page.fill('#password', 'not-my-password');
  await click(page, 'button:has-text("Sign:")');
  assert.match(await page.textContent('.notice-error'), /wrong password/);
  await sign(page, 'appr', 'authorised', '03-sign-authorise');
  await shot(page, '04-manifestation-authorised');
  await click(page, 'a:has-text("Back to the change")');
  assert.match(await page.textContent('h1'), /authorised/);
  await done(page);
});

t('after draft an edit needs a reason and lands in the audit trail', async () => {
  const page = await as('eng');
  await openChange(page);
  await click(page, 'a:has-text("Edit the change")');
  assert.match(await page.textContent('.notice-info'), /needs a reason/);
  assert.equal(await page.isDisabled('input[data-asset-path="plant1/boilerhouse/line3/plc-main"]'), true);
  await page.fill('#rollback_plan', 'download the released baseline from main; restore the recipe values');
  await page.fill('#edit_reason', 'QA asked for the recipe values in the rollback');
  await click(page, 'button:has-text("Save")');
  assert.match(await page.textContent('.notice-ok'), /Saved/);
  assert.match(await page.textContent('main'), /restore the recipe values/);
  assert.match(await page.textContent('main'), /QA asked for the recipe values in the rollback/);
  await click(page, 'button:has-text("Start implementing")');
  assert.match(await page.textContent('h1'), /implementing/);
  await done(page);
});

async function uploadFromChange(page, file, name, message) {
  await openChange(page);
  await click(page, 'a:has-text("upload a version")');
  assert.equal(await page.inputValue('#change'), changeKey);
  await page.setInputFiles('#files', file.buffer ? file : { name, mimeType: 'application/xml', buffer: file });
  await page.fill('#message', message);
  await Promise.all([page.waitForURL(/\/versions\/[0-9a-f]{40}$/), page.click('button:has-text("Upload")')]);
  assert.match(await page.textContent('main'), new RegExp(`changes/${changeKey}`));
}

t('the engineer uploads two versions of a real L5X under the change; a bad upload is refused clearly', async () => {
  const page = await as('eng');
  await openChange(page);
  await click(page, 'a:has-text("upload a version")');
  // a bad archive: the refusal says what is wrong
  await page.fill('#message', 'whole project as exported');
  await page.setInputFiles('#archive', { name: 'project.zip', mimeType: 'application/zip', buffer: Buffer.from('this is not a zip file') });
  await page.click('button:has-text("Upload")');
  await page.waitForSelector('[data-upload-status].notice-error');
  assert.match(await page.textContent('[data-upload-status]'), /Upload refused \(4\d\d\): .*archive/i);
  await shot(page, '05-bad-upload');
  await page.setInputFiles('#archive', []);
  await page.setInputFiles('#files', { name: 'Simple.L5X', mimeType: 'application/xml', buffer: readFileSync(V2) });
  await page.fill('#message', 'first cut: counters');
  await Promise.all([page.waitForURL(/\/versions\/[0-9a-f]{40}$/), page.click('button:has-text("Upload")')]);
  await done(page);

  // a lead engineer adds commissioning notes: content of the change (and later he approves: refused)
  const lead = await as('lead');
  await uploadFromChange(lead, { name: 'commissioning-notes.txt', mimeType: 'text/plain', buffer: Buffer.from('counters reset at 06:00\n') }, null, 'commissioning notes');
  await done(lead);

  const again = await as('eng');
  await openChange(again);
  await click(again, 'a:has-text("upload a version")');
  await again.setInputFiles('#files', { name: 'Simple.L5X', mimeType: 'application/xml', buffer: readFileSync(V3) });
  await again.fill('#message', 'second cut: tags added');
  await Promise.all([again.waitForURL(/\/versions\/[0-9a-f]{40}$/), again.click('button:has-text("Upload")')]);
  await openChange(again);
  await click(again, 'a:has-text("diff to baseline")');
  assert.match(await again.textContent('main'), /Simple\.L5X/);
  await openChange(again);
  await click(again, 'button:has-text("Ready for FAT")');
  assert.match(await again.textContent('h1'), /fat/);
  await shot(again, '06-in-fat');
  await done(again);
});

async function newProtocol(page, { name, kind, title, witness, steps }) {
  await page.goto(base + '/protocols');
  await click(page, 'a:has-text("New protocol")');
  await page.fill('#name', name);
  await page.selectOption('#kind', kind);
  await page.fill('#title', title);
  if (witness) await page.check('#witness_required');
  const rows = await page.locator('ol.steps-form > li').count();
  for (let i = rows; i < steps.length; i++) await page.click('button:has-text("Add a step")');
  for (const [i, [ins, exp]] of steps.entries()) {
    await page.fill(`#instruction_${i + 1}`, ins);
    await page.fill(`#expected_${i + 1}`, exp);
  }
  return rows;
}

t('QA writes a FAT and a SAT protocol', async () => {
  const page = await as('qa1');
  const steps = [];
  for (let i = 1; i <= 9; i++) steps.push([`check counter ${i} counts on the input edge`, `counter ${i} increments by one`]);
  const rows = await newProtocol(page, { name: 'boiler-counters-fat', kind: 'fat', title: 'Shift counters, factory test', witness: true, steps });
  assert.ok(rows < 9, 'the "Add a step" button added rows');
  await shot(page, '07-protocol-form');
  await click(page, 'button:has-text("Save the protocol")');
  assert.match(page.url(), /\/protocols\/\d+\?done=saved$/);
  assert.match(await page.textContent('main'), /counter 9 increments by one/);
  await shot(page, '08-protocol');
  await newProtocol(page, { name: 'boiler-counters-sat', kind: 'sat', title: 'Shift counters on site', witness: false,
    steps: [['reset the counters at shift change', 'all counters read 0'], ['run one shift', 'counters match the MES totals']] });
  await click(page, 'button:has-text("Save the protocol")');
  await page.goto(base + '/protocols');
  assert.equal(await page.locator('tbody tr').count(), 2);
  await done(page);
});

async function pickProtocol(page, name) {
  const value = await page.getAttribute(`#protocol_id option:has-text("${name}")`, 'value');
  await page.selectOption('#protocol_id', value);
}

async function recordStep(page, no, result, observed, extra = {}) {
  const form = page.locator(`#step-${no} form.step-form`);
  await form.locator(`input[value="${result}"]`).check();
  await form.locator('input[name=observed]').fill(observed);
  if (extra.comment) await form.locator('input[name=comment]').fill(extra.comment);
  if (extra.deviation) {
    await form.locator('details.deviation summary').click();
    await form.locator('input[name=deviation]').fill(extra.deviation);
    await form.locator('select[name=disposition]').selectOption(extra.disposition);
  }
  await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
  assert.match(await page.textContent('.notice-ok'), /Step recorded/);
}

t('QA runs FAT step by step with a photo and a deviation, signs as tester; a second QA witnesses', async () => {
  const page = await as('qa1');
  await openChange(page);
  await click(page, 'a:has-text("Start a FAT run")');
  await pickProtocol(page, 'boiler-counters-fat v1');
  await click(page, 'button:has-text("Start the run")');
  assert.match(page.url(), /\/test-runs\/\d+$/);
  fatRun = page.url().match(/test-runs\/(\d+)/)[1];
  // signing before every step has a result: greyed with the rule
  assert.equal(await page.isDisabled('button:has-text("Sign as tester")'), true);
  assert.match(await page.textContent('.actions'), /steps-incomplete/);
  await recordStep(page, 1, 'pass', 'counter 1 = 1', { comment: 'photo of the HMI attached' });
  // attach a photo to step 1
  await page.locator('#step-1 input[type=file]').setInputFiles({ name: 'hmi-counter.png', mimeType: 'image/png', buffer: PNG });
  await Promise.all([page.waitForNavigation(), page.locator('#step-1 form.attach-form button').click()]);
  assert.match(await page.textContent('.notice-ok'), /Attachment stored/);
  assert.match(await page.textContent('#step-1'), /hmi-counter\.png/);
  // a log that is not a photo or text is refused with the reason
  await page.locator('#step-2 input[type=file]').setInputFiles({ name: 'dump.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([0, 1, 2, 3, 0, 255]) });
  await Promise.all([page.waitForNavigation(), page.locator('#step-2 form.attach-form button').click()]);
  assert.match(await page.textContent('.notice-error'), /Attachment to step 2 refused/);
  await recordStep(page, 2, 'fail', 'counter 2 counted twice on one edge',
    { deviation: 'input 2 bounces: debounce added in the I/O card config', disposition: 'accepted' });
  for (let no = 3; no <= 9; no++) await recordStep(page, no, no === 9 ? 'n/a' : 'pass', no === 9 ? 'input 9 not wired at the factory' : `counter ${no} = 1`);
  await shot(page, '09-fat-run');
  await click(page, 'a:has-text("Sign as tester")');
  await sign(page, 'qa1', 'tested', '10-sign-tested');
  await page.goto(`${base}/test-runs/${fatRun}`);
  assert.match(await page.textContent('h1'), /completed/);
  assert.match(await page.textContent('h1'), /verdict pass/);
  // the tester cannot witness his own run
  assert.equal(await page.isDisabled('button:has-text("Sign as witness")'), true);
  assert.match(await page.textContent('.actions'), /segregation-of-duties/);
  await done(page);

  const witness = await as('qa2');
  await witness.goto(`${base}/test-runs/${fatRun}`);
  await click(witness, 'a:has-text("Sign as witness")');
  await sign(witness, 'qa2', 'witnessed');
  await witness.goto(`${base}/test-runs/${fatRun}`);
  assert.match(await witness.textContent('main'), /witnessed/);
  await shot(witness, '11-fat-run-witnessed');
  await done(witness);
});

t('an approver who uploaded content to the change is refused, with the rule and its sentence', async () => {
  // the lead engineer is promoted to approver (user administration, through the API)
  const r = await admin('PATCH', `/api/v1/users/${leadId}`, { role: 'approver' });
  assert.equal(r.status, 200, r.text);
  const page = await as('lead');
  await openChange(page);
  const action = page.locator('.action:has(button:has-text("Approve for deployment (sign)"))');
  assert.equal(await action.locator('button').isDisabled(), true);
  assert.match(await action.textContent(), /segregation-of-duties/);
  assert.match(await action.textContent(), /uploaded|content|approve/i);
  await shot(page, '12-approve-refused');
  // the dialog itself says so and offers no form
  await page.goto(`${base}/changes/${changeKey}/sign?meaning=approved`);
  assert.match(await page.textContent('.refusal'), /You cannot sign this now: .*segregation-of-duties/s);
  assert.equal(await page.locator('#password').count(), 0);
  await shot(page, '13-approve-refused-dialog');
  // a forged post is refused by the server all the same, on the dialog
  const csrf = await page.getAttribute('meta[name="otcm-csrf"]', 'content');
  const res = await page.request.post(`${base}/changes/${changeKey}/actions`, {
    form: { csrf_token: csrf, kind: 'sign', value: 'approved', password: users.lead },
    headers: { Accept: 'text/html' },
  });
  assert.equal(res.status(), 409);
  assert.match(await res.text(), /segregation-of-duties/);
  await done(page);
});

t('an approver who did not author it approves what was tested', async () => {
  const page = await as('appr');
  await openChange(page);
  await click(page, 'a:has-text("Approve for deployment (sign)")');
  // the dialog names the commit and tree under approval
  const tree = await page.locator('table tbody tr td.mono').nth(1).textContent();
  assert.match(tree, /^[0-9a-f]{40}$/);
  await sign(page, 'appr', 'approved', '14-sign-approve');
  assert.match(await page.textContent('main'), new RegExp(tree));
  await shot(page, '15-manifestation-approved');
  await openChange(page);
  assert.match(await page.textContent('h1'), /approved/);
  await done(page);
});

t('the engineer records the deployment and marks the change deployed', async () => {
  const page = await as('eng');
  await openChange(page);
  await click(page, 'a:has-text("Record a deployment")');
  // a read-back that is not a SHA-256 is refused with the reason
  await page.fill('#readback_sha256', 'z'.repeat(64));
  await page.evaluate(() => document.querySelector('#readback_sha256').removeAttribute('pattern'));
  await click(page, 'button:has-text("Record the deployment")');
  assert.match(await page.textContent('.notice-error'), /readback|SHA-256|hex/i);
  await page.fill('#readback_sha256', '');
  await page.fill('#note', 'downloaded with Studio 5000 v33 over the plant network');
  await shot(page, '16-deploy');
  await click(page, 'button:has-text("Record the deployment")');
  assert.match(await page.textContent('.notice-ok'), /Deployment recorded/);
  await click(page, 'button:has-text("Mark deployed")');
  assert.match(await page.textContent('h1'), /deployed/);
  await click(page, 'button:has-text("Start SAT")');
  assert.match(await page.textContent('h1'), /sat/);
  await done(page);
});

t('QA runs SAT and the approver releases the change', async () => {
  const page = await as('qa1');
  await openChange(page);
  await click(page, 'a:has-text("Start a SAT run")');
  await pickProtocol(page, 'boiler-counters-sat v1');
  await click(page, 'button:has-text("Start the run")');
  satRun = page.url().match(/test-runs\/(\d+)/)[1];
  await recordStep(page, 1, 'pass', 'all 0 at 06:00');
  await recordStep(page, 2, 'pass', 'counters match MES within 0');
  await click(page, 'a:has-text("Sign as tester")');
  await sign(page, 'qa1', 'tested');
  await done(page);

  const appr = await as('appr');
  await openChange(appr);
  await shot(appr, '17-ready-to-release');
  await click(appr, 'a:has-text("Release (sign)")');
  await sign(appr, 'appr', 'released', '18-sign-release');
  await openChange(appr);
  assert.match(await appr.textContent('h1'), /released/);
  // the evidence bundle is linked from the change
  const href = await appr.getAttribute('a:has-text("Download the evidence bundle")', 'href');
  assert.equal(href, `/api/v1/changes/${changeKey}/evidence`);
  const res = await appr.request.get(base + href);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /application\/x-tar/);
  await shot(appr, '19-released');
  await done(appr);
});

t('stale runs and approvals are marked when a newer version arrives', async () => {
  // a second change on the same asset: FAT passes, then a new upload makes it stale
  const page = await as('eng');
  await page.goto(base + '/changes/new');
  await page.fill('#title', 'Tune alarm limits');
  await page.fill('#reason', 'nuisance alarms');
  await page.check('input[data-asset-path="plant1/boilerhouse/line3/plc-main"]');
  await page.fill('#implementation_plan', 'change limits');
  await page.fill('#rollback_plan', 'redeploy main');
  await click(page, 'button:has-text("Raise the change")');
  const key = page.url().match(/CHG-\d+/)[0];
  await click(page, 'button:has-text("Submit for authorisation")');
  await done(page);
  const appr = await as('appr');
  await appr.goto(`${base}/changes/${key}`);
  await click(appr, 'a:has-text("Authorise (sign)")');
  await sign(appr, 'appr', 'authorised');
  await done(appr);
  const eng = await as('eng');
  await eng.goto(`${base}/changes/${key}`);
  await click(eng, 'button:has-text("Start implementing")');
  await click(eng, 'a:has-text("upload a version")');
  await eng.setInputFiles('#files', { name: 'limits.csv', mimeType: 'text/csv', buffer: Buffer.from('tag,limit\nT1,80\n') });
  await eng.fill('#message', 'limits from the alarm review');
  await Promise.all([eng.waitForURL(/\/versions\//), eng.click('button:has-text("Upload")')]);
  await eng.goto(`${base}/changes/${key}`);
  await click(eng, 'button:has-text("Ready for FAT")');
  await done(eng);
  const qa = await as('qa1');
  await qa.goto(`${base}/changes/${key}`);
  await click(qa, 'a:has-text("Start a FAT run")');
  await pickProtocol(qa, 'boiler-counters-fat v1');
  await click(qa, 'button:has-text("Start the run")');
  const run = qa.url();
  await done(qa);
  const eng2 = await as('eng');
  await eng2.goto(`${base}/assets/${assetId}/upload?change=${key}`);
  await eng2.setInputFiles('#files', { name: 'limits.csv', mimeType: 'text/csv', buffer: Buffer.from('tag,limit\nT1,85\n') });
  await eng2.fill('#message', 'T1 limit raised after the FAT started');
  await Promise.all([eng2.waitForURL(/\/versions\//), eng2.click('button:has-text("Upload")')]);
  await eng2.goto(`${base}/changes/${key}`);
  assert.match(await eng2.textContent('#affected ~ .table-wrap'), /stale/);
  assert.match(await eng2.textContent('main'), /no longer count/);
  await shot(eng2, '20-stale');
  await eng2.goto(run);
  assert.match(await eng2.textContent('.notice-error'), /no longer counts/);
  await done(eng2);
});
