// Bounds (limits:): each one is crossed and answered with its exact status,
// JSON-RPC error and a message naming the limit, while another client keeps
// being served. Three gateways with small limits: A (sizes, depth, in-flight,
// SSE buffers), B (connections and timeouts, raw sockets only), C (sessions,
// with API keys as principals).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startGateway, post, initSession, rpc, rawHttp, within, tempDir, freePort, ROOT, withGatewayLog, apikeyCreate,
  writeGatewayFiles, allowAllRole,
} from './lib.mjs';

const PROTO = '2025-06-18';
const SERVER = join(ROOT, 'tests', 'fixtures', 'bounds-server.mjs');
const SERVERS = `servers:\n  b:\n    command: node\n    args: ["${SERVER}"]\n`;
let A, B, C, D;
let witness; // a healthy session on A

before(async () => {
  A = await startGateway(`max_body: 2KiB
limits:
  max_depth: 8
  max_headers: 20
  max_header_size: 2KiB
  max_url: 512
  max_inflight_per_session: 2
  max_sse_buffer: 64KiB
${SERVERS}`);
  B = await startGateway(`limits:
  max_connections: 12
  read_timeout: 1.5
  idle_timeout: 1.5
servers: {}
`, { readyUpstreams: false });
  witness = await initSession(A.url, PROTO);
});

after(async () => {
  await A?.stop();
  await B?.stop();
  await C?.stop();
  await D?.stop();
});

let nextId = 1000;
async function stillWorks() {
  const id = nextId++;
  const r = await rpc(A.url, witness, id, 'tools/call', { name: 'b__echo', arguments: { text: `ok ${id}` } });
  assert.equal(r.status, 200, `witness call failed: ${r.res.body}`);
  assert.deepEqual(r.msg?.result?.content, [{ type: 'text', text: `ok ${id}` }], r.res.body);
}

const hdrs = (sid) => ({ 'mcp-session-id': sid, 'mcp-protocol-version': PROTO });

// A refusal by a bound: status, -32000 or -32013, data naming the limit.
function assertBound(status, json, { httpStatus, code, limit, max, re }) {
  assert.equal(status, httpStatus, JSON.stringify(json));
  assert.ok(json, 'a JSON body');
  assert.equal(json.jsonrpc, '2.0');
  assert.equal(json.error?.code, code, JSON.stringify(json));
  assert.match(json.error.message, re);
  assert.deepEqual(json.error.data, { limit, max });
}

function rawParse(r) {
  let json = null;
  try { json = JSON.parse(r.body); } catch { /* not JSON */ }
  return json;
}

// A raw socket that records what arrives and when it closes.
function rawConn(base) {
  const u = new URL(base);
  const sock = net.connect(Number(u.port), u.hostname);
  const c = { sock, data: '', closed: false };
  sock.on('data', (d) => { c.data += d.toString('latin1'); });
  sock.on('error', () => {});
  c.closedP = new Promise((res) => sock.on('close', () => { c.closed = true; c.closedAt = Date.now(); res(); }));
  c.ready = new Promise((res) => sock.on('connect', res));
  return c;
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const countOf = (text, s) => text.split(s).length - 1;

// ---- gateway A: sizes -------------------------------------------------------

test('body over max_body: 413 before the body is read, JSON naming max_body', withGatewayLog(async () => {
  const sid = await initSession(A.url, PROTO);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call',
    params: { name: 'b__echo', arguments: { text: 'x'.repeat(3000) } } });
  const r = await post(A.url, body, hdrs(sid));
  assertBound(r.status, r.json, { httpStatus: 413, code: -32000, limit: 'max_body', max: 2048,
    re: /^Payload Too Large: the body is larger than max_body \(2048 bytes\)$/ });
  assert.equal(r.headers.get('content-type'), 'application/json');
  // Declared but never sent: answered at once.
  const port = new URL(A.base).port;
  const raw = await rawHttp(A.base, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Content-Length: 100000000\r\n\r\n{"jsonrpc"`, { timeoutMs: 3000 });
  assert.equal(raw.timedOut, false, raw.raw);
  assertBound(raw.status, rawParse(raw), { httpStatus: 413, code: -32000, limit: 'max_body', max: 2048, re: /max_body/ });
  assert.equal(raw.headers.connection, 'close');
  // Chunked, growing past the limit.
  const chunk = 'x'.repeat(0x600);
  const ch = await rawHttp(A.base, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Transfer-Encoding: chunked\r\n\r\n600\r\n${chunk}\r\n600\r\n${chunk}\r\n`, { timeoutMs: 3000 });
  assertBound(ch.status, rawParse(ch), { httpStatus: 413, code: -32000, limit: 'max_body', max: 2048, re: /max_body/ });
  await stillWorks();
}, () => A));

