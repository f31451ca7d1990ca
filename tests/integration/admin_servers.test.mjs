// Servers registered through the admin API (docs/admin-api.md, "Registering
// servers"): a remote server registered is offered to MCP clients at once
// (no restart), can be changed, disabled, enabled and removed, survives a
// restart (the managed file beside the config), and is shown with its
// origin; a URL at the metadata service or at loopback without
// admin.allowed_upstream_hosts is refused with the rule, as are command
// lines, bad names, duplicates, unknown keys and wrong types (with the field
// and config check's words). Answers conform to the OpenAPI document.
// Credential references and file paths a registration names must match
// admin.allowed_secret_refs (none by default): registering a server must not
// let a caller read the gateway's files or environment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import {
  tempDir, freePort, startGateway, writeGatewayFiles, apikeyCreate, apiKeyAuthYaml, bearerClient,
  EVERYTHING, BIN, ROOT, withGatewayLog, ADMIN_POLICY,
} from './lib.mjs';
import { openapiChecker, adminCall, startHttpEverything } from './admin_lib.mjs';

let gw, dir, port, body, key, upstream, upPort, api, secrets;

// What the gateway's environment holds: one variable the config allows
// registrations to name, and one it does not (as a master key would be).
const ALLOWED_ENV = 'MCPGW_T_UPSTREAM_TOKEN';
const ALLOWED_VALUE = 'allowed-env-token-5150';
const FORBIDDEN_ENV = 'MCPGW_OTHER_MASTER_KEY';
const FORBIDDEN_VALUE = 'forbidden-env-value-8086';
const gwEnv = { [ALLOWED_ENV]: ALLOWED_VALUE, [FORBIDDEN_ENV]: FORBIDDEN_VALUE };

before(async () => {
  upstream = await startHttpEverything();
  upPort = upstream.port;
  dir = realpathSync(tempDir());
  secrets = join(dir, 'secrets');
  mkdirSync(secrets);
  port = await freePort();
  body = 'servers:\n  local:\n    command: node\n    args: ["' + EVERYTHING + '"]\n' +
    'admin:\n  allowed_upstream_hosts: ["127.0.0.1"]\n' +
    `  allowed_secret_refs: ["env://MCPGW_T_*", "file://${secrets}/*"]\n` + apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  key = apikeyCreate(cfg, 'root', 'admin');
  gw = await startGateway(body, { dir, port, env: gwEnv });
  const doc = await adminCall(gw.base, 'GET', '/admin/v1/openapi.json', { key });
  api = await openapiChecker(doc.json);
});
after(async () => {
  try { await gw?.stop(); } finally { upstream?.stop(); }
});

async function call(method, path, o = {}) {
  return api.conforms(method, path, await adminCall(gw.base, method, path, { key, ...o }));
}

async function toolNames() {
  const c = await bearerClient(gw.url, key);
  try { return (await c.listTools()).tools.map((t) => t.name); } finally { await c.close(); }
}

const remote = () => ({ name: 'remote', url: `http://127.0.0.1:${upPort}/mcp`, type: 'http', timeout: 20, tags: ['elk'] });

