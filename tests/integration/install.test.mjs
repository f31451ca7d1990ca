// `make install` into a temporary root, then the installed binary serves the
// installed configurations (the example one, whose upstreams run from the
// repository, and the starter one in SYSCONFDIR with a key), the man page
// renders without warnings, the systemd unit verifies, `make uninstall`
// removes what install put; and the Dockerfile's package lists are the
// ones scripts/bootstrap.sh installs and the binary needs (docs/install.md).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ROOT, BIN, tempDir, freePort, bearerClient } from './lib.mjs';

let dest;                       // DESTDIR
const PREFIX = '/usr';          // the Debian layout: configuration in /etc
const inst = (p) => join(dest, p);

// make TARGET as an operator runs it: not the variables and jobserver of a
// make running this test (make test-integration).
function make(target) {
  const env = { ...process.env };
  for (const v of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'SANITIZE']) delete env[v];
  return execFileSync('make', ['-s', '-C', ROOT, target, `PREFIX=${PREFIX}`, `DESTDIR=${dest}`,
    `INSTALL_BIN=${BIN}`], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
}

// Every regular file under dir, relative to it, sorted.
function filesUnder(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p); else out.push(relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

const INSTALLED = [
  'etc/mcpgw/mcpgw.yaml', 'etc/mcpgw/policy.yaml', 'usr/bin/mcpgw', 'usr/lib/systemd/system/mcpgw.service',
  'usr/lib/sysusers.d/mcpgw.conf', 'usr/share/man/man1/mcpgw.1',
  'usr/share/mcpgw/examples/claude_desktop_config.json', 'usr/share/mcpgw/examples/mcpgw.yaml',
  'usr/share/mcpgw/examples/policy.yaml',
];

before(() => {
  dest = tempDir('mcpgw-install-');
  make('install');
});

// Start the installed binary; resolves once /health answers 200.
async function serveInstalled(cfg, env, cwd) {
  const proc = spawn(inst('usr/bin/mcpgw'), ['serve', '-c', cfg], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((res) => proc.on('exit', (code) => res(code)));
  const base = `http://${env.MCPGW_LISTEN}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`installed mcpgw exited (${proc.exitCode}):\n${log}`);
    try {
      const h = await fetch(`${base}/health`);
      if (h.status === 200 && (await h.json()).upstreams_ready) break;
    } catch { /* not yet */ }
    if (i > 300) { proc.kill('SIGKILL'); throw new Error(`installed mcpgw not ready:\n${log}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base, logs: () => log,
    async stop() { proc.kill('SIGTERM'); assert.equal(await exited, 0, log); },
  };
}

test('make install puts the binary, man page, examples, configuration, unit and user where docs/install.md says', () => {
  assert.deepEqual(filesUnder(dest), INSTALLED);
  assert.ok(statSync(inst('usr/bin/mcpgw')).mode & 0o111, 'executable');
  assert.equal(readFileSync(inst('etc/mcpgw/mcpgw.yaml'), 'utf8'), readFileSync(join(ROOT, 'packaging/mcpgw.yaml'), 'utf8'));
  const unit = readFileSync(inst('usr/lib/systemd/system/mcpgw.service'), 'utf8');
  // Paths as on the target system, not under DESTDIR.
  assert.match(unit, /^ExecStart=\/usr\/bin\/mcpgw serve -c \/etc\/mcpgw\/mcpgw\.yaml$/m);
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  assert.doesNotMatch(unit, /@[A-Z]+@/);
  for (const d of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
    'StateDirectory=mcpgw', 'CapabilityBoundingSet=\n', 'RestrictAddressFamilies=', 'SystemCallFilter=@system-service']) {
    assert.ok(unit.includes(d), d);
  }
  assert.equal(execFileSync(inst('usr/bin/mcpgw'), ['--version'], { encoding: 'utf8' }),
    execFileSync(BIN, ['--version'], { encoding: 'utf8' }));
});

