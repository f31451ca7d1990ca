// The pipeline's guard-in, guard-out and record slots are real: a
// test-only stage (MCPGW_TEST_STAGE, src/mcp/stage_test.c) denies one tool
// before it is sent, rewrites the answer of another, and records every
// exchange with its outcome, including those refused at authentication and
// admission before they became calls (docs/internals/pipeline.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  startGateway, tempDir, freePort, post, initSession, rpc, ROOT, BIN, apikeyCreate, writeGatewayFiles, allowAllRole,
  bearerClient, apiKeyAuthYaml,
} from './lib.mjs';

const FLAKY = join(ROOT, 'tests', 'fixtures', 'flaky-server.mjs');
const POLICY = `
roles:
${allowAllRole('user')}
clients:
  "apikey:tiny":
    max_requests_per_minute: 1
    burst: 3
default_policy: deny
`;

let gw;
const keys = {};
before(async () => {
  const dir = tempDir();
  const port = await freePort();
  const body = `servers:\n  fl:\n    command: node\n    args: ["${FLAKY}"]\n    env:\n      FLAKY_STATE: "${tempDir()}"\n` +
    apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, POLICY);
  keys.alice = apikeyCreate(cfg, 'alice', 'user');
  keys.tiny = apikeyCreate(cfg, 'tiny', 'user');
  gw = await startGateway(body, { dir, port,
    env: { MCPGW_TEST_STAGE: 'deny=fl__pid,rewrite=fl__echo,record=1' } });
});
after(async () => { await gw?.stop(); });

// The exchanges the record slot saw so far, oldest first.
function records() {
  const out = [];
  for (const line of gw.logs().split('\n')) {
    if (!line.includes('"comp":"teststage"')) continue;
    const msg = JSON.parse(line).msg;
    if (msg.startsWith('record ')) out.push(JSON.parse(msg.slice(7).replaceAll("'", '"')));
  }
  return out;
}

async function recordAfter(n, pred) {
  for (let i = 0; i < 100; i++) {
    const r = records().slice(n).find(pred);
    if (r) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`no such record; saw:\n${JSON.stringify(records().slice(n), null, 1)}`);
}

test('a call that passes every stage is recorded once with its outcome, server and caller', async () => {
  const client = await bearerClient(gw.url, keys.alice);
  try {
    const n = records().length;
    const r = await client.callTool({ name: 'fl__slow', arguments: { ms: 10 } });
    assert.equal(r.content[0].text, 'slept 10');
    const rec = await recordAfter(n, (x) => x.target === 'fl__slow');
    assert.deepEqual({ ...rec }, { method: 'tools/call', target: 'fl__slow', server: 'fl', subject: 'apikey:alice',
      session: rec.session, stage: 'guard_out', outcome: 'success', code: 0, status: 0, has_id: true });
    assert.equal(records().slice(n).filter((x) => x.target === 'fl__slow').length, 1, 'recorded once');
  } finally { await client.close(); }
});

test('guard in: a denied call is answered with the stage\'s error and recorded as denied', async () => {
  const client = await bearerClient(gw.url, keys.alice);
  try {
    const n = records().length;
    await assert.rejects(client.callTool({ name: 'fl__pid', arguments: {} }),
      (e) => e.code === -32030 && /refused by guard stage 'test'/.test(e.message));
    const rec = await recordAfter(n, (x) => x.target === 'fl__pid');
    assert.equal(rec.outcome, 'denied');
    assert.equal(rec.stage, 'guard_in');
    assert.equal(rec.code, -32030);
    // the session goes on
    const ok = await client.callTool({ name: 'fl__slow', arguments: { ms: 1 } });
    assert.equal(ok.content[0].text, 'slept 1');
  } finally { await client.close(); }
});

test('guard out: the answer is rewritten before the client sees it', async () => {
  const client = await bearerClient(gw.url, keys.alice);
  try {
    const r = await client.callTool({ name: 'fl__echo', arguments: { text: 'original' } });
    assert.equal(r.content[0].text, 'rewritten by the test stage');
  } finally { await client.close(); }
});

test('a name nobody has is recorded at resolve with its error', async () => {
  const client = await bearerClient(gw.url, keys.alice);
  try {
    const n = records().length;
    await assert.rejects(client.callTool({ name: 'fl__nothing', arguments: {} }), (e) => e.code === -32602);
    const rec = await recordAfter(n, (x) => x.target === 'fl__nothing');
    assert.equal(rec.stage, 'resolve');
    assert.equal(rec.outcome, 'error');
    assert.equal(rec.code, -32602);
  } finally { await client.close(); }
});

test('refused at authentication: recorded, without a credential in the record', async () => {
  const n = records().length;
  const r = await post(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: 'Bearer not-a-key' });
  assert.equal(r.status, 401);
  const rec = await recordAfter(n, (x) => x.stage === 'authenticate');
  assert.equal(rec.outcome, 'unauthenticated');
  assert.equal(rec.status, 401);
  assert.equal(rec.subject, null);
  assert.ok(!gw.logs().includes('not-a-key'), 'the presented token is in no log or record');
});

