// Upstream resilience (issue 5 items 3 and 4): per-operation timeouts with
// their warning and counts, retries of reading requests (never of tools/call
// unless retry_calls), the circuit breaker, health checks with GET /health
// and GET /ready, and the per-upstream in-flight bound with its queue.
// Upstreams are tests/fixtures/flaky-server.mjs, which fails on purpose.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, initSession, rpc, tempDir } from './lib.mjs';

const FLAKY = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'flaky-server.mjs');
const state = tempDir('flaky-state-');
const downBr = join(state, 'down-br');
const downHc = join(state, 'down-hc');
let gw;

// A flaky server entry: env is added to the child's environment.
function server(name, extra = '', env = {}) {
  const e = { FLAKY_STATE: state, ...env };
  const envYaml = Object.entries(e).map(([k, v]) => `      ${k}: "${v}"`).join('\n');
  return `  ${name}:
    command: node
    args: ["${FLAKY}"]
    env:
${envYaml}
${extra}`;
}

before(async () => {
  gw = await startGateway(`servers:
${server('st', '    timeouts: { tool: 0.8, connect: 10 }\n')}
${server('sl', '    timeouts: { discovery: 0.8, connect: 10 }\n', { FLAKY_LIST_DELAY_MS: 9000 })}
${server('lc', '', { FLAKY_LIST_CRASH_ONCE: 1 })}
${server('nc', '')}
${server('rc', '    retry_calls: true\n')}
${server('br', `    timeouts: { tool: 1 }
    retries: { max: 0 }
    breaker: { failures: 3, open_seconds: 3 }
    health_check: { interval: 0 }
`, { FLAKY_DOWN_FILE: downBr })}
${server('hc', `    health_check: { interval: 0.2, timeout: 0.3 }
    breaker: { failures: 2 }
`, { FLAKY_DOWN_FILE: downHc })}
`);
});

after(async () => {
  if (gw) await gw.stop();
  rmSync(state, { recursive: true, force: true });
});

let nextId = 1;
const call = (sid, name, args = {}) =>
  rpc(gw.url, sid, nextId++, 'tools/call', { name, arguments: args }, { signal: AbortSignal.timeout(15000) });
const list = (sid) => rpc(gw.url, sid, nextId++, 'tools/list', {}, { signal: AbortSignal.timeout(15000) });

async function health(base = gw.base) {
  const r = await fetch(`${base}/health`);
  assert.equal(r.status, 200);
  return r.json();
}
const upstream = async (name, base) => (await health(base)).upstreams.find((u) => u.name === name);

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- gateway log:\n${gw.logs()}`);
    await sleep(50);
  }
}

function assertError(r, code, re) {
  assert.equal(r.status, 200, r.res.body);
  assert.ok(r.msg?.error, `expected a JSON-RPC error, got ${r.res.body}`);
  assert.equal(r.msg.error.code, code, r.res.body);
  assert.match(r.msg.error.message, re);
}

const textOf = (r) => r.msg?.result?.content?.[0]?.text;

// First: the crash-once list must be this session's (any session's first list crashes lc).
test('a list is sent again after the upstream crashed under it', async () => {
  const sid = await initSession(gw.url);
  const r = await list(sid);
  assert.equal(r.status, 200, r.res.body);
  const names = r.msg.result.tools.map((t) => t.name);
  assert.ok(names.includes('lc__echo'), `lc's tools after the retry: ${names.join()}\n${gw.logs()}`);
  assert.ok(existsSync(join(state, 'seen-list')), 'the first tools/list did crash the server');
  assert.match(gw.logs(), /upstream 'lc': tools\/list failed \([^)]*(closed its stdout|exited with status 3)[^)]*\); sending it again in \d+ ms \(retry 1 of 2\)/);
  const lc = await upstream('lc');
  assert.ok(lc.retries >= 1, JSON.stringify(lc));
});

test('a slow tools/call times out at timeouts.tool, with a warning first and a count', async () => {
  const sid = await initSession(gw.url);
  assert.equal(textOf(await call(sid, 'st__echo', { text: 'hi' })), 'hi');
  const r = await call(sid, 'st__slow', { ms: 9000 });
  assertError(r, -32011, /^upstream 'st' did not answer tools\/call within 0\.8 s \(timeouts\.tool\)$/);
  // Answered by the timeout, not by the upstream (9 s): the bound is the
  // upstream's pace, not a speed target (2.7 s was seen at load 20 under ASan).
  assert.ok(r.ms >= 700 && r.ms < 8000, `answered after ${r.ms} ms`);
  assert.match(gw.logs(), /upstream 'st' has not answered tools\/call after 0\.\d+ s, \d+% of its 0\.8 s limit \(timeouts\.tool\)/);
  const st = await upstream('st');
  assert.equal(st.timeouts_by_operation.tool, 1);
  assert.equal(st.timeouts_by_operation.discovery, 0);
  assert.equal(st.timeouts, 1);
});

