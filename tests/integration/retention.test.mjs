// Classification and retention (issue 13 points 2 and 3; docs/compliance.md):
// each record carries the classification of its server or tool; policies by
// classification run on the scheduler (an accelerated clock: max_age in
// seconds) and through seed 000's API and the CLI; a real run replaces
// exactly the old records of its classification by tombstones and
// `mcpgw audit verify` still passes, while a row deleted or rewritten by hand
// fails it; bad policies are refused by the config check and the API.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN, ADMIN_POLICY, apiKeyAuthYaml, apikeyCreate, bearerClient, freePort, startGateway, tempDir,
  withGatewayLog, writeGatewayFiles,
} from './lib.mjs';
import { FLAKY, eventually, sqliteRows } from './audit_lib.mjs';
import { adminCall, openapiChecker } from './admin_lib.mjs';
import { startPostgres } from './pg.mjs';

// fl: PERSONAL, its tool pid SENSITIVE_PERSONAL (a glob of its own tool names).
const servers = () => `servers:
  fl:
    command: node
    args: ["${FLAKY}"]
    env:
      FLAKY_STATE: "${tempDir()}"
    classification: PERSONAL
    classifications:
      "p?d": SENSITIVE_PERSONAL
`;

async function gateway(retention) {
  const dir = tempDir();
  const port = await freePort();
  const body = servers() + apiKeyAuthYaml(port) + retention;
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  const key = apikeyCreate(cfg, 'root', 'admin');
  const gw = await startGateway(body, { dir, port });
  return { gw, cfg, dir, key, db: join(dir, 'mcpgw.db'), body, port };
}

const rows = (db) => sqliteRows(db, 'seq, event_type, tool_name, status, classification, record, hash');
const verify = (...args) => spawnSync(BIN, ['audit', 'verify', ...args], { encoding: 'utf8' });

async function callTools(url, key, names) {
  const c = await bearerClient(url, key);
  try {
    for (const name of names) await c.callTool({ name, arguments: { text: 'r' } });
  } finally { await c.close(); }
}

const running = [];
after(async () => { for (const g of running) await g.stop(); });

test('the config check refuses an unknown classification and a negative age, naming file and line', () => {
  const dir = tempDir();
  const cases = [
    ['servers:\n  a:\n    command: x\n    classification: SECRET\n', /mcpgw\.yaml:5: key 'servers\.a\.classification': unknown classification 'SECRET'/],
    ['servers:\n  a:\n    command: x\n    classifications: { "t*": personal }\n', /mcpgw\.yaml:5: .*unknown classification 'personal'/],
    ['retention:\n  policies:\n    - { id: p, classification: PERSONAL, days: -1 }\n', /mcpgw\.yaml:4: key 'retention\.policies\[0\]\.days': days must not be negative/],
    ['retention:\n  policies:\n    - { id: p, classification: PII, days: 30 }\n', /mcpgw\.yaml:4: .*unknown classification 'PII'/],
    ['retention:\n  policies:\n    - { id: p, classification: PUBLIC, days: 1 }\n    - { id: p, classification: INTERNAL, days: 1 }\n', /mcpgw\.yaml:5: .*policy id 'p' given twice/],
  ];
  for (const [yaml, want] of cases) {
    const cfg = join(dir, 'mcpgw.yaml');
    writeFileSync(cfg, `listen: "127.0.0.1:1"\n${yaml}`);
    const r = spawnSync(BIN, ['config', 'check', '-c', cfg], { encoding: 'utf8' });
    assert.equal(r.status, 1, yaml);
    assert.match(r.stderr, want);
  }
});

// One gateway whose config policy keeps PERSONAL records a year: the API's
// policies and runs are what the tests below drive.
let B;
test('each record carries its classification: the server\'s, the tool\'s glob, or INTERNAL', withGatewayLog(async () => {
  B = await gateway('retention:\n  interval: 1h\n  policies:\n    - { id: personal-year, classification: PERSONAL, days: 365, description: "a year" }\n');
  running.push(B.gw);
  await callTools(B.gw.url, B.key, ['fl__echo', 'fl__pid', 'fl__echo', 'fl__pid']);
  const rs = await eventually(() => {
    const r = rows(B.db);
    return r.filter((x) => x.tool_name === 'fl__pid' && x.event_type === 'mcp_request').length === 2 ? r : null;
  }, 'the calls are not recorded');
  for (const r of rs) assert.equal(JSON.parse(r.record).classification, r.classification, `seq ${r.seq}: column and member`);
  const calls = rs.filter((r) => r.event_type === 'mcp_request' && r.tool_name?.startsWith('fl__'));
  assert.deepEqual(calls.map((r) => [r.tool_name, r.classification]), [
    ['fl__echo', 'PERSONAL'], ['fl__pid', 'SENSITIVE_PERSONAL'], ['fl__echo', 'PERSONAL'], ['fl__pid', 'SENSITIVE_PERSONAL']]);
  assert.equal(rs.find((r) => r.event_type === 'session_open').classification, 'INTERNAL');
}, () => B?.gw));

