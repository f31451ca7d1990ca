// OpenTelemetry traces (issue 12 item 6; docs/operations.md "Traces"): a
// receiver here (node:http) takes the gateway's OTLP/HTTP JSON exports and
// decodes each one against the OTLP protobuf schema (tests/fixtures/otlp,
// protobufjs): every key must be a field of its message, the hex ids and
// the enums as OTLP/JSON writes them, and the message must encode and
// decode. Then what an operator relies on: a SERVER span per call and a
// CLIENT span per upstream request in one trace, named and described by the
// MCP semantic conventions; a client's traceparent (header or _meta)
// honoured and passed on to an HTTP upstream (header-recorder.mjs) and a
// stdio upstream (meta-echo.mjs); error.type on failures; and the bad-input
// row: a receiver that is down, answers 500 or hangs costs spans (counted,
// on /metrics too), never calls; /metrics's tracing counters never go down
// across reloads that replace the tracer, and count each span once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ROOT, startGateway, freePort, mcpgw, tempDir } from './lib.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileLines } from './audit_lib.mjs';

const OTLP_DIR = join(ROOT, 'tests', 'fixtures', 'otlp');
const META_ECHO = join(ROOT, 'tests', 'fixtures', 'meta-echo.mjs');
const RECORDER = join(ROOT, 'tests', 'fixtures', 'header-recorder.mjs');
const KIND_SERVER = 2;
const KIND_CLIENT = 3;

let ExportRequest;
let receiver;
let recorder;
let gw;

const hex = (n) => randomBytes(n).toString('hex');

// ---- the OTLP schema ---------------------------------------------------------

async function loadSchema() {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => join(OTLP_DIR, target);
  await root.load('opentelemetry/proto/collector/trace/v1/trace_service.proto');
  root.resolveAll();
  return root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
}

// Every key of obj a field of type (by its JSON name), recursively; bytes
// in hex, enums as numbers of the enum, 64-bit integers as decimal strings
// (the OTLP/JSON encoding).
function checkFields(type, obj, path) {
  assert.equal(typeof obj, 'object', `${path}: an object`);
  for (const [key, val] of Object.entries(obj)) {
    const f = type.fields[key];
    assert.ok(f, `${path}.${key} is not a field of ${type.fullName}`);
    const items = f.repeated ? val : [val];
    if (f.repeated) assert.ok(Array.isArray(val), `${path}.${key}: an array`);
    items.forEach((v, i) => {
      const at = f.repeated ? `${path}.${key}[${i}]` : `${path}.${key}`;
      if (f.resolvedType instanceof protobuf.Type) checkFields(f.resolvedType, v, at);
      else if (f.resolvedType instanceof protobuf.Enum) assert.ok(Number.isInteger(v) && v in f.resolvedType.valuesById, `${at}: ${v} is not a ${f.resolvedType.name}`);
      else if (f.type === 'bytes') assert.match(v, /^([0-9a-f]{2})*$/, `${at}: lower-case hex`);
      else if (/^(u?int64|s?fixed64)$/.test(f.type)) assert.match(String(v), /^-?\d+$/, `${at}: a decimal integer`);
      else if (f.type === 'string') assert.equal(typeof v, 'string', `${at}: a string`);
    });
  }
}

const ID_KEYS = ['traceId', 'spanId', 'parentSpanId'];

// OTLP/JSON ids are hex where proto3's JSON mapping has base64: as bytes
// for protobufjs.
function idsToBytes(req) {
  const copy = structuredClone(req);
  for (const rs of copy.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        for (const k of ID_KEYS) if (k in s) s[k] = Buffer.from(s[k], 'hex');
        for (const l of s.links ?? []) for (const k of ID_KEYS) if (k in l) l[k] = Buffer.from(l[k], 'hex');
      }
    }
  }
  return copy;
}

