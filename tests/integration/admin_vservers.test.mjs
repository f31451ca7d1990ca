// Virtual servers added through the admin API (docs/admin-api.md, "Virtual
// servers"): one added is served at once at /servers/NAME/mcp with exactly
// the tools its globs select; a change is announced to the sessions on it
// (tools/list_changed); it survives a restart (the managed file beside the
// config) and is shown with its origin (list, config export); removed, its
// endpoint answers 404. A config-file virtual server is changed there (409);
// bad names, globs and keys get 400 with the field and config check's words.
// Every change is an audit event. Answers conform to the OpenAPI document.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  tempDir, freePort, startGateway, writeGatewayFiles, apikeyCreate, apiKeyAuthYaml,
  EVERYTHING, withGatewayLog, ADMIN_POLICY, BIN, waitFor,
} from './lib.mjs';
import { openapiChecker, adminCall } from './admin_lib.mjs';
import { sqliteRows } from './audit_lib.mjs';

let gw, dir, port, body, key, api;

before(async () => {
  dir = tempDir();
  port = await freePort();
  body = 'servers:\n  local:\n    command: node\n    args: ["' + EVERYTHING + '"]\n' +
    'virtual_servers:\n  fixed:\n    tools: ["local__echo"]\n' + apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  key = apikeyCreate(cfg, 'root', 'admin');
  gw = await startGateway(body, { dir, port });
  const doc = await adminCall(gw.base, 'GET', '/admin/v1/openapi.json', { key });
  api = await openapiChecker(doc.json);
});
after(async () => { await gw?.stop(); });

async function call(method, path, o = {}) {
  return api.conforms(method, path, await adminCall(gw.base, method, path, { key, ...o }));
}

async function connect(name) {
  const client = new Client({ name: 'vs-test', version: '1' }, { capabilities: {} });
  const changed = [];
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed.push(1); });
  const transport = new StreamableHTTPClientTransport(new URL(`${gw.base}/servers/${name}/mcp`),
    { requestInit: { headers: { Authorization: `Bearer ${key}` } } });
  await client.connect(transport);
  return { client, transport, changed };
}

const names = async (c) => (await c.client.listTools()).tools.map((t) => t.name).sort();

