// MCP 2026-07-28 clients (the official v2 client) through the gateway to a
// 2025-era stdio server (server-everything): stateless requests, and the
// bridge that turns the server's elicitation and sampling requests into
// input_required results answered by the client's retry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { startGateway, connectClient, EVERYTHING, MISBEHAVE } from './lib.mjs';

let gw;
before(async () => {
  gw = await startGateway(`servers:\n  everything:\n    command: node\n    args: ["${EVERYTHING}", "stdio"]\n    timeout: 30\n` +
    `  mb:\n    command: node\n    args: ["${MISBEHAVE}"]\n    env: { MB_ROOTS: "1" }\n`);
});
after(async () => { await gw?.stop(); });

async function modernClient(caps = {}, handlers = {}) {
  const client = new ClientV2({ name: 'v2-test', version: '1.0.0' },
    { capabilities: caps, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  for (const [m, fn] of Object.entries(handlers)) client.setRequestHandler(m, fn);
  await client.connect(new TransportV2(new URL(gw.url)));
  return client;
}

const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
async function raw(body, headers = {}) {
  const r = await fetch(gw.url, { method: 'POST', body: JSON.stringify(body), headers: {
    'content-type': 'application/json', accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28', 'mcp-method': body.method, ...headers } });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { const d = text.split('\n').filter((l) => l.startsWith('data:')).pop(); json = d ? JSON.parse(d.slice(5)) : null; }
  return { status: r.status, json, headers: r.headers };
}

test('a v2 client negotiates 2026-07-28 and lists and calls tools of a 2025 server', async () => {
  const client = await modernClient();
  try {
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'everything__echo'));
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'from 2026' } });
    assert.match(r.content[0].text, /from 2026/);
  } finally { await client.close(); }
});

test('elicitation from the 2025 server becomes input_required, answered by the v2 client', async () => {
  let asked = null;
  const client = await modernClient({ elicitation: { form: {} } }, {
    'elicitation/create': async (req) => { asked = req.params; return { action: 'accept', content: { name: 'Ada Lovelace', check: true } }; },
  });
  try {
    const r = await client.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} });
    assert.ok(asked?.requestedSchema, 'the client was asked');
    assert.match(JSON.stringify(r.content), /Ada Lovelace/);
  } finally { await client.close(); }
});

// server-everything asks roots/list 350 ms after initialize, tied to no
// request; on a busy machine a call was in flight then and was refused
// -32021 for a capability it never needed. mb__roots asks the same way.
test('a roots/list while a call of a client without roots is in flight is refused upstream; the call goes on', async () => {
  const client = await modernClient({ elicitation: { form: {} } });
  try {
    const r = await client.callTool({ name: 'mb__roots', arguments: {} });
    assert.match(r.content[0].text, /^roots: .*"code":-32601/, r.content[0].text);
  } finally { await client.close(); }
});

test('sampling from the 2025 server becomes input_required, answered by the v2 client', async () => {
  const client = await modernClient({ sampling: {} }, {
    'sampling/createMessage': async () => ({ role: 'assistant', content: { type: 'text', text: 'bridged-sample' }, model: 'm', stopReason: 'endTurn' }),
  });
  try {
    const r = await client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 10 } });
    assert.match(JSON.stringify(r.content), /bridged-sample/);
  } finally { await client.close(); }
});

