// resources/read of URIs with dot segments and percent escapes: the policy
// (and a virtual server's resource globs) decide on the URI both as written
// and normalised (RFC 3986), so nothing leaves the pattern it matched as
// written; a URI an upstream could decode into another path is refused.
// Every refusal answers exactly as a resource that does not exist. The
// upstream (fixtures/file-resources.mjs) decodes and resolves whatever it
// gets, so a refusal the gateway missed would read the secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startGateway, tempDir, freePort, connectClient, rpcError, apikeyCreate, writeGatewayFiles,
  bearerClient, apiKeyAuthYaml, withGatewayLog, ROOT,
} from './lib.mjs';

const FILES = join(ROOT, 'tests', 'fixtures', 'file-resources.mjs');
let root, authGw, openGw;
const closers = [];

// Escaping the data directory, each in its own way.
const ESCAPES = [
  'data/../secret.txt', 'data/sub/../../secret.txt', 'data/./../secret.txt',
  'data/%2e%2e/secret.txt', 'data/%2E%2E/secret.txt', 'data/.%2e/secret.txt', 'data/%2e./secret.txt',
  'data/..%2fsecret.txt', 'data/..%2Fsecret.txt', 'data%2f..%2fsecret.txt', 'data/..%5csecret.txt',
  'data/%252e%252e/secret.txt', 'data/%25252e%25252e/secret.txt', 'data/%252e%252e%252fsecret.txt',
  'data/%c0%ae%c0%ae/secret.txt', 'data/a.txt%00/../../secret.txt',
  // a NUL must not cut short the URI the policy sees
  'data/a.txt\u0000/../../secret.txt',
];
const uri = (rel) => `file://${root}/${rel}`;

function servers() {
  return `servers:\n  files:\n    command: node\n    args: [${JSON.stringify(FILES)}, ${JSON.stringify(join(root, 'data'))}]\n`;
}

before(async () => {
  root = tempDir('mcpgw-res-');
  mkdirSync(join(root, 'data', 'sub'), { recursive: true });
  writeFileSync(join(root, 'data', 'a.txt'), 'public');
  writeFileSync(join(root, 'secret.txt'), 'TOP SECRET');
  const dir = tempDir();
  const port = await freePort();
  const body = servers() + apiKeyAuthYaml(port);
  const policy = `roles:\n  reader:\n    permissions:\n      - resource: ${JSON.stringify(`mcp:files:file://${root}/data/*`)}\n` +
    '        actions: [read_resource]\ndefault_policy: deny\n';
  const cfg = writeGatewayFiles(dir, port, body, policy);
  const key = apikeyCreate(cfg, 'reader', 'reader');
  authGw = await startGateway(body, { dir, port });
  const c = await bearerClient(authGw.url, key, 'res-test');
  closers.push(() => c.close());
  authGw.client = c;
  // No authentication: the virtual server's resource glob is the pattern.
  openGw = await startGateway(`${servers()}virtual_servers:\n  data-only:\n    resources: [${JSON.stringify(`file://${root}/data/*`)}]\n`);
  for (const path of ['/servers/data-only/mcp', '/mcp']) {
    const { client, close } = await connectClient(`${openGw.base}${path}`);
    closers.push(close);
    openGw[path] = client;
  }
});

after(async () => {
  for (const close of closers) await close().catch(() => {});
  await authGw?.stop();
  await openGw?.stop();
});

const read = (client, u) => client.readResource({ uri: u });
const textOf = (r) => r.contents.map((x) => x.text).join('');

// Reading u answers exactly as the resource nobody has (`missing`, refused by
// the gateway itself): the same code, message and data but for the URI.
async function assertNotFound(client, u, missing) {
  const want = await rpcError(() => read(client, missing));
  assert.equal(want.code, -32002, want.message);
  const got = await rpcError(() => read(client, u));
  assert.equal(got.code, want.code, `${u}: ${got.message}`);
  assert.equal(got.message, want.message, u);
  assert.deepEqual(got.data, { uri: u }, u);
  assert.deepEqual(want.data, { uri: missing });
}

const T = { timeout: 60000 };

test('policy allows only file://<root>/data/*: inside reads, every escape is "not found"', T,
  withGatewayLog(async () => {
    const c = authGw.client;
    assert.equal(textOf(await read(c, uri('data/a.txt'))), 'public');
    // Dot segments that stay inside the pattern are fine.
    assert.equal(textOf(await read(c, uri('data/sub/../a.txt'))), 'public');
    assert.equal(textOf(await read(c, uri('data/./%61.txt'))), 'public');
    for (const rel of ESCAPES) await assertNotFound(c, uri(rel), uri('secret.txt'));
    // The read of the secret as written is refused the same way.
    await assertNotFound(c, uri('other.txt'), uri('secret.txt'));
  }, () => authGw));

test('no authentication, virtual server with a resource glob: the same refusals', T,
  withGatewayLog(async () => {
    const c = openGw['/servers/data-only/mcp'];
    assert.equal(textOf(await read(c, uri('data/a.txt'))), 'public');
    assert.equal(textOf(await read(c, uri('data/sub/../a.txt'))), 'public');
    for (const rel of ESCAPES) await assertNotFound(c, uri(rel), uri('secret.txt'));
  }, () => openGw));

test('no authentication, no pattern: a URI with no safe normal form is still refused', T,
  withGatewayLog(async () => {
    const c = openGw['/mcp'];
    assert.equal(textOf(await read(c, uri('data/a.txt'))), 'public');
    // What could change the path once decoded has no owner to send it to.
    for (const rel of ['data/..%2fsecret.txt', 'data/%252e%252e/secret.txt', 'data/..%5csecret.txt',
      'data/%c0%ae%c0%ae/secret.txt', 'data/%zz']) await assertNotFound(c, uri(rel), uri('data/missing.txt'));
  }, () => openGw));
