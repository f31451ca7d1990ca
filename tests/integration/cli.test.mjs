// The command line on bad or odd input: `--help` of every command, unknown
// options, and `config check` on a config whose files are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, freePort, tempDir } from './lib.mjs';

// Run the binary to completion: { code, stdout, stderr }.
function run(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Each command, and the words its own usage must name (its flags, or its
// subcommands).
const COMMANDS = [
  [['serve'], ['mcpgw serve', '-c', '--listen', '--log-level', '--no-auth', '--pid-file', '--prefix', '-- COMMAND']],
  [['stdio'], ['mcpgw stdio', '-c', '--server', '--log-level', '--pid-file']],
  [['config', 'check'], ['mcpgw config check', '-c']],
  [['config'], ['mcpgw config check', '-c']],
  [['reload'], ['mcpgw reload', '-c', '--pid-file']],
  [['version'], ['mcpgw version']],
  [['help'], ['mcpgw serve', 'mcpgw stdio', 'mcpgw config check', 'mcpgw reload', 'mcpgw apikey', 'mcpgw audit', 'mcpgw policy', 'mcpgw version']],
  [['apikey'], ['apikey create', 'apikey list', 'apikey rotate', 'apikey revoke', 'apikey disable', 'apikey enable']],
  [['apikey', 'create'], ['mcpgw apikey create', '--name', '--roles', '--servers', '--expires', '-c']],
  [['apikey', 'list'], ['mcpgw apikey list', '-c']],
  [['apikey', 'rotate'], ['mcpgw apikey rotate', '--name', '-c']],
  [['apikey', 'revoke'], ['mcpgw apikey revoke', '--name', '-c']],
  [['apikey', 'disable'], ['mcpgw apikey disable', '--name', '-c']],
  [['apikey', 'enable'], ['mcpgw apikey enable', '--name', '-c']],
  [['audit'], ['audit verify', 'audit query', 'audit tail', 'audit checkpoint']],
  [['audit', 'verify'], ['mcpgw audit verify', '--config', '--file', '--db', '--key']],
  [['audit', 'query'], ['mcpgw audit query', '--config', '--file', '--db', '--since', '--until', '--user', '--server', '--tool', '--status', '--limit', '--format']],
  [['audit', 'tail'], ['mcpgw audit tail', '--config', '--file', '--db', '-n', '-f', '--format']],
  [['audit', 'checkpoint'], ['mcpgw audit checkpoint', '--config', '--file', '--db', '--key']],
  [['policy'], ['mcpgw policy check', 'mcpgw policy explain']],
  [['policy', 'check'], ['mcpgw policy check', '--policy']],
  [['policy', 'explain'], ['mcpgw policy explain', '--policy', '--principal', '--email', '--roles', '--tool', '--server', '--action']],
  [['tools'], ['mcpgw tools pending', 'mcpgw tools list', 'mcpgw tools diff', 'mcpgw tools approve', 'mcpgw tools reject', '--by', '-c']],
  ...['pending', 'list', 'diff', 'approve', 'reject'].map((sub) => [['tools', sub], [`mcpgw tools ${sub}`, '-c']]),
];

// The subcommands a usage must NOT show: one subcommand's help is its own.
const OTHERS = {
  'apikey create': 'apikey list', 'apikey list': 'apikey create', 'policy check': 'policy explain',
  'policy explain': 'policy check', serve: 'mcpgw stdio', stdio: 'mcpgw serve', reload: 'mcpgw serve',
  version: 'mcpgw serve', 'config check': 'mcpgw serve', 'audit verify': 'audit query',
  'audit query': 'audit verify', 'audit tail': 'audit verify', 'audit checkpoint': 'audit verify',
};

for (const [cmd, words] of COMMANDS) {
  for (const flag of ['--help', '-h']) {
    test(`mcpgw ${cmd.join(' ')} ${flag}: its own usage on stdout, exit 0`, () => {
      const r = run([...cmd, flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /^usage:/);
      for (const w of words) {
        const re = new RegExp(`(^|[\\s\\[])${w.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}\\b`, 'm');
        assert.match(r.stdout, re, `names ${w}`);
      }
      const other = OTHERS[cmd.join(' ')];
      if (other) assert.ok(!r.stdout.includes(other), `shows ${other}:\n${r.stdout}`);
    });
  }
}

// `mcpgw help COMMAND [SUB]` is `mcpgw COMMAND [SUB] --help`, byte for byte.
for (const [cmd] of COMMANDS) {
  if (cmd[0] === 'help') continue;
  test(`mcpgw help ${cmd.join(' ')}: the same usage as --help`, () => {
    const r = run(['help', ...cmd]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, run([...cmd, '--help']).stdout);
  });
}

test('mcpgw, mcpgw -h, --help and help: the general usage on stdout, exit 0; it names the manual', () => {
  const outs = [[], ['-h'], ['--help'], ['help']].map((a) => run(a));
  for (const r of outs) {
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, outs[0].stdout);
  }
  assert.match(outs[0].stdout, /mcpgw tools pending/);
  assert.match(outs[0].stdout, /mcpgw help \[COMMAND/);
  assert.match(outs[0].stdout, /man mcpgw/);
});

test('mcpgw --version and mcpgw version: the version on stdout, exit 0', () => {
  for (const a of [['--version'], ['version']]) {
    const r = run(a);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^mcpgw \d+\.\d+\.\d+\n$/);
  }
});

test('a --help after serve -- COMMAND is that command\'s, not ours', () => {
  const r = run(['serve', '--bogus', '--', 'true', '--help']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /mcpgw serve: unknown option or missing value: '--bogus'/);
});

for (const [cmd, bad] of [
  [['serve'], '--bogus'], [['stdio'], '--bogus'], [['config', 'check'], '--bogus'], [['reload'], '--bogus'],
  [['version'], '--bogus'], [['apikey', 'create'], '--bogus'], [['apikey', 'list'], '--bogus'],
  [['policy', 'explain'], '--bogus'], [['audit', 'verify'], '--bogus'], [['audit', 'query'], '--bogus'],
  [['audit', 'tail'], '--bogus'], [['audit', 'checkpoint'], '--bogus'], [['tools', 'list'], '--bogus'],
  [['tools', 'approve'], '--bogus'], [['policy', 'check'], '--bogus'], [['apikey', 'rotate'], '--bogus'],
]) {
  test(`mcpgw ${cmd.join(' ')} ${bad}: exit 2, the option named on stderr, nothing on stdout`, () => {
    const r = run([...cmd, bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^mcpgw ${cmd[0]}\\b.*'${bad}'`));
  });
}

for (const [cmd, what] of [[['bogus'], "unknown command 'bogus'"], [['apikey', 'bogus'], "unknown subcommand 'bogus'"],
  [['policy', 'bogus'], "unknown subcommand 'bogus'"], [['config', 'bogus'], "unknown subcommand 'bogus'"],
  [['tools', 'bogus'], "unknown subcommand 'bogus'"], [['audit', 'bogus'], "unknown subcommand 'bogus'"],
  [['help', 'bogus'], "unknown command 'bogus'"]]) {
  test(`mcpgw ${cmd.join(' ')}: exit 2 naming it on stderr`, () => {
    const r = run(cmd);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.includes(what), r.stderr);
  });
}

// ---- config check fails where serve would ------------------------------------

// The error serve stopped on: its plain "mcpgw: ..." line (the config
// itself), or the message of its error log line (what it read at start).
function serveError(stderr) {
  for (const line of stderr.split('\n')) {
    if (line.startsWith('mcpgw: ')) return line.slice(7);
    try {
      const o = JSON.parse(line);
      if (o.level === 'error') return o.msg;
    } catch { /* not a log line */ }
  }
  return null;
}

test('config check on a config whose policy, TLS or credential file is missing: serve\'s error, exit 1', async () => {
  const dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'server.key', '-out', 'server.pem', '-days', '2', '-subj', '/CN=127.0.0.1'], { cwd: dir, stdio: 'ignore' });
  const port = await freePort();
  const cases = [
    ['policy', 'policy: missing-policy.yaml\n', 'missing-policy.yaml'],
    ['tls.cert', 'tls:\n  cert: missing.pem\n  key: server.key\n', 'missing.pem'],
    ['tls.key', 'tls:\n  cert: server.pem\n  key: missing.key\n', 'missing.key'],
    ['tls.client_ca', 'tls:\n  cert: server.pem\n  key: server.key\n  client_ca: missing-ca.pem\n', 'missing-ca.pem'],
    ['credential_ref', `servers:\n  api:\n    url: http://127.0.0.1:9/mcp\n    auth:\n      method: bearer\n      credential_ref: file://${dir}/missing-secret\n`, 'missing-secret'],
  ];
  for (const [what, yaml, file] of cases) {
    const cfg = join(dir, `${what}.yaml`);
    writeFileSync(cfg, `listen: "127.0.0.1:${port}"\n${yaml}`);
    const serve = run(['serve', '-c', cfg]);
    assert.equal(serve.code, 1, `${what}: serve ${serve.stderr}`);
    const msg = serveError(serve.stderr);
    assert.ok(msg?.includes(file), `${what}: serve names ${file}: ${serve.stderr}`);
    const check = run(['config', 'check', '-c', cfg]);
    assert.equal(check.code, 1, `${what}: config check ${check.stdout}${check.stderr}`);
    assert.equal(check.stdout, '');
    assert.equal(check.stderr, `mcpgw: ${msg}\n`, what);
  }
  // With the files in place, config check passes.
  writeFileSync(join(dir, 'policy.yaml'), 'default_policy: deny\n');
  const good = join(dir, 'good.yaml');
  writeFileSync(good, `listen: "127.0.0.1:${port}"\npolicy: policy.yaml\ntls:\n  cert: server.pem\n  key: server.key\n  client_ca: server.pem\n`);
  const ok = run(['config', 'check', '-c', good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /good\.yaml: ok/);
});
