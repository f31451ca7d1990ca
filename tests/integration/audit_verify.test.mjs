// mcpgw audit verify|query|tail|checkpoint on trails this test builds itself,
// in JavaScript, exactly as docs/audit.md describes them (the line, the chain,
// the checkpoints, the SQL tables): the format is verifiable by another
// implementation, and each kind of tampering is named by its first bad seq.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, EVERYTHING, connectClient, startGateway, tempDir } from './lib.mjs';

const ZERO = '0'.repeat(64);
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

// ---- a trail per docs/audit.md --------------------------------------------------

// The line of one record: members in the documented order, prev_hash then
// hash last; hash = SHA-256 of the line without its hash member.
function recordLine(fields, prevHash) {
  const body = JSON.stringify({ ...fields, prev_hash: prevHash });
  return `${body.slice(0, -1)},"hash":"${sha256(body)}"}`;
}
const hashOf = (line) => JSON.parse(line).hash;

function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  return {
    privateKey, publicKey,
    keyId: createHash('sha256').update(raw).digest('hex').slice(0, 32),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
  };
}

function checkpointLine(key, seq, hash, timestamp) {
  const msg = `mcpgw-audit-checkpoint\n${seq}\n${hash}\n${timestamp}`;
  const signature = sign(null, Buffer.from(msg), key.privateKey).toString('base64');
  return JSON.stringify({ seq, timestamp, hash, key_id: key.keyId, signature });
}

const USERS = ['alice', 'bob', 'carol'];
const STATUS = ['success', 'denied', 'success', 'error'];

// n records, one per minute ending now, and a checkpoint every `every`.
function buildTrail(n, key, { every = 10, firstSeq = 1, prev = ZERO, t0 } = {}) {
  const start = t0 ?? Date.now() - n * 60000;
  const lines = [], cps = [];
  for (let i = 0; i < n; i++) {
    const seq = firstSeq + i;
    const timestamp = new Date(start + i * 60000).toISOString();
    const line = recordLine({
      seq, timestamp, event_type: 'mcp_request', user: USERS[seq % 3], user_kind: 'apikey',
      session_id: 's1', endpoint: '/mcp', action: 'tools/call', request_id: seq,
      mcp_server: seq % 2 ? 'files' : 'git', tool_name: seq % 2 ? 'read_file' : 'git_log',
      parameters: { path: `/tmp/f${seq}`, note: 'ünïcode "quoted"' }, status: STATUS[seq % 4],
      duration_ms: 1.5 + seq,
    }, prev);
    lines.push(line);
    prev = hashOf(line);
    if (seq % every === 0) cps.push(checkpointLine(key, seq, prev, timestamp));
  }
  return { lines, cps };
}

function writeFileSink(dir, { lines, cps }, name = 'audit.jsonl') {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
  writeFileSync(`${path}.checkpoints`, cps.map((l) => `${l}\n`).join(''));
  return path;
}

// The tables exactly as docs/audit.md writes them, filled with the sqlite3 CLI.
const SCHEMA = `
CREATE TABLE audit_logs (seq BIGINT PRIMARY KEY, ts_ms BIGINT NOT NULL, event_type TEXT NOT NULL,
  "user" TEXT NOT NULL, mcp_server TEXT NOT NULL, tool_name TEXT NOT NULL, status TEXT NOT NULL,
  record TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE audit_checkpoints (seq BIGINT PRIMARY KEY, ts_ms BIGINT NOT NULL, hash TEXT NOT NULL,
  record TEXT NOT NULL);`;
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

function writeSqliteSink(dir, { lines, cps }, name = 'audit.db') {
  const path = join(dir, name);
  const sql = [SCHEMA, 'BEGIN;'];
  for (const l of lines) {
    const r = JSON.parse(l);
    sql.push(`INSERT INTO audit_logs VALUES (${r.seq}, ${Date.parse(r.timestamp)}, ${q(r.event_type)}, ` +
      `${q(r.user ?? '')}, ${q(r.mcp_server ?? '')}, ${q(r.tool_name ?? '')}, ${q(r.status)}, ${q(l)}, ${q(r.hash)});`);
  }
  for (const c of cps) {
    const r = JSON.parse(c);
    sql.push(`INSERT INTO audit_checkpoints VALUES (${r.seq}, ${Date.parse(r.timestamp)}, ${q(r.hash)}, ${q(c)});`);
  }
  sql.push('COMMIT;');
  execFileSync('sqlite3', [path], { input: sql.join('\n') });
  return path;
}

