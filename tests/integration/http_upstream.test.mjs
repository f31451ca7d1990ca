// A Streamable HTTP upstream (server-everything in streamableHttp mode)
// behind the gateway: listing, calling, and a sampling request relayed from
// the upstream's response stream to the right client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startGateway, freePort, EVERYTHING, ROOT } from './lib.mjs';

let upstream, gw, upPort;

before(async () => {
  upPort = await freePort();
  upstream = spawn('node', ['-r', join(ROOT, 'tests/fixtures/loopback-only.cjs'), EVERYTHING, 'streamableHttp'],
    { env: { ...process.env, PORT: String(upPort) }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('upstream did not start')), 20000);
    upstream.stderr.on('data', (d) => { if (/listening/i.test(d.toString())) { clearTimeout(t); res(); } });
  });
  gw = await startGateway(`servers:\n  remote:\n    url: "http://127.0.0.1:${upPort}/mcp"\n    timeout: 20\n`);
});

after(async () => {
  try { await gw?.stop(); } finally { upstream?.kill('SIGTERM'); }
});

async function connect(caps = {}) {
  const client = new Client({ name: 'http-upstream-test', version: '1' }, { capabilities: caps });
  await client.connect(new StreamableHTTPClientTransport(new URL(gw.url)));
  return client;
}

test('tools of an HTTP upstream are listed with its prefix and can be called', async () => {
  const client = await connect();
  try {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('remote__echo'), names.join(','));
    const r = await client.callTool({ name: 'remote__echo', arguments: { message: 'over http' } });
    assert.match(r.content[0].text, /over http/);
  } finally { await client.close(); }
});

test('a sampling request from an HTTP upstream reaches the calling client', async () => {
  const client = await connect({ sampling: {} });
  let asked = null;
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    asked = req.params;
    return { role: 'assistant', content: { type: 'text', text: 'sampled-via-gateway' }, model: 'test-model', stopReason: 'endTurn' };
  });
  try {
    const r = await client.callTool({ name: 'remote__trigger-sampling-request', arguments: { prompt: 'hello?', maxTokens: 20 } });
    assert.ok(asked, 'the client was asked to sample');
    assert.match(JSON.stringify(r.content), /sampled-via-gateway/);
  } finally { await client.close(); }
});

test('two sessions calling at once each get their own answer', async () => {
  const a = await connect();
  const b = await connect();
  try {
    const [ra, rb] = await Promise.all([
      a.callTool({ name: 'remote__echo', arguments: { message: 'a' } }),
      b.callTool({ name: 'remote__echo', arguments: { message: 'b' } }),
    ]);
    assert.match(ra.content[0].text, /a$/);
    assert.match(rb.content[0].text, /b$/);
  } finally { await a.close(); await b.close(); }
});
