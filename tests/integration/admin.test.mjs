// The admin API (docs/admin-api.md): its OpenAPI document is a valid
// OpenAPI 3.1 document, every endpoint it documents answers as documented
// (status and body checked against the document's schema for them), only
// principals with the policy's admin action get in (403 and an audit record
// otherwise), keys made through it work for /mcp at once, and bad input gets
// the one error shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  tempDir, freePort, startGateway, writeGatewayFiles, apikeyCreate, apiKeyAuthYaml, bearerClient,
  EVERYTHING, ROOT, BIN, withGatewayLog, ADMIN_POLICY, waitFor,
} from './lib.mjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { sqliteRows } from './audit_lib.mjs';
import { openapiChecker, adminCall } from './admin_lib.mjs';

const PIN_SERVER = join(ROOT, 'tests', 'fixtures', 'pin-server.mjs');

let gw, dir, cfg, doc, conforms, isError, checked;
const keys = {};

before(async () => {
  dir = tempDir();
  const port = await freePort();
  const body = `servers:\n  every:\n    command: node\n    args: ["${EVERYTHING}"]\n    tags: [demo, stdio]\n` +
    `  p:\n    command: node\n    args: [${JSON.stringify(PIN_SERVER)}, ""]\n` +
    'virtual_servers:\n  demo:\n    tools: ["every__echo", "every__get_*"]\n    resources: ["demo://*"]\n' + apiKeyAuthYaml(port);
  cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  keys.root = apikeyCreate(cfg, 'root', 'admin');
  keys.op = apikeyCreate(cfg, 'op', 'operator');
  gw = await startGateway(body, { dir, port });
});
after(async () => { await gw?.stop(); });

function call(method, path, { key = keys.root, ...o } = {}) {
  return adminCall(gw.base, method, path, { key, ...o });
}

test('GET /admin/v1/openapi.json is a valid OpenAPI 3.1 document', withGatewayLog(async () => {
  const r = await call('GET', '/admin/v1/openapi.json');
  assert.equal(r.status, 200);
  doc = r.json;
  ({ conforms, isError, checked } = await openapiChecker(doc));
  conforms('GET', '/admin/v1/openapi.json', r);
}, () => gw));

test('without the admin action: 403 in the error shape, and an audit record', withGatewayLog(async () => {
  const before_ = sqliteRows(`${dir}/mcpgw.db`).length;
  const r = conforms('GET', '/admin/v1/keys', await call('GET', '/admin/v1/keys', { key: keys.op }));
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'forbidden');
  assert.match(r.json.error.message, /admin mcp:admin:keys for apikey:op/);
  const w = conforms('POST', '/admin/v1/keys', await call('POST', '/admin/v1/keys', { key: keys.op, body: { name: 'sneaky' } }));
  assert.equal(w.status, 403);
  let recs = [];
  for (let i = 0; i < 100 && recs.length < 2; i++) {
    recs = sqliteRows(`${dir}/mcpgw.db`).slice(before_).filter((x) => x.event_type === 'admin').map((x) => JSON.parse(x.record));
    if (recs.length < 2) await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(recs.length, 2);
  assert.equal(recs[0].user, 'apikey:op');
  assert.equal(recs[0].status, 'denied');
  assert.equal(recs[0].http_status, 403);
  assert.equal(recs[0].action, 'GET /admin/v1/keys');
  assert.equal(recs[1].action, 'POST /admin/v1/keys');
  // nothing was made
  const list = await call('GET', '/admin/v1/keys');
  assert.ok(!list.json.keys.some((k) => k.name === 'sneaky'));
}, () => gw));

test('without a credential: 401 as for /mcp', async () => {
  const r = await call('GET', '/admin/v1/keys', { key: null });
  conforms('GET', '/admin/v1/keys', r);
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), /^Bearer /);
  const bad = await call('GET', '/admin/v1/keys', { key: 'mcpgw_AAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB' });
  assert.equal(bad.status, 401);
});

async function toolsWith(key) {
  const client = await bearerClient(gw.url, key, 'admin-test');
  try { return (await client.listTools()).tools.length; } finally { await client.close(); }
}

async function refusedAtMcp(key) {
  const r = await fetch(gw.url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }) });
  await r.text();
  return r.status === 401;
}