test('a registered server is offered at once, changed, disabled, enabled, kept across a restart, removed', withGatewayLog(async () => {
  const r = await call('POST', '/admin/v1/servers', { body: remote() });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.origin, 'api');
  assert.deepEqual(r.json.tags, ['elk']);
  const managed = join(dir, 'mcpgw.managed.yaml');
  assert.ok(existsSync(managed));
  assert.equal(statSync(managed).mode & 0o777, 0o600);
  assert.match(readFileSync(managed, 'utf8'), /"remote"/);

  assert.ok((await toolNames()).includes('remote__echo'));
  const c = await bearerClient(gw.url, key);
  try {
    const res = await c.callTool({ name: 'remote__echo', arguments: { message: 'registered' } });
    assert.match(res.content[0].text, /registered/);
  } finally { await c.close(); }

  const ch = await call('POST', '/admin/v1/servers/remote', { body: { tags: ['elk', 'prod'] } });
  assert.equal(ch.status, 200, ch.text);
  assert.deepEqual(ch.json.tags, ['elk', 'prod']);
  const ex = await call('GET', '/admin/v1/config');
  assert.equal(ex.json.origins.remote, 'api');
  assert.equal(ex.json.origins.local, 'config');

  const off = await call('POST', '/admin/v1/servers/remote/disable');
  assert.equal(off.status, 200, off.text);
  assert.equal(off.json.enabled, false);
  assert.ok(!(await toolNames()).includes('remote__echo'));
  const on = await call('POST', '/admin/v1/servers/remote/enable');
  assert.equal(on.json.enabled, true);
  assert.ok((await toolNames()).includes('remote__echo'));

  await gw.stop();
  gw = await startGateway(body, { dir, port, env: gwEnv });
  const kept = await call('GET', '/admin/v1/servers/remote');
  assert.equal(kept.status, 200);
  assert.equal(kept.json.origin, 'api');
  assert.deepEqual(kept.json.tags, ['elk', 'prod']);
  assert.ok((await toolNames()).includes('remote__echo'));

  const del = await call('DELETE', '/admin/v1/servers/remote');
  assert.equal(del.status, 200, del.text);
  assert.deepEqual(del.json, { removed: 'remote' });
  assert.ok(!(await toolNames()).includes('remote__echo'));
  assert.equal((await call('GET', '/admin/v1/servers/remote')).status, 404);
  assert.equal((await call('DELETE', '/admin/v1/servers/remote')).status, 404);
}, () => gw));

test('unsafe URLs are refused with the rule, and nothing is registered', withGatewayLog(async () => {
  const meta = await call('POST', '/admin/v1/servers', { body: { name: 'meta', url: 'http://169.254.169.254/latest' } });
  assert.equal(meta.status, 400);
  assert.equal(meta.json.error.field, 'url');
  assert.match(meta.json.error.message, /metadata/);
  const lo = await call('POST', '/admin/v1/servers', { body: { name: 'lo', url: 'http://127.0.0.2:9/mcp' } });
  assert.equal(lo.status, 400);
  assert.match(lo.json.error.message, /allowed_upstream_hosts/);
  const local = await call('POST', '/admin/v1/servers', { body: { name: 'v6', url: 'http://[::1]:9/mcp' } });
  assert.equal(local.status, 400);
  assert.match(local.json.error.message, /allowed_upstream_hosts/);
  const list = await call('GET', '/admin/v1/servers');
  assert.deepEqual(list.json.servers.map((s) => s.name), ['local']);
}, () => gw));

test('bad bodies: 400 with the field and the reason', withGatewayLog(async () => {
  const url = `http://127.0.0.1:${upPort}/mcp`;
  const cases = [
    [{ name: 'bad name!', url }, 'name', /a server name is/],
    [{ name: 'local', url }, 'name', /already exists \(in the config file\)/],
    [{ name: 'x', url, colour: 'red' }, 'colour', /unknown key/],
    [{ name: 'x', url, tags: 'elk' }, 'tags', /expected a list/],
    [{ name: 'x', url, timeout: 'soon' }, 'timeout', /timeout/],
    [{ name: 'x', url: 'ftp://127.0.0.1/' }, 'url', /url/],
    [{ name: 'x', url, type: 'stdio' }, 'type', /config file/],
    [{ name: 'x', command: 'sh', args: ['-c', 'id'] }, 'command', /only remote servers/],
    [{ name: 'x', url: 'http://127.0.0.1/${HOME}' }, null, /\$\{VAR\}/],
    [{ url }, 'name', /required/],
  ];
  for (const [b, field, re] of cases) {
    const r = await call('POST', '/admin/v1/servers', { body: b });
    assert.equal(r.status, 400, `${JSON.stringify(b)}: ${r.text}`);
    if (field) assert.equal(r.json.error.field, field, `${JSON.stringify(b)}: ${r.text}`);
    assert.match(r.json.error.message, re, `${JSON.stringify(b)}: ${r.text}`);
  }
  assert.ok(!existsSync(join(dir, 'mcpgw.managed.yaml')) ||
    !/"x"/.test(readFileSync(join(dir, 'mcpgw.managed.yaml'), 'utf8')));
}, () => gw));

