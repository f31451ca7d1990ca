// The schema guardrail (issue 11; docs/guardrails.md, "Schema"): a
// tools/call's arguments are checked against the tool's inputSchema as its
// upstream listed it. block refuses a call that does not validate with
// -32602 naming the first failing path and keyword (never the value) and
// the upstream never sees it; warn (the default) lets it through and the
// audit record says which keyword failed; a tool without an inputSchema, or
// one whose schema has a keyword that cannot be used, is not held up. The
// upstream is tests/fixtures/schema-server.mjs: no SDK, so nothing checks
// the arguments before its tools run, and it logs what reached it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, connectClient, tempDir, ROOT, BIN, withGatewayLog } from './lib.mjs';
import { recordAfter, recordsIn } from './audit_lib.mjs';

const FIXTURE = join(ROOT, 'tests', 'fixtures', 'schema-server.mjs');

function server(name, dir, extra = '') {
  return `  ${name}:\n    command: node\n    args: ["${FIXTURE}"]\n    env:\n      SCHEMA_LOG: "${join(dir, `${name}.log`)}"\n${extra}`;
}

// The arguments of every call the upstream name got, oldest first.
function upstreamCalls(dir, name) {
  const p = join(dir, `${name}.log`);
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}


const schemaNotes = (rec) => (rec.guardrails || []).filter((g) => g.kind === 'schema');

let gw, dir, client;
before(async () => {
  dir = tempDir();
  gw = await startGateway(`auth: none
audit:
  sinks:
    - { type: file, path: audit.jsonl }
servers:
${server('strict', dir, '    guardrails: { input: { block: [schema] } }\n')}${server('loose', dir)}${server('unchecked', dir, '    guardrails: { input: { off: [schema] } }\n')}`, { dir });
  client = (await connectClient(gw.url)).client;
});
after(async () => { await client?.close(); await gw?.stop(); });

// A call refused by the schema guardrail: -32602 with message, never sent.
async function refused(name, args, message) {
  const before = upstreamCalls(dir, 'strict').length;
  await assert.rejects(client.callTool({ name: `strict__${name}`, arguments: args }), (e) => {
    assert.equal(e.code, -32602, e.message);
    assert.ok(e.message.includes(`guardrail input.schema: ${message}`), e.message);
    return true;
  });
  assert.equal(upstreamCalls(dir, 'strict').length, before, 'the upstream never got the call');
}

test('block: a bad argument is refused with -32602 naming its path and keyword, never sent, recorded denied', withGatewayLog(async () => {
  const n = recordsIn(dir).length;
  await refused('count', { count: 0 }, 'arguments.count: must be >= 1 (minimum)');
  const { rec } = await recordAfter(dir, n, 'strict__count');
  assert.equal(rec.status, 'denied');
  assert.equal(rec.stage, 'guard_in');
  assert.equal(rec.error_code, -32602);
  assert.match(rec.reason, /guardrail input\.schema: arguments\.count: must be >= 1 \(minimum\)/);
  assert.deepEqual(schemaNotes(rec), [{ direction: 'input', kind: 'schema', type: 'minimum', action: 'block', count: 1 }]);
}, () => gw));

test('block: each kind of failure names the first failing path and keyword', withGatewayLog(async () => {
  await refused('count', {}, 'arguments.count: is required (required)');
  await refused('count', { count: 2.5 }, 'arguments.count: must be integer (type)');
  await refused('count', { count: 1, extra: true }, 'arguments.extra: is not allowed (additionalProperties)');
  await refused('count', { count: 1, mode: 'turbo' }, 'arguments.mode: must be one of the 2 allowed values (enum)');
  await refused('tree', { root: { v: 1, kids: [{ v: 2 }, { v: 3, kids: [{ v: 'x' }] }] } },
    'arguments.root.kids[1].kids[0].v: must be integer (type)');
  await refused('legacy', { pair: ['a', 0] }, 'arguments.pair[1]: must be > 0 (exclusiveMinimum)');
  await refused('legacy', { pair: ['a', 1, 2] }, 'arguments.pair[2]: is not allowed by the schema (false)');
}, () => gw));

