// Identity and access: API keys from the store, the policy deciding what
// each caller sees and may call, 401 with resource metadata, sessions bound
// to the key that opened them, and `mcpgw apikey` / `mcpgw policy explain`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  startGateway, tempDir, freePort, post, BIN, MISBEHAVE, buildEchoMcp, THREE_ROLE_POLICY, withGatewayLog, mcpgw,
  apikeyCreate, writeGatewayFiles, bearerClient, apiKeyAuthYaml,
} from './lib.mjs';

const POLICY = `${THREE_ROLE_POLICY}clients:
  "apikey:vera":
    max_request_size: 400B
    allowed_origins: ["http://localhost:3000"]
`;

let gw, dir, cfg;
const keys = {};

before(async () => {
  const echo = await buildEchoMcp();
  dir = tempDir();
  const port = await freePort();
  const body = `servers:\n  echo:\n    command: "${echo}"\n  mb:\n    command: node\n    args: ["${MISBEHAVE}"]\n` +
    `virtual_servers:\n  team-a:\n    tools: ["echo__*"]\n  team-b:\n    tools: ["mb__*"]\n` +
    apiKeyAuthYaml(port);
  // Keys are made with the CLI against the same store the gateway reads.
  cfg = writeGatewayFiles(dir, port, body, POLICY);
  for (const [name, roles] of [['vera', 'viewer'], ['dev', 'developer'], ['root', 'admin'], ['gone', 'admin']]) {
    keys[name] = apikeyCreate(cfg, name, roles);
  }
  // Good at the team-a virtual server only.
  keys.teamA = apikeyCreate(cfg, 'team-a-bot', 'admin', 'team-a');
  gw = await startGateway(body, { dir, port });
});
after(async () => { await gw?.stop(); });

const clientWith = (key, url = gw.url) => bearerClient(url, key, 'auth-test');

async function toolsOf(key) {
  const client = await clientWith(key);
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally { await client.close(); }
}

test('each role sees exactly the tools its policy allows', async () => {
  assert.deepEqual(await toolsOf(keys.vera), ['echo__echo']);
  assert.deepEqual(await toolsOf(keys.dev), ['echo__echo', 'mb__echo', 'mb__pid', 'mb__slow']);
  assert.deepEqual(await toolsOf(keys.root),
    ['echo__echo', 'mb__crash', 'mb__echo', 'mb__garbage', 'mb__hang', 'mb__pid', 'mb__slow']);
});

test('a hidden or denied tool answers exactly like an unknown one', async () => {
  const client = await clientWith(keys.vera);
  try {
    const r = await client.callTool({ name: 'echo__echo', arguments: { text: 'allowed' } });
    assert.equal(r.content[0].text, 'allowed');
    const errs = [];
    for (const name of ['mb__echo', 'mb__hang', 'nosuch__tool']) {
      try { await client.callTool({ name, arguments: {} }); } catch (e) { errs.push([e.code, e.message.replace(name, 'X')]); }
    }
    assert.equal(errs.length, 3);
    assert.deepEqual(errs[0], errs[2]);
    assert.deepEqual(errs[1], errs[2]);
    assert.equal(errs[0][0], -32602);
  } finally { await client.close(); }
});