test('API: policies listed, bad ones refused with 400, a good one added; dry run deletes nothing', withGatewayLog(async () => {
  const doc = (await adminCall(B.gw.base, 'GET', '/admin/v1/openapi.json', { key: B.key })).json;
  const { conforms } = await openapiChecker(doc);
  const call = (m, p, body) => adminCall(B.gw.base, m, p, { key: B.key, body });
  let r = conforms('GET', '/api/retention/policies', await call('GET', '/api/retention/policies'));
  assert.deepEqual(r.json.policies.map((p) => [p.policy_id, p.data_classification, p.retention_days, p.source]),
    [['personal-year', 'PERSONAL', 365, 'config']]);
  r = conforms('POST', '/api/retention/policies', await call('POST', '/api/retention/policies',
    { policy_id: 'neg', data_classification: 'PERSONAL', retention_days: -1 }));
  assert.equal(r.status, 400);
  assert.equal(r.json.error.field, 'retention_days');
  r = conforms('POST', '/api/retention/policies', await call('POST', '/api/retention/policies',
    { policy_id: 'bad', data_classification: 'SECRET', retention_days: 3 }));
  assert.equal(r.status, 400);
  assert.equal(r.json.error.field, 'data_classification');
  r = conforms('POST', '/api/retention/policies', await call('POST', '/api/retention/policies',
    { policy_id: 'sensitive-now', data_classification: 'SENSITIVE_PERSONAL', retention_days: 0, auto_delete: false, description: 'test' }));
  assert.equal(r.status, 201);
  r = conforms('GET', '/api/retention/policies', await call('GET', '/api/retention/policies'));
  assert.deepEqual(r.json.policies.map((p) => p.policy_id), ['personal-year', 'sensitive-now']);

  const before = rows(B.db);
  const sensitive = before.filter((x) => x.classification === 'SENSITIVE_PERSONAL').map((x) => x.seq);
  assert.equal(sensitive.length, 2);
  r = conforms('POST', '/api/retention/enforce', await call('POST', '/api/retention/enforce', { policy_id: 'sensitive-now', dry_run: true }));
  assert.equal(r.status, 200);
  const [rep] = r.json.reports;
  assert.equal(rep.dry_run, true);
  assert.equal(rep.classification, 'SENSITIVE_PERSONAL');
  assert.equal(rep.deleted.audit_records, 2, JSON.stringify(rep));
  assert.deepEqual([rep.first_seq, rep.last_seq], [sensitive[0], sensitive[1]]);
  const same = rows(B.db).filter((x) => x.seq <= before.at(-1).seq);
  assert.deepEqual(same.map((x) => x.record), before.map((x) => x.record), 'a dry run changes no record');
  r = conforms('POST', '/api/retention/enforce', await call('POST', '/api/retention/enforce', { policy_id: 'nope' }));
  assert.equal(r.status, 404);
}, () => B?.gw));

