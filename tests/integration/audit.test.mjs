// The audit trail (issue 10, docs/audit.md) with a file sink (and stdout):
// allowed, denied (policy), unauthenticated, rate-limited and failing calls
// each leave exactly one record with the right fields; the chain has no gap
// and every hash is the SHA-256 the documentation gives; a huge argument is
// cut and says so; with commit-before-answer a call's record is in the file
// when its answer arrives, also under `kill -9`, after which the chain goes
// on; a file sink that cannot be written stops serve and config check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startGateway, tempDir, freePort, post, BIN, apikeyCreate, bearerClient, connectClient, withGatewayLog,
} from './lib.mjs';
import { auditGateway, auditPolicy, checkChain, eventually, fileLines, flakyServer, sqliteRows } from './audit_lib.mjs';

const POLICY = auditPolicy({ limited: ['apikey:tiny'], burst: 4 });

let gw, file, keys;
before(async () => {
  let dir;
  ({ gw, dir, keys } = await auditGateway({ policy: POLICY, keys: ['alice', 'tiny'],
    audit: 'audit:\n  sinks:\n    - { type: file, path: audit.jsonl }\n    - { type: stdout }\n  parameters: full\n' }));
  file = join(dir, 'audit.jsonl');
});
after(async () => { await gw?.stop(); });

const lines = (path = file) => fileLines(path);
const records = (path) => lines(path).map((l) => JSON.parse(l));
const waitFor = (pred, what) => eventually(pred, () => `${what}; the file holds:\n${lines().slice(-10).join('\n')}`);

test('an allowed call: one record, in the file when the answer arrives (commit-before-answer)', withGatewayLog(async () => {
  const client = await bearerClient(gw.url, keys.alice);
  try {
    const r = await client.callTool({ name: 'fl__echo', arguments: { text: 'allowed-1' } });
    assert.equal(r.content[0].text, 'allowed-1');
    // no wait: the answer was held until the record was written
    const mine = records().filter((x) => x.parameters?.text === 'allowed-1');
    assert.equal(mine.length, 1, 'exactly one record');
    const rec = mine[0];
    assert.equal(rec.event_type, 'mcp_request');
    assert.equal(rec.action, 'tools/call');
    assert.equal(rec.tool_name, 'fl__echo');
    assert.equal(rec.mcp_server, 'fl');
    assert.equal(rec.user, 'apikey:alice');
    assert.equal(rec.status, 'success');
    assert.equal(typeof rec.request_id === 'number' || typeof rec.request_id === 'string', true);
    assert.equal(typeof rec.duration_ms, 'number');
    assert.match(rec.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(!JSON.stringify(rec).includes(keys.alice), 'no API key in the record');
  } finally { await client.close(); }
}, () => gw));

test('a call the policy denies: one record, status denied', withGatewayLog(async () => {
  const client = await bearerClient(gw.url, keys.alice);
  try {
    await assert.rejects(client.callTool({ name: 'fl__pid', arguments: {} }));
    const mine = await waitFor(() => {
      const m = records().filter((x) => x.tool_name === 'fl__pid');
      return m.length ? m : null;
    }, 'no record of the denied call');
    assert.equal(mine.length, 1);
    assert.equal(mine[0].status, 'denied');
    assert.equal(mine[0].user, 'apikey:alice');
    assert.equal(mine[0].stage, 'authorize');
    assert.equal(typeof mine[0].error_code, 'number');
  } finally { await client.close(); }
}, () => gw));

test('an unauthenticated request: one record, without the credential', withGatewayLog(async () => {
  const before = records().filter((x) => x.status === 'unauthenticated').length;
  const r = await post(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: 'Bearer not-a-real-key-123' });
  assert.equal(r.status, 401);
  const mine = await waitFor(() => {
    const m = records().filter((x) => x.status === 'unauthenticated');
    return m.length > before ? m.slice(before) : null;
  }, 'no record of the unauthenticated request');
  assert.equal(mine.length, 1);
  assert.equal(mine[0].user, undefined);
  assert.equal(mine[0].http_status, 401);
  assert.ok(!readFileSync(file, 'utf8').includes('not-a-real-key-123'), 'the token is in no record');
}, () => gw));

test('a rate-limited call: one record per refusal, status rate_limited', withGatewayLog(async () => {
  let refused = 0;
  for (let i = 0; i < 8 && !refused; i++) {
    const r = await post(gw.url, { jsonrpc: '2.0', id: i, method: 'ping' }, { authorization: `Bearer ${keys.tiny}` });
    if (r.status === 429) refused++;
  }
  assert.equal(refused, 1);
  const mine = await waitFor(() => {
    const m = records().filter((x) => x.status === 'rate_limited');
    return m.length ? m : null;
  }, 'no record of the rate-limited request');
  assert.equal(mine.length, 1);
  assert.equal(mine[0].user, 'apikey:tiny');
}, () => gw));