test('config import: a servers document (JSON or YAML) merged into the managed file, all or nothing', withGatewayLog(async () => {
  const url = `http://127.0.0.1:${upPort}/mcp`;
  const managed = join(dir, 'mcpgw.managed.yaml');
  const before = existsSync(managed) ? readFileSync(managed, 'utf8') : null;
  // one bad server refuses the whole document, in the loader's words; nothing written
  const bad = await call('POST', '/admin/v1/config/import', { body: { servers: { i1: { url }, i2: { url, timeout: 'soon' } } } });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.json.error.message, /key 'servers\.i2\.timeout'/);
  assert.equal(bad.json.error.field, 'servers.i2.timeout');
  assert.equal(existsSync(managed) ? readFileSync(managed, 'utf8') : null, before, 'the managed file is untouched');
  const meta = await call('POST', '/admin/v1/config/import', { body: { servers: { i1: { url }, m: { url: 'http://169.254.169.254/' } } } });
  assert.equal(meta.status, 400);
  assert.match(meta.json.error.message, /^servers\.m: key 'url': .*metadata/);
  const cmd = await call('POST', '/admin/v1/config/import', { body: { yaml: 'servers:\n  sh:\n    command: sh\n' } });
  assert.equal(cmd.status, 400);
  assert.match(cmd.json.error.message, /only remote servers/);
  const clash = await call('POST', '/admin/v1/config/import', { body: { servers: { local: { url } } } });
  assert.equal(clash.status, 409);
  const extra = await call('POST', '/admin/v1/config/import', { body: { servers: { i1: { url, headers: { a: 'b' } } } } });
  assert.equal(extra.status, 400);
  assert.match(extra.json.error.message, /key 'servers\.i1\.headers': not a key of a server registered/);
  assert.deepEqual((await call('GET', '/admin/v1/servers')).json.servers.map((s) => s.name), ['local']);

  // JSON: two servers at once, served at once
  const ok = await call('POST', '/admin/v1/config/import', { body: { servers: { i1: { url, tags: ['a'] }, i2: { url, type: 'http', timeout: 15 } } } });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json.imported, ['i1', 'i2']);
  assert.deepEqual(ok.json.servers.map((s) => [s.name, s.origin]), [['i1', 'api'], ['i2', 'api']]);
  const names = await toolNames();
  assert.ok(names.includes('i1__echo') && names.includes('i2__echo'), names.join());
  // YAML: i1 replaced (its tags), i3 added; the scalars are taken as the config file's
  const y = await call('POST', '/admin/v1/config/import', { body: { yaml: `servers:\n  i1:\n    url: "${url}"\n    tags: [b, c]\n  i3:\n    url: "${url}"\n    timeout: 12\n    enabled: false\n` } });
  assert.equal(y.status, 200, y.text);
  assert.deepEqual(y.json.imported, ['i1', 'i3']);
  assert.deepEqual((await call('GET', '/admin/v1/servers/i1')).json.tags, ['b', 'c']);
  assert.equal((await call('GET', '/admin/v1/servers/i3')).json.enabled, false);
  const ex = await call('GET', '/admin/v1/config');
  assert.equal(ex.json.origins.i3, 'api');
  for (const n of ['i1', 'i2', 'i3']) assert.equal((await call('DELETE', `/admin/v1/servers/${n}`)).status, 200);
}, () => gw));