test('keys: made, listed, rotated and revoked through the API, in force at once for /mcp', withGatewayLog(async () => {
  const made = conforms('POST', '/admin/v1/keys', await call('POST', '/admin/v1/keys', { body: { name: 'ci-bot', roles: ['operator'], expires_in: 3600 } }));
  assert.equal(made.status, 201);
  assert.match(made.json.key, /^mcpgw_/);
  assert.deepEqual(made.json.roles, ['operator']);
  assert.ok(await toolsWith(made.json.key) > 0, 'the new key works for /mcp at once');

  const list = conforms('GET', '/admin/v1/keys', await call('GET', '/admin/v1/keys'));
  assert.equal(list.status, 200);
  const row = list.json.keys.find((k) => k.name === 'ci-bot');
  assert.equal(row.status, 'active');
  assert.ok(!('key' in row) && !list.text.includes(made.json.key.split('_')[2]), 'never the secret in a list');
  assert.ok(!/mac|hash/i.test(list.text));

  const dup = conforms('POST', '/admin/v1/keys', await call('POST', '/admin/v1/keys', { body: { name: 'ci-bot' } }));
  assert.equal(dup.status, 409);

  const rot = conforms('POST', '/admin/v1/keys/{name}/rotate', await call('POST', '/admin/v1/keys/ci-bot/rotate'));
  assert.equal(rot.status, 200);
  assert.notEqual(rot.json.key, made.json.key);
  assert.equal(rot.json.prefix, made.json.prefix);
  assert.ok(await refusedAtMcp(made.json.key), 'the old secret fails at once');
  assert.ok(await toolsWith(rot.json.key) > 0, 'the new secret works');

  const gone = conforms('DELETE', '/admin/v1/keys/{name}', await call('DELETE', '/admin/v1/keys/ci-bot'));
  assert.equal(gone.status, 200);
  assert.equal(gone.json.status, 'revoked');
  assert.ok(await refusedAtMcp(rot.json.key), 'a revoked key fails at once');

  const again = conforms('DELETE', '/admin/v1/keys/{name}', await call('DELETE', '/admin/v1/keys/ci-bot'));
  assert.equal(again.status, 404);
  const norot = conforms('POST', '/admin/v1/keys/{name}/rotate', await call('POST', '/admin/v1/keys/nobody/rotate'));
  assert.equal(norot.status, 404);

  // the changes are audit events, with no secret in them (written after
  // their answers: wait for the last change's)
  const adminRows = () => sqliteRows(`${dir}/mcpgw.db`).filter((x) => x.event_type === 'admin');
  await waitFor(() => adminRows().some((x) => JSON.parse(x.record).action === 'DELETE /admin/v1/keys/ci-bot'),
    'the revocation recorded');
  const rows = adminRows();
  const actions = rows.map((x) => JSON.parse(x.record).action);
  for (const a of ['POST /admin/v1/keys', 'POST /admin/v1/keys/ci-bot/rotate', 'DELETE /admin/v1/keys/ci-bot']) assert.ok(actions.includes(a), a);
  for (const x of rows) {
    assert.ok(!x.record.includes(made.json.key.split('_')[2]) && !x.record.includes(rot.json.key.split('_')[2]));
  }
}, () => gw));

test('bad input: one error shape naming the field and the reason', withGatewayLog(async () => {
  const cases = [
    [{ name: 'x', colour: 'red' }, 400, 'colour', /key 'colour': unknown key \(expected one of: name, roles, servers, expires_in\)/],
    [{ name: 7 }, 400, 'name', /key 'name': expected a string/],
    [{ name: 'bad name!' }, 400, 'name', /key 'name': expected 1 to 64 of/],
    [{ roles: ['a'] }, 400, 'name', /key 'name': required/],
    [{ name: 'ok', roles: 'admin' }, 400, 'roles', /key 'roles': expected a list of strings/],
    [{ name: 'ok', roles: [1] }, 400, 'roles', /key 'roles\[0\]': expected a string/],
    [{ name: 'ok', servers: ['nope'] }, 400, 'servers', /key 'servers\[0\]': unknown server 'nope'/],
    [{ name: 'ok', expires_in: -5 }, 400, 'expires_in', /key 'expires_in': expected a whole number of seconds/],
    [[1, 2], 400, undefined, /the body must be a JSON object/],
  ];
  for (const [body, status, field, msg] of cases) {
    const r = conforms('POST', '/admin/v1/keys', await call('POST', '/admin/v1/keys', { body }));
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.json.error.code, 'bad_request');
    assert.equal(r.json.error.field, field, JSON.stringify(body));
    assert.match(r.json.error.message, msg);
  }
  const notJson = conforms('POST', '/admin/v1/keys', await call('POST', '/admin/v1/keys', { raw: '{"name": ' }));
  assert.equal(notJson.status, 400);
  assert.match(notJson.json.error.message, /not JSON/);

  const big = conforms('POST', '/admin/v1/keys', await call('POST', '/admin/v1/keys', { raw: JSON.stringify({ name: 'x', pad: 'a'.repeat(1100 * 1024) }) }));
  assert.equal(big.status, 413);
  assert.equal(big.json.error.code, 'payload_too_large');

  const wrong = isError(await call('DELETE', '/admin/v1/keys'));
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'GET, POST');
  assert.equal(wrong.json.error.code, 'method_not_allowed');

  const unknown = isError(await call('GET', '/admin/v1/nothing-here'));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'not_found');
  const badName = conforms('DELETE', '/admin/v1/keys/{name}', await call('DELETE', '/admin/v1/keys/bad%20name'));
  assert.equal(badName.status, 400);
  assert.equal(badName.json.error.field, 'name');
}, () => gw));

