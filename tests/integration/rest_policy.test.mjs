// Seed 001's REST surface shows a caller only the servers it may use
// (docs/rest.md, "Who may do what"): a key whose policy allows server a but
// not b (nor the broken z) gets neither b nor z in any answer (listings,
// errors, skipped), and b's own paths answer 404 exactly as a server that
// does not exist; an admin still sees everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT, startGateway, tempDir, freePort, apikeyCreate, writeGatewayFiles, apiKeyAuthYaml,
  allowAllRole, bearerClient, withGatewayLog,
} from './lib.mjs';
import { eventually } from './audit_lib.mjs';

const FIXTURE = join(ROOT, 'tests', 'fixtures', 'broadcast-server.mjs');

// ops may do anything (admin included); onlya may list and call a's tools.
const POLICY = `roles:\n${allowAllRole('ops')}  onlya:
    permissions:
      - resource: "mcp:a:*"
        actions: [list_tools, invoke_tool]
default_policy: deny
`;

let gw;
let recFile;
const keys = {};

const stdioServer = (label) =>
  `  ${label}:\n    command: node\n    args: ["${FIXTURE}", "${label}", "ok", "${recFile}"]\n    tags: [logs]\n`;

before(async () => {
  const dir = tempDir();
  const port = await freePort();
  recFile = join(dir, 'calls.jsonl');
  writeFileSync(recFile, '');
  // z never starts: its lists cannot be had
  const body = `servers:\n${stdioServer('a')}${stdioServer('b')}  z:\n    command: /bin/false\n    tags: [logs]\n` +
    'broadcast_tool: true\n' + apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, POLICY);
  keys.ops = apikeyCreate(cfg, 'ops', 'ops');
  keys.onlya = apikeyCreate(cfg, 'onlya', 'onlya');
  keys.scoped = apikeyCreate(cfg, 'scoped', 'ops', 'a');
  gw = await startGateway(body, { dir, port, readyUpstreams: false }); // z never is
  await eventually(async () => (await get('/mcp/list-tools?mcp_server=a', 'ops')).status === 200 &&
    (await get('/mcp/list-tools?mcp_server=b', 'ops')).status === 200, 'a and b ready');
});

after(async () => {
  await gw?.stop();
});

