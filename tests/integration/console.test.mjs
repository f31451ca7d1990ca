// The web console (issue 12 item 7) in headless Chromium (Debian's chromium
// driven by puppeteer-core): it is served from the binary with a strict
// Content-Security-Policy, signs in with an admin key (a wrong key and a key
// without the admin action are refused with a message), shows servers,
// tools with their pin state, the list caches (cleared from the page), keys,
// the audit trail and a policy explanation; approving a pending tool (in
// force at once) and making a key work from the page.
// Tool descriptions and audit fields that hold HTML are shown as text: no
// script of theirs runs. Screenshots of each page go to a temporary
// directory, or to docs/images/ with MCPGW_SCREENSHOTS=1 (how the checked-in
// ones were made).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import {
  tempDir, freePort, startGateway, writeGatewayFiles, apikeyCreate, apiKeyAuthYaml, bearerClient, ROOT,
  ADMIN_POLICY,
} from './lib.mjs';

const HTML = join(ROOT, 'tests', 'fixtures', 'html-server.mjs');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.MCPGW_SCREENSHOTS ? join(ROOT, 'docs', 'images') : tempDir('console-shots-');
const XSS = '<img src=x onerror="window.__xss=3">';

let gw, browser, page, keys = {}, base;
const pageErrors = [];

before(async () => {
  const dir = tempDir();
  const port = await freePort();
  const body = `tool_pinning: approve\nmetrics: { access: admin }\nservers:\n  html:\n    command: node\n    args: ["${HTML}"]\n    tags: [demo]\n` +
    'virtual_servers:\n  picked:\n    tools: ["html__*"]\n' + apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  keys.admin = apikeyCreate(cfg, 'console-admin', 'admin');
  keys.op = apikeyCreate(cfg, 'operator', 'operator');
  gw = await startGateway(body, { dir, port });
  base = gw.base;
  // an MCP client lists the tools (pinning sees them: pending under approve)
  // and calls one whose name is HTML, which the audit trail then holds
  const c = await bearerClient(gw.url, keys.op);
  await c.listTools();
  await c.callTool({ name: XSS, arguments: {} }).catch(() => {});
  await c.close();
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  page.on('dialog', (d) => d.accept());
});
after(async () => {
  await browser?.close();
  await gw?.stop();
});

const text = (sel) => page.$eval(sel, (e) => e.textContent);
async function shot(name) {
  const p = join(SHOTS, `console-${name}.png`);
  await page.screenshot({ path: p });
  assert.ok(statSync(p).size > 5000, `${p} holds a picture`);
}
async function waitText(sel, re) {
  await page.waitForFunction((s, src) => {
    const e = document.querySelector(s);
    return e && new RegExp(src).test(e.textContent);
  }, { timeout: 15000 }, sel, re.source);
}

