// The audit trail in PostgreSQL (issue 10, docs/audit.md "PostgreSQL
// sink"), against a real server started here (pg.mjs): allowed, denied and
// failing calls of the SDK client each leave one row with the right
// columns, the `record` column holds a chain that checks by docs/audit.md;
// PostgreSQL stopped while four clients call (on_failure: refuse): calls
// are refused naming the audit sink, /health and /ready say why, and once it is back
// calls succeed again and every answered call has its row. The URL's
// password appears in no answer, /health or log line. The signed
// checkpoints land in audit_checkpoints, and `mcpgw audit verify` passes on
// the table (--pg, --config, or an export as docs/audit.md shows), and
// fails naming the row edited in SQL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, bearerClient, withGatewayLog } from './lib.mjs';
import { auditGateway, auditPolicy, eventually as poll, hashOf, pgRows } from './audit_lib.mjs';
import { startPostgres } from './pg.mjs';

const AUDIT_UNAVAILABLE = -32031;
const POLICY = auditPolicy();

let pg, gw, key, gwDir;
before(async () => {
  pg = await startPostgres();
  let keys;
  ({ gw, dir: gwDir, keys } = await auditGateway({ policy: POLICY, keys: ['alice'],
    audit: `audit:\n  sinks:\n    - { type: postgres, url: "${pg.url}" }\n  on_failure: refuse\n  parameters: full\n` +
      '  chain: { checkpoint_every: 500ms, signing_key: "file://signing.pem" }\n' }));
  key = keys.alice;
});
after(async () => {
  try { await gw?.stop(); } finally { await pg?.destroy(); }
});

const rows = (where) => pgRows(pg, where);
const textIs = (t) => `record::json->'parameters'->>'text' = '${t}'`;

const eventually = (what, fn, ms = 10000) => poll(fn, what, { ms });

// The row of one call: the columns copy the record's members.
function checkRow(row, want) {
  const rec = JSON.parse(row.record);
  assert.equal(Number(row.seq), rec.seq);
  assert.equal(Number(row.ts_ms), Date.parse(rec.timestamp));
  assert.equal(row.hash, rec.hash);
  assert.equal(row.hash, hashOf(row.record));
  for (const [k, v] of Object.entries(want)) {
    assert.equal(row[k], v, `column ${k}`);
    assert.equal(rec[k], v, `member ${k}`);
  }
  return rec;
}

test('an allowed call: its row is committed when the answer arrives', withGatewayLog(async () => {
  const client = await bearerClient(gw.url, key);
  try {
    const r = await client.callTool({ name: 'fl__echo', arguments: { text: 'pg-allowed' } });
    assert.equal(r.content[0].text, 'pg-allowed');
    const mine = await rows(textIs('pg-allowed')); // no wait: commit-before-answer
    assert.equal(mine.length, 1);
    const rec = checkRow(mine[0], {
      event_type: 'mcp_request', user: 'apikey:alice', mcp_server: 'fl', tool_name: 'fl__echo', status: 'success',
    });
    assert.equal(rec.action, 'tools/call');
    assert.ok(!mine[0].record.includes(key), 'no API key in the record');
  } finally { await client.close(); }
}, () => gw));

test('a denied call and a failing call: one row each, status denied and error', withGatewayLog(async () => {
  const client = await bearerClient(gw.url, key);
  try {
    await assert.rejects(client.callTool({ name: 'fl__pid', arguments: {} }));
    await assert.rejects(client.callTool({ name: 'fl__nothing', arguments: {} }));
    const denied = await eventually('the denied row', async () => {
      const m = await rows(`tool_name = 'fl__pid'`);
      return m.length ? m : null;
    });
    assert.equal(denied.length, 1);
    assert.equal(checkRow(denied[0], { user: 'apikey:alice', status: 'denied' }).stage, 'authorize');
    const failed = await eventually('the failing row', async () => {
      const m = await rows(`tool_name = 'fl__nothing'`);
      return m.length ? m : null;
    });
    assert.equal(failed.length, 1);
    assert.equal(checkRow(failed[0], { user: 'apikey:alice', status: 'error' }).error_code, -32602);
  } finally { await client.close(); }
}, () => gw));

test('the record column holds the chain: seq without a gap, each prev_hash the hash before', withGatewayLog(async () => {
  const all = await rows();
  assert.ok(all.length >= 3, `rows so far: ${all.length}`);
  let prev = '0'.repeat(64);
  all.forEach((row, i) => {
    const rec = JSON.parse(row.record);
    assert.equal(rec.seq, i + 1);
    assert.equal(rec.prev_hash, prev, `record ${rec.seq}: prev_hash`);
    assert.equal(rec.hash, hashOf(row.record), `record ${rec.seq}: hash`);
    prev = rec.hash;
  });
  const h = await (await fetch(`${gw.base}/health`)).json();
  assert.equal(h.audit.ok, true);
  assert.equal(h.audit.sinks[0].type, 'postgres');
  assert.equal(h.audit.sinks[0].ok, true);
}, () => gw));