test('JSON nested past max_depth: 400, -32600 naming the limit', async () => {
  const sid = await initSession(A.url, PROTO);
  let deep = 'x';
  for (let i = 0; i < 9; i++) deep = [deep];
  const r = await post(A.url, { jsonrpc: '2.0', id: 2, method: 'tools/call',
    params: { name: 'b__echo', arguments: { deep } } }, hdrs(sid));
  assert.equal(r.status, 400, r.body);
  assert.equal(r.json.error.code, -32600);
  assert.equal(r.json.error.message, 'JSON nesting deeper than the depth limit of 8 (limits.max_depth)');
  assert.equal(r.json.id, null); // measured before parsing: the id is not read
  // Within the limit is fine.
  const ok = await rpc(A.url, sid, 3, 'tools/call', { name: 'b__echo', arguments: { text: 'shallow', d: [[1]] } });
  assert.equal(ok.msg?.result?.content?.[0]?.text, 'shallow');
  await stillWorks();
});

test('more header lines than max_headers, or more bytes than max_header_size: 431 JSON', async () => {
  const port = new URL(A.base).port;
  const many = Array.from({ length: 25 }, (_, i) => `X-H${i}: v\r\n`).join('');
  const r1 = await rawHttp(A.base, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${many}\r\n`);
  assertBound(r1.status, rawParse(r1), { httpStatus: 431, code: -32000, limit: 'max_headers', max: 20,
    re: /^Request Header Fields Too Large: more than limits.max_headers \(20\) header lines$/ });
  const r2 = await rawHttp(A.base, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${'b'.repeat(3000)}\r\n\r\n`);
  assertBound(r2.status, rawParse(r2), { httpStatus: 431, code: -32000, limit: 'max_header_size', max: 2048,
    re: /^Request Header Fields Too Large: headers larger than limits.max_header_size \(2048 bytes\)$/ });
  // An endless header line is refused before its end arrives.
  const r3 = await rawHttp(A.base, `GET /health HTTP/1.1\r\nX-Endless: ${'e'.repeat(5000)}`, { timeoutMs: 3000 });
  assert.equal(r3.status, 431, r3.raw);
  await stillWorks();
});