test('a slow list times out at timeouts.discovery; the other servers are still listed', async () => {
  const sid = await initSession(gw.url);
  const r = await list(sid);
  assert.equal(r.status, 200, r.res.body);
  const names = r.msg.result.tools.map((t) => t.name);
  assert.ok(names.includes('st__echo'), names.join());
  assert.ok(!names.includes('sl__echo'), 'sl answered after its limit, so it is left out');
  assert.ok(r.ms >= 700 && r.ms < 8000, `list answered after ${r.ms} ms`);
  assert.match(gw.logs(), /upstream 'sl' did not answer tools\/list within 0\.8 s \(timeouts\.discovery\)/);
  const sl = await upstream('sl');
  assert.ok(sl.timeouts_by_operation.discovery >= 1, JSON.stringify(sl));
  assert.equal(sl.timeouts_by_operation.tool, 0);
  assert.equal(sl.state, 'ready', 'a timeout is not a crash');
});

test('a tools/call is not sent again after a crash, unless the server has retry_calls', async () => {
  const sid = await initSession(gw.url);
  await list(sid);
  const r = await call(sid, 'nc__crash_once', { key: 'nc' });
  assertError(r, -32010, /^upstream 'nc' .*(closed its stdout|exited with status 3)/);
  // the same call again reaches a restarted server, which survives it now
  assert.equal(textOf(await call(sid, 'nc__crash_once', { key: 'nc' })), 'survived nc');
  const ok = await call(sid, 'rc__crash_once', { key: 'rc' });
  assert.equal(textOf(ok), 'survived rc', `${ok.res.body}\n${gw.logs()}`);
  assert.match(gw.logs(), /upstream 'rc': tools\/call failed .*sending it again/);
  assert.doesNotMatch(gw.logs(), /upstream 'nc': tools\/call failed .*sending it again/);
});

test('breaker: opens after 3 failures, fails fast while open, probes, closes when the server recovers', async (t) => {
  const sid = await initSession(gw.url);
  assert.equal(textOf(await call(sid, 'br__echo', { text: 'up' })), 'up');
  writeFileSync(downBr, '');
  for (let i = 0; i < 3; i++)
    assertError(await call(sid, 'br__echo', { text: 'x' }), -32011, /^upstream 'br' did not answer/);
  let br = await upstream('br');
  assert.equal(br.state, 'breaker_open');
  assert.equal(br.breaker.state, 'open');
  assert.equal(br.breaker.opens, 1);
  assert.match(gw.logs(), /upstream 'br': circuit breaker open/);

  // While open: an immediate error naming the server and when it tries again,
  // without the upstream being asked (fast_fails counts each one). The < 5 ms
  // target is a benchmark figure (bench/breaker.mjs in make bench, release
  // build): under ASan on a shared machine a timed assertion only flakes, so
  // here each answer must only come well before the 1 s the upstream would take
  // (0.3 s and 150 ms flaked once at load 15: one fast fail took 245 ms).
  const fastBefore = br.breaker.fast_fails;
  const times = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const r = await call(sid, 'br__echo', { text: 'x' });
    times.push(performance.now() - t0);
    assertError(r, -32012, /^upstream 'br' is unavailable: its circuit breaker opened after 3 failures in a row; the gateway tries it again in \d+\.\d s$/);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(`answers while open: ${times.map((x) => x.toFixed(2)).join(', ')} ms`);
  assert.ok(times[6] < 700, `answers while open: ${times.map((x) => x.toFixed(1))} ms (the upstream would take 1000)`);
  assert.equal((await upstream('br')).breaker.fast_fails, fastBefore + 7, 'each answer while open was a fast fail');

  // Still down when the open time is over: the one probe fails and it reopens.
  await sleep(3100);
  assertError(await call(sid, 'br__echo', { text: 'probe' }), -32011, /did not answer/);
  br = await upstream('br');
  assert.equal(br.breaker.state, 'open');
  assert.equal(br.breaker.opens, 2);
  assertError(await call(sid, 'br__echo', { text: 'x' }), -32012, /circuit breaker/);

  // Recovered: the next probe succeeds and closes it.
  rmSync(downBr);
  await sleep(3100);
  assert.equal(textOf(await call(sid, 'br__echo', { text: 'back' })), 'back');
  br = await upstream('br');
  assert.equal(br.breaker.state, 'closed');
  assert.equal(br.state, 'ready');
  assert.equal(textOf(await call(sid, 'br__echo', { text: 'again' })), 'again');
  assert.ok(br.breaker.fast_fails >= 8, JSON.stringify(br.breaker));
});