const until = async (fn, what) => {
  for (let i = 0; i < 100; i++) { const v = await fn(); if (v) return v; await new Promise((r) => setTimeout(r, 100)); }
  assert.fail(`timed out: ${what}`);
};

test('servers: listed with transport, state, health, tags and tools seen; one by name', withGatewayLog(async () => {
  await toolsWith(keys.root); // a session lists the tools: the pins record them
  const r = await until(async () => {
    const x = conforms('GET', '/admin/v1/servers', await call('GET', '/admin/v1/servers'));
    return x.json.servers.find((s) => s.name === 'every').tools > 0 && x;
  }, 'tools of every in the store');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.servers.map((s) => s.name), ['every', 'p']);
  const every = r.json.servers[0];
  assert.equal(every.transport, 'stdio');
  assert.equal(every.state, 'ready');
  assert.deepEqual(every.tags, ['demo', 'stdio']);
  assert.equal(every.health.name, 'every');
  const one = conforms('GET', '/admin/v1/servers/{name}', await call('GET', '/admin/v1/servers/p'));
  assert.equal(one.status, 200);
  assert.equal(one.json.name, 'p');
  const none = conforms('GET', '/admin/v1/servers/{name}', await call('GET', '/admin/v1/servers/nope'));
  assert.equal(none.status, 404);
  assert.equal(none.json.error.field, 'name');
}, () => gw));

test('tools: merged list with origin and pin state; approve and reject what waits', withGatewayLog(async () => {
  await toolsWith(keys.root);
  const list = await until(async () => {
    const x = conforms('GET', '/admin/v1/tools', await call('GET', '/admin/v1/tools?server=p'));
    return x.json.tools.some((t) => t.tool === 'deep_poison') && x;
  }, 'the pin server\'s tools in the store');
  assert.ok(list.json.tools.every((t) => t.server === 'p'));
  const poisoned = list.json.tools.find((t) => t.tool === 'poisoned');
  assert.equal(poisoned.name, 'p__poisoned');
  assert.equal(poisoned.state, 'quarantined');
  assert.equal(poisoned.reason, 'hidden_tag');
  assert.equal(list.json.tools.find((t) => t.tool === 'calc').state, 'pinned');

  const ok = conforms('POST', '/admin/v1/tools/{server}/{tool}/approve', await call('POST', '/admin/v1/tools/p/poisoned/approve'));
  assert.equal(ok.status, 200);
  assert.equal(ok.json.state, 'pinned');
  assert.equal(ok.json.approved_by, 'apikey:root');
  const no = conforms('POST', '/admin/v1/tools/{server}/{tool}/reject', await call('POST', '/admin/v1/tools/p/deep_poison/reject'));
  assert.equal(no.status, 200);
  assert.equal(no.json.state, 'rejected');
  // nothing waits any more: 404, as the CLI says
  const again = conforms('POST', '/admin/v1/tools/{server}/{tool}/approve', await call('POST', '/admin/v1/tools/p/deep_poison/approve'));
  assert.equal(again.status, 404);
  const never = conforms('POST', '/admin/v1/tools/{server}/{tool}/reject', await call('POST', '/admin/v1/tools/p/never_seen/reject'));
  assert.equal(never.status, 404);
  assert.match(never.json.error.message, /never saw this tool/);
  // the decision is in force when the answer comes (not at the pin worker's next poll)
  const client = await bearerClient(gw.url, keys.root, 'admin-test');
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('p__poisoned'), 'served as soon as approve answered');
    assert.ok(!names.includes('p__deep_poison'), 'the rejected one stays hidden');
  } finally { await client.close(); }
}, () => gw));