test('request target longer than max_url: 414 JSON', async () => {
  const r = await rawHttp(A.base, `GET /mcp?${'q'.repeat(600)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  assertBound(r.status, rawParse(r), { httpStatus: 414, code: -32000, limit: 'max_url', max: 512,
    re: /^URI Too Long: the request target is longer than limits.max_url \(512 bytes\)$/ });
  const f = await fetch(`${A.base}/mcp?${'q'.repeat(600)}`);
  assert.equal(f.status, 414);
  assert.equal((await f.json()).error.data.limit, 'max_url');
  await stillWorks();
});

test('malformed framing is refused as JSON, not passed on', async () => {
  const cases = [
    ['POST /mcp HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 400, /more than one Content-Length/],
    ['POST /mcp HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 501, /Transfer-Encoding other than chunked/],
    ['POST /mcp HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n', 400, /both Content-Length/],
    ['GET /health HTTP/1.1\r\nX-A: b\r\n folded\r\n\r\n', 400, /folded/],
    ['BREW /mcp HTTP/1.1\r\n\r\n', 405, /Method Not Allowed: BREW/],
    ['GET /health HTTP/2.0\r\n\r\n', 505, /HTTP Version Not Supported/],
  ];
  for (const [text, status, re] of cases) {
    const r = await rawHttp(A.base, text);
    assert.equal(r.status, status, r.raw);
    const json = rawParse(r);
    assert.equal(json?.error?.code, -32000, r.raw);
    assert.match(json.error.message, re);
  }
  await stillWorks();
});

test('pipelined requests are answered in order; a refused one ends the connection', async () => {
  const long = `GET /mcp?${'q'.repeat(600)} HTTP/1.1\r\n\r\n`;
  const c = rawConn(A.base);
  await c.ready;
  c.sock.write(`GET /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n${long}GET /health HTTP/1.1\r\n\r\n`);
  await within(c.closedP, 5000, 'connection close after the refusal');
  const statuses = [...c.data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 200, 414]);
});

// ---- gateway A: requests in flight -------------------------------------------

test('past max_inflight_per_session: 429, -32013; the session works again once calls end', withGatewayLog(async () => {
  const sid = await initSession(A.url, PROTO);
  const ac = new AbortController();
  const hang = (id) => rpc(A.url, sid, id, 'tools/call', { name: 'b__hang', arguments: {} }, { signal: ac.signal }).catch(() => {});
  const hanging = countOf(A.logs(), 'hanging on request');
  const h1 = hang(101);
  const h2 = hang(102);
  // Both upstream, so that cancelling one ends it at once (a call still
  // waiting for the tool list ends only when the list comes).
  await until(() => countOf(A.logs(), 'hanging on request') >= hanging + 2, 30000, 'both calls upstream');
  const r = await rpc(A.url, sid, 103, 'tools/call', { name: 'b__echo', arguments: { text: 'third' } });
  assert.equal(r.status, 429, r.res.body);
  assert.equal(r.res.headers.get('retry-after'), '1');
  assertBound(r.status, r.res.json, { httpStatus: 429, code: -32013, limit: 'max_inflight_per_session', max: 2,
    re: /^Too many requests in flight on this session \(max_inflight_per_session: 2\)$/ });
  assert.equal(r.res.json.id, 103);
  // Another session is not affected.
  await stillWorks();
  // Cancelling one frees a place.
  ac.abort();
  await Promise.all([h1, h2]);
  const n = await post(A.url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 101 } }, hdrs(sid));
  assert.equal(n.status, 202);
  const ok = await rpc(A.url, sid, 104, 'tools/call', { name: 'b__echo', arguments: { text: 'after' } });
  assert.equal(ok.status, 200, ok.res.body);
  assert.equal(ok.msg?.result?.content?.[0]?.text, 'after');
  await post(A.url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 102 } }, hdrs(sid));
}, () => A));

test('2026-07-28 requests: the same bound per caller; closing a stream frees its place', withGatewayLog(async () => {
  const call = (id, name, args, signal) => fetch(A.url, { method: 'POST', signal, headers: {
    'content-type': 'application/json', accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
  body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args,
    _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }) });
  const ac = new AbortController();
  const hanging = countOf(A.logs(), 'hanging on request');
  const hung = [call(1, 'b__hang', {}, ac.signal).catch(() => {}), call(2, 'b__hang', {}, ac.signal).catch(() => {})];
  await until(() => countOf(A.logs(), 'hanging on request') >= hanging + 2, 30000, 'both calls upstream');
  const r = await call(3, 'b__echo', { text: 'third' });
  const json = await r.json();
  assertBound(r.status, json, { httpStatus: 429, code: -32013, limit: 'max_inflight_per_session', max: 2,
    re: /^Too many requests in flight for this caller \(max_inflight_per_session: 2\)$/ });
  assert.equal(json.id, 3);
  await stillWorks(); // a session-era client is not affected
  ac.abort(); // 2026-07-28: closing the stream cancels the call
  await Promise.all(hung);
  let ok;
  for (let i = 0; i < 40; i++) {
    ok = await call(4, 'b__echo', { text: 'again' });
    if (ok.status === 200) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /again/);
}, () => A));

// ---- gateway A: SSE buffers -------------------------------------------------

// Write the request on a raw socket, wait for the SSE headers, stop reading.
async function stalledStream(text) {
  const c = rawConn(A.base);
  await c.ready;
  c.sock.write(text);
  await until(() => /text\/event-stream/.test(c.data), 10000, 'SSE headers');
  c.sock.pause();
  return c;
}

async function expectCut(c, before) {
  await until(() => countOf(A.logs(), 'limits.max_sse_buffer') > before, 20000, 'the cut');
  c.sock.resume();
  await within(c.closedP, 5000, 'the stalled connection closed');
  assert.ok(c.data.length < 20 * 1024 * 1024);
}

test('a POST stream whose reader stops is cut past max_sse_buffer; its session goes on', withGatewayLog(async () => {
  const sid = await initSession(A.url, PROTO);
  const before = countOf(A.logs(), 'limits.max_sse_buffer');
  const body = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call',
    params: { name: 'b__flood', arguments: { count: 1500, size: 8000 }, _meta: { progressToken: 'p' } } });
  const c = await stalledStream(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\nMcp-Protocol-Version: ${PROTO}\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body}`);
  await expectCut(c, before);
  assert.match(A.logs(), /connection cut: session [0-9a-f]{8}…: its SSE reader left more than limits.max_sse_buffer \(65536 bytes\) unread/);
  const ok = await rpc(A.url, sid, 8, 'ping', {});
  assert.deepEqual(ok.msg?.result, {});
  await stillWorks();
}, () => A));

