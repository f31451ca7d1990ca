// Bearer JWTs from a real OpenID provider (node-oidc-provider, run locally by
// tests/fixtures/oidc-idp.mjs): client-credentials access tokens with an
// audience (RFC 8707) and Keycloak-shaped role claims, validated by the
// gateway against the JWKS it discovers, mapped to roles, and decided by the
// policy. Also the refusals: another audience, expired, tampered, unknown
// key, none at all; and that unknown kids do not make it hammer the JWKS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startGateway, tempDir, freePort, post, ROOT, MISBEHAVE, buildEchoMcp, within, THREE_ROLE_POLICY, bearerClient,
} from './lib.mjs';

const IDP = join(ROOT, 'tests', 'fixtures', 'oidc-idp.mjs');
const OTHER_RESOURCE = 'http://127.0.0.1/other-service'; // the fixture's other audience

const POLICY = THREE_ROLE_POLICY;

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'oidc-raw', version: '1' } } };

let idp, issuer, gw, resource, signingKey, kid;
const tokens = {};

// ---- the IdP ----------------------------------------------------------------

function startIdp(env) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [IDP, '0', resource], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`IdP not up:\n${out}${err}`)); }, 15000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /OIDC_ISSUER=(\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ proc, issuer: m[1], logs: () => err }); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`IdP exited (${code}):\n${out}${err}`)); });
  });
}

async function tokenFor(client, res = resource) {
  const r = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client}:${client}-secret`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: res, scope: 'mcp' }),
  });
  const body = await r.json();
  return { status: r.status, body };
}

const jwksFetches = async () => (await (await fetch(`${issuer}/_test/stats`)).json()).jwks;

// ---- JWT surgery -------------------------------------------------------------

const b64u = (s) => Buffer.from(s).toString('base64url');
const parts = (jwt) => {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
};
function signJwt(header, payload, key) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`; // RS256
}

// ---- setup -------------------------------------------------------------------

before(async () => {
  const echo = await buildEchoMcp();
  const dir = tempDir('mcpgw-oidc-');
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;

  // The IdP signs with a key we made, so the test can mint tokens with the
  // real key (expired ones) as well as the IdP's own.
  kid = 'oidc-test-key-1';
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  signingKey = createPrivateKey({ key: jwk, format: 'jwk' });
  const jwksFile = join(dir, 'idp-jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  idp = await startIdp({ OIDC_JWKS_FILE: jwksFile });
  issuer = idp.issuer;

  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  const body = `servers:\n  echo:\n    command: "${echo}"\n  mb:\n    command: node\n    args: ["${MISBEHAVE}"]\n` +
    'auth:\n' +
    `  resource: "${resource}"\n` +
    '  issuers:\n' +
    `    - issuer: "${issuer}"\n` +
    '      roles_claims: ["realm_access.roles", "resource_access.mcpgw.roles"]\n' +
    'policy: policy.yaml\n';
  gw = await startGateway(body, { dir, port });

  for (const c of ['viewer-app', 'dev-app', 'admin-app']) {
    const r = await tokenFor(c);
    assert.equal(r.status, 200, `token for ${c}: ${JSON.stringify(r.body)}`);
    tokens[c] = r.body.access_token;
  }
});

after(async () => {
  try {
    await gw?.stop();
  } finally {
    idp?.proc.kill('SIGTERM');
  }
});

const clientWith = (token) => bearerClient(gw.url, token, 'oidc-test');

async function toolsOf(token) {
  const client = await clientWith(token);
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally { await client.close(); }
}

const gwLogs = () => `\n--- gateway log ---\n${gw.logs()}`;

// How many refusals the gateway logged for reason (the fixed names of
// src/auth/jwt.h: wrong_audience, expired, bad_signature, unknown_kid ...).
const refusals = (reason) => gw.logs().split('\n').filter((l) => l.includes(`bearer token refused: ${reason}`)).length;
// Logs reach us through a pipe, a little after the answer: poll briefly.
async function expectRefusals(reason, atLeast) {
  for (let i = 0; i < 40 && refusals(reason) < atLeast; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(refusals(reason) >= atLeast, `expected ${atLeast} '${reason}' refusals logged${gwLogs()}`);
}

// ---- tests -------------------------------------------------------------------

test('the IdP issues RS256 JWT access tokens for the gateway resource, with Keycloak-shaped roles', async () => {
  const { header, payload } = parts(tokens['viewer-app']);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.kid, kid);
  assert.equal(header.typ, 'at+jwt');
  assert.equal(payload.iss, issuer);
  assert.equal(payload.aud, resource);
  assert.equal(payload.sub, 'viewer-app');
  assert.deepEqual(payload.realm_access.roles, ['viewer']);
  const dev = parts(tokens['dev-app']).payload;
  assert.deepEqual(dev.realm_access.roles, [], 'developer comes only from resource_access.mcpgw.roles');
  assert.deepEqual(dev.resource_access.mcpgw.roles, ['developer']);
  // other-aud-app cannot get a token for the gateway at all.
  const refused = await tokenFor('other-aud-app');
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error, 'invalid_target');
});