// One export body, checked against the schema; its spans, each with the
// resource and scope it came with.
function decodeExport(body) {
  const json = JSON.parse(body);
  checkFields(ExportRequest, json, 'request');
  const msg = ExportRequest.fromObject(idsToBytes(json));
  assert.equal(ExportRequest.verify(msg), null);
  const back = ExportRequest.decode(ExportRequest.encode(msg).finish());
  const spans = [];
  back.resourceSpans.forEach((rs, i) => rs.scopeSpans.forEach((ss, j) => ss.spans.forEach((s, k) => {
    assert.equal(s.traceId.length, 16, 'trace id: 16 bytes');
    assert.equal(s.spanId.length, 8, 'span id: 8 bytes');
    assert.ok(s.parentSpanId.length === 0 || s.parentSpanId.length === 8, 'parent span id: none or 8 bytes');
    spans.push({ ...json.resourceSpans[i].scopeSpans[j].spans[k],
      resource: json.resourceSpans[i].resource, scope: json.resourceSpans[i].scopeSpans[j].scope });
  })));
  return spans;
}

// Attributes by key: a string's value, or an int's (decimal, as OTLP/JSON
// writes it) prefixed with '#' so that a string attribute sent as an int
// (or the reverse) does not pass.
const attrsOf = (s) => Object.fromEntries((s.attributes ?? []).map((a) =>
  [a.key, a.value.stringValue ?? (a.value.intValue === undefined ? undefined : `#${a.value.intValue}`)]));

// ---- the receiver --------------------------------------------------------------

function startReceiver({ hang = false, status = 200 } = {}) {
  const posts = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      posts.push({ method: req.method, path: req.url, headers: req.headers, body });
      if (hang) return; // a receiver that takes the request and never answers
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    posts,
    url: `http://127.0.0.1:${server.address().port}`,
    spans: () => posts.flatMap((p) => decodeExport(p.body)),
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  })));
}

// ---- /metrics ----------------------------------------------------------------------

// The tracing figures of g's /metrics ({} when the families are absent);
// promtool must accept the scrape.
async function traceMetrics(g) {
  const r = await fetch(`${g.base}/metrics`);
  assert.equal(r.status, 200);
  const text = await r.text();
  const p = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(p.status, 0, `promtool check metrics:\n${p.stdout}${p.stderr}`);
  const out = {};
  for (const m of text.matchAll(/^mcpgw_trace_spans_(exported_total|queued|dropped_total\{reason="(\w+)"\}) (\d+)$/gm))
    out[m[2] ? `dropped_${m[2]}` : m[1]] = Number(m[3]);
  return out;
}

