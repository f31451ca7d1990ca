// Work per call: how many heap allocations one tools/call costs the gateway
// (release build, all threads), through a stdio upstream and through a
// Streamable HTTP upstream, counted by the LD_PRELOAD shim
// tests/tools/alloccount.c. The client is the same every time: raw POSTs on
// one keep-alive connection. Also counted: JSON parses (the request is parsed
// once, the answer once) and deep copies (none).
//
// The relay alone (audit: { sinks: [] }) is held to issue 9's bounds:
// at most 100 allocations per call through stdio, 150 through HTTP. The
// same call with the default audit trail (a record per call into the
// store's SQLite sink, on the writer thread) has a guard a few above
// today's figures (docs/internals/work-per-call.md). Each figure is the
// smallest of WINDOWS windows of N calls: a timer that fires in a window
// (a health ping, an upstream's log notice) is not work per call.
//
// ALLOCS_TRACE=DIR writes the call stack of every allocation in the measured
// window to DIR/<kind>.trace (see the shim) to find where they come from.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { startGateway, freePort, tempDir, rpcMessages, EVERYTHING, ROOT } from './lib.mjs';

const RELEASE_BIN = join(ROOT, 'build', 'mcpgw');
const SHIM = join(ROOT, 'build', 'alloccount.so');
const N = 100;
const WINDOWS = 3;
const WARMUP = 20;
const BOUND = { stdio: 100, http: 150 };          // issue 9: the relay
const AUDIT_GUARD = { stdio: 104, http: 158 };    // with the default audit trail
// Slots of the counter file (enum slot in tests/tools/alloccount.c).
const SLOT = { trace: 1, malloc: 2, calloc: 3, realloc: 4, memalign: 5, load: 6, dump: 7, deepCopy: 8 };

let upstream;

before(() => {
  // The figures mean something only for the release build: build it (and
  // the shim) from this tree, whatever MCPGW_BIN the tier runs.
  // (not the sanitized variant or jobserver of a make that runs this tier).
  const env = { ...process.env };
  for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'SANITIZE']) delete env[k];
  execFileSync('make', ['-C', ROOT, '-s', '-j2', 'SANITIZE=', 'all', 'alloc-shim'], { stdio: 'inherit', env });
});

after(() => { upstream?.kill('SIGTERM'); });

function counters(file) {
  const b = readFileSync(file);
  const at = (s) => Number(b.readBigUInt64LE(s * 8));
  return {
    allocs: at(SLOT.malloc) + at(SLOT.calloc) + at(SLOT.realloc) + at(SLOT.memalign),
    malloc: at(SLOT.malloc), calloc: at(SLOT.calloc), realloc: at(SLOT.realloc),
    load: at(SLOT.load), dump: at(SLOT.dump), deepCopy: at(SLOT.deepCopy),
  };
}

function setTrace(file, on) {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(on ? 1n : 0n);
  writeSync(fd, b, 0, 8, SLOT.trace * 8);
  closeSync(fd);
}

// POST body on the one keep-alive connection; resolves { status, headers, body }.
function poster(url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const u = new URL(url);
  const post = (body, headers = {}) => new Promise((res, rej) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
        'content-length': data.length, ...headers } }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d) => { text += d; });
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, body: text }));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.end(data);
  });
  post.close = () => agent.destroy();
  return post;
}

function answerTo(res, id) {
  let json = null;
  try { json = JSON.parse(res.body); } catch { /* SSE */ }
  return (json ? [json] : rpcMessages({ json, body: res.body })).find((m) => m.id === id) || null;
}