test('a real run replaces exactly the old records of its classification; verify passes on --db and -c', withGatewayLog(async () => {
  const doc = (await adminCall(B.gw.base, 'GET', '/admin/v1/openapi.json', { key: B.key })).json;
  const { conforms } = await openapiChecker(doc);
  const before = rows(B.db);
  const sensitive = before.filter((x) => x.classification === 'SENSITIVE_PERSONAL' && x.event_type !== 'retention_tombstone');
  // through the CLI, as an operator would (POST /api/retention/enforce)
  const out = execFileSync(BIN, ['retention', 'enforce', '--policy', 'sensitive-now', '--format', 'json',
    '-c', B.cfg, '--token', B.key], { encoding: 'utf8' });
  const rep = JSON.parse(out.trim());
  assert.equal(rep.dry_run, false);
  assert.equal(rep.deleted.audit_records, sensitive.length);
  const after = rows(B.db);
  for (const x of before) {
    const now = after.find((y) => y.seq === x.seq);
    if (sensitive.some((s) => s.seq === x.seq)) {
      assert.equal(now.event_type, 'retention_tombstone', `seq ${x.seq} deleted`);
      const t = JSON.parse(now.record);
      assert.equal(t.hash, x.hash, 'the tombstone keeps the hash');
      assert.equal(t.prev_hash, JSON.parse(x.record).prev_hash, 'and the prev_hash');
      assert.equal(t.retention.run, rep.run);
      assert.ok(!now.record.includes('"parameters"'), 'nothing of the call is left');
    } else {
      assert.equal(now.record, x.record, `seq ${x.seq} kept`);
    }
  }
  const ev = await eventually(() => rows(B.db).find((x) => x.event_type === 'retention_enforced' && JSON.parse(x.record).parameters?.run === rep.run),
    'no retention_enforced record of the run');
  assert.equal(JSON.parse(ev.record).parameters.sinks[0].count, sensitive.length);
  let v = verify('--db', B.db);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /2 records were deleted by retention/);
  v = verify('-c', B.cfg);
  assert.equal(v.status, 0, v.stdout + v.stderr);

  const call = (m, p) => adminCall(B.gw.base, m, p, { key: B.key });
  const reps = conforms('GET', '/api/retention/reports?limit=2', await call('GET', '/api/retention/reports?limit=2'));
  assert.deepEqual(reps.json.reports.map((x) => [x.run, x.dry_run]).slice(0, 1), [[rep.run, false]]);
  const m = conforms('GET', '/api/metrics/retention', await call('GET', '/api/metrics/retention'));
  assert.equal(m.json.audit_records_deleted, sensitive.length);
  assert.equal(m.json.enforced_runs, 1);
  assert.equal(m.json.last_run.run, rep.run);
  const listed = execFileSync(BIN, ['retention', 'reports', '-c', B.cfg, '--format', 'json'], { encoding: 'utf8' })
    .trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(listed[0].run, rep.run);
  // a second run finds nothing more to delete, and verify still passes
  const again = JSON.parse(execFileSync(BIN, ['retention', 'enforce', '--policy', 'sensitive-now', '--format', 'json',
    '-c', B.cfg, '--token', B.key], { encoding: 'utf8' }).trim());
  assert.equal(again.deleted.audit_records, 0);
  assert.equal(verify('--db', B.db).status, 0);
}, () => B?.gw));

test('a row deleted or turned into a tombstone by hand fails verify, naming the seq', withGatewayLog(async () => {
  await B.gw.stop();
  running.splice(running.indexOf(B.gw), 1);
  const rs = rows(B.db);
  const tomb = rs.find((x) => x.event_type === 'retention_tombstone');
  const personal = rs.find((x) => x.classification === 'PERSONAL' && x.event_type === 'mcp_request');
  const copy = (name) => { const p = join(B.dir, name); copyFileSync(B.db, p); return p; };
  const sql = (db, q) => execFileSync('sqlite3', [db, q]);

  let db = copy('deleted.db');
  sql(db, `DELETE FROM audit_logs WHERE seq = ${personal.seq}`);
  let v = verify('--db', db);
  assert.equal(v.status, 1);
  assert.match(v.stdout + v.stderr, new RegExp(`seq ${personal.seq} missing \\(deleted\\)`));

  // a record rewritten as a tombstone of a real run, hash and prev_hash kept
  db = copy('forged.db');
  const t = JSON.parse(tomb.record);
  const p = JSON.parse(personal.record);
  const forged = JSON.stringify({ seq: p.seq, timestamp: p.timestamp, event_type: 'retention_tombstone',
    classification: 'PERSONAL', retention: t.retention, prev_hash: p.prev_hash, hash: p.hash });
  sql(db, `UPDATE audit_logs SET record = '${forged}' WHERE seq = ${p.seq}`);
  v = verify('--db', db);
  assert.equal(v.status, 1);
  assert.match(v.stdout + v.stderr, /deleted by retention run .* lists other records/);

  // the same with a run no record covers
  db = copy('orphan.db');
  sql(db, `UPDATE audit_logs SET record = '${forged.replace(t.retention.run, '1.1-made-up')}' WHERE seq = ${p.seq}`);
  v = verify('--db', db);
  assert.equal(v.status, 1);
  assert.match(v.stdout + v.stderr, new RegExp(`seq ${p.seq} deleted \\(a tombstone of retention run 1\\.1-made-up\\) with no retention record`));

  // a retention tombstone removed by hand is a missing seq like any other
  db = copy('tomb.db');
  sql(db, `DELETE FROM audit_logs WHERE seq = ${tomb.seq}`);
  v = verify('--db', db);
  assert.equal(v.status, 1);
  assert.match(v.stdout + v.stderr, new RegExp(`seq ${tomb.seq} missing`));
}, () => B?.gw));

