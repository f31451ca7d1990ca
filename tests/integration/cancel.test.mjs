// Cancellation: a client's notifications/cancelled reaches the upstream with
// the gateway's id for that request; a call cancelled before it was sent is
// never sent; a disconnect alone cancels nothing. The tests wait for the
// upstream to log the request ("hanging on request N") before giving up on
// it: a fixed sleep would race the upstream's start on a busy machine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, connectClient, initSession, post, rpc, tempDir, MISBEHAVE } from './lib.mjs';

let gw;
before(async () => {
  gw = await startGateway(`servers:\n  mb:\n    command: node\n    args: ["${MISBEHAVE}"]\n    timeout: 20\n`);
});
after(async () => { await gw?.stop(); });

const waitFor = async (pred, ms) => {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) return false; await new Promise((r) => setTimeout(r, 50)); }
  return true;
};
const count = (g, re) => (g.logs().match(re) || []).length;

// A 2026-07-28 tools/call of mb__hang on gateway g whose response stream
// the client closes with ctl.abort(); resolves to null once closed.
const hangModern = (g, ctl) => fetch(g.url, {
  method: 'POST', signal: ctl.signal,
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'mb__hang' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'mb__hang', arguments: {},
    _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }),
}).catch(() => null);
// The ids the upstream logged for hang requests and for cancellations.
const ids = (g, word) => [...g.logs().matchAll(new RegExp(`${word} request (\\d+)`, 'g'))].map((m) => m[1]);

test('a cancelled call is cancelled upstream, and the session goes on', async () => {
  const conn = await connectClient(gw.url);
  try {
    const ctl = new AbortController();
    const hanging = count(gw, /hanging on request/g);
    const call = conn.client.callTool({ name: 'mb__hang', arguments: {} }, undefined, { signal: ctl.signal });
    assert.ok(await waitFor(() => count(gw, /hanging on request/g) > hanging, 30000), 'the upstream got the call');
    const before = count(gw, /cancelled request/g);
    ctl.abort('user gave up');
    await assert.rejects(call);
    assert.ok(await waitFor(() => count(gw, /cancelled request \d+/g) > before, 10000),
      `upstream saw no cancellation:\n${gw.logs().slice(-2000)}`);
    assert.equal(ids(gw, 'cancelled').at(-1), ids(gw, 'hanging on').at(-1), 'the request it got is the one cancelled');
    const r = await conn.client.callTool({ name: 'mb__echo', arguments: { text: 'still here' } });
    assert.equal(r.content[0].text, 'still here');
  } finally { await conn.close(); }
});

test('a client that only disconnects does not cancel its call upstream', async () => {
  const sid = await initSession(gw.url);
  const before = (gw.logs().match(/cancelled request/g) || []).length;
  const ctl = new AbortController();
  const pending = fetch(gw.url, {
    method: 'POST', signal: ctl.signal,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'mb__slow', arguments: { ms: 800 } } }),
  }).catch(() => null);
  await new Promise((r) => setTimeout(r, 200));
  ctl.abort();
  await pending;
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal((gw.logs().match(/cancelled request/g) || []).length, before, 'no cancellation sent upstream');
  const r = await post(gw.url, { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'mb__echo', arguments: { text: 'ok' } } },
    { 'mcp-session-id': sid });
  assert.equal(r.json.result.content[0].text, 'ok');
});

test('2026-07-28: closing the response stream cancels the call upstream', async () => {
  const before = count(gw, /cancelled request/g);
  const hanging = count(gw, /hanging on request/g);
  const ctl = new AbortController();
  const pending = hangModern(gw, ctl);
  assert.ok(await waitFor(() => count(gw, /hanging on request/g) > hanging, 30000), 'the upstream got the call');
  ctl.abort();
  await pending;
  assert.ok(await waitFor(() => count(gw, /cancelled request \d+/g) > before, 10000),
    `the upstream was not told:\n${gw.logs().slice(-1500)}`);
});