test('policy: shown, validated with policy check\'s messages, decisions explained', withGatewayLog(async () => {
  const g = conforms('GET', '/admin/v1/policy', await call('GET', '/admin/v1/policy'));
  assert.equal(g.status, 200);
  assert.equal(g.json.loaded, true);
  assert.equal(g.json.text, ADMIN_POLICY);
  assert.equal(g.json.counts.roles, 2);
  assert.equal(g.json.counts.default_policy, 'deny');

  const ok = conforms('POST', '/admin/v1/policy/validate', await call('POST', '/admin/v1/policy/validate', { body: { policy: ADMIN_POLICY } }));
  assert.equal(ok.status, 200);
  assert.equal(ok.json.valid, true);
  assert.match(ok.json.summary, /^policy\.yaml: ok \(2 roles, 2 permissions/);
  const bad = conforms('POST', '/admin/v1/policy/validate', await call('POST', '/admin/v1/policy/validate',
    { body: { name: 'new.yaml', policy: 'roles:\n  viewer:\n    permissions:\n      - resource: "mcp:*"\n        actions: [execute]\n' } }));
  assert.equal(bad.status, 200);
  assert.equal(bad.json.valid, false);
  assert.equal(bad.json.error, "new.yaml:5: key 'roles.viewer.permissions[0].actions[0]': unknown action 'execute' (expected list_tools, invoke_tool, read_resource, get_prompt, admin or \"*\")");
  const noText = conforms('POST', '/admin/v1/policy/validate', await call('POST', '/admin/v1/policy/validate', { body: { policy: 5 } }));
  assert.equal(noText.status, 400);
  assert.equal(noText.json.error.field, 'policy');

  const allow = conforms('POST', '/admin/v1/policy/explain', await call('POST', '/admin/v1/policy/explain',
    { body: { principal: 'apikey:x', roles: ['operator'], server: 'every', tool: 'echo' } }));
  assert.equal(allow.status, 200);
  assert.equal(allow.json.decision, 'allow');
  assert.deepEqual(allow.json.by, { kind: 'permission', name: 'operator', line: 8 });
  assert.equal(allow.json.explanation, "ALLOW invoke_tool mcp:every:echo for apikey:x: role 'operator' grants invoke_tool on 'mcp:*'");
  const deny = conforms('POST', '/admin/v1/policy/explain', await call('POST', '/admin/v1/policy/explain',
    { body: { principal: 'apikey:x', roles: ['operator'], server: 'admin', tool: 'keys', action: 'admin' } }));
  assert.equal(deny.json.decision, 'deny');
  assert.equal(deny.json.by.kind, 'default');
  const badAction = conforms('POST', '/admin/v1/policy/explain', await call('POST', '/admin/v1/policy/explain',
    { body: { principal: 'p', server: 's', tool: 't', action: 'execute' } }));
  assert.equal(badAction.status, 400);
  assert.equal(badAction.json.error.field, 'action');
}, () => gw));

test('sessions: listed with their owner and times, one ended', withGatewayLog(async () => {
  const client = await bearerClient(gw.url, keys.op, 'session-lister');
  try {
    const sid = client.transport.sessionId;
    const r = conforms('GET', '/admin/v1/sessions', await call('GET', '/admin/v1/sessions'));
    assert.equal(r.status, 200);
    const mine = r.json.sessions.find((x) => x.id === sid);
    assert.equal(mine.principal, 'apikey:op');
    assert.equal(mine.client, 'session-lister');
    assert.equal(mine.era, 'session');
    assert.ok(Date.parse(mine.created) <= Date.parse(mine.last_active));
    assert.ok(!r.text.includes(keys.op.split('_')[2]), 'never a credential');

    const end = conforms('DELETE', '/admin/v1/sessions/{id}', await call('DELETE', `/admin/v1/sessions/${sid}`));
    assert.equal(end.status, 200);
    assert.equal(end.json.id, sid);
    const after_ = await call('GET', '/admin/v1/sessions');
    assert.ok(!after_.json.sessions.some((x) => x.id === sid));
    // the ended session is unknown to its client now (404 from /mcp)
    const res = await fetch(gw.url, { method: 'POST', headers: { authorization: `Bearer ${keys.op}`, 'content-type': 'application/json',
      accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }) });
    await res.text();
    assert.equal(res.status, 404);
    const gone = conforms('DELETE', '/admin/v1/sessions/{id}', await call('DELETE', `/admin/v1/sessions/${sid}`));
    assert.equal(gone.status, 404);
  } finally { await client.close().catch(() => {}); }
}, () => gw));

