// Issue 10's acceptance matrix: one gateway with all four durable sinks at
// once (the SQLite store, a file, PostgreSQL, syslog over TCP), API keys, a
// policy that denies a tool and a client rate limit. With the SDK v1 client
// (2025 protocol, sessions) and the SDK v2 client (2026-07-28), an allowed,
// a denied, an unauthenticated (bad key, no key), a rate-limited and a
// failing call (a JSON-RPC error upstream; a result with isError: true) each
// leave exactly one record in every sink: the same line in each, with the
// fields docs/audit.md gives for it, and the SQL columns and syslog header
// agreeing with it. At the end every sink holds the same trail and
// `mcpgw audit verify` accepts each durable one that can be read back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BIN, bearerClient, connectClient, withGatewayLog } from './lib.mjs';
import {
  MODERN, auditGateway, auditPolicy, checkChain, eventually, fileLines, hashOf, pgRows, sqliteRows, v2Client,
} from './audit_lib.mjs';
import { startPostgres } from './pg.mjs';
import { SyslogReceiver } from './syslog_receiver.mjs';

const POLICY = auditPolicy({ limited: ['apikey:tiny-v1', 'apikey:tiny-v2'], burst: 4 });
const BAD_KEY = 'mcpgw_badbadba_not-a-real-key-0123456789';
const SEVERITY = { success: 6, denied: 5, unauthenticated: 5, rate_limited: 5, error: 4, tool_error: 4 };

let pg, rcv, gw, cfg, dir, db, file;
let keys = {};
before(async () => {
  pg = await startPostgres();
  rcv = await new SyslogReceiver('tcp').start();
  const audit = 'audit:\n  sinks:\n    - { type: sqlite }\n    - { type: file, path: audit.jsonl }\n' +
    `    - { type: postgres, url: "${pg.url}" }\n` +
    `    - { type: syslog, address: "${rcv.address()}", protocol: tcp }\n` +
    '  parameters: full\n  chain: { checkpoint_every: 1s, signing_key: "file://signing.pem" }\n';
  ({ gw, cfg, dir, db, keys } = await auditGateway({ policy: POLICY, audit, keys: ['alice', 'tiny-v1', 'tiny-v2'] }));
  file = join(dir, 'audit.jsonl');
});
after(async () => {
  try { await gw?.stop(); } finally {
    await rcv?.stop();
    await pg?.destroy();
  }
});

// ---- the four sinks, each read back its own way ----------------------------

// An SQL row: its columns copy its record's members (docs/audit.md, "SQL tables").
function sqlLine(row) {
  const rec = JSON.parse(row.record);
  assert.equal(Number(row.seq), rec.seq, 'column seq');
  assert.equal(Number(row.ts_ms), Date.parse(rec.timestamp), 'column ts_ms');
  assert.equal(row.event_type, rec.event_type, 'column event_type');
  assert.equal(row.user, rec.user ?? '', 'column user');
  assert.equal(row.mcp_server, rec.mcp_server ?? '', 'column mcp_server');
  assert.equal(row.tool_name, rec.tool_name ?? '', 'column tool_name');
  assert.equal(row.status, rec.status ?? '', 'column status');
  assert.equal(row.hash, rec.hash, 'column hash');
  return row.record;
}

// A syslog message: its header and structured data agree with its record
// (docs/audit.md, "Syslog sink"); MSG is the line.
function syslogLine(m) {
  const rec = JSON.parse(m.msg);
  assert.equal(m.facility, 16);
  assert.equal(m.severity, SEVERITY[rec.status] ?? 6, `severity of ${rec.status}`);
  assert.equal(m.hostname, hostname());
  assert.equal(m.appName, 'mcpgw');
  assert.equal(m.procId, String(gw.proc.pid));
  assert.equal(m.msgId, rec.event_type);
  assert.equal(m.timestamp, rec.timestamp);
  assert.deepEqual(m.sd['mcpgw@32473'], { seq: String(rec.seq), hash: rec.hash });
  return m.msg;
}

// Every sink's lines, oldest first.
async function sinkLines() {
  return {
    sqlite: sqliteRows(db, 'seq, ts_ms, event_type, "user", mcp_server, tool_name, status, record, hash').map(sqlLine),
    file: fileLines(file),
    postgres: (await pgRows(pg)).map(sqlLine),
    syslog: rcv.messages.map(syslogLine),
  };
}

