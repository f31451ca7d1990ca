// Children are bounded (issue 9 item 5, docs/internals/children.md): the
// stdio child processes that client sessions cause end after the session's
// idle time even when the client never sends DELETE, and their number has a
// cap (limits.max_children) past which a new session is refused while the
// sessions already open keep working. The stdio server is
// tests/fixtures/flaky-server.mjs: cheap, its tool `pid` tells which child
// answered and `crash_once` makes that child exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, connectClient, initSession, post, rpc, pidAlive, tempDir } from './lib.mjs';

const FLAKY = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'flaky-server.mjs');
const state = tempDir('children-state-');

function server(name, extra = '') {
  return `  ${name}:
    command: node
    args: ["${FLAKY}"]
    env: { FLAKY_STATE: "${state}" }
${extra}`;
}

// The gateway's live child processes, from /proc (every process whose parent
// it is, zombies left out).
function childrenOf(pid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; }
    const [st, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === pid && st !== 'Z') out.push(Number(d));
  }
  return out;
}

const health = async (gw) => (await (await fetch(`${gw.base}/health`)).json());
const pidOf = (r) => Number(r.content[0].text);

// Poll until fn() is true or ms have passed; returns fn()'s last value.
async function eventually(fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(100);
  }
}

// One short client run as real clients make it: connect, list, call one
// tool, go away without DELETE (the SDK's close() only aborts its streams).
async function shortRun(url) {
  const c = await connectClient(url);
  const { tools } = await c.client.listTools();
  assert.ok(tools.some((t) => t.name === 'own__pid'), JSON.stringify(tools.map((t) => t.name)));
  const own = pidOf(await c.client.callTool({ name: 'own__pid', arguments: {} }));
  const common = pidOf(await c.client.callTool({ name: 'common__pid', arguments: {} }));
  await c.transport.close();
  return { own, common };
}

test('30 client runs that never send DELETE leave no per-session child after the idle time', async () => {
  const gw = await startGateway(`session_idle_timeout: 2
servers:
${server('own')}
${server('common', '    session: shared\n')}`);
  try {
    const gwPid = gw.proc.pid;
    const base = childrenOf(gwPid);
    assert.equal(base.length, 2, 'one supervised child per server');
    let h = await health(gw);
    assert.deepEqual(h.children, { counted: 0, max: 256, running: 2 });

    // A session that only initializes has its child too, and is reaped
    // like the others.
    assert.ok(await initSession(gw.url));

    const runs = [];
    for (let i = 0; i < 30; i += 5)
      runs.push(...await Promise.all([0, 1, 2, 3, 4].map(() => shortRun(gw.url))));
    const pids = runs.map((r) => r.own);
    assert.equal(new Set(pids).size, 30, 'each session had its own child');
    for (const p of pids) assert.ok(!base.includes(p));
    // session: shared: one child for every session, the supervised one.
    assert.equal(new Set(runs.map((r) => r.common)).size, 1);
    assert.ok(base.includes(runs[0].common));

    // A few seconds after the 2 s idle time (the sweep runs every quarter of
    // it), no session and no per-session child is left: only the two
    // supervised children run.
    const gone = await eventually(async () => {
      const hh = await health(gw);
      return hh.sessions === 0 && hh.children.counted === 0 && hh.children.running === 2 &&
        pids.every((p) => !pidAlive(p)) && childrenOf(gwPid).length === 2;
    }, 2000 + 5000);
    h = await health(gw);
    assert.ok(gone, `left: sessions ${h.sessions}, children ${JSON.stringify(h.children)}, ` +
      `alive ${pids.filter(pidAlive)}, gateway's children ${childrenOf(gwPid)}`);
    assert.deepEqual(childrenOf(gwPid).sort(), base.sort(), 'the supervised children are untouched');
    // Closed by the idle sweep, not by a DELETE.
    assert.equal((gw.logs().match(/idle for 2 s: closing/g) || []).length, 31, gw.logs());
  } finally {
    await gw.stop();
  }
});