test('config check names a bad admin.allowed_upstream_hosts entry', () => {
  const d = tempDir();
  const cfg = join(d, 'mcpgw.yaml');
  writeFileSync(cfg, 'servers:\n  a:\n    command: node\nadmin:\n  allowed_upstream_hosts: ["10.0.0.0/8", "10.0.0.0/99"]\n');
  const r = spawnSync(BIN, ['config', 'check', '-c', cfg], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /admin\.allowed_upstream_hosts\[1\]': '10\.0\.0\.0\/99' is not a host name, an IP address or a CIDR block/);
});

// The token endpoint of a registered server's OAuth2 credentials is sent the
// client secret: it must pass the same rule as the server's URL.
function oauth2Auth(tokenUrl) {
  const secret = join(secrets, 'client-secret');
  writeFileSync(secret, 's3cret\n', { mode: 0o600 });
  return { method: 'oauth2', oauth2: { token_url: tokenUrl, client_id: 'gw', client_secret_ref: `file://${secret}` } };
}

test('an OAuth2 token_url at the metadata service or a private address is refused with the rule', withGatewayLog(async () => {
  const url = `http://127.0.0.1:${upPort}/mcp`;
  for (const [tokenUrl, re] of [['http://169.254.169.254/latest/token', /metadata/],
    ['http://10.1.2.3/token', /private addresses need admin\.allowed_upstream_hosts/],
    ['https://127.0.0.2:8443/token', /loopback addresses need admin\.allowed_upstream_hosts/]]) {
    const r = await call('POST', '/admin/v1/servers', { body: { name: 'tok', url, auth: oauth2Auth(tokenUrl) } });
    assert.equal(r.status, 400, `${tokenUrl}: ${r.text}`);
    assert.equal(r.json.error.field, 'auth.oauth2.token_url');
    assert.match(r.json.error.message, /^key 'auth\.oauth2\.token_url': /);
    assert.match(r.json.error.message, re);
    assert.ok(!r.text.includes(tokenUrl), 'the URL is not echoed');
  }
  // a change, and an import, are held to the same rule
  const imp = await call('POST', '/admin/v1/config/import',
    { body: { servers: { tok: { url, auth: oauth2Auth('http://169.254.169.254/') } } } });
  assert.equal(imp.status, 400, imp.text);
  assert.match(imp.json.error.message, /^servers\.tok: key 'auth\.oauth2\.token_url': .*metadata/);
  assert.deepEqual((await call('GET', '/admin/v1/servers')).json.servers.map((s) => s.name), ['local']);
}, () => gw));

// As for the server's own URL (below): a token endpoint allowed at
// registration whose address is no longer allowed is not connected to, so
// the client secret is not sent.
test("every connection to a registered server's token endpoint is checked on the resolved address", withGatewayLog(async () => {
  let hits = 0;
  const idp = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      // no connection kept: one libcurl pooled before the change is not checked again
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ access_token: 'tok', token_type: 'Bearer', expires_in: 3600 }));
    });
  });
  await new Promise((res) => idp.listen(0, '127.0.0.1', res));
  const cfgPath = join(dir, 'mcpgw.yaml');
  const listed = readFileSync(cfgPath, 'utf8');
  try {
    const tokenUrl = `http://localhost:${idp.address().port}/token`;
    const r = await call('POST', '/admin/v1/servers',
      { body: { name: 'tok', url: `http://127.0.0.1:${upPort}/mcp`, auth: oauth2Auth(tokenUrl) } });
    assert.equal(r.status, 201, r.text);
    for (let i = 0; i < 100 && !hits; i++) await new Promise((res) => setTimeout(res, 100));
    assert.ok(hits > 0, 'the token endpoint is asked while its address is allowed');
    writeFileSync(cfgPath, listed.replace('allowed_upstream_hosts: ["127.0.0.1"]', 'allowed_upstream_hosts: ["10.0.0.0/8"]'));
    const from = gw.logs().length;
    const rl = await call('POST', '/admin/v1/config/reload');
    assert.equal(rl.json.reloaded, true, rl.text);
    const seen = hits;
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = /refused to connect to localhost \([^)]*\): loopback addresses need admin\.allowed_upstream_hosts/
        .test(gw.logs().slice(from));
      if (!refused) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(refused, 'the token request was refused with the rule in the log');
    assert.equal(hits, seen, 'the token endpoint got no request (and no secret)');
  } finally {
    writeFileSync(cfgPath, listed);
    await call('POST', '/admin/v1/config/reload');
    await call('DELETE', '/admin/v1/servers/tok');
    idp.close();
  }
}, () => gw));

