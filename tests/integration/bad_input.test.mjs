// Bad input at the HTTP MCP endpoint: every row gets the exact HTTP status,
// the JSON-RPC error code and a message that says what was wrong, and after
// each one a normal call on another session still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startGateway, post, initSession, rpc, rawHttp, buildEchoMcp, MISBEHAVE,
} from './lib.mjs';

const PROTO = '2025-06-18';
let gw;
let witness; // a healthy session used after every bad request

before(async () => {
  const echo = await buildEchoMcp();
  // Two upstreams, so a resource URI nobody listed has no owner (-32002).
  gw = await startGateway(`max_body: 1KiB
servers:
  echo:
    command: "${echo}"
  mis:
    command: node
    args: ["${MISBEHAVE}"]
`);
  witness = await initSession(gw.url, PROTO);
});

after(async () => { if (gw) await gw.stop(); });

let nextId = 1000;
// A normal echo call on the witness session answers correctly.
async function stillWorks() {
  const id = nextId++;
  const text = `still ok ${id}`;
  const r = await rpc(gw.url, witness, id, 'tools/call', { name: 'echo__echo', arguments: { text } });
  assert.equal(r.status, 200, `witness call failed: ${r.res.body}\n${gw.logs()}`);
  assert.deepEqual(r.msg?.result?.content, [{ type: 'text', text }], r.res.body);
  const h = await fetch(`${gw.base}/health`);
  assert.equal(h.status, 200);
}

function hdrs(sid, extra = {}) {
  return { 'mcp-session-id': sid, 'mcp-protocol-version': PROTO, ...extra };
}

// status, JSON-RPC error code and message pattern of a raw answer.
function assertError(r, status, code, re, id = undefined) {
  assert.equal(r.status, status, `status (body: ${r.body})`);
  assert.ok(r.json, `expected a JSON body, got: ${r.body}`);
  assert.equal(r.json.jsonrpc, '2.0', r.body);
  assert.equal(r.json.error?.code, code, r.body);
  assert.match(r.json.error.message, re, r.body);
  if (id !== undefined) assert.deepEqual(r.json.id, id, r.body);
}

test('body that is not JSON: 400, -32700', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, '{"jsonrpc":"2.0","id":1,"method":', hdrs(sid));
  assertError(r, 400, -32700, /JSON/i, null);
  const r2 = await post(gw.url, 'hello there', hdrs(sid));
  assertError(r2, 400, -32700, /JSON/i, null);
  await stillWorks();
});

test('JSON that is not JSON-RPC ({"foo":1}): 400, -32600', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { foo: 1 }, hdrs(sid));
  assertError(r, 400, -32600, /jsonrpc/i, null);
  await stillWorks();
});

test('jsonrpc "1.0": 400, -32600, the id is echoed', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '1.0', id: 7, method: 'ping' }, hdrs(sid));
  assertError(r, 400, -32600, /jsonrpc.*2\.0/i, 7);
  await stillWorks();
});

test('request with id null: 400, -32600', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '2.0', id: null, method: 'tools/list' }, hdrs(sid));
  assertError(r, 400, -32600, /\bid\b/i, null);
  await stillWorks();
});

test('unknown method on a valid session: 200, -32601', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '2.0', id: 11, method: 'foo/bar', params: {} }, hdrs(sid));
  assertError(r, 200, -32601, /Method not found.*foo\/bar/, 11);
  await stillWorks();
});

test('unknown tool: 200, -32602', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '2.0', id: 12, method: 'tools/call',
    params: { name: 'no_such_tool', arguments: {} } }, hdrs(sid));
  assertError(r, 200, -32602, /Unknown tool.*no_such_tool/, 12);
  await stillWorks();
});

test('unknown resource: 200, -32002 with data.uri', async () => {
  const sid = await initSession(gw.url, PROTO);
  const uri = 'file:///no/such/resource.txt';
  const r = await post(gw.url, { jsonrpc: '2.0', id: 13, method: 'resources/read', params: { uri } },
    hdrs(sid));
  assertError(r, 200, -32002, /Resource not found/i, 13);
  assert.equal(r.json.error.data?.uri, uri, r.body);
  await stillWorks();
});

test('Content-Type text/plain: 415', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '2.0', id: 14, method: 'ping' },
    hdrs(sid, { 'content-type': 'text/plain' }));
  assertError(r, 415, -32000, /Content-Type/);
  await stillWorks();
});

test('Accept without text/event-stream: 406', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '2.0', id: 15, method: 'ping' },
    hdrs(sid, { accept: 'application/json' }));
  assertError(r, 406, -32000, /Accept.*text\/event-stream/);
  await stillWorks();
});