// Poll g's tracing figures until pred holds; the last ones.
async function traceMetricsWhen(g, pred, what) {
  for (const end = Date.now() + 20000; ;) {
    const m = await traceMetrics(g);
    if (pred(m)) return m;
    if (Date.now() > end) assert.fail(`${what}: ${JSON.stringify(m)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The first span for which pred holds, once the receiver has it.
async function spanWhere(pred, what) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const s = receiver.spans().find(pred);
    if (s) return s;
    if (Date.now() > deadline) assert.fail(`no span ${what}; got ${JSON.stringify(receiver.spans().map((x) => x.name))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startFixture(script, args, marker) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${script} not up`)); }, 15000);
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = new RegExp(`${marker}=(\\S+)`).exec(out);
      if (m) { clearTimeout(timer); resolve({ proc, url: m[1] }); }
    });
  });
}

const servers = () => `servers:
  meta:
    command: node
    args: ["${META_ECHO}"]
  rec:
    url: "${recorder.url}/s/rec/mcp"
`;

before(async () => {
  ExportRequest = await loadSchema();
  receiver = await startReceiver();
  recorder = await startFixture(RECORDER, ['0'], 'RECORDER_URL');
  gw = await startGateway(`tracing:
  otlp_endpoint: "${receiver.url}"
  service_name: mcpgw-test
  headers: { X-Otlp-Token: "t0ken" }
  batch: { max_spans: 64, interval: 0.1 }
audit:
  sinks: [{ type: sqlite }, { type: file, path: audit.jsonl }]
${servers()}`);
});

after(async () => {
  try { await gw?.stop(); } finally {
    recorder?.proc.kill('SIGTERM');
    await receiver?.close();
  }
});

async function connect(headers = {}) {
  const client = new Client({ name: 'traces-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(gw.url), { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
}

test('a tools/call gives a SERVER span and a CLIENT span of one trace, with the MCP attributes', async () => {
  const { client, transport } = await connect();
  try {
    const r = await client.callTool({ name: 'meta__meta', arguments: {} });
    const meta = JSON.parse(r.content[0].text);
    const server = await spanWhere((s) => s.kind === KIND_SERVER && s.name === 'tools/call meta__meta' &&
      attrsOf(s)['mcp.session.id'] === transport.sessionId, 'SERVER tools/call meta__meta');
    const up = await spanWhere((s) => s.kind === KIND_CLIENT && s.parentSpanId === server.spanId, 'CLIENT under it');

    assert.equal(up.traceId, server.traceId);
    assert.equal(up.name, 'tools/call meta'); // the upstream's own name
    assert.equal(server.parentSpanId, undefined, 'no context came in: a new trace');
    assert.ok(BigInt(server.startTimeUnixNano) <= BigInt(up.startTimeUnixNano));
    assert.ok(BigInt(up.endTimeUnixNano) <= BigInt(server.endTimeUnixNano));
    const sa = attrsOf(server);
    assert.equal(sa['mcp.method.name'], 'tools/call');
    assert.equal(sa['gen_ai.tool.name'], 'meta__meta');
    assert.equal(sa['gen_ai.operation.name'], 'execute_tool');
    assert.match(sa['jsonrpc.request.id'], /^\d+$/);
    assert.equal(sa['mcp.protocol.version'], transport.protocolVersion);
    assert.equal(sa['network.transport'], 'tcp');
    assert.equal(sa['client.address'], '127.0.0.1');
    assert.match(sa['client.port'], /^#\d+$/);
    assert.equal(sa['error.type'], undefined);
    assert.equal(server.status, undefined);
    const ua = attrsOf(up);
    assert.equal(ua['mcp.method.name'], 'tools/call');
    assert.equal(ua['gen_ai.tool.name'], 'meta');
    assert.equal(ua['network.transport'], 'pipe');
    assert.equal(ua['mcpgw.server.name'], 'meta');
    assert.match(ua['jsonrpc.request.id'], /^\d+$/);
    assert.match(ua['mcp.protocol.version'], /^\d{4}-\d{2}-\d{2}$/);
    // the stdio upstream got the CLIENT span as its parent, in _meta
    assert.equal(meta.traceparent, `00-${server.traceId}-${up.spanId}-01`);

    const res = attrsOf(server.resource);
    assert.equal(res['service.name'], 'mcpgw-test');
    assert.ok(res['service.version']);
    assert.equal(server.scope.name, 'mcpgw');
    const p = receiver.posts[0];
    assert.equal(p.method, 'POST');
    assert.equal(p.path, '/v1/traces');
    assert.equal(p.headers['content-type'], 'application/json');
    assert.equal(p.headers['x-otlp-token'], 't0ken');
  } finally {
    await client.close();
  }
});

test('a traceparent header is honoured and reaches an HTTP upstream as a header', async () => {
  const T = hex(16);
  const P = hex(8);
  const { client } = await connect({ traceparent: `00-${T}-${P}-01`, tracestate: 'vendor=abc' });
  try {
    const r = await client.callTool({ name: 'rec__last_headers', arguments: {} });
    const seen = JSON.parse(r.content[0].text);
    const server = await spanWhere((s) => s.kind === KIND_SERVER && s.traceId === T &&
      s.name === 'tools/call rec__last_headers', 'SERVER in the client\'s trace');
    const up = await spanWhere((s) => s.kind === KIND_CLIENT && s.parentSpanId === server.spanId, 'CLIENT under it');
    assert.equal(server.parentSpanId, P);
    assert.equal(server.traceState, 'vendor=abc');
    assert.equal(up.traceId, T);
    assert.equal(seen.headers.traceparent, `00-${T}-${up.spanId}-01`);
    assert.equal(seen.headers.tracestate, 'vendor=abc');
    const ua = attrsOf(up);
    assert.equal(ua['server.address'], '127.0.0.1');
    assert.equal(ua['server.port'], `#${new URL(recorder.url).port}`);
    assert.equal(ua['network.transport'], 'tcp');
    assert.equal(ua['network.protocol.name'], 'http');
    assert.equal(ua['gen_ai.tool.name'], 'last_headers');
    // the audit record of the call names its trace
    let rec;
    for (let i = 0; i < 100 && !rec; i++) {
      rec = fileLines(join(gw.dir, 'audit.jsonl')).map((l) => JSON.parse(l))
        .find((x) => x.trace_id === T && x.tool_name === 'rec__last_headers');
      if (!rec) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(rec, 'an audit record with the client\'s trace id');
  } finally {
    await client.close();
  }
});

test('a traceparent in params._meta wins over the header (kept as a link) and reaches a stdio upstream', async () => {
  const [T1, P1, T2, P2] = [hex(16), hex(8), hex(16), hex(8)];
  const { client } = await connect({ traceparent: `00-${T1}-${P1}-01` });
  try {
    const r = await client.callTool({ name: 'meta__meta', arguments: {},
      _meta: { traceparent: `00-${T2}-${P2}-01`, tracestate: 'k=v' } });
    const meta = JSON.parse(r.content[0].text);
    const server = await spanWhere((s) => s.kind === KIND_SERVER && s.traceId === T2, 'SERVER in _meta\'s trace');
    const up = await spanWhere((s) => s.kind === KIND_CLIENT && s.parentSpanId === server.spanId, 'CLIENT under it');
    assert.equal(server.parentSpanId, P2);
    assert.deepEqual(server.links, [{ traceId: T1, spanId: P1 }]);
    assert.equal(meta.traceparent, `00-${T2}-${up.spanId}-01`);
    assert.equal(meta.tracestate, 'k=v');
  } finally {
    await client.close();
  }
});

test('a 2026-07-28 request: its traceparent header is honoured, its span has no session', async () => {
  const T = hex(16);
  const P = hex(8);
  const params = { name: 'meta__meta', arguments: {}, _meta: {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } };
  const r = await fetch(gw.url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 'm1', method: 'tools/call', params }),
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'meta__meta',
      traceparent: `00-${T}-${P}-01` } });
  const text = await r.text();
  const body = JSON.parse(text.startsWith('{') ? text : text.split('\n').filter((l) => l.startsWith('data:')).pop().slice(5));
  const meta = JSON.parse(body.result.content[0].text);
  const server = await spanWhere((s) => s.kind === KIND_SERVER && s.traceId === T, 'SERVER of the 2026 request');
  const up = await spanWhere((s) => s.kind === KIND_CLIENT && s.parentSpanId === server.spanId, 'CLIENT under it');
  assert.equal(server.parentSpanId, P);
  const sa = attrsOf(server);
  assert.equal(sa['mcp.protocol.version'], '2026-07-28');
  assert.equal(sa['mcp.session.id'], undefined);
  assert.equal(sa['jsonrpc.request.id'], 'm1');
  assert.equal(meta.traceparent, `00-${T}-${up.spanId}-01`);
});

