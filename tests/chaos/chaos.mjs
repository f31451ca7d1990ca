// Chaos test (issue 5, item 6). SESSIONS steady sessions call echo__echo at
// RATE calls/s each through the real gateway, first undisturbed (baseline),
// then while four disturbers run at once, each in its own process
// (disturb.mjs): one client floods, one upstream crashes every second, one
// upstream never answers, and a slow-loris client holds 500 connections.
// Checks that the steady sessions lose no answer, that the flood is refused
// (429) and the slow-loris connections dropped, that the gateway's memory
// stays bounded, and (CHAOS_STRICT=1, make chaos) that their p99 stays within
// 2x the baseline p99.
// Usage: node chaos.mjs  (env: MCPGW_BIN, CHAOS_SESSIONS=200, CHAOS_SECONDS=10,
// CHAOS_RATE=5, CHAOS_JSON=path to write the figures to)
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { BIN, ROOT, MISBEHAVE, freePort, tempDir, buildEchoMcp } from '../integration/lib.mjs';

const SESSIONS = Number(process.env.CHAOS_SESSIONS || 200);
const SECONDS = Number(process.env.CHAOS_SECONDS || 10);
const RATE = Number(process.env.CHAOS_RATE || 5);
const HERE = join(ROOT, 'tests', 'chaos');
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

const echo = await buildEchoMcp();
const port = await freePort();
const dir = tempDir('mcpgw-chaos-');
const cfg = join(dir, 'mcpgw.yaml');
// Everyone authenticates with an API key: the flooding client's role has a
// quota (what protects the others from it); the steady sessions' has none.
writeFileSync(join(dir, 'policy.yaml'), `roles:
  caller:
    permissions:
      - resource: "*"
        actions: ["*"]
  flooder:
    permissions:
      - resource: "*"
        actions: ["*"]
    max_requests_per_minute: 600
    burst: 20
  tester:
    permissions:
      - resource: "*"
        actions: ["*"]
    max_requests_per_minute: 6000
    burst: 100
default_policy: deny
`);
writeFileSync(cfg, `listen: "127.0.0.1:${port}"
log_level: warn
max_sessions: 2000
auth: { api_keys: true }
policy: policy.yaml
servers:
  echo: { command: "${echo}", session: shared }
  crashy: { command: node, args: ["${MISBEHAVE}"], session: shared, timeout: 5 }
  hang: { command: node, args: ["${MISBEHAVE}"], session: shared, timeout: 2 }
limits:
  max_connections: 5000
  read_timeout: 5
`);
const apikey = (name, role) => execFileSync(BIN, ['apikey', 'create', '--name', name, '--roles', role, '-c', cfg],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const KEY = apikey('steady', 'caller');
const KEYS = { flood: apikey('flood', 'flooder'), crash: apikey('crash', 'tester'),
  hang: apikey('hang', 'tester'), loris: '' };
const gw = spawn(BIN, ['serve', '-c', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
let gwlog = '';
gw.stderr.on('data', (d) => { gwlog = (gwlog + d).slice(-20000); });

const agent = new http.Agent({ keepAlive: true, maxSockets: SESSIONS + 16 });
function post(body, sid) {
  return new Promise((res, rej) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', agent, headers: {
      'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'content-length': Buffer.byteLength(data), authorization: `Bearer ${KEY}`,
      ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } : {}) } }, (r) => {
      let t = '';
      r.on('data', (d) => { t += d; });
      r.on('end', () => res({ status: r.statusCode, sid: r.headers['mcp-session-id'], text: t }));
    });
    req.on('error', rej);
    req.end(data);
  });
}

function rss() {
  const s = readFileSync(`/proc/${gw.pid}/status`, 'utf8');
  return { rss: Number(s.match(/VmRSS:\s+(\d+)/)[1]) / 1024, hwm: Number(s.match(/VmHWM:\s+(\d+)/)[1]) / 1024 };
}

// The steady sessions: paced calls, every answer checked. rec is the phase
// being recorded (null while warming up or between phases).
let rec = null;
let running = true;
const lost = [];
async function steady(i) {
  const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {
    protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: `steady-${i}`, version: '1' } } });
  if (!init.sid) throw new Error(`session ${i}: initialize answered ${init.status} ${init.text}`);
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, init.sid);
  const period = 1000 / RATE;
  let next = Date.now() + Math.random() * period;
  for (let id = 1; running; id++) {
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
    next += period;
    const text = `s${i}-${id}`;
    const phase = rec;
    const t0 = performance.now();
    let ok = false, why = '';
    try {
      const r = await post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo__echo', arguments: { text } } }, init.sid);
      const m = r.status === 200 ? JSON.parse(r.text) : null;
      ok = m?.id === id && m?.result?.content?.[0]?.text === text;
      if (!ok) why = `${r.status} ${r.text.slice(0, 200)}`;
    } catch (e) { why = String(e); }
    const ms = performance.now() - t0;
    if (phase && phase === rec) phase.lat.push(ms);
    if (!ok) lost.push({ session: i, id, why, phase: phase?.name ?? 'warmup' });
  }
}