test('input_required on the wire: keys, requestState, and a tampered state refused', async () => {
  const caps = { elicitation: { form: {} } };
  const params = { name: 'everything__trigger-elicitation-request', arguments: {},
    _meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': caps } };
  const first = await raw({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }, { 'mcp-name': params.name });
  assert.equal(first.status, 200);
  const res = first.json.result;
  assert.equal(res.resultType, 'input_required');
  const [key, ir] = Object.entries(res.inputRequests)[0];
  assert.equal(ir.method, 'elicitation/create');
  assert.equal(typeof res.requestState, 'string');
  const bad = await raw({ jsonrpc: '2.0', id: 2, method: 'tools/call',
    params: { ...params, inputResponses: { [key]: { action: 'decline' } }, requestState: `${res.requestState}-TAMPERED` } },
  { 'mcp-name': params.name });
  assert.equal(bad.json.error?.code, -32602);
  const good = await raw({ jsonrpc: '2.0', id: 3, method: 'tools/call',
    params: { ...params, inputResponses: { [key]: { action: 'decline' } }, requestState: res.requestState } },
  { 'mcp-name': params.name });
  assert.equal(good.json.id, 3);
  assert.equal(good.json.result.resultType, 'complete');
  assert.match(JSON.stringify(good.json.result.content), /declined/i);
});

test('a capability the request did not declare is refused with -32021', async () => {
  const params = { name: 'everything__trigger-sampling-request', arguments: { prompt: 'x', maxTokens: 5 }, _meta: ENVELOPE };
  const r = await raw({ jsonrpc: '2.0', id: 9, method: 'tools/call', params }, { 'mcp-name': params.name });
  assert.equal(r.json.error?.code, -32021);
  assert.deepEqual(r.json.error.data.requiredCapabilities, { sampling: {} });
});

test('2026 envelope and header errors', async () => {
  const noCaps = await raw({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } });
  assert.equal(noCaps.status, 400);
  assert.equal(noCaps.json.error.code, -32602);
  const noEnvelope = await raw({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
  assert.equal(noEnvelope.status, 400);
  assert.equal(noEnvelope.json.error.code, -32602);
  const mismatch = await raw({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: ENVELOPE } }, { 'mcp-method': 'prompts/list' });
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.json.error.code, -32020);
  const version = await raw({ jsonrpc: '2.0', id: 4, method: 'tools/list',
    params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } } }, { 'mcp-protocol-version': 'v999.0.0' });
  assert.equal(version.status, 400);
  assert.equal(version.json.error.code, -32022);
  assert.deepEqual(version.json.error.data, { supported: ['2026-07-28'], requested: 'v999.0.0' });
  const headerVsBody = await raw({ jsonrpc: '2.0', id: 5, method: 'tools/list',
    params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } } });
  assert.equal(headerVsBody.json.error.code, -32020, 'header/body mismatch is checked before the version');
  for (const method of ['ping', 'initialize', 'logging/setLevel', 'unknown/method']) {
    const r = await raw({ jsonrpc: '2.0', id: 6, method, params: { _meta: ENVELOPE } });
    assert.equal(r.status, 404, method);
    assert.equal(r.json.error.code, -32601, method);
  }
  const nameMismatch = await raw({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'x' }, _meta: ENVELOPE } }, { 'mcp-name': 'other' });
  assert.equal(nameMismatch.status, 400);
  assert.equal(nameMismatch.json.error.code, -32020);
  const encoded = await raw({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'x' }, _meta: ENVELOPE } },
    { 'mcp-name': `=?base64?${Buffer.from('everything__echo').toString('base64')}?=` });
  assert.equal(encoded.status, 200, 'a base64-encoded Mcp-Name is decoded');
});

test('results carry resultType, cache hints and serverInfo; no session id is minted', async () => {
  const r = await raw({ jsonrpc: '2.0', id: 1, method: 'resources/list', params: { _meta: ENVELOPE } });
  assert.equal(r.json.result.resultType, 'complete');
  assert.equal(r.json.result.ttlMs, 0);
  assert.equal(r.json.result.cacheScope, 'private');
  assert.equal(r.json.result._meta['io.modelcontextprotocol/serverInfo'].name, 'mcpgw');
  assert.equal(r.headers.get('mcp-session-id'), null);
  const nf = await raw({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'demo://nope', _meta: ENVELOPE } }, { 'mcp-name': 'demo://nope' });
  assert.equal(nf.json.error.code, -32602, 'resource not found is -32602 in 2026-07-28');
});

test('one endpoint serves both eras at once', async () => {
  const v1 = await connectClient(gw.url);
  const v2 = await modernClient();
  try {
    const [a, b] = await Promise.all([
      v1.client.callTool({ name: 'everything__echo', arguments: { message: 'v1' } }),
      v2.callTool({ name: 'everything__echo', arguments: { message: 'v2' } }),
    ]);
    assert.match(a.content[0].text, /v1/);
    assert.match(b.content[0].text, /v2/);
  } finally { await v1.close(); await v2.close(); }
});

test('a requestState cannot be replayed, nor used for another tool', async () => {
  const caps = { elicitation: { form: {} } };
  const params = { name: 'everything__trigger-elicitation-request', arguments: {},
    _meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': caps } };
  const first = await raw({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }, { 'mcp-name': params.name });
  const { requestState, inputRequests } = first.json.result;
  const key = Object.keys(inputRequests)[0];
  const other = { name: 'everything__echo', arguments: { message: 'x' }, _meta: params._meta,
    inputResponses: { [key]: { action: 'decline' } }, requestState };
  const wrongTool = await raw({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: other }, { 'mcp-name': other.name });
  assert.equal(wrongTool.json.error?.code, -32602, 'state bound to its tool');
  const retry = { ...params, inputResponses: { [key]: { action: 'decline' } }, requestState };
  const ok = await raw({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: retry }, { 'mcp-name': params.name });
  assert.equal(ok.json.result?.resultType, 'complete');
  const replay = await raw({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: retry }, { 'mcp-name': params.name });
  assert.equal(replay.json.error?.code, -32602, 'a used state is refused');
  assert.match(replay.json.error.message, /requestState/);
});

test('mixed eras: a session id on a 2026 request is ignored, initialize with a 2026 header is refused', async () => {
  const r = await raw({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: ENVELOPE } }, { 'mcp-session-id': 'not-a-session' });
  assert.equal(r.status, 200);
  assert.ok(r.json.result.tools.length > 0);
  assert.equal(r.headers.get('mcp-session-id'), null);
  const init = await raw({ jsonrpc: '2.0', id: 2, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
  assert.equal(init.status, 400);
  assert.equal(init.json.error.code, -32602);
  const initModern = await raw({ jsonrpc: '2.0', id: 3, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' }, _meta: ENVELOPE } });
  assert.equal(initModern.status, 404);
  assert.equal(initModern.json.error.code, -32601);
});
