// Seed 000's encryption endpoints (issue 13 points 1 and 7,
// docs/compliance.md "Fernet API", "Keys and rotation"): Fernet tokens made
// by the gateway open with Python's cryptography and the other way round
// (MultiFernet: any configured key opens); a bad HMAC, a wrong version
// byte, a truncated token, one past its ttl are 400s naming why, with
// nothing decrypted; /api/config/keys/rotate, status and prune, admin
// only, the rotation and the prune audit events. Answers checked against the OpenAPI document.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ADMIN_POLICY, apiKeyAuthYaml, apikeyCreate, bearerClient, freePort, startGateway, tempDir, withGatewayLog,
  writeGatewayFiles } from './lib.mjs';
import { adminCall, openapiChecker } from './admin_lib.mjs';
import { eventually, flakyServer, sqliteRows } from './audit_lib.mjs';

const K1 = randomBytes(32).toString('base64url') + '=';
const K2 = randomBytes(32).toString('base64url') + '=';
const ENV = { FA_MASTER: randomBytes(32).toString('base64'), FA_K1: K1, FA_K2: K2 };
Object.assign(process.env, ENV); // the CLI (apikey create) loads the same config

let gw, dir, conforms;
const keys = {};

before(async () => {
  dir = tempDir();
  const port = await freePort();
  const body = flakyServer() + apiKeyAuthYaml(port) +
    'encryption:\n  master_key: env://FA_MASTER\n  fernet_keys: [env://FA_K1, env://FA_K2]\n';
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  keys.root = apikeyCreate(cfg, 'root', 'admin');
  keys.op = apikeyCreate(cfg, 'op', 'operator');
  gw = await startGateway(body, { dir, port, env: ENV });
  const doc = (await adminCall(gw.base, 'GET', '/admin/v1/openapi.json', { key: keys.root })).json;
  ({ conforms } = await openapiChecker(doc));
});
after(async () => { await gw?.stop(); });

const call = (method, path, { key = keys.root, ...o } = {}) => adminCall(gw.base, method, path, { key, ...o });

// Python's cryptography: { op: 'encrypt'|'decrypt', key, data|token, ttl?, at? } -> its output.
function python(args) {
  const prog = `
import json, sys, time
from cryptography.fernet import Fernet, InvalidToken
a = json.loads(sys.argv[1])
f = Fernet(a['key'].encode())
if a['op'] == 'encrypt':
    data = bytes.fromhex(a['hex']) if 'hex' in a else a['data'].encode()
    print(f.encrypt_at_time(data, a.get('at', int(time.time()))).decode())
else:
    print(f.decrypt(a['token'].encode()).decode())
`;
  return execFileSync('python3', ['-c', prog, JSON.stringify(args)], { encoding: 'utf8' }).trim();
}

test('the gateway seals, Python opens; Python seals (under the second key), the gateway opens', withGatewayLog(async () => {
  const e = conforms('POST', '/api/security/encrypt', await call('POST', '/api/security/encrypt',
    { body: { data: 'patient 7: öffentlich', classification: 'CONFIDENTIAL' } }));
  assert.equal(e.status, 200, e.text);
  assert.match(e.json.encrypted_data, /^gAAAAA/);
  assert.equal(python({ op: 'decrypt', key: K1, token: e.json.encrypted_data }), 'patient 7: öffentlich');
  const k2id = conforms('POST', '/api/security/encrypt', await call('POST', '/api/security/encrypt',
    { body: { data: { n: 1 }, key_id: undefined } })).json.key_id;
  assert.equal(k2id, e.json.key_id, 'the first key seals by default');

  const token = python({ op: 'encrypt', key: K2, data: 'from python' });
  const d = conforms('POST', '/api/security/decrypt', await call('POST', '/api/security/decrypt',
    { body: { encrypted_data: token, ttl: 3600 } }));
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.data, 'from python');
  assert.notEqual(d.json.key_id, e.json.key_id, 'opened by the second key');
  // key_id names the one key to try
  const only1 = conforms('POST', '/api/security/decrypt', await call('POST', '/api/security/decrypt',
    { body: { encrypted_data: token, key_id: e.json.key_id } }));
  assert.equal(only1.status, 400);
  assert.match(only1.json.error.message, /HMAC/);
}, () => gw));

