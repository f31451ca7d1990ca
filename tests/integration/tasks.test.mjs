// Tasks run by the gateway (`tasks: gateway`): a task-augmented tools/call
// answers at once with a task; tasks/get, tasks/result, tasks/list and
// tasks/cancel work on it, and only for the session that started it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, initSession, rpc, tempDir, MISBEHAVE, EVERYTHING } from './lib.mjs';

let gw;
before(async () => {
  gw = await startGateway(`servers:
  mb:
    command: node
    args: ["${MISBEHAVE}"]
    tasks: gateway
  plain:
    command: node
    args: ["${MISBEHAVE}"]
  everything:
    command: node
    args: ["${EVERYTHING}", "stdio"]
`);
});
after(async () => { await gw?.stop(); });

const P = '2025-11-25';
let n = 100;
const call = (sid, method, params) => rpc(gw.url, sid, n++, method, params, { proto: P }).then((r) => r.msg);

async function session() {
  const sid = await initSession(gw.url, P);
  return sid;
}

test('the gateway advertises tasks and marks the tools of a tasks: gateway server', async () => {
  const r = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: P, capabilities: {}, clientInfo: { name: 't', version: '1' } } }) });
  const init = await r.json();
  assert.ok(init.result.capabilities.tasks?.requests?.tools?.call, JSON.stringify(init.result.capabilities));
  const sid = r.headers.get('mcp-session-id');
  const list = await call(sid, 'tools/list', {});
  const slow = list.result.tools.find((t) => t.name === 'mb__slow');
  assert.equal(slow.execution.taskSupport, 'optional');
  const plain = list.result.tools.find((t) => t.name === 'plain__slow');
  assert.equal(plain.execution?.taskSupport, undefined);
});

test('a task runs, can be polled, and tasks/result returns the call result', async () => {
  const sid = await session();
  // The tool answers only once the test creates the file: the task is
  // answered while its call runs, whatever the machine's load.
  const release = join(tempDir(), 'release');
  const created = await call(sid, 'tools/call', { name: 'mb__slow', arguments: { until: release }, task: { ttl: 60000 } });
  const task = created.result.task;
  assert.equal(task.status, 'working');
  assert.ok(task.taskId && task.createdAt && task.lastUpdatedAt);
  assert.equal(task.ttl, 60000);
  const got = await call(sid, 'tasks/get', { taskId: task.taskId });
  assert.equal(got.result.status, 'working');
  const result = call(sid, 'tasks/result', { taskId: task.taskId });
  writeFileSync(release, '');
  const res = await result;
  assert.deepEqual(res.result.content, [{ type: 'text', text: 'released' }]);
  assert.equal(res.result._meta['io.modelcontextprotocol/related-task'].taskId, task.taskId);
  const done = await call(sid, 'tasks/get', { taskId: task.taskId });
  assert.equal(done.result.status, 'completed');
  const list = await call(sid, 'tasks/list', {});
  assert.ok(list.result.tasks.some((t) => t.taskId === task.taskId));
});

test('another session can neither read, poll, list nor cancel the task', async () => {
  const owner = await session();
  const other = await session();
  const release = join(tempDir(), 'release');
  const { result } = await call(owner, 'tools/call', { name: 'mb__slow', arguments: { until: release }, task: {} });
  const id = result.task.taskId;
  for (const m of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
    const r = await call(other, m, { taskId: id });
    assert.equal(r.error?.code, -32602, `${m}: ${JSON.stringify(r)}`);
    assert.equal(r.error.message, 'Unknown task');
  }
  const list = await call(other, 'tasks/list', {});
  assert.ok(!list.result.tasks.some((t) => t.taskId === id));
  const unknown = await call(other, 'tasks/get', { taskId: 'no-such-task' });
  assert.equal(unknown.error.message, 'Unknown task', 'same answer as for a task of another session');
  const still = await call(owner, 'tasks/get', { taskId: id });
  assert.equal(still.result.status, 'working');
  writeFileSync(release, '');
});

test('tasks/cancel cancels a working task; a terminal one cannot be cancelled', async () => {
  const sid = await session();
  const { result } = await call(sid, 'tools/call', { name: 'mb__hang', arguments: {}, task: {} });
  const id = result.task.taskId;
  const waiting = call(sid, 'tasks/result', { taskId: id });
  const c = await call(sid, 'tasks/cancel', { taskId: id });
  assert.equal(c.result.status, 'cancelled');
  const r = await waiting;
  assert.equal(r.error?.code, -32602);
  const again = await call(sid, 'tasks/cancel', { taskId: id });
  assert.equal(again.error?.code, -32602);
});

test('a task-augmented call to a server without tasks is refused with -32601', async () => {
  const sid = await session();
  const r = await call(sid, 'tools/call', { name: 'plain__echo', arguments: { text: 'x' }, task: {} });
  assert.equal(r.error?.code, -32601);
});

test('a task of an upstream that runs tasks is relayed under a gateway id, for its session only', async () => {
  const sid = await session();
  const created = await call(sid, 'tools/call', { name: 'everything__simulate-research-query', arguments: { topic: 'gateways' }, task: { ttl: 60000 } });
  const task = created.result?.task;
  assert.ok(task, JSON.stringify(created));
  assert.match(task.taskId, /^[0-9a-f]{32}$/, 'the gateway names the task');
  const got = await call(sid, 'tasks/get', { taskId: task.taskId });
  assert.equal(got.result.taskId, task.taskId);
  assert.ok(['working', 'completed'].includes(got.result.status));
  const other = await session();
  const peek = await call(other, 'tasks/get', { taskId: task.taskId });
  assert.equal(peek.error?.message, 'Unknown task');
  const res = await call(sid, 'tasks/result', { taskId: task.taskId });
  assert.match(JSON.stringify(res.result.content), /gateways/);
  assert.equal(res.result._meta?.['io.modelcontextprotocol/related-task']?.taskId, task.taskId);
  const list = await call(sid, 'tasks/list', {});
  assert.ok(list.result.tasks.some((t) => t.taskId === task.taskId));
});