test('a failing call (a tool nobody has): one record, status error with its code', withGatewayLog(async () => {
  const client = await bearerClient(gw.url, keys.alice);
  try {
    await assert.rejects(client.callTool({ name: 'fl__nothing', arguments: {} }));
    const mine = await waitFor(() => {
      const m = records().filter((x) => x.tool_name === 'fl__nothing');
      return m.length ? m : null;
    }, 'no record of the failing call');
    assert.equal(mine.length, 1);
    assert.equal(mine[0].status, 'error');
    assert.equal(mine[0].error_code, -32602);
  } finally { await client.close(); }
}, () => gw));

test('a huge argument is cut to a bounded prefix and the record says so', withGatewayLog(async () => {
  const client = await bearerClient(gw.url, keys.alice);
  try {
    const big = 'x'.repeat(1024 * 1024);
    const r = await client.callTool({ name: 'fl__echo', arguments: { text: `huge-${big}` } });
    assert.equal(r.content[0].text.length, big.length + 5);
    const rec = records().find((x) => x.parameters?.text?.startsWith('huge-'));
    assert.ok(rec, 'a record of the huge call');
    assert.equal(rec.parameters_truncated, true);
    const kept = JSON.stringify(rec.parameters).length;
    assert.ok(kept <= 64 * 1024, `kept ${kept} bytes`);
    assert.ok(rec.parameters.text.startsWith('huge-xxx'));
  } finally { await client.close(); }
}, () => gw));

test('the chain: seq without a gap, each prev_hash the hash before, each hash the SHA-256 of its line', withGatewayLog(async () => {
  const ls = lines();
  assert.ok(ls.length >= 6, `records so far: ${ls.length}`);
  checkChain(ls);
  assert.ok(records().some((x) => x.event_type === 'session_open'), 'session opens are recorded');
  const h = await (await fetch(`${gw.base}/health`)).json();
  assert.equal(h.audit.ok, true);
  assert.equal(h.audit.sinks[0].type, 'file');
  assert.equal(h.audit.sinks[0].ok, true);
  assert.ok(h.audit.durable_seq >= ls.length);
}, () => gw));