test('bad tokens: 400 naming the reason, nothing decrypted', withGatewayLog(async () => {
  const good = python({ op: 'encrypt', key: K1, data: 'secret-payload' });
  const raw = Buffer.from(good, 'base64url');
  const tamper = (buf) => buf.toString('base64url') + '='.repeat((4 - (buf.toString('base64url').length % 4)) % 4);
  const badMac = Buffer.from(raw); badMac[badMac.length - 1] ^= 1;
  const badVersion = Buffer.from(raw); badVersion[0] = 0x81;
  const rows = [
    ['a bad HMAC', tamper(badMac), {}, /HMAC does not match/],
    ['a wrong version byte', tamper(badVersion), {}, /version byte is not 0x80/],
    ['truncated', good.slice(0, 40), {}, /too short|not base64url/],
    ['past its ttl', python({ op: 'encrypt', key: K1, data: 'old', at: Math.floor(Date.now() / 1000) - 120 }),
      { ttl: 60 }, /expired/],
    ['not base64', 'gAAAA!!!not-a-token', {}, /not base64url/],
  ];
  for (const [what, token, extra, why] of rows) {
    const r = conforms('POST', '/api/security/decrypt', await call('POST', '/api/security/decrypt',
      { body: { encrypted_data: token, ...extra } }));
    assert.equal(r.status, 400, `${what}: ${r.text}`);
    assert.match(r.json.error.message, why, what);
    assert.equal(r.json.error.field, 'encrypted_data', what);
    assert.ok(!r.text.includes('secret-payload') && !r.text.includes('"data"'), `${what}: nothing decrypted`);
  }
  const binary = conforms('POST', '/api/security/decrypt', await call('POST', '/api/security/decrypt',
    { body: { encrypted_data: python({ op: 'encrypt', key: K1, hex: 'fffe00c3' }) } }));
  assert.equal(binary.status, 400, binary.text);
  assert.match(binary.json.error.message, /not UTF-8 text/);
  const noKey = conforms('POST', '/api/security/decrypt', await call('POST', '/api/security/decrypt',
    { body: { encrypted_data: good, key_id: 'fk-000000000000' } }));
  assert.equal(noKey.status, 400);
  assert.equal(noKey.json.error.field, 'key_id');
  const badTtl = conforms('POST', '/api/security/decrypt', await call('POST', '/api/security/decrypt',
    { body: { encrypted_data: good, ttl: -5 } }));
  assert.equal(badTtl.status, 400);
  const noData = conforms('POST', '/api/security/encrypt', await call('POST', '/api/security/encrypt', { body: {} }));
  assert.equal(noData.status, 400);
}, () => gw));

test('/api/config/keys: rotate (admin only, an audit event) and status', withGatewayLog(async () => {
  const before = conforms('GET', '/api/config/keys/status', await call('GET', '/api/config/keys/status'));
  assert.equal(before.status, 200, before.text);
  assert.equal(before.json.keys.filter((k) => k.state === 'active').length, 1);
  const denied = conforms('POST', '/api/config/keys/rotate', await call('POST', '/api/config/keys/rotate', { key: keys.op }));
  assert.equal(denied.status, 403);
  const r = conforms('POST', '/api/config/keys/rotate', await call('POST', '/api/config/keys/rotate'));
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.key_id, /^kr-/);
  const s = conforms('GET', '/api/config/keys/status', await call('GET', '/api/config/keys/status'));
  assert.equal(s.json.keys.length, before.json.keys.length + 1);
  assert.deepEqual(s.json.keys.at(-1).id, r.json.key_id);
  assert.equal(s.json.keys.at(-1).state, 'active');
  await eventually(async () => (await call('GET', '/api/config/keys/status')).json.pending === 0, 'the audit key re-sealed');
  const rec = await eventually(() => sqliteRows(join(dir, 'mcpgw.db'), 'record').map((x) => JSON.parse(x.record))
    .find((x) => x.event_type === 'admin' && x.action === 'POST /api/config/keys/rotate' && x.status === 'success'),
    'no audit record of the rotation');
  assert.equal(rec.tool_name, `key ring: new active key ${r.json.key_id}`);
}, () => gw));