test('seed 000\'s /api/compliance/assessment: the report, as documented (compliance_report.test.mjs checks what it says)', withGatewayLog(async () => {
  const r = conforms('GET', '/api/compliance/assessment', await call('GET', '/api/compliance/assessment'));
  assert.equal(r.json.checks.length, r.json.passed + r.json.failed);
  const bad = conforms('GET', '/api/compliance/assessment', await call('GET', '/api/compliance/assessment?format=pdf'));
  assert.equal(bad.status, 400);
  const m = conforms('GET', '/api/metrics/compliance', await call('GET', '/api/metrics/compliance'));
  assert.equal(m.status, 200, m.text);
  assert.equal(m.json.encryption.on, false);
  assert.equal(Object.values(m.json.servers_by_classification).reduce((a, b) => a + b, 0), 2, 'every server counted once');
  const none = isError(await call('GET', '/api/compliance/nothing'));
  assert.equal(none.status, 404);
}, () => gw));

test('caches: each server\'s lists as the sessions hold them; cleared for one server or all', withGatewayLog(async () => {
  const client = await bearerClient(gw.url, keys.op, 'cache-filler');
  try {
    await client.listTools();
    const everyOf = (r) => r.json.caches.find((c) => c.server === 'every');
    const r = conforms('GET', '/admin/v1/caches', await call('GET', '/admin/v1/caches'));
    assert.equal(r.status, 200);
    const before_ = everyOf(r);
    assert.ok(before_.lists.tools.cached >= 1 && before_.lists.tools.items > 0, JSON.stringify(before_));
    assert.equal(before_.list_cache_ttl, 300);
    const one = conforms('DELETE', '/admin/v1/caches/{server}', await call('DELETE', '/admin/v1/caches/every'));
    assert.equal(one.status, 200);
    assert.ok(one.json.cleared >= 1, one.text);
    assert.equal(everyOf(await call('GET', '/admin/v1/caches')).lists.tools.cached, 0, 'forgotten by every session');
    assert.ok((await client.listTools()).tools.length > 0, 'asked again at the next use');
    assert.ok(everyOf(await call('GET', '/admin/v1/caches')).lists.tools.cached >= 1);
    const all = conforms('DELETE', '/admin/v1/caches', await call('DELETE', '/admin/v1/caches'));
    assert.equal(all.status, 200);
    assert.ok(all.json.cleared >= 1, all.text);
    const none = conforms('DELETE', '/admin/v1/caches/{server}', await call('DELETE', '/admin/v1/caches/nope'));
    assert.equal(none.status, 404);
    assert.equal(none.json.error.field, 'server');
  } finally { await client.close().catch(() => {}); }
}, () => gw));

test('audit: queried with the CLI\'s filters, paged', withGatewayLog(async () => {
  // the earlier tests left admin records: three refusals or changes at least
  const all = conforms('GET', '/admin/v1/audit', await call('GET', '/admin/v1/audit?event_type=admin&limit=1000'));
  assert.equal(all.status, 200);
  assert.ok(all.json.records.length >= 3);
  assert.equal(all.json.next_before, null);
  assert.ok(all.json.records.every((x) => x.event_type === 'admin'));
  const seqs = all.json.records.map((x) => x.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'oldest first');

  // pages below a fixed bound: records still being written cannot shift them
  const top = seqs.at(-1) + 1;
  const p1 = conforms('GET', '/admin/v1/audit', await call('GET', `/admin/v1/audit?event_type=admin&limit=2&before=${top}`));
  assert.deepEqual(p1.json.records.map((x) => x.seq), seqs.slice(-2));
  assert.equal(p1.json.next_before, seqs.at(-2));
  const p2 = conforms('GET', '/admin/v1/audit', await call('GET', `/admin/v1/audit?event_type=admin&limit=2&before=${p1.json.next_before}`));
  assert.deepEqual(p2.json.records.map((x) => x.seq), seqs.slice(-4, -2));

  const denied = conforms('GET', '/admin/v1/audit', await call('GET', '/admin/v1/audit?user=apikey%3Aop&status=denied&since=1h'));
  assert.ok(denied.json.records.length >= 2);
  assert.ok(denied.json.records.every((x) => x.user === 'apikey:op' && x.status === 'denied'));
  const future = conforms('GET', '/admin/v1/audit', await call('GET', '/admin/v1/audit?since=2999-01-01T00:00:00Z'));
  assert.deepEqual(future.json.records, []);

  const badLimit = conforms('GET', '/admin/v1/audit', await call('GET', '/admin/v1/audit?limit=0'));
  assert.equal(badLimit.status, 400);
  assert.equal(badLimit.json.error.field, 'limit');
  const badSince = conforms('GET', '/admin/v1/audit', await call('GET', '/admin/v1/audit?since=yesterday'));
  assert.equal(badSince.status, 400);
  assert.match(badSince.json.error.message, /RFC 3339 time or a span/);
}, () => gw));

