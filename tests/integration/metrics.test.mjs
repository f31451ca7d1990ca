// GET /metrics (docs/operations.md, "Metrics"): calls made through the
// gateway with the SDK client (ok, error, denied by the policy, rate
// limited) come out of a scrape as counters and histogram counts that match
// them, a guardrail's decision too; `promtool check metrics` accepts the scrape; a real Prometheus
// server scrapes the gateway and answers queries with the same numbers;
// 10,000 distinct tool names keep the series count bounded (the rest are
// folded under "_other"); metrics.access: admin asks for a key with the
// admin action; another path, or enabled: false, moves or hides it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startGateway, tempDir, freePort, post, rpc, rawHttp, ROOT, withGatewayLog, apikeyCreate,
  writeGatewayFiles, allowAllRole, bearerClient, apiKeyAuthYaml, rpcError,
} from './lib.mjs';

const NAMED = join(ROOT, 'tests', 'fixtures', 'named-tools.mjs');
const DURATION = 'mcp_server_operation_duration_seconds';
const TOOL_CAP = 50;
const POLICY = `
roles:
  user:
    permissions:
      - resource: "mcp:nt:*"
        actions: ["*"]
  apiadmin:
    permissions:
      - resource: "mcp:admin:*"
        actions: [admin]
${allowAllRole('admin')}rules:
  - name: no-secret
    condition: { mcp_server: "nt", tool_name_pattern: "secret", action: invoke_tool }
    priority: 10
    action: deny
tool_quotas:
  "nt__limited": { requests_per_minute: 1, burst: 2 }
default_policy: deny
`;
const serverYaml = `servers:\n  nt:\n    command: node\n    args: ["${NAMED}", "nt", "hello,secret,limited"]\n`;

let gw, dir, port;
const keys = {};

before(async () => {
  dir = tempDir();
  port = await freePort();
  const body = serverYaml + apiKeyAuthYaml(port) + `metrics:\n  max_tools_per_server: ${TOOL_CAP}\n`;
  const cfg = writeGatewayFiles(dir, port, body, POLICY);
  keys.user = apikeyCreate(cfg, 'user', 'user');
  keys.admin = apikeyCreate(cfg, 'admin', 'admin');
  gw = await startGateway(body, { dir, port });
});
after(async () => { await gw?.stop(); });

