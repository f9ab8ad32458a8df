// The evidence report on paper: a change on a real Studio 5000 export is
// driven to release through the API, its evidence bundle downloaded, and
// the bundle's report.html printed by chromium to A4 and Letter PDFs.  With print
// media emulated at the printable width of A4 (210 mm less the 12 mm
// margins on each side), no element's right edge passes the page: long
// hashes and file paths wrap, no column runs off.  The report opens with
// the control checklist, shows what changed in the engineer's terms with
// links to the full diffs, and labels fields for people.  Environment as
// pages.mjs: OTCM_BIN, OTCM_CORPUS, CHROMIUM.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { L5X, requireCorpus, password, startServer, launchBrowser, openPage, screenshots, tally, finish } from './harness.mjs';

const V1 = join(L5X, 'Simple@0eff1eed.L5X');
const V2 = join(L5X, 'Simple@a8de9ecb.L5X');
// A4 less 12 mm margins each side (the report's @page rule), in CSS pixels at 96 per inch
const PRINTABLE_PX = Math.floor(((210 - 2 * 12) / 25.4) * 96);

const users = { admin: password(), eng: password(), qa1: password(), qa2: password(), appr: password(), aud: password() };
const shot = screenshots('evidence-');
const suite = tally();
const t = suite.t;
let server, browser, report, key;
const as = {};
const cookies = {};

/** The files of a tar (ustar and pax, as the bundle writes it): { name: Buffer }. */
function untar(buf) {
  const files = {};
  let pos = 0, longName = null;
  while (pos + 512 <= buf.length) {
    const h = buf.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) break;
    const field = (o, n) => h.subarray(o, o + n).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const data = buf.subarray(pos + 512, pos + 512 + size);
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      longName = m ? m[1] : null;
    } else if (type === '0' || type === '') {
      files[longName || (prefix ? prefix + '/' : '') + field(0, 100)] = Buffer.from(data);
      longName = null;
    }
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

before(async () => {
  requireCorpus(V1, V2);
  server = await startServer({ adminPassword: users.admin, prefix: 'otcm-e2e-ev-' });
  as.admin = await server.login('admin', users.admin);
  for (const [name, role] of [['eng', 'engineer'], ['qa1', 'qa'], ['qa2', 'qa'], ['appr', 'approver'], ['aud', 'auditor']]) {
    const r = await as.admin('POST', '/api/v1/users', { username: name, display_name: name.toUpperCase() + ' Person', role, password: users[name] });
    assert.equal(r.status, 201, r.text);
    as[name] = await server.login(name, users[name]);
  }
  const login = await server.api('POST', '/api/v1/session', { username: 'aud', password: users.aud });
  cookies.aud = login.headers.get('set-cookie').split(';')[0];
  // a path long enough to test wrapping in every table that names the asset
  let r = await as.admin('POST', '/api/v1/assets', { path: 'plant1/boilerhouse/line3/packaging-and-palletising-cell/plc-main-controller', type: 'plc' });
  assert.equal(r.status, 201, r.text);
  const aid = r.json.id;
  const upload = async (who, file, message, change) => {
    const f = new FormData();
    f.append('message', message);
    if (change) f.append('change', change);
    f.append('file', new Blob([readFileSync(file)]), 'Simple.L5X');
    const u = await as[who]('POST', `/api/v1/assets/${aid}/versions`, f);
    assert.equal(u.status, 201, u.text);
    return u.json;
  };
  await upload('admin', V1, 'baseline read from site');
  r = await as.eng('POST', '/api/v1/changes', {
    type: 'normal', title: 'Conveyor interlock', reason: 'nuisance trips on the infeed conveyor', risk: 'medium',
    implementation_plan: 'download in the maintenance window', rollback_plan: 'redeploy the baseline', affected_assets: [aid] });
  assert.equal(r.status, 201, r.text);
  key = r.json.key;
  const move = async (to, who = 'eng') => {
    const m = await as[who]('POST', `/api/v1/changes/${key}/transitions`, { to });
    assert.equal(m.status, 200, m.text);
  };
  const sign = async (meaning, who) => {
    const s = await as[who]('POST', `/api/v1/changes/${key}/signatures`, { meaning, password: users[who] });
    assert.equal(s.status, 201, s.text);
  };
  const run = async (kind) => {
    const p = await as.qa1('POST', '/api/v1/protocols', { name: `${kind}-${key}`, kind, title: kind.toUpperCase(), witness_required: true,
      steps: [{ instruction: 'start the conveyor', expected: 'conveyor runs' }] });
    assert.equal(p.status, 201, p.text);
    const x = await as.qa1('POST', `/api/v1/changes/${key}/test-runs`, { protocol_id: p.json.id, asset_id: aid });
    assert.equal(x.status, 201, x.text);
    const s = await as.qa1('PUT', `/api/v1/test-runs/${x.json.id}/steps/1`, { result: 'pass', observed: 'runs' });
    assert.equal(s.status, 200, s.text);
    for (const [who, meaning] of [['qa1', 'tested'], ['qa2', 'witnessed']]) {
      const g = await as[who]('POST', `/api/v1/test-runs/${x.json.id}/signatures`, { meaning, password: users[who] });
      assert.equal(g.status, 201, g.text);
    }
  };
  await move('submitted');
  await sign('authorised', 'appr');
  await move('implementing');
  const v = await upload('eng', V2, 'interlock', key);
  await move('fat');
  await run('fat');
  await sign('approved', 'appr');
  r = await as.eng('POST', `/api/v1/changes/${key}/deployments`, { asset_id: aid, commit: v.commit });
  assert.equal(r.status, 201, r.text);
  await move('deployed');
  await move('sat', 'qa1');
  await run('sat');
  r = await as.appr('POST', `/api/v1/changes/${key}/release`, { password: users.appr });
  assert.equal(r.status, 200, r.text);
  const res = await fetch(`${server.base}/api/v1/changes/${key}/evidence`, { headers: { Cookie: cookies.aud } });
  assert.equal(res.status, 200);
  const files = untar(Buffer.from(await res.arrayBuffer()));
  assert.ok(files['report.html'], `report.html in ${Object.keys(files).join(', ')}`);
  report = files['report.html'].toString('utf8');
  browser = await launchBrowser();
});