test('the first call works: the gateway found the JWKS by discovery without a restart', async () => {
  const client = await clientWith(tokens['viewer-app']);
  try {
    const r = await client.callTool({ name: 'echo__echo', arguments: { text: 'hello via oidc' } });
    assert.equal(r.content[0].text, 'hello via oidc');
  } finally { await client.close(); }
  assert.ok(await jwksFetches() >= 1, 'the gateway fetched the IdP JWKS');
});

test('each role sees exactly the tools its policy allows', async () => {
  assert.deepEqual(await toolsOf(tokens['viewer-app']), ['echo__echo'], gwLogs());
  // developer: from resource_access.mcpgw.roles only; the deny rule hides hang/crash/garbage.
  assert.deepEqual(await toolsOf(tokens['dev-app']), ['echo__echo', 'mb__echo', 'mb__pid', 'mb__slow'], gwLogs());
  assert.deepEqual(await toolsOf(tokens['admin-app']),
    ['echo__echo', 'mb__crash', 'mb__echo', 'mb__garbage', 'mb__hang', 'mb__pid', 'mb__slow'], gwLogs());
});

test('a hidden or denied tool answers exactly like an unknown one (-32602)', async () => {
  for (const [who, allowed, denied] of [
    ['viewer-app', 'echo__echo', ['mb__echo', 'mb__hang']],
    ['dev-app', 'mb__echo', ['mb__hang', 'mb__crash']],
  ]) {
    const client = await clientWith(tokens[who]);
    try {
      const r = await client.callTool({ name: allowed, arguments: { text: `ok ${who}` } });
      assert.equal(r.content[0].text, `ok ${who}`);
      const errs = [];
      for (const name of [...denied, 'nosuch__tool']) {
        try { await client.callTool({ name, arguments: {} }); } catch (e) { errs.push([e.code, e.message.replace(name, 'X')]); }
      }
      assert.equal(errs.length, 3, `${who}: every denied call fails`);
      assert.deepEqual(errs[0], errs[2], `${who}: denied looks like unknown`);
      assert.deepEqual(errs[1], errs[2], `${who}: denied looks like unknown`);
      assert.equal(errs[0][0], -32602);
    } finally { await client.close(); }
  }
});

test('a session belongs to the token subject that opened it', async () => {
  const r = await post(gw.url, INIT, { authorization: `Bearer ${tokens['viewer-app']}` });
  assert.equal(r.status, 200);
  const sid = r.headers.get('mcp-session-id');
  const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
  const own = await post(gw.url, list, { authorization: `Bearer ${tokens['viewer-app']}`, 'mcp-session-id': sid });
  assert.equal(own.status, 200);
  const other = await post(gw.url, list, { authorization: `Bearer ${tokens['admin-app']}`, 'mcp-session-id': sid });
  assert.equal(other.status, 404, 'another subject is told the session does not exist');
});