// DNS rebinding cannot be staged with real DNS here; what stops it is the
// check on each address libcurl connects to. A name allowed at registration
// whose address is no longer allowed (the list changed by a reload) is
// refused when connecting, with the rule in the log. (A connection libcurl
// opened before the change and keeps in its pool is not checked again:
// its address was checked when it was opened.)
test('every connection of a registered server is checked on the resolved address', withGatewayLog(async () => {
  const r = await call('POST', '/admin/v1/servers', { body: { name: 'byname', url: `http://localhost:${upPort}/mcp` } });
  assert.equal(r.status, 201, r.text);
  assert.ok((await toolNames()).includes('byname__echo'));
  const cfgPath = join(dir, 'mcpgw.yaml');
  const listed = readFileSync(cfgPath, 'utf8');
  writeFileSync(cfgPath, listed.replace('allowed_upstream_hosts: ["127.0.0.1"]', 'allowed_upstream_hosts: ["10.0.0.0/8"]'));
  try {
    const rl = await call('POST', '/admin/v1/config/reload');
    assert.equal(rl.json.reloaded, true, rl.text);
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = /refused to connect to localhost \([^)]*\): loopback addresses need admin\.allowed_upstream_hosts/.test(gw.logs());
      if (!refused) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(refused, 'the connection was refused with the rule in the log');
  } finally {
    writeFileSync(cfgPath, listed);
    await call('POST', '/admin/v1/config/reload');
    await call('DELETE', '/admin/v1/servers/byname');
  }
}, () => gw));

// ---- credential references and file paths (admin.allowed_secret_refs) --------

// A file outside the allowed directory, and a symlink inside it leading there.
function outsideSecret() {
  const outside = join(dir, 'not-a-secret-for-you');
  writeFileSync(outside, 'outside-file-content-2718\n', { mode: 0o600 });
  const link = join(secrets, 'link-out');
  if (!existsSync(link)) symlinkSync(outside, link);
  return { outside, link };
}

const noLeak = (text, what) => {
  for (const s of ['outside-file-content-2718', FORBIDDEN_VALUE]) {
    assert.ok(!text.includes(s), `${what} shows what a reference points at: ${text}`);
  }
};