after(() => finish({ browser, server, tally: suite }));

t('the report opens with the control checklist and shows what changed', async () => {
  const page = await openPage(browser);
  await page.setContent(report);
  const headings = await page.$$eval('h2', (hs) => hs.map((h) => h.textContent));
  assert.equal(headings[0], 'Control checklist');
  assert.ok(headings.includes('What changed'), headings.join(', '));
  const results = await page.$$eval('table.checklist tbody tr td:nth-child(2), table.checklist tr td:nth-child(2)', (ds) => ds.map((d) => d.textContent));
  assert.equal(results.filter((r) => r === 'met').length, 12, results.join(', '));
  assert.equal(results.filter((r) => r === 'not applicable').length, 1);
  // the engineer's terms, as on the diff page, and links to the full diffs in the bundle
  assert.ok(await page.locator('section.otcm-diff table').count() > 0, 'semantic changes are tabled');
  const links = await page.$$eval('a[href^="diffs/"]', (as2) => as2.map((a) => a.getAttribute('href')));
  assert.ok(links.some((l) => l.endsWith('.patch')) && links.some((l) => l.endsWith('.json')), links.join(', '));
  assert.match(await page.textContent('body'), /Safety related/);
  assert.match(await page.textContent('body'), /Implementation plan/);
  await shot(page, 'report');
  assert.deepEqual(page.problems, []);
  await page.close();
});

t('the report prints on A4 and Letter with nothing past the printable width', async () => {
  const page = await openPage(browser);
  await page.setViewportSize({ width: PRINTABLE_PX, height: 1000 });
  await page.setContent(report);
  await page.emulateMedia({ media: 'print' });
  const over = await page.evaluate((width) => {
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > width + 0.5) out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}: ${(el.textContent || '').slice(0, 60)}`);
    }
    return { out, scroll: document.documentElement.scrollWidth };
  }, PRINTABLE_PX);
  assert.deepEqual(over.out.slice(0, 10), [], `elements past ${PRINTABLE_PX}px`);
  assert.ok(over.scroll <= PRINTABLE_PX, `the page scrolls sideways: ${over.scroll} > ${PRINTABLE_PX}`);
  // the paper is the printer's: A4 and Letter (points)
  for (const [format, w, h] of [['A4', 595.28, 841.89], ['Letter', 612, 792]]) {
    const text = (await page.pdf({ format })).toString('latin1');
    assert.ok(text.startsWith('%PDF-'));
    const boxes = [...text.matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)];
    assert.ok(boxes.length >= 2, `the ${format} PDF has pages`);
    for (const b of boxes) {
      assert.ok(Math.abs(Number(b[1]) - w) < 2 && Math.abs(Number(b[2]) - h) < 2, `a ${format} page: ${b[1]} x ${b[2]}`);
    }
  }
  assert.deepEqual(page.problems, []);
  await page.close();
});
