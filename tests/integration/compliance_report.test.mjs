// The compliance report (issue 13 item 5; docs/compliance.md "The report"):
// `mcpgw compliance report` and GET /api/compliance/assessment, each check
// pass or fail with its evidence, as JSON and as an HTML page. A development
// config fails what it should; a production one (API keys, a default-deny
// policy, TLS, the default audit trail) passes every check, on the command
// line and from the running gateway; a record edited in the store fails the
// chain check naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  BIN, startGateway, tempDir, freePort, writeGatewayFiles, apikeyCreate, ADMIN_POLICY, httpsGet, waitFor, MISBEHAVE,
} from './lib.mjs';
import { sqliteRows } from './audit_lib.mjs';

const MASTER = randomBytes(32).toString('base64');
const report = (...args) => spawnSync(BIN, ['compliance', 'report', ...args],
  { encoding: 'utf8', timeout: 60000, env: { ...process.env, REPORT_MASTER: MASTER } });
const statuses = (rep) => Object.fromEntries(rep.checks.map((c) => [c.id, c.status]));
const evidence = (rep, id) => rep.checks.find((c) => c.id === id).evidence;
const CHECKS = ['authentication', 'default_deny', 'tls', 'audit_durable', 'audit_chain', 'retention', 'key_age',
  'personal_guardrails'];
// a stdio server whose tools are PERSONAL; extra: its guardrails
const crm = (extra = '') => `servers:\n  crm:\n    command: node\n    args: ["${MISBEHAVE}"]\n    classification: PERSONAL\n${extra}`;