test('body over max_body (1 KiB config, 2 KiB body): 413', async () => {
  const sid = await initSession(gw.url, PROTO);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 16, method: 'tools/call',
    params: { name: 'echo__echo', arguments: { text: 'x'.repeat(2048) } } });
  assert.ok(body.length > 2048);
  const r = await post(gw.url, body, hdrs(sid));
  // Refused before the body is read, as JSON naming the limit (not evhttp's HTML page).
  assertError(r, 413, -32000, /^Payload Too Large: the body is larger than max_body \(1024 bytes\)$/, null);
  assert.deepEqual(r.json.error.data, { limit: 'max_body', max: 1024 }, r.body);
  // Just under the limit still works on the same session.
  const ok = await rpc(gw.url, sid, 17, 'tools/call', { name: 'echo__echo', arguments: { text: 'y'.repeat(700) } });
  assert.equal(ok.status, 200, ok.res.body);
  assert.equal(ok.msg?.result?.content?.[0]?.text, 'y'.repeat(700));
  await stillWorks();
});

test('Content-Length: 100000000 with a few bytes sent: 413 promptly, body not awaited', async () => {
  const sid = await initSession(gw.url, PROTO);
  const port = new URL(gw.base).port;
  const r = await rawHttp(gw.base,
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\n` +
    `Content-Length: 100000000\r\n\r\n{"jsonrpc":"2.0"`, { timeoutMs: 5000 });
  assert.equal(r.timedOut, false, `no answer within 5 s (the gateway waits for the body?): ${r.raw}`);
  assert.equal(r.status, 413, r.raw);
  assert.equal(JSON.parse(r.body).error?.data?.limit, 'max_body', r.raw);
  assert.ok(r.ms < 2000, `413 took ${r.ms} ms`);
  await stillWorks();
});

test('chunked body growing past max_body: 413 promptly', async () => {
  const sid = await initSession(gw.url, PROTO);
  const port = new URL(gw.base).port;
  const chunk = 'x'.repeat(0x800);
  const r = await rawHttp(gw.base,
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\n` +
    `Transfer-Encoding: chunked\r\n\r\n800\r\n${chunk}\r\n800\r\n${chunk}\r\n`, { timeoutMs: 5000 });
  assert.equal(r.timedOut, false, `no answer within 5 s: ${r.raw}`);
  assert.equal(r.status, 413, r.raw);
  await stillWorks();
});

test('unknown session id: 404, -32001', async () => {
  const r = await post(gw.url, { jsonrpc: '2.0', id: 18, method: 'tools/list' },
    hdrs('0123456789abcdef0123456789abcdef'));
  assertError(r, 404, -32001, /Session not found/i);
  await stillWorks();
});

test('missing session id on a non-initialize request: 400', async () => {
  const r = await post(gw.url, { jsonrpc: '2.0', id: 19, method: 'tools/list' },
    { 'mcp-protocol-version': PROTO });
  assertError(r, 400, -32000, /Mcp-Session-Id/i);
  await stillWorks();
});

test('session of /mcp used at /servers/echo/mcp: 404', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(`${gw.base}/servers/echo/mcp`, { jsonrpc: '2.0', id: 20, method: 'tools/list' },
    hdrs(sid));
  assertError(r, 404, -32001, /Session not found/i);
  // ... while it still works where it was made.
  const ok = await rpc(gw.url, sid, 21, 'ping', {});
  assert.equal(ok.status, 200, ok.res.body);
  assert.deepEqual(ok.msg?.result, {});
  await stillWorks();
});

test('DELETE ends a session; afterwards it is 404', async () => {
  const sid = await initSession(gw.url, PROTO);
  const ok = await rpc(gw.url, sid, 22, 'ping', {});
  assert.equal(ok.status, 200);
  const d = await fetch(gw.url, { method: 'DELETE', headers: hdrs(sid) });
  await d.text();
  assert.ok(d.status === 200 || d.status === 204, `DELETE status ${d.status}`);
  const r = await post(gw.url, { jsonrpc: '2.0', id: 23, method: 'ping' }, hdrs(sid));
  assertError(r, 404, -32001, /Session not found/i);
  const d2 = await fetch(gw.url, { method: 'DELETE', headers: hdrs(sid) });
  await d2.text();
  assert.equal(d2.status, 404);
  await stillWorks();
});

test('Origin: http://evil.example: 403', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '2.0', id: 24, method: 'ping' },
    hdrs(sid, { origin: 'http://evil.example' }));
  assertError(r, 403, -32000, /Origin/);
  // A local origin is fine.
  const ok = await post(gw.url, { jsonrpc: '2.0', id: 25, method: 'ping' },
    hdrs(sid, { origin: `http://localhost:${new URL(gw.base).port}` }));
  assert.equal(ok.status, 200, ok.body);
  await stillWorks();
});