test('no credential, a bad key, or a revoked key: 401 (no OAuth metadata with API keys only: clients.test.mjs)', async () => {
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  const none = await post(gw.url, init);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="mcpgw"');
  const bad = await post(gw.url, init, { authorization: `Bearer ${keys.vera.slice(0, -4)}AAAA` });
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate'), /error="invalid_token"/);
  assert.doesNotMatch(bad.body, /vera|prefix|secret/i, 'says nothing about what matched');
  mcpgw('apikey', 'revoke', '--name', 'gone', '-c', cfg);
  let status = 0;
  for (let i = 0; i < 40 && status !== 401; i++) { // picked up within a few seconds
    status = (await post(gw.url, init, { 'x-api-key': keys.gone })).status;
    if (status !== 401) await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(status, 401);
  assert.equal((await fetch(`${gw.base}/.well-known/oauth-protected-resource/mcp`)).status, 404);
});

test('a session belongs to the key that opened it', async () => {
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  const r = await post(gw.url, init, { 'x-api-key': keys.vera });
  const sid = r.headers.get('mcp-session-id');
  const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
  assert.equal((await post(gw.url, list, { 'x-api-key': keys.vera, 'mcp-session-id': sid })).status, 200);
  const other = await post(gw.url, list, { 'x-api-key': keys.root, 'mcp-session-id': sid });
  assert.equal(other.status, 404, 'another caller is told the session does not exist');
  const noKey = await post(gw.url, list, { 'mcp-session-id': sid });
  assert.equal(noKey.status, 401, 'a session id is not a credential');
});

test('mcpgw apikey list shows no secrets; mcpgw policy explain says why', async () => {
  const list = mcpgw('apikey', 'list', '-c', cfg);
  assert.match(list, /vera\s+\S+\s+active\s+viewer/);
  assert.match(list, /gone\s+\S+\s+revoked/);
  for (const k of Object.values(keys)) assert.ok(!list.includes(k.slice(15)), 'no secret in the list');
  const pol = join(dir, 'policy.yaml');
  assert.equal(mcpgw('policy', 'explain', '--policy', pol, '--principal', 'apikey:dev', '--roles', 'developer', '--tool', 'mb__hang'),
    "DENY invoke_tool mcp:mb:hang for apikey:dev: rule 'no-hang-for-developers' (priority 10, deny)");
  assert.match(mcpgw('policy', 'explain', '--policy', pol, '--principal', 'apikey:vera', '--roles', 'viewer', '--tool', 'echo__echo'),
    /^ALLOW invoke_tool mcp:echo:echo for apikey:vera: role 'viewer' grants invoke_tool on 'mcp:echo:\*'$/);
  assert.match(mcpgw('policy', 'explain', '--policy', pol, '--principal', 'nobody', '--tool', 'echo__echo'), /^DENY .*default_policy deny/);
});

test('per-client limits from the policy: a smaller body limit and its own origins', async () => {
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  const big = { ...init, params: { ...init.params, clientInfo: { name: 'x'.repeat(600), version: '1' } } };
  assert.equal((await post(gw.url, big, { 'x-api-key': keys.vera })).status, 413, 'over vera\'s max_request_size');
  assert.equal((await post(gw.url, big, { 'x-api-key': keys.root })).status, 200, 'root has no such limit');
  const other = await post(gw.url, init, { 'x-api-key': keys.vera, origin: 'http://localhost:4000' });
  assert.equal(other.status, 403);
  const mine = await post(gw.url, init, { 'x-api-key': keys.vera, origin: 'http://localhost:3000' });
  assert.equal(mine.status, 200);
});

test('a key valid for one virtual server used on another', withGatewayLog(async () => {
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  // At its own endpoint: the SDK client sees that virtual server's tools.
  const client = await clientWith(keys.teamA, `${gw.base}/servers/team-a/mcp`);
  try {
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['echo__echo']);
  } finally { await client.close(); }
  // Anywhere else: 401 invalid_token, as a token issued for another endpoint.
  for (const path of ['/servers/team-b/mcp', '/servers/echo/mcp', '/mcp']) {
    const r = await post(`${gw.base}${path}`, init, { authorization: `Bearer ${keys.teamA}` });
    assert.equal(r.status, 401, path);
    assert.equal(r.headers.get('www-authenticate'),
      'Bearer realm="mcpgw", error="invalid_token"');
    assert.deepEqual(r.json.error, { code: -32000,
      message: 'Unauthorized: this API key is not valid for this endpoint (it is scoped to other servers)' });
  }
  // The legacy SSE endpoints are endpoints of the same servers.
  const sse = await fetch(`${gw.base}/servers/team-b/sse`, { headers: { 'x-api-key': keys.teamA, accept: 'text/event-stream' } });
  assert.equal(sse.status, 401);
  const ac = new AbortController();
  const ok = await fetch(`${gw.base}/servers/team-a/sse`, { headers: { 'x-api-key': keys.teamA, accept: 'text/event-stream' }, signal: ac.signal });
  assert.equal(ok.status, 200);
  ac.abort();
  // An unscoped key of the same role is good at both.
  assert.equal((await post(`${gw.base}/servers/team-b/mcp`, init, { 'x-api-key': keys.root })).status, 200);
  assert.match(gw.logs(), /API key \w{8} refused at \/servers\/team-b\/mcp: API key not valid for this endpoint/);
  assert.match(mcpgw('apikey', 'list', '-c', cfg), /team-a-bot\s+\S+\s+active\s+admin\s+team-a\s/);
}, () => gw));

test('mcpgw stdio honours the scope of MCPGW_API_KEY', async () => {
  const env = { ...process.env, MCPGW_API_KEY: keys.teamA };
  const client = new Client({ name: 'desktop', version: '1' });
  await client.connect(new StdioClientTransport({ command: BIN, args: ['stdio', '-c', cfg, '--server', 'team-a'], env, stderr: 'ignore' }));
  try {
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['echo__echo']);
  } finally { await client.close(); }
  for (const [args, why] of [[['--server', 'team-b'], /MCPGW_API_KEY refused: the key is not valid for server 'team-b' \(it is scoped to other servers\)/],
    [[], /MCPGW_API_KEY refused: the key is scoped to some servers; run mcpgw stdio --server NAME with one of them/]]) {
    const r = spawnSync(BIN, ['stdio', '-c', cfg, ...args], { env, input: '', encoding: 'utf8', timeout: 10000 });
    assert.notEqual(r.status, 0, `exit status with ${args}`);
    assert.match(r.stderr, why);
    assert.equal(r.stdout, '');
  }
});
