// Seed 000's access requests (docs/compliance.md, "Access requests"): a
// check answers what the policy in force decides for a user, operation and
// resource; a request for an elevated grant is filed with a reason, an
// admin approves it (API or `mcpgw access`) and the principal can do what it
// could not, until the grant expires by itself; a denied one grants nothing;
// every step is an audit event; bad input gets the error shape with the
// field named; the endpoints answer as the OpenAPI document says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  tempDir, freePort, startGateway, writeGatewayFiles, apikeyCreate, apiKeyAuthYaml, bearerClient,
  EVERYTHING, withGatewayLog, allowAllRole, mcpgw,
} from './lib.mjs';
import { sqliteRows, eventually } from './audit_lib.mjs';
import { openapiChecker, adminCall } from './admin_lib.mjs';

const POLICY = `roles:
${allowAllRole('admin')}  viewer:
    permissions:
      - resource: "mcp:every:*"
        actions: [list_tools]
  requester:
    permissions:
      - resource: "mcp:admin:access-request"
        actions: [admin]
user_roles:
  "carol@example.com": [viewer]
default_policy: deny
`;

let gw, dir, cfg, conforms, isError, checked, doc;
const keys = {};

before(async () => {
  dir = tempDir();
  const port = await freePort();
  const body = `servers:\n  every:\n    command: node\n    args: ["${EVERYTHING}"]\n` + apiKeyAuthYaml(port) +
    'access_requests:\n  expiry_hours: 24\n';
  cfg = writeGatewayFiles(dir, port, body, POLICY);
  keys.root = apikeyCreate(cfg, 'root', 'admin');
  keys.bob = apikeyCreate(cfg, 'bob', 'viewer,requester');
  gw = await startGateway(body, { dir, port });
  doc = (await adminCall(gw.base, 'GET', '/admin/v1/openapi.json', { key: keys.root })).json;
  ({ conforms, isError, checked } = await openapiChecker(doc));
});
after(async () => { await gw?.stop(); });

const call = (method, path, { key = keys.root, ...o } = {}) => adminCall(gw.base, method, path, { key, ...o });
const api = async (method, path, o) => conforms(method, path, await call(method, path, o));

// Can key call every__echo? true, or the error's code.
async function echoAs(key) {
  const client = await bearerClient(gw.url, key, 'access-test');
  try {
    const r = await client.callTool({ name: 'every__echo', arguments: { message: 'hi' } });
    return r.content[0].text.includes('hi') ? true : r;
  } catch (e) {
    return e.code;
  } finally { await client.close(); }
}

// The access_request records of request id, as stored.
const steps = (id) => sqliteRows(`${dir}/mcpgw.db`).filter((x) => x.event_type === 'access_request')
  .map((x) => JSON.parse(x.record)).filter((r) => r.tool_name === `access-request:${id}`);

const REQUEST = { user_id: 'apikey:bob', operation: 'write', resource: 'mcp:every:echo', data_classification: 'CONFIDENTIAL', reason: 'incident 42' };

test('check: the policy in force decides, with its reason', withGatewayLog(async () => {
  const no = await api('POST', '/api/security/access/check', { body: { user_id: 'apikey:bob', operation: 'write', resource: 'mcp:every:echo', data_classification: 'INTERNAL' } });
  assert.equal(no.status, 200);
  assert.equal(no.json.allowed, false);
  assert.equal(no.json.action, 'invoke_tool');
  assert.equal(no.json.data_classification, 'INTERNAL');
  assert.match(no.json.reason, /^DENY invoke_tool mcp:every:echo for apikey:bob: default_policy deny/);
  // bare key names work too; read is seeing the tool
  const yes = await api('POST', '/api/security/access/check', { body: { user_id: 'bob', operation: 'read', resource: 'mcp:every:echo' } });
  assert.equal(yes.json.allowed, true);
  assert.equal(yes.json.action, 'list_tools');
  assert.match(yes.json.reason, /role 'viewer' grants list_tools/);
  // a user the policy names (user_roles), not a key
  const carol = await api('POST', '/api/security/access/check', { body: { user_id: 'carol@example.com', operation: 'read', resource: 'mcp:every:add' } });
  assert.equal(carol.json.allowed, true);
  assert.match(carol.json.reason, /from user_roles/);
  assert.equal(await echoAs(keys.bob), -32602);
}, () => gw));