// Start a gateway with yaml under the shim, open a session, warm up, then
// count N echo calls of tool. Returns the figures per call.
async function measure(kind, yaml, tool, audit) {
  if (!audit) yaml += 'audit:\n  sinks: []\n';
  const bound = audit ? AUDIT_GUARD[kind] : BOUND[kind];
  const dir = tempDir('mcpgw-allocs-');
  const file = join(dir, 'counters');
  writeFileSync(file, Buffer.alloc(4096));
  const env = { LD_PRELOAD: SHIM, ALLOCCOUNT_FILE: file };
  if (process.env.ALLOCS_TRACE) env.ALLOCCOUNT_TRACE = join(process.env.ALLOCS_TRACE, `${kind}${audit ? "-audit" : ""}.trace`);
  const gw = await startGateway(yaml, { bin: RELEASE_BIN, env });
  const post = poster(gw.url);
  try {
    const proto = '2025-06-18';
    const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize',
      params: { protocolVersion: proto, capabilities: {}, clientInfo: { name: 'allocs', version: '1' } } });
    assert.equal(init.status, 200, init.body);
    const h = { 'mcp-session-id': init.headers['mcp-session-id'], 'mcp-protocol-version': proto };
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, h);
    const list = answerTo(await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, h), 1);
    assert.ok(list?.result?.tools?.some((t) => t.name === tool), JSON.stringify(list).slice(0, 300));
    let id = 2;
    const call = async () => {
      const text = `call ${id} "quoted" ünï`;
      const res = await post({ jsonrpc: '2.0', id, method: 'tools/call',
        params: { name: tool, arguments: { message: text } } }, h);
      const m = answerTo(res, id);
      assert.equal(res.status, 200, res.body);
      assert.ok(m?.result?.content?.[0]?.text?.includes(text), `${id}: ${res.body.slice(0, 300)}`);
      id++;
    };
    for (let i = 0; i < WARMUP; i++) await call();
    if (env.ALLOCCOUNT_TRACE) setTrace(file, true);
    let per = null;
    const seen = [];
    for (let w = 0; w < WINDOWS; w++) {
      const before0 = counters(file);
      for (let i = 0; i < N; i++) await call();
      const after0 = counters(file);
      const p = {};
      for (const k of Object.keys(after0)) p[k] = (after0[k] - before0[k]) / N;
      seen.push(p.allocs.toFixed(1));
      if (!per || p.allocs < per.allocs) per = p;
    }
    if (env.ALLOCCOUNT_TRACE) setTrace(file, false);
    const line = `allocs ${kind}${audit ? ' with the audit trail' : ''}: ${per.allocs.toFixed(1)} allocations per tools/call ` +
      `(malloc ${per.malloc.toFixed(1)}, calloc ${per.calloc.toFixed(1)}, realloc ${per.realloc.toFixed(1)}; ` +
      `bound ${bound}; windows ${seen.join(' ')}), JSON parses ${per.load.toFixed(2)}, dumps ${per.dump.toFixed(2)}, ` +
      `deep copies ${per.deepCopy.toFixed(2)} per call (N=${N} x ${WINDOWS})`;
    console.log(line);
    return { ...per, bound };
  } finally {
    post.close();
    await gw.stop();
  }
}

// What every measurement asserts: within its bound; the client's request
// parsed once and the upstream's answer once (never the request again after
// it was serialised for the upstream); no deep copy of the answer.
function check(kind, per) {
  assert.ok(per.allocs <= per.bound, `${per.allocs} allocations per call through ${kind} (bound ${per.bound})`);
  assert.ok(per.load <= 2, `${per.load} JSON parses per call: the request is parsed again after serialisation`);
  assert.equal(per.deepCopy, 0, `${per.deepCopy} deep copies per call`);
}

const STDIO = `servers:
  e:
    command: node
    args: [${JSON.stringify(EVERYTHING)}, "stdio"]
`;

async function httpUpstream() {
  if (upstream) return upstream.port;
  const port = await freePort();
  upstream = spawn('node', ['-r', join(ROOT, 'tests/fixtures/loopback-only.cjs'), EVERYTHING, 'streamableHttp'],
    { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  upstream.port = port;
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('upstream did not start')), 20000);
    upstream.stderr.on('data', (d) => { if (/listening/i.test(d.toString())) { clearTimeout(t); res(); } });
  });
  return port;
}

const HTTP = (port) => `servers:
  remote:
    url: "http://127.0.0.1:${port}/mcp"
`;

test(`issue 9: a tools/call through a stdio upstream costs at most ${BOUND.stdio} allocations, parsed once, no deep copy`, async () => {
  check('stdio', await measure('stdio', STDIO, 'e__echo', false));
});

test(`issue 9: a tools/call through a Streamable HTTP upstream costs at most ${BOUND.http} allocations, parsed once, no deep copy`, async () => {
  check('http', await measure('http', HTTP(await httpUpstream()), 'remote__echo', false));
});

test(`with the default audit trail: at most ${AUDIT_GUARD.stdio} (stdio) and ${AUDIT_GUARD.http} (HTTP) allocations per call`, async () => {
  check('stdio', await measure('stdio', STDIO, 'e__echo', true));
  check('http', await measure('http', HTTP(await httpUpstream()), 'remote__echo', true));
});