test('kill -9 under load: every answered call is in every durable sink (the store and the file); after a restart the chain goes on', async () => {
  const dir = tempDir();
  const port = await freePort();
  const body = `${flakyServer()}auth: none\naudit:\n  sinks:\n    - { type: sqlite }\n    - { type: file, path: audit.jsonl }\n`;
  const path = join(dir, 'audit.jsonl');
  let g = await startGateway(body, { dir, port });
  const answered = [];
  let stop = false;
  const worker = async (w) => {
    const c = await connectClient(g.url);
    for (let i = 0; !stop; i++) {
      try {
        await c.client.callTool({ name: 'fl__echo', arguments: { text: `k-${w}-${i}` } });
        if (!stop) answered.push(`k-${w}-${i}`);
      } catch { break; }
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  // Bound by work, not time: kill once 40 calls are answered (1.5 s gave
  // fewer than 10 on a loaded machine under ASan).
  while (answered.length < 40) await new Promise((r) => setTimeout(r, 10));
  const seen = answered.length;
  g.proc.kill('SIGKILL');
  stop = true;
  await Promise.allSettled(workers);
  assert.ok(seen > 10, `calls answered before the kill: ${seen}`);
  const texts = new Set(records(path).map((x) => x.parameters?.text));
  const missing = answered.slice(0, seen).filter((t) => !texts.has(t));
  assert.deepEqual(missing, [], 'answered calls without a record in the file');
  const stored = new Set(sqliteRows(join(dir, 'mcpgw.db'), 'record').map((r) => JSON.parse(r.record).parameters?.text));
  const unstored = answered.slice(0, seen).filter((t) => !stored.has(t));
  assert.deepEqual(unstored, [], 'answered calls without a row in the store');

  g = await startGateway(body, { dir, port });
  try {
    const c = await connectClient(g.url);
    await c.client.callTool({ name: 'fl__echo', arguments: { text: 'after-restart' } });
    await c.close();
  } finally { await g.stop(); }
  const ls = lines(path);
  checkChain(ls); // a line the kill cut is gone, and the chain goes on from the last whole one
  assert.ok(records(path).some((x) => x.parameters?.text === 'after-restart'));
  // the store's chain goes on too, and mcpgw audit verify accepts it
  const v = spawnSync(BIN, ['audit', 'verify', '--db', join(dir, 'mcpgw.db'), '--key', join(dir, 'mcpgw-audit-key.pem')], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('a file sink whose directory cannot be written: serve and config check exit 1 naming the path', () => {
  const dir = tempDir();
  const target = join(dir, 'no-such-dir', 'audit.jsonl');
  const cfg = join(dir, 'mcpgw.yaml');
  writeFileSync(cfg, `listen: "127.0.0.1:1"\naudit:\n  sinks:\n    - { type: file, path: "${target}" }\n`);
  for (const args of [['config', 'check', '-c', cfg], ['serve', '-c', cfg]]) {
    const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
    assert.ok((r.stdout + r.stderr).includes(target), `${args[0]} names the path: ${r.stderr}`);
  }
});

test('a durable sink that fails (on_failure: refuse): new calls get -32031 naming the sink, /health says why', async () => {
  // /dev/full takes the open and refuses every write (ENOSPC)
  const g = await startGateway(`${flakyServer()}auth: none\naudit:\n  sinks:\n    - { type: file, path: /dev/full }\n`);
  try {
    const c = await connectClient(g.url);
    try {
      let code;
      for (let i = 0; i < 50 && code === undefined; i++) {
        try {
          await c.client.callTool({ name: 'fl__echo', arguments: { text: `f-${i}` } });
          await new Promise((r) => setTimeout(r, 100));
        } catch (e) {
          code = e.code;
          assert.match(e.message, /audit sink file \/dev\/full unavailable: .*No space left on device/);
        }
      }
      assert.equal(code, -32031);
      const h = await (await fetch(`${g.base}/health`)).json();
      assert.equal(h.audit.ok, false);
      assert.equal(h.audit.sinks[0].ok, false);
      assert.match(h.audit.sinks[0].reason, /audit sink file \/dev\/full unavailable/);
      const ready = await fetch(`${g.base}/ready`);
      assert.equal(ready.status, 503);
      const why = (await ready.json()).not_ready.find((x) => x.name === 'audit');
      assert.match(why?.last_error ?? '', /audit sink file \/dev\/full unavailable/);
    } finally { await c.close(); }
  } finally {
    g.proc.kill('SIGKILL'); // a sink that never recovers: a clean stop would wait out its grace
  }
});

test('checkpoints: signed every checkpoint_every and at a clean stop; mcpgw audit verify passes', async () => {
  const dir = tempDir();
  const body = `${flakyServer()}auth: none\naudit:\n  sinks:\n    - { type: file, path: audit.jsonl }\n` +
    '  chain: { checkpoint_every: 200ms, signing_key: "file://signing.pem" }\n';
  const g = await startGateway(body, { dir });
  try {
    const c = await connectClient(g.url);
    await c.client.callTool({ name: 'fl__echo', arguments: { text: 'cp-1' } });
    await new Promise((r) => setTimeout(r, 600));
    await c.client.callTool({ name: 'fl__echo', arguments: { text: 'cp-2' } });
    await c.close();
  } finally { await g.stop(); }
  const path = join(dir, 'audit.jsonl');
  const cps = lines(`${path}.checkpoints`).map((l) => JSON.parse(l));
  const recs = records(path);
  assert.ok(cps.length >= 2, `checkpoints: ${cps.length}`);
  const last = recs[recs.length - 1];
  assert.equal(cps[cps.length - 1].seq, last.seq, 'the stop signs the head');
  assert.equal(cps[cps.length - 1].hash, last.hash);
  const r = spawnSync(BIN, ['audit', 'verify', '--file', path, '--key', join(dir, 'signing.pem')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /checkpoints verified/);
});

test('a reload is recorded (config_reload); a changed audit: keeps its settings until a restart, said in the log', async () => {
  const dir = tempDir();
  const sinks = 'audit:\n  sinks:\n    - { type: file, path: audit.jsonl }\n';
  const g = await startGateway(`auth: none\n${sinks}`, { dir });
  try {
    writeFileSync(g.cfg, `${readFileSync(g.cfg, 'utf8')}  parameters: none\n`);
    g.proc.kill('SIGHUP');
    const path = join(dir, 'audit.jsonl');
    const rec = await eventually(() => records(path).find((x) => x.event_type === 'config_reload'),
      () => `no config_reload record:\n${g.logs().slice(-1500)}`);
    assert.equal(rec.status, 'success');
    assert.match(rec.reason, /servers: 0 added/);
    // the log line reaches us through a pipe, the record through the file: either may come first
    const said = /audit: changed: the audit trail keeps its settings until a restart/;
    await eventually(() => said.test(g.logs()), () => `not in the log:\n${g.logs().slice(-1500)}`);
    assert.match(g.logs(), said);
  } finally { await g.stop(); }
});

// `mcpgw apikey` runs in another process; the gateway sees the store change
// (it looks every second) and records each key that changed, by name, never
// the key itself.
test('API key changes made with mcpgw apikey are recorded (apikey_change), without the key', async () => {
  const { gw: g, cfg, dir } = await auditGateway({ policy: POLICY, keys: ['first'],
    audit: 'audit:\n  sinks:\n    - { type: file, path: audit.jsonl }\n' });
  const path = join(dir, 'audit.jsonl');
  const changes = () => records(path).filter((x) => x.event_type === 'apikey_change');
  const changed = (pred, what) => eventually(() => changes().find(pred),
    () => `no ${what} record:\n${JSON.stringify(changes())}\n${g.logs().slice(-1500)}`);
  try {
    const key = apikeyCreate(cfg, 'second', 'user');
    const made = await changed((x) => x.tool_name === 'apikey:second', 'created');
    assert.match(made.reason, /API key created/);
    assert.equal(made.status, 'success');
    spawnSync(BIN, ['apikey', 'revoke', '--name', 'second', '-c', cfg], { encoding: 'utf8' });
    const gone = await changed((x) => x.tool_name === 'apikey:second' && /revoked|removed/.test(x.reason), 'revoked');
    assert.ok(gone.seq > made.seq);
    assert.equal(changes().filter((x) => x.tool_name === 'apikey:first').length, 0, 'an unchanged key is not recorded');
    assert.ok(!readFileSync(path, 'utf8').includes(key), 'the key itself is never in the trail');
  } finally { await g.stop(); }
});

// The bad-input table of issue 10: an AWS key, a password field and a bearer
// token in a tool's arguments, through a real gateway in each parameters mode,
// and a 16 MiB argument (max_body raised so that it reaches the gateway; the
// guardrails off: their own 16 MiB bound would refuse the echoed answer).
test('parameters modes: an AWS key, a password and a bearer token are masked (redacted), absent (none), hashed (hashed); a 16 MiB argument is cut', async () => {
  const aws = 'AKIAIOSFODNN7EXAMPLE';
  const password = 'correct-horse-battery-staple-9';
  const bearer = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
  const args = { text: `key ${aws}`, password, header: bearer };
  const secretsIn = (line) => [aws, password, bearer.slice(7)].filter((s) => line.includes(s));
  for (const mode of ['redacted', 'none', 'hashed']) {
    const dir = tempDir();
    const port = await freePort();
    const body = `${flakyServer()}auth: none\nguardrails: { enabled: false }\nlimits:\n  max_body: 32MiB\naudit:\n  sinks:\n    - { type: file, path: audit.jsonl }\n  parameters: ${mode}\n`;
    const g = await startGateway(body, { dir, port });
    try {
      const c = await connectClient(g.url);
      await c.client.callTool({ name: 'fl__echo', arguments: args });
      if (mode === 'redacted') {
        const big = 'y'.repeat(16 * 1024 * 1024 - 4); // with its prefix, 16 MiB of text
        const r = await c.client.callTool({ name: 'fl__echo', arguments: { text: `big-${big}` } });
        assert.equal(r.content[0].text.length, 16 * 1024 * 1024);
      }
      await c.close();
    } finally { await g.stop(); }
    const path = join(dir, 'audit.jsonl');
    const ls = fileLines(path);
    const calls = ls.map((l) => JSON.parse(l)).filter((x) => x.action === 'tools/call');
    const rec = calls[0];
    assert.ok(rec, `${mode}: a record of the call`);
    assert.deepEqual(secretsIn(ls.join('\n')), [], `${mode}: no secret in the trail`);
    if (mode === 'redacted') {
      assert.equal(rec.parameters.password, '[REDACTED]');
      assert.equal(rec.parameters.text, 'key [REDACTED]');
      assert.equal(rec.parameters.header, 'Bearer [REDACTED]');
      const cut = calls[1];
      assert.equal(cut.parameters_truncated, true, 'the 16 MiB call says it was cut');
      assert.ok(JSON.stringify(cut.parameters).length <= 64 * 1024);
      assert.ok(cut.parameters.text.startsWith('big-yyy'));
    } else if (mode === 'none') {
      assert.equal(rec.parameters, undefined, 'no parameters member');
    } else {
      for (const k of ['text', 'password', 'header'])
        assert.match(rec.parameters[k], /^sha256:[0-9a-f]{16}$/, `${k} hashed`);
      assert.notEqual(rec.parameters.text, rec.parameters.header);
    }
    checkChain(ls);
  }
});
