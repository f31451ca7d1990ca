// The default audit trail (no audit: block: one SQLite sink in the store,
// commit-before-answer) with the SDK v2 client speaking 2026-07-28 and the
// SDK v1 client: an allowed, a denied, an unauthenticated, a rate-limited
// and a failing call each leave exactly one row in audit_logs, whose
// columns copy the record, whose record column chains as docs/audit.md
// says, and which mcpgw audit verify accepts (docs/audit.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { post, BIN, bearerClient, withGatewayLog } from './lib.mjs';
import { auditGateway, auditPolicy, eventually as poll, hashOf, sqliteRows, v2Client as v2ClientTo } from './audit_lib.mjs';

const POLICY = auditPolicy({ limited: ['apikey:tiny'], burst: 2 });

let gw, db, cfg, keys;
before(async () => {
  ({ gw, db, cfg, keys } = await auditGateway({ policy: POLICY, keys: ['alice', 'tiny'] }));
});
after(async () => { await gw?.stop(); });

// The rows, oldest first, read by the sqlite3 shell (not by mcpgw's code).
const rows = () => sqliteRows(db);
const eventually = (pred, what) => poll(() => pred(rows()),
  () => `${what}; the table holds:\n${rows().slice(-8).map((r) => r.record).join('\n')}`);

// One row, its columns the same as its record's members.
function one(list, what) {
  assert.equal(list.length, 1, `exactly one row for ${what}: ${JSON.stringify(list.map((r) => r.record))}`);
  const r = list[0];
  const rec = JSON.parse(r.record);
  assert.equal(r.seq, rec.seq);
  assert.equal(r.event_type, rec.event_type);
  assert.equal(r.user, rec.user ?? '');
  assert.equal(r.mcp_server, rec.mcp_server ?? '');
  assert.equal(r.tool_name, rec.tool_name ?? '');
  assert.equal(r.status, rec.status ?? '');
  assert.equal(r.hash, rec.hash);
  return rec;
}

const v2Client = (key) => v2ClientTo(gw.url, key);

test('SDK v2 (2026-07-28): an allowed call is one row, in the table when its answer arrives', withGatewayLog(async () => {
  const c = await v2Client(keys.alice);
  try {
    const r = await c.callTool({ name: 'fl__echo', arguments: { text: 'v2-allowed' } });
    assert.equal(r.content[0].text, 'v2-allowed');
    const rec = one(rows().filter((x) => JSON.parse(x.record).parameters?.text === 'v2-allowed'), 'the v2 call');
    assert.equal(rec.status, 'success');
    assert.equal(rec.user, 'apikey:alice');
    assert.equal(rec.protocol_version, '2026-07-28');
    assert.equal(rec.client?.name, 'audit-v2', 'the client named in the request, not the gateway');
    assert.equal(rec.client?.version, '2.0');
    assert.equal(rec.action, 'tools/call');
    assert.equal(rec.mcp_server, 'fl');
  } finally { await c.close(); }
}, () => gw));

test('SDK v2: a denied call and a failing call, one row each', withGatewayLog(async () => {
  const c = await v2Client(keys.alice);
  try {
    await assert.rejects(c.callTool({ name: 'fl__pid', arguments: {} }));
    await assert.rejects(c.callTool({ name: 'fl__nothing', arguments: {} }));
    const denied = one(await eventually((rs) => {
      const m = rs.filter((x) => x.tool_name === 'fl__pid');
      return m.length ? m : null;
    }, 'no row of the denied call'), 'the denied call');
    assert.equal(denied.status, 'denied');
    assert.equal(denied.policy_decision?.decision, 'deny');
    const failed = one(await eventually((rs) => {
      const m = rs.filter((x) => x.tool_name === 'fl__nothing');
      return m.length ? m : null;
    }, 'no row of the failing call'), 'the failing call');
    assert.equal(failed.status, 'error');
    assert.equal(typeof failed.error_code, 'number');
  } finally { await c.close(); }
}, () => gw));