test('a development config: the checks it fails say why; exit 3; the HTML page escapes what it shows', () => {
  // a directory name with markup in it: the page shows it as text
  const dir = tempDir('mcpgw-<i>report&-');
  const cfg = join(dir, 'mcpgw.yaml');
  // its PERSONAL server opts out of the PII guardrail its class gives it by default
  writeGatewayFiles(dir, 1, `${crm('    guardrails: { output: { off: [pii] } }\n')}auth: none\naudit:\n  durability: async\n  retention_days: 0\n`, '');
  const r = report('-c', cfg);
  assert.equal(r.status, 3, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.deepEqual(rep.checks.map((c) => c.id), CHECKS);
  assert.deepEqual(statuses(rep), {
    authentication: 'fail', default_deny: 'fail', tls: 'fail', audit_durable: 'fail', audit_chain: 'fail', retention: 'fail',
    key_age: 'fail', personal_guardrails: 'fail',
  });
  assert.equal(rep.failed, 8);
  assert.equal(rep.config, cfg);
  assert.match(evidence(rep, 'authentication'), /auth: none/);
  assert.match(evidence(rep, 'tls'), /listen 127\.0\.0\.1:1 without tls/);
  assert.match(evidence(rep, 'audit_durable'), /durability: async/);
  assert.match(evidence(rep, 'audit_chain'), /mcpgw\.db.*(cannot open|No such file)/);
  assert.match(evidence(rep, 'retention'), /retention_days: 0 and no retention: policies/);
  assert.match(evidence(rep, 'key_age'), /no encryption: block/);
  assert.equal(evidence(rep, 'personal_guardrails'), 'server crm (PERSONAL): output pii off');

  const page = join(dir, 'report.html');
  assert.equal(report('-c', cfg, '--format', 'html', '--output', page).status, 3);
  const html = readFileSync(page, 'utf8');
  assert.match(html, /^<!doctype html>/);
  assert.ok(html.includes('mcpgw-&lt;i&gt;report&amp;-'), 'the path is escaped');
  assert.ok(!html.includes('<i>'), 'no markup from the config reaches the page');
  assert.ok(!/<script|src=|href=/.test(html), 'no script and no outside resource');
  for (const id of CHECKS) assert.match(html, new RegExp(`<tr id="${id}"><td>[^<]+</td><td class="fail">fail</td>`));
});

test('usage: --help on stdout with exit 0; a wrong format, subcommand or option is exit 2 naming it', () => {
  const h = spawnSync(BIN, ['compliance', 'report', '--help'], { encoding: 'utf8' });
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^usage: mcpgw compliance report/);
  for (const [args, re] of [[['report', '--format', 'xml'], /--format: 'xml' is not json or html/],
    [['audit'], /unknown subcommand/], [[], /which subcommand/], [['report', '--colour'], /'--colour'/]]) {
    const r = spawnSync(BIN, ['compliance', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

// A self-signed certificate for 127.0.0.1 in dir.
function selfSigned(dir) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'server.key', '-out', 'server.pem', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
  return { ca: readFileSync(join(dir, 'server.pem'), 'utf8') };
}

test('a production config passes every check, on the command line and at /api/compliance/assessment; an edited record fails the chain check', async () => {
  const dir = tempDir();
  const port = await freePort();
  const tls = selfSigned(dir);
  const body = `${crm('    guardrails: { output: { redact: [pii] } }\n')}tls:\n  cert: server.pem\n  key: server.key\n` +
    'auth:\n  api_keys: true\npolicy: policy.yaml\nencryption:\n  master_key: env://REPORT_MASTER\n' +
    'retention:\n  interval: 5s\n  policies:\n    - { id: personal, classification: PERSONAL, days: 30 }\n';
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  process.env.REPORT_MASTER = MASTER; // for the CLI the helpers below run
  const admin = apikeyCreate(cfg, 'auditor', 'admin');
  const operator = apikeyCreate(cfg, 'op', 'operator');
  const g = await startGateway(body, { dir, port, https: tls, env: { REPORT_MASTER: MASTER } });
  const get = (path, key, headers = {}) =>
    httpsGet(`${g.base}${path}`, tls, { headers: { Authorization: `Bearer ${key}`, ...headers }, timeoutMs: 60000 });
  try {
    // a refusal is recorded (an event: written after its answer): the
    // trail has a record to verify
    const denied = await get('/api/compliance/assessment', operator);
    assert.equal(denied.status, 403, denied.body);
    assert.match(JSON.parse(denied.body).error.message, /admin/);
    // (with encryption on the user is a pseudonym: the refusal is found by its status)
    await waitFor(() => sqliteRows(join(dir, 'mcpgw.db'), 'record').some((x) => x.record.includes('"status":"denied"')), 'the refusal recorded');
    // the retention scheduler's first run (one interval after the start)
    await waitFor(async () => JSON.parse((await get('/api/metrics/retention', admin)).body).runs > 0, 'a retention run');

    const r = await get('/api/compliance/assessment', admin);
    assert.equal(r.status, 200, r.body);
    assert.match(r.headers['content-type'], /^application\/json/);
    const rep = JSON.parse(r.body);
    assert.deepEqual(statuses(rep), Object.fromEntries(CHECKS.map((id) => [id, 'pass'])), r.body);
    assert.equal(rep.failed, 0);
    assert.match(evidence(rep, 'authentication'), /API keys/);
    assert.match(evidence(rep, 'default_deny'), /default_policy deny; 2 roles/);
    assert.match(evidence(rep, 'tls'), /with tls: certificate .*server\.pem/);
    assert.match(evidence(rep, 'audit_chain'), /mcpgw\.db: [1-9]\d* records \(seq 1 to \d+\)/);
    assert.match(evidence(rep, 'retention'), /^retention: policies personal every 5 s; last run \d+ s ago/);
    assert.match(evidence(rep, 'key_age'), /^active ring key \S+ is \d+ s old \(limit 90 d, encryption\.rotate_after\)/);
    assert.equal(evidence(rep, 'personal_guardrails'), 'server crm (PERSONAL): output pii redact');

    const html = await get('/api/compliance/assessment?format=html', admin);
    assert.equal(html.status, 200);
    assert.match(html.headers['content-type'], /^text\/html/);
    assert.match(html.headers['content-security-policy'], /default-src 'none'/);
    assert.match(html.body, /<tr id="audit_chain"><td>[^<]+<\/td><td class="pass">pass/);
    const browser = await get('/api/compliance/assessment', admin, { Accept: 'text/html,application/xhtml+xml' });
    assert.match(browser.headers['content-type'], /^text\/html/);

    const m = JSON.parse((await get('/api/metrics/compliance', admin)).body);
    assert.equal(m.servers_by_classification.PERSONAL, 1);
    assert.equal(m.encryption.on, true);
    assert.ok(m.encryption.ring_keys >= 1 && m.encryption.data_keys >= 1, JSON.stringify(m.encryption));
    assert.ok(m.retention.runs >= 1, JSON.stringify(m.retention));
    assert.deepEqual(m.access_requests, { pending: 0, approved: 0, denied: 0, expired: 0 });
    const bad = await get('/api/compliance/assessment?format=xml', admin);
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).error.field, 'format');

    // the command line reads the same files beside the running gateway
    const cli = report('-c', cfg);
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);
    assert.deepEqual(statuses(JSON.parse(cli.stdout)), Object.fromEntries(CHECKS.map((id) => [id, 'pass'])));
  } finally { await g.stop(); }

  // one record's outcome changed in the store: the chain check fails naming it
  execFileSync('sqlite3', [join(dir, 'mcpgw.db'), `UPDATE audit_logs SET record = replace(record, '"status":"denied"', '"status":"success"') WHERE seq = (SELECT min(seq) FROM audit_logs WHERE record LIKE '%"status":"denied"%')`]);
  const tampered = report('-c', cfg);
  assert.equal(tampered.status, 3, tampered.stdout + tampered.stderr);
  const t = JSON.parse(tampered.stdout);
  assert.equal(statuses(t).audit_chain, 'fail');
  assert.match(evidence(t, 'audit_chain'), /seq \d+: hash does not match/);
});
