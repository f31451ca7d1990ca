// A real PostgreSQL for the tests, from Debian's packages (scripts/bootstrap.sh
// installs `postgresql`): a throwaway cluster in a temporary directory,
// listening on 127.0.0.1 on a free port with its unix socket in that
// directory, never the machine's own cluster. initdb and postgres refuse
// to run as root: as root, they run as the package's `postgres` user (or
// a system user mcpgw-pg made here when that is missing), through setpriv,
// which execs (so the pid we hold is the postmaster's own).
//
//   const pg = await startPostgres();          // pg.url: postgresql://mcpgw:PW@127.0.0.1:PORT/mcpgw
//   await pg.query('SELECT count(*) FROM audit_logs');   // rows as objects (psql, json_agg)
//   await pg.stop(); await pg.start();          // the same cluster, same port
//   await pg.destroy();                         // stop and remove everything
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir } from './lib.mjs';

export function postgresBin() {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(base, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
}

// The OS user the cluster runs as: { uid, gid, name } or null (run as ourselves).
function clusterUser() {
  if (process.getuid() !== 0) return null;
  const ids = (name) => {
    try {
      return { uid: Number(execFileSync('id', ['-u', name]).toString()), gid: Number(execFileSync('id', ['-g', name]).toString()), name };
    } catch { return null; }
  };
  let u = ids('postgres');
  if (u) return u;
  u = ids('mcpgw-pg');
  if (u) return u;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'mcpgw-pg']);
  return ids('mcpgw-pg');
}

function asUser(user, cmd, args) {
  if (!user) return [cmd, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--reset-env', '--', cmd, ...args]];
}

function run(user, cmd, args, opts = {}) {
  const [c, a] = asUser(user, cmd, args);
  return execFileSync(c, a, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }).toString();
}

export async function startPostgres({ user: role = 'mcpgw', password = 'pw-Secret-4711', database = 'mcpgw' } = {}) {
  const bin = postgresBin();
  const osUser = clusterUser();
  const dir = tempDir('mcpgw-pg-');
  const data = join(dir, 'data');
  if (osUser) chownSync(dir, osUser.uid, osUser.gid);
  const port = await freePort();
  const admin = 'pgadmin';
  // Trust on the socket (only the directory's owner and root reach it),
  // scram passwords over TCP: the gateway's URL carries a real password.
  run(osUser, join(bin, 'initdb'), ['-D', data, '-U', admin, '--auth-local=trust', '--auth-host=scram-sha-256',
    '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'], { cwd: dir });
  let proc = null, exited = null, log = '';

  async function start() {
    const [c, a] = asUser(osUser, join(bin, 'postgres'), ['-D', data, '-p', String(port), '-h', '127.0.0.1',
      '-k', dir, '-c', 'max_connections=30', '-c', 'shared_buffers=16MB', '-c', 'logging_collector=off']);
    proc = spawn(c, a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr.on('data', (d) => { log += d.toString(); });
    exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
    const deadline = Date.now() + 30000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`postgres exited early (${proc.exitCode}):\n${log}`);
      try {
        execFileSync(join(bin, 'pg_isready'), ['-q', '-h', dir, '-p', String(port)], { stdio: 'ignore' });
        return;
      } catch { /* not yet */ }
      if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`postgres not ready:\n${log}`); }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // Fast shutdown (SIGINT): clients are disconnected, the cluster stays.
  async function stop() {
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGINT');
    let timer;
    const r = await Promise.race([exited, new Promise((res) => { timer = setTimeout(() => res(null), 15000); })]);
    clearTimeout(timer);
    if (!r) { proc.kill('SIGKILL'); await exited; }
  }

  // psql as the admin over the socket; rows of a SELECT as objects.
  function psql(sql, db = database) {
    return execFileSync(join(bin, 'psql'), ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port),
      '-U', admin, '-d', db, '-c', sql], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  }
  async function query(sql) {
    const out = psql(`SELECT coalesce(json_agg(t), '[]') FROM (${sql}) t`).trim();
    return JSON.parse(out);
  }

  const cleanup = () => {
    try { if (proc && proc.exitCode === null) proc.kill('SIGKILL'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);

  try {
    await start();
    psql(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`, 'postgres');
    psql(`CREATE DATABASE ${database} OWNER ${role}`, 'postgres');
  } catch (e) {
    cleanup();
    throw e;
  }
  const url = `postgresql://${role}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  return {
    url, port, dir, password, role, database, start, stop, psql, query,
    logs: () => log,
    running: () => !!proc && proc.exitCode === null,
    async destroy() {
      await stop();
      process.removeListener('exit', cleanup);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
