// Rate limits with the local backend: a caller over its own quota gets 429
// with Retry-After (SDK v1 client and raw HTTP), a caller over a per-tool
// quota gets JSON-RPC error -32029 with data.retryAfterSeconds (2025
// sessions and 2026-07-28 stateless requests), other callers are not
// affected, `mcpgw stdio` refuses the JSON-RPC way, and a bad quota in the
// policy stops the start with file and line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  startGateway, tempDir, freePort, post, rpcMessages, BIN, buildEchoMcp, withGatewayLog, apikeyCreate,
  writeGatewayFiles, allowAllRole, bearerClient, apiKeyAuthYaml,
} from './lib.mjs';

const RATE_LIMITED = -32029;
const POLICY = `
roles:
${allowAllRole('user')}    max_requests_per_minute: 6000
clients:
  "apikey:tiny":
    max_requests_per_minute: 1
    burst: 6
tool_quotas:
  "echo__echo": { requests_per_minute: 1, burst: 3 }
default_policy: deny
`;

let gw, dir, cfg;
const keys = {};

before(async () => {
  const echo = await buildEchoMcp();
  dir = tempDir();
  const port = await freePort();
  const body = `servers:\n  echo:\n    command: "${echo}"\n` +
    apiKeyAuthYaml(port);
  cfg = writeGatewayFiles(dir, port, body, POLICY);
  for (const name of ['tiny', 'alice', 'bob', 'carol', 'desk']) keys[name] = apikeyCreate(cfg, name, 'user');
  gw = await startGateway(body, { dir, port });
});
after(async () => { await gw?.stop(); });

const clientWith = (key) => bearerClient(gw.url, key, 'ratelimit-test');

async function rejection(p) {
  try { await p; } catch (e) { return e; }
  throw new Error('expected a refusal, but the request succeeded');
}

test('a caller past its own quota gets 429 with Retry-After; others are not affected', withGatewayLog(async () => {
  // burst 6: initialize, notifications/initialized and four more POSTs
  const client = await clientWith(keys.tiny);
  for (let i = 0; i < 4; i++) await client.listTools();
  const e = await rejection(client.listTools());
  assert.equal(e.code, 429, `SDK error: ${e.message}`);
  assert.match(e.message, /Rate limit exceeded: the principal quota is used up; retry in \d+ s/);
  await client.close().catch(() => {});

  const r = await post(gw.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { authorization: `Bearer ${keys.tiny}` });
  assert.equal(r.status, 429);
  const after = Number(r.headers.get('retry-after'));
  assert.ok(after >= 55 && after <= 60, `Retry-After ${after}: about a minute at 1 request a minute`);
  assert.equal(r.json.jsonrpc, '2.0');
  assert.equal(r.json.id, null);
  assert.equal(r.json.error.code, RATE_LIMITED);
  assert.equal(r.json.error.message, `Rate limit exceeded: the principal quota is used up; retry in ${after} s`);
  assert.deepEqual(r.json.error.data, { retryAfterSeconds: after, limit: 'principal' });
  assert.match(gw.logs(), /429 for apikey:tiny: principal quota, retry in \d+ s/);

  // bob's own quota is untouched by tiny's flood
  const bob = await clientWith(keys.bob);
  try {
    assert.deepEqual((await bob.listTools()).tools.map((t) => t.name), ['echo__echo']);
  } finally { await bob.close(); }
}, () => gw));

test('a caller that keeps firing past its quota is answered no faster than its bucket refills; others promptly', async () => {
  // tiny's bucket (a token a minute) is empty since the first test: each
  // refusal waits until a token would be back, but never more than a second.
  const t0 = Date.now();
  const r = await post(gw.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { authorization: `Bearer ${keys.tiny}` });
  const waited = Date.now() - t0;
  assert.equal(r.status, 429, r.body);
  assert.ok(waited >= 900 && waited < 5000, `the refusal waited ${waited} ms (expected about 1 s)`);
  // meanwhile another caller is answered at once, and 8 refusals in parallel
  // for tiny still take about a second in all, not 8
  const t1 = Date.now();
  const [bobR, ...tinyR] = await Promise.all([
    post(gw.url, { jsonrpc: '2.0', id: 2, method: 'ping' }, { authorization: `Bearer ${keys.bob}` }).then((x) => ({ ...x, ms: Date.now() - t1 })),
    ...Array.from({ length: 8 }, (_, i) => post(gw.url, { jsonrpc: '2.0', id: 3 + i, method: 'ping' }, { authorization: `Bearer ${keys.tiny}` })),
  ]);
  // (no session: the endpoint's own 400, past the limiter)
  assert.equal(bobR.status, 400, bobR.body);
  assert.ok(bobR.ms < 500, `bob waited ${bobR.ms} ms`);
  assert.deepEqual(tinyR.map((x) => x.status), Array(8).fill(429));
  assert.ok(Date.now() - t1 < 5000);
});

