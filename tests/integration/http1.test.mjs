// HTTP/1.1 as clients speak it (RFC 9112), on raw sockets: what a client
// sees for pipelined requests, chunked request bodies, Expect: 100-continue,
// HTTP/1.0, HEAD, Connection: close, a client that goes away mid-body, and
// a slow-loris head. The server is the gateway's own (src/http/h1.c).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway, within } from './lib.mjs';

let G;

before(async () => {
  G = await startGateway(`limits:
  read_timeout: 1.5
  idle_timeout: 30
servers: {}
`, { readyUpstreams: false });
});

after(async () => {
  await G?.stop();
});

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {
  protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'h1', version: '1' } } });
const MCP_HEADERS = 'Host: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n';

// A raw socket that records what arrives and when it closes.
async function conn() {
  const u = new URL(G.base);
  const sock = net.connect(Number(u.port), u.hostname);
  const c = { sock, data: '', closed: false };
  sock.on('data', (d) => { c.data += d.toString('latin1'); });
  sock.on('error', () => {});
  c.closedP = new Promise((res) => sock.on('close', () => { c.closed = true; res(); }));
  await new Promise((res) => sock.on('connect', res));
  return c;
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The answers in data, in order: { version, status, headers, body }, each
// body read by its Content-Length or chunked framing (none for HEAD).
function answers(data, heads = []) {
  const out = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = data.slice(at, end).split('\r\n');
    const m = /^HTTP\/(1\.[01]) (\d{3})/.exec(lines[0]);
    assert.ok(m, `a status line: ${JSON.stringify(lines[0])}`);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    at = end + 4;
    let body = '';
    const status = Number(m[2]);
    if (status === 100) {
      out.push({ version: m[1], status, headers, body });
      continue;
    }
    if (heads[out.filter((a) => a.status !== 100).length]) {
      // HEAD: no body, whatever the headers say
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const eol = data.indexOf('\r\n', at);
        const size = parseInt(data.slice(at, eol), 16);
        at = eol + 2;
        if (size === 0) { at += 2; break; }
        body += data.slice(at, at + size);
        at += size + 2;
      }
    } else if (headers['content-length'] !== undefined) {
      body = data.slice(at, at + Number(headers['content-length']));
      at += body.length;
    } else {
      body = data.slice(at);
      at = data.length;
    }
    out.push({ version: m[1], status, headers, body });
  }
  return out;
}

