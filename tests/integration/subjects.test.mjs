// Data subjects (issue 13 point 4, docs/compliance.md "Subjects and
// erasure"): with encryption on, a subject's id and the parameters of its
// PERSONAL calls are sealed under a key of its own in the audit trail;
// export opens them, erasure destroys the key (the records stay, the chain
// verifies, what was personal reads [erased]); consent is recorded,
// checked and withdrawn.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN, ADMIN_POLICY, apiKeyAuthYaml, apikeyCreate, bearerClient, freePort, startGateway, tempDir, writeGatewayFiles,
} from './lib.mjs';
import { FLAKY, eventually } from './audit_lib.mjs';
import { openapiChecker } from './admin_lib.mjs';

const MASTER = randomBytes(32).toString('base64');
process.env.SUBJ_MASTER = MASTER; // for lib.mjs's mcpgw() (apikey create reads the config)
const SUBJECT = 'alice-7c1e'; // an API key's name: the subject is apikey:NAME
const ID = `apikey:${SUBJECT}`;
const SECRET = 'ssn-078-05-1120';
const server = (name, cls) => `  ${name}:\n    command: node\n    args: ["${FLAKY}"]\n    classification: ${cls}\n` +
  `    env:\n      FLAKY_STATE: "${tempDir()}"\n`;
const dir = tempDir();
const AUDIT_DB = join(dir, 'audit.db');
let gw;
let cfg;
let root;
let gwBody;
let conforms;
after(async () => { await gw?.stop(); });

