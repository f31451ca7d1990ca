// Acceptance: two gateway instances with limits.backend: redis against a
// real redis-server (started here on a free port, no persistence) enforce
// one shared quota: hammered in parallel, the calls both allow add up to
// the quota within 5%. A Redis that hangs costs a call at most the bounded
// wait. Then Redis is killed: both fall back to their local buckets (still
// enforcing) and say so on /health.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  startGateway, tempDir, freePort, buildEchoMcp, apikeyCreate, writeGatewayFiles, allowAllRole, bearerClient, apiKeyAuthYaml,
} from './lib.mjs';

const RATE_LIMITED = -32029;
const PER_MINUTE = 60;         // one token a second ...
const BURST = 100;             // ... after a burst of 100: the burst dominates a short run
const HAMMER_MS = 2500;
const CLIENTS_PER_GATEWAY = 4;
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

const POLICY = `
roles:
${allowAllRole('user')}clients:
  "apikey:small":
    tool_quotas:
      "echo__echo": { requests_per_minute: 1, burst: 2 }
tool_quotas:
  "echo__echo": { requests_per_minute: ${PER_MINUTE}, burst: ${BURST} }
`;

let redis, redisPort, gws = [];
const keys = {};

function startRedis(dir, port) {
  const p = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`redis-server did not start:\n${out}`)), 10000);
    p.stdout.on('data', (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) { clearTimeout(timer); res(p); }
    });
    p.on('exit', (code) => { clearTimeout(timer); rej(new Error(`redis-server exited ${code}:\n${out}`)); });
  });
}

async function health(g) {
  return (await (await fetch(`${g.base}/health`)).json()).rate_limits;
}

async function until(what, fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  assert.ok(REDIS_SERVER, 'redis-server is installed (scripts/bootstrap.sh)');
  const echo = await buildEchoMcp();
  const dir = tempDir('mcpgw-redis-');
  redisPort = await freePort();
  redis = await startRedis(dir, redisPort);
  // Both instances read one key store and one policy, as replicas would.
  const ports = [await freePort(), await freePort()];
  const body = (port) => `servers:\n  echo:\n    command: "${echo}"\n` +
    `${apiKeyAuthYaml(port)}store:\n  path: keys.db\n` +
    `limits:\n  backend: redis\n  redis_url: "redis://127.0.0.1:${redisPort}/0"\n  redis_prefix: "itest:"\n`;
  const cfg = writeGatewayFiles(dir, ports[0], body(ports[0]), POLICY);
  for (const name of ['shared', 'small']) keys[name] = apikeyCreate(cfg, name, 'user');
  for (const port of ports) {
    const gdir = tempDir('mcpgw-redis-gw-');
    writeFileSync(join(gdir, 'policy.yaml'), POLICY);
    execFileSync('cp', [join(dir, 'keys.db'), join(gdir, 'keys.db')]);
    gws.push(await startGateway(body(port), { dir: gdir, port }));
  }
  for (const g of gws) await until('redis connected', async () => (await health(g)).redis === 'connected');
});

after(async () => {
  for (const g of gws) await g.stop();
  if (redis && redis.exitCode === null) redis.kill('SIGKILL');
});

const clientWith = (g, key) => bearerClient(g.url, key, 'redis-test');

// Call echo__echo in a loop until deadline; count what passed and what the quota refused.
async function hammer(client, deadline, tally) {
  while (Date.now() < deadline) {
    try {
      await client.callTool({ name: 'echo__echo', arguments: { text: 'x' } });
      tally.allowed++;
    } catch (e) {
      if (e.code !== RATE_LIMITED) throw e;
      tally.refused++;
    }
  }
}