test('the console is served from the binary with a strict Content-Security-Policy', async () => {
  const r = await fetch(`${base}/admin/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/, 'no inline script, no other origin');
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await r.text(), /<script type="module" src="console.js">/);
  const js = await fetch(`${base}/admin/console.js`);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const redirect = await fetch(`${base}/admin`, { redirect: 'manual' });
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get('location'), '/admin/');
  assert.equal((await fetch(`${base}/admin/nope.js`)).status, 404);
  assert.equal((await fetch(`${base}/admin/`, { method: 'POST' })).status, 405);
});

test('sign-in: a wrong key and a key without the admin action are refused with a message', async () => {
  await page.goto(`${base}/admin/`);
  await page.waitForSelector('#signin:not([hidden])');
  await shot('signin');
  await page.type('#signin-key', 'mcpgw_nope_nope');
  await page.click('#signin-form button');
  await waitText('#signin-error', /not valid/);
  await page.type('#signin-key', keys.op);
  await page.click('#signin-form button');
  await waitText('#signin-error', /admin action/);
  assert.equal(await page.$eval('#nav', (e) => e.hidden), true);
});

test('overview: servers with their state, sessions and request counts', async () => {
  await page.type('#signin-key', keys.admin);
  await page.click('#signin-form button');
  await waitText('#view', /Overview/);
  await waitText('#view table', /html/);
  await waitText('[data-card="requests"] .n', /^\d+$/);
  assert.match(await text('#view table'), /stdio/);
  await shot('overview');
});

test('tools: HTML in descriptions is shown as text and runs nothing; approving a pending tool', async () => {
  await page.goto(`${base}/admin/#/tools`);
  await waitText('#view table', /img_tool/);
  const cells = await page.$$eval('#view td.wrap', (tds) => tds.map((t) => t.textContent));
  assert.ok(cells.some((c) => c.includes('<img src=x onerror="window.__xss=1">')), JSON.stringify(cells));
  assert.ok(cells.some((c) => c.includes('<script>window.__xss=2</script>')), JSON.stringify(cells));
  assert.equal(await page.$('#view img'), null, 'no element made from a description');
  assert.equal(await page.$('#view script'), null);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  // the virtual servers below the tools, with their globs and origin
  assert.equal(await text('[data-vserver="picked"]'), 'picked/servers/picked/mcphtml__*\u2013\u2013config');
  await shot('tools');
  const row = '[data-tool="html__img_tool"]';
  assert.match(await text(row), /pending/);
  await page.click(`${row} button`);
  await waitText(row, /pinned/);
  // the decision is in force once the page shows it (the admin answer
  // waited for the gateway to apply it): the first call succeeds
  const c = await bearerClient(gw.url, keys.op);
  try {
    const r = await c.callTool({ name: 'html__img_tool', arguments: {} });
    assert.equal(r.content[0].text, 'ok', 'the approved tool is callable at once');
  } finally { await c.close(); }
});

test('caches: each server\'s lists with their counts; cleared for one server, then all', async () => {
  const c = await bearerClient(gw.url, keys.op);
  try {
    await c.listTools();
    await page.goto(`${base}/admin/#/caches`);
    const row = '[data-cache="html"]';
    await waitText(row, /^html300\d+[1-9]\d* \/ [1-9]/);
    await shot('caches');
    await page.click(`${row} button`);
    await waitText('[data-cleared]', /^Cleared [1-9]\d* cached lists? of html/);
    assert.match(await text(`${row} [data-kind]`), /^0 \/ 0/, 'the tools list is forgotten');
    await c.listTools();
    await page.click('[data-clear-all]');
    await waitText('[data-cleared]', /^Cleared [1-9]\d* cached lists?: /);
  } finally { await c.close(); }
});

test('keys: made from the page, shown once, and good for /mcp', async () => {
  await page.goto(`${base}/admin/#/keys`);
  await waitText('#view table', /console-admin/);
  await page.type('#view form input[name="name"]', 'from-console');
  await page.type('#view form input[name="roles"]', 'operator');
  await page.click('#view form button');
  await page.waitForSelector('[data-secret]');
  const secret = await text('[data-secret]');
  assert.match(secret, /^mcpgw_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/);
  await waitText('#view table', /from-console/);
  const c = await bearerClient(gw.url, secret);
  assert.ok((await c.listTools()).tools.length >= 1);
  await c.close();
  await shot('keys');
});

test('audit: records with filters; a tool name that is HTML is shown as text', async () => {
  await page.goto(`${base}/admin/#/audit`);
  await waitText('#view', /matching record/);
  await page.type('#view form input[name="event_type"]', 'mcp_request');
  await page.click('#view form button');
  await waitText('#view table', /onerror/);
  const names = await page.$$eval('#view td.mono', (tds) => tds.map((t) => t.textContent));
  assert.ok(names.includes(XSS), JSON.stringify(names));
  assert.equal(await page.$('#view img'), null);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await shot('audit');
});

test('policy: a decision explained', async () => {
  await page.goto(`${base}/admin/#/policy`);
  await page.waitForSelector('#view form');
  await page.type('#view input[name="principal"]', 'apikey:operator');
  await page.type('#view input[name="roles"]', 'operator');
  await page.type('#view input[name="server"]', 'html');
  await page.type('#view input[name="tool"]', 'img_tool');
  await page.click('#view form button');
  await waitText('[data-decision]', /allow/);
  await shot('policy');
  assert.deepEqual(pageErrors.filter((e) => !/401|403|Failed to load resource/.test(e)), [],
    'no script error and no CSP violation on any page');
});

// Access requests (docs/compliance.md): pending requests listed, approved
// from the page (the grant in force for the requester at once), another
// denied; both leave the pending list with their decision.
test('access requests: approved and denied from the page', async () => {
  const file = async (reason) => {
    const r = await fetch(`${base}/api/security/access/request`, { method: 'POST',
      headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'apikey:operator', operation: 'admin', resource: 'mcp:admin:keys', data_classification: 'RESTRICTED', reason }) });
    assert.equal(r.status, 201);
    return (await r.json()).request_id;
  };
  const keysAsOp = () => fetch(`${base}/admin/v1/keys`, { headers: { authorization: `Bearer ${keys.op}` } }).then((r) => r.status);
  const yes = await file('rotate the CI key <b>now</b>');
  const no = await file('just because');
  assert.equal(await keysAsOp(), 403);
  await page.goto(`${base}/admin/#/access`);
  await waitText('#view table', /just because/);
  assert.match(await text(`[data-request="${yes}"]`), /rotate the CI key <b>now<\/b>.*pending/);
  assert.equal(await page.$('#view b'), null, 'a reason is shown as text');
  await shot('access');
  await page.type('#view input[name="hours"]', '2');
  await page.type('#view input[name="reason"]', 'on call');
  await page.click(`[data-request="${yes}"] button`);
  await page.waitForFunction((id) => !document.querySelector(`[data-request="${id}"]`), { timeout: 15000 }, yes);
  await page.click(`[data-request="${no}"] button.danger`);
  await page.waitForFunction((id) => !document.querySelector(`[data-request="${id}"]`), { timeout: 15000 }, no);
  await page.select('#view select[name="status"]', 'all');
  await waitText(`[data-request="${yes}"]`, /approved/);
  await waitText(`[data-request="${no}"]`, /denied/);
  // the requester has the grant: the keys part of the admin API answers it
  let status = 403;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = await keysAsOp();
    if (status !== 200) await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(status, 200);
  assert.deepEqual(pageErrors.filter((e) => !/401|403|Failed to load resource/.test(e)), []);
});