async function until(what, fn) {
  for (let i = 0; i < 150; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a virtual server added is served at once, changed (announced), kept across a restart, removed', withGatewayLog(async () => {
  const r = await call('POST', '/admin/v1/virtual_servers', { body: { name: 'picked', tools: ['local__echo', 'local__get-*'] } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json, { name: 'picked', endpoint: '/servers/picked/mcp', tools: ['local__echo', 'local__get-*'],
    prompts: [], resources: [], origin: 'api' });
  const managed = join(dir, 'mcpgw.managed.yaml');
  assert.match(readFileSync(managed, 'utf8'), /"virtual_servers"[\s\S]*"picked"/);

  const c = await connect('picked');
  const first = await names(c);
  assert.ok(first.length >= 2, first.join());
  assert.ok(first.every((n) => n === 'local__echo' || n.startsWith('local__get-')), first.join());
  assert.ok(first.includes('local__echo'), first.join());

  const ch = await call('POST', '/admin/v1/virtual_servers/picked', { body: { tools: ['local__echo', 'local__get-sum'] } });
  assert.equal(ch.status, 200, ch.text);
  assert.deepEqual(ch.json.tools, ['local__echo', 'local__get-sum']);
  await until('tools/list_changed on the virtual server', () => c.changed.length > 0);
  assert.deepEqual(await names(c), ['local__echo', 'local__get-sum']);
  await c.client.close();

  const l = await call('GET', '/admin/v1/virtual_servers');
  assert.deepEqual(l.json.virtual_servers.map((v) => [v.name, v.origin]), [['fixed', 'config'], ['picked', 'api']]);
  const ex = await call('GET', '/admin/v1/config');
  assert.equal(ex.json.origins.picked, 'api');
  assert.equal(ex.json.origins.fixed, 'config');
  const y = await adminCall(gw.base, 'GET', '/admin/v1/config?format=yaml', { key });
  assert.match(y.text, /# virtual server picked: added through the admin API \(mcpgw\.managed\.yaml\)/);

  await gw.stop();
  gw = await startGateway(body, { dir, port });
  const kept = await call('GET', '/admin/v1/virtual_servers/picked');
  assert.equal(kept.status, 200, kept.text);
  assert.equal(kept.json.origin, 'api');
  assert.deepEqual(kept.json.tools, ['local__echo', 'local__get-sum']);
  const c2 = await connect('picked');
  assert.deepEqual(await names(c2), ['local__echo', 'local__get-sum']);

  const del = await call('DELETE', '/admin/v1/virtual_servers/picked');
  assert.equal(del.status, 200, del.text);
  assert.deepEqual(del.json, { removed: 'picked' });
  // the session on it is closed: its client gets 404 (and a new one too)
  const stale = await fetch(`${gw.base}/servers/picked/mcp`, { method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-session-id': c2.transport.sessionId, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
  assert.equal(stale.status, 404);
  await c2.client.close().catch(() => {});
  await assert.rejects(connect('picked'));
  assert.equal((await call('GET', '/admin/v1/virtual_servers/picked')).status, 404);
  assert.equal((await call('DELETE', '/admin/v1/virtual_servers/picked')).status, 404);
  assert.doesNotMatch(readFileSync(managed, 'utf8'), /"picked"/);

  // admin events are written after their answer: wait for the last one
  const actions = () => sqliteRows(`${dir}/mcpgw.db`).filter((x) => x.event_type === 'admin')
    .map((x) => JSON.parse(x.record).action);
  await waitFor(() => actions().includes('DELETE /admin/v1/virtual_servers/picked'), 'the removal recorded');
  for (const a of ['POST /admin/v1/virtual_servers', 'POST /admin/v1/virtual_servers/picked',
    'DELETE /admin/v1/virtual_servers/picked']) assert.ok(actions().includes(a), a);
}, () => gw));

test('a config-file virtual server is changed in the config file: 409', withGatewayLog(async () => {
  const ch = await call('POST', '/admin/v1/virtual_servers/fixed', { body: { tools: ['local__*'] } });
  assert.equal(ch.status, 409, ch.text);
  assert.equal(ch.json.error.field, 'name');
  assert.match(ch.json.error.message, /lives in the config file/);
  const del = await call('DELETE', '/admin/v1/virtual_servers/fixed');
  assert.equal(del.status, 409, del.text);
  assert.equal((await call('POST', '/admin/v1/virtual_servers/nosuch', { body: { tools: ['x'] } })).status, 404);
  const l = await call('GET', '/admin/v1/virtual_servers/fixed');
  assert.deepEqual(l.json.tools, ['local__echo']);
}, () => gw));

test('bad bodies: 400 with the field and the reason, nothing written', withGatewayLog(async () => {
  const managed = join(dir, 'mcpgw.managed.yaml');
  const before = existsSync(managed) ? readFileSync(managed, 'utf8') : null;
  const cases = [
    [{ name: 'bad name!', tools: ['x'] }, 'name', /a virtual server name is/],
    [{ name: 'local', tools: ['x'] }, 'name', /already used by the server 'local' \(in the config file\)/],
    [{ name: 'fixed', tools: ['x'] }, 'name', /already used by the virtual server 'fixed'/],
    [{ tools: ['x'] }, 'name', /required/],
    [{ name: 'x', tools: ['x'], colour: 'red' }, 'colour', /unknown key \(expected one of: name, tools, prompts, resources\)/],
    [{ name: 'x', tools: [''] }, 'tools', /key 'virtual_servers\.x\.tools\[0\]': must not be empty/],
    [{ name: 'x', tools: 'local__*' }, 'tools', /key 'virtual_servers\.x\.tools': expected a list of strings/],
    [{ name: 'x', resources: [['a']] }, 'resources', /key 'virtual_servers\.x\.resources\[0\]'/],
    [{ name: 'x', tools: ['${HOME}'] }, 'tools', /\$\{VAR\}/],
  ];
  for (const [b, field, re] of cases) {
    const r = await call('POST', '/admin/v1/virtual_servers', { body: b });
    assert.equal(r.status, 400, `${JSON.stringify(b)}: ${r.text}`);
    assert.equal(r.json.error.field, field, `${JSON.stringify(b)}: ${r.text}`);
    assert.match(r.json.error.message, re, `${JSON.stringify(b)}: ${r.text}`);
  }
  assert.equal(existsSync(managed) ? readFileSync(managed, 'utf8') : null, before, 'the managed file is untouched');
  assert.deepEqual((await call('GET', '/admin/v1/virtual_servers')).json.virtual_servers.map((v) => v.name), ['fixed']);
}, () => gw));

// mcpgw ARGS against the gateway with the admin key.
function mcpgw(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000,
    env: { ...process.env, MCPGW_URL: gw.base, MCPGW_TOKEN: key } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('mcpgw vservers: list, add, change, remove against the running gateway; refusals in the gateway\'s words', withGatewayLog(async () => {
  const help = mcpgw(['vservers', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.out, /^usage: mcpgw vservers list/);
  const add = mcpgw(['vservers', 'add', 'cli-vs', '--tools', 'local__echo,local__get-sum']);
  assert.equal(add.status, 0, add.err);
  assert.equal(add.out, 'virtual server cli-vs added (/servers/cli-vs/mcp)\n');
  const c = await connect('cli-vs');
  assert.deepEqual(await names(c), ['local__echo', 'local__get-sum']);
  await c.client.close();
  const list = mcpgw(['vservers', 'list']);
  assert.equal(list.status, 0, list.err);
  assert.match(list.out, /^NAME +ORIGIN +TOOLS \/ PROMPTS \/ RESOURCES\n/);
  assert.match(list.out, /\nfixed +config +local__echo \/ - \/ -\n/);
  assert.match(list.out, /\ncli-vs +api +local__echo,local__get-sum \/ - \/ -\n/);
  const ch = mcpgw(['vservers', 'change', 'cli-vs', '--tools', 'local__echo', '--format', 'json']);
  assert.equal(ch.status, 0, ch.err);
  assert.deepEqual(JSON.parse(ch.out).tools, ['local__echo']);
  const bad = mcpgw(['vservers', 'add', 'bad.name', '--tools', 'local__echo']);
  assert.equal(bad.status, 1);
  assert.match(bad.err, /HTTP 400: key 'name': a virtual server name is 1 to \d+ letters/);
  const conf = mcpgw(['vservers', 'remove', 'fixed']);
  assert.equal(conf.status, 1);
  assert.match(conf.err, /HTTP 409: .*lives in the config file/);
  const rm = mcpgw(['vservers', 'remove', 'cli-vs']);
  assert.equal(rm.status, 0, rm.err);
  assert.equal(rm.out, 'virtual server cli-vs removed\n');
  assert.equal((await call('GET', '/admin/v1/virtual_servers/cli-vs')).status, 404);
  const usage = mcpgw(['vservers', 'add']);
  assert.equal(usage.status, 2);
}, () => gw));