test('config reload: refused with file and line, then applied, as SIGHUP', withGatewayLog(async () => {
  const good = readFileSync(gw.cfg, 'utf8');
  writeFileSync(gw.cfg, good + 'bogus_key: 1\n');
  try {
    const bad = conforms('POST', '/admin/v1/config/reload', await call('POST', '/admin/v1/config/reload'));
    assert.equal(bad.status, 200);
    assert.equal(bad.json.reloaded, false);
    assert.match(bad.json.error, /mcpgw\.yaml:\d+: key 'bogus_key': unknown key/);
  } finally { writeFileSync(gw.cfg, good); }
  const ok = conforms('POST', '/admin/v1/config/reload', await call('POST', '/admin/v1/config/reload', { body: {} }));
  assert.equal(ok.status, 200);
  assert.equal(ok.json.reloaded, true, ok.text);
  assert.equal(ok.json.servers, 2);
  const withBody = conforms('POST', '/admin/v1/config/reload', await call('POST', '/admin/v1/config/reload', { body: { now: true } }));
  assert.equal(withBody.status, 400);
  // the gateway still serves
  assert.ok(await toolsWith(keys.root) > 0);
}, () => gw));

test('config export: the file as JSON, secrets replaced, references kept', withGatewayLog(async () => {
  const r = conforms('GET', '/admin/v1/config', await call('GET', '/admin/v1/config'));
  assert.equal(r.status, 200);
  assert.equal(r.json.path, gw.cfg);
  assert.equal(r.json.config.policy, 'policy.yaml');
  assert.deepEqual(r.json.config.servers.every.tags, ['demo', 'stdio']);
  assert.equal(r.json.config.auth.api_keys, 'true', 'api_keys is no secret');
  // secrets in a file the gateway could run: add some, export, restore
  const good = readFileSync(gw.cfg, 'utf8');
  writeFileSync(gw.cfg, good.replace('servers:\n', 'servers:\n  remote:\n    url: "https://api.example.com/mcp"\n' +
    '    headers:\n      X-Token: "hunter2"\n    auth:\n      method: bearer\n      credential_ref: "env://REMOTE_TOKEN"\n') +
    'audit:\n  sinks:\n    - type: postgres\n      url: "postgresql://mcpgw:s3cret@db.example/audit"\n');
  try {
    const m = conforms('GET', '/admin/v1/config', await call('GET', '/admin/v1/config'));
    assert.ok(!m.text.includes('hunter2') && !m.text.includes('s3cret'), m.text);
    assert.equal(m.json.config.servers.remote.headers['X-Token'], '***');
    assert.equal(m.json.config.servers.remote.auth.credential_ref, 'env://REMOTE_TOKEN', 'a reference is no secret');
    assert.equal(m.json.config.audit.sinks[0].url, 'postgresql://mcpgw:***@db.example/audit');
    assert.equal(m.json.masked, 2);
    const y = conforms('GET', '/admin/v1/config', await call('GET', '/admin/v1/config?format=yaml'));
    assert.equal(y.status, 200);
    assert.ok(!y.text.includes('hunter2') && !y.text.includes('s3cret'), y.text);
    assert.match(y.text, /^# exported from .*mcpgw\.yaml \(2 values masked as \*\*\*\)\n/);
    assert.match(y.text, /\n {6}X-Token: "\*\*\*"\n/);
  } finally { writeFileSync(gw.cfg, good); }
  // the YAML export is a config file the loader reads as the original
  const y = conforms('GET', '/admin/v1/config', await call('GET', '/admin/v1/config?format=yaml'));
  const copy = join(dir, 'exported.yaml');
  writeFileSync(copy, y.text);
  const check = spawnSync(BIN, ['config', 'check', '-c', copy], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr + y.text);
  assert.match(y.text, /\nservers:\n {2}every:\n {4}command: "node"\n/);
  const bad = conforms('GET', '/admin/v1/config', await call('GET', '/admin/v1/config?format=xml'));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'format');
}, () => gw));

