// HTTPS on the gateway's own listener (top-level `tls:`): certificates made
// with the openssl CLI in a temp dir, the official SDK v1 client over https,
// client certificates as principals (mTLS), HSTS, and files that cannot be
// used refused at start naming the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startGateway, tempDir, freePort, BIN, buildEchoMcp, httpsGet, tlsFetch } from './lib.mjs';

const openssl = (dir, ...args) => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// A P-256 key and a certificate for subj signed by the CA named ca (or
// self-signed as a CA when ca is null), with extension lines ext.
function makeCert(dir, name, subj, ca, ext) {
  if (!ca) {
    openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', subj,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  } else {
    openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj);
    writeFileSync(join(dir, `${name}.ext`), ext.join('\n') + '\n');
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`,
      '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
  return { cert: readFileSync(join(dir, `${name}.pem`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

const POLICY = `
roles:
  echoer:
    permissions:
      - resource: "mcp:echo:*"
        actions: [list_tools, invoke_tool]
user_roles:
  "cert:CN=alice,O=mcpgw tests": [echoer]
default_policy: deny
`;

let certDir, ca, server, alice, bob, mallory, aliceSubject, echo;
const gateways = [];

before(async () => {
  echo = await buildEchoMcp();
  certDir = tempDir('mcpgw-tls-');
  ca = makeCert(certDir, 'ca', '/CN=mcpgw test CA', null).cert;
  server = makeCert(certDir, 'server', '/CN=127.0.0.1', 'ca',
    ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth']);
  alice = makeCert(certDir, 'alice', '/O=mcpgw tests/CN=alice', 'ca',
    ['subjectAltName=email:alice@example.com', 'extendedKeyUsage=clientAuth']);
  bob = makeCert(certDir, 'bob', '/O=mcpgw tests/CN=bob', 'ca', ['extendedKeyUsage=clientAuth']);
  makeCert(certDir, 'rogue', '/CN=rogue CA', null);
  mallory = makeCert(certDir, 'mallory', '/O=mcpgw tests/CN=alice', 'rogue', ['extendedKeyUsage=clientAuth']);
  aliceSubject = openssl(certDir, 'x509', '-in', 'alice.pem', '-noout', '-subject', '-nameopt', 'RFC2253')
    .trim().replace(/^subject=/, '');
});
after(async () => {
  for (const gw of gateways) await gw.stop();
});

// A gateway serving HTTPS with the certificates above; tlsYaml is added
// under tls:, a policy is beside the config.
async function startTls(tlsYaml = '', { probe = {}, extra = '' } = {}) {
  const dir = tempDir();
  for (const f of ['server.pem', 'server.key', 'ca.pem']) writeFileSync(join(dir, f), readFileSync(join(certDir, f)));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  const yaml = `servers:\n  echo:\n    command: "${echo}"\n` +
    `tls:\n  cert: server.pem\n  key: server.key\n${tlsYaml}${extra}`;
  const gw = await startGateway(yaml, { dir, https: { ca, ...probe } });
  gateways.push(gw);
  return gw;
}

// An SDK v1 client over https, trusting the test CA and presenting tls.cert.
async function sdkClient(url, tls = {}) {
  const fetch = await tlsFetch({ ca, ...tls });
  const client = new Client({ name: 'tls-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch });
  await client.connect(transport);
  return {
    client,
    async close() {
      try { await transport.terminateSession(); } catch { /* gone */ }
      await client.close();
      await fetch.close();
    },
  };
}

// Does a request over TLS presenting tls fail before any HTTP answer?
async function refusedAtHandshake(url, tls) {
  try {
    const r = await httpsGet(url, { ca, ...tls });
    return `answered ${r.status}`;
  } catch (e) {
    return e.code || e.message;
  }
}

// Wait (up to 5 s) until the gateway's log matches re: it arrives through a pipe.
async function logged(gw, re) {
  for (const end = Date.now() + 5000; !re.test(gw.logs()) && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
  assert.match(gw.logs(), re);
}

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

async function initialize(url, tls) {
  const f = await tlsFetch({ ca, ...tls });
  try {
    const r = await f(url, { method: 'POST', body: INIT,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } });
    return { status: r.status, headers: r.headers, body: await r.text() };
  } finally { await f.close(); }
}

test('HTTPS without client certificates: plain HTTP fails, the SDK client works, HSTS is sent', async () => {
  const gw = await startTls('', { extra: 'auth: none\n' });
  assert.match(gw.base, /^https:/);
  assert.match(gw.logs(), /listening on https:\/\/127\.0\.0\.1:\d+/);

  // (1) plain HTTP on the TLS port gets no HTTP answer
  await assert.rejects(fetch(gw.base.replace('https:', 'http:') + '/health'));
  // and the gateway is still fine afterwards
  const health = await httpsGet(`${gw.base}/health`, { ca });
  assert.equal(health.status, 200);

  // (4) security headers, HSTS among them
  assert.equal(health.headers['strict-transport-security'], 'max-age=31536000');
  assert.equal(health.headers['x-content-type-options'], 'nosniff');

  // an untrusting client refuses the certificate; TLS 1.1 is refused
  await assert.rejects(httpsGet(`${gw.base}/health`, {}), /self.signed|unable to verify|certificate/i);
  assert.notEqual(await refusedAtHandshake(`${gw.base}/health`, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }),
    'answered 200');
  assert.equal((await httpsGet(`${gw.base}/health`, { ca, maxVersion: 'TLSv1.2' })).status, 200);

  // (2) the official SDK v1 client over https lists and calls echo
  const c = await sdkClient(gw.url);
  try {
    assert.deepEqual((await c.client.listTools()).tools.map((t) => t.name), ['echo__echo']);
    const r = await c.client.callTool({ name: 'echo__echo', arguments: { text: 'over tls' } });
    assert.equal(r.content[0].text, 'over tls');
  } finally { await c.close(); }

  // HSTS on MCP answers too
  const init = await initialize(gw.url, {});
  assert.equal(init.status, 200);
  assert.equal(init.headers.get('strict-transport-security'), 'max-age=31536000');
});

test('client certificates required: the certificate subject is the caller', async () => {
  const gw = await startTls('  client_ca: ca.pem\n', { probe: alice, extra: 'policy: policy.yaml\n' });
  assert.match(gw.logs(), /client certificates required/);
  assert.equal(aliceSubject, 'CN=alice,O=mcpgw tests');

  // alice's certificate maps to role echoer through user_roles
  const c = await sdkClient(gw.url, alice);
  try {
    assert.deepEqual((await c.client.listTools()).tools.map((t) => t.name), ['echo__echo']);
    const r = await c.client.callTool({ name: 'echo__echo', arguments: { text: 'hi alice' } });
    assert.equal(r.content[0].text, 'hi alice');
  } finally { await c.close(); }

  // bob is authenticated, but the policy gives him nothing
  const b = await sdkClient(gw.url, bob);
  try {
    assert.deepEqual((await b.client.listTools()).tools, []);
  } finally { await b.close(); }

  // no certificate, or one from another CA with alice's subject: no handshake
  assert.notEqual(await refusedAtHandshake(`${gw.base}/health`, {}), 'answered 200');
  assert.notEqual(await refusedAtHandshake(`${gw.base}/health`, mallory), 'answered 200');
  await logged(gw, /client certificate refused: unable to get local issuer certificate/);
  // TLS 1.2 behaves the same (the refusal comes during the handshake)
  assert.notEqual(await refusedAtHandshake(`${gw.base}/health`, { maxVersion: 'TLSv1.2' }), 'answered 200');
  assert.equal((await httpsGet(`${gw.base}/health`, { ca, ...alice, maxVersion: 'TLSv1.2' })).status, 200);
});

test('client certificates optional: without one the answer is 401, with one the caller is known', async () => {
  const gw = await startTls('  client_ca: ca.pem\n  require_client_cert: false\n', { extra: 'policy: policy.yaml\n' });
  assert.match(gw.logs(), /client certificates accepted/);
  const health = JSON.parse((await httpsGet(`${gw.base}/health`, { ca })).body);
  assert.equal(health.auth, 'required');

  const anon = await initialize(gw.url, {});
  assert.equal(anon.status, 401);
  assert.match(anon.body, /client certificate is required/);
  assert.equal(anon.headers.get('www-authenticate'), 'Bearer realm="mcpgw"'); // no OAuth on offer

  const ok = await initialize(gw.url, alice);
  assert.equal(ok.status, 200);

  const c = await sdkClient(gw.url, alice);
  try {
    assert.deepEqual((await c.client.listTools()).tools.map((t) => t.name), ['echo__echo']);
  } finally { await c.close(); }

  // a session opened with alice's certificate is alice's: bob cannot use it
  const f = await tlsFetch({ ca, ...alice });
  const g = await tlsFetch({ ca, ...bob });
  try {
    const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const r = await f(gw.url, { method: 'POST', headers: h, body: INIT });
    await r.text();
    const sid = r.headers.get('mcp-session-id');
    assert.ok(sid);
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const hs = { ...h, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    const other = await g(gw.url, { method: 'POST', headers: hs, body: list });
    await other.text();
    assert.notEqual(other.status, 200);
  } finally { await f.close(); await g.close(); }
});

// Run `mcpgw args` to completion: { code, out, err }.
function runMcpgw(args, timeoutMs = 15000) {
  return new Promise((res) => {
    const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => { clearTimeout(timer); res({ code, out, err }); });
  });
}

test('unusable certificate files stop the start, naming the file', async () => {
  const dir = tempDir();
  for (const f of ['server.pem', 'server.key', 'alice.key', 'ca.pem']) writeFileSync(join(dir, f), readFileSync(join(certDir, f)));
  writeFileSync(join(dir, 'garbage.pem'), 'not a certificate\n');
  const port = await freePort();
  const cases = [
    ['cert: missing.pem\n  key: server.key', /tls\.cert: cannot read \S*missing\.pem: No such file/],
    ['cert: server.pem\n  key: nokey.pem', /tls\.key: cannot read \S*nokey\.pem: No such file/],
    ['cert: garbage.pem\n  key: server.key', /no usable PEM certificate in \S*garbage\.pem/],
    ['cert: server.pem\n  key: garbage.pem', /no usable PEM private key in \S*garbage\.pem/],
    ['cert: server.pem\n  key: alice.key', /the key in \S*alice\.key does not match the certificate in \S*server\.pem/],
    ['cert: server.pem\n  key: server.key\n  client_ca: garbage.pem', /tls\.client_ca: no usable PEM certificate in \S*garbage\.pem/],
    ['cert: server.pem\n  key: server.key\n  client_ca: noca.pem', /tls\.client_ca: cannot read \S*noca\.pem/],
  ];
  for (const [tls, want] of cases) {
    const cfg = join(dir, 'mcpgw.yaml');
    writeFileSync(cfg, `listen: "127.0.0.1:${port}"\ntls:\n  ${tls}\n`);
    const r = await runMcpgw(['serve', '-c', cfg]);
    assert.notEqual(r.code, 0, `started with ${tls}`);
    assert.match(r.err, want, tls);
    // paths are taken from the config file's directory
    assert.ok(r.err.includes(dir), r.err);
  }

  // what the config file itself gets wrong, `config check` says
  const bad = [
    ['tls:\n  cert: server.pem\n', /key 'tls': needs cert: and key:/],
    ['tls:\n  cert: server.pem\n  key: server.key\n  require_client_cert: true\n',
      /key 'tls.require_client_cert': only used with client_ca/],
    ['tls:\n  cert: server.pem\n  key: server.key\n  ca: ca.pem\n', /key 'tls.ca': unknown key \(expected one of: cert, key, client_ca, require_client_cert\)/],
    ['tls: true\n', /key 'tls'/],
  ];
  for (const [yaml, want] of bad) {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, yaml);
    const r = await runMcpgw(['config', 'check', '-c', cfg]);
    assert.equal(r.code, 1, yaml);
    assert.match(r.err, want, yaml);
  }
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'tls:\n  cert: server.pem\n  key: server.key\n  client_ca: ca.pem\n');
  assert.equal((await runMcpgw(['config', 'check', '-c', good])).code, 0);
});