test('a run whose record was lost (the gateway stopped after deleting) is recorded at the next start', withGatewayLog(async () => {
  // B is stopped: cut its trail back to just before the real run's record,
  // as a stop between the deletion's commit and the record leaves it
  const real = rows(B.db).find((x) => x.event_type === 'retention_enforced' && !JSON.parse(x.record).parameters.dry_run && JSON.parse(x.record).parameters.deleted.audit_records > 0);
  const run = JSON.parse(real.record).parameters.run;
  execFileSync('sqlite3', [B.db, `DELETE FROM audit_logs WHERE seq >= ${real.seq}; DELETE FROM audit_checkpoints WHERE seq >= ${real.seq}`]);
  let v = verify('--db', B.db);
  assert.equal(v.status, 1);
  assert.match(v.stdout, new RegExp(`tombstone of retention run ${run.replace('.', '\\.')}\\) with no retention record`));
  B.gw = await startGateway(B.body, { dir: B.dir, port: B.port });
  running.push(B.gw);
  await eventually(() => rows(B.db).some((x) => x.event_type === 'retention_enforced' && JSON.parse(x.record).parameters.run === run),
    'the lost run is not recorded again');
  v = verify('--db', B.db);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(B.gw.logs(), /1 retention runs were not recorded/);
}, () => B?.gw));

test('the scheduler enforces by itself: old PERSONAL records go, SENSITIVE_PERSONAL only reported (no auto_delete)', withGatewayLog(async () => {
  const A = await gateway(`retention:
  interval: 1s
  policies:
    - { id: personal-2s, classification: PERSONAL, max_age: 2s }
    - { id: sensitive-dry, classification: SENSITIVE_PERSONAL, max_age: 1s, auto_delete: false }
`);
  running.push(A.gw);
  await callTools(A.gw.url, A.key, ['fl__echo', 'fl__pid', 'fl__echo']);
  const calls = await eventually(() => {
    const c = rows(A.db).filter((x) => x.event_type === 'mcp_request' && x.tool_name?.startsWith('fl__'));
    return c.length === 3 ? c : null;
  }, 'the three calls are not recorded');
  const report = (q) => {
    const out = execFileSync('sqlite3', ['-json', A.db, `SELECT report FROM retention_reports WHERE ${q} ORDER BY id`], { encoding: 'utf8' });
    return out.trim() ? JSON.parse(out).map((x) => JSON.parse(x.report)) : [];
  };
  // bounded by the work: the reports the scheduler writes, polled
  const done = await eventually(() => {
    const real = report(`policy = 'personal-2s' AND dry_run = 0 AND deleted > 0`);
    const total = real.reduce((n, x) => n + x.deleted.audit_records, 0);
    const echoes = calls.filter((x) => x.tool_name === 'fl__echo').map((x) => x.seq);
    const gone = rows(A.db).filter((x) => echoes.includes(x.seq) && x.event_type === 'retention_tombstone');
    return gone.length === 2 && total >= 2 ? real : null;
  }, () => `the scheduler did not delete the PERSONAL records: ${JSON.stringify(report('1'))}`, { ms: 60000 });
  assert.ok(done.every((x) => x.scheduled === true));
  const dry = report(`policy = 'sensitive-dry'`);
  assert.ok(dry.length >= 1 && dry.every((x) => x.dry_run === true));
  const pid = rows(A.db).find((x) => x.tool_name === 'fl__pid');
  assert.equal(pid.event_type, 'mcp_request', 'a policy without auto_delete deletes nothing');
  assert.ok(dry.some((x) => x.deleted.audit_records >= 1 && x.first_seq <= pid.seq), 'but reports it');
  const v = verify('--db', A.db);
  assert.equal(v.status, 0, v.stdout + v.stderr);
}, () => running.at(-1)));

