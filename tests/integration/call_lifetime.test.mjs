// The lifetime of a call: a client that goes away (closes its stream,
// cancels, ends its session) while its call is parked must leave nothing
// behind that fires on freed memory. Each test parks a call at one point
// (the catalog fetch of an upstream's tool list, the upstream request), ends
// it from the client's side, then lets the parked event fire. The gateway
// runs under ASan: a read after free aborts it, and stop() then fails on its
// exit code; every test also checks the gateway still answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startGateway, initSession, rpc, post, ROOT, tempDir } from './lib.mjs';

const FLAKY = join(ROOT, 'tests', 'fixtures', 'flaky-server.mjs');
const LIST_DELAY_MS = 1200;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

let gw;
before(async () => {
  // Two servers whose tools/list takes a while: every first call of a
  // session (or of the 2026 scope) parks on the list fetch.
  const env = `      FLAKY_LIST_DELAY_MS: "${LIST_DELAY_MS}"\n      FLAKY_STATE: "${tempDir()}"\n`;
  gw = await startGateway(`servers:\n  slowlist:\n    command: node\n    args: ["${FLAKY}"]\n    env:\n${env}` +
    `  other:\n    command: node\n    args: ["${FLAKY}"]\n    env:\n${env}`);
});
after(async () => { await gw?.stop(); });

// A 2026-07-28 tools/call whose response stream the client closes after ms.
async function modernCallClosedAfter(name, args, ms) {
  const ctl = new AbortController();
  const pending = fetch(gw.url, {
    method: 'POST', signal: ctl.signal,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: ENVELOPE } }),
  }).then((r) => r.text()).catch(() => null);
  await sleep(ms);
  ctl.abort();
  await pending;
}

async function stillServes() {
  const sid = await initSession(gw.url);
  const r = await rpc(gw.url, sid, 2, 'tools/call', { name: 'other__echo', arguments: { text: 'alive' } });
  assert.equal(r.msg?.result?.content?.[0]?.text, 'alive', JSON.stringify(r.msg));
}

test('2026-07-28: the stream closed while the call waits for a tool list; the list arrives later', async () => {
  await modernCallClosedAfter('slowlist__echo', { text: 'never' }, 200);
  await sleep(LIST_DELAY_MS + 500); // the list page arrives for a call that is gone
  assert.equal(gw.proc.exitCode, null, `the gateway died:\n${gw.logs().slice(-3000)}`);
  await stillServes();
});

test('2026-07-28: two calls wait on one list fetch, one closes its stream, the other is answered', async () => {
  // The list of a new 2026 scope: /servers/slowlist/mcp has its own cache.
  const url = `${gw.base}/servers/slowlist/mcp`;
  const call = (id, ctl) => fetch(url, {
    method: 'POST', signal: ctl?.signal,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `c${id}` }, _meta: ENVELOPE } }),
  }).then((r) => r.text()).catch(() => null);
  const ctl = new AbortController();
  const gone = call(1, ctl);
  const kept = call(2);
  await sleep(200);
  ctl.abort();
  await gone;
  const body = await kept;
  assert.match(body, /c2/, body);
});

test('2025: the session is deleted while its call waits for a tool list', async () => {
  const sid = await initSession(gw.url);
  const pending = rpc(gw.url, sid, 3, 'tools/call', { name: 'slowlist__echo', arguments: { text: 'x' } }).catch(() => null);
  await sleep(200);
  const del = await fetch(gw.url, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
  assert.equal(del.status, 200);
  await pending;
  await sleep(LIST_DELAY_MS + 500);
  assert.equal(gw.proc.exitCode, null, `the gateway died:\n${gw.logs().slice(-3000)}`);
  await stillServes();
});

test('2025: a call cancelled while it waits for a tool list ends there; the session goes on', async () => {
  const sid = await initSession(gw.url);
  const ctl = new AbortController();
  const pending = rpc(gw.url, sid, 4, 'tools/call', { name: 'slowlist__slow', arguments: { ms: 5000 } },
    { signal: ctl.signal }).catch(() => null);
  await sleep(200);
  const c = await post(gw.url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4, reason: 'gave up' } },
    { 'mcp-session-id': sid });
  assert.equal(c.status, 202);
  ctl.abort();
  await pending;
  await sleep(LIST_DELAY_MS + 500);
  assert.equal(gw.proc.exitCode, null, `the gateway died:\n${gw.logs().slice(-3000)}`);
  // The session goes on; its next call is answered.
  const r = await rpc(gw.url, sid, 5, 'tools/call', { name: 'slowlist__echo', arguments: { text: 'next' } });
  assert.equal(r.msg?.result?.content?.[0]?.text, 'next', JSON.stringify(r.msg));
});

test('2026-07-28: the stream closed while the call is with the upstream', async () => {
  await modernCallClosedAfter('other__slow', { ms: 800 }, 300);
  await sleep(1200); // the upstream's answer arrives for a cancelled call
  assert.equal(gw.proc.exitCode, null, `the gateway died:\n${gw.logs().slice(-3000)}`);
  await stillServes();
});
