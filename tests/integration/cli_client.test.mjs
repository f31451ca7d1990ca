// The command line as a client of a running gateway (issue 12 item 4, seed
// 001's CLI): mcpgw call, mcpgw broadcast and mcpgw servers list against a
// gateway with three stdio upstreams of tests/fixtures/broadcast-server.mjs
// (a and b answer get_logs, c's fails), tagged differently. The token comes
// from --token or MCPGW_TOKEN and is never printed; a missing or wrong one
// is a clear error with exit status 1; bad usage is exit 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT, BIN, startGateway, tempDir, freePort, apikeyCreate, writeGatewayFiles, apiKeyAuthYaml, ADMIN_POLICY,
} from './lib.mjs';

const FIXTURE = join(ROOT, 'tests', 'fixtures', 'broadcast-server.mjs');
let gw, key, rec;

const server = (label, mode, tags) =>
  `  ${label}:\n    command: node\n    args: ["${FIXTURE}", "${label}", "${mode}", "${rec}"]\n    tags: [${tags.join(', ')}]\n`;

before(async () => {
  const dir = tempDir();
  const port = await freePort();
  rec = join(dir, 'calls.jsonl');
  writeFileSync(rec, '');
  const body = 'servers:\n' + server('a', 'ok', ['elk', 'campaign']) + server('b', 'ok', ['elk']) +
    server('c', 'fail', ['other']) + apiKeyAuthYaml(port);
  const cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  key = apikeyCreate(cfg, 'cli-user', 'operator');
  gw = await startGateway(body, { dir, port });
});
after(async () => { await gw?.stop(); });

// mcpgw ARGS with the gateway's URL; env added to the environment.
function mcpgw(args, env = {}) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000,
    env: { ...process.env, MCPGW_URL: gw.base, MCPGW_TOKEN: '', ...env } });
  assert.ok(!`${r.stdout}${r.stderr}`.includes(key), 'the token is never printed');
  return r;
}

test('mcpgw call: the tool\'s text, or the whole answer as JSON; the token from --token or MCPGW_TOKEN', () => {
  const r = mcpgw(['call', 'a', 'get_logs', '--params', '{"query": "disk"}', '--token', key]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'a: logs for disk');
  const j = mcpgw(['call', 'b', 'get_logs', '--params', '{"query": "cpu"}', '--format', 'json'], { MCPGW_TOKEN: key });
  assert.equal(j.status, 0, j.stderr);
  const answer = JSON.parse(j.stdout);
  assert.equal(answer.success, true);
  assert.equal(answer.mcp_server, 'b');
  assert.equal(answer.result.structuredContent.server, 'b');
});

test('mcpgw call: --params-file, a tool error (exit 1, its text on stderr), an unknown server', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'p.json'), '{"query": "from a file"}');
  const f = mcpgw(['call', 'a', 'get_logs', '--params-file', join(dir, 'p.json')], { MCPGW_TOKEN: key });
  assert.equal(f.status, 0, f.stderr);
  assert.equal(f.stdout.trim(), 'a: logs for from a file');
  const e = mcpgw(['call', 'c', 'get_logs', '--params', '{"query": "x"}'], { MCPGW_TOKEN: key });
  assert.equal(e.status, 1);
  assert.match(e.stderr, /c: cluster down/);
  const u = mcpgw(['call', 'nope', 'get_logs'], { MCPGW_TOKEN: key });
  assert.equal(u.status, 1);
  assert.match(u.stderr, /HTTP 404/);
});

test('mcpgw broadcast: by tags, by servers; a table, full text or JSON; a failing server is exit 1', () => {
  const t = mcpgw(['broadcast', 'get_logs', '--tags', 'elk', '--params', '{"query": "q1"}'], { MCPGW_TOKEN: key });
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^SERVER\s+STATUS\s+RESULT/);
  assert.match(t.stdout, /\na\s+ok\s+a: logs for q1/);
  assert.match(t.stdout, /\nb\s+ok\s+b: logs for q1/);
  assert.doesNotMatch(t.stdout, /\nc\s/);
  assert.match(t.stdout, /2 of 2 servers answered/);
  const j = mcpgw(['broadcast', 'get_logs', '--servers', 'a,c', '--format', 'json'], { MCPGW_TOKEN: key });
  assert.equal(j.status, 1, 'c failed');
  const answer = JSON.parse(j.stdout);
  assert.deepEqual(Object.keys(answer.results), ['a']);
  assert.equal(answer.errors.c.status, 'failed');
  const full = mcpgw(['broadcast', 'get_logs', '--servers', 'b', '--format', 'full', '--params', '{"query": "z"}'], { MCPGW_TOKEN: key });
  assert.equal(full.status, 0, full.stderr);
  assert.match(full.stdout, /== b\nb: logs for z\n/);
});

test('mcpgw servers list: name, transport, state and tags', () => {
  const r = mcpgw(['servers', 'list'], { MCPGW_TOKEN: key });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^NAME\s+TYPE\s+STATE\s+TAGS/);
  assert.match(r.stdout, /\na\s+stdio\s+\S+\s+elk,campaign\n/);
  const j = mcpgw(['servers', 'list', '--format', 'json'], { MCPGW_TOKEN: key });
  assert.deepEqual(JSON.parse(j.stdout).servers.map((s) => s.name).sort(), ['a', 'b', 'c']);
});

test('no token, a wrong token, no gateway: exit 1 with a message; bad usage: exit 2 with the usage', () => {
  const none = mcpgw(['call', 'a', 'get_logs']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /HTTP 401: .*(--token|MCPGW_TOKEN|header|Bearer)/);
  const wrong = mcpgw(['servers', 'list', '--token', 'mcpgw_nope_nope']);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /HTTP 401/);
  const down = mcpgw(['servers', 'list', '--url', 'http://127.0.0.1:1'], { MCPGW_TOKEN: key });
  assert.equal(down.status, 1);
  assert.match(down.stderr, /cannot reach the gateway at http:\/\/127\.0\.0\.1:1/);
  const bad = mcpgw(['call', 'a', 'get_logs', '--params', '[1]'], { MCPGW_TOKEN: key });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /must be a JSON object/);
  const fmt = mcpgw(['broadcast', 'get_logs', '--format', 'xml'], { MCPGW_TOKEN: key });
  assert.equal(fmt.status, 2);
  const missing = mcpgw(['call', 'a']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing argument\nusage: mcpgw call/);
  for (const cmd of [['call'], ['broadcast'], ['servers']]) {
    const h = mcpgw([...cmd, '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, new RegExp(`^usage: mcpgw ${cmd[0]}`));
  }
});