test('block: a long value is never echoed in the refusal or the record', withGatewayLog(async () => {
  const n = recordsIn(dir).length;
  const long = 'SECRETISH'.repeat(200);
  await assert.rejects(client.callTool({ name: 'strict__count', arguments: { count: 1, label: long } }), (e) => {
    assert.equal(e.code, -32602);
    assert.match(e.message, /arguments\.label: must be at most 8 characters long \(maxLength\)/);
    assert.ok(!e.message.includes('SECRETISH'), e.message);
    return true;
  });
  const { rec } = await recordAfter(dir, n, 'strict__count');
  assert.ok(!rec.reason.includes('SECRETISH'), rec.reason);
}, () => gw));

test('block: good arguments pass unchanged, and the record has no schema note', withGatewayLog(async () => {
  const n = recordsIn(dir).length;
  // maxLength counts characters, not bytes: 'héllo€' is 6 characters, 9 bytes
  const args = { count: 3, label: 'héllo€', mode: 'fast' };
  const r = await client.callTool({ name: 'strict__count', arguments: args });
  assert.deepEqual(JSON.parse(r.content[0].text), args);
  assert.deepEqual(upstreamCalls(dir, 'strict').pop().arguments, args);
  await client.callTool({ name: 'strict__tree', arguments: { root: { v: 1, kids: [{ v: 2, kids: [] }] } } });
  await client.callTool({ name: 'strict__legacy', arguments: { pair: ['a', 1] } });
  const { rec } = await recordAfter(dir, n, 'strict__count');
  assert.equal(rec.status, 'success');
  assert.deepEqual(schemaNotes(rec), []);
}, () => gw));

test('block: a tool without an inputSchema passes, and so does one whose pattern cannot compile (the keyword is ignored, said once in the log)', withGatewayLog(async () => {
  const r = await client.callTool({ name: 'strict__free', arguments: { anything: [1, 2] } });
  assert.deepEqual(JSON.parse(r.content[0].text), { anything: [1, 2] });
  await client.callTool({ name: 'strict__oddpattern', arguments: { q: 'whatever' } });
  await client.callTool({ name: 'strict__oddpattern', arguments: { q: 'again' } });
  // the rest of that schema still applies
  await refused('oddpattern', { n: 'x' }, 'arguments.n: must be integer (type)');
  const said = gw.logs().split('\n').filter((l) => l.includes("tool 'oddpattern'") && l.includes('does not compile'));
  assert.equal(said.length, 1, said.join('\n'));
}, () => gw));

test('warn (the default): a bad argument reaches the upstream and the record names the failing keyword', withGatewayLog(async () => {
  const n = recordsIn(dir).length;
  const r = await client.callTool({ name: 'loose__count', arguments: { count: 0, extra: 1 } });
  assert.deepEqual(JSON.parse(r.content[0].text), { count: 0, extra: 1 });
  assert.deepEqual(upstreamCalls(dir, 'loose').pop().arguments, { count: 0, extra: 1 });
  const { rec } = await recordAfter(dir, n, 'loose__count');
  assert.equal(rec.status, 'success');
  assert.deepEqual(schemaNotes(rec), [{ direction: 'input', kind: 'schema', type: 'minimum', action: 'warn', count: 1 }]);
}, () => gw));

test('off: nothing is checked or recorded', withGatewayLog(async () => {
  const n = recordsIn(dir).length;
  await client.callTool({ name: 'unchecked__count', arguments: { count: 0 } });
  const { rec } = await recordAfter(dir, n, 'unchecked__count');
  assert.equal(rec.status, 'success');
  assert.deepEqual(schemaNotes(rec), []);
}, () => gw));

test('config check refuses schema where it makes no sense, naming file:line and key', () => {
  const d = tempDir();
  const cases = [
    ['guardrails:\n  output: { block: [schema] }\n', /:2: key 'guardrails\.output': schema checks tool arguments: put it under input/],
    ['guardrails:\n  input: { redact: [schema] }\n', /:2: key 'guardrails\.input\.redact\[0\]': schema cannot be redacted: block, warn or off/],
  ];
  for (const [text, says] of cases) {
    writeFileSync(join(d, 'g.yaml'), text);
    const r = spawnSync(BIN, ['config', 'check', '-c', join(d, 'g.yaml')], { encoding: 'utf8' });
    assert.equal(r.status, 1, text);
    assert.match(r.stderr, says);
  }
  writeFileSync(join(d, 'g.yaml'), 'guardrails:\n  input: { block: [schema] }\n  output: { off: [schema] }\n');
  const r = spawnSync(BIN, ['config', 'check', '-c', join(d, 'g.yaml')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
