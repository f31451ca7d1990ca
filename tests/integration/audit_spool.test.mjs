// audit.on_failure: spool (issue 10, docs/audit.md "When a sink fails")
// against a real PostgreSQL (pg.mjs): while the PostgreSQL sink is down,
// calls go on and their records wait in a bounded disk spool; /health says
// the trail is degraded and how much is spooled, /ready stays ready and
// says so too; when PostgreSQL is back the spool is replayed, every
// answered call has exactly one row and `mcpgw audit verify` passes. A
// spool at its bound refuses new calls with -32031 naming the sink, and
// its file never passes the bound. A gateway started while PostgreSQL is
// down starts and spools; started again with a spool and PostgreSQL back,
// it replays the spool without waiting for a call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  startGateway, tempDir, freePort, ROOT, BIN, apikeyCreate, writeGatewayFiles, allowAllRole, bearerClient,
  apiKeyAuthYaml, withGatewayLog,
} from './lib.mjs';
import { startPostgres } from './pg.mjs';

const AUDIT_UNAVAILABLE = -32031;
const HEADER = 96; // bytes of an empty spool file (docs/internals/audit.md)
const FLAKY = join(ROOT, 'tests', 'fixtures', 'flaky-server.mjs');
const POLICY = `roles:\n${allowAllRole('user')}default_policy: deny\n`;

let pg;
const gateways = [];
before(async () => { pg = await startPostgres(); });
after(async () => {
  try {
    for (const g of gateways) if (g.proc.exitCode === null) await g.stop();
  } finally { await pg?.destroy(); }
});

// A database of its own for each test, on the shared cluster.
async function database(name) {
  if (!pg.running()) await pg.start(); // a test before failed while it was down
  pg.psql(`CREATE DATABASE ${name} OWNER ${pg.role}`, 'postgres');
  return pg.url.replace(/\/[^/]+$/, `/${name}`);
}
const sql = (db, q) => JSON.parse(pg.psql(`SELECT coalesce(json_agg(t), '[]') FROM (${q}) t`, db).trim());

// A gateway directory with its config, policy and an API key; start() runs
// (or runs again) the gateway on it.
async function gatewayOn(url, extra = '') {
  const dir = tempDir();
  const port = await freePort();
  const body = `servers:\n  fl:\n    command: node\n    args: ["${FLAKY}"]\n    env:\n      FLAKY_STATE: "${tempDir()}"\n` +
    apiKeyAuthYaml(port) +
    `audit:\n  sinks:\n    - { type: postgres, url: "${url}" }\n  on_failure: spool\n  parameters: full\n` +
    '  chain: { checkpoint_every: 500ms, signing_key: "file://signing.pem" }\n' + extra;
  const cfg = writeGatewayFiles(dir, port, body, POLICY);
  const key = apikeyCreate(cfg, 'alice', 'user');
  return {
    dir, key, cfg,
    async start() {
      const g = await startGateway(body, { dir, port });
      gateways.push(g);
      return g;
    },
  };
}