test('Host: evil.example.com: 403', async () => {
  const sid = await initSession(gw.url, PROTO);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 26, method: 'ping' });
  const r = await rawHttp(gw.base,
    `POST /mcp HTTP/1.1\r\nHost: evil.example.com\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\n` +
    `MCP-Protocol-Version: ${PROTO}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  assert.equal(r.status, 403, r.raw);
  const json = JSON.parse(r.body);
  assert.equal(json.error?.code, -32000, r.body);
  assert.match(json.error.message, /Host/, r.body);
  await stillWorks();
});

// A ping on sid with this Host and (when given) Origin, sent raw: fetch()
// would not send an odd Host.
function pingWith(sid, host, origin) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 30, method: 'ping' });
  return rawHttp(gw.base,
    `POST /mcp HTTP/1.1\r\nHost: ${host}\r\n${origin ? `Origin: ${origin}\r\n` : ''}` +
    `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
    `Mcp-Session-Id: ${sid}\r\nMCP-Protocol-Version: ${PROTO}\r\n` +
    `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

test('Host or Origin that only starts like loopback (port not digits, userinfo): 403', async () => {
  const sid = await initSession(gw.url, PROTO);
  const port = new URL(gw.base).port;
  const here = `127.0.0.1:${port}`;
  for (const host of ['localhost:evil.com', `127.0.0.1:${port}@evil.com`, '[::1]:x', 'localhost:',
    '127.0.0.1:65536', `localhost:${port}evil`, `user@localhost:${port}`]) {
    const r = await pingWith(sid, host);
    assert.equal(r.status, 403, `Host: ${host}\n${r.raw}`);
    assert.match(JSON.parse(r.body).error.message, /Host/, r.body);
  }
  for (const origin of ['http://localhost:evil.com', `http://localhost:${port}@evil.com`,
    `http://127.0.0.1:${port}@evil.com`, 'http://[::1]:x', 'http://localhost:', 'http://localhost:99999',
    `http://user@localhost:${port}`, `http://localhost:${port}/path`]) {
    const r = await pingWith(sid, here, origin);
    assert.equal(r.status, 403, `Origin: ${origin}\n${r.raw}`);
    assert.match(JSON.parse(r.body).error.message, /Origin/, r.body);
  }
  // The real loopback names, with and without a port, still pass.
  for (const [host, origin] of [[here, `http://localhost:${port}`], [`localhost:${port}`, 'http://127.0.0.1'],
    ['[::1]', `https://[::1]:${port}`], ['LOCALHOST', undefined]]) {
    const r = await pingWith(sid, host, origin);
    assert.equal(r.status, 200, `Host: ${host}, Origin: ${origin}\n${r.raw}`);
  }
  await stillWorks();
});

test('MCP-Protocol-Version: 1999-01-01: 400', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '2.0', id: 27, method: 'ping' },
    { 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' });
  assertError(r, 400, -32000, /protocol version.*1999-01-01/i);
  await stillWorks();
});

test('JSON nested 100 deep: 400, -32600', async () => {
  const sid = await initSession(gw.url, PROTO);
  let deep = {};
  for (let i = 0; i < 99; i++) deep = { a: deep };
  const body = JSON.stringify({ jsonrpc: '2.0', id: 28, method: 'tools/call',
    params: { name: 'echo__echo', arguments: { text: 'x', deep } } });
  assert.ok(body.length < 1024, 'stays under max_body');
  const r = await post(gw.url, body, hdrs(sid));
  assertError(r, 400, -32600, /nest|depth/i);
  await stillWorks();
});

test('notification: 202 with an empty body', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, hdrs(sid));
  assert.equal(r.status, 202, r.body);
  assert.equal(r.body, '');
  const r2 = await post(gw.url, { jsonrpc: '2.0', method: 'notifications/cancelled',
    params: { requestId: 999, reason: 'nothing' } }, hdrs(sid));
  assert.equal(r2.status, 202, r2.body);
  assert.equal(r2.body, '');
  await stillWorks();
});

test('a method other than GET, POST, DELETE on /mcp: 405 with Allow', async () => {
  // PUT is refused by the connection guard, HEAD (a method it passes) by the endpoint.
  const r = await fetch(gw.url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, POST, DELETE, OPTIONS, HEAD');
  const json = await r.json();
  assert.equal(json.error?.code, -32000);
  assert.match(json.error.message, /^Method Not Allowed/);
  const h = await fetch(gw.url, { method: 'HEAD' });
  assert.equal(h.status, 405);
  assert.equal(h.headers.get('allow'), 'GET, POST, DELETE');
  await stillWorks();
});

test('initialize without params.protocolVersion: 400, -32602, no session made', async () => {
  const r = await post(gw.url, { jsonrpc: '2.0', id: 29, method: 'initialize', params: { capabilities: {} } });
  assertError(r, 400, -32602, /^initialize needs params\.protocolVersion \(a string\)$/, 29);
  assert.equal(r.headers.get('mcp-session-id'), null);
  await stillWorks();
});

test('MCP-Protocol-Version 2026-07-28 without the _meta envelope: 400, -32602', async () => {
  const sid = await initSession(gw.url, PROTO);
  const r = await post(gw.url, { jsonrpc: '2.0', id: 30, method: 'ping' },
    { 'mcp-session-id': sid, 'mcp-protocol-version': '2026-07-28' });
  assertError(r, 400, -32602, /^MCP-Protocol-Version names 2026-07-28 but params\._meta carries no/, 30);
  await stillWorks();
});
