// Seed 000's monitoring paths (docs/admin-api.md, "Seed 000's /api"): the
// audit trail of a user and a summary over dates read from the audit store,
// what protects the gateway (/api/health/security) and the refusals it
// counted (/api/metrics/security); admin action required; each answers as
// the OpenAPI document says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  tempDir, freePort, startGateway, writeGatewayFiles, apikeyCreate, apiKeyAuthYaml, bearerClient, post,
  EVERYTHING, withGatewayLog, allowAllRole,
} from './lib.mjs';
import { sqliteRows, eventually } from './audit_lib.mjs';
import { openapiChecker, adminCall } from './admin_lib.mjs';

const POLICY = `roles:
${allowAllRole('admin')}  viewer:
    permissions:
      - resource: "mcp:every:*"
        actions: [list_tools]
  auditor:
    permissions:
      - resource: "mcp:admin:audit"
        actions: [admin]
default_policy: deny
`;

let gw, dir, conforms, checked, doc;
const keys = {};

before(async () => {
  dir = tempDir();
  const port = await freePort();
  const body = `servers:\n  every:\n    command: node\n    args: ["${EVERYTHING}"]\n` + apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, POLICY);
  keys.root = apikeyCreate(cfg, 'root', 'admin');
  keys.bob = apikeyCreate(cfg, 'bob', 'viewer');
  keys.aud = apikeyCreate(cfg, 'aud', 'auditor');
  gw = await startGateway(body, { dir, port });
  doc = (await adminCall(gw.base, 'GET', '/admin/v1/openapi.json', { key: keys.root })).json;
  ({ conforms, checked } = await openapiChecker(doc));
  // bob lists (allowed) and calls echo (denied); a bad key is refused
  const client = await bearerClient(gw.url, keys.bob, 'api-audit');
  await client.listTools();
  await assert.rejects(client.callTool({ name: 'every__echo', arguments: { message: 'x' } }));
  await client.close();
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  assert.equal((await post(gw.url, init, { authorization: 'Bearer mcpgw_AAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB' })).status, 401);
  await eventually(() => sqliteRows(`${dir}/mcpgw.db`).some((r) => r.user === 'apikey:bob' && r.status === 'denied'), 'bob\'s denied call recorded');
});
after(async () => { await gw?.stop(); });

const api = async (method, path, { key = keys.root, ...o } = {}) => conforms(method, path, await adminCall(gw.base, method, path, { key, ...o }));

test('trail: a user\'s newest records, oldest first, at most limit', withGatewayLog(async () => {
  const all = await api('GET', '/api/audit/trail?user_id=apikey:bob');
  assert.equal(all.status, 200);
  assert.ok(all.json.records.length >= 3, all.text);
  assert.ok(all.json.records.every((r) => r.user === 'apikey:bob'));
  assert.ok(all.json.records.some((r) => r.status === 'denied' && r.tool_name === 'every__echo'), all.text);
  const two = await api('GET', '/api/audit/trail?user_id=apikey:bob&limit=2', { key: keys.aud });
  assert.deepEqual(two.json.records.map((r) => r.seq), all.json.records.slice(-2).map((r) => r.seq));
  assert.equal(two.json.matched, all.json.matched);
  const nobody = await api('GET', '/api/audit/trail?user_id=apikey:nobody');
  assert.deepEqual(nobody.json.records, []);
  const bad = await api('GET', '/api/audit/trail?limit=0');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'limit');
}, () => gw));

test('summary: counts between two dates', withGatewayLog(async () => {
  const s = await api('GET', '/api/audit/summary?start_date=2000-01-01&end_date=2999-12-31');
  assert.equal(s.status, 200);
  const rows = sqliteRows(`${dir}/mcpgw.db`);
  assert.ok(s.json.total_events >= rows.filter((r) => r.user === 'apikey:bob').length);
  assert.ok(s.json.by_user['apikey:bob'] >= 3, s.text);
  assert.ok(s.json.denied >= 1);
  assert.ok(s.json.unauthenticated >= 1);
  assert.ok(s.json.by_event_type.mcp_request >= 2);
  assert.match(s.json.first_event, /^20\d\d-/);
  const today = new Date().toISOString().slice(0, 10);
  const t = await api('GET', `/api/audit/summary?start_date=${today}&end_date=${today}`);
  assert.ok(t.json.total_events >= 1);
  const past = await api('GET', '/api/audit/summary?start_date=2000-01-01&end_date=2000-12-31');
  assert.equal(past.json.total_events, 0);
  assert.equal(past.json.first_event, null);
  const bad = await api('GET', '/api/audit/summary?start_date=yesterday');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'start_date');
  const reversed = await api('GET', '/api/audit/summary?start_date=2024-12-31&end_date=2024-01-01');
  assert.equal(reversed.status, 400);
  assert.equal(reversed.json.error.field, 'end_date');
}, () => gw));

test('health/security: what protects the gateway', withGatewayLog(async () => {
  const h = await api('GET', '/api/health/security');
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'healthy');
  assert.deepEqual(h.json.authentication, { enabled: true, api_keys: true, jwt_issuers: 0 });
  assert.deepEqual(h.json.tls, { enabled: false, client_certificates: false });
  assert.equal(h.json.policy.loaded, true);
  assert.equal(h.json.policy.default_policy, 'deny');
  assert.equal(h.json.audit.state, 'ok');
  assert.equal(h.json.tool_pinning.mode, 'tofu');
  assert.equal(typeof h.json.guardrails.enabled, 'boolean');
}, () => gw));

test('metrics/security: the refusals counted since start', withGatewayLog(async () => {
  const m = await api('GET', '/api/metrics/security');
  assert.equal(m.status, 200);
  assert.equal(m.json.metrics_enabled, true);
  assert.ok(m.json.denials >= 1, m.text);
  assert.ok(m.json.authentication_failures >= 1, m.text);
  assert.equal(m.json.guardrail_blocks, 0);
}, () => gw));

test('admin action required: the auditor reads the trail but not health or metrics; bob nothing', withGatewayLog(async () => {
  for (const p of ['/api/health/security', '/api/metrics/security', '/api/audit/summary']) {
    const r = await api('GET', p, { key: keys.bob });
    assert.equal(r.status, 403, p);
  }
  const h = await api('GET', '/api/health/security', { key: keys.aud });
  assert.equal(h.status, 403);
  assert.match(h.json.error.message, /admin mcp:admin:health for apikey:aud/);
  const anon = await api('GET', '/api/metrics/security', { key: null });
  assert.equal(anon.status, 401);
  const none = await adminCall(gw.base, 'GET', '/api/nosuch', { key: keys.root });
  assert.equal(none.status, 404);
}, () => gw));

test('every documented monitoring endpoint was called and answered as documented', () => {
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    // /api/metrics/retention: retention.test.mjs; /api/metrics/compliance: admin.test.mjs
    if (!/^\/api\/(audit|health|metrics)\//.test(p) || /retention|compliance/.test(p)) continue;
    for (const m of Object.keys(item)) ops.push(`${m.toUpperCase()} ${p}`);
  }
  assert.equal(ops.length, 4);
  assert.deepEqual(ops.filter((o) => !checked.has(o)), []);
});