test('a token for another audience: 401 invalid_token, and the SDK cannot connect', async () => {
  const r = await tokenFor('other-aud-app', OTHER_RESOURCE);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const tok = r.body.access_token;
  assert.equal(parts(tok).payload.aud, OTHER_RESOURCE);
  assert.equal(parts(tok).payload.iss, issuer, 'same issuer, same keys: only aud is wrong');
  const logged = refusals('wrong_audience');
  await assert.rejects(clientWith(tok));
  const raw = await post(gw.url, INIT, { authorization: `Bearer ${tok}` });
  assert.equal(raw.status, 401, gwLogs());
  assert.match(raw.headers.get('www-authenticate'), /^Bearer resource_metadata="[^"]+", error="invalid_token"/);
  await expectRefusals('wrong_audience', logged + 2);
});

test('an expired or tampered token: 401 invalid_token', async () => {
  const { header, payload } = parts(tokens['viewer-app']);
  const now = Math.floor(Date.now() / 1000);
  // Control: the same claims re-signed with the IdP's key are accepted, so
  // what is refused below is refused for exp and for the signature alone.
  const resigned = signJwt(header, payload, signingKey);
  assert.equal((await post(gw.url, INIT, { authorization: `Bearer ${resigned}` })).status, 200, gwLogs());

  const logged = { expired: refusals('expired'), bad_signature: refusals('bad_signature') };
  const expired = signJwt(header, { ...payload, iat: now - 7200, exp: now - 3600 }, signingKey);
  const tampered = (() => { // viewer claims admin; signature left as it was
    const [h, , s] = tokens['viewer-app'].split('.');
    return `${h}.${b64u(JSON.stringify({ ...payload, realm_access: { roles: ['admin'] } }))}.${s}`;
  })();
  const badSig = (() => { // one bit of the signature flipped
    const [h, p, s] = tokens['viewer-app'].split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[10] ^= 1;
    return `${h}.${p}.${sig.toString('base64url')}`;
  })();
  for (const [what, tok] of [['expired', expired], ['tampered claims', tampered], ['flipped signature bit', badSig]]) {
    const r = await post(gw.url, INIT, { authorization: `Bearer ${tok}` });
    assert.equal(r.status, 401, `${what}${gwLogs()}`);
    assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/, what);
    assert.doesNotMatch(r.body, /eyJ/, `${what}: no token bytes echoed`);
  }
  await assert.rejects(clientWith(expired));
  // Refused for the intended reasons: exp for the first, the signature for the others.
  await expectRefusals('expired', logged.expired + 2);
  await expectRefusals('bad_signature', logged.bad_signature + 2);
});

test('no token: 401 with resource metadata naming the IdP', async () => {
  const none = await post(gw.url, INIT);
  assert.equal(none.status, 401);
  const wa = none.headers.get('www-authenticate');
  const m = /^Bearer resource_metadata="([^"]+)"$/.exec(wa);
  assert.ok(m, wa);
  assert.equal(m[1], `${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp`);
  const meta = await (await fetch(m[1])).json();
  assert.equal(meta.resource, resource);
  assert.deepEqual(meta.authorization_servers, [issuer]);
});

test('tokens with unknown kids are refused without hammering the IdP JWKS', async () => {
  const before = await jwksFetches();
  const logged = { unknown_kid: refusals('unknown_kid'), bad_signature: refusals('bad_signature') };
  const { payload } = parts(tokens['admin-app']);
  const { privateKey: rogue } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const results = await within(Promise.all(Array.from({ length: 30 }, (_, i) => {
    const tok = signJwt({ alg: 'RS256', typ: 'at+jwt', kid: `unknown-kid-${i}` }, payload, rogue);
    return post(gw.url, INIT, { authorization: `Bearer ${tok}` });
  })), 15000, 'unknown-kid requests');
  for (const r of results) {
    assert.equal(r.status, 401, gwLogs());
    assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/);
  }
  // A key of the right kid but the wrong key material: a bad signature.
  const forged = signJwt({ alg: 'RS256', typ: 'at+jwt', kid }, payload, rogue);
  assert.equal((await post(gw.url, INIT, { authorization: `Bearer ${forged}` })).status, 401);
  await expectRefusals('unknown_kid', logged.unknown_kid + 30);
  await expectRefusals('bad_signature', logged.bad_signature + 1);
  const after = await jwksFetches();
  assert.ok(after - before <= 1, `JWKS fetched ${after - before} times for 31 bad tokens (at most once per interval)`);
  // And the real tokens still work.
  assert.deepEqual(await toolsOf(tokens['viewer-app']), ['echo__echo']);
});