async function eventually(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const health = async (g) => (await (await fetch(`${g.base}/health`)).json()).audit;

// Four clients calling echo until stopped: what was answered (text, phase)
// and what failed.
async function callers(g, key, tag, phaseOf) {
  const clients = await Promise.all([0, 1, 2, 3].map(() => bearerClient(g.url, key)));
  const run = { answered: [], errors: [], stop: false };
  const worker = async (c, w) => {
    for (let i = 0; !run.stop; i++) {
      const text = `${tag}-${w}-${i}`;
      const phase = phaseOf();
      try {
        const r = await c.callTool({ name: 'fl__echo', arguments: { text } });
        assert.equal(r.content[0].text, text);
        run.answered.push({ text, phase });
      } catch (e) {
        run.errors.push(e);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const workers = clients.map(worker);
  run.end = async () => {
    run.stop = true;
    await Promise.allSettled(workers);
    await Promise.allSettled(clients.map((c) => c.close()));
  };
  return run;
}

// Every answered call has exactly one row in audit_logs.
function oneRowEach(db, answered, tag) {
  const rows = sql(db, `SELECT record::json->'parameters'->>'text' AS text, count(*) AS n FROM audit_logs
    WHERE record::json->'parameters'->>'text' LIKE '${tag}-%' GROUP BY 1`);
  const n = new Map(rows.map((r) => [r.text, Number(r.n)]));
  const wrong = answered.filter((a) => n.get(a.text) !== 1).map((a) => `${a.text}: ${n.get(a.text) ?? 0} rows`);
  assert.deepEqual(wrong, [], 'answered calls without exactly one row');
}

function verify(url, dir) {
  const r = spawnSync(BIN, ['audit', 'verify', '--pg', url, '--key', join(dir, 'signing.pem')],
    { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `mcpgw audit verify: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^ok: \d+ records, seq 1 to \d+/);
  return r.stdout;
}

test('spool: PostgreSQL stopped while four clients call: calls go on, /health and /ready say spooling; back: replayed, one row each, verify passes', async (t) => {
  const url = await database('spool_calls');
  const gd = await gatewayOn(url);
  const g = await gd.start();
  let phase = 'before';
  const run = await callers(g, gd.key, 'sp', () => phase);
  const after = (p) => run.answered.filter((a) => a.phase === p).length;
  try {
    await eventually('calls before the outage', () => after('before') >= 8);
    await pg.stop();
    phase = 'down';
    await eventually('calls answered while PostgreSQL is down', () => after('down') >= 40);
    const h = await health(g);
    assert.equal(h.state, 'degraded', JSON.stringify(h));
    assert.equal(h.ok, false);
    assert.equal(h.sinks[0].ok, false);
    assert.match(h.sinks[0].reason ?? '', /audit sink postgres unavailable: \S/);
    assert.ok(h.spooled_records > 0 && h.sinks[0].spool.records === h.spooled_records, JSON.stringify(h));
    assert.ok(h.spooled_bytes > HEADER && h.sinks[0].spool.bytes === h.spooled_bytes);
    assert.equal(statSync(h.sinks[0].spool.path).size >= h.spooled_bytes, true);
    const ready = await fetch(`${g.base}/ready`);
    const readyBody = await ready.json();
    assert.equal(ready.status, 200, JSON.stringify(readyBody)); // calls go on
    const why = readyBody.degraded?.find((x) => x.name === 'audit');
    assert.equal(why?.state, 'spooling', JSON.stringify(readyBody));
    assert.match(why.last_error, /audit sink postgres unavailable/);
    assert.ok(why.spooled_records > 0);
    for (const s of [JSON.stringify(h), JSON.stringify(readyBody), g.logs()]) {
      assert.ok(!s.includes(pg.password), 'the password leaked');
    }

    await pg.start();
    phase = 'after';
    await eventually('the spool replayed', async () => {
      const b = await health(g);
      return b.state === 'ok' && b.spooled_records === 0 && b.sinks[0].ok;
    });
    await eventually('calls after PostgreSQL is back', () => after('after') >= 8);
    assert.equal((await fetch(`${g.base}/ready`)).status, 200);
  } catch (e) {
    t.diagnostic(`gateway log (tail):\n${g.logs().split('\n').slice(-40).join('\n')}`);
    throw e;
  } finally {
    await run.end();
  }
  assert.deepEqual(run.errors.map((e) => e.message), [], 'no call failed');
  oneRowEach(url.replace(/.*\//, ''), run.answered, 'sp');
  await g.stop(); // a clean stop signs the head
  verify(url, gd.dir);
  assert.equal(statSync(join(gd.dir, (spoolName(gd.dir)))).size, HEADER, 'the spool is empty');
});

// The spool file beside the store (mcpgw-audit-spool.postgres-<id>).
function spoolName(dir) {
  const f = readdirSync(dir).filter((n) => n.startsWith('mcpgw-audit-spool.postgres-'));
  assert.equal(f.length, 1, `spool files in ${dir}: ${f}`);
  return f[0];
}

test('the spool at its bound: new calls refused with -32031 naming the sink, the file never past max_size; back: nothing answered lost', async (t) => {
  const url = await database('spool_bound');
  const max = 16384;
  const gd = await gatewayOn(url, `  spool: { max_size: ${max} }\n`);
  const g = await gd.start();
  let phase = 'before';
  const run = await callers(g, gd.key, 'bd', () => phase);
  const spoolPath = join(gd.dir, spoolName(gd.dir));
  let biggest = 0;
  const watch = setInterval(() => {
    if (existsSync(spoolPath)) biggest = Math.max(biggest, statSync(spoolPath).size);
  }, 5);
  try {
    await eventually('calls before the outage', () => run.answered.length >= 8);
    await pg.stop();
    phase = 'down';
    const refused = await eventually('a refusal once the spool is full',
      () => run.errors.find((e) => e.code === AUDIT_UNAVAILABLE));
    assert.match(refused.message, /audit sink postgres unavailable: .*spool is full/);
    const h = await health(g);
    assert.equal(h.state, 'failing', JSON.stringify(h));
    assert.ok(h.sinks[0].spool.records > 0, 'records were spooled (their calls answered) before the bound');
    assert.equal(h.sinks[0].spool.full, true);
    assert.equal(h.sinks[0].spool.max_size, max);
    assert.ok(h.sinks[0].spool.bytes <= max);
    const ready = await fetch(`${g.base}/ready`);
    assert.equal(ready.status, 503);
    assert.match((await ready.json()).not_ready.find((x) => x.name === 'audit')?.last_error ?? '',
      /audit sink postgres unavailable/);
    // refused for as long as it is down: the file stays within its bound
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(statSync(spoolPath).size <= max);

    await pg.start();
    phase = 'after';
    await eventually('calls answered after PostgreSQL is back', () => run.answered.filter((a) => a.phase === 'after').length >= 8);
    await eventually('the spool replayed', async () => (await health(g)).state === 'ok');
  } catch (e) {
    t.diagnostic(`gateway log (tail):\n${g.logs().split('\n').slice(-40).join('\n')}`);
    throw e;
  } finally {
    clearInterval(watch);
    await run.end();
  }
  assert.ok(biggest <= max, `the spool file reached ${biggest} bytes, past ${max}`);
  const others = run.errors.filter((e) => e.code !== AUDIT_UNAVAILABLE);
  assert.deepEqual(others.map((e) => e.message), [], 'only audit refusals');
  oneRowEach(url.replace(/.*\//, ''), run.answered, 'bd');
  await g.stop();
  verify(url, gd.dir);
});

test('started while PostgreSQL is down: serves and spools; started again with the spool and PostgreSQL back: replayed at start', withGatewayLog(async () => {
  const url = await database('spool_restart');
  const gd = await gatewayOn(url);
  await pg.stop();
  let g = await gd.start(); // with refuse, a durable sink down stops the start
  let h = await health(g);
  assert.equal(h.state, 'degraded', JSON.stringify(h));
  assert.equal(h.sinks[0].ok, false);
  const client = await bearerClient(g.url, gd.key);
  const answered = [];
  for (let i = 0; i < 20; i++) {
    const text = `rs-${i}`;
    const r = await client.callTool({ name: 'fl__echo', arguments: { text } });
    assert.equal(r.content[0].text, text);
    answered.push({ text });
  }
  await client.close();
  h = await health(g);
  assert.ok(h.spooled_records >= 20, JSON.stringify(h));
  await g.stop();
  const spoolPath = join(gd.dir, spoolName(gd.dir));
  assert.ok(statSync(spoolPath).size > HEADER, 'the records wait in the spool');

  await pg.start();
  g = await gd.start();
  await eventually('the spool replayed at start', async () => {
    const n = sql('spool_restart', `SELECT count(*) AS n FROM audit_logs WHERE record LIKE '%"rs-%'`)[0].n;
    return Number(n) === answered.length;
  });
  await eventually('health ok', async () => (await health(g)).state === 'ok');
  assert.equal(statSync(spoolPath).size, HEADER, 'the spool is emptied');
  // the replayed records are signed for the sink: no checkpoint reached it while it was down
  const last = sql('spool_restart', 'SELECT max(seq) AS seq FROM audit_logs')[0].seq;
  await eventually('a checkpoint of the replayed records', () =>
    sql('spool_restart', 'SELECT max(seq) AS seq FROM audit_checkpoints')[0].seq === last);
  oneRowEach('spool_restart', answered, 'rs');
  await g.stop();
  const out = verify(url, gd.dir);
  // seq 1 is the first record: the chain began in the spool and went on
  assert.match(out, /seq 1 to \d+; [1-9]\d* checkpoints verified/);
}, () => gateways.at(-1)));