test('the installed man page renders without a warning and names every command', () => {
  const page = inst('usr/share/man/man1/mcpgw.1');
  const r = spawnSync('groff', ['-man', '-ww', '-z', page], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  const m = spawnSync('man', ['--warnings', '-l', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } });
  assert.equal(m.status, 0, m.stderr);
  assert.equal(m.stderr, '');
  const text = m.stdout.replace(/‐\n\s*/g, '').replace(/\s+/g, ' ');
  for (const cmd of ['mcpgw serve', 'mcpgw stdio', 'mcpgw config check', 'mcpgw reload', 'mcpgw apikey',
    'mcpgw audit', 'mcpgw tools', 'mcpgw policy', 'mcpgw access', 'mcpgw version', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'EXAMPLES']) {
    assert.ok(text.includes(cmd), cmd);
  }
  // Every option a --help names is in the page.
  for (const cmd of [['serve'], ['stdio'], ['reload'], ['apikey'], ['apikey', 'create'], ['audit', 'query'],
    ['audit', 'tail'], ['audit', 'verify'], ['tools'], ['policy', 'explain'], ['access'], ['servers'], ['tools', 'list'], ['caches'], ['vservers']]) {
    const help = execFileSync(BIN, [...cmd, '--help'], { encoding: 'utf8' });
    for (const opt of new Set(help.match(/(?<![\w-])--?[a-z][a-z-]*/g))) {
      assert.ok(text.includes(opt), `${cmd.join(' ')} ${opt}`);
    }
  }
  assert.match(readFileSync(page, 'utf8'), new RegExp(`"mcpgw ${execFileSync(BIN, ['--version'], { encoding: 'utf8' }).trim().split(' ')[1]}"`),
    'the page\'s version is the binary\'s');
});

test('the installed unit passes systemd-analyze verify', { skip: spawnSync('systemd-analyze', ['--version']).status !== 0 && 'no systemd-analyze' }, () => {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', inst('usr/lib/systemd/system/mcpgw.service')], { encoding: 'utf8' });
  // Its only complaint may be the binary, which is under DESTDIR, not at /usr/bin.
  const lines = r.stderr.split('\n').filter((l) => l && !/Command \/usr\/bin\/mcpgw is not executable|No such file/.test(l));
  assert.deepEqual(lines, []);
});