function sqlite(path, sql) {
  return execFileSync('sqlite3', [path], { input: sql, encoding: 'utf8' });
}

function run(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function verify(kind, path, keyPath) {
  return run(['audit', 'verify', kind === 'db' ? '--db' : '--file', path, ...(keyPath ? ['--key', keyPath] : [])]);
}

function setup(n = 40, opts = {}) {
  const dir = tempDir('mcpgw-audit-');
  const key = newKey();
  const keyPath = join(dir, 'signing.pem');
  writeFileSync(keyPath, key.privatePem, { mode: 0o600 });
  const pubPath = join(dir, 'public.pem');
  writeFileSync(pubPath, key.publicPem);
  return { dir, key, keyPath, pubPath, trail: buildTrail(n, key, opts) };
}

// ---- tampering, on both kinds of sink ------------------------------------------

function swap(a, i, j) { const b = [...a]; [b[i], b[j]] = [b[j], b[i]]; return b; }

// Re-chain lines[from..]: an attacker who edits a record and re-hashes every
// record after it. Only a signed checkpoint can tell.
function rechain(lines, from, edit) {
  const out = lines.slice(0, from);
  let prev = from ? hashOf(lines[from - 1]) : ZERO;
  for (let i = from; i < lines.length; i++) {
    const r = JSON.parse(lines[i]);
    delete r.hash; delete r.prev_hash;
    if (i === from) edit(r);
    out.push(recordLine(r, prev));
    prev = hashOf(out[i]);
  }
  return out;
}

const forge = (cp) => JSON.stringify({ ...JSON.parse(cp), signature: sign(null, Buffer.from('x'), newKey().privateKey).toString('base64') });
const updateRecord = (seq, line) => `UPDATE audit_logs SET record = ${q(line)}, hash = ${q(hashOf(line))} WHERE seq = ${seq};`;

// name; the tampered file sink ({lines, cps} -> {lines, cps}); the same done
// to an SQLite sink (SQL, from the trail; null: the table's key forbids it);
// the message naming the first bad seq
const TAMPERS = [
  ['one record edited',
    (t) => ({ ...t, lines: t.lines.map((l, i) => (i === 41 ? l.replace('/tmp/f42', '/tmp/f99') : l)) }),
    (t) => updateRecord(42, t.lines[41].replace('/tmp/f42', '/tmp/f99')),
    /^seq 42: hash does not match its line \(edited\)$/m],
  ['one record edited and re-hashed',
    (t) => ({ ...t, lines: rechain(t.lines, 40, (r) => { r.status = 'success'; }).slice(0, 41).concat(t.lines.slice(41)) }),
    (t) => updateRecord(41, rechain(t.lines, 40, (r) => { r.status = 'success'; })[40]),
    /^seq 41: hash is not the one seq 42 chained to/m],
  ['one record edited and every later one re-hashed',
    (t) => ({ ...t, lines: rechain(t.lines, 24, (r) => { r.user = 'mallory'; }) }),
    (t) => rechain(t.lines, 24, (r) => { r.user = 'mallory'; }).slice(24).map((l, i) => updateRecord(25 + i, l)).join('\n'),
    /^seq 30: hash differs from the signed checkpoint's \(it, or a record after seq 20, was edited\)$/m],
  ['one record deleted',
    (t) => ({ ...t, lines: t.lines.filter((_, i) => i !== 16) }),
    () => 'DELETE FROM audit_logs WHERE seq = 17;',
    /^seq 17 missing \(deleted\)$/m],
  ['two records swapped',
    (t) => ({ ...t, lines: swap(t.lines, 8, 9) }),
    (t) => updateRecord(9, t.lines[9]) + updateRecord(10, t.lines[8]),
    /^seq 9 after 10 \(reordered\)$/m],
  ['a record repeated',
    (t) => ({ ...t, lines: [...t.lines.slice(0, 5), t.lines[4], ...t.lines.slice(5)] }),
    null,
    /^seq 5 repeated/m],
  ['the last ten cut, one of them checkpointed',
    (t) => ({ ...t, lines: t.lines.slice(0, -10) }),
    () => 'DELETE FROM audit_logs WHERE seq > 40;',
    /^records after seq 40 missing: last checkpoint covers 50 \(cut\)$/m],
  ['a forged checkpoint signature',
    (t) => ({ ...t, cps: t.cps.map((c, i) => (i === 1 ? forge(c) : c)) }),
    (t) => `UPDATE audit_checkpoints SET record = ${q(forge(t.cps[1]))} WHERE seq = 20;`,
    /^checkpoint at seq 20: signature does not verify \(forged or altered\)$/m],
];

for (const kind of ['file', 'db']) {
  const write = kind === 'file' ? writeFileSink : writeSqliteSink;

  test(`${kind} sink: a valid chain verifies (exit 0), signatures checked with the private or the public key`, () => {
    const s = setup(50);
    const path = write(s.dir, s.trail);
    for (const k of [s.keyPath, s.pubPath]) {
      const r = verify(kind, path, k);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ok: 50 records, seq 1 to 50; 5 checkpoints verified$/m);
      assert.doesNotMatch(r.stdout, /not covered/);
    }
    const r = verify(kind, path);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /signatures not checked/);
  });

  for (const [name, tamperFile, tamperSql, want] of TAMPERS) {
    if (kind === 'db' && !tamperSql) continue;
    test(`${kind} sink: ${name}: exit 1 naming the first bad seq`, () => {
      const s = setup(50);
      let path;
      if (kind === 'file') {
        path = write(s.dir, tamperFile(s.trail));
      } else {
        path = write(s.dir, s.trail);
        sqlite(path, tamperSql(s.trail));
      }
      const r = verify(kind, path, s.pubPath);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, want);
    });
  }

  test(`${kind} sink: the last ten cut after the last checkpoint leave no trace, and verify says so`, () => {
    const s = setup(50);
    const { lines, cps } = s.trail;
    const path = write(s.dir, { lines: lines.slice(0, -5), cps: cps.slice(0, -1) });
    const whole = write(s.dir, { lines: lines.slice(0, -1), cps: cps.slice(0, -1) }, kind === 'file' ? 'b.jsonl' : 'b.db');
    for (const [p, n] of [[path, 45], [whole, 49]]) {
      const r = verify(kind, p, s.pubPath);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`the ${n - 40} records after seq 40 are not covered by a checkpoint yet: a cut there would leave no trace`));
    }
  });

  test(`${kind} sink: after retention the oldest kept record is the anchor, trusted through a later checkpoint`, () => {
    const s = setup(50);
    const { lines, cps } = s.trail;
    // records 1..23 and the checkpoints 10 and 20 deleted, as retention does
    const path = write(s.dir, { lines: lines.slice(23), cps: cps.slice(2) });
    let r = verify(kind, path, s.pubPath);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: 27 records, seq 24 to 50; 3 checkpoints verified$/m);
    assert.doesNotMatch(r.stdout, /not confirmed/);
    // without a checkpoint at or after it, the anchor is not confirmed
    const p2 = write(s.dir, { lines: lines.slice(23, 29), cps: [] }, kind === 'file' ? 'c.jsonl' : 'c.db');
    r = verify(kind, p2, s.pubPath);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /the oldest record kept, seq 24, is not confirmed by a verified checkpoint/);
    // a deletion inside what is kept is still found
    const p3 = write(s.dir, { lines: lines.slice(23).filter((_, i) => i !== 3), cps: cps.slice(2) }, kind === 'file' ? 'd.jsonl' : 'd.db');
    r = verify(kind, p3, s.pubPath);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^seq 27 missing \(deleted\)$/m);
  });

  test(`${kind} sink: a checkpoint signed by another key fails`, () => {
    const s = setup(30);
    const other = newKey();
    const cps = [...s.trail.cps];
    const c = JSON.parse(cps[0]);
    cps[0] = checkpointLine(other, c.seq, c.hash, c.timestamp);
    const path = write(s.dir, { ...s.trail, cps });
    const r = verify(kind, path, s.pubPath);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^checkpoint at seq 10: signed by another key/m);
  });
}