function run(args, env = { SUBJ_MASTER: MASTER }) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
async function api(method, path, body) {
  const r = await fetch(`http://127.0.0.1:${gw.port}${path}`, {
    method, headers: { Authorization: `Bearer ${root}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const res = { status: r.status, headers: r.headers, text, json: JSON.parse(text) };
  if (conforms) conforms(method, path, res); // answered as src/admin/openapi.json says
  return { status: r.status, body: res.json };
}
const records = () => {
  const q = run(['audit', 'query', '--format', 'json', '--limit', '1000', '-c', cfg]);
  assert.equal(q.status, 0, q.stderr);
  return q.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
};
const storeFiles = (db) => [db, `${db}-wal`].filter((f) => existsSync(f));

test('a subject\'s id and PERSONAL parameters are sealed in the trail; the CLI export opens them', async () => {
  const port = await freePort();
  const body = `servers:\n${server('crm', 'PERSONAL')}${server('pub', 'PUBLIC')}${apiKeyAuthYaml(port)}` +
    `encryption:\n  master_key: env://SUBJ_MASTER\naudit:\n  sinks:\n    - { type: sqlite, path: audit.db }\n`;
  gwBody = body;
  cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  const alice = apikeyCreate(cfg, SUBJECT, 'operator');
  root = apikeyCreate(cfg, 'root', 'admin');
  gw = await startGateway(body, { dir, port, env: { SUBJ_MASTER: MASTER } });
  gw.port = port;
  const doc = await (await fetch(`http://127.0.0.1:${port}/admin/v1/openapi.json`,
    { headers: { Authorization: `Bearer ${root}` } })).json();
  ({ conforms } = await openapiChecker(doc));
  const c = await bearerClient(gw.url, alice);
  try {
    assert.equal((await c.callTool({ name: 'crm__echo', arguments: { text: SECRET } })).content[0].text, SECRET);
    await c.callTool({ name: 'pub__echo', arguments: { text: 'public-hello' } });
  } finally { await c.close(); }
  const mine = await eventually(() => {
    const rs = records().filter((x) => x.user === ID && x.tool_name);
    return rs.length >= 2 ? rs : null;
  }, 'the subject\'s records');
  assert.deepEqual(mine.find((x) => x.tool_name === 'crm__echo').parameters, { text: SECRET });
  assert.deepEqual(mine.find((x) => x.tool_name === 'pub__echo').parameters, { text: 'public-hello' });
  assert.match(mine[0].pseudonym, /^psn-[0-9a-f]{32}$/);
  for (const f of storeFiles(AUDIT_DB)) {
    const bytes = readFileSync(f);
    assert.ok(!bytes.includes(SUBJECT), `the subject's id in clear in ${f}`);
    assert.ok(!bytes.includes(SECRET), `personal parameters in clear in ${f}`);
  }
  const ex = run(['subjects', 'export', ID, '-c', cfg]);
  assert.equal(ex.status, 0, ex.stderr);
  const e = JSON.parse(ex.stdout);
  assert.equal(e.user_id, ID);
  assert.ok(e.records.some((x) => x.tool_name === 'crm__echo' && x.parameters.text === SECRET), ex.stdout);
  assert.deepEqual(e.api_keys.map((k) => k.name), [SUBJECT]);
});

test('access through the admin API; bad input is a 400 naming the field', async () => {
  const a = await api('POST', '/api/compliance/data-subject/request', { user_id: ID, request_type: 'access', reason: 'dsar' });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.ok(a.body.records.some((x) => x.tool_name === 'crm__echo' && x.parameters.text === SECRET));
  const p = await api('POST', '/api/compliance/data-subject/request', { user_id: ID, request_type: 'portability' });
  assert.equal(p.status, 200);
  assert.equal(p.body.user_id, ID);
  const rect = await api('POST', '/api/compliance/data-subject/request', { user_id: ID, request_type: 'rectification' });
  assert.equal(rect.status, 200);
  assert.match(rect.body.rectification, /immutable/);
  for (const [body, field] of [[{ user_id: ID, request_type: 'forget-me' }, 'request_type'],
    [{ request_type: 'access' }, 'user_id'],
    [{ user_id: ID, request_type: 'access', colour: 'red' }, 'colour']]) {
    const r = await api('POST', '/api/compliance/data-subject/request', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(JSON.stringify(r.body.error), new RegExp(field), JSON.stringify(r.body));
  }
  const big = await api('POST', '/api/compliance/consent/record', {
    user_id: ID, data_type: 'email', purpose: 'newsletter', consent_given: true, metadata: { note: 'x'.repeat(20000) },
  });
  assert.equal(big.status, 400);
  assert.equal(big.body.error.field, 'metadata');
  const unknown = await api('POST', '/api/compliance/data-subject/request', { user_id: 'apikey:nobody', request_type: 'erasure' });
  assert.equal(unknown.status, 404);
});

test('consent: record, check, withdraw; metadata sealed in the store', async () => {
  const rec = await api('POST', '/api/compliance/consent/record', {
    user_id: ID, data_type: 'email', purpose: 'newsletter', consent_given: true, metadata: { source: 'signup-form-93' },
  });
  assert.equal(rec.status, 200, JSON.stringify(rec.body));
  assert.equal(rec.body.consent_given, true);
  const q = `user_id=${encodeURIComponent(ID)}&data_type=email&purpose=newsletter`;
  const chk = await api('GET', `/api/compliance/consent/check?${q}`);
  assert.equal(chk.status, 200);
  assert.equal(chk.body.consent_given, true);
  assert.deepEqual(chk.body.metadata, { source: 'signup-form-93' });
  for (const f of storeFiles(join(dir, 'mcpgw.db'))) assert.ok(!readFileSync(f).includes('signup-form-93'), f);
  const none = await api('GET', `/api/compliance/consent/check?${q.replace('newsletter', 'ads')}`);
  assert.equal(none.status, 200);
  assert.deepEqual([none.body.consent_given, none.body.recorded], [false, false]);
  const w = await api('POST', '/api/compliance/consent/withdraw', { user_id: ID, data_type: 'email', purpose: 'newsletter' });
  assert.equal(w.status, 200);
  assert.equal(w.body.consent_given, false);
  assert.ok(w.body.withdrawn_at);
  const ex = await api('POST', '/api/compliance/data-subject/request', { user_id: ID, request_type: 'access' });
  assert.deepEqual(ex.body.consents.map((x) => [x.purpose, x.consent_given]), [['newsletter', false]]);
});

test('erasure: 200 with a report; the records stay, read [erased], the chain verifies; a second erasure is 404', async () => {
  const er = await api('POST', '/api/compliance/data-subject/request', { user_id: ID, request_type: 'erasure', reason: 'asked' });
  assert.equal(er.status, 200, JSON.stringify(er.body));
  assert.equal(er.body.key_destroyed, true);
  assert.equal(er.body.consents_deleted, 1);
  assert.ok(er.body.audit_records >= 3, JSON.stringify(er.body));
  const psn = er.body.pseudonym;
  assert.match(psn, /^psn-[0-9a-f]{32}$/);
  const all = await eventually(() => {
    const rs = records();
    return rs.some((x) => x.event_type === 'subject_erased') ? rs : null;
  }, 'the subject_erased event');
  const gone = all.filter((x) => x.pseudonym === psn);
  assert.ok(gone.length >= 3);
  for (const x of gone) {
    assert.equal(x.user, '[erased]');
    assert.equal(x.erased, true);
  }
  assert.equal(gone.find((x) => x.tool_name === 'crm__echo').parameters, '[erased]');
  assert.deepEqual(gone.find((x) => x.tool_name === 'pub__echo').parameters, { text: 'public-hello' },
    'a PUBLIC call\'s parameters are not the subject\'s');
  const ev = all.find((x) => x.event_type === 'subject_erased');
  assert.equal(ev.tool_name, psn);
  assert.ok(!JSON.stringify(ev).includes(SUBJECT));
  for (const f of storeFiles(AUDIT_DB)) assert.ok(!readFileSync(f).includes(SUBJECT), f);
  for (const args of [['--db', AUDIT_DB], ['-c', cfg]]) {
    const v = run(['audit', 'verify', ...args], {});
    assert.equal(v.status, 0, v.stdout + v.stderr);
  }
  const again = await api('POST', '/api/compliance/data-subject/request', { user_id: ID, request_type: 'erasure' });
  assert.equal(again.status, 404);
  await eventually(() => records().some((x) => x.event_type === 'admin' && x.http_status === 404 &&
    x.action === 'POST /api/compliance/data-subject/request'), 'the refused erasure is recorded');
  const ex = await api('POST', '/api/compliance/data-subject/request', { user_id: ID, request_type: 'access' });
  assert.equal(ex.status, 404, 'nothing is held about the subject that links to them');
  assert.equal(run(['subjects', 'export', ID, '-c', cfg]).status, 1);
});

test('a withdrawal with erase: true erases the subject; the CLI erases too', async () => {
  const other = 'apikey:bob-51';
  assert.equal((await api('POST', '/api/compliance/consent/record',
    { user_id: other, data_type: 'phone', purpose: 'support', consent_given: true })).status, 200);
  const w = await api('POST', '/api/compliance/consent/withdraw',
    { user_id: other, data_type: 'phone', purpose: 'support', erase: true });
  assert.equal(w.status, 200, JSON.stringify(w.body));
  assert.equal(w.body.erasure.key_destroyed, true);
  const chk = await api('GET', `/api/compliance/consent/check?user_id=${other}&data_type=phone&purpose=support`);
  assert.equal(chk.body.recorded, false);
  const third = 'apikey:carol-8';
  assert.equal((await api('POST', '/api/compliance/consent/record',
    { user_id: third, data_type: 'phone', purpose: 'support', consent_given: true })).status, 200);
  const e = run(['subjects', 'erase', third, '-c', cfg]);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).key_destroyed, true);
  const e2 = run(['subjects', 'erase', third, '-c', cfg]);
  assert.equal(e2.status, 1);
  assert.match(e2.stderr, /no such subject/);
});

test('compliance.erase_on_withdrawal: a withdrawal erases; without encryption the endpoints are a 409 naming the setting', async () => {
  await gw.stop();
  const port = gw.port;
  const body = `${gwBody}compliance:\n  erase_on_withdrawal: true\n`;
  writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  gw = await startGateway(body, { dir, port, env: { SUBJ_MASTER: MASTER } });
  gw.port = port;
  const who = 'apikey:dave-2';
  assert.equal((await api('POST', '/api/compliance/consent/record',
    { user_id: who, data_type: 'email', purpose: 'ads', consent_given: true })).status, 200);
  const w = await api('POST', '/api/compliance/consent/withdraw', { user_id: who, data_type: 'email', purpose: 'ads' });
  assert.equal(w.status, 200);
  assert.equal(w.body.erasure.key_destroyed, true);
  // the body overrides the setting: erase: false withdraws and keeps the
  // subject (its access request still answers); a non-boolean is refused
  const keep = 'apikey:dave-3';
  assert.equal((await api('POST', '/api/compliance/consent/record',
    { user_id: keep, data_type: 'email', purpose: 'ads', consent_given: true })).status, 200);
  const bad = await api('POST', '/api/compliance/consent/withdraw', { user_id: keep, data_type: 'email', purpose: 'ads', erase: 'yes' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /erase/);
  const kept = await api('POST', '/api/compliance/consent/withdraw', { user_id: keep, data_type: 'email', purpose: 'ads', erase: false });
  assert.equal(kept.status, 200);
  assert.equal(kept.body.erasure, undefined);
  assert.equal((await api('POST', '/api/compliance/data-subject/request', { user_id: keep, request_type: 'access' })).status, 200);
  await gw.stop();
  const plain = gwBody.replace(/encryption:\n  master_key: env:\/\/SUBJ_MASTER\n/, '');
  assert.notEqual(plain, gwBody);
  writeGatewayFiles(dir, port, plain, ADMIN_POLICY);
  gw = await startGateway(plain, { dir, port });
  gw.port = port;
  const r = await api('POST', '/api/compliance/data-subject/request', { user_id: ID, request_type: 'erasure' });
  assert.equal(r.status, 409);
  assert.match(r.body.error.message, /encryption\.master_key/);
});

test('retention: a PERSONAL policy deletes the consents no longer in force (withdrawn, refused), never one in force', async () => {
  const d = tempDir();
  const port = await freePort();
  const body = `${apiKeyAuthYaml(port)}encryption:\n  master_key: env://SUBJ_MASTER\n` +
    'retention:\n  interval: 1s\n  policies:\n    - { id: personal, classification: PERSONAL, max_age: 1s }\n';
  const c = writeGatewayFiles(d, port, body, ADMIN_POLICY);
  const key = apikeyCreate(c, 'root', 'admin');
  const g = await startGateway(body, { dir: d, port, env: { SUBJ_MASTER: MASTER } });
  const call = async (method, path, b) => (await fetch(`http://127.0.0.1:${port}${path}`, {
    method, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: b === undefined ? undefined : JSON.stringify(b),
  })).json();
  try {
    const who = 'apikey:erin-5';
    const consent = (purpose, given) => call('POST', '/api/compliance/consent/record',
      { user_id: who, data_type: 'email', purpose, consent_given: given });
    await consent('in-force', true);
    await consent('withdrawn', true);
    await call('POST', '/api/compliance/consent/withdraw', { user_id: who, data_type: 'email', purpose: 'withdrawn' });
    await consent('refused', false);
    // the scheduler's runs (every second) take the two once they are older than 1 s
    await eventually(async () => {
      const reps = (await call('GET', '/api/retention/reports?limit=100')).reports ?? [];
      return reps.reduce((n, r) => n + (r.deleted?.consent_records ?? 0), 0) >= 2;
    }, 'a run that deleted the two consents', { ms: 60000 });
    const ex = await call('POST', '/api/compliance/data-subject/request', { user_id: who, request_type: 'access' });
    assert.deepEqual(ex.consents.map((x) => [x.purpose, x.consent_given]), [['in-force', true]]);
  } finally { await g.stop(); }
});
