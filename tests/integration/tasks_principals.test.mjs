// Tasks belong to the principal that started them, in both eras: with two
// API keys, the other key's caller gets exactly the answer for an unknown
// task id (2025-11-25 sessions: tasks/get|result|cancel|list; 2026-07-28
// stateless requests: tasks/get|update|cancel). Bounded: a cap on the tasks
// one principal keeps, and finished tasks dropped when their ttl ends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startGateway, tempDir, freePort, post, MISBEHAVE, apikeyCreate, writeGatewayFiles, allowAllRole,
} from './lib.mjs';

const POLICY = `roles:\n${allowAllRole('worker')}default_policy: deny\n`;
const EXT = 'io.modelcontextprotocol/tasks';
const P = '2025-11-25';

let gw;
const keys = {};
before(async () => {
  const dir = tempDir();
  const port = await freePort();
  const body = `servers:\n  mb:\n    command: node\n    args: ["${MISBEHAVE}"]\n    tasks: gateway\n` +
    `auth:\n  api_keys: true\n  resource: "http://127.0.0.1:${port}/mcp"\npolicy: policy.yaml\n`;
  const cfg = writeGatewayFiles(dir, port, body, POLICY);
  for (const name of ['alice', 'bob']) keys[name] = apikeyCreate(cfg, name, 'worker');
  gw = await startGateway(body, { dir, port });
});
after(async () => { await gw?.stop(); });

let n = 1;
const auth = (who) => ({ authorization: `Bearer ${keys[who]}` });

// 2025-11-25: a session of `who`, and requests on it.
async function session(who) {
  const r = await post(gw.url, { jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: P, capabilities: {}, clientInfo: { name: who, version: '1' } } }, auth(who));
  assert.equal(r.status, 200, r.body);
  return { who, sid: r.headers.get('mcp-session-id') };
}
async function call25(s, method, params) {
  const r = await post(gw.url, { jsonrpc: '2.0', id: n++, method, params },
    { ...auth(s.who), 'mcp-session-id': s.sid, 'mcp-protocol-version': P });
  assert.ok(r.json, r.body);
  return r.json;
}

// 2026-07-28: one stateless request of `who`.
async function call26(who, method, params) {
  const name = params.name ?? params.taskId;
  const r = await post(gw.url, { jsonrpc: '2.0', id: n++, method, params: { ...params, _meta: {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': { extensions: { [EXT]: {} } } } } },
  { ...auth(who), 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, 'mcp-name': name });
  assert.ok(r.json, `${r.status} ${r.body}`);
  return r.json;
}

const UNKNOWN = { code: -32602, message: 'Unknown task' };

test('2025-11-25: another principal cannot read, wait on, cancel or list the task', async () => {
  const alice = await session('alice');
  const bob = await session('bob');
  const created = await call25(alice, 'tools/call', { name: 'mb__slow', arguments: { ms: 1500 }, task: {} });
  const id = created.result.task.taskId;
  for (const m of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
    assert.deepEqual((await call25(bob, m, { taskId: id })).error, UNKNOWN, m);
    assert.deepEqual((await call25(bob, m, { taskId: 'f'.repeat(32) })).error, UNKNOWN, `${m}, unknown id`);
  }
  assert.deepEqual((await call25(bob, 'tasks/list', {})).result.tasks, []);
  assert.equal((await call25(alice, 'tasks/get', { taskId: id })).result.status, 'working');
  assert.deepEqual((await call25(alice, 'tasks/list', {})).result.tasks.map((t) => t.taskId), [id]);
  const res = await call25(alice, 'tasks/result', { taskId: id });
  assert.deepEqual(res.result.content, [{ type: 'text', text: 'slept 1500' }]);
});

test('2026-07-28: the task is the principal\'s across requests; another principal cannot get, update or cancel it', async () => {
  const created = await call26('alice', 'tools/call', { name: 'mb__slow', arguments: { ms: 1500 } });
  assert.equal(created.result.resultType, 'task');
  const id = created.result.taskId;
  for (const [m, extra] of [['tasks/get', {}], ['tasks/update', { inputResponses: { in1: { action: 'accept' } } }], ['tasks/cancel', {}]]) {
    assert.deepEqual((await call26('bob', m, { taskId: id, ...extra })).error, UNKNOWN, m);
    assert.deepEqual((await call26('bob', m, { taskId: 'f'.repeat(32), ...extra })).error, UNKNOWN, `${m}, unknown id`);
  }
  const none = await post(gw.url, { jsonrpc: '2.0', id: 1, method: 'tasks/get', params: { taskId: id, _meta: {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } },
  { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tasks/get', 'mcp-name': id });
  assert.equal(none.status, 401, 'no credential, no answer');
  assert.equal((await call26('alice', 'tasks/get', { taskId: id })).result.status, 'working', 'bob changed nothing');
  let t;
  for (let i = 0; i < 100; i++) {
    t = (await call26('alice', 'tasks/get', { taskId: id })).result;
    if (t.status !== 'working') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(t.status, 'completed');
  assert.deepEqual(t.result.content, [{ type: 'text', text: 'slept 1500' }]);
  const alice25 = await session('alice');
  assert.deepEqual((await call25(alice25, 'tasks/get', { taskId: id })).error, UNKNOWN, 'a 2026 task is not on the 2025 wire');
});

test('a finished task is dropped when its ttl ends', async () => {
  const alice = await session('alice');
  const created = await call25(alice, 'tools/call', { name: 'mb__echo', arguments: { text: 'x' }, task: { ttl: 1000 } });
  const id = created.result.task.taskId;
  assert.equal((await call25(alice, 'tasks/result', { taskId: id })).result.content[0].text, 'x');
  await new Promise((r) => setTimeout(r, 1600));
  assert.deepEqual((await call25(alice, 'tasks/get', { taskId: id })).error, UNKNOWN);
});

test('one principal keeps at most 256 tasks; another is not affected', async () => {
  // Earlier tests left alice a few tasks; fill up to the cap.
  let refused = null;
  for (let i = 0; i < 300 && !refused; i++) {
    const r = await call26('alice', 'tools/call', { name: 'mb__echo', arguments: { text: `${i}` } });
    if (r.error) refused = { at: i, error: r.error };
  }
  assert.ok(refused && refused.at <= 256 && refused.at >= 250, JSON.stringify(refused));
  assert.equal(refused.error.code, -32600);
  assert.match(refused.error.message, /^too many tasks: at most 256 are kept per caller/);
  const bob = await call26('bob', 'tools/call', { name: 'mb__echo', arguments: { text: 'b' } });
  assert.equal(bob.result.resultType, 'task');
});