test('required_scopes: a valid token without the scope gets 403 insufficient_scope', async () => {
  const echo = await buildEchoMcp();
  const dir = tempDir('mcpgw-scope-');
  const port = await freePort();
  const res = resource; // the audience the IdP issues tokens for
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  const body = `servers:\n  echo:\n    command: "${echo}"\n` +
    `auth:\n  resource: "${res}"\n  required_scopes: ["mcp"]\n  issuers:\n    - issuer: "${issuer}"\n` +
    '      roles_claims: ["realm_access.roles"]\npolicy: policy.yaml\n';
  const gw2 = await startGateway(body, { dir, port });
  try {
    const real = await tokenFor('viewer-app', res);
    assert.equal(real.status, 200);
    const { header, payload } = parts(real.body.access_token);
    assert.match(payload.scope ?? '', /\bmcp\b/, 'the IdP grants scope mcp');
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const ok = await post(`${gw2.base}/mcp`, init, { authorization: `Bearer ${real.body.access_token}` });
    assert.equal(ok.status, 200);
    const { scope, ...noScope } = payload;
    const without = signJwt(header, noScope, signingKey);
    const r = await post(`${gw2.base}/mcp`, init, { authorization: `Bearer ${without}` });
    assert.equal(r.status, 403);
    const h = r.headers.get('www-authenticate');
    assert.match(h, /error="insufficient_scope"/);
    assert.match(h, /scope="mcp"/);
    assert.match(h, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
  } finally { await gw2.stop(); }
});

test('each kind of bad token is refused with 401 invalid_token, and logged with its reason', async () => {
  const { header, payload } = parts(tokens['viewer-app']);
  const now = Math.floor(Date.now() / 1000);
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  const pubPem = createPublicKey(signingKey).export({ type: 'spki', format: 'pem' });
  const hsWithRsaKey = (() => {
    const h = { ...header, alg: 'HS256' };
    const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(payload))}`;
    return `${input}.${createHmac('sha256', pubPem).update(input).digest('base64url')}`;
  })();
  const cases = [
    ['wrong issuer', signJwt(header, { ...payload, iss: 'http://127.0.0.1:1/evil' }, signingKey), 'wrong_issuer'],
    ['not yet valid', signJwt(header, { ...payload, nbf: now + 3600 }, signingKey), 'not_yet_valid'],
    ['alg none', `${b64u(JSON.stringify({ ...header, alg: 'none' }))}.${b64u(JSON.stringify(payload))}.`, 'alg_not_allowed'],
    ['HS256 signed with the RSA public key', hsWithRsaKey, 'alg_not_allowed'],
    ['malformed', 'not.a.jwt', 'malformed'],
  ];
  for (const [what, token, reason] of cases) {
    const before = refusals(reason);
    const r = await post(gw.url, init, { authorization: `Bearer ${token}` });
    assert.equal(r.status, 401, what);
    assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/, what);
    await expectRefusals(reason, before + 1);
  }
  const huge = await post(gw.url, init, { authorization: `Bearer ${'a'.repeat(9000)}` });
  assert.equal(huge.status, 401, 'a token over 8 KiB');
});

test('a token issued for one endpoint is refused at the others', async () => {
  const { header, payload } = parts(tokens['viewer-app']);
  const origin = new URL(resource).origin;
  const forEcho = signJwt(header, { ...payload, aud: `${origin}/servers/echo/mcp` }, signingKey);
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  const auth = { authorization: `Bearer ${forEcho}` };
  assert.equal((await post(`${gw.base}/servers/echo/mcp`, init, auth)).status, 200, 'its own endpoint');
  assert.equal((await post(`${gw.base}/servers/mb/mcp`, init, auth)).status, 401, 'another server endpoint');
  assert.equal((await post(gw.url, init, auth)).status, 401, 'the all-servers endpoint');
  const whole = { authorization: `Bearer ${tokens['viewer-app']}` }; // aud = the gateway as a whole
  assert.equal((await post(`${gw.base}/servers/mb/mcp`, init, whole)).status, 200, 'a gateway-wide token works everywhere');
});