test('request -> approve -> the call works -> the grant expires by itself -> refused again; every step recorded', withGatewayLog(async () => {
  const filed = await api('POST', '/api/security/access/request', { key: keys.bob, body: REQUEST });
  assert.equal(filed.status, 201, filed.text);
  const id = filed.json.request_id;
  assert.equal(filed.json.status, 'pending');
  // bob may file, not decide
  const self = await api('POST', `/api/security/access/requests/${id}/approve`, { key: keys.bob });
  assert.equal(self.status, 403);
  assert.match(self.json.error.message, /admin mcp:admin:access for apikey:bob/);
  const pending = await api('GET', '/api/security/access/requests?status=pending');
  assert.deepEqual(pending.json.requests.map((r) => r.id), [id]);
  assert.equal(pending.json.requests[0].reason, 'incident 42');
  assert.equal(pending.json.requests[0].requested_by, 'apikey:bob');
  assert.equal(await echoAs(keys.bob), -32602);

  const ok = await api('POST', `/api/security/access/requests/${id}/approve`, { body: { hours: 0.003, reason: 'on call' } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.status, 'approved');
  assert.equal(ok.json.decided_by, 'apikey:root');
  const left = Date.parse(ok.json.expires_at) - Date.now();
  assert.ok(left > 0 && left <= 11000, `expires in ${left} ms`);
  await eventually(async () => (await echoAs(keys.bob)) === true, 'bob can call echo with the grant');
  const check = await api('POST', '/api/security/access/check', { body: { user_id: 'apikey:bob', operation: 'write', resource: 'mcp:every:echo' } });
  assert.equal(check.json.allowed, true);
  assert.match(check.json.reason, new RegExp(`role 'access-request:${id}' grants invoke_tool on 'mcp:every:echo'`));
  // the grant is for that tool only
  const other = await api('POST', '/api/security/access/check', { body: { user_id: 'apikey:bob', operation: 'write', resource: 'mcp:every:add' } });
  assert.equal(other.json.allowed, false);

  await eventually(async () => (await echoAs(keys.bob)) === -32602, 'bob refused again once the grant expired', { ms: 30000 });
  const rec = await eventually(() => { const s = steps(id); return s.length >= 3 && s; }, () => JSON.stringify(steps(id)), { ms: 10000 });
  assert.deepEqual(rec.map((r) => r.reason.split(':')[0]), ['requested', 'approved', 'expired']);
  assert.equal(rec[0].user, 'apikey:bob');
  assert.match(rec[0].reason, /write on mcp:every:echo \(CONFIDENTIAL\) for apikey:bob: incident 42/);
  assert.equal(rec[1].user, 'apikey:root');
  assert.equal(rec[2].user, 'apikey:bob');
  const expired = await api('GET', '/api/security/access/requests?status=expired');
  assert.deepEqual(expired.json.requests.map((r) => r.id), [id]);
}, () => gw));

test('deny: nothing granted, recorded with its reason; a decided request cannot be decided again', withGatewayLog(async () => {
  const filed = await api('POST', '/api/security/access/request', { key: keys.bob, body: { ...REQUEST, reason: 'curious' } });
  const id = filed.json.request_id;
  const no = await api('POST', `/api/security/access/requests/${id}/deny`, { body: { reason: 'not needed' } });
  assert.equal(no.status, 200);
  assert.equal(no.json.status, 'denied');
  assert.equal(no.json.decision_reason, 'not needed');
  const again = await api('POST', `/api/security/access/requests/${id}/approve`);
  assert.equal(again.status, 409);
  assert.match(again.json.error.message, new RegExp(`access request ${id} is denied already`));
  assert.equal(await echoAs(keys.bob), -32602);
  const rec = await eventually(() => { const s = steps(id); return s.length >= 2 && s; }, () => JSON.stringify(steps(id)));
  assert.deepEqual(rec.map((r) => r.reason), ['requested: write on mcp:every:echo (CONFIDENTIAL) for apikey:bob: curious',
    'denied: write on mcp:every:echo for apikey:bob: not needed']);
  assert.equal(rec[1].status, 'denied');
}, () => gw));

test('mcpgw access list|approve|deny works on the store; the running gateway honours it within its poll', withGatewayLog(async () => {
  const filed = await api('POST', '/api/security/access/request', { key: keys.bob, body: { ...REQUEST, reason: 'cli path' } });
  const id = filed.json.request_id;
  const listed = JSON.parse(mcpgw('access', 'list', '--status', 'pending', '--json', '-c', cfg));
  assert.deepEqual(listed.map((r) => r.id), [id]);
  assert.match(mcpgw('access', 'list', '-c', cfg), new RegExp(`${id}\\s+pending\\s+apikey:bob\\s+write\\s+mcp:every:echo`));
  assert.match(mcpgw('access', 'approve', String(id), '--hours', '1', '-c', cfg), /approved until/);
  await eventually(async () => (await echoAs(keys.bob)) === true, 'bob can call echo after the CLI approval');
  const rec = await eventually(() => { const s = steps(id); return s.length >= 2 && s; }, () => JSON.stringify(steps(id)));
  assert.match(rec[1].user, /^cli:/);
  // deciding it again, or one that does not exist: exit 1 with the reason
  assert.throws(() => mcpgw('access', 'deny', String(id), '--reason', 'x', '-c', cfg), /is approved already/);
  assert.throws(() => mcpgw('access', 'approve', '99999', '-c', cfg), /no access request 99999/);
  assert.throws(() => mcpgw('access', 'approve', String(id), '--hours', '-1', '-c', cfg), /--hours/);
}, () => gw));

test('bad input: each answered with the error shape naming the problem', withGatewayLog(async () => {
  const rows = [
    [{ ...REQUEST, user_id: 'nobody' }, 404, 'user_id', /unknown user 'nobody'/],
    [{ ...REQUEST, data_classification: 'SECRET' }, 400, 'data_classification', /unknown classification 'SECRET'/],
    [{ ...REQUEST, reason: undefined }, 400, 'reason', /required/],
    [{ ...REQUEST, reason: '' }, 400, 'reason', /expected 1 to/],
    [{ ...REQUEST, resource: 'echo' }, 400, 'resource', /expected mcp:<server>:<name>/],
    [{ ...REQUEST, operation: 'execute' }, 400, 'operation', /expected read, write, delete, admin/],
    [{ ...REQUEST, extra: 1 }, 400, 'extra', /unknown key/],
  ];
  for (const [body, status, field, msg] of rows) {
    const r = await api('POST', '/api/security/access/request', { body: JSON.parse(JSON.stringify(body)) });
    assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.error.field, field);
    assert.match(r.json.error.message, msg);
  }
  const missing = await api('POST', '/api/security/access/requests/99999/approve');
  assert.equal(missing.status, 404);
  assert.match(missing.json.error.message, /no access request 99999/);
  const word = await api('POST', '/api/security/access/requests/abc/deny');
  assert.equal(word.status, 404);
  const hours = await api('POST', '/api/security/access/requests/1/approve', { body: { hours: -1 } });
  assert.equal(hours.status, 400);
  assert.equal(hours.json.error.field, 'hours');
  const status = await api('GET', '/api/security/access/requests?status=maybe');
  assert.equal(status.status, 400);
  const anon = await api('POST', '/api/security/access/check', { key: null, body: REQUEST });
  assert.equal(anon.status, 401);
  const wrong = isError(await call('GET', '/api/security/access/check'));
  assert.equal(wrong.status, 405);
}, () => gw));

test('every documented access endpoint was called and answered as documented', () => {
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    if (!p.startsWith('/api/security/access/')) continue;
    for (const m of Object.keys(item)) ops.push(`${m.toUpperCase()} ${p}`);
  }
  assert.ok(ops.length >= 5);
  assert.deepEqual(ops.filter((o) => !checked.has(o)), []);
});