test('seed 004\'s register-client: a key with its per-client policy, in force when answered, shown once', withGatewayLog(async () => {
  const body = { client_id: 'c1', roles: ['operator'], policy: { allowed_tools: ['echo'], max_requests_per_minute: 60, require_auth: true } };
  const r = conforms('POST', '/admin/register-client', await call('POST', '/admin/register-client', { body }));
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.subject, 'apikey:c1');
  assert.deepEqual(r.json.policy, body.policy);
  assert.match(r.json.key, /^mcpgw_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/);
  const managed = JSON.parse(readFileSync(join(dir, 'policy.managed.yaml'), 'utf8'));
  assert.deepEqual(managed.clients['apikey:c1'], body.policy);
  // the key works at once, and only for what its policy allows
  const c = await bearerClient(gw.url, r.json.key, 'registered');
  try {
    const names = (await c.listTools()).tools.map((t) => t.name);
    assert.deepEqual(names, ['every__echo'], 'allowed_tools holds');
  } finally { await c.close(); }
  const list = await call('GET', '/admin/v1/keys');
  assert.ok(!JSON.stringify(list.json).includes(r.json.key), 'the secret is shown once');

  const again = conforms('POST', '/admin/register-client', await call('POST', '/admin/register-client', { body }));
  assert.equal(again.status, 409);
  const taken = conforms('POST', '/admin/register-client', await call('POST', '/admin/register-client', { body: { client_id: 'op', policy: {} } }));
  assert.equal(taken.status, 409, 'an existing key\'s policy is not replaced');
  const bad = conforms('POST', '/admin/register-client', await call('POST', '/admin/register-client', { body: { client_id: 'c2', policy: { allowed_tools: 'echo' } } }));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'policy');
  assert.match(bad.json.error.message, /key 'clients\.apikey:c2\.allowed_tools'/);
  const sandbox = conforms('POST', '/admin/register-client', await call('POST', '/admin/register-client', { body: { client_id: 'c2', policy: { sandbox_mode: true } } }));
  assert.equal(sandbox.status, 400);
  assert.match(sandbox.json.error.message, /sandboxing is not supported/);
  const denied = conforms('POST', '/admin/register-client', await call('POST', '/admin/register-client', { key: keys.op, body: { client_id: 'c3' } }));
  assert.equal(denied.status, 403);
  assert.ok(!(await call('GET', '/admin/v1/keys')).json.keys.some((k) => ['c2', 'c3'].includes(k.name)), 'no key made for a refused registration');
}, () => gw));

test('servers of the config file are not changed through the API; a command line is never registered', withGatewayLog(async () => {
  const cmd = conforms('POST', '/admin/v1/servers', await call('POST', '/admin/v1/servers', { body: { name: 'sh', command: 'sh', args: ['-c', 'id'] } }));
  assert.equal(cmd.status, 400);
  assert.equal(cmd.json.error.field, 'command');
  assert.match(cmd.json.error.message, /only remote servers/);
  for (const [m, p, body] of [['POST', '/admin/v1/servers/every', { tags: ['x'] }], ['DELETE', '/admin/v1/servers/every'],
    ['POST', '/admin/v1/servers/every/enable'], ['POST', '/admin/v1/servers/every/disable']]) {
    const r = conforms(m, p, await call(m, p, { body }));
    assert.equal(r.status, 409, `${m} ${p}: ${r.text}`);
    assert.match(r.json.error.message, /lives in the config file/);
  }
  const ex = conforms('GET', '/admin/v1/config', await call('GET', '/admin/v1/config'));
  assert.equal(ex.json.origins.every, 'config');
  const one = conforms('GET', '/admin/v1/servers/every', await call('GET', '/admin/v1/servers/every'));
  assert.equal(one.json.origin, 'config');
}, () => gw));

