// The 2026-07-28 tasks extension (io.modelcontextprotocol/tasks) for
// stateless clients: negotiated per request; the gateway decides which
// tools/call becomes a task (CreateTaskResult), tasks/get shows the
// DetailedTask (result, error, or the upstream's questions as inputRequests),
// tasks/update answers them, tasks/cancel acknowledges. Tasks run by the
// gateway (`tasks: gateway`, the conformance fixture's task tools) and
// relayed to an upstream that runs 2025-11-25 tasks (server-everything).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, EVERYTHING, ROOT } from './lib.mjs';
import { join } from 'node:path';

const FIXTURE = join(ROOT, 'tests', 'fixtures', 'conformance-server.mjs');
const EXT = 'io.modelcontextprotocol/tasks';
const WITH_TASKS = { elicitation: {}, extensions: { [EXT]: {} } };

let gw;
before(async () => {
  gw = await startGateway(`servers:
  conf:
    command: node
    args: ["${FIXTURE}"]
    tasks: gateway
    timeout: 30
  everything:
    command: node
    args: ["${EVERYTHING}", "stdio"]
    timeout: 30
`);
});
after(async () => { await gw?.stop(); });

let n = 1;
// One 2026 request: envelope in _meta, Mcp-Method and Mcp-Name headers.
async function req(server, method, params = {}, { caps = WITH_TASKS, headers = {} } = {}) {
  const id = n++;
  const name = params.name ?? params.uri ?? params.taskId;
  const body = { jsonrpc: '2.0', id, method, params: { ...params, _meta: {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': caps } } };
  const r = await fetch(`${gw.base}/servers/${server}/mcp`, { method: 'POST', body: JSON.stringify(body), headers: {
    'content-type': 'application/json', accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28', 'mcp-method': method,
    ...(typeof name === 'string' ? { 'mcp-name': name } : {}), ...headers } });
  const text = await r.text();
  let msg = null;
  try { msg = JSON.parse(text); } catch {
    msg = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => JSON.parse(l.slice(5))).find((m) => m.id === id) ?? null;
  }
  return { status: r.status, msg };
}
const result = async (...a) => { const r = await req(...a); assert.ok(r.msg?.result, JSON.stringify(r)); return r.msg.result; };

// Poll tasks/get until the task leaves the statuses in `while_`.
async function until(server, taskId, while_ = ['working'], ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const t = await result(server, 'tasks/get', { taskId });
    if (!while_.includes(t.status) || Date.now() > end) return t;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('server/discover offers the extension under capabilities.extensions only', async () => {
  const d = await result('conf', 'server/discover');
  assert.deepEqual(d.capabilities.extensions, { [EXT]: {} });
  assert.equal(d.capabilities.tasks, undefined);
});

test('without the extension: sync results, and -32021 for a tool that runs only as a task', async () => {
  const plain = await result('conf', 'tools/call', { name: 'slow_compute', arguments: { seconds: 0, label: 'x' } }, { caps: {} });
  assert.equal(plain.resultType, 'complete');
  assert.equal(plain.taskId, undefined);
  assert.equal(plain.content[0].text, 'computed x in 0 s');
  const req_ = await req('conf', 'tools/call', { name: 'failing_job', arguments: {} }, { caps: {} });
  assert.equal(req_.status, 400);
  assert.equal(req_.msg.error.code, -32021);
  assert.deepEqual(req_.msg.error.data, { requiredCapabilities: { extensions: { [EXT]: {} } } });
  for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
    const r = await req('conf', method, { taskId: 'x', inputResponses: {} }, { caps: {} });
    assert.equal(r.status, 400, method);
    assert.equal(r.msg.error.code, -32021, method);
  }
});

test('a task runs: CreateTaskResult at once, tasks/get inlines the result', async () => {
  const greet = await result('conf', 'tools/call', { name: 'greet', arguments: { name: 'W' }, task: { ttl: 1000 } });
  assert.equal(greet.resultType, 'complete', 'a forbidden tool stays sync, even with a v1 task param');
  assert.equal(greet.content[0].text, 'Hello, W!');
  const c = await result('conf', 'tools/call', { name: 'slow_compute', arguments: { seconds: 0.3, label: 'a' } });
  assert.equal(c.resultType, 'task');
  assert.match(c.taskId, /^[0-9a-f]{32}$/);
  assert.equal(c.status, 'working');
  assert.equal(c.ttlMs, 3600000);
  assert.equal(c.pollIntervalMs, 1000);
  assert.match(c.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  for (const k of ['ttl', 'pollInterval', 'requestState', 'result', 'task']) assert.ok(!(k in c), k);
  const now = await result('conf', 'tasks/get', { taskId: c.taskId });
  assert.equal(now.resultType, 'complete');
  assert.equal(now.status, 'working');
  assert.equal(now.result, undefined);
  const done = await until('conf', c.taskId);
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.result.content, [{ type: 'text', text: 'computed a in 0.3 s' }]);
  assert.equal(done.result._meta?.['io.modelcontextprotocol/related-task'], undefined);
});

test('a tool error completes with isError; a protocol error fails with the error', async () => {
  const f = await result('conf', 'tools/call', { name: 'failing_job', arguments: {} });
  const ft = await until('conf', f.taskId);
  assert.equal(ft.status, 'completed');
  assert.equal(ft.result.isError, true);
  const p = await result('conf', 'tools/call', { name: 'protocol_error_job', arguments: {} });
  const pt = await until('conf', p.taskId);
  assert.equal(pt.status, 'failed');
  assert.equal(pt.error.code, -32603);
  assert.equal(pt.error.message, 'MCP error -32603: the job crashed');
  assert.equal(pt.result, undefined);
});

test('the upstream asks during a task: input_required with inputRequests, answered by tasks/update', async () => {
  const c = await result('conf', 'tools/call', { name: 'multi_input', arguments: {} });
  let t = await until('conf', c.taskId);
  for (let i = 0; i < 50 && Object.keys(t.inputRequests ?? {}).length < 2; i++) t = await until('conf', c.taskId);
  assert.equal(t.status, 'input_required');
  const keys = Object.keys(t.inputRequests);
  assert.equal(keys.length, 2);
  assert.equal(t.inputRequests[keys[0]].method, 'elicitation/create');
  assert.equal(t.inputRequests[keys[0]].params.message, 'First answer?');
  const ack = await result('conf', 'tasks/update', { taskId: c.taskId, inputResponses: { [keys[0]]: { action: 'accept', content: { name: 'one' } }, nosuch: {} } });
  assert.deepEqual(Object.keys(ack).sort(), ['_meta', 'resultType']);
  const mid = await result('conf', 'tasks/get', { taskId: c.taskId });
  assert.equal(mid.status, 'input_required');
  assert.deepEqual(Object.keys(mid.inputRequests), [keys[1]]);
  await result('conf', 'tasks/update', { taskId: c.taskId, inputResponses: { [keys[1]]: { action: 'accept', content: { name: 'two' } } } });
  const done = await until('conf', c.taskId, ['working', 'input_required']);
  assert.equal(done.status, 'completed');
  assert.equal(done.result.content[0].text, 'answers: one and two');
  const bad = await req('conf', 'tasks/update', { taskId: c.taskId, inputResponses: 5 });
  assert.equal(bad.msg.error.code, -32602);
});

test('a question from a task reaches it while another call on the same stdio server waits for input', async () => {
  const args = { name: 'test_elicitation', arguments: { message: 'who?' } };
  const parked = await result('conf', 'tools/call', args, { caps: { elicitation: {} } });
  assert.equal(parked.resultType, 'input_required');
  const c = await result('conf', 'tools/call', { name: 'confirm_delete', arguments: { filename: 'p.txt' } });
  const t = await until('conf', c.taskId);
  assert.equal(t.status, 'input_required', JSON.stringify(t));
  const [key] = Object.keys(t.inputRequests);
  assert.equal(t.inputRequests[key].params.message, 'Delete p.txt?');
  await result('conf', 'tasks/update', { taskId: c.taskId, inputResponses: { [key]: { action: 'accept', content: { confirm: true } } } });
  assert.equal((await until('conf', c.taskId, ['working', 'input_required'])).result.content[0].text, 'deleted p.txt');
  // The parked call ends with its retry.
  const [pk] = Object.keys(parked.inputRequests);
  const end = await result('conf', 'tools/call', { ...args, inputResponses: { [pk]: { action: 'decline' } }, requestState: parked.requestState },
    { caps: { elicitation: {} } });
  assert.match(end.content[0].text, /action=decline/);
});

test('tasks/cancel acknowledges, settles to cancelled, and is idempotent', async () => {
  const c = await result('conf', 'tools/call', { name: 'slow_compute', arguments: { seconds: 60 } });
  const ack = await result('conf', 'tasks/cancel', { taskId: c.taskId });
  assert.equal(ack.resultType, 'complete');
  assert.equal(ack.taskId, undefined);
  assert.equal((await result('conf', 'tasks/get', { taskId: c.taskId })).status, 'cancelled');
  assert.equal((await result('conf', 'tasks/cancel', { taskId: c.taskId })).resultType, 'complete');
});

test('removed methods, Mcp-Name on tasks methods, unknown ids', async () => {
  for (const method of ['tasks/result', 'tasks/list']) {
    const r = await req('conf', method, { taskId: 'x' });
    assert.equal(r.status, 404, method);
    assert.equal(r.msg.error.code, -32601, method);
  }
  const c = await result('conf', 'tools/call', { name: 'slow_compute', arguments: { seconds: 60 } });
  const wrong = await req('conf', 'tasks/get', { taskId: c.taskId }, { headers: { 'mcp-name': 'another-task' } });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.msg.error.code, -32020);
  const unknown = await req('conf', 'tasks/get', { taskId: 'no-such-task' });
  assert.equal(unknown.status, 200);
  assert.deepEqual(unknown.msg.error, { code: -32602, message: 'Unknown task' });
  const elsewhere = await req('everything', 'tasks/get', { taskId: c.taskId });
  assert.deepEqual(elsewhere.msg.error, { code: -32602, message: 'Unknown task' }, 'a task belongs to its endpoint');
  await result('conf', 'tasks/cancel', { taskId: c.taskId });
});

test('a 2025-11-25 upstream task is relayed: its question and its result show in tasks/get', async () => {
  const tools = await result('everything', 'tools/list');
  assert.ok(tools.tools.some((t) => t.name === 'simulate-research-query'));
  const noExt = await req('everything', 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'x' } }, { caps: {} });
  assert.equal(noExt.msg.error.code, -32021, 'the upstream runs it only as a task');
  const c = await result('everything', 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'gateways', ambiguous: true } });
  assert.equal(c.resultType, 'task');
  assert.match(c.taskId, /^[0-9a-f]{32}$/, 'the gateway names the task');
  assert.equal(c.ttlMs, 300000, "the upstream's ttl");
  const asked = await until('everything', c.taskId);
  assert.equal(asked.status, 'input_required', JSON.stringify(asked));
  const [key] = Object.keys(asked.inputRequests);
  assert.equal(asked.inputRequests[key].method, 'elicitation/create');
  const choice = asked.inputRequests[key].params.requestedSchema.properties.interpretation.oneOf[0].const;
  await result('everything', 'tasks/update', { taskId: c.taskId, inputResponses: { [key]: { action: 'accept', content: { interpretation: choice } } } });
  const done = await until('everything', c.taskId, ['working', 'input_required'], 20000);
  assert.equal(done.status, 'completed');
  assert.match(done.result.content[0].text, new RegExp(`Clarification\\*\\*: ${choice}`));
});
