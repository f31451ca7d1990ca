// Cancellation: a client's notifications/cancelled reaches the upstream with
// the gateway's id for that request; a disconnect alone cancels nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, connectClient, initSession, post, MISBEHAVE } from './lib.mjs';

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

test('a cancelled call is cancelled upstream, and the session goes on', async () => {
  const conn = await connectClient(gw.url);
  try {
    const ctl = new AbortController();
    const call = conn.client.callTool({ name: 'mb__hang', arguments: {} }, undefined, { signal: ctl.signal });
    await new Promise((r) => setTimeout(r, 300));
    const before = (gw.logs().match(/cancelled request/g) || []).length;
    ctl.abort('user gave up');
    await assert.rejects(call);
    assert.ok(await waitFor(() => (gw.logs().match(/cancelled request \d+/g) || []).length > before, 3000),
      `upstream saw no cancellation:\n${gw.logs().slice(-2000)}`);
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
  const before = (gw.logs().match(/cancelled request/g) || []).length;
  const ctl = new AbortController();
  const pending = fetch(gw.url, {
    method: 'POST', signal: ctl.signal,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'mb__hang' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'mb__hang', arguments: {},
      _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }),
  }).catch(() => null);
  await new Promise((r) => setTimeout(r, 400));
  ctl.abort();
  await pending;
  assert.ok(await waitFor(() => (gw.logs().match(/cancelled request \d+/g) || []).length > before, 3000),
    `the upstream was not told:\n${gw.logs().slice(-1500)}`);
});