// The claim holds while Redis answers every check within its 250 ms bound.
// On a loaded machine it may not: the gateway then rightly decides locally
// (redis_timeouts, local_fallbacks on /health), which a sum cannot match. Such
// a round is measured again, from a fresh bucket, up to three times.
test('two instances on one Redis share one quota (within 5%)', async (t) => {
  const clients = [];
  for (const g of gws) for (let i = 0; i < CLIENTS_PER_GATEWAY; i++) clients.push(await clientWith(g, keys.shared));
  for (let round = 1; ; round++) {
    const before = await Promise.all(gws.map(health));
    const tallies = gws.map(() => ({ allowed: 0, refused: 0 }));
    const t0 = Date.now();
    const deadline = t0 + HAMMER_MS;
    await Promise.all(clients.map((c, i) => hammer(c, deadline, tallies[Math.floor(i / CLIENTS_PER_GATEWAY)])));
    const elapsed = (Date.now() - t0) / 1000;
    const after = await Promise.all(gws.map(health));
    const local = after.map((h, i) => h.local_fallbacks - before[i].local_fallbacks);
    const allowed = tallies[0].allowed + tallies[1].allowed;
    const expected = BURST + (PER_MINUTE / 60) * elapsed;
    const msg = `round ${round}: allowed ${allowed} (${tallies[0].allowed} + ${tallies[1].allowed}), expected ` +
      `${expected.toFixed(1)} in ${elapsed.toFixed(2)} s; refused ${tallies[0].refused} + ${tallies[1].refused}; ` +
      `decided locally ${local[0]} + ${local[1]}`;
    t.diagnostic(msg);
    if (local.some((n) => n > 0) && round < 3) {
      for (const g of gws) await until('redis connected again', async () => (await health(g)).enforcing === 'redis', 10000);
      execFileSync('redis-cli', ['-p', String(redisPort), 'FLUSHALL']);
      continue;
    }
    for (const h of after) {
      assert.equal(h.backend, 'redis');
      assert.equal(h.enforcing, 'redis', msg);
      assert.equal(h.redis_timeouts, before[after.indexOf(h)].redis_timeouts, msg);
    }
    assert.ok(Math.abs(allowed - expected) <= 0.05 * expected, msg);
    // both instances took part and both were refused: the bucket is one
    for (const x of tallies) assert.ok(x.allowed > 0 && x.refused > 0, msg);
    break;
  }
  for (const c of clients) await c.close();
});

test('Redis hanging: a call waits at most the bounded time, then Redis is used again', async () => {
  const g = gws[0];
  const client = await clientWith(g, keys.shared);
  try {
    redis.kill('SIGSTOP');
    const t0 = Date.now();
    let code = 0;
    try { await client.callTool({ name: 'echo__echo', arguments: { text: 'stopped' } }); } catch (e) { code = e.code; }
    const ms = Date.now() - t0;
    // decided by the local buckets (a fresh one: allowed) after the 250 ms wait, not hung
    assert.equal(code, 0);
    assert.ok(ms < 2000, `answered in ${ms} ms`);
    const h = await health(g);
    assert.ok(h.redis_timeouts >= 1, JSON.stringify(h));
    assert.equal(h.enforcing, 'local');
    assert.match(g.logs(), /no answer to a rate-limit check within 250 ms/);
  } finally {
    redis.kill('SIGCONT');
    await client.close();
  }
  await until('redis connected again', async () => (await health(g)).redis === 'connected', 10000);
  assert.match(g.logs(), /redis 127\.0\.0\.1:\d+ is back: rate limits are shared again/);
});

test('Redis killed: both fall back to local limits and /health says so', async () => {
  redis.kill('SIGKILL');
  await new Promise((r) => redis.on('exit', r));
  for (const g of gws) {
    const h = await until('fallback on /health', async () => {
      const x = await health(g);
      return x.redis === 'unavailable' ? x : null;
    });
    assert.equal(h.backend, 'redis');
    assert.equal(h.enforcing, 'local');
    assert.equal(h.redis_address, `127.0.0.1:${redisPort}`);
    assert.ok(h.redis_error, 'the last error is shown');
    assert.match(g.logs(), new RegExp(`redis 127\\.0\\.0\\.1:${redisPort} unavailable .*fall back to this instance's local buckets`));
  }
  // local buckets enforce: 'small' has a burst of 2 on the tool, on each instance
  for (const g of gws) {
    const client = await clientWith(g, keys.small);
    try {
      for (let i = 0; i < 2; i++) await client.callTool({ name: 'echo__echo', arguments: { text: 'local' } });
      let code = null;
      try { await client.callTool({ name: 'echo__echo', arguments: { text: 'local' } }); } catch (e) { code = e.code; }
      assert.equal(code, RATE_LIMITED);
    } finally { await client.close(); }
    assert.ok((await health(g)).local_fallbacks >= 3);
  }
});
