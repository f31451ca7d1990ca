// A modern-only upstream (protocol 2026-07-28, built on the official v2
// server package) behind the gateway: session-era clients (SDK v1) use it,
// and its input_required rounds become elicitation and sampling requests to
// the client; a v2 client reaches it too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ElicitRequestSchema, CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { startGateway, connectClient, ROOT } from './lib.mjs';

let upstream, gw;
before(async () => {
  upstream = spawn('node', [join(ROOT, 'tests/fixtures/modern-server.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('modern fixture did not start')), 15000);
    upstream.stdout.on('data', (d) => { const m = /MCP_FIXTURE_URL=(\S+)/.exec(d.toString()); if (m) { clearTimeout(t); res(m[1]); } });
  });
  gw = await startGateway(`servers:\n  modern:\n    url: "${url}"\n    protocol: "2026-07-28"\n    timeout: 20\n`);
});
after(async () => {
  try { await gw?.stop(); } finally { upstream?.kill('SIGTERM'); }
});

test('a session-era client lists and calls tools of a modern-only server', async () => {
  const conn = await connectClient(gw.url);
  try {
    const { tools } = await conn.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['modern__ask', 'modern__echo', 'modern__loop', 'modern__slow']);
    const r = await conn.client.callTool({ name: 'modern__echo', arguments: { text: 'hello' } });
    assert.equal(r.content[0].text, 'echo: hello');
  } finally { await conn.close(); }
});

test('input_required rounds of a modern server become elicitation and sampling requests to an SDK v1 client', async () => {
  const asked = [];
  const conn = await connectClient(gw.url, {
    capabilities: { elicitation: {}, sampling: {} },
    handlers: { requests: [
      [ElicitRequestSchema, async (req) => { asked.push('elicit'); assert.match(req.params.message, /name/); return { action: 'accept', content: { name: 'Grace' } }; }],
      [CreateMessageRequestSchema, async (req) => { asked.push('sample'); assert.match(JSON.stringify(req.params.messages), /Greet Grace/); return { role: 'assistant', content: { type: 'text', text: 'Hello Grace!' }, model: 'm', stopReason: 'endTurn' }; }],
    ] },
  });
  try {
    const r = await conn.client.callTool({ name: 'modern__ask', arguments: {} });
    assert.deepEqual(asked, ['elicit', 'sample']);
    assert.equal(r.content[0].text, 'name=Grace model=Hello Grace!');
  } finally { await conn.close(); }
});

test('a client that cannot answer the input request gets an error naming what is missing', async () => {
  const conn = await connectClient(gw.url);
  try {
    await assert.rejects(conn.client.callTool({ name: 'modern__ask', arguments: {} }), /elicitation\/create/);
  } finally { await conn.close(); }
});

test('progress from a modern server reaches a session-era client with its own token', async () => {
  const conn = await connectClient(gw.url);
  const seen = [];
  try {
    const r = await conn.client.callTool({ name: 'modern__slow', arguments: {} }, undefined, { onprogress: (p) => seen.push(p.progress) });
    assert.equal(r.content[0].text, 'slow done');
    assert.deepEqual(seen, [1, 2, 3]);
  } finally { await conn.close(); }
});

test('a v2 client reaches the modern server through the gateway, input rounds passed through', async () => {
  const client = new ClientV2({ name: 'v2', version: '1' }, { capabilities: { elicitation: { form: {} }, sampling: {} },
    versionNegotiation: { mode: { pin: '2026-07-28' } } });
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Ada' } }));
  client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', content: { type: 'text', text: 'Hi Ada' }, model: 'm', stopReason: 'endTurn' }));
  await client.connect(new TransportV2(new URL(gw.url)));
  try {
    const r = await client.callTool({ name: 'modern__ask', arguments: {} });
    assert.equal(r.content[0].text, 'name=Ada model=Hi Ada');
  } finally { await client.close(); }
});

test('an input_required loop that never ends is cut after a bounded number of rounds', async () => {
  let rounds = 0;
  const conn = await connectClient(gw.url, {
    capabilities: { elicitation: {} },
    handlers: { requests: [[ElicitRequestSchema, async () => { rounds++; return { action: 'accept', content: { ok: true } }; }]] },
  });
  try {
    await assert.rejects(conn.client.callTool({ name: 'modern__loop', arguments: {} }), /too many input_required rounds/);
    assert.equal(rounds, 16);
  } finally { await conn.close(); }
});

test('a client that cancels while the gateway asks it for input (a bridge round) ends the call; its late answer is ignored', async () => {
  const ctl = new AbortController();
  let asked = 0;
  const conn = await connectClient(gw.url, {
    capabilities: { elicitation: {} },
    handlers: { requests: [
      [ElicitRequestSchema, async () => {
        asked++;
        ctl.abort('gave up'); // the call is cancelled while the gateway waits for this answer ...
        await new Promise((r) => setTimeout(r, 300));
        return { action: 'accept', content: { name: 'Late' } }; // ... which then comes anyway
      }],
    ] },
  });
  try {
    await assert.rejects(conn.client.callTool({ name: 'modern__ask', arguments: {} }, undefined, { signal: ctl.signal }));
    await new Promise((r) => setTimeout(r, 600)); // the late answer reaches the gateway
    assert.equal(asked, 1);
    assert.equal(gw.proc.exitCode, null, gw.logs().slice(-2000));
    const r = await conn.client.callTool({ name: 'modern__echo', arguments: { text: 'after' } });
    assert.equal(r.content[0].text, 'echo: after');
  } finally { await conn.close(); }
});
