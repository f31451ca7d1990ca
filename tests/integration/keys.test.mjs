// Encryption at rest with a key ring (issue 13 point 1, docs/compliance.md):
// audit parameters sealed in the store and opened by `mcpgw audit query`,
// while `mcpgw audit verify` needs no key; a changed or missing master key
// refuses the start naming what is wrong; `mcpgw keys rotate` and `status`;
// a rotation killed halfway (kill -9) leaves every data key openable
// (checked from outside, with Python's cryptography) and the gateway
// finishes it; `mcpgw keys prune` deletes the retired keys that seal no
// data key (none while a re-seal is pending under them), and everything
// still opens.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, connectClient, freePort, startGateway, tempDir } from './lib.mjs';
import { eventually, flakyServer, sqliteRows } from './audit_lib.mjs';

const TOOL = join(ROOT, 'tests', 'fixtures', 'keyring-tool.py');
const MASTER = randomBytes(32).toString('base64');
const body = (v = 'KR_MASTER') => `${flakyServer()}auth: none\nencryption:\n  master_key: env://${v}\n`;
const dir = tempDir();
let port;
let gw;
let made; // the data keys the kill -9 test makes: {name: hex key}
after(async () => { await gw?.stop(); });

// `mcpgw ARGS` with the master key in the environment: { status, stdout, stderr }.
function run(args, env = { KR_MASTER: MASTER }) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const status = () => {
  const r = run(['keys', 'status', '--json', '-c', join(dir, 'mcpgw.yaml')]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
};
const start = (env = { KR_MASTER: MASTER }) => startGateway(body(), { dir, port, env });
const pyTool = (args, input) => execFileSync('python3', [TOOL, ...args],
  { encoding: 'utf8', input, env: { ...process.env, MASTER_KEY: MASTER }, maxBuffer: 64 << 20 });

test('audit parameters are sealed in the store; mcpgw audit query opens them; verify needs no key', async () => {
  port = await freePort();
  gw = await start();
  const c = await connectClient(gw.url);
  try {
    const r = await c.client.callTool({ name: 'fl__echo', arguments: { text: 'kr-marker-4711' } });
    assert.equal(r.content[0].text, 'kr-marker-4711');
  } finally { await c.close(); }
  const db = join(dir, 'mcpgw.db');
  const rec = await eventually(() => sqliteRows(db, 'record').map((x) => JSON.parse(x.record))
    .find((x) => x.tool_name === 'fl__echo'), 'no record of the call');
  assert.match(rec.parameters, /^mcpgw:v1:audit:[A-Za-z0-9_-]+$/, 'the parameters are a sealed string');
  for (const f of [db, `${db}-wal`]) {
    if (existsSync(f)) assert.ok(!readFileSync(f).includes('kr-marker-4711'), `plaintext in ${f}`);
  }
  const q = run(['audit', 'query', '--format', 'json', '-c', gw.cfg]);
  assert.equal(q.status, 0, q.stderr);
  const opened = q.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.tool_name === 'fl__echo');
  assert.deepEqual(opened.parameters, { text: 'kr-marker-4711' });
  const v = run(['audit', 'verify', '--db', db], {});
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('mcpgw keys rotate adds an active key; status shows both, the audit key under the new one', async () => {
  const before = status();
  assert.equal(before.keys.length, 1);
  assert.equal(before.keys[0].state, 'active');
  assert.equal(before.data_keys, 1, 'the audit data key');
  const r = run(['keys', 'rotate', '-c', gw.cfg]);
  assert.equal(r.status, 0, r.stderr);
  const kid = /new active key (kr-\S+)/.exec(r.stdout)?.[1];
  assert.ok(kid, r.stdout);
  const s = status();
  assert.deepEqual(s.keys.map((k) => [k.id, k.state]), [[before.keys[0].id, 'retired'], [kid, 'active']]);
  assert.equal(s.keys[1].data_keys, 1);
  assert.equal(s.pending, 0);
  const text = run(['keys', 'status', '-c', gw.cfg]);
  assert.match(text.stdout, new RegExp(`${kid} .* active +1\\n`));
  // the running gateway seals on with the same data key: still readable
  const c = await connectClient(gw.url);
  try { await c.client.callTool({ name: 'fl__echo', arguments: { text: 'after-rotate' } }); } finally { await c.close(); }
  await eventually(() => run(['audit', 'query', '--format', 'json', '-c', gw.cfg]).stdout.includes('"text":"after-rotate"'),
    'the record after the rotation opens');
});

test('mcpgw keys prune: --dry-run deletes nothing; then the retired key goes and everything still opens', async () => {
  const before = status();
  const [old, cur] = before.keys.map((k) => k.id);
  assert.deepEqual(before.keys.map((k) => [k.state, k.data_keys]), [['retired', 0], ['active', 1]]);
  const dry = run(['keys', 'prune', '--dry-run', '--json', '-c', gw.cfg]);
  assert.equal(dry.status, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout), { would_delete: [old], dry_run: true });
  const dryText = run(['keys', 'prune', '--dry-run', '-c', gw.cfg]);
  assert.match(dryText.stdout, new RegExp(`would delete ${old}\n`));
  assert.deepEqual(status().keys.map((k) => k.id), [old, cur], '--dry-run deleted nothing');
  const r = run(['keys', 'prune', '-c', gw.cfg]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`deleted ${old}\n1 retired key deleted`));
  const after1 = status();
  assert.deepEqual(after1.keys.map((k) => [k.id, k.state, k.data_keys]), [[cur, 'active', 1]]);
  assert.ok(!run(['keys', 'status', '-c', gw.cfg]).stdout.includes(old), 'status still lists the pruned key');
  assert.deepEqual(JSON.parse(run(['keys', 'prune', '--json', '-c', gw.cfg]).stdout).deleted, [],
    'nothing left to prune, the active key never');
  // what was sealed before and after the rotation opens; the running gateway seals on
  const c = await connectClient(gw.url);
  try { await c.client.callTool({ name: 'fl__echo', arguments: { text: 'after-prune' } }); } finally { await c.close(); }
  await eventually(() => run(['audit', 'query', '--format', 'json', '-c', gw.cfg]).stdout.includes('"text":"after-prune"'),
    'the record after the prune opens');
  const q = run(['audit', 'query', '--format', 'json', '-c', gw.cfg]).stdout;
  for (const t of ['kr-marker-4711', 'after-rotate']) assert.ok(q.includes(`"text":"${t}"`), `${t} no longer opens`);
  const v = run(['audit', 'verify', '--db', join(dir, 'mcpgw.db')], {});
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('a changed master key refuses the start, naming the ring key it cannot open', async () => {
  await gw.stop();
  gw = null;
  const kids = status().keys.map((k) => k.id);
  const other = randomBytes(32).toString('base64');
  await assert.rejects(start({ KR_MASTER: other }), (e) => {
    assert.match(e.message, /exited early/);
    assert.match(e.message, new RegExp(`cannot open ring key (${kids.join('|')})`));
    return true;
  });
  const r = run(['keys', 'status', '-c', join(dir, 'mcpgw.yaml')], { KR_MASTER: other });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot open ring key kr-/);
});

test('a master key reference to an unset variable refuses the start, naming the variable', async () => {
  const env = { ...process.env };
  delete env.KR_MASTER;
  const p = spawnSync(BIN, ['serve', '-c', join(dir, 'mcpgw.yaml')], { encoding: 'utf8', env, timeout: 20000 });
  assert.notEqual(p.status, 0);
  assert.match(p.stderr, /encryption\.master_key.*environment variable 'KR_MASTER' is not set/);
});

test('kill -9 halfway through a rotation: every data key still opens; the gateway finishes the rotation', async () => {
  made = JSON.parse(pyTool(['create', join(dir, 'mcpgw.db'), '10000']));
  assert.equal(Object.keys(made).length, 10000);
  assert.equal(status().pending, 0);
  const rot = spawn(BIN, ['keys', 'rotate', '-c', join(dir, 'mcpgw.yaml')],
    { env: { ...process.env, KR_MASTER: MASTER }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exited = new Promise((res) => rot.on('exit', (code, sig) => res({ code, sig })));
  await new Promise((res) => rot.stderr.on('data', (d) => {
    err += d;
    if (/re-sealed 100 of/.test(err)) { rot.kill('SIGKILL'); res(); }
  }));
  assert.equal((await exited).sig, 'SIGKILL');
  const half = status();
  assert.equal(half.keys.at(-1).state, 'active');
  assert.ok(half.pending > 0 && half.pending < 10001, `pending after the kill: ${half.pending}`);
  // every data key opens with some key of the ring, whichever it is under
  assert.equal(pyTool(['check', join(dir, 'mcpgw.db')], JSON.stringify(made)).trim(), '10000');
  // the retired key still seals the pending ones: prune keeps it
  const retired = half.keys.at(-2);
  assert.equal(retired.state, 'retired');
  const kept = run(['keys', 'prune', '--json', '-c', join(dir, 'mcpgw.yaml')]);
  assert.equal(kept.status, 0, kept.stderr);
  assert.deepEqual(JSON.parse(kept.stdout).deleted, []);
  assert.deepEqual(status().keys.map((k) => k.id), half.keys.map((k) => k.id));
  assert.equal(pyTool(['check', join(dir, 'mcpgw.db')], JSON.stringify(made)).trim(), '10000');
  gw = await start();
  const done = await eventually(() => { const s = status(); return s.pending === 0 ? s : null; },
    'the gateway did not finish the rotation', { ms: 150000 });
  assert.equal(done.keys.at(-1).data_keys, 10001);
  assert.equal(pyTool(['check', join(dir, 'mcpgw.db')], JSON.stringify(made)).trim(), '10000');
  await eventually(() => /re-sealed \d+ data keys? under the active ring key/.test(gw.logs()),
    'the gateway logged its re-seal');
});

test('once the gateway has re-sealed everything, prune deletes the retired key; every data key still opens', async () => {
  const before = status();
  assert.equal(before.pending, 0);
  const retired = before.keys.filter((k) => k.state === 'retired').map((k) => k.id);
  assert.equal(retired.length, 1);
  const r = run(['keys', 'prune', '--json', '-c', gw.cfg]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).deleted, retired);
  const s = status();
  assert.deepEqual(s.keys.map((k) => k.state), ['active']);
  assert.equal(s.keys[0].data_keys, 10001);
  assert.equal(pyTool(['check', join(dir, 'mcpgw.db')], JSON.stringify(made)).trim(), '10000');
  const v = run(['audit', 'verify', '--db', join(dir, 'mcpgw.db')], {});
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('encryption.prune_retired: true: the gateway prunes the retired key once the re-seal is done', async () => {
  await gw.stop();
  gw = null;
  gw = await startGateway(body() + '  prune_retired: true\n', { dir, port, env: { KR_MASTER: MASTER } });
  const r = run(['keys', 'rotate', '-c', gw.cfg]);
  assert.equal(r.status, 0, r.stderr);
  const kid = /new active key (kr-\S+)/.exec(r.stdout)[1];
  const s = await eventually(() => { const x = status(); return x.keys.length === 1 ? x : null; },
    'the gateway did not prune the retired key', { ms: 60000 });
  assert.deepEqual(s.keys.map((k) => [k.id, k.state, k.data_keys]), [[kid, 'active', 10001]]);
  await eventually(() => /prune_retired: deleted retired ring key kr-/.test(gw.logs()), 'the gateway logged its prune');
  assert.equal(pyTool(['check', join(dir, 'mcpgw.db')], JSON.stringify(made)).trim(), '10000');
  // the prune is in the audit trail, as one through the API is: an admin
  // record by the gateway itself, naming the key
  const rec = await eventually(() => sqliteRows(join(dir, 'mcpgw.db'), 'record').map((x) => JSON.parse(x.record))
    .find((x) => x.event_type === 'admin' && /^key ring: pruned kr-/.test(x.tool_name ?? '')),
  'no admin record of the prune');
  assert.equal(rec.action, 'keyring');
  assert.equal(rec.user_kind, 'gateway');
  assert.equal(rec.status, 'success');
  assert.match(rec.tool_name, /^key ring: pruned kr-\S+ \(encryption\.prune_retired\)$/);
  assert.notEqual(rec.tool_name, `key ring: pruned ${kid} (encryption.prune_retired)`, 'the active key was pruned');
});

test('a reload keeps the running key ring: a changed encryption: block is said to need a restart', async () => {
  const text = readFileSync(gw.cfg, 'utf8');
  assert.match(text, /prune_retired: true/);
  writeFileSync(gw.cfg, text.replace('prune_retired: true', 'prune_retired: false\n  rotate_after: 30d'));
  gw.proc.kill('SIGHUP');
  await eventually(() => /reload \d+ applied/.test(gw.logs()), 'the reload was not applied');
  assert.match(gw.logs(), /'encryption \(master_key, rotate_after, prune_retired\)' changed: it needs a restart; the running value stays/);
  // the ring the gateway opened still serves: its status reads as before
  assert.equal(status().keys.length, 1);
});
