// subscriptions/listen (2026-07-28): the acknowledgement comes first, list
// changes of a 2025-era upstream reach the listeners that asked for them
// (tagged with the subscription id), and no others; resourceSubscriptions
// become resources/subscribe upstream (and unsubscribe when the last
// listener of a URI goes), and updates reach the listeners of that URI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startGateway, ROOT } from './lib.mjs';

const FIXTURE = join(ROOT, 'tests/fixtures/conformance-server.mjs');
const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
let gw;
before(async () => { gw = await startGateway(`servers:\n  conf:\n    command: node\n    args: ["${FIXTURE}"]\n`); });
after(async () => { await gw?.stop(); });

const headers = (method, name) => ({ 'content-type': 'application/json', accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) });

// Open a listen stream; returns { next(ms) -> message|null, close() }.
async function listen(id, notifications) {
  const ctl = new AbortController();
  const r = await fetch(gw.url, { method: 'POST', signal: ctl.signal, headers: headers('subscriptions/listen'),
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { notifications, _meta: ENVELOPE } }) });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const queue = [];
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const data = buf.slice(0, i).split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('');
          buf = buf.slice(i + 2);
          if (data.trim()) queue.push(JSON.parse(data));
        }
      }
    } catch { /* aborted */ }
  })();
  return {
    async next(ms = 3000) {
      const end = Date.now() + ms;
      while (!queue.length && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
      return queue.shift() ?? null;
    },
    close() { ctl.abort(); return pump; },
  };
}

async function call(name) {
  const r = await fetch(gw.url, { method: 'POST', headers: headers('tools/call', name),
    body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name, arguments: {}, _meta: ENVELOPE } }) });
  return r.json();
}

test('discover advertises list changes, and listen acknowledges first', async () => {
  const d = await fetch(gw.url, { method: 'POST', headers: headers('server/discover'),
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: ENVELOPE } }) }).then((r) => r.json());
  assert.equal(d.result.capabilities.tools.listChanged, true);
  assert.deepEqual(d.result.capabilities.resources, { listChanged: true, subscribe: true });
  const l = await listen(7, { toolsListChanged: true, resourceSubscriptions: ['test://static-text', 42, 'x'.repeat(3000)] });
  try {
    const ack = await l.next();
    assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.params.notifications, { toolsListChanged: true, resourceSubscriptions: ['test://static-text'] },
      'what is not a URI string of a sane length is not promised');
    assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], 7);
  } finally { await l.close(); }
});

test('a tool list change reaches the listener that asked for it, not the one that did not', async () => {
  const tools = await listen('t', { toolsListChanged: true });
  const prompts = await listen('p', { promptsListChanged: true });
  try {
    assert.equal((await tools.next()).method, 'notifications/subscriptions/acknowledged');
    assert.equal((await prompts.next()).method, 'notifications/subscriptions/acknowledged');
    const r = await call('conf__test_trigger_tool_change');
    assert.equal(r.result.resultType, 'complete');
    const n = await tools.next();
    assert.equal(n?.method, 'notifications/tools/list_changed');
    assert.equal(n.params._meta['io.modelcontextprotocol/subscriptionId'], 't');
    assert.equal(await prompts.next(500), null, 'the prompts listener hears nothing of tools');
    await call('conf__test_trigger_prompt_change');
    assert.equal((await prompts.next())?.method, 'notifications/prompts/list_changed');
  } finally { await tools.close(); await prompts.close(); }
});

test('resourceSubscriptions: updates of the URI reach its listeners only; the upstream is unsubscribed when the last one goes', async () => {
  const uri = 'test://watched-resource';
  const a = await listen('a', { resourceSubscriptions: [uri] });
  const b = await listen('b', { resourceSubscriptions: [uri] });
  const other = await listen('o', { resourceSubscriptions: ['test://static-text'] });
  try {
    assert.deepEqual((await a.next()).params.notifications, { resourceSubscriptions: [uri] });
    await b.next();
    await other.next();
    const r = await call('conf__test_touch_watched');
    assert.equal(r.result.content[0].text, 'subscribed=true', 'the gateway subscribed upstream');
    for (const [l, id] of [[a, 'a'], [b, 'b']]) {
      const n = await l.next();
      assert.equal(n?.method, 'notifications/resources/updated');
      assert.equal(n.params.uri, uri);
      assert.equal(n.params._meta['io.modelcontextprotocol/subscriptionId'], id);
    }
    assert.equal(await other.next(500), null, 'a listener of another URI hears nothing');
    await a.close();
    await new Promise((res) => setTimeout(res, 200));
    assert.equal((await call('conf__test_touch_watched')).result.content[0].text, 'subscribed=true', 'b still listens');
    assert.equal((await b.next())?.params?.uri, uri);
  } finally { await b.close(); await other.close(); }
  // The last listener of the URI went: unsubscribed upstream.
  let text;
  for (let i = 0; i < 50; i++) {
    text = (await call('conf__test_touch_watched')).result.content[0].text;
    if (text === 'subscribed=false') break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(text, 'subscribed=false');
});

test('a listen whose notifications is missing or not an object is refused with -32602, and opens no stream', async () => {
  for (const [id, notifications] of [[31, undefined], [32, ['toolsListChanged']], [33, 'all'], [34, null]]) {
    const params = { _meta: ENVELOPE, ...(notifications === undefined ? {} : { notifications }) };
    const r = await fetch(gw.url, { method: 'POST', headers: headers('subscriptions/listen'),
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params }) });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /application\/json/);
    const msg = await r.json();
    assert.equal(msg.id, id);
    assert.equal(msg.error?.code, -32602, JSON.stringify(msg));
  }
  // The gateway still serves listens after the refusals; taskIds is not
  // offered (docs/internals/tasks.md), so the acknowledgement leaves it out.
  const l = await listen(35, { toolsListChanged: true, taskIds: ['t-1'] });
  try {
    const ack = await l.next();
    assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.params.notifications, { toolsListChanged: true });
  } finally { await l.close(); }
});