test('with encryption on, a scheduled run still verifies: its retention record is not sealed, so verify reads it without a key', withGatewayLog(async () => {
  process.env.RET_MASTER = randomBytes(32).toString('base64'); // apikey and verify load the config too
  const A = await gateway(`retention:
  interval: 1s
  policies:
    - { id: personal-1s, classification: PERSONAL, max_age: 1s }
encryption:
  master_key: env://RET_MASTER
`);
  running.push(A.gw);
  await callTools(A.gw.url, A.key, ['fl__echo', 'fl__echo']);
  await eventually(() => {
    const t = rows(A.db).filter((x) => x.event_type === 'retention_tombstone');
    return t.length >= 2 ? t : null;
  }, 'the scheduler did not delete the PERSONAL records', { ms: 60000 });
  const run = rows(A.db).map((x) => JSON.parse(x.record)).find((x) => x.event_type === 'retention_enforced');
  assert.equal(typeof run.parameters, 'object', 'the retention record\'s parameters were sealed');
  const v = verify('--db', A.db);
  assert.equal(v.status, 0, v.stdout + v.stderr);
}, () => running.at(-1)));

test('PostgreSQL sink: a run leaves tombstones in audit_logs, verify --pg passes, a row deleted by hand fails it', withGatewayLog(async () => {
  const pg = await startPostgres();
  let P;
  try {
    P = await gateway(`audit:\n  sinks:\n    - { type: postgres, url: "${pg.url}" }\n`);
    await callTools(P.gw.url, P.key, ['fl__echo', 'fl__pid', 'fl__echo']);
    const pgRows = () => pg.query('SELECT seq, event_type, classification, record, hash FROM audit_logs ORDER BY seq');
    const before = await eventually(async () => {
      const r = await pgRows();
      return r.filter((x) => x.event_type === 'mcp_request' && x.classification === 'PERSONAL').length === 2 ? r : null;
    }, 'the calls are not in PostgreSQL');
    const call = (m, p, body) => adminCall(P.gw.base, m, p, { key: P.key, body });
    assert.equal((await call('POST', '/api/retention/policies', { id: 'personal-now', classification: 'PERSONAL', days: 0 })).status, 201);
    const r = await call('POST', '/api/retention/enforce', { policy_id: 'personal-now', dry_run: false });
    assert.equal(r.status, 200, r.text);
    const [rep] = r.json.reports;
    assert.equal(rep.sinks[0].sink, 'postgres');
    const after = await pgRows();
    const tombs = after.filter((x) => x.event_type === 'retention_tombstone').map((x) => Number(x.seq));
    assert.equal(rep.deleted.audit_records, tombs.length, JSON.stringify(rep));
    for (const x of before) {
      const now = after.find((y) => y.seq === x.seq);
      if (x.classification !== 'PERSONAL') assert.equal(now.record, x.record, `seq ${x.seq} kept`);
      if (x.event_type === 'mcp_request' && x.classification === 'PERSONAL') assert.ok(tombs.includes(Number(x.seq)), `seq ${x.seq} deleted`);
      assert.equal(now.hash, x.hash);
    }
    const personal = tombs;
    await eventually(async () => (await pgRows()).some((x) => x.event_type === 'retention_enforced'), 'no retention record');
    let v = verify('--pg', pg.url);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, new RegExp(`${personal.length} records were deleted by retention`));
    const keep = before.find((x) => x.classification === 'SENSITIVE_PERSONAL');
    pg.psql(`DELETE FROM audit_logs WHERE seq = ${keep.seq}`);
    v = verify('--pg', pg.url);
    assert.equal(v.status, 1);
    assert.match(v.stdout + v.stderr, new RegExp(`seq ${keep.seq} missing \\(deleted\\)`));
  } finally {
    try { await P?.gw.stop(); } finally { await pg.destroy(); }
  }
}, () => running.at(-1)));