// The one record pred picks in every sink, once it is in all four: exactly
// one in each, the same line in each, its hash the line's. Returns it parsed.
async function oneInEverySink(pred, what) {
  let last;
  const found = await eventually(async () => {
    last = await sinkLines();
    const mine = Object.fromEntries(Object.entries(last).map(([k, ls]) => [k, ls.filter((l) => pred(JSON.parse(l)))]));
    return Object.values(mine).every((ls) => ls.length) ? mine : null;
  }, () => `${what}: not in every sink; per sink: ${JSON.stringify(Object.fromEntries(
    Object.entries(last ?? {}).map(([k, ls]) => [k, ls.filter((l) => pred(JSON.parse(l)))])))}`);
  for (const [sink, ls] of Object.entries(found)) assert.equal(ls.length, 1, `${what}: exactly one record in ${sink}: ${ls.join('\n')}`);
  const line = found.file[0];
  for (const [sink, ls] of Object.entries(found)) assert.equal(ls[0], line, `${what}: ${sink} holds the file's line`);
  assert.equal(JSON.parse(line).hash, hashOf(line));
  return JSON.parse(line);
}

// The highest seq the file sink holds now (records after it are new).
const head = () => fileLines(file).map((l) => JSON.parse(l).seq).at(-1) ?? 0;

// Members each record of a tools/call has whatever its outcome.
function assertCall(rec, era, { user, tool, status, text }) {
  assert.equal(rec.event_type, 'mcp_request');
  assert.equal(rec.action, 'tools/call');
  assert.equal(rec.user, user);
  assert.equal(rec.user_kind, 'apikey');
  assert.deepEqual(rec.roles, ['user']);
  assert.equal(rec.status, status);
  assert.equal(rec.mcp_server, 'fl');
  assert.equal(rec.tool_name, tool);
  assert.equal(rec.endpoint, '/mcp');
  assert.deepEqual(rec.parameters, { text });
  assert.ok(typeof rec.request_id === 'number' || typeof rec.request_id === 'string', 'request_id');
  assert.equal(typeof rec.duration_ms, 'number');
  assert.equal(rec.client?.name, `audit-${era.name}`, 'the client named in the request');
  assert.equal(rec.client?.version, era.version);
  assert.match(rec.client?.address ?? '', /^127\.0\.0\.1:\d+$/, 'the client\'s address');
  if (era.name === 'v1') {
    assert.match(rec.protocol_version, /^2025-/);
    assert.equal(typeof rec.session_id, 'string', 'a 2025 call has its session');
  } else {
    assert.equal(rec.protocol_version, MODERN);
  }
}

// An HTTP refusal before any MCP: the request is not read, so only who,
// where and why are known; never a credential.
function assertRefusal(rec, { user, status, http, stage }) {
  assert.equal(rec.event_type, 'mcp_request');
  assert.equal(rec.status, status);
  assert.equal(rec.user, user);
  assert.equal(rec.user_kind, user ? 'apikey' : 'anonymous');
  assert.deepEqual(rec.roles, user ? ['user'] : undefined);
  assert.equal(rec.http_status, http);
  assert.equal(rec.stage, stage);
  assert.equal(rec.endpoint, '/mcp');
  assert.match(rec.client?.address ?? '', /^127\.0\.0\.1:\d+$/, 'the client\'s address');
  assert.equal(typeof rec.reason, 'string');
  assert.equal(rec.policy_decision, undefined);
  for (const k of Object.values(keys).concat(BAD_KEY)) assert.ok(!JSON.stringify(rec).includes(k), 'no credential');
}

const ERAS = [
  { name: 'v1', version: '1', connect: (key) => (key ? bearerClient(gw.url, key, 'audit-v1')
    : connectClient(gw.url, { name: 'audit-v1' }).then((c) => c.client)) },
  { name: 'v2', version: '2.0', connect: (key) => v2Client(gw.url, key, { name: 'audit-v2', version: '2.0' }) },
];