test('PostgreSQL stopped while four clients call: refused naming the sink, /health and /ready say why, nothing answered is lost', withGatewayLog(async () => {
  const clients = await Promise.all([0, 1, 2, 3].map(() => bearerClient(gw.url, key)));
  const answered = [];
  const refusals = [];
  let phase = 'before', stop = false;
  const seenAfter = () => answered.filter((a) => a.phase === 'after').length;
  const worker = async (c, w) => {
    for (let i = 0; !stop; i++) {
      const text = `out-${w}-${i}`;
      const p = phase;
      try {
        const r = await c.callTool({ name: 'fl__echo', arguments: { text } });
        assert.equal(r.content[0].text, text);
        answered.push({ text, phase: p });
      } catch (e) {
        refusals.push(e);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const workers = clients.map(worker);
  try {
    await eventually('calls before the outage', () => answered.length >= 8);
    await pg.stop();
    phase = 'down';
    const refused = await eventually('a refusal while PostgreSQL is down', () => refusals.find((e) => e.code === AUDIT_UNAVAILABLE));
    assert.match(refused.message, /audit sink postgres unavailable/);
    const h = await (await fetch(`${gw.base}/health`)).json();
    assert.equal(h.audit.ok, false);
    assert.equal(h.audit.sinks[0].ok, false);
    assert.match(h.audit.sinks[0].reason ?? '', /audit sink postgres unavailable: \S/, JSON.stringify(h.audit));
    const ready = await fetch(`${gw.base}/ready`);
    assert.equal(ready.status, 503);
    const readyBody = await ready.json();
    const why = readyBody.not_ready.find((x) => x.name === 'audit');
    assert.match(why?.last_error ?? '', /audit sink postgres unavailable/);
    for (const s of [refused.message, JSON.stringify(h), JSON.stringify(readyBody), gw.logs()]) {
      assert.ok(!s.includes(pg.password), 'the password leaked');
    }

    // Down long enough for the writer to retry the sink several times.
    await new Promise((r) => setTimeout(r, 3000));
    await pg.start();
    phase = 'after';
    await eventually('calls answered after PostgreSQL is back', () => seenAfter() >= 8, 20000);
    const back = await (await fetch(`${gw.base}/health`)).json();
    assert.equal(back.audit.ok, true);
    assert.equal((await fetch(`${gw.base}/ready`)).status, 200);
  } finally {
    stop = true;
    await Promise.allSettled(workers);
    await Promise.allSettled(clients.map((c) => c.close()));
  }
  assert.ok(refusals.every((e) => e.code === AUDIT_UNAVAILABLE), `other errors: ${refusals.map((e) => e.message).join('; ')}`);
  const stored = new Set((await rows(`record::json->'parameters'->>'text' LIKE 'out-%'`))
    .map((r) => JSON.parse(r.record).parameters.text));
  const missing = answered.filter((a) => !stored.has(a.text));
  assert.deepEqual(missing, [], 'answered calls without a row');
  assert.ok(!gw.logs().includes(pg.password), 'the password is in the log');
}, () => gw));

test('mcpgw audit reads the trail in PostgreSQL: verify (--pg, -c, an export) with its checkpoints, query, checkpoint; an edited row is named', async () => {
  await gw.stop(); // a clean stop signs the head
  const cfg = gw.cfg;
  gw = null;
  const last = (await rows()).at(-1);
  const cps = await pg.query('SELECT seq, hash, record FROM audit_checkpoints ORDER BY seq');
  assert.ok(cps.length >= 1, 'checkpoints in audit_checkpoints');
  assert.equal(Number(cps.at(-1).seq), Number(last.seq), 'the stop signs the head');
  assert.equal(cps.at(-1).hash, last.hash);
  assert.equal(JSON.parse(cps.at(-1).record).hash, last.hash);

  const key = join(gwDir, 'signing.pem');
  const audit = (...args) => spawnSync(BIN, ['audit', ...args], { encoding: 'utf8', timeout: 60000 });
  // docs/audit.md, "PostgreSQL sink", "Verifying": the export, by hand
  const trail = join(gwDir, 'trail.jsonl');
  const exportTrail = () => {
    writeFileSync(trail, pg.psql('SELECT record FROM audit_logs ORDER BY seq'));
    writeFileSync(`${trail}.checkpoints`, pg.psql('SELECT record FROM audit_checkpoints ORDER BY seq'));
  };
  exportTrail();
  for (const args of [['--pg', pg.url, '--key', key], ['-c', cfg], ['--file', trail, '--key', key]]) {
    const r = audit('verify', ...args);
    assert.equal(r.status, 0, `${args[0]}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`ok: ${last.seq} records, seq 1 to ${last.seq}; \\d+ checkpoints verified`));
  }
  let r = audit('query', '--pg', pg.url, '--tool', 'fl__echo', '--format', 'json', '--limit', '100000');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.split('\n').some((l) => l && JSON.parse(l).parameters?.text === 'pg-allowed'));
  r = audit('checkpoint', '--pg', pg.url, '--key', key);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.split('\n')[0]).seq, Number(last.seq));

  pg.psql(`UPDATE audit_logs SET record = replace(record, '"pg-allowed"', '"pg-edited"') WHERE ${textIs('pg-allowed')}`);
  const edited = (await rows(textIs('pg-edited')))[0];
  exportTrail();
  for (const args of [['--pg', pg.url, '--key', key], ['--file', trail, '--key', key]]) {
    r = audit('verify', ...args);
    assert.equal(r.status, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^seq ${edited.seq}: hash does not match its line`));
  }

  // the server gone: a reason, never the password
  await pg.stop();
  r = audit('verify', '--pg', pg.url, '--key', key);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /postgres: .*refused/);
  assert.ok(!(r.stdout + r.stderr).includes(pg.password), 'the password leaked');
});
