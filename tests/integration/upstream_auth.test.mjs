// Upstream credentials (servers.<name>.auth): the gateway sends each HTTP
// upstream exactly the configured credential, in the configured place and
// format, and never the client's own Authorization header. A recording
// upstream (tests/fixtures/header-recorder.mjs) reports what it received;
// OAuth tokens come from the real local OpenID provider
// (tests/fixtures/oidc-idp.mjs, client-credentials grant) and from the
// recorder's fake token endpoint (for failures, short lifetimes and
// revoked tokens). Secrets must not show in the log, on /health or in
// `mcpgw config check` messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startGateway, tempDir, ROOT, BIN, THREE_ROLE_POLICY } from './lib.mjs';

const RECORDER = join(ROOT, 'tests', 'fixtures', 'header-recorder.mjs');
const IDP = join(ROOT, 'tests', 'fixtures', 'oidc-idp.mjs');
const ENV_SERVER = join(ROOT, 'tests', 'fixtures', 'env-server.mjs');
const CLIENT_TOKEN = 'client-token-xyz';

const SECRETS = {
  UP_API_KEY: 'ak-secret-4711',
  UP_QUERY_KEY: 'qk secret&=+/7',
  UP_BASIC_PASS: 'pw-secret-0815',
  UP_CUSTOM: 'cu-secret-42',
  UP_PREFIXED: 'px-secret-99',
  ADMIN_SECRET: 'admin-app-secret',
  FAKE_SECRET: 'fake-secret',
};
const BEARER_SECRET = 'bt-secret-1234'; // read from a file:// reference

let recorder, recUrl, idp, issuer, gw, dir;

function startFixture(script, args, marker) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${script} not up:\n${out}${err}`)); }, 15000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = new RegExp(`${marker}=(\\S+)`).exec(out);
      if (m) { clearTimeout(timer); resolve({ proc, url: m[1], logs: () => err }); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited (${code}):\n${out}${err}`)); });
  });
}

const oauthResource = () => `${recUrl}/s/oauth2/mcp`;

function serversYaml() {
  const fake = `${recUrl}/token`;
  // The recorder hands the credentials it got back as tool output, which
  // the default guardrails would redact (docs/guardrails.md, "Defaults").
  return `guardrails: { enabled: false }
servers:
  apikey:
    url: "${recUrl}/s/apikey/mcp"
    auth: { method: api_key, credential_ref: "env://UP_API_KEY" }
  apiquery:
    url: "${recUrl}/s/apiquery/mcp?fixed=1"
    auth: { method: api_key, location: query, name: key, credential_ref: "env://UP_QUERY_KEY" }
  bearer:
    url: "${recUrl}/s/bearer/mcp"
    auth:
      method: bearer
      location: header
      name: Authorization
      format: prefix
      prefix: "Bearer "
      credential_ref: "file://${join(dir, 'bearer.txt')}"
  basic:
    url: "${recUrl}/s/basic/mcp"
    auth: { method: basic, username: alice, credential_ref: "env://UP_BASIC_PASS" }
  custom:
    url: "${recUrl}/s/custom/mcp"
    auth:
      method: custom
      name: X-Custom-Auth
      format: template
      template: "CustomToken {credential}"
      credential_ref: env://UP_CUSTOM
  prefixed:
    url: "${recUrl}/s/prefixed/mcp"
    auth: { method: api_key, name: Authorization, prefix: "ApiKey ", credential_ref: "env://UP_PREFIXED" }
  oauth2:
    url: "${oauthResource()}"
    auth:
      method: oauth2
      oauth2:
        token_url: "${issuer}/token"
        client_id: admin-app
        client_secret_ref: env://ADMIN_SECRET
        scope: mcp
        resource: "${oauthResource()}"
  oauthpost:
    url: "${recUrl}/s/oauthpost/mcp"
    auth:
      method: oauth2
      location: query
      oauth2:
        token_url: "${fake}?k=post"
        client_id: fake-client
        client_secret_ref: env://FAKE_SECRET
        client_auth: post
        scope: "read write"
        audience: "https://api.example"
  oauthretry:
    url: "${recUrl}/s/oauthretry/mcp"
    auth:
      method: oauth2
      oauth2: { token_url: "${fake}?k=retry&fail=2", client_id: fake-client, client_secret_ref: "env://FAKE_SECRET" }
  oauthshort:
    url: "${recUrl}/s/oauthshort/mcp"
    auth:
      method: oauth2
      oauth2: { token_url: "${fake}?k=short&expires_in=2", client_id: fake-client, client_secret_ref: "env://FAKE_SECRET" }
  revoked:
    url: "${recUrl}/reject-first/mcp"
    auth:
      method: oauth2
      oauth2: { token_url: "${fake}?k=revoked", client_id: fake-client, client_secret_ref: "env://FAKE_SECRET" }
`;
}