test('a parent that was not sampled: nothing exported, the context still passed on', async () => {
  const T = hex(16);
  const { client } = await connect({ traceparent: `00-${T}-${hex(8)}-00` });
  try {
    const r = await client.callTool({ name: 'meta__meta', arguments: {} });
    const meta = JSON.parse(r.content[0].text);
    assert.match(meta.traceparent, new RegExp(`^00-${T}-[0-9a-f]{16}-00$`));
    // spans leave in order: once a later call's are in, that one's would be
    const { client: c2, transport: t2 } = await connect();
    await c2.callTool({ name: 'meta__meta', arguments: {} });
    await spanWhere((s) => attrsOf(s)['mcp.session.id'] === t2.sessionId && s.kind === KIND_SERVER &&
      s.name === 'tools/call meta__meta', 'of the later call');
    await c2.close();
    assert.equal(receiver.spans().filter((s) => s.traceId === T).length, 0);
  } finally {
    await client.close();
  }
});

test('failures carry error.type: the JSON-RPC code, or tool_error', async () => {
  const { client, transport } = await connect();
  const mine = (s) => attrsOf(s)['mcp.session.id'] === transport.sessionId;
  try {
    await assert.rejects(client.callTool({ name: 'meta__fail', arguments: {} }), /failed on purpose/);
    const failS = await spanWhere((s) => mine(s) && s.name === 'tools/call meta__fail', 'SERVER of fail');
    const failC = await spanWhere((s) => s.kind === KIND_CLIENT && s.parentSpanId === failS.spanId, 'CLIENT of fail');
    for (const s of [failS, failC]) {
      assert.equal(attrsOf(s)['error.type'], '-32000');
      assert.equal(attrsOf(s)['rpc.response.status_code'], '-32000');
      assert.deepEqual(s.status, { code: 2, message: 'failed on purpose' });
    }

    const te = await client.callTool({ name: 'meta__tool_error', arguments: {} });
    assert.equal(te.isError, true);
    const teS = await spanWhere((s) => mine(s) && s.name === 'tools/call meta__tool_error', 'SERVER of tool_error');
    const teC = await spanWhere((s) => s.kind === KIND_CLIENT && s.parentSpanId === teS.spanId, 'CLIENT of tool_error');
    for (const s of [teS, teC]) {
      assert.equal(attrsOf(s)['error.type'], 'tool_error');
      assert.equal(s.status.code, 2);
    }

    // answered by the gateway itself: a SERVER span and no CLIENT span
    await assert.rejects(client.callTool({ name: 'meta__nope', arguments: {} }));
    const nope = await spanWhere((s) => mine(s) && s.name === 'tools/call meta__nope', 'SERVER of an unknown tool');
    assert.match(attrsOf(nope)['error.type'], /^-32\d{3}$/);
    assert.equal(receiver.spans().filter((s) => s.parentSpanId === nope.spanId).length, 0);
  } finally {
    await client.close();
  }
});