test('a reload replaces the config policies: listed at once, run by the CLI and the next scheduled run; an invalid one is refused with its line and the last good ones stay', withGatewayLog(async () => {
  const R = await gateway('retention:\n  interval: 1h\n  policies:\n    - { id: personal-year, classification: PERSONAL, days: 365 }\n');
  running.push(R.gw);
  const call = (m, p, body) => adminCall(R.gw.base, m, p, { key: R.key, body });
  const listed = async () => (await call('GET', '/api/retention/policies')).json.policies
    .map((p) => [p.policy_id, p.data_classification, p.max_age_seconds, p.source]);
  const reload = async (retention) => {
    writeFileSync(R.cfg, readFileSync(R.cfg, 'utf8').replace(/retention:\n(  .*\n)*/, retention));
    return (await call('POST', '/admin/v1/config/reload', {})).json;
  };
  await callTools(R.gw.url, R.key, ['fl__echo', 'fl__echo']);
  const echoes = await eventually(() => {
    const c = rows(R.db).filter((x) => x.event_type === 'mcp_request' && x.tool_name === 'fl__echo');
    return c.length === 2 ? c.map((x) => x.seq) : null;
  }, 'the calls are not recorded');
  assert.deepEqual(await listed(), [['personal-year', 'PERSONAL', 365 * 86400, 'config']]);

  // shorter, under a new id, and scheduled every second
  let r = await reload('retention:\n  interval: 1s\n  policies:\n    - { id: personal-now, classification: PERSONAL, max_age: 1s, auto_delete: false }\n');
  assert.equal(r.reloaded, true, JSON.stringify(r));
  assert.deepEqual(await listed(), [['personal-now', 'PERSONAL', 1, 'config']]);
  assert.equal((await call('GET', '/api/metrics/retention')).json.interval_seconds, 1);
  // the CLI, through the gateway, runs the new policy (a dry run: nothing
  // goes yet) once the records are past its age
  await new Promise((res) => setTimeout(res, 1500));
  const rep = JSON.parse(execFileSync(BIN, ['retention', 'enforce', '--policy', 'personal-now', '--dry-run',
    '--format', 'json', '-c', R.cfg, '--token', R.key], { encoding: 'utf8' }).trim());
  assert.equal(rep.policy_id, 'personal-now');
  assert.ok(rep.deleted.audit_records >= 2, JSON.stringify(rep));
  // the scheduler's next run is the new policy's, at the new interval
  const report = (q) => {
    const out = execFileSync('sqlite3', ['-json', R.db, `SELECT report FROM retention_reports WHERE ${q} ORDER BY id`], { encoding: 'utf8' });
    return out.trim() ? JSON.parse(out).map((x) => JSON.parse(x.report)) : [];
  };
  const sched = await eventually(() => report(`policy = 'personal-now'`)
    .find((x) => x.scheduled && x.deleted.audit_records >= 2), 'no scheduled run of the new policy', { ms: 60000 });
  assert.equal(sched.dry_run, true, 'auto_delete: false: the scheduler only reports');
  assert.ok(sched.first_seq <= echoes[0], JSON.stringify(sched));
  assert.equal(rows(R.db).filter((x) => echoes.includes(x.seq) && x.event_type === 'retention_tombstone').length, 0);

  // auto_delete now on: the next scheduled run deletes
  r = await reload('retention:\n  interval: 1s\n  policies:\n    - { id: personal-now, classification: PERSONAL, max_age: 1s }\n');
  assert.equal(r.reloaded, true, JSON.stringify(r));
  await eventually(() => {
    const gone = rows(R.db).filter((x) => echoes.includes(x.seq) && x.event_type === 'retention_tombstone');
    return gone.length === 2 || null;
  }, () => `the scheduler did not delete with the new policy: ${JSON.stringify(report('1'))}`, { ms: 60000 });
  assert.ok(report(`policy = 'personal-year'`).every((x) => !x.scheduled), 'the old policy never ran by itself');

  // invalid: refused as a whole with its file and line, the last good policies stay
  r = await reload('retention:\n  interval: 1s\n  policies:\n    - { id: neg, classification: PERSONAL, days: -1 }\n');
  assert.equal(r.reloaded, false);
  assert.match(r.error, /mcpgw\.yaml:\d+: key 'retention\.policies\[0\]\.days': days must not be negative/);
  assert.deepEqual(await listed(), [['personal-now', 'PERSONAL', 1, 'config']]);
  const v = verify('--db', R.db);
  assert.equal(v.status, 0, v.stdout + v.stderr);
}, () => running.at(-1)));
