// admin.listen (docs/configuration.md "admin"): the admin API on an address
// of its own, and then not on the main listener; the main listener's
// endpoints are not on the admin one. And a gateway without authentication
// never opens the admin API.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir, freePort, startGateway, writeGatewayFiles, apikeyCreate, apiKeyAuthYaml } from './lib.mjs';

let gw, open;
after(async () => { await gw?.stop(); await open?.stop(); });

test('admin.listen serves the admin API alone; the main listener no longer does', async () => {
  const dir = tempDir();
  const port = await freePort();
  const adminPort = await freePort();
  const policy = 'roles:\n  admin:\n    permissions:\n      - resource: "mcp:admin:*"\n        actions: [admin]\ndefault_policy: deny\n';
  const body = apiKeyAuthYaml(port) + `admin:\n  listen: "127.0.0.1:${adminPort}"\n`;
  const cfg = writeGatewayFiles(dir, port, body, policy);
  const key = apikeyCreate(cfg, 'root', 'admin');
  gw = await startGateway(body, { dir, port });
  const get = async (base, path, headers = {}) => {
    const r = await fetch(base + path, { headers: { authorization: `Bearer ${key}`, ...headers } });
    return { status: r.status, json: await r.json().catch(() => null) };
  };
  const admin = `http://127.0.0.1:${adminPort}`;

  const there = await get(admin, '/admin/v1/keys');
  assert.equal(there.status, 200);
  assert.deepEqual(there.json.keys.map((k) => k.name), ['root']);
  assert.equal((await get(gw.base, '/admin/v1/keys')).status, 404, 'not on the main listener');
  assert.equal((await get(admin, '/mcp')).status, 404, 'the MCP endpoint is not on the admin listener');
  assert.equal((await get(admin, '/health')).status, 404);
  assert.equal((await get(gw.base, '/health')).status, 200);
  // the same authentication: no key, 401
  const anon = await fetch(`${admin}/admin/v1/keys`);
  await anon.text();
  assert.equal(anon.status, 401);
  // a foreign Origin is refused there too, as on the main listener
  const foreign = await get(admin, '/admin/v1/keys', { origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
});

test('without authentication (auth: none) the admin API is closed: 403 in the error shape', async () => {
  open = await startGateway('auth: none\n');
  const r = await fetch(`${open.base}/admin/v1/keys`);
  const body = await r.json();
  assert.equal(r.status, 403);
  assert.equal(body.error.code, 'forbidden');
  assert.match(body.error.message, /needs authentication/);
});