for (const era of ERAS) {
  const tag = (what) => `${era.name}-${what}`;
  const calls = (text) => (r) => r.action === 'tools/call' && r.parameters?.text === text;

  test(`${era.name}: an allowed call, a denied one and two failing ones: one record each in every sink`, withGatewayLog(async () => {
    const c = await era.connect(keys.alice);
    try {
      const ok = await c.callTool({ name: 'fl__echo', arguments: { text: tag('allowed') } });
      assert.equal(ok.content[0].text, tag('allowed'));
      const denied = await c.callTool({ name: 'fl__pid', arguments: { text: tag('denied') } }).then(() => null, (e) => e);
      assert.ok(denied, 'the policy denies fl__pid');
      const failed = await c.callTool({ name: 'fl__fail', arguments: { text: tag('fail') } }).then(() => null, (e) => e);
      assert.equal(failed?.code, -32000);
      const toolError = await c.callTool({ name: 'fl__tool_error', arguments: { text: tag('tool-error') } });
      assert.equal(toolError.isError, true);
    } finally { await c.close(); }

    const alice = { user: 'apikey:alice' };
    let rec = await oneInEverySink(calls(tag('allowed')), 'the allowed call');
    assertCall(rec, era, { ...alice, tool: 'fl__echo', status: 'success', text: tag('allowed') });
    assert.deepEqual(rec.policy_decision, { decision: 'allow', rule: 'permission:user' });
    assert.equal(rec.error_code, undefined);
    assert.notEqual(rec.is_error, true);

    rec = await oneInEverySink(calls(tag('denied')), 'the denied call');
    assertCall(rec, era, { ...alice, tool: 'fl__pid', status: 'denied', text: tag('denied') });
    assert.deepEqual(rec.policy_decision, { decision: 'deny', rule: 'rule:no-pid' });
    assert.equal(rec.stage, 'authorize');
    assert.equal(typeof rec.error_code, 'number');

    rec = await oneInEverySink(calls(tag('fail')), 'the call the upstream failed');
    assertCall(rec, era, { ...alice, tool: 'fl__fail', status: 'error', text: tag('fail') });
    assert.deepEqual(rec.policy_decision, { decision: 'allow', rule: 'permission:user' });
    assert.equal(rec.error_code, -32000);

    rec = await oneInEverySink(calls(tag('tool-error')), 'the call whose result is isError');
    assertCall(rec, era, { ...alice, tool: 'fl__tool_error', status: 'tool_error', text: tag('tool-error') });
    assert.equal(rec.is_error, true);
    assert.equal(rec.error_code, undefined);
  }, () => gw));

  for (const [how, key] of [['a bad key', BAD_KEY], ['no key', null]]) {
    test(`${era.name}: unauthenticated (${how}): one record in every sink, anonymous, without the credential`, withGatewayLog(async () => {
      const mark = head();
      const e = await era.connect(key).then(async (c) => {
        try {
          return await c.callTool({ name: 'fl__echo', arguments: { text: tag('unauth') } }).then(() => null, (x) => x);
        } finally { await c.close(); }
      }, (x) => x);
      assert.ok(e, 'refused');
      const rec = await oneInEverySink((r) => r.seq > mark && r.status === 'unauthenticated', `the request with ${how}`);
      assertRefusal(rec, { user: undefined, status: 'unauthenticated', http: 401, stage: 'authenticate' });
    }, () => gw));
  }

  test(`${era.name}: rate-limited: one record in every sink for the refused request`, withGatewayLog(async () => {
    const user = `apikey:tiny-${era.name}`;
    const c = await era.connect(keys[`tiny-${era.name}`]);
    let refused = null;
    try {
      for (let i = 0; i < 10 && !refused; i++) {
        refused = await c.callTool({ name: 'fl__echo', arguments: { text: tag(`rl-${i}`) } }).then(() => null, (x) => x);
      }
    } finally { await c.close(); }
    assert.ok(refused, 'a call past the burst is refused');
    const rec = await oneInEverySink((r) => r.status === 'rate_limited' && r.user === user, 'the rate-limited request');
    assertRefusal(rec, { user, status: 'rate_limited', http: 429, stage: 'admit' });
  }, () => gw));
}

test('every sink holds the same trail, each call exactly once; mcpgw audit verify accepts the file, the store and PostgreSQL', withGatewayLog(async () => {
  await gw.stop(); // a clean stop writes everything queued and signs the head (stop() again in after() is a no-op)
  const ls = fileLines(file);
  const lastSeq = JSON.parse(ls.at(-1)).seq;
  await rcv.waitFor((ms) => ms.some((m) => Number(m.sd['mcpgw@32473'].seq) === lastSeq), 10000, 'the last record over syslog');
  const all = await sinkLines();
  checkChain(ls);
  for (const k of [...Object.values(keys), BAD_KEY]) assert.ok(!ls.join('\n').includes(k), 'no credential in the trail');
  assert.deepEqual(all.sqlite, ls, 'the store holds the file\'s lines');
  assert.deepEqual(all.postgres, ls, 'PostgreSQL holds the file\'s lines');
  assert.deepEqual(all.syslog, ls, 'syslog got the file\'s lines, each once');
  // with API keys required no session is anonymous (the gateway's own
  // session serving 2026-07-28 requests is no client's and not recorded)
  const sessions = ls.filter((l) => /"event_type":"session_(open|close)"/.test(l)).map((l) => JSON.parse(l));
  assert.ok(sessions.length >= 4, 'the v1 clients\' sessions, opened and closed');
  assert.deepEqual(sessions.filter((r) => !r.user || r.endpoint !== '/mcp'), [], 'each session\'s user and endpoint');
  const byText = (t) => ls.filter((l) => JSON.parse(l).parameters?.text === t);
  for (const era of ['v1', 'v2']) {
    for (const what of ['allowed', 'denied', 'fail', 'tool-error']) assert.equal(byText(`${era}-${what}`).length, 1, `${era}-${what}`);
  }
  const key = join(dir, 'signing.pem');
  for (const args of [['--file', file, '--key', key], ['--db', db, '--key', key], ['--pg', pg.url, '--key', key], ['-c', cfg]]) {
    const r = spawnSync(BIN, ['audit', 'verify', ...args], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, `${args[0]}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^ok: ${lastSeq} records, seq 1 to ${lastSeq}; \\d+ checkpoints verified$`, 'm'));
  }
}, () => gw));