test('a credential reference or path admin.allowed_secret_refs does not allow is refused: 400 with the field, nothing read', withGatewayLog(async () => {
  const url = `http://127.0.0.1:${upPort}/mcp`;
  const { outside, link } = outsideSecret();
  const bearer = (ref) => ({ method: 'bearer', credential_ref: ref });
  const cases = [
    [bearer(`file://${outside}`), 'auth.credential_ref', /matches no glob of admin\.allowed_secret_refs/],
    [bearer(`env://${FORBIDDEN_ENV}`), 'auth.credential_ref', /matches no glob of admin\.allowed_secret_refs/],
    [bearer('file:///etc/shadow'), 'auth.credential_ref', /matches no glob/],
    // a '..' escape out of the allowed directory
    [bearer(`file://${secrets}/../not-a-secret-for-you`), 'auth.credential_ref', /no empty, '\.' or '\.\.' component/],
    // a symlink in the allowed directory leading out of it
    [bearer(`file://${link}`), 'auth.credential_ref', /resolves \(symlinks\) to a path no glob of admin\.allowed_secret_refs matches/],
    [{ method: 'oauth2', oauth2: { token_url: 'https://idp.example.com/token', client_id: 'gw', client_secret_ref: `env://${FORBIDDEN_ENV}` } },
      'auth.oauth2.client_secret_ref', /matches no glob/],
    // any scalar would be taken as a reference by the loader: only strings are checked and kept
    [bearer(42), 'auth.credential_ref', /expected a string/],
  ];
  for (const [auth, field, re] of cases) {
    const r = await call('POST', '/admin/v1/servers', { body: { name: 'leak', url, auth } });
    assert.equal(r.status, 400, `${JSON.stringify(auth)}: ${r.text}`);
    assert.equal(r.json.error.field, field, r.text);
    assert.match(r.json.error.message, new RegExp(`^key '${field.replace(/\./g, '\\.')}': `));
    assert.match(r.json.error.message, re, r.text);
    noLeak(r.text, 'the answer');
  }
  // a change and an import are held to the same rule
  const ok = await call('POST', '/admin/v1/servers', { body: { name: 'leak', url } });
  assert.equal(ok.status, 201, ok.text);
  try {
    const ch = await call('POST', '/admin/v1/servers/leak', { body: { auth: bearer(`env://${FORBIDDEN_ENV}`) } });
    assert.equal(ch.status, 400, ch.text);
    assert.equal(ch.json.error.field, 'auth.credential_ref');
    const imp = await call('POST', '/admin/v1/config/import',
      { body: { servers: { leak2: { url, auth: bearer(`file://${outside}`) } } } });
    assert.equal(imp.status, 400, imp.text);
    assert.match(imp.json.error.message, /^servers\.leak2: key 'auth\.credential_ref': .*matches no glob/);
    noLeak(ch.text + imp.text, 'the answer');
    const managed = readFileSync(join(dir, 'mcpgw.managed.yaml'), 'utf8');
    assert.ok(!managed.includes(FORBIDDEN_ENV) && !managed.includes(outside), managed);
  } finally {
    assert.equal((await call('DELETE', '/admin/v1/servers/leak')).status, 200);
  }
  noLeak(gw.logs(), 'the log');
}, () => gw));

test('config check names a bad admin.allowed_secret_refs entry', () => {
  const d = tempDir();
  const cfg = join(d, 'mcpgw.yaml');
  for (const [glob, re] of [['/etc/mcpgw/*', /is not an env:\/\/NAME or file:\/\/\/path glob/],
    ['file:///etc/mcpgw/../*', /no empty, '\.' or '\.\.' component/]]) {
    writeFileSync(cfg, `servers:\n  a:\n    command: node\nadmin:\n  allowed_secret_refs: ["env://A_*", "${glob}"]\n`);
    const r = spawnSync(BIN, ['config', 'check', '-c', cfg], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /key 'admin\.allowed_secret_refs\[1\]'/);
    assert.match(r.stderr, re);
  }
});

// A recording upstream (tests/fixtures/header-recorder.mjs): what reached it.
async function startRecorder() {
  const proc = spawn(process.execPath, [join(ROOT, 'tests', 'fixtures', 'header-recorder.mjs'), '0'],
    { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error('the recorder did not start')), 15000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /RECORDER_URL=(\S+)/.exec(out);
      if (m) { clearTimeout(t); res(m[1]); }
    });
  });
  return {
    url,
    stop: () => proc.kill('SIGTERM'),
    async seen(path) {
      const all = await (await fetch(`${url}/_test/requests`)).json();
      return all.filter((r) => r.path === path);
    },
  };
}

async function callEcho(server) {
  const c = await bearerClient(gw.url, key);
  try { return await c.callTool({ name: `${server}__last_headers`, arguments: {} }); } finally { await c.close(); }
}