test('virtual servers: listed with their globs and endpoint; one by name; 404 for another', withGatewayLog(async () => {
  const l = conforms('GET', '/admin/v1/virtual_servers', await call('GET', '/admin/v1/virtual_servers'));
  assert.equal(l.status, 200);
  assert.deepEqual(l.json.virtual_servers, [{ name: 'demo', endpoint: '/servers/demo/mcp',
    tools: ['every__echo', 'every__get_*'], prompts: [], resources: ['demo://*'], origin: 'config' }]);
  const one = conforms('GET', '/admin/v1/virtual_servers/{name}', await call('GET', '/admin/v1/virtual_servers/demo'));
  assert.equal(one.json.endpoint, '/servers/demo/mcp');
  const none = conforms('GET', '/admin/v1/virtual_servers/{name}', await call('GET', '/admin/v1/virtual_servers/every'));
  assert.equal(none.status, 404);
  assert.equal(none.json.error.field, 'name');
  // added, changed, removed through the API: admin_vservers.test.mjs; the config file's are its own
  const add = conforms('POST', '/admin/v1/virtual_servers', await call('POST', '/admin/v1/virtual_servers', { body: { name: 'demo', tools: ['x'] } }));
  assert.equal(add.status, 400);
  const ch = conforms('POST', '/admin/v1/virtual_servers/{name}', await call('POST', '/admin/v1/virtual_servers/demo', { body: { tools: ['x'] } }));
  assert.equal(ch.status, 409);
  const rm = conforms('DELETE', '/admin/v1/virtual_servers/{name}', await call('DELETE', '/admin/v1/virtual_servers/demo'));
  assert.equal(rm.status, 409);
  const op = conforms('GET', '/admin/v1/virtual_servers', await call('GET', '/admin/v1/virtual_servers', { key: keys.op }));
  assert.equal(op.status, 403);
}, () => gw));

test('backup: the store as mcpgw backup makes it, recorded, nothing left on disk; restore refused while running', withGatewayLog(async () => {
  const r = conforms('GET', '/admin/v1/backup', await call('GET', '/admin/v1/backup'));
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-disposition'), /^attachment; filename="mcpgw-backup\.db"$/);
  assert.equal(r.bytes.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
  const copy = join(tempDir(), 'copy.db');
  writeFileSync(copy, r.bytes);
  const names = execFileSync('sqlite3', [copy, 'SELECT name FROM api_keys ORDER BY name'], { encoding: 'utf8' });
  assert.match(names, /^root$/m, 'the keys are in the copy');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.backup-')), [], 'no snapshot file is left');
  let recs = [];
  for (let i = 0; i < 100 && !recs.length; i++) {
    recs = sqliteRows(`${dir}/mcpgw.db`).map((x) => JSON.parse(x.record)).filter((x) => x.action === 'GET /admin/v1/backup');
    if (!recs.length) await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(recs.length, 1, 'a backup is an audit event');
  assert.equal(recs[0].user, 'apikey:root');
  const denied = conforms('GET', '/admin/v1/backup', await call('GET', '/admin/v1/backup', { key: keys.op }));
  assert.equal(denied.status, 403);
  const rs = conforms('POST', '/admin/v1/restore', await call('POST', '/admin/v1/restore', { body: {} }));
  assert.equal(rs.status, 409);
  assert.match(rs.json.error.message, /mcpgw restore FILE/);
}, () => gw));

test('config import: refused as a whole when a server is (here: a command line, a config-file name)', withGatewayLog(async () => {
  const cmd = conforms('POST', '/admin/v1/config/import', await call('POST', '/admin/v1/config/import', { body: { servers: { sh: { command: 'sh' } } } }));
  assert.equal(cmd.status, 400);
  assert.match(cmd.json.error.message, /only remote servers/);
  const clash = conforms('POST', '/admin/v1/config/import', await call('POST', '/admin/v1/config/import', { body: { yaml: 'servers:\n  every:\n    url: https://example.com/mcp\n' } }));
  assert.equal(clash.status, 409);
  assert.match(clash.json.error.message, /lives in the config file/);
}, () => gw));

test('every documented endpoint was called and answered as documented', () => {
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths)) for (const m of Object.keys(item)) ops.push(`${m.toUpperCase()} ${p}`);
  // seed 000's paths with test files of their own (access_requests, api_audit, retention, fernet_api, subjects)
  const own = / \/api\/(security\/access|audit|health|metrics|retention|config\/keys|compliance\/(consent|data-subject))\/| \/api\/security\/(en|de)crypt$/;
  assert.deepEqual(ops.filter((o) => !checked.has(o) && !own.test(o)), []);
});