before(async () => {
  dir = tempDir();
  writeFileSync(join(dir, 'bearer.txt'), `  ${BEARER_SECRET}  \nnot this line\n`);
  recorder = await startFixture(RECORDER, ['0'], 'RECORDER_URL');
  recUrl = recorder.url;
  idp = await startFixture(IDP, ['0', `${recUrl}/s/oauth2/mcp`], 'OIDC_ISSUER');
  issuer = idp.url;
  gw = await startGateway(serversYaml(), { env: SECRETS, dir });
});

after(async () => {
  try { await gw?.stop(); } finally {
    recorder?.proc.kill('SIGTERM');
    idp?.proc.kill('SIGTERM');
  }
});

// An SDK client that sends its own bearer token on every request.
async function connect() {
  const client = new Client({ name: 'upstream-auth-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(gw.url), {
    requestInit: { headers: { Authorization: `Bearer ${CLIENT_TOKEN}` } },
  });
  await client.connect(transport);
  return client;
}

async function seenBy(server, client) {
  const r = await client.callTool({ name: `${server}__last_headers`, arguments: {} });
  assert.ok(!r.isError, JSON.stringify(r));
  const seen = JSON.parse(r.content[0].text);
  assert.ok(!JSON.stringify(seen).includes(CLIENT_TOKEN), `${server} saw the client's token: ${JSON.stringify(seen)}`);
  return seen;
}

const jwtPayload = (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());

test('each method and format reaches the upstream as configured, the client token never', async () => {
  const client = await connect();
  try {
    let s = await seenBy('apikey', client);
    assert.equal(s.headers['x-api-key'], SECRETS.UP_API_KEY);
    assert.equal(s.headers.authorization, undefined);
    assert.deepEqual(s.query, {});

    s = await seenBy('apiquery', client);
    assert.deepEqual(s.query, { fixed: '1', key: SECRETS.UP_QUERY_KEY });
    assert.equal(s.headers.authorization, undefined);
    assert.equal(s.headers['x-api-key'], undefined);

    s = await seenBy('bearer', client);
    assert.equal(s.headers.authorization, `Bearer ${BEARER_SECRET}`);

    s = await seenBy('basic', client);
    assert.equal(s.headers.authorization, `Basic ${Buffer.from(`alice:${SECRETS.UP_BASIC_PASS}`).toString('base64')}`);

    s = await seenBy('custom', client);
    assert.equal(s.headers['x-custom-auth'], `CustomToken ${SECRETS.UP_CUSTOM}`);
    assert.equal(s.headers.authorization, undefined);

    s = await seenBy('prefixed', client);
    assert.equal(s.headers.authorization, `ApiKey ${SECRETS.UP_PREFIXED}`);
  } finally { await client.close(); }
});

test('oauth2: a client-credentials token from the OpenID provider, cached', async () => {
  const client = await connect();
  try {
    const a = await seenBy('oauth2', client);
    const m = /^Bearer (\S+)$/.exec(a.headers.authorization || '');
    assert.ok(m, `Authorization: ${a.headers.authorization}`);
    const claims = jwtPayload(m[1]);
    assert.equal(claims.aud, oauthResource());
    assert.equal(claims.client_id, 'admin-app');
    assert.match(claims.scope, /\bmcp\b/);
    const b = await seenBy('oauth2', client);
    assert.equal(b.headers.authorization, a.headers.authorization, 'the token is reused');
  } finally { await client.close(); }
});