test('the 31st session past limits.max_children: 30 is refused with 503 -32013; open sessions go on', async () => {
  const gw = await startGateway(`limits: { max_children: 30 }
servers:
${server('own')}`);
  const clients = [];
  try {
    // 30 sessions, one child each; the server's own supervised child is
    // the gateway's, not counted against the cap.
    for (let i = 0; i < 30; i++) clients.push(await connectClient(gw.url));
    const pids = [];
    for (const c of clients) pids.push(pidOf(await c.client.callTool({ name: 'own__pid', arguments: {} })));
    assert.equal(new Set(pids).size, 30);
    assert.deepEqual((await health(gw)).children, { counted: 30, max: 30, running: 31 });

    const r = await post(gw.url, { jsonrpc: '2.0', id: 7, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'late', version: '1' } } });
    assert.equal(r.status, 503, r.body);
    assert.equal(r.headers.get('mcp-session-id'), null);
    assert.equal(r.json.id, 7);
    assert.equal(r.json.error.code, -32013);
    assert.match(r.json.error.message, /limits\.max_children: 30/);
    assert.deepEqual(r.json.error.data, { limit: 'limits.max_children', max: 30 });
    assert.equal((await health(gw)).children.running, 31, 'the refused session started nothing');

    // The sessions already open are unaffected: they list and call.
    for (const c of [clients[0], clients[29]]) {
      const { tools } = await c.client.listTools();
      assert.ok(tools.some((t) => t.name === 'own__echo'));
      const res = await c.client.callTool({ name: 'own__echo', arguments: { text: 'still here' } });
      assert.equal(res.content[0].text, 'still here');
    }

    // A session's child that crashes is restarted: the cap counts sessions'
    // children, not starts, so a restart is never refused by it.
    const first = clients[0].client;
    const crashed = await first.callTool({ name: 'own__crash_once', arguments: { key: 'cap' } })
      .then((res) => res.isError, () => true);
    assert.ok(crashed, 'the call that crashed its child failed');
    const again = await first.callTool({ name: 'own__pid', arguments: {} });
    assert.notEqual(pidOf(again), pids[0], 'a new child answers');
    assert.ok(!pidAlive(pids[0]));
    assert.equal((await health(gw)).children.counted, 30);

    // A session that ends gives its place back.
    await clients.pop().close();
    const sid = await eventually(async () => {
      const rr = await post(gw.url, { jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'next', version: '1' } } });
      return rr.status === 200 && rr.headers.get('mcp-session-id');
    }, 5000);
    assert.ok(sid, 'admitted once a session ended');
    await post(gw.url, { jsonrpc: '2.0', method: 'notifications/initialized' },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
    const call = await rpc(gw.url, sid, 2, 'tools/call', { name: 'own__echo', arguments: { text: 'in' } });
    assert.equal(call.msg.result.content[0].text, 'in', JSON.stringify(call.msg));
  } finally {
    for (const c of clients) await c.close();
    await gw.stop();
  }
});

test('a reload that lowers limits.max_children below the count closes nothing and refuses new sessions', async () => {
  const yaml = (max) => `limits: { max_children: ${max} }
servers:
${server('own')}`;
  const gw = await startGateway(yaml(10));
  const clients = [];
  try {
    for (let i = 0; i < 3; i++) clients.push(await connectClient(gw.url));
    for (const c of clients) await c.client.callTool({ name: 'own__pid', arguments: {} });
    assert.equal((await health(gw)).children.counted, 3);

    const applied = (gw.logs().match(/"reload \d+ applied/g) || []).length;
    writeFileSync(gw.cfg, `listen: "${new URL(gw.base).host}"\n${yaml(3)}`);
    gw.proc.kill('SIGHUP');
    assert.ok(await eventually(() => (gw.logs().match(/"reload \d+ applied/g) || []).length > applied, 10000),
      gw.logs());

    const r = await post(gw.url, { jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'late', version: '1' } } });
    assert.equal(r.status, 503, r.body);
    assert.deepEqual(r.json.error.data, { limit: 'limits.max_children', max: 3 });
    for (const c of clients) {
      const res = await c.client.callTool({ name: 'own__echo', arguments: { text: 'kept' } });
      assert.equal(res.content[0].text, 'kept');
    }
    assert.deepEqual((await health(gw)).children, { counted: 3, max: 3, running: 4 });
  } finally {
    for (const c of clients) await c.close();
    await gw.stop();
  }
});

// What a descriptor is, as /proc names it ("socket:[123]", "/tmp/x/audit.jsonl"),
// for every descriptor of a process at or above `from`.
function fdTargets(pid, from = 0) {
  const out = new Map();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    if (Number(fd) < from) continue;
    try { out.set(Number(fd), readlinkSync(`/proc/${pid}/fd/${fd}`)); } catch { /* closed meanwhile */ }
  }
  return out;
}

test('a stdio child gets only its three pipes: no client connection, listener, store, audit file or upstream socket of the gateway', async () => {
  const dir = tempDir();
  const gw = await startGateway(`audit:
  sinks:
    - { type: file, path: audit.jsonl }
servers:
${server('own')}
${server('common', '    session: shared\n')}`, { dir });
  try {
    // a client connection is open while its session's child is started
    const c = await connectClient(gw.url);
    const own = pidOf(await c.client.callTool({ name: 'own__pid', arguments: {} }));
    const common = pidOf(await c.client.callTool({ name: 'common__pid', arguments: {} }));
    const mine = new Set([...fdTargets(gw.proc.pid).values()]
      .filter((t) => /^(socket|pipe):/.test(t) || t.startsWith('/')).filter((t) => !t.startsWith('/dev/')));
    assert.ok([...mine].some((t) => t.startsWith('socket:')), 'the gateway has sockets to compare with');
    for (const child of [own, common]) {
      // 0-2 are the child's ends of its pipes (the same pipe inodes as the gateway's ends)
      const leaked = [...fdTargets(child, 3).entries()].filter(([, t]) => mine.has(t));
      assert.deepEqual(leaked, [], `child ${child} holds the gateway's descriptors`);
    }
    await c.close();
  } finally {
    await gw.stop();
  }
});
