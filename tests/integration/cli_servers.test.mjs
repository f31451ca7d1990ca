// The command line's management commands against a running gateway (issue
// 12 item 4, seed 001's register-mcp): mcpgw servers add|remove|enable|
// disable over the admin API, mcpgw tools list over the REST surface and
// mcpgw caches over the admin API. A server added from the command line is
// listed and callable at once, can be disabled, enabled and removed; the
// --auth-* options become the server's auth: keys; a metadata URL is refused
// with the API's reason; a missing, wrong or non-admin token is a clear
// error with exit status 1; bad usage is exit 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN, EVERYTHING, startGateway, tempDir, freePort, apikeyCreate, writeGatewayFiles, apiKeyAuthYaml,
  ADMIN_POLICY,
} from './lib.mjs';
import { adminCall, startHttpEverything } from './admin_lib.mjs';

let gw, dir, admin, operator, upstream, upPort;

before(async () => {
  upstream = await startHttpEverything();
  upPort = upstream.port;
  dir = tempDir();
  const port = await freePort();
  const body = 'servers:\n  local:\n    command: node\n    args: ["' + EVERYTHING + '"]\n' +
    'admin:\n  allowed_upstream_hosts: ["127.0.0.1"]\n  allowed_secret_refs: ["env://CLI_TEST_*"]\n' +
    apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  admin = apikeyCreate(cfg, 'root', 'admin');
  operator = apikeyCreate(cfg, 'op', 'operator');
  gw = await startGateway(body, { dir, port, env: { CLI_TEST_UPSTREAM_KEY: 'k-123' } });
});
after(async () => {
  try { await gw?.stop(); } finally { upstream?.stop(); }
});

// mcpgw ARGS against the gateway with the admin key unless env says otherwise.
function mcpgw(args, env = {}) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000,
    env: { ...process.env, MCPGW_URL: gw.base, MCPGW_TOKEN: admin, ...env } });
  for (const k of [admin, operator]) assert.ok(!`${r.stdout}${r.stderr}`.includes(k), 'the token is never printed');
  return r;
}

const upURL = () => `http://127.0.0.1:${upPort}/mcp`;

test('servers add -> list shows it -> tools list and call it -> disable -> enable -> remove', () => {
  const add = mcpgw(['servers', 'add', 'remote', upURL(), '--type', 'http', '--timeout', '20', '--tags', 'elk,prod']);
  assert.equal(add.status, 0, add.stderr);
  assert.match(add.stdout, /^server remote registered \(streamable-http, \w+\)/);

  const list = mcpgw(['servers', 'list']);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /\nremote\s+\S+\s+\S+\s+elk,prod\n/);

  const tools = mcpgw(['tools', 'list', 'remote']);
  assert.equal(tools.status, 0, tools.stderr);
  assert.match(tools.stdout, /^NAME\s+SERVERS\s+DESCRIPTION\n/);
  assert.match(tools.stdout, /\necho\s+remote\s+\S/);
  const all = JSON.parse(mcpgw(['tools', 'list', '--format', 'json']).stdout);
  assert.ok(all.tools.some((t) => t.servers?.includes('remote')), 'GET /tools names the new server');

  const call = mcpgw(['call', 'remote', 'echo', '--params', '{"message": "from the cli"}']);
  assert.equal(call.status, 0, call.stderr);
  assert.match(call.stdout, /from the cli/);

  const off = mcpgw(['servers', 'disable', 'remote']);
  assert.equal(off.status, 0, off.stderr);
  assert.match(off.stdout, /^server remote disabled \(streamable-http, disabled\)/);
  const refused = mcpgw(['call', 'remote', 'echo', '--params', '{"message": "x"}']);
  assert.equal(refused.status, 1, 'a disabled server is not called');
  const on = mcpgw(['servers', 'enable', 'remote', '--format', 'json']);
  assert.equal(on.status, 0, on.stderr);
  assert.equal(JSON.parse(on.stdout).enabled, true);

  const rm = mcpgw(['servers', 'remove', 'remote']);
  assert.equal(rm.status, 0, rm.stderr);
  assert.equal(rm.stdout, 'server remote removed\n');
  assert.doesNotMatch(mcpgw(['servers', 'list']).stdout, /\nremote\s/);
  const again = mcpgw(['servers', 'remove', 'remote']);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /^mcpgw: HTTP 404: no server named 'remote'/);
});