test('oauth2: client_secret_post, scope and audience, the token in the query', async () => {
  const client = await connect();
  try {
    const s = await seenBy('oauthpost', client);
    assert.match(s.query.access_token || '', /^fake-tok-\d+$/);
    assert.equal(s.headers.authorization, undefined);
    const reqs = await (await fetch(`${recUrl}/_test/requests`)).json();
    const tok = reqs.find((r) => r.path === '/token' && r.query.k === 'post');
    assert.ok(tok, 'a token request was made');
    assert.equal(tok.client, 'post');
    assert.equal(tok.headers.authorization, undefined);
    assert.deepEqual(Object.fromEntries(new URLSearchParams(tok.body)), {
      grant_type: 'client_credentials', scope: 'read write', audience: 'https://api.example',
      client_id: 'fake-client', client_secret: SECRETS.FAKE_SECRET,
    });
  } finally { await client.close(); }
});

test('oauth2: failed token requests are retried with backoff; requests wait for the token', async () => {
  const client = await connect();
  try {
    const s = await seenBy('oauthretry', client);
    assert.match(s.headers.authorization || '', /^Bearer fake-tok-\d+$/);
    const reqs = await (await fetch(`${recUrl}/_test/requests`)).json();
    const toks = reqs.filter((r) => r.path === '/token' && r.query.k === 'retry');
    assert.equal(toks.length, 3, 'two failures, then a token');
    assert.ok(toks.every((r) => r.client === 'basic'));
    // nothing reached the upstream without a token
    const ups = reqs.filter((r) => r.path === '/s/oauthretry/mcp');
    assert.ok(ups.length > 0);
    assert.ok(ups.every((r) => /^Bearer fake-tok-/.test(r.headers.authorization || '')), JSON.stringify(ups.map((r) => r.headers.authorization)));
  } finally { await client.close(); }
});

test('oauth2: a token is refreshed before it expires', async () => {
  const client = await connect();
  try {
    const first = (await seenBy('oauthshort', client)).headers.authorization;
    assert.match(first, /^Bearer fake-tok-\d+$/);
    await new Promise((r) => setTimeout(r, 2500));
    const second = (await seenBy('oauthshort', client)).headers.authorization;
    assert.match(second, /^Bearer fake-tok-\d+$/);
    assert.notEqual(second, first);
  } finally { await client.close(); }
});

test('oauth2: a 401 from the upstream gets a new token and one more try', async () => {
  const client = await connect();
  try {
    const s = await seenBy('revoked', client);
    const reqs = await (await fetch(`${recUrl}/_test/requests`)).json();
    const ups = reqs.filter((r) => r.path === '/reject-first/mcp');
    const refused = ups[0].headers.authorization;
    assert.match(refused, /^Bearer fake-tok-\d+$/);
    assert.match(s.headers.authorization, /^Bearer fake-tok-\d+$/);
    assert.notEqual(s.headers.authorization, refused);
    assert.ok(reqs.filter((r) => r.path === '/token' && r.query.k === 'revoked').length >= 2);
  } finally { await client.close(); }
});

test('no request of any kind carried the client token; log and /health hold no secret', async () => {
  const client = await connect();
  try { await client.listTools(); } finally { await client.close(); }
  const reqs = await (await fetch(`${recUrl}/_test/requests`)).json();
  assert.ok(reqs.length > 20);
  for (const r of reqs) assert.ok(!JSON.stringify(r).includes(CLIENT_TOKEN), JSON.stringify(r));
  // every credential that went out, and every token that came in
  const sent = new Set([...Object.values(SECRETS), BEARER_SECRET,
    Buffer.from(`alice:${SECRETS.UP_BASIC_PASS}`).toString('base64'), encodeURIComponent(SECRETS.UP_QUERY_KEY)]);
  for (const r of reqs) {
    const auth = r.headers.authorization;
    if (auth && !auth.startsWith('Basic ')) sent.add(auth.replace(/^\S+ /, ''));
    if (r.query.access_token) sent.add(r.query.access_token);
  }
  const health = await (await fetch(`${gw.base}/health`)).text();
  const logs = gw.logs();
  assert.ok(logs.includes('OAuth access token obtained'), logs);
  for (const secret of sent) {
    assert.ok(!logs.includes(secret), `the log holds a secret (${secret.slice(0, 4)}...)`);
    assert.ok(!health.includes(secret), `/health holds a secret (${secret.slice(0, 4)}...)`);
  }
});