test('health checks: a server that stops answering pings is failing and /ready says 503 until it answers', async () => {
  let ready = await fetch(`${gw.base}/ready`);
  assert.equal(ready.status, 200, await ready.text());
  writeFileSync(downHc, '');
  const hc = await until('hc failing', async () => {
    const u = await upstream('hc');
    return u.state === 'failing' ? u : null;
  });
  assert.match(hc.last_error, /^health check: upstream 'hc' did not answer ping within 0\.3 s/);
  assert.ok(hc.health_check.failures >= 1);
  // failed pings mark it failing but do not open its breaker (failures: 2)
  await until('a few more failed pings', async () => (await upstream('hc')).health_check.failures >= 3);
  assert.equal((await upstream('hc')).breaker.state, 'closed');
  ready = await fetch(`${gw.base}/ready`);
  assert.equal(ready.status, 503);
  const body = await ready.json();
  assert.equal(body.ready, false);
  assert.deepEqual(body.not_ready.map((u) => [u.name, u.state]), [['hc', 'failing']]);
  const live = await fetch(`${gw.base}/health`);
  assert.equal(live.status, 200, 'liveness stays 200');
  rmSync(downHc);
  await until('hc ready', async () => (await upstream('hc')).state === 'ready');
  ready = await fetch(`${gw.base}/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual((await ready.json()).not_ready, []);
});

test('/ready waits for required servers only; /health lists each one\'s state', async () => {
  const g = await startGateway(`servers:
${server('late', '', { FLAKY_INIT_DELAY_MS: 2500 })}
  broken:
    command: node
    args: ["-e", "process.exit(1)"]
    health_check: { required: false }
    breaker: { failures: 0 }
`, { readyUpstreams: false });
  try {
    const r = await fetch(`${g.base}/ready`);
    assert.equal(r.status, 503);
    const body = await r.json();
    assert.deepEqual(body.not_ready.map((u) => [u.name, u.state]), [['late', 'connecting']]);
    const end = Date.now() + 10000;
    let status;
    while ((status = (await fetch(`${g.base}/ready`)).status) !== 200 && Date.now() < end) await sleep(100);
    assert.equal(status, 200, g.logs());
    const h = await health(g.base);
    const broken = h.upstreams.find((u) => u.name === 'broken');
    assert.equal(broken.state, 'failing');
    assert.equal(broken.required, false);
    assert.match(broken.last_error, /closed its stdout|exited with status 1/);
    assert.equal(h.upstreams.find((u) => u.name === 'late').state, 'ready');
  } finally {
    await g.stop();
  }
});

test('a server slower to initialize than timeouts.connect fails its start, counted as connect', async () => {
  const g = await startGateway(`servers:
${server('slowinit', `    timeouts: { connect: 0.5, default: 20 }
    health_check: { interval: 0 }
`, { FLAKY_INIT_DELAY_MS: 3000 })}
`, { readyUpstreams: false });
  try {
    const end = Date.now() + 10000;
    let u;
    do {
      await sleep(100);
      u = (await health(g.base)).upstreams.find((x) => x.name === 'slowinit');
    } while (u.timeouts_by_operation.connect < 1 && Date.now() < end);
    assert.equal(u.timeouts_by_operation.connect >= 1, true, g.logs());
    assert.equal(u.timeouts_by_operation.default, 0);
    assert.notEqual(u.state, 'ready');
    assert.match(u.last_error, /did not answer the handshake in time/);
    assert.match(g.logs(), /upstream 'slowinit' did not answer initialize within 0\.5 s \(timeouts\.connect\)/);
  } finally {
    await g.stop();
  }
});

test('in-flight bound: 2 in flight, 1 queued, then an immediate error naming the server and the limits', async () => {
  const g = await startGateway(`limits: { max_inflight_per_upstream: 2, max_queue_per_upstream: 1 }
servers:
${server('q', '    timeouts: { tool: 10 }\n')}
`);
  try {
    const a = await initSession(g.url);
    const b = await initSession(g.url);
    const c2 = (sid, name, args) =>
      rpc(g.url, sid, nextId++, 'tools/call', { name, arguments: args }, { signal: AbortSignal.timeout(15000) });
    await rpc(g.url, a, nextId++, 'tools/list', {});
    await rpc(g.url, b, nextId++, 'tools/list', {});
    const q = async () => (await health(g.base)).upstreams[0];
    const slow1 = c2(a, 'q__slow', { ms: 2500 });
    const slow2 = c2(b, 'q__slow', { ms: 2500 });
    await until('2 in flight', async () => (await q()).inflight === 2);
    const queued = c2(a, 'q__echo', { text: 'queued' });
    await until('1 queued', async () => (await q()).queued === 1);
    const refused = await c2(b, 'q__echo', { text: 'refused' });
    assertError(refused, -32012, /^upstream 'q' is overloaded: 2 requests in flight \(limits\.max_inflight_per_upstream\) and 1 queued \(limits\.max_queue_per_upstream\)$/);
    assert.ok(refused.ms < 500, `refused after ${refused.ms} ms`);
    const qr = await queued;
    assert.equal(textOf(qr), 'queued', qr.res.body);
    assert.ok(qr.ms >= 1000, `the queued call waited for a slot (${qr.ms} ms)`);
    assert.equal(textOf(await slow1), 'slept 2500');
    assert.equal(textOf(await slow2), 'slept 2500');
    const after = await q();
    assert.equal(after.refused, 1);
    assert.equal(after.inflight, 0);
    assert.equal(after.queued, 0);
  } finally {
    await g.stop();
  }
});