test('/api/config/keys/prune: admin only; dry_run deletes nothing; then the retired keys go, audited', withGatewayLog(async () => {
  await eventually(async () => (await call('GET', '/api/config/keys/status')).json.pending === 0, 'the audit key re-sealed');
  const before = (await call('GET', '/api/config/keys/status')).json;
  const retired = before.keys.filter((k) => k.state === 'retired').map((k) => k.id);
  const active = before.keys.filter((k) => k.state === 'active').map((k) => k.id);
  assert.ok(retired.length >= 1, 'the rotation left a retired key');
  const denied = conforms('POST', '/api/config/keys/prune', await call('POST', '/api/config/keys/prune', { key: keys.op }));
  assert.equal(denied.status, 403);
  const bad = conforms('POST', '/api/config/keys/prune', await call('POST', '/api/config/keys/prune', { body: { dry_run: 'yes' } }));
  assert.equal(bad.status, 400);
  // a misspelt dry run must not prune: refused, naming the key
  const typo = conforms('POST', '/api/config/keys/prune', await call('POST', '/api/config/keys/prune', { body: { dryrun: true } }));
  assert.equal(typo.status, 400, typo.text);
  assert.match(typo.text, /dryrun/);
  const list = conforms('POST', '/api/config/keys/prune', await call('POST', '/api/config/keys/prune', { body: [true] }));
  assert.equal(list.status, 400, list.text);
  assert.equal((await call('GET', '/api/config/keys/status')).json.keys.length, before.keys.length, 'a refused prune deleted keys');
  const dry = conforms('POST', '/api/config/keys/prune', await call('POST', '/api/config/keys/prune', { body: { dry_run: true } }));
  assert.equal(dry.status, 200, dry.text);
  assert.deepEqual(dry.json.would_delete, retired);
  assert.equal(dry.json.keys.length, before.keys.length, 'dry_run deleted nothing');
  const r = conforms('POST', '/api/config/keys/prune', await call('POST', '/api/config/keys/prune'));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.deleted, retired);
  assert.deepEqual(r.json.keys.map((k) => k.id), active);
  const s = conforms('GET', '/api/config/keys/status', await call('GET', '/api/config/keys/status'));
  assert.deepEqual(s.json.keys.map((k) => [k.id, k.state]), active.map((id) => [id, 'active']));
  const rec = await eventually(() => sqliteRows(join(dir, 'mcpgw.db'), 'record').map((x) => JSON.parse(x.record))
    .find((x) => x.event_type === 'admin' && x.action === 'POST /api/config/keys/prune' && x.status === 'success' &&
      !/dry run/.test(x.tool_name)), 'no audit record of the prune');
  assert.equal(rec.tool_name, `key ring: pruned ${retired.join(', ')}`);
}, () => gw));

test('the admin API audit query opens the parameters sealed in the store', withGatewayLog(async () => {
  const c = await bearerClient(gw.url, keys.root);
  try { await c.callTool({ name: 'fl__echo', arguments: { text: 'sealed-for-admin' } }); } finally { await c.close(); }
  const stored = await eventually(() => sqliteRows(join(dir, 'mcpgw.db'), 'record').map((x) => JSON.parse(x.record))
    .find((x) => x.tool_name === 'fl__echo'), 'no record of the call');
  assert.match(stored.parameters, /^mcpgw:v1:audit:/);
  const q = conforms('GET', '/admin/v1/audit', await call('GET', '/admin/v1/audit?tool=fl__echo'));
  assert.deepEqual(q.json.records.at(-1).parameters, { text: 'sealed-for-admin' });
}, () => gw));