test('refused at admission (a caller over its quota): recorded as rate limited', async () => {
  const n = records().length;
  let status = 0;
  for (let i = 0; i < 6 && status !== 429; i++) {
    const resp = await post(gw.url, { jsonrpc: '2.0', id: i, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
    { authorization: `Bearer ${keys.tiny}` });
    status = resp.status;
  }
  assert.equal(status, 429);
  const rec = await recordAfter(n, (x) => x.stage === 'admit');
  assert.equal(rec.outcome, 'rate_limited');
  assert.equal(rec.status, 429);
});

test('a call the client cancels is recorded as cancelled', async () => {
  const client = await bearerClient(gw.url, keys.alice);
  try {
    const n = records().length;
    const ctl = new AbortController();
    const call = client.callTool({ name: 'fl__slow', arguments: { ms: 3000 } }, undefined, { signal: ctl.signal });
    await new Promise((r) => setTimeout(r, 200)); // wherever it is then: the list fetch or upstream
    ctl.abort('gave up');
    await assert.rejects(call);
    const rec = await recordAfter(n, (x) => x.target === 'fl__slow');
    assert.equal(rec.outcome, 'cancelled');
  } finally { await client.close(); }
});

test('2026-07-28 requests walk the same stages: denied in, rewritten out, recorded', async () => {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const call = (name, args) => post(gw.url, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name, arguments: args, _meta: meta } },
    { authorization: `Bearer ${keys.alice}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name });
  const n = records().length;
  const denied = await call('fl__pid', {});
  assert.equal(denied.json.error.code, -32030, denied.body);
  const rewritten = await call('fl__echo', { text: 'original' });
  assert.equal(rewritten.json.result.content[0].text, 'rewritten by the test stage', rewritten.body);
  const rec = await recordAfter(n, (x) => x.target === 'fl__pid');
  assert.equal(rec.outcome, 'denied');
  assert.equal(rec.session, null, '2026-07-28 requests have no session');
});

test('mcpgw stdio: a request refused by a session bound is recorded at admit', async () => {
  const { spawn } = await import('node:child_process');
  const { createInterface } = await import('node:readline');
  const { writeFileSync } = await import('node:fs');
  const dir = tempDir();
  const cfg = join(dir, 'mcpgw.yaml');
  writeFileSync(cfg, `limits: { max_inflight_per_session: 1 }\nservers:\n  fl:\n    command: node\n    args: ["${FLAKY}"]\n`);
  const proc = spawn(BIN, ['stdio', '-c', cfg], { stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, MCPGW_TEST_STAGE: 'record=1' } });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((res) => proc.once('close', (code) => res(code)));
  const answers = new Map();
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const m = JSON.parse(line);
    if (m.id !== undefined) answers.set(m.id, m);
  });
  const send = (m) => proc.stdin.write(`${JSON.stringify(m)}\n`);
  const until = async (pred) => { for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 50)); };
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  await until(() => answers.has(1));
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fl__slow', arguments: { ms: 1500 } } });
  send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'fl__slow', arguments: { ms: 1 } } });
  await until(() => answers.has(2) && answers.has(3));
  assert.equal(answers.get(3).error?.code, -32013, JSON.stringify(answers.get(3)));
  assert.equal(answers.get(2).result?.content?.[0]?.text, 'slept 1500');
  proc.stdin.end();
  assert.equal(await exited, 0, log.slice(-2000));
  const recs = log.split('\n').filter((l) => l.includes('"comp":"teststage"') && l.includes('record '))
    .map((l) => JSON.parse(JSON.parse(l).msg.slice(7).replaceAll("'", '"')));
  const refused = recs.find((x) => x.stage === 'admit');
  assert.ok(refused, JSON.stringify(recs));
  assert.equal(refused.outcome, 'refused');
  assert.equal(refused.method, 'tools/call');
  assert.ok(recs.some((x) => x.target === 'fl__slow' && x.outcome === 'success'), JSON.stringify(recs));
});

// ---- guard stages that park (PARKED): an outside checker's wait ----------------

test('parked guards: held calls go on, are refused, or end cleanly when the client leaves', async () => {
  const g = await startGateway(`servers:\n  fl:\n    command: node\n    args: ["${FLAKY}"]\n    env:\n      FLAKY_STATE: "${tempDir()}"\n`,
    { env: { MCPGW_TEST_STAGE: 'park=fl__echo,parkdeny=fl__pid,parkout=fl__slow,parkms=1500,record=1' } });
  const count = (re) => (g.logs().match(re) || []).length;
  const waitLog = async (re, n) => { for (let i = 0; i < 400 && count(re) < n; i++) await new Promise((r) => setTimeout(r, 25)); return count(re) >= n; };
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const modern = (name, args, signal) => fetch(g.url, { method: 'POST', signal,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: meta } }) })
    .then(async (r) => JSON.parse((await r.text()).split('\n').filter((l) => l.startsWith('data:')).pop()?.slice(5) || 'null'))
    .catch(() => null);
  try {
    const sid = await initSession(g.url);
    const call = (id, name, args) => rpc(g.url, sid, id, 'tools/call', { name, arguments: args });
    // guard in holds it, then it is sent and answered
    const ok = await call(2, 'fl__echo', { text: 'held then sent' });
    assert.equal(ok.msg?.result?.content?.[0]?.text, 'held then sent', JSON.stringify(ok.msg));
    assert.ok(count(/park released \(passed\)/g) >= 1);
    // guard in holds it, then refuses: never sent
    const no = await call(3, 'fl__pid', {});
    assert.equal(no.msg?.error?.code, -32030, JSON.stringify(no.msg));
    assert.match(no.msg.error.message, /after holding it/);
    // guard out holds the answer, then lets it go
    const out = await call(4, 'fl__slow', { ms: 1 });
    assert.equal(out.msg?.result?.content?.[0]?.text, 'slept 1', JSON.stringify(out.msg));

    // the client closes its stream while guard in holds the call
    let ctl = new AbortController();
    let parked = count(/parked fl__echo/g);
    let pending = modern('fl__echo', { text: 'gone' }, ctl.signal);
    assert.ok(await waitLog(/parked fl__echo/g, parked + 1), 'guard in held the call');
    ctl.abort();
    await pending;
    assert.ok(await waitLog(/park cancelled/g, 1), `the stage was told:\n${g.logs().slice(-1500)}`);
    // ... and while guard out holds its answer
    ctl = new AbortController();
    parked = count(/parked fl__slow/g);
    pending = modern('fl__slow', { ms: 1 }, ctl.signal);
    assert.ok(await waitLog(/parked fl__slow/g, parked + 1), 'guard out held the answer');
    ctl.abort();
    await pending;
    assert.ok(await waitLog(/park cancelled/g, 2), `the stage was told:\n${g.logs().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 1700)); // past the stage's timers: nothing fires on the ended calls
    assert.equal(g.proc.exitCode, null, g.logs().slice(-2000));
    const again = await call(5, 'fl__echo', { text: 'still here' });
    assert.equal(again.msg?.result?.content?.[0]?.text, 'still here');
  } finally { await g.stop(); }
});

