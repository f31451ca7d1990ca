// A 2026-07-28 upstream's discovery and lists are kept for their ttlMs and
// asked again when it has run out, not before (the fixture answers
// server/discover and tools/list with ttlMs 2000 and counts what it serves).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startGateway, post, ROOT } from './lib.mjs';

const TTL = 2000;
const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
let upstream, gw, fixture;

before(async () => {
  upstream = spawn('node', [join(ROOT, 'tests/fixtures/conformance-server-2026.mjs'), '--discover-ttl', String(TTL),
    '--list-ttl', String(TTL)], { stdio: ['ignore', 'pipe', 'inherit'] });
  fixture = await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('2026 fixture did not start')), 15000);
    upstream.stdout.on('data', (d) => { const m = /MCP_FIXTURE_URL=(\S+)/.exec(d.toString()); if (m) { clearTimeout(t); res(m[1]); } });
  });
  gw = await startGateway(`servers:\n  m:\n    url: "${fixture}"\n    protocol: "2026-07-28"\n    timeout: 20\n`);
});
after(async () => {
  try { await gw?.stop(); } finally { upstream?.kill('SIGTERM'); }
});

const stats = async () => (await fetch(fixture.replace(/\/mcp$/, '/stats'))).json();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function rpc(method, params = {}, name) {
  const r = await post(`${gw.base}/servers/m/mcp`, { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: ENVELOPE } },
    { 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) });
  assert.equal(r.status, 200, r.body);
  return r.json.result;
}
const toolNames = async () => (await rpc('tools/list')).tools.map((t) => t.name);
const callTool = (name) => rpc('tools/call', { name, arguments: {} }, name);

test('tools/list and discovery are asked again once their ttlMs has passed, not before', async () => {
  assert.ok(!(await toolNames()).includes('test_dynamic_tool'));
  const s0 = await stats();
  const discovered = (await rpc('server/discover')).instructions;
  assert.match(discovered, /^conformance fixture 2026, discovery \d+$/);

  // Within the ttl: the list and the discovery are the kept ones. (A list
  // change the upstream announces ends the ttl early: modern_upstream_listen.)
  await toolNames();
  await callTool('test_simple_text');
  const s1 = await stats();
  assert.equal(s1.toolsList, s0.toolsList, 'no tools/list before the ttl ran out');
  assert.equal(s1.discover, s0.discover, 'no server/discover before the ttl ran out');

  await sleep(TTL + 300);
  await toolNames(); // after the ttl the list is fetched again (counted below)
  // That request found the discovery stale too: it is refreshed in the background.
  let s2;
  for (let i = 0; i < 40; i++) {
    s2 = await stats();
    if (s2.discover > s0.discover) break;
    await sleep(50);
  }
  assert.ok(s2.toolsList > s0.toolsList);
  assert.ok(s2.discover > s0.discover, 'server/discover was asked again');
  let now;
  for (let i = 0; i < 40; i++) {
    now = (await rpc('server/discover')).instructions;
    if (now !== discovered) break;
    await sleep(50);
  }
  assert.notEqual(now, discovered, 'the gateway serves the refreshed discovery');
});
