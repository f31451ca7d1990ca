// MCP 2026-07-28 through the gateway to a 2026-only upstream
// (tests/fixtures/conformance-server-2026.mjs) and to a 2025 one
// (conformance-server.mjs): Mcp-Param-* headers are checked against the
// body (400, -32020) and sent to the 2026 upstream (whose SDK refuses a
// call without them); the upstream's input_required, requestState and its
// refusal of a missing capability pass through unchanged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { startGateway, post, ROOT } from './lib.mjs';

const ENVELOPE = (caps = {}) => ({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': caps });
let upstream, gw;

before(async () => {
  upstream = spawn('node', [join(ROOT, 'tests/fixtures/conformance-server-2026.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('2026 fixture did not start')), 15000);
    upstream.stdout.on('data', (d) => { const m = /MCP_FIXTURE_URL=(\S+)/.exec(d.toString()); if (m) { clearTimeout(t); res(m[1]); } });
  });
  gw = await startGateway(`servers:\n  m26:\n    url: "${url}"\n    protocol: "2026-07-28"\n    timeout: 20\n` +
    `  old:\n    command: node\n    args: ["${join(ROOT, 'tests/fixtures/conformance-server.mjs')}"]\n`);
});
after(async () => {
  try { await gw?.stop(); } finally { upstream?.kill('SIGTERM'); }
});

// A 2026 tools/call at /servers/<server>/mcp with the given extra headers.
function call(server, name, args, extra = {}, { caps, more = {} } = {}) {
  return post(`${gw.base}/servers/${server}/mcp`, { jsonrpc: '2.0', id: 5, method: 'tools/call',
    params: { name, arguments: args, ...more, _meta: ENVELOPE(caps) } },
  { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name, ...extra });
}

async function list(server) {
  const r = await post(`${gw.base}/servers/${server}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: ENVELOPE() } },
    { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
  assert.equal(r.status, 200);
  return r.json.result.tools;
}

for (const server of ['m26', 'old']) {
  test(`Mcp-Param-* headers are checked against the body (${server} upstream)`, async () => {
    const tool = (await list(server)).find((t) => t.name === 'test_header_param');
    assert.equal(tool.inputSchema.properties.region['x-mcp-header'], 'Region');

    const ok = await call(server, 'test_header_param', { region: 'eu-west' }, { 'mcp-param-region': ' eu-west ' });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.result.content[0].text, 'region=eu-west');

    const b64 = await call(server, 'test_header_param', { region: 'zürich' },
      { 'Mcp-Param-Region': `=?base64?${Buffer.from('zürich').toString('base64')}?=` });
    assert.equal(b64.status, 200, b64.body);
    assert.equal(b64.json.result.content[0].text, 'region=zürich', 'a non-ASCII value reaches the upstream too');

    const missing = await call(server, 'test_header_param', { region: 'eu-west' });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.code, -32020);
    assert.equal(missing.json.error.message,
      'Header mismatch: Mcp-Param-Region is missing while the body carries the argument');
    assert.equal(missing.json.id, 5);

    const other = await call(server, 'test_header_param', { region: 'eu-west' }, { 'mcp-param-region': 'us-east' });
    assert.equal(other.status, 400);
    assert.equal(other.json.error.code, -32020);
    assert.equal(other.json.error.message, 'Header mismatch: Mcp-Param-Region does not match the argument in the body');

    for (const bad of ['=?base64?SGVsbG8?=', '=?base64?SGVs!!!bG8=?=', '=?base64?/w==?=']) {
      const r = await call(server, 'test_header_param', { region: 'Hello' }, { 'mcp-param-region': bad });
      assert.equal(r.status, 400, bad);
      assert.equal(r.json.error.code, -32020, bad);
      assert.match(r.json.error.message, /Mcp-Param-Region is not valid/);
    }
    // Without the markers on both sides the value is literal.
    const literal = await call(server, 'test_header_param', { region: '=?base64?SGVsbG8=' }, { 'mcp-param-region': '=?base64?SGVsbG8=' });
    assert.equal(literal.status, 200, literal.body);
  });
}

test('a tool without x-mcp-header needs no Mcp-Param header, and a stray one is ignored', async () => {
  const r = await call('m26', 'test_simple_text', {}, { 'mcp-param-region': 'anything' });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.result.content[0].text, 'This is a simple text response for testing.');
});

test('the official v2 client sends Mcp-Param-* itself and the call goes through to the 2026 upstream', async () => {
  const client = new ClientV2({ name: 'v2', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new TransportV2(new URL(`${gw.base}/servers/m26/mcp`)));
  try {
    await client.listTools();
    const r = await client.callTool({ name: 'test_header_param', arguments: { region: 'ap-south' } });
    assert.equal(r.content[0].text, 'region=ap-south');
  } finally { await client.close(); }
});

test('input_required keys and requestState of a 2026 upstream reach a 2026 client unchanged, and the retry completes', async () => {
  const caps = { elicitation: {}, sampling: {} };
  const r1 = await call('m26', 'test_input_required_result_multi_round', {}, {}, { caps });
  assert.equal(r1.status, 200, r1.body);
  assert.equal(r1.json.result.resultType, 'input_required');
  assert.deepEqual(Object.keys(r1.json.result.inputRequests), ['step1']);
  const state1 = r1.json.result.requestState;
  assert.ok(state1.startsWith('v1.'), 'the upstream\'s own state, not the gateway\'s');
  const r2 = await call('m26', 'test_input_required_result_multi_round', {}, {},
    { caps, more: { inputResponses: { step1: { action: 'accept', content: { name: 'Ada' } } }, requestState: state1 } });
  assert.equal(r2.json.result.resultType, 'input_required');
  assert.deepEqual(Object.keys(r2.json.result.inputRequests), ['step2']);
  assert.notEqual(r2.json.result.requestState, state1);
  const r3 = await call('m26', 'test_input_required_result_multi_round', {}, {},
    { caps, more: { inputResponses: { step2: { action: 'accept', content: { color: 'blue' } } }, requestState: r2.json.result.requestState } });
  assert.equal(r3.json.result.resultType, 'complete');
  assert.equal(r3.json.result.content[0].text, 'Ada likes blue');

  const tampered = await call('m26', 'test_input_required_result_multi_round', {}, {},
    { caps, more: { inputResponses: { step1: { action: 'accept', content: { name: 'Eve' } } }, requestState: `${state1}-TAMPERED` } });
  assert.equal(tampered.json.error.code, -32602, 'the upstream\'s own tamper check answers');
});

test('the client\'s own capabilities reach the 2026 upstream: it asks only what the client can answer', async () => {
  const r = await call('m26', 'test_input_required_result_capabilities', {}, {}, { caps: { sampling: {} } });
  assert.equal(r.json.result.resultType, 'input_required');
  assert.deepEqual(Object.values(r.json.result.inputRequests).map((q) => q.method), ['sampling/createMessage']);

  const none = await call('m26', 'test_missing_capability', {}, {}, { caps: {} });
  assert.equal(none.status, 400, 'a missing-capability refusal is HTTP 400');
  assert.equal(none.json.error.code, -32021);
  assert.deepEqual(none.json.error.data.requiredCapabilities, { sampling: {} });
});

test('answers given without a prior round go to the 2026 upstream (extra keys ignored there)', async () => {
  const r = await call('m26', 'test_input_required_result_elicitation', {}, {}, { caps: { elicitation: {} },
    more: { inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } }, extra: { action: 'accept', content: {} } } } });
  assert.equal(r.json.result.resultType, 'complete');
  assert.equal(r.json.result.content[0].text, 'Hello, Alice!');
});