test('a refused OAuth client fails the server with the reason, not the secret', async () => {
  const g = await startGateway(`servers:
  denied:
    url: "${recUrl}/s/denied/mcp"
    timeout: 5
    auth:
      method: oauth2
      oauth2: { token_url: "${recUrl}/token?k=denied", client_id: fake-client, client_secret_ref: "env://WRONG_SECRET" }
`, { env: { WRONG_SECRET: 'wrong-secret-31337' }, readyUpstreams: false });
  try {
    let h;
    for (let i = 0; i < 50; i++) {
      h = await (await fetch(`${g.base}/health`)).json();
      if (h.upstreams[0].last_error) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(h.upstreams[0].last_error, /HTTP 401: invalid_client/);
    const reqs = await (await fetch(`${recUrl}/_test/requests`)).json();
    assert.ok(!reqs.some((r) => r.path === '/s/denied/mcp'), 'nothing went to the upstream without a token');
    assert.ok(!g.logs().includes('wrong-secret-31337'));
    assert.ok(!JSON.stringify(h).includes('wrong-secret-31337'));
  } finally { await g.stop(); }
});

// A CA, a server certificate for 127.0.0.1 and a client certificate, made
// with the openssl command.
function makeCerts(d) {
  const ossl = (...args) => {
    const r = spawnSync('openssl', args, { cwd: d, encoding: 'utf8' });
    assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...key, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=mcpgw-test-ca');
  for (const [name, cn, ext] of [['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
    ['client', 'mcpgw-client', 'extendedKeyUsage=clientAuth\n']]) {
    writeFileSync(join(d, `${name}.ext`), ext);
    ossl('req', ...key, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

// GET url as JSON with the test client certificate (fetch cannot send one).
function httpsJson(url, certs) {
  return new Promise((resolve, reject) => {
    https.get(url, {
      ca: readFileSync(join(certs, 'ca.pem')),
      cert: readFileSync(join(certs, 'client.pem')),
      key: readFileSync(join(certs, 'client-key.pem')),
    }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

test('tls: a client certificate (mTLS) to the upstream and its token endpoint', async () => {
  const gdir = tempDir();
  const certs = join(gdir, 'certs');
  mkdirSync(certs);
  makeCerts(certs);
  const rec = await startFixture(RECORDER, ['0', '--tls', certs], 'RECORDER_URL');
  let g;
  try {
    g = await startGateway(`servers:
  mtls:
    url: "${rec.url}/s/mtls/mcp"
    tls: { cert: certs/client.pem, key: certs/client-key.pem, ca: certs/ca.pem }
    auth:
      method: oauth2
      oauth2: { token_url: "${rec.url}/token?k=mtls", client_id: fake-client, client_secret_ref: "env://FAKE_SECRET" }
  nocert:
    url: "${rec.url}/s/nocert/mcp"
    timeout: 5
    tls: { ca: certs/ca.pem }
`, { env: { FAKE_SECRET: SECRETS.FAKE_SECRET }, dir: gdir, readyUpstreams: false });
    let h;
    for (let i = 0; i < 100; i++) {
      h = await (await fetch(`${g.base}/health`)).json();
      const [m, n] = h.upstreams;
      if (m.state === 'ready' && n.last_error) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(h.upstreams[0].state, 'ready', JSON.stringify(h));
    assert.notEqual(h.upstreams[1].state, 'ready', JSON.stringify(h));
    const client = new Client({ name: 'mtls-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${g.base}/servers/mtls/mcp`)));
    try {
      const r = await client.callTool({ name: 'last_headers', arguments: {} });
      assert.match(JSON.parse(r.content[0].text).headers.authorization, /^Bearer fake-tok-\d+$/);
    } finally { await client.close(); }
    const reqs = await httpsJson(`${rec.url}/_test/requests`, certs);
    const toks = reqs.filter((r) => r.path === '/token');
    const ups = reqs.filter((r) => r.path === '/s/mtls/mcp');
    assert.ok(toks.length >= 1 && ups.length >= 1, JSON.stringify(reqs.map((r) => r.path)));
    for (const r of [...toks, ...ups]) assert.equal(r.clientCN, 'mcpgw-client');
    assert.ok(!reqs.some((r) => r.path === '/s/nocert/mcp'), 'no certificate, no request');
  } finally {
    await g?.stop();
    rec.proc.kill('SIGTERM');
  }
});

function configCheck(yaml, env = {}) {
  const d = tempDir();
  const cfg = join(d, 'mcpgw.yaml');
  writeFileSync(cfg, yaml);
  const r = spawnSync(BIN, ['config', 'check', '-c', cfg], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr, cfg };
}

test('config check: an unresolvable credential is an error naming file, line and key, never a value', () => {
  const env = { ...process.env };
  delete env.UP_NOT_SET;
  let r = configCheck('servers:\n  s:\n    url: "http://127.0.0.1:9/mcp"\n    auth:\n      method: bearer\n      credential_ref: env://UP_NOT_SET\n');
  assert.equal(r.status, 1);
  assert.ok(r.out.includes(`${r.cfg}:6: key 'servers.s.auth.credential_ref': environment variable 'UP_NOT_SET' is not set`), r.out);

  // a secret pasted where the reference goes is not echoed
  r = configCheck('servers:\n  s:\n    url: "http://127.0.0.1:9/mcp"\n    auth: { method: api_key, credential_ref: "sk-live-PASTED-SECRET" }\n');
  assert.equal(r.status, 1);
  assert.match(r.out, /:4: key 'servers\.s\.auth\.credential_ref': expected a reference such as env:\/\/VAR/);
  assert.ok(!r.out.includes('PASTED-SECRET'), r.out);

  r = configCheck('servers:\n  s:\n    url: "http://127.0.0.1:9/mcp"\n    auth: { method: api_key, credential_ref: "file:///nonexistent/key.txt" }\n');
  assert.equal(r.status, 1);
  assert.match(r.out, /:4: key 'servers\.s\.auth\.credential_ref': cannot read the credential file/);

  r = configCheck('servers:\n  s:\n    command: node\n    auth: { method: bearer, credential_ref: "env://UP_SET" }\n', { UP_SET: 'set-secret' });
  assert.equal(r.status, 1);
  assert.ok(r.out.includes(`${r.cfg}:4: key 'servers.s.auth': a stdio server has no headers: use location: env and name: (the environment variable to set)`), r.out);
  assert.ok(!r.out.includes('set-secret'));

  r = configCheck('servers:\n  s:\n    url: "http://127.0.0.1:9/mcp"\n    auth: { method: custom, credential_ref: "env://UP_SET" }\n', { UP_SET: 'set-secret' });
  assert.equal(r.status, 1);
  assert.match(r.out, /key 'servers\.s\.auth': method custom needs name:/);
  assert.ok(!r.out.includes('set-secret'));

  r = configCheck('servers:\n  s:\n    url: "http://127.0.0.1:9/mcp"\n    auth: { method: bearer, credential_ref: "env://UP_SET" }\n', { UP_SET: 'set-secret' });
  assert.equal(r.status, 0, r.out);
  assert.ok(!r.out.includes('set-secret'));
});

// stdio servers take their credential in the environment (location: env),
// formatted as the method says. Run through `mcpgw stdio` with a client API
// key in MCPGW_API_KEY: the key is the gateway's and must not reach them.
test('stdio servers: the credential in the environment, never the client key', async () => {
  const d = tempDir();
  const cfg = join(d, 'mcpgw.yaml');
  const srv = (name, auth, extra = '') => `  ${name}:\n    command: node\n    args: ["${ENV_SERVER}"]\n${extra}    auth: ${auth}\n`;
  writeFileSync(join(d, 'policy.yaml'), THREE_ROLE_POLICY);
  writeFileSync(cfg, `servers:\n${
    srv('envbearer', '{ method: bearer, location: env, name: UPSTREAM_TOKEN, credential_ref: "env://UP_API_KEY" }')
  }${srv('envbasic', '{ method: basic, location: env, name: UP_BASIC, username: alice, credential_ref: "env://UP_BASIC_PASS" }')
  }${srv('envraw', '{ method: api_key, location: env, name: SERVICE_KEY, credential_ref: "env://UP_CUSTOM" }', '    env: { OTHER: "kept" }\n')
  }${srv('envtpl', '{ method: custom, location: env, name: CUSTOM_VAR, format: template, template: "key={credential};", credential_ref: "file://' + join(dir, 'bearer.txt') + '" }')
  }auth:\n  api_keys: true\npolicy: policy.yaml\n`);
  // The CLI reads the whole config, credential references included.
  const made = spawnSync(BIN, ['apikey', 'create', '--name', 'desk', '--roles', 'admin', '-c', cfg],
    { encoding: 'utf8', env: { ...process.env, ...SECRETS } });
  const key = made.stdout.trim();
  assert.match(key, /^mcpgw_/, made.stderr);
  // UPSTREAM_TOKEN in the gateway's own environment is replaced, not inherited.
  const env = { ...process.env, ...SECRETS, MCPGW_API_KEY: key, UPSTREAM_TOKEN: 'inherited-must-not-win' };
  const client = new Client({ name: 'desktop', version: '1' });
  await client.connect(new StdioClientTransport({ command: BIN, args: ['stdio', '-c', cfg], env, stderr: 'ignore' }));
  const envOf = async (server) => {
    const r = await client.callTool({ name: `${server}__environment`, arguments: {} });
    assert.ok(!r.isError, JSON.stringify(r));
    const text = r.content[0].text;
    assert.ok(!text.includes(key), `${server} saw the client's API key`);
    const e = JSON.parse(text);
    assert.equal(e.MCPGW_API_KEY, undefined, `${server} inherited MCPGW_API_KEY`);
    return e;
  };
  try {
    assert.equal((await envOf('envbearer')).UPSTREAM_TOKEN, `Bearer ${SECRETS.UP_API_KEY}`);
    assert.equal((await envOf('envbasic')).UP_BASIC, `Basic ${Buffer.from(`alice:${SECRETS.UP_BASIC_PASS}`).toString('base64')}`);
    const raw = await envOf('envraw');
    assert.equal(raw.SERVICE_KEY, SECRETS.UP_CUSTOM);
    assert.equal(raw.OTHER, 'kept');
    assert.equal(raw.UPSTREAM_TOKEN, 'inherited-must-not-win', 'other servers inherit the environment as before');
    assert.equal((await envOf('envtpl')).CUSTOM_VAR, `key=${BEARER_SECRET};`);
  } finally { await client.close(); }
});

test('config check: location env is for stdio servers, and stdio servers take no other', () => {
  const stdio = (auth, extra = '') => `servers:\n  s:\n    command: node\n${extra}    auth: ${auth}\n`;
  const env = { UP_SET: 'set-secret' };
  const cases = [
    [stdio('{ method: api_key, location: query, credential_ref: "env://UP_SET" }'),
      ":4: key 'servers.s.auth.location': a stdio server has no headers or query string: use location: env"],
    [stdio('{ method: oauth2, location: env, name: T, oauth2: { token_url: "http://127.0.0.1:9/t", client_id: c, client_secret_ref: "env://UP_SET" } }'),
      ":4: key 'servers.s.auth.method': method oauth2 is for HTTP servers: a stdio server's environment is set once, when it starts, and cannot follow a token that expires"],
    [stdio('{ method: bearer, location: env, credential_ref: "env://UP_SET" }'),
      ":4: key 'servers.s.auth': location env needs name: (the environment variable to set)"],
    [stdio('{ method: bearer, location: env, name: "1BAD", credential_ref: "env://UP_SET" }'),
      ":4: key 'servers.s.auth': an environment variable name is letters, digits and '_', not starting with a digit"],
    [stdio('{ method: bearer, location: env, name: TOKEN, credential_ref: "env://UP_SET" }', '    env: { TOKEN: "x" }\n'),
      ":5: key 'servers.s.auth': variable 'TOKEN' is also given under env: set it one way only"],
    ['servers:\n  s:\n    url: "http://127.0.0.1:9/mcp"\n    auth: { method: bearer, location: env, name: T, credential_ref: "env://UP_SET" }\n',
      ":4: key 'servers.s.auth.location': location env is for stdio servers: send an HTTP server its credential in a header or the query"],
    [stdio('{ method: bearer, credential_ref: "env://UP_SET" }').replace('    auth:', '    tls: { ca: x.pem }\n    auth:'),
      ":4: key 'servers.s.tls': only for HTTP servers (a stdio server has no connection to secure)"],
  ];
  for (const [yaml, want] of cases) {
    const r = configCheck(yaml, env);
    assert.equal(r.status, 1, yaml);
    assert.ok(r.out.includes(`${r.cfg}${want}`), `${yaml}\n${r.out}`);
    assert.ok(!r.out.includes('set-secret'));
  }
  const ok = configCheck(stdio('{ method: bearer, location: env, name: TOKEN, credential_ref: "env://UP_SET" }'), env);
  assert.equal(ok.status, 0, ok.out);
  assert.ok(!ok.out.includes('set-secret'));
});