test('the --auth-* options are the server\'s auth: keys; the gateway checks them as config check does', async () => {
  const bad = mcpgw(['servers', 'add', 'unset', upURL(), '--auth-method', 'bearer', '--credential-ref', 'env://CLI_TEST_NOT_SET']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /HTTP 400: .*key 'servers\.unset\.auth\.credential_ref': environment variable 'CLI_TEST_NOT_SET' is not set/);
  const ok = mcpgw(['servers', 'add', 'keyed', upURL(), '--auth-method', 'api_key', '--auth-location', 'header',
    '--auth-name', 'X-Upstream-Key', '--auth-format', 'prefix', '--auth-prefix', 'Key ',
    '--credential-ref', 'env://CLI_TEST_UPSTREAM_KEY', '--format', 'json']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).origin, 'api');
  const managed = JSON.parse(readFileSync(join(dir, 'mcpgw.managed.yaml'), 'utf8'));
  assert.deepEqual(managed.servers.keyed.auth, { method: 'api_key', location: 'header', name: 'X-Upstream-Key',
    format: 'prefix', prefix: 'Key ', credential_ref: 'env://CLI_TEST_UPSTREAM_KEY' });
  const tmpl = mcpgw(['servers', 'add', 'tmpl', upURL(), '--auth-method', 'custom', '--auth-name', 'X-T',
    '--auth-format', 'template', '--auth-template', 'no placeholder', '--credential-ref', 'env://CLI_TEST_UPSTREAM_KEY']);
  assert.equal(tmpl.status, 1);
  assert.match(tmpl.stderr, /HTTP 400: .*auth\.template.*\{credential\}/);
  assert.equal(mcpgw(['servers', 'remove', 'keyed']).status, 0);
});

test('a metadata URL is refused with the API\'s reason; nothing is registered', async () => {
  const r = mcpgw(['servers', 'add', 'meta', 'http://169.254.169.254/latest']);
  assert.equal(r.status, 1);
  const api = await adminCall(gw.base, 'POST', '/admin/v1/servers', { key: admin, body: { name: 'meta', url: 'http://169.254.169.254/latest' } });
  assert.equal(api.status, 400);
  assert.equal(r.stderr, `mcpgw: HTTP 400: ${api.json.error.message}\n`);
  assert.match(r.stderr, /metadata/);
  assert.doesNotMatch(mcpgw(['servers', 'list']).stdout, /\nmeta\s/);
  const cmd = mcpgw(['servers', 'add', 'bad name', upURL()]);
  assert.equal(cmd.status, 1);
  assert.match(cmd.stderr, /HTTP 400: key 'name'/);
});

test('caches: a line per server, clear all or one, an unknown server is 404', () => {
  assert.equal(mcpgw(['call', 'local', 'echo', '--params', '{"message": "warm"}']).status, 0);
  const l = mcpgw(['caches']);
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stdout, /^SERVER\s+TTL\s+SESSIONS\s+TOOLS\s+PROMPTS\s+RESOURCES\s+TEMPLATES\n/);
  assert.match(l.stdout, /\nlocal\s+300\s+\d+\s+\d+\/\d+/);
  const j = JSON.parse(mcpgw(['caches', 'list', '--format', 'json']).stdout);
  assert.ok(j.caches.some((c) => c.server === 'local'));
  const one = mcpgw(['caches', 'clear', 'local']);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /^cleared \d+ cached lists\n$/);
  assert.equal(mcpgw(['caches', 'clear']).status, 0);
  const none = mcpgw(['caches', 'clear', 'nope']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /HTTP 404: no server with this name/);
});

test('no token, a wrong one, a non-admin one: exit 1 and the gateway\'s words; bad usage: exit 2', () => {
  const none = mcpgw(['servers', 'add', 'x', upURL()], { MCPGW_TOKEN: '' });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /HTTP 401/);
  const wrong = mcpgw(['caches'], { MCPGW_TOKEN: 'mcpgw_nope_nope' });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /HTTP 401/);
  const op = mcpgw(['servers', 'disable', 'local'], { MCPGW_TOKEN: operator });
  assert.equal(op.status, 1);
  assert.match(op.stderr, /HTTP 403: /);
  const cfgServer = mcpgw(['servers', 'disable', 'local']);
  assert.equal(cfgServer.status, 1);
  assert.match(cfgServer.stderr, /HTTP 409: server 'local' lives in the config file/);
  const offline = mcpgw(['tools', 'list', '--url', 'http://127.0.0.1:1']);
  assert.equal(offline.status, 1);
  assert.match(offline.stderr, /cannot reach the gateway[^]*'mcpgw tools list -c CONFIG' reads the tool pins/);
  const missing = mcpgw(['servers', 'add', 'x']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing argument\nusage: mcpgw servers/);
  const foreign = mcpgw(['servers', 'remove', 'x', '--tags', 'a']);
  assert.equal(foreign.status, 2, 'remove takes no --tags');
  assert.equal(mcpgw(['servers', 'frob']).status, 2);
  for (const cmd of [['servers', 'add'], ['servers', 'remove'], ['tools', 'list'], ['caches'], ['caches', 'clear']]) {
    const h = mcpgw([...cmd, '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, new RegExp(`^usage: mcpgw ${cmd[0]}`));
  }
});
