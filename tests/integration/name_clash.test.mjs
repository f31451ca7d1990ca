// Two servers offering the same gateway name (two `prefix: ""`, or a tool
// named like another server's prefixed tool): the first server in config
// order keeps the name, the later one's is hidden and never called, the
// lists show each name once, and the log names both servers (at each list
// fetch, and for equal prefixes at start, reload and `config check`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, connectClient, withGatewayLog, BIN, ROOT } from './lib.mjs';

const NAMED = join(ROOT, 'tests', 'fixtures', 'named-tools.mjs');
const T = { timeout: 60000 };

// name: [prefix, tools, prompts]
const server = (name, prefix, tools, prompts = '') =>
  `  ${name}:\n    command: node\n    args: [${JSON.stringify(NAMED)}, "${name}", "${tools}", "${prompts}"]\n` +
  `    prefix: "${prefix}"\n`;

// a and c both unprefixed and both have echo and greet; a also has a tool
// named b__echo, which is what b's own echo is called at the gateway.
const SERVERS = [
  server('a', '', 'echo,b__echo,only_a', 'greet'),
  server('b', 'b', 'echo,mine', 'greet'),
  server('c', '', 'echo,only_c', 'greet,only_c_prompt'),
];

let gw, other;
const closers = [];

before(async () => {
  gw = await startGateway(`servers:\n${SERVERS.join('')}`);
  // The same servers, b first: b now keeps b__echo.
  other = await startGateway(`servers:\n${SERVERS[1]}${SERVERS[0]}`);
});

after(async () => {
  for (const close of closers) await close().catch(() => {});
  await gw?.stop();
  await other?.stop();
});

async function client(g) {
  const c = await connectClient(g.url);
  closers.push(c.close);
  return c.client;
}

const textOf = (r) => r.content.map((x) => x.text).join('');
const promptText = (r) => r.messages.map((m) => m.content.text).join('');
const warnings = (g) => g.logs().split('\n').filter((l) => l.includes('"warn"'));

test('each name listed once and always routed to the first server in config order that has it', T,
  withGatewayLog(async () => {
    const c = await client(gw);
    // A call before any list goes to the same owner.
    assert.equal(textOf(await c.callTool({ name: 'b__echo', arguments: {} })), 'a:b__echo');
    const tools = (await c.listTools()).tools.map((t) => t.name);
    assert.deepEqual([...tools].sort(), ['b__echo', 'b__mine', 'echo', 'only_a', 'only_c']);
    assert.equal(new Set(tools).size, tools.length, `a name listed twice: ${tools}`);
    const prompts = (await c.listPrompts()).prompts.map((p) => p.name);
    assert.deepEqual([...prompts].sort(), ['b__greet', 'greet', 'only_c_prompt']);
    for (let i = 0; i < 5; i++) {
      assert.equal(textOf(await c.callTool({ name: 'echo', arguments: {} })), 'a:echo');
      assert.equal(textOf(await c.callTool({ name: 'b__echo', arguments: {} })), 'a:b__echo');
      assert.equal(promptText(await c.getPrompt({ name: 'greet' })), 'a:greet');
    }
    // The names nobody else has still go where they belong.
    assert.equal(textOf(await c.callTool({ name: 'only_c', arguments: {} })), 'c:only_c');
    assert.equal(textOf(await c.callTool({ name: 'b__mine', arguments: {} })), 'b:mine');
    assert.equal(promptText(await c.getPrompt({ name: 'b__greet' })), 'b:greet');
  }, () => gw));

test('config order decides: with b first, b keeps b__echo', T, withGatewayLog(async () => {
  const c = await client(other);
  const tools = (await c.listTools()).tools.map((t) => t.name).sort();
  assert.deepEqual(tools, ['b__echo', 'b__mine', 'echo', 'only_a']);
  assert.equal(textOf(await c.callTool({ name: 'b__echo', arguments: {} })), 'b:echo');
}, () => other));

test('the log names both servers and the name, and equal prefixes at start', T, withGatewayLog(async () => {
  const w = warnings(gw);
  const has = (re) => assert.ok(w.some((l) => re.test(l)), `no warning ${re}:\n${w.join('\n')}`);
  has(/tool 'echo' is offered by servers 'a' and 'c'; 'a' \(first in the configuration\) keeps the name/);
  has(/tool 'b__echo' is offered by servers 'a' and 'b'; 'a' \(first/);
  has(/prompt 'greet' is offered by servers 'a' and 'c'/);
  has(/servers 'a' and 'c' have the same prefix ''/);
  assert.ok(!w.some((l) => /same prefix 'b'/.test(l)), w.join('\n'));
}, () => gw));

test('equal prefixes are warned about at reload and by config check', T, withGatewayLog(async () => {
  const cfg = readFileSync(gw.cfg, 'utf8');
  writeFileSync(gw.cfg, `${cfg}${server('d', 'b', 'x')}`);
  const chk = spawnSync(BIN, ['config', 'check', '-c', gw.cfg], { encoding: 'utf8' });
  assert.equal(chk.status, 0, chk.stderr);
  assert.match(chk.stderr, /servers 'b' and 'd' have the same prefix 'b'/);
  assert.match(chk.stderr, /servers 'a' and 'c' have the same prefix ''/);
  gw.proc.kill('SIGHUP');
  const deadline = Date.now() + 20000;
  while (!/reload 1 applied/.test(gw.logs())) {
    assert.ok(Date.now() < deadline, 'reload not applied');
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = gw.logs().slice(gw.logs().indexOf('SIGHUP'));
  assert.match(after, /servers 'b' and 'd' have the same prefix 'b'/);
}, () => gw));
