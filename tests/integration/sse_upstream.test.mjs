// A legacy HTTP+SSE upstream (server-everything in "sse" mode: GET /sse,
// POSTs to the endpoint it names) behind the gateway, driven by the official
// SDK v1 client through /mcp: listing, calling, concurrent sessions, and the
// session's endpoint kept out of the gateway's log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startGateway, connectClient, freePort, EVERYTHING, ROOT } from './lib.mjs';

const T = { timeout: 30000 };
let upstream, gw, upPort;

before(async () => {
  upPort = await freePort();
  upstream = spawn('node', ['-r', join(ROOT, 'tests/fixtures/loopback-only.cjs'), EVERYTHING, 'sse'],
    { env: { ...process.env, PORT: String(upPort) }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('upstream did not start')), 20000);
    upstream.on('exit', (code) => { clearTimeout(t); rej(new Error(`upstream exited (${code})`)); });
    upstream.stderr.on('data', (d) => { if (/running on port/i.test(d.toString())) { clearTimeout(t); res(); } });
  });
  gw = await startGateway(`servers:
  legacy:
    url: "http://127.0.0.1:${upPort}/sse"
    transport: sse
    timeout: 20
`);
});

after(async () => {
  try { await gw?.stop(); } finally { upstream?.kill('SIGTERM'); }
});

test('tools of a legacy SSE upstream are listed with its prefix and can be called', T, async () => {
  const { client, close } = await connectClient(gw.url, { name: 'sse-upstream-test' });
  try {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('legacy__echo'), names.join(','));
    const r = await client.callTool({ name: 'legacy__echo', arguments: { message: 'over legacy sse' } });
    assert.equal(r.content[0].text, 'Echo: over legacy sse');
  } finally { await close(); }
});

test('two sessions calling at once each get their own answer', T, async () => {
  const a = await connectClient(gw.url, { name: 'sse-a' });
  const b = await connectClient(gw.url, { name: 'sse-b' });
  try {
    const calls = [];
    for (let i = 0; i < 5; i++) {
      calls.push(a.client.callTool({ name: 'legacy__echo', arguments: { message: `a${i}` } }));
      calls.push(b.client.callTool({ name: 'legacy__echo', arguments: { message: `b${i}` } }));
    }
    const got = (await Promise.all(calls)).map((r) => r.content[0].text);
    for (let i = 0; i < 5; i++) {
      assert.equal(got[2 * i], `Echo: a${i}`);
      assert.equal(got[2 * i + 1], `Echo: b${i}`);
    }
  } finally { await a.close(); await b.close(); }
});

test('the gateway logs the legacy session, never its endpoint URL', T, async () => {
  const log = gw.logs();
  assert.match(log, /server 'legacy': legacy SSE session established/);
  assert.doesNotMatch(log, /sessionId=/);
});