test('a caller past a tool quota gets -32029 with data.retryAfterSeconds; others still call it', withGatewayLog(async () => {
  const alice = await clientWith(keys.alice);
  const bob = await clientWith(keys.bob);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await alice.callTool({ name: 'echo__echo', arguments: { text: `a${i}` } });
      assert.equal(r.isError, undefined);
    }
    const e = await rejection(alice.callTool({ name: 'echo__echo', arguments: { text: 'a3' } }));
    assert.equal(e.code, RATE_LIMITED);
    assert.equal(e.data.limit, 'tool');
    assert.ok(Number.isInteger(e.data.retryAfterSeconds) && e.data.retryAfterSeconds >= 1 && e.data.retryAfterSeconds <= 60,
      `retryAfterSeconds ${e.data.retryAfterSeconds}`);
    assert.match(e.message, new RegExp(`Rate limit exceeded: the tool quota is used up; retry in ${e.data.retryAfterSeconds} s`));
    // the session goes on: only that tool is limited
    assert.deepEqual((await alice.listTools()).tools.map((t) => t.name), ['echo__echo']);
    // bob has his own bucket on the tool
    const r = await bob.callTool({ name: 'echo__echo', arguments: { text: 'b' } });
    assert.equal(r.isError, undefined);
  } finally {
    await alice.close();
    await bob.close();
  }
}, () => gw));

test('2026-07-28 stateless calls: the tool quota answers -32029 in-band', withGatewayLog(async () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const call = async (id) => {
    const r = await post(gw.url, { jsonrpc: '2.0', id, method: 'tools/call',
      params: { name: 'echo__echo', arguments: { text: 'x' }, _meta: envelope } },
    { authorization: `Bearer ${keys.carol}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo__echo' });
    return { status: r.status, msg: rpcMessages(r).find((m) => m.id === id) };
  };
  for (let i = 1; i <= 3; i++) {
    const { status, msg } = await call(i);
    assert.equal(status, 200);
    assert.ok(msg.result, `call ${i}: ${JSON.stringify(msg)}`);
  }
  const { status, msg } = await call(4);
  assert.equal(status, 200);
  assert.equal(msg.error.code, RATE_LIMITED);
  assert.equal(msg.error.data.limit, 'tool');
  assert.ok(msg.error.data.retryAfterSeconds >= 1 && msg.error.data.retryAfterSeconds <= 60);
}, () => gw));

test('mcpgw stdio: the caller quota is a JSON-RPC error, not HTTP', async () => {
  const env = { ...process.env, MCPGW_API_KEY: keys.tiny };
  const client = new Client({ name: 'desktop', version: '1' });
  await client.connect(new StdioClientTransport({ command: BIN, args: ['stdio', '-c', cfg], env, stderr: 'ignore' }));
  try {
    // burst 6 (initialize is not a request to the tools)
    for (let i = 0; i < 6; i++) await client.listTools();
    const e = await rejection(client.listTools());
    assert.equal(e.code, RATE_LIMITED);
    assert.equal(e.data.limit, 'principal');
    assert.ok(e.data.retryAfterSeconds >= 55 && e.data.retryAfterSeconds <= 60);
  } finally { await client.close(); }
});

test('bad quotas in the policy are refused at load with file and line', () => {
  const bad = join(dir, 'bad-policy.yaml');
  writeFileSync(bad, 'tool_quotas:\n  "echo_echo": { requests_per_minute: 5 }\n');
  let r = spawnSync(BIN, ['policy', 'check', '--policy', bad], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr + r.stdout, /bad-policy\.yaml:2: key 'tool_quotas\.echo_echo': 'echo_echo' is not "<server>__<tool>"/);
  writeFileSync(bad, 'clients:\n  c:\n    burst: 5\n');
  r = spawnSync(BIN, ['policy', 'check', '--policy', bad], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr + r.stdout, /bad-policy\.yaml:3: key 'clients\.c': burst needs max_requests_per_minute beside it/);
});