test('allowed references work end to end: the upstream receives the secret', withGatewayLog(async () => {
  const rec = await startRecorder();
  writeFileSync(join(secrets, 'api-key'), 'file-api-key-1729\n', { mode: 0o600 });
  try {
    const viaEnv = await call('POST', '/admin/v1/servers', { body: { name: 'recenv', url: `${rec.url}/s/env/mcp`,
      auth: { method: 'bearer', credential_ref: `env://${ALLOWED_ENV}` } } });
    assert.equal(viaEnv.status, 201, viaEnv.text);
    const viaFile = await call('POST', '/admin/v1/servers', { body: { name: 'recfile', url: `${rec.url}/s/file/mcp`,
      auth: { method: 'api_key', credential_ref: `file://${secrets}/api-key` } } });
    assert.equal(viaFile.status, 201, viaFile.text);
    assert.ok(!(await callEcho('recenv')).isError);
    assert.ok(!(await callEcho('recfile')).isError);
    const env = await rec.seen('/s/env/mcp');
    assert.ok(env.length > 0 && env.every((r) => r.headers.authorization === `Bearer ${ALLOWED_VALUE}`),
      JSON.stringify(env.map((r) => r.headers.authorization)));
    const file = await rec.seen('/s/file/mcp');
    assert.ok(file.length > 0 && file.every((r) => r.headers['x-api-key'] === 'file-api-key-1729'),
      JSON.stringify(file.map((r) => r.headers['x-api-key'])));
  } finally {
    await call('DELETE', '/admin/v1/servers/recenv');
    await call('DELETE', '/admin/v1/servers/recfile');
    rec.stop();
  }
}, () => gw));

// The list is read at each load: a reload that no longer allows a
// registered server's reference keeps the server, refused at connect with
// the rule in its status, and its reference unread (nothing sent).
test('a reload that narrows admin.allowed_secret_refs refuses an already registered server at connect', withGatewayLog(async () => {
  const rec = await startRecorder();
  const cfgPath = join(dir, 'mcpgw.yaml');
  const listed = readFileSync(cfgPath, 'utf8');
  try {
    const r = await call('POST', '/admin/v1/servers', { body: { name: 'narrow', url: `${rec.url}/s/narrow/mcp`,
      auth: { method: 'bearer', credential_ref: `env://${ALLOWED_ENV}` } } });
    assert.equal(r.status, 201, r.text);
    assert.ok(!(await callEcho('narrow')).isError);
    writeFileSync(cfgPath, listed.replace('"env://MCPGW_T_*", ', ''));
    const rl = await call('POST', '/admin/v1/config/reload');
    assert.equal(rl.json.reloaded, true, rl.text);
    const before = (await rec.seen('/s/narrow/mcp')).length;
    const after = await callEcho('narrow').then((x) => x, (e) => e);
    assert.ok(after instanceof Error || after.isError, JSON.stringify(after));
    const s = await call('GET', '/admin/v1/servers/narrow');
    assert.equal(s.status, 200, s.text);
    assert.match(s.json.health.last_error || '',
      /refused: key 'auth\.credential_ref': 'env:\/\/MCPGW_T_UPSTREAM_TOKEN' matches no glob of admin\.allowed_secret_refs/, s.text);
    assert.equal((await rec.seen('/s/narrow/mcp')).length, before, 'nothing was sent to the refused server');
    assert.match(gw.logs(), /server 'narrow' of .*mcpgw\.managed\.yaml is not connected to: key 'auth\.credential_ref'/);
    // allowed again: served again, with its secret
    writeFileSync(cfgPath, listed);
    assert.equal((await call('POST', '/admin/v1/config/reload')).json.reloaded, true);
    assert.ok(!(await callEcho('narrow')).isError);
    const last = (await rec.seen('/s/narrow/mcp')).at(-1);
    assert.equal(last.headers.authorization, `Bearer ${ALLOWED_VALUE}`);
  } finally {
    writeFileSync(cfgPath, listed);
    await call('POST', '/admin/v1/config/reload');
    await call('DELETE', '/admin/v1/servers/narrow');
    rec.stop();
  }
}, () => gw));