// A record stage may hold a call's answer until it says the record is
// durable (audit's commit-before-answer): the test stage's `hold` gives
// every record a ticket and says "durable" (or, with holdfail, "failed")
// for all of them when its timer fires.
test('record holds: an answer waits for its record, fails with the stage\'s reason, or ends with its client', async () => {
  // the audit trail off: only the test stage holds answers here
  const yaml = `servers:\n  fl:\n    command: node\n    args: ["${FLAKY}"]\n    env:\n      FLAKY_STATE: "${tempDir()}"\n` +
    'audit:\n  sinks: []\n';
  const g = await startGateway(yaml, { env: { MCPGW_TEST_STAGE: 'hold=400' } });
  const durable = () => (g.logs().match(/records up to \d+ durable/g) || []).length;
  try {
    const sid = await initSession(g.url);
    const before = durable();
    const r = await rpc(g.url, sid, 2, 'tools/call', { name: 'fl__echo', arguments: { text: 'kept first' } });
    assert.equal(r.msg?.result?.content?.[0]?.text, 'kept first', JSON.stringify(r.msg));
    assert.ok(durable() > before, 'the answer came only after the stage said its record was durable');

    // the client leaves while its answer is held: nothing fires on the ended call
    const ctl = new AbortController();
    const gone = fetch(g.url, { method: 'POST', signal: ctl.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
        'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'fl__echo', arguments: { text: 'gone' } } }) })
      .catch(() => null);
    await new Promise((res) => setTimeout(res, 150));
    ctl.abort();
    await gone;
    await new Promise((res) => setTimeout(res, 600)); // past the stage's timer
    assert.equal(g.proc.exitCode, null, g.logs().slice(-2000));
    const again = await rpc(g.url, sid, 4, 'tools/call', { name: 'fl__echo', arguments: { text: 'still here' } });
    assert.equal(again.msg?.result?.content?.[0]?.text, 'still here');
  } finally { await g.stop(); }

  const f = await startGateway(yaml, { env: { MCPGW_TEST_STAGE: 'hold=100,holdfail=1' } });
  try {
    const sid = await initSession(f.url);
    const r = await rpc(f.url, sid, 2, 'tools/call', { name: 'fl__echo', arguments: { text: 'not kept' } });
    assert.equal(r.msg?.error?.code, -32031, JSON.stringify(r.msg));
    assert.match(r.msg.error.message, /the record could not be kept/);
    assert.doesNotMatch(JSON.stringify(r.msg), /not kept"/, 'the unrecorded result is not given out');
  } finally { await f.stop(); }
});