test('the GET stream and a legacy /sse stream are cut the same way', withGatewayLog(async () => {
  const sid = await initSession(A.url, PROTO);
  let before = countOf(A.logs(), 'limits.max_sse_buffer');
  const g = await stalledStream(`GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n` +
    `Mcp-Session-Id: ${sid}\r\nMcp-Protocol-Version: ${PROTO}\r\n\r\n`);
  const r = await rpc(A.url, sid, 9, 'tools/call', { name: 'b__later', arguments: { count: 1500, size: 8000, delay: 100 } });
  assert.equal(r.msg?.result?.content?.[0]?.text, 'scheduled');
  await expectCut(g, before);
  await stillWorks();

  before = countOf(A.logs(), 'limits.max_sse_buffer');
  const l = rawConn(A.base);
  await l.ready;
  l.sock.write('GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
  await until(() => /sessionId=([0-9a-f]+)/.test(l.data), 5000, 'endpoint event');
  const ep = `${A.base}${/data: (\S+)/.exec(l.data)[1]}`;
  const send = (m) => post(ep, m);
  await send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'l', version: '1' } } });
  await until(() => /"id":1,"result"/.test(l.data), 5000, 'legacy initialize answer');
  await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  l.sock.pause();
  const a = await send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'b__later', arguments: { count: 1500, size: 8000, delay: 100 } } });
  assert.equal(a.status, 202);
  await expectCut(l, before);
  await stillWorks();
}, () => A));

// A 2025 upstream offering resource subscriptions: `updates {uri, count}`
// answers, then reports count updates of uri (notifications/resources/updated).
const UPDATES_SERVER = `import readline from 'node:readline';
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\\n');
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, method, params } = JSON.parse(line);
  if (id === undefined) return;
  if (method === 'initialize') return send({ id, result: { protocolVersion: params.protocolVersion,
    capabilities: { tools: {}, resources: { subscribe: true } }, serverInfo: { name: 'u', version: '1' } } });
  if (method === 'tools/list') return send({ id, result: { tools: [{ name: 'updates', inputSchema: { type: 'object' } }] } });
  if (method === 'tools/call') {
    send({ id, result: { content: [{ type: 'text', text: 'sent' }] } });
    const { uri, count } = params.arguments;
    for (let i = 0; i < count; i++) send({ method: 'notifications/resources/updated', params: { uri } });
    return undefined;
  }
  return send({ id, result: {} });
});
`;