test('SDK v1: allowed, unauthenticated and rate-limited requests, one row each, no credential in any', withGatewayLog(async () => {
  const c = await bearerClient(gw.url, keys.alice);
  try {
    const r = await c.callTool({ name: 'fl__echo', arguments: { text: 'v1-allowed' } });
    assert.equal(r.content[0].text, 'v1-allowed');
    // the answer was held until the row was committed: it is there now
    const rec = one(rows().filter((x) => JSON.parse(x.record).parameters?.text === 'v1-allowed'),
      'the v1 call, in the table when its answer arrives');
    assert.equal(rec.status, 'success');
    assert.equal(rec.client?.name, 'itest');
  } finally { await c.close(); }

  const unauth = rows().filter((x) => x.status === 'unauthenticated').length;
  const r401 = await post(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: 'Bearer not-a-key-0123456789' });
  assert.equal(r401.status, 401);
  const u = one((await eventually((rs) => {
    const m = rs.filter((x) => x.status === 'unauthenticated');
    return m.length > unauth ? m : null;
  }, 'no row of the unauthenticated request')).slice(unauth), 'the unauthenticated request');
  assert.equal(u.http_status, 401);

  let refused = 0;
  for (let i = 0; i < 8 && !refused; i++) {
    const res = await post(gw.url, { jsonrpc: '2.0', id: i, method: 'ping' }, { authorization: `Bearer ${keys.tiny}` });
    if (res.status === 429) refused++;
  }
  assert.equal(refused, 1);
  const rl = one(await eventually((rs) => {
    const m = rs.filter((x) => x.status === 'rate_limited');
    return m.length ? m : null;
  }, 'no row of the rate-limited request'), 'the rate-limited request');
  assert.equal(rl.user, 'apikey:tiny');

  const all = rows().map((x) => x.record).join('\n');
  for (const secret of [keys.alice, keys.tiny, 'not-a-key-0123456789'])
    assert.ok(!all.includes(secret), 'no credential in the trail');
}, () => gw));

test('the table chains (seq, prev_hash, hash as docs/audit.md says) and mcpgw audit verify accepts it', withGatewayLog(async () => {
  const rs = rows();
  assert.ok(rs.length >= 6);
  let prev = null;
  for (const r of rs) {
    const rec = JSON.parse(r.record);
    assert.equal(rec.hash, hashOf(r.record), `row ${r.seq}: hash`);
    if (prev) {
      assert.equal(rec.seq, prev.seq + 1, 'no gap');
      assert.equal(rec.prev_hash, prev.hash, `row ${r.seq}: prev_hash`);
    }
    prev = rec;
  }
  const v = spawnSync(BIN, ['audit', 'verify', '--config', cfg], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout + v.stderr);
}, () => gw));

// Another process that opens and closes the store (the sqlite3 shell here,
// `mcpgw audit query` or `mcpgw apikey` in life) must never find the
// gateway's connections unlocked: it would take the store, checkpoint it
// and delete the -wal and -shm files under them, and the audit writer's
// commits would go to a deleted file (unseen, lost in a crash). The store
// was once created by an open() and close() of its own path after the
// audit writer had opened it, which drops every POSIX lock of the process.
test('outside readers never delete the WAL under the gateway: every row is seen as its answer arrives', withGatewayLog(async () => {
  const c = await bearerClient(gw.url, keys.alice);
  try {
    for (let i = 0; i < 5; i++) {
      await c.callTool({ name: 'fl__echo', arguments: { text: `outside-${i}` } });
      one(rows().filter((x) => JSON.parse(x.record).parameters?.text === `outside-${i}`), `call ${i}, at once`);
    }
  } finally { await c.close(); }
  const fds = spawnSync('ls', ['-l', `/proc/${gw.proc.pid}/fd`], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(fds, /mcpgw\.db-(wal|shm) \(deleted\)/, fds);
}, () => gw));

test('a store in memory (store.path ":memory:") keeps the audit trail in memory: the gateway starts and answers', async () => {
  const { startGateway, connectClient, EVERYTHING } = await import('./lib.mjs');
  const gw = await startGateway(`store: { path: ":memory:" }\nservers:\n  e:\n    command: node\n    args: ["${EVERYTHING}"]\n`);
  try {
    const { client } = await connectClient(gw.url);
    const r = await client.callTool({ name: 'e__echo', arguments: { message: 'in memory' } });
    assert.match(r.content[0].text, /in memory/);
    const h = await (await fetch(`${gw.base}/health`)).json();
    assert.equal(h.audit.state, 'ok', JSON.stringify(h.audit));
    await client.close();
  } finally {
    await gw.stop();
  }
});