test('the installed binary serves the installed example configuration: /health, an SDK client lists and calls tools', async () => {
  const port = await freePort();
  const files = tempDir('mcpgw-example-files-');
  writeFileSync(join(files, 'hello.txt'), 'hi');
  // The example's upstreams are the npm packages of tests/node_modules, named
  // relative to the repository (examples/mcpgw.yaml): it is started there.
  const gw = await serveInstalled(inst('usr/share/mcpgw/examples/mcpgw.yaml'),
    { MCPGW_LISTEN: `127.0.0.1:${port}`, MCPGW_FILES_ROOT: files }, ROOT);
  try {
    const client = new Client({ name: 'install-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.base}/mcp`)));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('everything__echo'), names.join(' '));
      assert.ok(names.includes('files__list_directory'), names.join(' '));
      const r = await client.callTool({ name: 'files__list_directory', arguments: { path: files } });
      assert.match(r.content[0].text, /hello\.txt/);
    } finally { await client.close(); }
  } finally { await gw.stop(); }
});

test('the installed binary serves the installed SYSCONFDIR configuration with a key made by the installed CLI, writing only in its state directory', async () => {
  const port = await freePort();
  const state = tempDir('mcpgw-state-');
  const run = tempDir('mcpgw-run-');
  const env = { MCPGW_LISTEN: `127.0.0.1:${port}`, STATE_DIRECTORY: state, RUNTIME_DIRECTORY: run };
  const cfg = inst('etc/mcpgw/mcpgw.yaml');
  const check = execFileSync(inst('usr/bin/mcpgw'), ['config', 'check', '-c', cfg], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.match(check, /: ok \(0 servers/);
  const key = execFileSync(inst('usr/bin/mcpgw'), ['apikey', 'create', '--name', 'op', '--roles', 'admin', '-c', cfg],
    { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const gw = await serveInstalled(cfg, env, tempDir());
  try {
    const anon = await fetch(`${gw.base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(anon.status, 401);
    const client = await bearerClient(`${gw.base}/mcp`, key);
    try {
      assert.deepEqual((await client.listTools()).tools, []);
    } finally { await client.close(); }
    assert.ok(existsSync(join(run, 'mcpgw.pid')), 'pid file in RUNTIME_DIRECTORY');
  } finally { await gw.stop(); }
  assert.ok(existsSync(join(state, 'mcpgw.db')), 'store in STATE_DIRECTORY');
  // ProtectSystem=strict: nothing may be written beside the configuration.
  assert.deepEqual(filesUnder(inst('etc')), ['mcpgw/mcpgw.yaml', 'mcpgw/policy.yaml']);
});

test('make uninstall removes what install put; a changed configuration is kept', () => {
  // What the example run made beside its configuration (its store, signing
  // key, pid file) is the run's, not install's.
  const ex = inst('usr/share/mcpgw/examples');
  const made = filesUnder(ex).filter((f) => !['claude_desktop_config.json', 'mcpgw.yaml', 'policy.yaml'].includes(f));
  for (const f of made) assert.match(f, /^mcpgw[.-]/, f);
  spawnSync('rm', ['-f', ...made.map((f) => join(ex, f))]);
  appendFileSync(inst('etc/mcpgw/policy.yaml'), '# changed by the operator\n');
  make('install'); // again: the changed file is not overwritten
  assert.match(readFileSync(inst('etc/mcpgw/policy.yaml'), 'utf8'), /changed by the operator/);
  const out = make('uninstall');
  assert.match(out, /policy\.yaml changed, kept/);
  assert.deepEqual(filesUnder(dest), ['etc/mcpgw/policy.yaml']);
  assert.ok(!existsSync(inst('usr/share/mcpgw')), 'its own directories go too');
});

// ---- the Dockerfile (docker is not here: its inputs are checked) -----------

function dockerStages() {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text.split(/^FROM /m).slice(1).map((stage) => {
    const m = /apt-get install -y --no-install-recommends ([^&]*)/.exec(stage);
    return { text: stage, pkgs: m ? m[1].trim().split(/\s+/) : [] };
  });
}

test('Dockerfile: debian:12-slim, the build stage\'s packages from scripts/bootstrap.sh, non-root, EXPOSE, HEALTHCHECK on /health', () => {
  const [build, runtime] = dockerStages();
  assert.match(build.text, /^debian:12-slim AS build/);
  assert.match(runtime.text, /^debian:12-slim\n/);
  const debs = /^DEBS=\(([^)]*)\)/m.exec(readFileSync(join(ROOT, 'scripts/bootstrap.sh'), 'utf8'))[1].split(/\s+/).filter(Boolean);
  for (const p of build.pkgs) assert.ok(debs.includes(p), `${p} is not in bootstrap.sh's DEBS`);
  // Every library the Makefile links has its -dev package there.
  const mk = readFileSync(join(ROOT, 'Makefile'), 'utf8');
  const pcs = /^PKGS\s*:=\s*(.*)$/m.exec(mk)[1].split(/\s+/);
  for (const pc of pcs) {
    const file = execFileSync('pkg-config', ['--variable=pcfiledir', pc], { encoding: 'utf8' }).trim();
    const owner = execFileSync('dpkg', ['-S', join(file, `${pc}.pc`)], { encoding: 'utf8' }).split(':')[0];
    assert.ok(build.pkgs.includes(owner), `${pc}: ${owner} missing from the build stage`);
  }
  assert.ok(build.pkgs.includes('libjemalloc-dev'));
  assert.match(runtime.text, /^USER mcpgw$/m);
  assert.match(runtime.text, /^EXPOSE 8080$/m);
  assert.match(runtime.text, /^HEALTHCHECK .*\/health/m);
});

test('Dockerfile: the runtime stage installs exactly the packages of the libraries the binary needs', { skip: !existsSync(join(ROOT, 'build/mcpgw')) && 'no release build' }, () => {
  const release = join(ROOT, 'build/mcpgw');
  const needed = execFileSync('objdump', ['-p', release], { encoding: 'utf8' }).split('\n')
    .map((l) => /^\s*NEEDED\s+(\S+)/.exec(l)?.[1]).filter(Boolean);
  const ldd = execFileSync('ldd', [release], { encoding: 'utf8' });
  const owners = new Set();
  for (const so of needed) {
    const path = new RegExp(`^\\s*${so.replace(/[.+]/g, '\\$&')} => (\\S+)`, 'm').exec(ldd)[1];
    const real = execFileSync('readlink', ['-f', path], { encoding: 'utf8' }).trim();
    const r = spawnSync('dpkg', ['-S', real], { encoding: 'utf8' });
    const owner = (r.status === 0 ? r.stdout : execFileSync('dpkg', ['-S', path], { encoding: 'utf8' })).split(':')[0];
    if (!['libc6', 'libgcc-s1'].includes(owner)) owners.add(owner); // in every Debian image
  }
  const [, runtime] = dockerStages();
  assert.deepEqual(runtime.pkgs.filter((p) => p !== 'ca-certificates').sort(), [...owners].sort());
});