function pct(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}

async function phase(name) {
  const ph = { name, lat: [], mem: [] };
  rec = ph;
  const t0 = Date.now();
  while (Date.now() - t0 < SECONDS * 1000) { ph.mem.push(rss()); await sleep(500); }
  rec = null;
  const r = { name, calls: ph.lat.length, p50: pct(ph.lat, 50), p99: pct(ph.lat, 99), max: Math.max(...ph.lat),
    rss_max_mib: Math.max(...ph.mem.map((m) => m.rss)) };
  r.calls_per_s = Math.round(r.calls / SECONDS);
  return r;
}

function startDisturber(mode) {
  // Niced: on two cores the disturbers would otherwise starve the measuring
  // process itself, and its own scheduling delay would pass for gateway latency.
  const p = spawn('nice', ['-n', '10', process.execPath, join(HERE, 'disturb.mjs'), mode, String(port), KEYS[mode]],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  return { p, done: new Promise((ok) => p.on('exit', () => ok(out.trim() ? JSON.parse(out.trim()) : { mode, died: true }))) };
}

let failed = [];
try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) break; } catch { /* not yet */ }
    if (i > 150) throw new Error(`gateway did not start:\n${gwlog}`);
    await sleep(100);
  }
  const loops = Array.from({ length: SESSIONS }, (_, i) => steady(i));
  await sleep(2000); // warm up: every session open and calling
  const base = await phase('baseline');
  const dist = (process.env.CHAOS_ONLY || 'flood,crash,hang,loris').split(',').map(startDisturber);
  await sleep(2000); // let the disturbances build up (loris connections, hung calls)
  const disturbed = await phase('disturbed');
  for (const d of dist) d.p.kill('SIGTERM');
  const dcounts = await Promise.all(dist.map((d) => d.done));
  running = false;
  await Promise.all(loops);
  const fig = { sessions: SESSIONS, rate_per_session: RATE, seconds: SECONDS, baseline: base, disturbed,
    p99_ratio: +(disturbed.p99 / base.p99).toFixed(2), lost: lost.length, disturbers: dcounts,
    gateway_peak_rss_mib: rss().hwm };
  console.log(JSON.stringify(fig, null, 1));
  if (process.env.CHAOS_JSON) writeFileSync(process.env.CHAOS_JSON, JSON.stringify(fig));
  if (lost.length) failed.push(`${lost.length} steady calls lost, first: ${JSON.stringify(lost.slice(0, 3))}`);
  // The latency target is a benchmark figure (make chaos sets CHAOS_STRICT=1):
  // make test checks behaviour only and prints the ratio, since a shared CI
  // machine makes any timed assertion flaky.
  if (process.env.CHAOS_STRICT === '1' && !(disturbed.p99 <= 2 * base.p99)) failed.push(`p99 ${disturbed.p99.toFixed(2)} ms > 2 x baseline ${base.p99.toFixed(2)} ms`);
  const dm = Object.fromEntries(dcounts.map((d) => [d.mode, d]));
  if (dm.flood && !(dm.flood.statuses?.['429'] > 0)) failed.push(`the flooding client was never refused (429): ${JSON.stringify(dm.flood)}`);
  if (dm.loris && !(dm.loris.loris?.closedByGateway > 0)) failed.push(`no slow-loris connection was dropped: ${JSON.stringify(dm.loris)}`);
  if (disturbed.rss_max_mib > base.rss_max_mib + 64) failed.push(`RSS grew from ${base.rss_max_mib} to ${disturbed.rss_max_mib} MiB`);
} catch (e) {
  failed.push(String(e.stack || e));
} finally {
  running = false;
  gw.kill('SIGTERM');
  await new Promise((ok) => gw.on('exit', ok));
  agent.destroy();
}
if (failed.length) {
  console.error(`chaos: FAILED\n- ${failed.join('\n- ')}\ngateway log tail:\n${gwlog.slice(-3000)}`);
  process.exit(1);
}
console.log('chaos: passed');