test('a 2026 listen stream whose reader stops is cut past max_sse_buffer; others are served', withGatewayLog(async () => {
  const dir = tempDir();
  const script = join(dir, 'updates-server.mjs');
  writeFileSync(script, UPDATES_SERVER);
  D = await startGateway(`limits:\n  max_sse_buffer: 64KiB\nservers:\n  u:\n    command: node\n    args: ["${script}"]\n`);
  const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const uri = `file:///${'z'.repeat(1900)}`;
  const listenBody = (id) => JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen',
    params: { notifications: { resourceSubscriptions: [uri] }, _meta: ENVELOPE } });
  const call = (name, args) => fetch(D.url, { method: 'POST', headers: { 'content-type': 'application/json',
    accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
  body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name, arguments: args, _meta: ENVELOPE } }) });
  const listenReq = (id) => { const b = listenBody(id); return 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
    'Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: subscriptions/listen\r\n' +
    `Content-Length: ${b.length}\r\n\r\n${b}`; };
  const before = countOf(D.logs(), 'limits.max_sse_buffer');
  const c = rawConn(D.base);
  await c.ready;
  c.sock.write(listenReq(1));
  await until(() => /subscriptions\/acknowledged/.test(c.data), 10000, 'the acknowledgement');
  assert.match(c.data, new RegExp(`"resourceSubscriptions":\\["${uri}"\\]`));
  c.sock.pause();
  const r = await call('u__updates', { uri, count: 6000 });
  assert.equal(r.status, 200);
  assert.match(await r.text(), /sent/);
  await until(() => countOf(D.logs(), 'limits.max_sse_buffer') > before, 20000, 'the cut');
  assert.match(D.logs(), /connection cut: session [0-9a-f]{8}…: its SSE reader left more than limits.max_sse_buffer \(65536 bytes\) unread/);
  c.sock.resume();
  await within(c.closedP, 5000, 'the stalled listen connection closed');
  assert.ok(c.data.length < 20 * 1024 * 1024);
  // The gateway serves other callers meanwhile; a new listener still gets its updates.
  const l2 = rawConn(D.base);
  await l2.ready;
  l2.sock.write(listenReq(2));
  await until(() => /subscriptions\/acknowledged/.test(l2.data), 10000, 'a second acknowledgement');
  const r2 = await call('u__updates', { uri, count: 2 });
  assert.equal(r2.status, 200);
  await until(() => countOf(l2.data, 'notifications/resources/updated') >= 2, 10000, 'updates on the new listener');
  l2.sock.destroy();
}, () => D));

// ---- gateway B: connections and timeouts ------------------------------------

