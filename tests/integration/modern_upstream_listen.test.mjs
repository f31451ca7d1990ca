// The gateway's own subscriptions/listen stream to a 2026-07-28 upstream:
// one per server, shared by every client. A list change the server
// publishes there invalidates the gateway's lists and reaches session-era
// clients (SDK v1, notifications/tools/list_changed) and 2026 listeners
// (SDK v2 client.listen) alike. The upstream's lists are cached for 10
// minutes (--list-ttl), so only the notification can make the new tool seen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { startGateway, connectClient, ROOT } from './lib.mjs';

let upstream, upstreamUrl, gw;
// Start the fixture (port 0: any) and resolve its URL.
async function startUpstream(port = 0) {
  upstream = spawn('node', [join(ROOT, 'tests/fixtures/conformance-server-2026.mjs'), '--list-ttl', '600000',
    '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('modern fixture did not start')), 15000);
    upstream.stdout.on('data', (d) => { const m = /MCP_FIXTURE_URL=(\S+)/.exec(d.toString()); if (m) { clearTimeout(t); res(m[1]); } });
  });
}
before(async () => {
  const url = upstreamUrl = await startUpstream();
  gw = await startGateway(`servers:\n  conf26:\n    url: "${url}"\n    protocol: "2026-07-28"\n    timeout: 20\n`);
});
after(async () => {
  try { await gw?.stop(); } finally { upstream?.kill('SIGTERM'); }
});

// Resolves on the next call of the returned handler (or rejects after ms).
function nextCall(ms = 10000) {
  let hit;
  const p = new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('no notification in time')), ms);
    hit = (n) => { clearTimeout(t); res(n); };
  });
  return { p, handler: async (n) => hit(n) };
}

const toolNames = async (client) => (await client.listTools()).tools.map((t) => t.name);

test('a tool list change of a 2026 upstream reaches an SDK v1 client, which then sees the new tool', async () => {
  const seen = nextCall();
  const conn = await connectClient(gw.url, { handlers: { notifications: [[ToolListChangedNotificationSchema, seen.handler]] } });
  try {
    const before = await toolNames(conn.client);
    assert.ok(!before.includes('conf26__test_dynamic_tool'));
    await conn.client.callTool({ name: 'conf26__test_trigger_tool_change', arguments: {} });
    const n = await seen.p;
    assert.equal(n.method, 'notifications/tools/list_changed');
    assert.ok((await toolNames(conn.client)).includes('conf26__test_dynamic_tool'),
      'the list was fetched again despite its 10-minute ttlMs');
  } finally { await conn.close(); }
});

test('a 2026 client listening through the gateway hears the same upstream change', async () => {
  const client = new ClientV2({ name: 'v2-listen', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new TransportV2(new URL(gw.url)));
  const seen = nextCall();
  client.setNotificationHandler('notifications/tools/list_changed', seen.handler);
  const sub = await client.listen({ toolsListChanged: true });
  const v1 = await connectClient(gw.url);
  try {
    const had = (await toolNames(client)).includes('conf26__test_dynamic_tool');
    // Another client (of the other era) changes the list: the listener is told.
    await v1.client.callTool({ name: 'conf26__test_trigger_tool_change', arguments: {} });
    await seen.p;
    assert.equal((await toolNames(client)).includes('conf26__test_dynamic_tool'), !had);
  } finally {
    await v1.close();
    await sub.close();
    await client.close();
  }
});

test('the listen stream is opened again after the upstream restarts', async () => {
  const port = new URL(upstreamUrl).port;
  upstream.kill('SIGTERM');
  await new Promise((r) => upstream.once('exit', r));
  await startUpstream(port);
  const conn = await connectClient(gw.url);
  try {
    // The new process starts without the dynamic tool; the gateway may
    // still list the old one until it hears of a change.
    for (let i = 0; ; i++) {
      const seen = nextCall(2000);
      conn.client.setNotificationHandler(ToolListChangedNotificationSchema, seen.handler);
      await conn.client.callTool({ name: 'conf26__test_trigger_tool_change', arguments: {} });
      try { await seen.p; break; } catch (e) { if (i >= 10) throw e; }
    }
  } finally { await conn.close(); }
});