async function req(method, path, who, body) {
  const headers = { authorization: `Bearer ${keys[who]}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(gw.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
}
const get = (path, who) => req('GET', path, who);
const post = (path, body, who) => req('POST', path, who, body);
const calls = () => readFileSync(recFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const t = (name, fn) => test(name, withGatewayLog(fn, () => gw));

t('GET /mcp/servers lists only the servers the caller may use; an admin sees all', async () => {
  const mine = await get('/mcp/servers', 'onlya');
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(mine.json.servers.map((s) => s.name), ['a']);
  assert.equal(mine.json.count, 1);
  const all = await get('/mcp/servers', 'ops');
  assert.deepEqual(all.json.servers.map((s) => s.name), ['a', 'b', 'z']);
  assert.equal(all.json.count, 3);
  // a key scoped to some servers (apikey --servers) is good at none of these endpoints
  assert.equal((await get('/mcp/servers', 'scoped')).status, 401);
});

t('a server the caller may not use answers as one that does not exist', async () => {
  const n = calls().length;
  const nosuchInfo = await get('/mcp/server/nosuch/info', 'onlya');
  const info = await get('/mcp/server/b/info', 'onlya');
  assert.equal(info.status, 404, info.text);
  assert.deepEqual(info.json, nosuchInfo.json);
  assert.equal((await get('/mcp/server/a/info', 'onlya')).status, 200);
  assert.equal((await get('/mcp/server/b/info', 'ops')).status, 200);

  const list = await get('/mcp/list-tools?mcp_server=b', 'onlya');
  assert.equal(list.status, 404, list.text);
  assert.deepEqual(list.json, (await get('/mcp/list-tools?mcp_server=nosuch', 'onlya')).json);
  // a broken server's failure is not shown to whom may not use it either
  assert.equal((await get('/mcp/list-tools?mcp_server=z', 'onlya')).status, 404);
  assert.equal((await get('/mcp/list-tools?mcp_server=a', 'onlya')).status, 200);

  const inv = await post('/mcp/invoke?mcp_server=b', { tool_name: 'get_logs' }, 'onlya');
  assert.equal(inv.status, 404, inv.text);
  assert.deepEqual(inv.json, (await post('/mcp/invoke?mcp_server=nosuch', { tool_name: 'get_logs' }, 'onlya')).json);
  assert.equal(calls().length, n, 'b was not called');
});

t('GET /tools: neither the tools nor the failures of servers the caller may not use', async () => {
  const mine = await get('/tools', 'onlya');
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(mine.json.tools.map((x) => x.name).sort(), ['get_logs', 'only_a']);
  assert.deepEqual(mine.json.tools.find((x) => x.name === 'get_logs').servers, ['a']);
  assert.deepEqual(mine.json.errors, {});
  const all = await get('/tools', 'ops');
  assert.deepEqual(Object.keys(all.json.errors), ['z']);
});

t('broadcasts: servers the caller may not use are neither named nor called', async () => {
  const n = calls().length;
  const any = await post('/mcp/invoke-broadcast', { tool_name: 'get_logs' }, 'onlya');
  assert.equal(any.status, 200, any.text);
  assert.deepEqual(Object.keys(any.json.results), ['a']);
  assert.deepEqual(any.json.skipped, {});
  assert.deepEqual(any.json.errors, {});
  const tagged = await post('/mcp/invoke-broadcast', { tool_name: 'get_logs', tags: ['logs'] }, 'onlya');
  assert.deepEqual(tagged.json.skipped, {});
  assert.deepEqual(Object.keys(tagged.json.results), ['a']);
  const auto = await post('/tools/get_logs/invoke', {}, 'onlya');
  assert.equal(auto.status, 200, auto.text);
  assert.deepEqual(JSON.parse(auto.json.content[1].resource.text).skipped, {});
  assert.deepEqual(calls().slice(n).map((c) => c.label), ['a', 'a', 'a']);

  // naming one: as a name that is not running
  const named = await post('/mcp/invoke-broadcast', { tool_name: 'get_logs', mcp_servers: ['a', 'b'] }, 'onlya');
  assert.equal(named.status, 404, named.text);
  const nosuch = await post('/mcp/invoke-broadcast', { tool_name: 'get_logs', mcp_servers: ['a', 'nosuch'] }, 'onlya');
  assert.equal(named.json.error, nosuch.json.error.replace('nosuch', 'b'));
  assert.equal(calls().length, n + 3, 'nothing called');
  // the admin's broadcast still reaches every server
  const ops = await post('/mcp/invoke-broadcast', { tool_name: 'get_logs', mcp_servers: ['a', 'b'] }, 'ops');
  assert.deepEqual(Object.keys(ops.json.results).sort(), ['a', 'b']);
});

t('gateway__broadcast over MCP hides the same servers', async () => {
  const client = await bearerClient(gw.url, keys.onlya);
  try {
    const r = await client.callTool({ name: 'gateway__broadcast', arguments: { tool_name: 'get_logs' } });
    assert.deepEqual(Object.keys(r.structuredContent.results), ['a']);
    assert.deepEqual(r.structuredContent.skipped, {});
    const named = await client.callTool({ name: 'gateway__broadcast', arguments: { tool_name: 'get_logs', servers: ['b'] } })
      .catch((e) => e);
    const nosuch = await client.callTool({ name: 'gateway__broadcast', arguments: { tool_name: 'get_logs', servers: ['nosuch'] } })
      .catch((e) => e);
    assert.equal(named.code, -32602);
    assert.equal(named.message, nosuch.message.replace('nosuch', 'b'));
  } finally {
    await client.close();
  }
});
