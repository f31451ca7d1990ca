// mcpgw backup / restore (issue 12 item 1): a snapshot taken while the
// gateway serves and writes its audit trail; the store lost; restored with
// the gateway stopped: the API key made before works again, and the audit
// trail, with the records of before, still verifies. Restore is refused
// while the gateway runs, a backup never overwrites a file, and a file that
// is not a store backup is refused; each with exit 1 and a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN, EVERYTHING, startGateway, tempDir, freePort, apikeyCreate, writeGatewayFiles, apiKeyAuthYaml,
  bearerClient, ADMIN_POLICY,
} from './lib.mjs';

const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });

test('backup while serving, store lost, restore with the gateway stopped: the key works, the trail verifies', async () => {
  const dir = tempDir();
  const port = await freePort();
  const body = `pid_file: mcpgw.pid\nservers:\n  e:\n    command: node\n    args: ["${EVERYTHING}"]\n` + apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  const key = apikeyCreate(cfg, 'kept', 'operator');
  let gw = await startGateway(body, { dir, port });
  const snap = join(dir, 'snap.db');
  try {
    const c = await bearerClient(gw.url, key);
    await c.callTool({ name: 'e__echo', arguments: { message: 'before the backup' } });
    const b = run('backup', snap, '-c', cfg);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /snap\.db: a snapshot of .*mcpgw\.db/);
    assert.equal(statSync(snap).mode & 0o777, 0o600, 'a backup holds key MACs: private');
    const again = run('backup', snap, '-c', cfg);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /snap\.db: already exists/);
    const busy = run('restore', snap, '-c', cfg);
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /a gateway \(pid \d+\) serves .*: stop it first; nothing restored/);
    await c.close();
  } finally {
    await gw.stop();
  }
  for (const f of ['mcpgw.db', 'mcpgw.db-wal', 'mcpgw.db-shm']) rmSync(join(dir, f), { force: true });
  const r = run('restore', snap, '-c', cfg);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /mcpgw\.db: restored from .*snap\.db/);
  const v = run('audit', 'verify', '-c', cfg);
  assert.equal(v.status, 0, `${v.stdout}${v.stderr}`);
  gw = await startGateway(body, { dir, port });
  try {
    const c = await bearerClient(gw.url, key);
    const out = await c.callTool({ name: 'e__echo', arguments: { message: 'after the restore' } });
    assert.match(out.content[0].text, /after the restore/);
    await c.close();
  } finally {
    await gw.stop();
  }
});

test('restore refuses a file that is not a store backup, and needs FILE', () => {
  const dir = tempDir();
  const cfg = join(dir, 'mcpgw.yaml');
  writeFileSync(cfg, 'servers: {}\n');
  writeFileSync(join(dir, 'junk.db'), 'not a database at all, just text'.repeat(200));
  const r = run('restore', join(dir, 'junk.db'), '-c', cfg);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /junk\.db: (not an mcpgw store backup|cannot open)/);
  assert.match(r.stderr, /nothing restored/);
  const none = run('restore', '-c', cfg);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /which FILE\?/);
  assert.ok(!existsSync(join(dir, 'snap.db')));
  const h = run('backup', '--help');
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^usage: mcpgw backup FILE/);
});

test('a backup carries what was registered through the admin API (virtual servers, clients); restore puts it back, or removes what came after', async () => {
  const dir = tempDir();
  const port = await freePort();
  const body = `pid_file: mcpgw.pid\nservers:\n  e:\n    command: node\n    args: ["${EVERYTHING}"]\n` + apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  const admin = apikeyCreate(cfg, 'root', 'admin');
  const servers = join(dir, 'mcpgw.managed.yaml');
  const clients = join(dir, 'policy.managed.yaml');
  const api = async (path, b) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify(b),
    });
    assert.equal(r.status, 201, await r.text());
  };
  const early = join(dir, 'early.db');
  const snap = join(dir, 'snap.db');
  let gw = await startGateway(body, { dir, port });
  try {
    assert.equal(run('backup', early, '-c', cfg).status, 0, 'before anything was registered');
    await api('/admin/v1/virtual_servers', { name: 'team', tools: ['e__echo'] });
    await api('/admin/register-client', { client_id: 'c1', roles: ['operator'], policy: { allowed_tools: ['echo'] } });
    const b = run('backup', snap, '-c', cfg);
    assert.equal(b.status, 0, b.stderr);
  } finally {
    await gw.stop();
  }
  const kept = [readFileSync(servers, 'utf8'), readFileSync(clients, 'utf8')];
  assert.match(kept[0], /team/);
  assert.match(kept[1], /c1/);
  rmSync(servers);
  rmSync(clients);
  const r = run('restore', snap, '-c', cfg);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual([readFileSync(servers, 'utf8'), readFileSync(clients, 'utf8')], kept);
  assert.equal(statSync(servers).mode & 0o777, 0o600);
  const tables = spawnSync('sqlite3', [join(dir, 'mcpgw.db'), "SELECT name FROM sqlite_master WHERE name = 'backup_files'"], { encoding: 'utf8' });
  assert.equal(tables.stdout.trim(), '', 'the carried files are not left in the store');
  gw = await startGateway(body, { dir, port });
  try {
    const v = await (await fetch(`http://127.0.0.1:${port}/admin/v1/virtual_servers/team`, { headers: { Authorization: `Bearer ${admin}` } })).json();
    assert.equal(v.origin, 'api', JSON.stringify(v));
  } finally {
    await gw.stop();
  }
  // a backup made before anything was registered: restored, nothing registered is left
  const e = run('restore', early, '-c', cfg);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(existsSync(servers), false);
  assert.equal(existsSync(clients), false);
});