test('pipelined requests are answered in order, and the connection stays open', async () => {
  const c = await conn();
  c.sock.write(`POST /mcp HTTP/1.1\r\n${MCP_HEADERS}Content-Length: ${INIT.length}\r\n\r\n${INIT}` +
    'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' +
    'GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' +
    'GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await until(() => answers(c.data).length === 4, 5000, 'four answers');
  const a = answers(c.data);
  assert.deepEqual(a.map((x) => x.status), [200, 200, 404, 200]);
  assert.ok(a[0].headers['mcp-session-id'], 'initialize answered first, with its session');
  assert.equal(JSON.parse(a[0].body).id, 1);
  assert.equal(JSON.parse(a[1].body).status, 'ok');
  assert.equal(JSON.parse(a[2].body).error.message, 'No such endpoint');
  assert.equal(typeof JSON.parse(a[3].body).ready, 'boolean');
  // keep-alive: the same connection takes one more
  c.sock.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await until(() => answers(c.data).length === 5, 5000, 'the fifth answer');
  assert.equal(c.closed, false);
  c.sock.destroy();
});

test('a burst of 300 pipelined requests is answered in full and in order', async () => {
  const c = await conn();
  let text = '';
  for (let i = 0; i < 300; i++) text += `GET /${i % 3 === 0 ? 'health' : `nope${i}`} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  c.sock.write(text);
  await until(() => answers(c.data).length === 300, 20000, '300 answers');
  const a = answers(c.data);
  a.forEach((x, i) => assert.equal(x.status, i % 3 === 0 ? 200 : 404, `answer ${i}`));
  c.sock.destroy();
});

test('a chunked request body, with a trailer, is read whole', async () => {
  const c = await conn();
  const parts = [INIT.slice(0, 10), INIT.slice(10, 50), INIT.slice(50)];
  let text = `POST /mcp HTTP/1.1\r\n${MCP_HEADERS}Transfer-Encoding: chunked\r\n\r\n`;
  for (const p of parts) text += `${p.length.toString(16)}\r\n${p}\r\n`;
  text += '0\r\nX-Trailer: yes\r\n\r\n';
  // in pieces, as a slow client would send it
  for (let i = 0; i < text.length; i += 37) {
    c.sock.write(text.slice(i, i + 37));
    await new Promise((r) => setTimeout(r, 2));
  }
  await until(() => answers(c.data).length === 1, 5000, 'the answer');
  const [a] = answers(c.data);
  assert.equal(a.status, 200, a.body);
  assert.equal(JSON.parse(a.body).result.protocolVersion, '2025-06-18');
  assert.ok(a.headers['mcp-session-id']);
  c.sock.destroy();
});

test('Expect: 100-continue gets 100 Continue before the body is sent', async () => {
  const c = await conn();
  c.sock.write(`POST /mcp HTTP/1.1\r\n${MCP_HEADERS}Expect: 100-continue\r\nContent-Length: ${INIT.length}\r\n\r\n`);
  await until(() => /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(c.data), 5000, '100 Continue');
  c.sock.write(INIT);
  await until(() => answers(c.data).length === 2, 5000, 'the final answer');
  const a = answers(c.data);
  assert.deepEqual(a.map((x) => x.status), [100, 200]);
  assert.equal(JSON.parse(a[1].body).id, 1);
  c.sock.destroy();
});

test('another expectation is refused with 417, as JSON', async () => {
  const c = await conn();
  c.sock.write(`POST /mcp HTTP/1.1\r\n${MCP_HEADERS}Expect: 200-ok\r\nContent-Length: ${INIT.length}\r\n\r\n${INIT}`);
  await within(c.closedP, 5000, 'close after the refusal');
  const [a] = answers(c.data);
  assert.equal(a.status, 417);
  assert.equal(a.headers.connection, 'close');
  assert.match(JSON.parse(a.body).error.message, /^Expectation Failed/);
});

test('HTTP/1.0: answered in 1.0 and closed; kept open when it asks for keep-alive', async () => {
  const c = await conn();
  c.sock.write('GET /health HTTP/1.0\r\n\r\n');
  await within(c.closedP, 5000, 'close after a 1.0 answer');
  const [a] = answers(c.data);
  assert.equal(a.version, '1.0');
  assert.equal(a.status, 200);
  assert.equal(JSON.parse(a.body).status, 'ok');

  const k = await conn();
  k.sock.write('GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await until(() => answers(k.data).length === 1, 5000, 'the first answer');
  assert.equal(answers(k.data)[0].headers.connection, 'keep-alive');
  k.sock.write('GET /ready HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await until(() => answers(k.data).length === 2, 5000, 'the second answer on the same connection');
  assert.equal(k.closed, false);
  k.sock.destroy();
});

test('HEAD: the headers of a GET, no body, and the connection goes on', async () => {
  const c = await conn();
  c.sock.write('HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await until(() => answers(c.data, [true]).length === 2, 5000, 'two answers');
  const [h, g] = answers(c.data, [true]);
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-type'], 'application/json');
  assert.equal(h.body, '');
  // the next answer starts right after HEAD's headers: no body was sent
  assert.equal(g.status, 404);
  assert.equal(JSON.parse(g.body).error.message, 'No such endpoint');
  c.sock.destroy();
});

test('Connection: close is answered, then the connection is closed', async () => {
  const c = await conn();
  c.sock.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\nGET /health HTTP/1.1\r\n\r\n');
  await within(c.closedP, 5000, 'close after the answer');
  const a = answers(c.data);
  assert.equal(a.length, 1, 'nothing after a Connection: close request is answered');
  assert.equal(a[0].headers.connection, 'close');
});

test('a client that goes away mid-body costs nothing and breaks nothing', async () => {
  const health = async () => (await (await fetch(`${G.base}/health`)).json());
  for (let i = 0; i < 5; i++) {
    const c = await conn();
    c.sock.write(`POST /mcp HTTP/1.1\r\n${MCP_HEADERS}Content-Length: ${INIT.length}\r\n\r\n${INIT.slice(0, 20)}`);
    await new Promise((r) => setTimeout(r, 20));
    c.sock.end();
    await within(c.closedP, 5000, 'the server closing its end too');
    assert.equal(c.data, '', 'no answer to half a request');
  }
  // only the /health request's own connection is left
  let h;
  for (let i = 0; i < 50; i++) {
    h = await health();
    if (h.connections <= 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(h.connections, 1);
});

test('a slow-loris head, a byte at a time, is dropped at read_timeout without an answer', async () => {
  const c = await conn();
  const text = `POST /mcp HTTP/1.1\r\n${MCP_HEADERS}X-Pad: ${'a'.repeat(400)}\r\n`;
  let i = 0;
  const drip = setInterval(() => { if (!c.closed && i < text.length) c.sock.write(text[i++]); }, 50);
  try {
    await within(c.closedP, 10000, 'the slow head dropped');
  } finally {
    clearInterval(drip);
  }
  assert.equal(c.data, '');
  assert.ok(i < text.length, 'dropped while still sending');
  await until(() => /no complete request within read_timeout/.test(G.logs()), 5000, 'the log line');
  const h = await (await fetch(`${G.base}/health`)).json();
  assert.equal(h.status, 'ok');
});

test('every header line counts, however many come before it', async () => {
  const c = await conn();
  let pad = '';
  for (let i = 0; i < 60; i++) pad += `X-Pad-${i}: ${i}  \r\n`;
  // the 61st line decides: a foreign Origin is refused
  c.sock.write(`POST /mcp HTTP/1.1\r\n${pad}${MCP_HEADERS}Origin: http://evil.example\r\nContent-Length: ${INIT.length}\r\n\r\n${INIT}`);
  await until(() => answers(c.data).length === 1, 5000, 'the answer');
  const [a] = answers(c.data);
  assert.equal(a.status, 403, a.body);
  assert.equal(JSON.parse(a.body).error.message, 'Origin is not allowed');
  c.sock.destroy();
});

test('an absolute-form target is read as its path', async () => {
  const c = await conn();
  c.sock.write('GET http://127.0.0.1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await until(() => answers(c.data).length === 1, 5000, 'the answer');
  const [a] = answers(c.data);
  assert.equal(a.status, 200, a.body);
  assert.equal(JSON.parse(a.body).status, 'ok');
  c.sock.destroy();
});