// The samples of a scrape: [{ name, labels: {..}, value }].
function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = {};
    for (const l of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

// The value of the one sample of name whose labels are exactly these.
function value(samples, name, labels = {}) {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
  assert.equal(found.length, 1, `${name}${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0].value;
}

async function scrape(path = '/metrics', headers = {}) {
  const r = await fetch(`${gw.base}${path}`, { headers });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type'), text };
}

function promtoolCheck(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
}

const call = (labels) => ({ mcp_method_name: 'tools/call', mcp_server: 'nt', ...labels });
const codes = {};
let successes = 0;

test('calls through the gateway are counted as they ended; promtool accepts the scrape', withGatewayLog(async () => {
  const client = await bearerClient(gw.url, keys.user, 'metrics-test');
  const fail = async (name) => {
    const e = await rpcError(() => client.callTool({ name, arguments: {} }));
    codes[e.code] = (codes[e.code] || 0) + 1;
    return e.code;
  };
  for (let i = 0; i < 2; i++) await client.callTool({ name: 'nt__hello', arguments: {} });
  // the default guardrails let a secret in the arguments through, noted as warn
  await client.callTool({ name: 'nt__hello', arguments: { text: 'key AKIAIOSFODNN7EXAMPLE here' } });
  assert.equal(await fail('nt__nope'), -32602);
  assert.equal(await fail('nt__nope'), -32602);
  await fail('nt__secret'); // denied by the policy: answered as if it did not exist
  await client.callTool({ name: 'nt__limited', arguments: {} });
  await client.callTool({ name: 'nt__limited', arguments: {} });
  assert.equal(await fail('nt__limited'), -32029); // burst 2
  successes = 5;

  const open = parse((await scrape()).text); // while the client's session is open
  assert.equal(value(open, 'mcpgw_sessions', { era: '2025', transport: 'streamable_http' }), 1);
  assert.ok(value(open, 'mcpgw_http_connections') >= 1);
  await client.close();

  const r = await scrape();
  assert.equal(r.status, 200);
  assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
  promtoolCheck(r.text);
  const s = parse(r.text);
  const count = (labels) => value(s, `${DURATION}_count`, labels);
  assert.equal(count(call({ gen_ai_tool_name: 'nt__hello', outcome: 'success' })), 3);
  assert.equal(count(call({ gen_ai_tool_name: 'nt__limited', outcome: 'success' })), 2);
  assert.equal(count(call({ gen_ai_tool_name: 'nt__limited', outcome: 'rate_limited' })), 1);
  assert.equal(count(call({ gen_ai_tool_name: 'nt__secret', outcome: 'denied' })), 1);
  // an unknown tool has no server: counted under mcp_server=""
  assert.equal(count(call({ mcp_server: '', gen_ai_tool_name: 'nt__nope', outcome: 'error' })), 2);
  // the buckets are cumulative and end with the count
  const hello = call({ gen_ai_tool_name: 'nt__hello', outcome: 'success' });
  assert.equal(value(s, `${DURATION}_bucket`, { ...hello, le: '+Inf' }), 3);
  assert.ok(value(s, `${DURATION}_bucket`, { ...hello, le: '0.001' }) <= value(s, `${DURATION}_bucket`, { ...hello, le: '300' }));
  assert.ok(value(s, `${DURATION}_sum`, hello) > 0);

  assert.equal(value(s, 'mcpgw_requests_total', { mcp_method_name: 'tools/call', outcome: 'success' }), successes);
  for (const [code, n] of Object.entries(codes)) {
    assert.equal(value(s, 'mcpgw_errors_total', { mcp_method_name: 'tools/call', rpc_response_status_code: code }), n,
      `errors with code ${code}`);
  }
  assert.equal(value(s, 'mcpgw_guardrail_decisions_total', { detector: 'secrets', action: 'warn', direction: 'request' }), 1);
  assert.equal(value(s, 'mcpgw_rate_limit_refusals_total', { limit: 'tool' }), 1);
  assert.equal(value(s, 'mcpgw_rate_limit_refusals_total', { limit: 'principal' }), 0);
  assert.equal(value(s, 'mcpgw_upstream_up', { mcp_server: 'nt' }), 1);
  assert.equal(value(s, 'mcpgw_upstream_state', { mcp_server: 'nt', state: 'ready' }), 1);
  assert.equal(value(s, 'mcpgw_upstream_breaker_state', { mcp_server: 'nt', state: 'closed' }), 1);
  assert.equal(value(s, 'mcpgw_upstream_restarts_total', { mcp_server: 'nt' }), 0);
  assert.equal(value(s, 'mcpgw_audit_sink_up', { sink: `sqlite ${join(dir, 'mcpgw.db')}`, type: 'sqlite' }), 1);
  assert.equal(value(s, 'mcpgw_audit_state', { state: 'ok' }), 1);
  assert.ok(value(s, 'mcpgw_audit_last_seq') >= 9, 'every call was audited');
  assert.ok(value(s, 'mcpgw_audit_queue_depth') >= 0);
  assert.ok(value(s, 'process_resident_memory_bytes') > 1e6);
  assert.ok(value(s, 'process_open_fds') > 3);
  assert.ok(Math.abs(value(s, 'process_start_time_seconds') - Date.now() / 1000) < 600);
  assert.ok(value(s, 'process_cpu_seconds_total') > 0);
}, () => gw));

test('a real Prometheus server scrapes the gateway and answers with the same counts', withGatewayLog(async () => {
  const expected = value(parse((await scrape()).text), 'mcpgw_requests_total', { mcp_method_name: 'tools/call', outcome: 'success' });
  assert.equal(expected, successes);
  const pdir = tempDir('mcpgw-prom-');
  const pport = await freePort();
  writeFileSync(join(pdir, 'prom.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n` +
    `scrape_configs:\n  - job_name: mcpgw\n    static_configs:\n      - targets: ["127.0.0.1:${port}"]\n`);
  const prom = spawn('prometheus', [`--config.file=${join(pdir, 'prom.yml')}`, `--storage.tsdb.path=${join(pdir, 'data')}`,
    `--web.listen-address=127.0.0.1:${pport}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let plog = '';
  prom.stderr.on('data', (d) => { plog += d; });
  const exited = new Promise((res) => prom.on('exit', res));
  const query = async (q) => {
    const r = await fetch(`http://127.0.0.1:${pport}/api/v1/query?query=${encodeURIComponent(q)}`);
    const j = await r.json();
    return j.status === 'success' && j.data.result.length === 1 ? Number(j.data.result[0].value[1]) : null;
  };
  try {
    const want = {
      'up{job="mcpgw"}': 1,
      'mcpgw_requests_total{job="mcpgw",mcp_method_name="tools/call",outcome="success"}': expected,
      [`${DURATION}_count{job="mcpgw",gen_ai_tool_name="nt__hello",outcome="success"}`]: 3,
      'mcpgw_rate_limit_refusals_total{job="mcpgw",limit="tool"}': 1,
    };
    const got = {};
    const deadline = Date.now() + 60000;
    for (;;) {
      assert.equal(prom.exitCode, null, `prometheus exited:\n${plog}`);
      for (const q of Object.keys(want)) got[q] = await query(q).catch(() => null);
      if (Object.keys(want).every((q) => got[q] === want[q])) break;
      assert.ok(Date.now() < deadline, `Prometheus answers ${JSON.stringify(got)}, want ${JSON.stringify(want)}:\n${plog.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    prom.kill('SIGTERM');
    await exited;
  }
}, () => gw));

test('10,000 distinct tool names keep the series count bounded; the rest are counted as _other', withGatewayLog(async () => {
  const auth = { authorization: `Bearer ${keys.user}` };
  const init = await post(gw.url, { jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }, auth);
  const sid = init.headers.get('mcp-session-id');
  await post(gw.url, { jsonrpc: '2.0', method: 'notifications/initialized' },
    { ...auth, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
  const N = 10000;
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      const r = await rpc(gw.url, sid, i + 1, 'tools/call', { name: `random_${i}`, arguments: {} }, { headers: auth });
      assert.equal(r.msg?.error?.code, -32602, `call ${i}: ${r.res.body}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));

  const r = await scrape();
  promtoolCheck(r.text);
  const s = parse(r.text);
  const series = s.filter((x) => x.name === `${DURATION}_count`);
  const unknown = series.filter((x) => x.labels.mcp_server === '' && x.labels.mcp_method_name === 'tools/call');
  const names = new Set(unknown.map((x) => x.labels.gen_ai_tool_name));
  assert.ok(names.size <= TOOL_CAP + 1, `${names.size} tool names under mcp_server=""`);
  assert.ok(series.length < 100, `${series.length} series`);
  assert.ok(r.text.length < 200000, `a scrape of ${r.text.length} bytes`);
  const other = value(s, `${DURATION}_count`, call({ mcp_server: '', gen_ai_tool_name: '_other', outcome: 'error' }));
  const kept = unknown.filter((x) => x.labels.gen_ai_tool_name.startsWith('random_')).reduce((a, x) => a + x.value, 0);
  assert.equal(other + kept, N, 'every call is counted once, under its name or _other');
  assert.equal(value(s, 'mcpgw_metrics_folded_total', { label: 'gen_ai_tool_name' }), other);
  assert.ok(other >= N - TOOL_CAP);
  await fetch(gw.url, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': sid } });
}, () => gw));

test('a legacy HTTP+SSE session is counted under transport="sse"', withGatewayLog(async () => {
  const ac = new AbortController();
  const r = await fetch(`${gw.base}/sse`, { headers: { authorization: `Bearer ${keys.user}`, accept: 'text/event-stream' }, signal: ac.signal });
  assert.equal(r.status, 200);
  try {
    const first = new TextDecoder().decode((await r.body.getReader().read()).value);
    assert.match(first, /event: endpoint/);
    const s = parse((await scrape()).text);
    assert.equal(value(s, 'mcpgw_sessions', { era: '2025', transport: 'sse' }), 1);
  } finally {
    ac.abort();
  }
}, () => gw));

test('a scrape through a foreign Host is refused (DNS rebinding), other methods get 405', withGatewayLog(async () => {
  const evil = await rawHttp(gw.base, `GET /metrics HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: close\r\n\r\n`);
  assert.equal(evil.status, 403);
  assert.doesNotMatch(evil.body, /mcpgw_requests_total/);
  const r = await fetch(`${gw.base}/metrics`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, HEAD');
}, () => gw));

test('metrics.access: admin needs a key with the admin action; path moves it; enabled: false hides it', async () => {
  const d = tempDir();
  const p = await freePort();
  const body = serverYaml + apiKeyAuthYaml(p) + 'metrics:\n  access: admin\n  path: /internal/metrics\n';
  const cfg = writeGatewayFiles(d, p, body, POLICY);
  const user = apikeyCreate(cfg, 'user', 'user');
  const admin = apikeyCreate(cfg, 'admin', 'admin');
  const apiadmin = apikeyCreate(cfg, 'apiadmin', 'apiadmin');
  const g = await startGateway(body, { dir: d, port: p });
  try {
    const get = (path, key) => fetch(`${g.base}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    assert.equal((await get('/internal/metrics')).status, 401);
    const denied = await get('/internal/metrics', user);
    assert.equal(denied.status, 403);
    assert.match((await denied.json()).error.message, /admin action/);
    const ok = await get('/internal/metrics', admin);
    assert.equal(ok.status, 200);
    // the admin action as the admin API names it (mcp:admin:<resource>) is enough
    assert.equal((await get('/internal/metrics', apiadmin)).status, 200);
    const text = await ok.text();
    promtoolCheck(text);
    // the two refusals reached the record stages
    const s = parse(text);
    assert.equal(value(s, 'mcpgw_requests_total', { mcp_method_name: '_none', outcome: 'unauthenticated' }), 1);
    assert.equal(value(s, 'mcpgw_requests_total', { mcp_method_name: '_none', outcome: 'denied' }), 1);
    assert.equal((await get('/metrics', admin)).status, 404);
  } finally {
    await g.stop();
  }
  const off = await startGateway(`${serverYaml}metrics:\n  enabled: false\n`, { args: ['--no-auth'] });
  try {
    assert.equal((await fetch(`${off.base}/metrics`)).status, 404);
  } finally {
    await off.stop();
  }
});