async function health(gw) {
  const r = await rawHttp(gw.base, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.equal(r.status, 200, r.raw);
  return JSON.parse(r.body);
}

test('a slow-loris head is dropped after read_timeout; others are served meanwhile', withGatewayLog(async () => {
  const slow = [];
  for (let i = 0; i < 8; i++) {
    const c = rawConn(B.base);
    await c.ready;
    c.sock.write('POST /mcp HTTP/1.1\r\nX-Slow: ');
    c.timer = setInterval(() => { if (!c.closed) c.sock.write('a'); }, 200);
    c.start = Date.now();
    slow.push(c);
  }
  // A body sent byte by byte is dropped too.
  const body = rawConn(B.base);
  await body.ready;
  body.sock.write('POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
  body.timer = setInterval(() => { if (!body.closed) body.sock.write(' '); }, 200);
  body.start = Date.now();
  slow.push(body);
  const h = await health(B); // served while they drip
  assert.equal(h.status, 'ok');
  await Promise.all(slow.map((c) => within(c.closedP, 5000, 'slow client dropped')));
  for (const c of slow) {
    clearInterval(c.timer);
    const took = c.closedAt - c.start;
    assert.ok(took >= 1300 && took < 4000, `dropped after ${took} ms`);
    assert.equal(c.data, '', 'dropped without an answer');
  }
  assert.match(B.logs(), /connection dropped: no complete request within read_timeout \(1\.5 s\)/);
}, () => B));

test('an idle keep-alive connection is closed after idle_timeout', async () => {
  const c = rawConn(B.base);
  await c.ready;
  c.sock.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await until(() => /"status":"ok"/.test(c.data), 3000, 'health answer');
  const t0 = Date.now();
  c.sock.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'); // keep-alive works
  await until(() => countOf(c.data, 'HTTP/1.1 200') === 2, 3000, 'second answer');
  await within(c.closedP, 5000, 'idle close');
  const idle = c.closedAt - t0;
  assert.ok(idle >= 1300 && idle < 4000, `closed after ${idle} ms idle`);
});

test('past max_connections: 503 with Retry-After and JSON naming the limit, then room again', withGatewayLog(async () => {
  // Wait until only our own probe is counted (earlier sockets are released within a second).
  const end = Date.now() + 5000;
  while ((await health(B)).connections > 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  const held = [];
  for (let i = 0; i < 12; i++) {
    const c = rawConn(B.base);
    await c.ready;
    held.push(c);
  }
  const over = await rawHttp(B.base, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { timeoutMs: 3000 });
  assertBound(over.status, rawParse(over), { httpStatus: 503, code: -32000, limit: 'max_connections', max: 12,
    re: /^Service Unavailable: too many connections \(limits.max_connections: 12\)$/ });
  assert.equal(over.headers['retry-after'], '1');
  // One of the held ones still gets its answer: the limit refuses new ones only.
  held[0].sock.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  await within(held[0].closedP, 3000, 'held connection answered');
  assert.match(held[0].data, /^HTTP\/1\.1 200/);
  for (const c of held) c.sock.destroy();
  const again = Date.now() + 5000;
  let h;
  for (;;) {
    const r = await rawHttp(B.base, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    if (r.status === 200) { h = JSON.parse(r.body); break; }
    if (Date.now() > again) throw new Error(`no room again: ${r.raw}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(h.status, 'ok');
}, () => B));

// ---- gateway C: sessions ----------------------------------------------------

test('sessions per principal (429) and in total (503), each naming its limit', withGatewayLog(async () => {
  const dir = tempDir();
  const port = await freePort();
  const body = `max_sessions: 3\nlimits:\n  max_sessions_per_principal: 2\n${SERVERS}` +
    `auth:\n  api_keys: true\n  resource: "http://127.0.0.1:${port}/mcp"\npolicy: policy.yaml\n`;
  const cfg = writeGatewayFiles(dir, port, body, `roles:\n${allowAllRole('admin')}default_policy: deny\n`);
  const key = (name) => apikeyCreate(cfg, name, 'admin');
  const ka = key('alice');
  const kb = key('bob');
  const kc = key('carol');
  C = await startGateway(body, { dir, port });
  const init = (k) => post(C.url, { jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: PROTO, capabilities: {}, clientInfo: { name: 'c', version: '1' } } },
  { authorization: `Bearer ${k}` });
  assert.equal((await init(ka)).status, 200);
  assert.equal((await init(ka)).status, 200);
  const third = await init(ka);
  assertBound(third.status, third.json, { httpStatus: 429, code: -32013, limit: 'max_sessions_per_principal', max: 2,
    re: /^Too many sessions for this caller \(max_sessions_per_principal: 2\)$/ });
  assert.equal(third.json.id, 0);
  const b1 = await init(kb);
  assert.equal(b1.status, 200);
  const full = await init(kc);
  assertBound(full.status, full.json, { httpStatus: 503, code: -32013, limit: 'max_sessions', max: 3,
    re: /^Too many sessions on this gateway \(max_sessions: 3\)$/ });
  // Bob's session is served meanwhile.
  const sid = b1.headers.get('mcp-session-id');
  const ok = await rpc(C.url, sid, 5, 'tools/call', { name: 'b__echo', arguments: { text: 'bob' } },
    { headers: { authorization: `Bearer ${kb}` } });
  assert.equal(ok.msg?.result?.content?.[0]?.text, 'bob');
  // Ending one makes room again.
  const d = await fetch(C.url, { method: 'DELETE', headers: { ...hdrs(sid), authorization: `Bearer ${kb}` } });
  assert.equal(d.status, 200);
  assert.equal((await init(kc)).status, 200);
}, () => C));
