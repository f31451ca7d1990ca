// The command line on bad or odd input: `--help` of every command, unknown
// options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN } from './lib.mjs';

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
  [['help'], ['mcpgw serve', 'mcpgw stdio', 'mcpgw config check', 'mcpgw reload', 'mcpgw apikey', 'mcpgw policy', 'mcpgw version']],
  [['apikey'], ['apikey create', 'apikey list', 'apikey rotate', 'apikey revoke', 'apikey disable', 'apikey enable']],
  [['apikey', 'create'], ['mcpgw apikey create', '--name', '--roles', '--servers', '--expires', '-c']],
  [['apikey', 'list'], ['mcpgw apikey list', '-c']],
  [['apikey', 'rotate'], ['mcpgw apikey rotate', '--name', '-c']],
  [['apikey', 'revoke'], ['mcpgw apikey revoke', '--name', '-c']],
  [['apikey', 'disable'], ['mcpgw apikey disable', '--name', '-c']],
  [['apikey', 'enable'], ['mcpgw apikey enable', '--name', '-c']],
  [['policy'], ['mcpgw policy check', 'mcpgw policy explain']],
  [['policy', 'check'], ['mcpgw policy check', '--policy']],
  [['policy', 'explain'], ['mcpgw policy explain', '--policy', '--principal', '--email', '--roles', '--tool', '--server', '--action']],
];

// The subcommands a usage must NOT show: one subcommand's help is its own.
const OTHERS = {
  'apikey create': 'apikey list', 'apikey list': 'apikey create', 'policy check': 'policy explain',
  'policy explain': 'policy check', serve: 'mcpgw stdio', stdio: 'mcpgw serve', reload: 'mcpgw serve',
  version: 'mcpgw serve', 'config check': 'mcpgw serve',
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

test('a --help after serve -- COMMAND is that command\'s, not ours', () => {
  const r = run(['serve', '--bogus', '--', 'true', '--help']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /mcpgw serve: unknown option or missing value: '--bogus'/);
});

for (const [cmd, bad] of [
  [['serve'], '--bogus'], [['stdio'], '--bogus'], [['config', 'check'], '--bogus'], [['reload'], '--bogus'],
  [['version'], '--bogus'], [['apikey', 'create'], '--bogus'], [['apikey', 'list'], '--bogus'],
  [['policy', 'explain'], '--bogus'],
]) {
  test(`mcpgw ${cmd.join(' ')} ${bad}: exit 2, the option named on stderr, nothing on stdout`, () => {
    const r = run([...cmd, bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^mcpgw ${cmd[0]}\\b.*'${bad}'`));
  });
}

for (const [cmd, what] of [[['bogus'], "unknown command 'bogus'"], [['apikey', 'bogus'], "unknown subcommand 'bogus'"],
  [['policy', 'bogus'], "unknown subcommand 'bogus'"], [['config', 'bogus'], "unknown subcommand 'bogus'"]]) {
  test(`mcpgw ${cmd.join(' ')}: exit 2 naming it on stderr`, () => {
    const r = run(cmd);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.includes(what), r.stderr);
  });
}