// The upstream's tools/list is held (MB_HOLD_LIST) until the test opens the
// gate, so the call is certainly parked in the catalog fetch when the
// cancellation arrives.
async function gatedGateway(env = {}, more = '') {
  const gate = join(tempDir(), 'open');
  const g = await startGateway(`servers:\n  mb:\n    command: node\n    args: ["${MISBEHAVE}"]\n    timeout: 20\n` +
    `    env: { MB_HOLD_LIST: "${gate}" }\n${more}`, { env });
  return { g, gate };
}

test('a call cancelled while it waits for the tool list is never sent upstream', async () => {
  const { g, gate } = await gatedGateway();
  try {
    const sid = await initSession(g.url);
    const held = count(g, /tools\/list held/g);
    const call = rpc(g.url, sid, 3, 'tools/call', { name: 'mb__hang', arguments: {} });
    assert.ok(await waitFor(() => count(g, /tools\/list held/g) > held, 30000), 'the call waits for the tool list');
    const n = await post(g.url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'gave up' } },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
    assert.equal(n.status, 202);
    writeFileSync(gate, '');
    const { msg } = await call;
    assert.equal(msg?.error?.code, -32600, JSON.stringify(msg));
    assert.match(msg.error.message, /cancelled/);
    const r = await rpc(g.url, sid, 4, 'tools/call', { name: 'mb__echo', arguments: { text: 'next' } });
    assert.equal(r.msg?.result?.content[0].text, 'next');
    assert.doesNotMatch(g.logs(), /hanging on request/, 'the cancelled call reached the upstream');
  } finally { await g.stop(); }
});

// An answer held for its record (audit commit-before-answer; here the test
// stage holds every answer 1.5 s) ends the call's parks at once: the tool
// list it waited for arrives while its "cancelled" answer is held, and the
// call is still never sent upstream (it once was, and the gateway aborted
// at stop with the request in flight).
test('a cancelled call whose answer is held for its record is not sent when its tool list arrives', async () => {
  // the audit trail off: the test stage's hold is the only one
  const { g, gate } = await gatedGateway({ MCPGW_TEST_STAGE: 'hold=1500' }, 'audit:\n  sinks: []\n');
  try {
    const sid = await initSession(g.url);
    const held = count(g, /tools\/list held/g);
    const call = rpc(g.url, sid, 3, 'tools/call', { name: 'mb__hang', arguments: {} });
    assert.ok(await waitFor(() => count(g, /tools\/list held/g) > held, 30000), 'the call waits for the tool list');
    const n = await post(g.url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'gave up' } },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
    assert.equal(n.status, 202);
    await new Promise((res) => setTimeout(res, 200)); // its answer is held now
    writeFileSync(gate, '');
    const { msg } = await call;
    assert.equal(msg?.error?.code, -32600, JSON.stringify(msg));
    const r = await rpc(g.url, sid, 4, 'tools/call', { name: 'mb__echo', arguments: { text: 'next' } });
    assert.equal(r.msg?.result?.content[0].text, 'next');
    assert.doesNotMatch(g.logs(), /hanging on request/, 'the cancelled call reached the upstream');
  } finally { await g.stop(); }
});

// Issue 9's use-after-free: the call was freed when its stream closed while
// the catalog fetch it started still pointed at it.
test('2026-07-28: closing the stream while the call waits for the tool list', async () => {
  const { g, gate } = await gatedGateway();
  try {
    const conns = async () => (await (await fetch(`${g.base}/health`)).json()).connections;
    const held = count(g, /tools\/list held/g);
    const ctl = new AbortController();
    const pending = hangModern(g, ctl);
    assert.ok(await waitFor(() => count(g, /tools\/list held/g) > held, 30000), 'the call waits for the tool list');
    const open = await conns();
    ctl.abort();
    await pending;
    // The gateway has seen the stream close once it has let the connection go.
    let now = open;
    for (const end = Date.now() + 10000; now >= open && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 50));
      now = await conns();
    }
    assert.ok(now < open, 'the gateway saw the stream close');
    writeFileSync(gate, '');
    const r = await fetch(g.url, { method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'mb__echo' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'mb__echo', arguments: { text: 'after' },
        _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }) });
    assert.equal((await r.json()).result?.content[0].text, 'after');
    assert.doesNotMatch(g.logs(), /hanging on request/, 'the abandoned call reached the upstream');
  } finally { await g.stop(); }
});
