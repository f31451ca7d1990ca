// Streams: 2025-03-26 batches, SSE answers with priming events, and
// resumption of a broken POST stream with GET + Last-Event-ID.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, post, initSession, EVERYTHING } from './lib.mjs';

let gw;
before(async () => {
  gw = await startGateway(`servers:\n  everything:\n    command: node\n    args: ["${EVERYTHING}", "stdio"]\n`);
});
after(async () => { await gw?.stop(); });

const H = (sid, proto) => ({ 'mcp-session-id': sid, 'mcp-protocol-version': proto });

test('a 2025-03-26 batch gets one JSON array with an answer per request', async () => {
  const sid = await initSession(gw.url, '2025-03-26');
  const r = await post(gw.url, [
    { jsonrpc: '2.0', id: 'a', method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
    { jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'in a batch' } } },
    { jsonrpc: '1.0', id: 'c', method: 'ping' },
  ], H(sid, '2025-03-26'));
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.json), r.body);
  const byId = Object.fromEntries(r.json.map((m) => [m.id, m]));
  assert.deepEqual(byId.a.result, {});
  assert.match(byId.b.result.content[0].text, /in a batch/);
  assert.equal(byId.c.error.code, -32600);
  assert.equal(r.json.length, 3);
});

test('initialize inside a batch is refused for that element only', async () => {
  const sid = await initSession(gw.url, '2025-03-26');
  const r = await post(gw.url, [
    { jsonrpc: '2.0', id: 'i', method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } } },
    { jsonrpc: '2.0', id: 'p', method: 'ping' },
  ], H(sid, '2025-03-26'));
  assert.equal(r.status, 200);
  const byId = Object.fromEntries(r.json.map((m) => [m.id, m]));
  assert.equal(byId.i.error.code, -32600);
  assert.match(byId.i.error.message, /batch/);
  assert.deepEqual(byId.p.result, {});
});

test('a batch of notifications only is accepted with 202', async () => {
  const sid = await initSession(gw.url, '2025-03-26');
  const r = await post(gw.url, [{ jsonrpc: '2.0', method: 'notifications/initialized' }], H(sid, '2025-03-26'));
  assert.equal(r.status, 202);
  assert.equal(r.body, '');
});

test('batches are refused after 2025-03-26 (400, -32600)', async () => {
  const sid = await initSession(gw.url, '2025-06-18');
  const r = await post(gw.url, [{ jsonrpc: '2.0', id: 1, method: 'ping' }], H(sid, '2025-06-18'));
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, -32600);
  assert.match(r.json.error.message, /batch/i);
});

// Read SSE events from a fetch body until pred(events) holds; returns events.
async function readEvents(res, pred, ms = 15000) {
  const dec = new TextDecoder();
  const reader = res.body.getReader();
  const events = [];
  let buf = '';
  const deadline = Date.now() + ms;
  while (!pred(events)) {
    if (Date.now() > deadline) throw new Error(`timed out; events so far: ${JSON.stringify(events)}`);
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      const ev = { id: null, data: null };
      for (const line of block.split('\n')) {
        if (line.startsWith('id:')) ev.id = line.slice(3).trim();
        if (line.startsWith('data:')) ev.data = line.slice(5).trim();
      }
      events.push(ev);
    }
  }
  return { events, reader };
}

test('a broken POST stream resumes with GET + Last-Event-ID, that stream only', async () => {
  const proto = '2025-11-25';
  const sid = await initSession(gw.url, proto);
  const ctl = new AbortController();
  const res = await fetch(gw.url, {
    method: 'POST', signal: ctl.signal,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...H(sid, proto) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'tools/call',
      params: { name: 'everything__trigger-long-running-operation', arguments: { duration: 2, steps: 4 }, _meta: { progressToken: 'tok' } } }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  // The priming event (an id and empty data) comes first, then progress.
  const { events, reader } = await readEvents(res, (ev) => ev.some((e) => e.data && e.data.includes('progress')));
  assert.equal(events[0].data, '');
  assert.ok(events[0].id, 'priming event has an id');
  const last = events[events.length - 1];
  const first = JSON.parse(last.data);
  assert.equal(first.params.progressToken, 'tok');
  await reader.cancel(); ctl.abort();

  const resumed = await fetch(gw.url, { headers: { accept: 'text/event-stream', 'last-event-id': last.id, ...H(sid, proto) } });
  assert.equal(resumed.status, 200);
  const got = await readEvents(resumed, (ev) => ev.some((e) => e.data && e.data.includes('"id":42')));
  const msgs = got.events.filter((e) => e.data).map((e) => JSON.parse(e.data));
  const progress = msgs.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progress);
  assert.ok(progress.every((p) => p > first.params.progress), `only later events replayed: ${progress}`);
  const answer = msgs.find((m) => m.id === 42);
  assert.match(answer.result.content[0].text, /completed/i);
  await got.reader.cancel();
});

test('Last-Event-ID of no stream of this session is refused', async () => {
  const sid = await initSession(gw.url, '2025-11-25');
  const r = await fetch(gw.url, { headers: { accept: 'text/event-stream', 'last-event-id': '999_1', ...H(sid, '2025-11-25') } });
  assert.equal(r.status, 404);
  await r.text();
});

test('a malformed Last-Event-ID is refused (404), not read as a number', async () => {
  const sid = await initSession(gw.url, '2025-11-25');
  for (const leid of ['garbage', '1_2x', '_5', '1-2']) {
    const r = await fetch(gw.url, { headers: { accept: 'text/event-stream', 'last-event-id': leid, ...H(sid, '2025-11-25') } });
    assert.equal(r.status, 404, leid);
    const json = await r.json();
    assert.equal(json.error?.code, -32000);
    assert.equal(json.error.message, 'Bad Last-Event-ID: no such stream in this session');
  }
});

test('a second GET stream on one session is refused with 409; the first stays open', async () => {
  const sid = await initSession(gw.url, '2025-06-18');
  const ctl = new AbortController();
  const first = await fetch(gw.url, { signal: ctl.signal, headers: { accept: 'text/event-stream', ...H(sid, '2025-06-18') } });
  assert.equal(first.status, 200);
  assert.match(first.headers.get('content-type'), /text\/event-stream/);
  const second = await fetch(gw.url, { headers: { accept: 'text/event-stream', ...H(sid, '2025-06-18') } });
  assert.equal(second.status, 409);
  assert.match((await second.json()).error.message, /^Conflict: only one GET stream is allowed per session$/);
  // The session still answers.
  const ok = await post(gw.url, { jsonrpc: '2.0', id: 5, method: 'ping' }, H(sid, '2025-06-18'));
  assert.equal(ok.status, 200);
  ctl.abort();
  await first.body?.cancel().catch(() => {});
});