test('/metrics counts the spans the receiver took, and none dropped', async () => {
  const { client } = await connect();
  try {
    await client.callTool({ name: 'meta__meta', arguments: {} });
  } finally {
    await client.close();
  }
  await spanWhere((s) => s.kind === KIND_SERVER && s.name === 'tools/call meta__meta', 'SERVER tools/call meta__meta');
  // every span the receiver holds was counted as exported, once
  const m = await traceMetricsWhen(gw, (x) => x.exported_total === receiver.spans().length,
    `exported_total is not the ${receiver.spans().length} spans the receiver took`);
  assert.ok(m.exported_total >= 2, JSON.stringify(m));
  assert.deepEqual([m.dropped_queue, m.dropped_export, m.dropped_stop], [0, 0, 0]);
  assert.equal(typeof m.queued, 'number');
});

// ---- the bad-input row: the receiver is down, or hangs ---------------------------

// n tool calls through a gateway whose receiver is url; every one must
// succeed. The gateway's log once it stopped.
async function callsWithReceiver(url, n, extra = '', scraped = {}) {
  const g = await startGateway(`tracing:
  otlp_endpoint: "${url}"
  batch: { max_spans: 2, interval: 0.05 }
  queue: 4
${extra}${servers()}`);
  const client = new Client({ name: 'traces-test', version: '1' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
    for (let i = 0; i < n; i++) {
      const r = await client.callTool({ name: 'meta__meta', arguments: {} });
      assert.match(JSON.parse(r.content[0].text).traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    await client.close();
    if (scraped.until) Object.assign(scraped, await traceMetricsWhen(g, scraped.until, scraped.what));
  } finally {
    await g.stop();
  }
  return g.logs();
}

function totals(log) {
  const m = /tracing: (\d+) spans exported, (\d+) dropped \(queue full (\d+), export failed (\d+), unsent at stop (\d+)\)/.exec(log);
  assert.ok(m, `no totals in the log:\n${log}`);
  const [exported, dropped, queueFull, exportFailed, atStop] = m.slice(1).map(Number);
  return { exported, dropped, queueFull, exportFailed, atStop };
}

test('the receiver is down: every call succeeds, the spans are dropped and counted', async () => {
  const port = await freePort(); // nothing listens there
  const m = { until: (x) => x.dropped_export > 0, what: 'no failed export on /metrics' };
  const log = await callsWithReceiver(`http://127.0.0.1:${port}`, 20, '', m);
  assert.equal(m.exported_total, 0);
  const t = totals(log);
  assert.ok(m.dropped_export <= t.exportFailed && m.dropped_queue <= t.queueFull, 'the log has the final counts');
  assert.equal(t.exported, 0);
  assert.ok(t.dropped >= 40, `two spans a call were dropped: ${JSON.stringify(t)}`);
  assert.equal(t.dropped, t.queueFull + t.exportFailed + t.atStop);
  assert.ok(t.exportFailed > 0, `failed exports were counted: ${JSON.stringify(t)}`);
  assert.match(log, /spans dropped: .*export of \d+ spans to tracing.otlp_endpoint failed/);
});

test('the receiver answers 500: the calls succeed, /metrics counts the spans as dropped by their export', async () => {
  const failing = await startReceiver({ status: 500 });
  try {
    const m = { until: (x) => x.dropped_export >= 2, what: 'no failed export on /metrics' };
    const log = await callsWithReceiver(failing.url, 4, '', m);
    assert.equal(m.exported_total, 0);
    assert.ok(failing.posts.length >= 1, 'the exports reached the receiver');
    assert.match(log, /export of \d+ spans to tracing.otlp_endpoint failed: HTTP 500/);
  } finally {
    await failing.close();
  }
});

test('the receiver hangs: every call succeeds, the queue stays bounded and what is past it is dropped', async () => {
  const slow = await startReceiver({ hang: true });
  try {
    const m = { until: (x) => x.dropped_queue > 0, what: 'no span dropped at the full queue on /metrics' };
    const log = await callsWithReceiver(slow.url, 20, '', m);
    assert.ok(m.queued <= 4, `the queue (4) is bounded: ${JSON.stringify(m)}`);
    const t = totals(log);
    assert.equal(t.exported, 0);
    assert.ok(t.queueFull > 0, `spans past the queue (4) were dropped: ${JSON.stringify(t)}`);
    assert.ok(t.dropped >= 40, `none exported, all counted: ${JSON.stringify(t)}`);
    assert.match(log, /spans dropped: the export queue is full \(tracing.queue\)/);
    assert.ok(slow.posts.length >= 1, 'the export was attempted');
  } finally {
    await slow.close();
  }
});

test('config check refuses a tracing block without an endpoint, and a ratio out of range', () => {
  const dir = tempDir();
  const check = (yaml) => {
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, yaml);
    try { mcpgw('config', 'check', '-c', cfg); return ''; } catch (e) { return String(e.stderr) + String(e.stdout); }
  };
  assert.match(check('tracing:\n  sample_ratio: 0.5\n'), /tracing needs otlp_endpoint/);
  assert.match(check('tracing:\n  otlp_endpoint: "http://127.0.0.1:4318"\n  sample_ratio: 1.5\n'),
    /sample_ratio.*expected a number from 0 to 1/);
  assert.match(check('tracing:\n  otlp_endpoint: "grpc://127.0.0.1:4317"\n'), /otlp_endpoint.*http/);
  assert.equal(check('tracing:\n  otlp_endpoint: "http://127.0.0.1:4318"\n  sample_ratio: 0.25\n'), '');
});

test('a reload turns tracing on, moves it to another receiver (what the first had queued still reaches it), applies the ratio, and turns it off', async () => {
  const first = await startReceiver();
  const second = await startReceiver();
  const held = `${servers()}  mb:\n    command: node\n    args: ["${join(ROOT, 'tests', 'fixtures', 'misbehave-server.mjs')}"]\n`;
  const release = join(tempDir(), 'release');
  const g = await startGateway(held);
  const listen = readFileSync(g.cfg, 'utf8').split('\n')[0];
  const applied = () => (g.logs().match(/"reload \d+ applied/g) || []).length;
  const until = async (pred, what) => {
    for (const end = Date.now() + 20000; !pred();) {
      if (Date.now() > end) assert.fail(`${what}; log:\n${g.logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const reload = async (tracing) => {
    const n = applied();
    writeFileSync(g.cfg, `${listen}\n${tracing}${held}`);
    g.proc.kill('SIGHUP');
    await until(() => applied() > n, 'the reload was not applied');
  };
  const client = new Client({ name: 'traces-test', version: '1' });
  // the context the upstream got: "00-{trace}-{span}-{flags}", or undefined
  const passedOn = async () => JSON.parse((await client.callTool({ name: 'meta__meta', arguments: {} })).content[0].text)?.traceparent;
  const servedIn = (rec, tp) => rec.spans().some((s) => s.kind === KIND_SERVER && s.traceId === tp.split('-')[1]);
  // /metrics after each step: no counter of the tracers' went down
  let last = {};
  const counters = ['exported_total', 'dropped_queue', 'dropped_export', 'dropped_stop'];
  const scrape = async (step) => {
    const m = await traceMetrics(g);
    for (const k of counters) assert.ok((m[k] ?? 0) >= (last[k] ?? 0), `${step}: ${k} went down: ${JSON.stringify(last)} -> ${JSON.stringify(m)}`);
    last = m;
    return m;
  };
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
    assert.equal(await passedOn(), undefined, 'tracing off: no context');
    assert.deepEqual(await scrape('never on'), {}, 'tracing never on: no tracing families');

    // on, with a batch that would wait an hour
    await reload(`tracing:\n  otlp_endpoint: "${first.url}"\n  batch: { max_spans: 512, interval: 3600 }\n`);
    const queued = await passedOn();
    assert.match(queued, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // a call still open at the next reload (held by the upstream until a file exists)
    const open = client.callTool({ name: 'mb__slow', arguments: { until: release } });
    await until(() => g.logs().includes(`until ${release}`), 'mb holds the call');

    // another receiver, nothing sampled: the spans queued for the first go there now
    await reload(`tracing:\n  otlp_endpoint: "${second.url}"\n  sample_ratio: 0\n  batch: { max_spans: 1, interval: 0.1 }\n`);
    await until(() => servedIn(first, queued), 'the spans queued before the reload did not reach their receiver');
    await scrape('moved to the second receiver');
    // and the open call's spans, once it ends, go where its trace started
    writeFileSync(release, '');
    await open;
    await until(() => first.spans().some((s) => s.kind === KIND_SERVER && s.name === 'tools/call mb__slow'),
      'the spans of the call open at the reload were lost');
    const unsampled = await passedOn();
    assert.match(unsampled, /-00$/, 'sample_ratio 0: passed on, not sampled');
    // the first tracer is freed once it sent all: its counts stay in the totals
    await until(() => g.logs().match(/tracing: \d+ spans exported/), 'the first tracer did not stop');
    assert.ok((await scrape('first tracer freed')).exported_total >= 4, JSON.stringify(last));

    // every trace kept again, at the second receiver
    await reload(`tracing:\n  otlp_endpoint: "${second.url}"\n  batch: { max_spans: 1, interval: 0.1 }\n`);
    const kept = await passedOn();
    assert.match(kept, /-01$/);
    await until(() => servedIn(second, kept), 'no span at the new receiver');
    assert.ok(!servedIn(second, unsampled) && !servedIn(first, unsampled), 'the unsampled call was not exported');
    assert.ok(!servedIn(first, kept) && !servedIn(second, queued), 'each span went to the receiver of its time');

    await scrape('every trace kept');

    await reload('');
    assert.equal(await passedOn(), undefined, 'tracing off again');
    // off: the totals stay, every span either receiver took counted once
    const spans = () => first.spans().length + second.spans().length;
    await until(() => g.logs().match(/tracing: \d+ spans exported/g).length >= 3, 'the tracers did not stop');
    const off = await scrape('tracing off');
    assert.equal(off.exported_total, spans(), JSON.stringify(off));
    assert.deepEqual([off.queued, off.dropped_queue, off.dropped_export, off.dropped_stop], [0, 0, 0, 0]);
    await client.close();
  } finally {
    await g.stop();
    await first.close();
    await second.close();
  }
  // the replaced tracers reported what they sent, none lost
  const totals = [...g.logs().matchAll(/tracing: (\d+) spans exported, (\d+) dropped/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.ok(totals.length >= 3, g.logs());
  assert.ok(totals.every(([, dropped]) => dropped === 0), JSON.stringify(totals));
  assert.ok(totals.some(([exported]) => exported >= 4),
    `the first tracer sent the SERVER and CLIENT spans of both its calls: ${JSON.stringify(totals)}`);
});