test('file sink: rotated files PATH.2, PATH.1 then PATH are read in that order', () => {
  const s = setup(30);
  const path = join(s.dir, 'audit.jsonl');
  const { lines, cps } = s.trail;
  writeFileSync(`${path}.2`, lines.slice(0, 10).map((l) => `${l}\n`).join(''));
  writeFileSync(`${path}.1`, lines.slice(10, 20).map((l) => `${l}\n`).join(''));
  writeFileSync(path, lines.slice(20).map((l) => `${l}\n`).join(''));
  writeFileSync(`${path}.checkpoints`, cps.map((l) => `${l}\n`).join(''));
  let r = verify('file', path, s.pubPath);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok: 30 records, seq 1 to 30; 3 checkpoints verified$/m);
  // a rotated file removed whole is a gap
  writeFileSync(`${path}.1`, '');
  r = verify('file', path, s.pubPath);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^seq 11 missing \(deleted\)$/m);
});

test('file sink: a last line cut short by a crash is not a record, and verify says so', () => {
  const s = setup(12);
  const path = writeFileSink(s.dir, s.trail);
  appendFileSync(path, s.trail.lines[0].slice(0, 30));
  const r = verify('file', path, s.pubPath);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /ends with an incomplete line/);
});

test('verify: a missing trail or key is an error (exit 1), bad options exit 2', () => {
  const s = setup(3);
  let r = run(['audit', 'verify', '--file', join(s.dir, 'nope.jsonl')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nope\.jsonl: cannot open/);
  r = run(['audit', 'verify', '--db', join(s.dir, 'nope.db')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nope\.db: cannot open/);
  const path = writeFileSink(s.dir, s.trail);
  r = run(['audit', 'verify', '--file', path, '--key', join(s.dir, 'nokey.pem')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nokey\.pem: cannot open/);
  r = run(['audit', 'verify', '--file', path, '--db', path]);
  assert.equal(r.code, 2);
  r = run(['audit', 'verify', '--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^mcpgw audit verify: unknown option '--bogus'/);
});

// ---- query, tail, checkpoint ------------------------------------------------------

for (const kind of ['file', 'db']) {
  const write = kind === 'file' ? writeFileSink : writeSqliteSink;
  const src = (p) => [kind === 'file' ? '--file' : '--db', p];

  test(`${kind} sink: query filters by user, server, tool, status and time; --limit keeps the newest`, () => {
    const s = setup(30);
    const path = write(s.dir, s.trail);
    const recs = s.trail.lines.map((l) => JSON.parse(l));
    const json = (args) => {
      const r = run(['audit', 'query', ...src(path), '--format', 'json', '--limit', '1000', ...args]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    const seqs = (lines) => lines.map((l) => JSON.parse(l).seq);
    // the json format is the stored lines, unchanged
    assert.deepEqual(json([]), s.trail.lines);
    assert.deepEqual(seqs(json(['--user', 'alice'])), recs.filter((r) => r.user === 'alice').map((r) => r.seq));
    assert.deepEqual(seqs(json(['--server', 'git', '--status', 'denied'])),
      recs.filter((r) => r.mcp_server === 'git' && r.status === 'denied').map((r) => r.seq));
    assert.deepEqual(seqs(json(['--tool', 'read_file'])), recs.filter((r) => r.tool_name === 'read_file').map((r) => r.seq));
    assert.deepEqual(seqs(json(['--since', recs[9].timestamp, '--until', recs[14].timestamp])), [10, 11, 12, 13, 14, 15]);
    // relative: the last 10 minutes hold the last records (one a minute, ending now)
    const recent = seqs(json(['--since', '10m']));
    assert.ok(recent.length >= 9 && recent.length <= 11 && recent.at(-1) === 30, String(recent));
    // --limit: the newest N, oldest first
    const r = run(['audit', 'query', ...src(path), '--limit', '3', '--format', 'json']);
    assert.deepEqual(seqs(r.stdout.split('\n').filter(Boolean)), [28, 29, 30]);
    // table: a header and one row per record
    const t = run(['audit', 'query', ...src(path), '--user', 'bob', '--limit', '2']);
    assert.equal(t.code, 0, t.stderr);
    const rows = t.stdout.trim().split('\n');
    assert.match(rows[0], /^SEQ\s+TIMESTAMP\s+USER\s+ACTION\s+SERVER\s+TOOL\s+STATUS\s+MS$/);
    assert.equal(rows.length, 3);
    assert.match(rows[2], /^28\s+\S+Z\s+bob\s+tools\/call\s+git\s+git_log\s+success\s+29\.5$/);
    // bad values
    for (const bad of [['--since', 'yesterday'], ['--limit', '0'], ['--format', 'xml']]) {
      const b = run(['audit', 'query', ...src(path), ...bad]);
      assert.equal(b.code, 2, bad.join(' '));
    }
  });

  test(`${kind} sink: tail prints the last records, and with -f the new ones as they come`, async () => {
    const s = setup(60);
    const { lines } = s.trail;
    const path = write(s.dir, { lines: lines.slice(0, 20), cps: [] });
    const once = run(['audit', 'tail', ...src(path), '-n', '3', '--format', 'json']);
    assert.equal(once.code, 0, once.stderr);
    assert.deepEqual(once.stdout.trim().split('\n').map((l) => JSON.parse(l).seq), [18, 19, 20]);

    const p = spawn(BIN, ['audit', 'tail', ...src(path), '-f', '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    const seen = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l).seq);
    const until = async (cond, what) => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(cond(), `${what}: ${out}`);
    };
    try {
      await until(() => seen().length >= 10, 'the last ten');
      assert.deepEqual(seen(), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      if (kind === 'file') appendFileSync(path, lines.slice(20, 23).map((l) => `${l}\n`).join(''));
      else sqlite(path, lines.slice(20, 23).map((l) => { const r = JSON.parse(l); return `INSERT INTO audit_logs VALUES (${r.seq}, ${Date.parse(r.timestamp)}, 'mcp_request', ${q(r.user)}, ${q(r.mcp_server)}, ${q(r.tool_name)}, ${q(r.status)}, ${q(l)}, ${q(r.hash)});`; }).join('\n'));
      await until(() => seen().length >= 13, 'the new records');
      assert.deepEqual(seen().slice(10), [21, 22, 23]);
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.on('exit', r));
    }
  });

  test(`${kind} sink: checkpoint prints the latest signed checkpoint and the public key, checkable with openssl`, () => {
    const s = setup(25);
    const path = write(s.dir, s.trail);
    const r = run(['audit', 'checkpoint', ...src(path), '--key', s.keyPath]);
    assert.equal(r.code, 0, r.stderr);
    const [line, ...pem] = r.stdout.split('\n');
    assert.equal(line, s.trail.cps.at(-1));
    const cp = JSON.parse(line);
    assert.equal(cp.seq, 20);
    assert.equal(pem.join('\n'), s.key.publicPem);
    assert.equal(createPublicKey(pem.join('\n')).export({ format: 'jwk' }).x, s.key.publicKey.export({ format: 'jwk' }).x);
    // by hand, as docs/audit.md shows
    const dir = s.dir;
    writeFileSync(join(dir, 'pub-out.pem'), pem.join('\n'));
    writeFileSync(join(dir, 'msg'), `mcpgw-audit-checkpoint\n${cp.seq}\n${cp.hash}\n${cp.timestamp}`);
    writeFileSync(join(dir, 'sig'), Buffer.from(cp.signature, 'base64'));
    const v = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'pub-out.pem'), '-rawin',
      '-in', join(dir, 'msg'), '-sigfile', join(dir, 'sig')], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /Signature Verified Successfully/);
    // a forged latest checkpoint is refused, not printed
    const cps = [...s.trail.cps];
    cps[1] = JSON.stringify({ ...JSON.parse(cps[1]), signature: Buffer.alloc(64, 7).toString('base64') });
    const forged = write(s.dir, { ...s.trail, cps }, kind === 'file' ? 'f.jsonl' : 'f.db');
    const f = run(['audit', 'checkpoint', ...src(forged), '--key', s.pubPath]);
    assert.equal(f.code, 1);
    assert.equal(f.stdout, '');
    assert.match(f.stderr, /signature does not verify/);
  });
}

test('verify --config reads the store the config names (the sqlite sink)', () => {
  const s = setup(20);
  const db = writeSqliteSink(s.dir, s.trail, 'mcpgw.db');
  const cfg = join(s.dir, 'mcpgw.yaml');
  writeFileSync(cfg, `servers: {}\nstore:\n  path: ${db}\n`);
  const r = run(['audit', 'verify', '--config', cfg, '--key', s.pubPath]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok: 20 records/m);
});

// ---- a real gateway's trail ------------------------------------------------------

test('a real gateway\'s trail verifies, in its file sink (rotated) and in the store, and reads back', async () => {
  const dir = tempDir('mcpgw-audit-');
  const body = `servers:\n  ev:\n    command: node\n    args: [${JSON.stringify(EVERYTHING)}, "stdio"]\n` +
    'auth: none\naudit:\n  sinks:\n    - { type: file, path: audit.jsonl, rotate: { max_size: 4KiB, keep: 100 } }\n' +
    '    - { type: sqlite }\n  parameters: full\n' +
    '  chain: { checkpoint_every: 200ms, signing_key: "file://signing.pem" }\n';
  const gw = await startGateway(body, { dir });
  let echo;
  try {
    const c = await connectClient(gw.url);
    const client = c.client;
    echo = (await client.listTools()).tools.find((t) => t.name.endsWith('echo')).name;
    for (let i = 0; i < 25; i++) {
      await client.callTool({ name: echo, arguments: { message: `call ${i}` } });
      if (i === 12) await new Promise((r) => setTimeout(r, 500)); // a checkpoint in the middle
    }
    await c.close();
  } finally {
    await gw.stop();
  }
  assert.ok(existsSync(join(dir, 'audit.jsonl.1')), 'the file sink rotated');
  // --config reads the first file or sqlite sink: here the file sink
  const viaConfig = run(['audit', 'verify', '--config', gw.cfg]);
  assert.equal(viaConfig.code, 0, viaConfig.stdout + viaConfig.stderr);
  const n = Number(/^ok: (\d+) records, seq 1 to \1\b/m.exec(viaConfig.stdout)?.[1]);
  assert.ok(n >= 27, viaConfig.stdout); // session open, 25 calls, list, close...
  // the gateway made the key and signed checkpoints, the last at its clean stop
  assert.match(viaConfig.stdout, /; ([2-9]|[1-9]\d+) checkpoints verified$/m);
  assert.doesNotMatch(viaConfig.stdout, /not covered|not checked|not confirmed/);
  const viaDb = verify('db', join(dir, 'mcpgw.db'), join(dir, 'signing.pem'));
  assert.equal(viaDb.code, 0, viaDb.stdout + viaDb.stderr);
  assert.match(viaDb.stdout, new RegExp(`^ok: ${n} records, seq 1 to ${n}; ([2-9]|[1-9]\\d+) checkpoints verified$`, 'm'));
  // for a witness: the latest checkpoint covers the last record, and the public key
  const cp = run(['audit', 'checkpoint', '--config', gw.cfg]);
  assert.equal(cp.code, 0, cp.stderr);
  assert.equal(JSON.parse(cp.stdout.split('\n')[0]).seq, n);
  assert.match(cp.stdout, /^-----BEGIN PUBLIC KEY-----$/m);
  // both sinks hold the same lines
  const fromFile = run(['audit', 'query', '--file', join(dir, 'audit.jsonl'), '--format', 'json', '--limit', '1000']);
  const fromDb = run(['audit', 'query', '--db', join(dir, 'mcpgw.db'), '--format', 'json', '--limit', '1000']);
  assert.equal(fromFile.stdout, fromDb.stdout);
  const calls = run(['audit', 'query', '--config', gw.cfg, '--tool', echo, '--status', 'success', '--format', 'json', '--limit', '1000']);
  assert.equal(calls.stdout.trim().split('\n').length, 25, calls.stdout + calls.stderr);
  // a cut of the last record is found against the stop's checkpoint
  sqlite(join(dir, 'mcpgw.db'), `.backup ${join(dir, 'cut.db')}`);
  sqlite(join(dir, 'cut.db'), `DELETE FROM audit_logs WHERE seq = ${n};`);
  const cut = verify('db', join(dir, 'cut.db'), join(dir, 'signing.pem'));
  assert.equal(cut.code, 1);
  assert.equal(cut.stdout, `records after seq ${n - 1} missing: last checkpoint covers ${n} (cut)\n`);
  // and a record edited in the store is found
  const mid = Math.floor(n / 2);
  sqlite(join(dir, 'mcpgw.db'), `UPDATE audit_logs SET record = replace(record, '"seq":${mid},', '"seq":${mid}, ') WHERE seq = ${mid};`);
  const tampered = verify('db', join(dir, 'mcpgw.db'));
  assert.equal(tampered.code, 1);
  assert.match(tampered.stdout, new RegExp(`^seq ${mid}: hash does not match its line \\(edited\\)$`, 'm'));
});
