// Seed 001's REST surface and broadcast (docs/rest.md): four upstreams of
// tests/fixtures/broadcast-server.mjs share the tool get_logs (a, c, d over
// stdio, b over Streamable HTTP), tagged differently; c's get_logs fails,
// d's hangs. Each endpoint's answer shape; a duplicated tool called on every
// server that has it; broadcasts by tags and by names; the bad-input row (one
// server hangs past its timeout, one fails); a caller whose policy denies the
// tool on one server; 401, 404, 400; a client leaving mid-broadcast; the
// gateway__broadcast tool over MCP with the SDK client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT, BIN, startGateway, tempDir, freePort, apikeyCreate, writeGatewayFiles, apiKeyAuthYaml,
  allowAllRole, bearerClient, withGatewayLog,
} from './lib.mjs';
import { recordsIn, eventually } from './audit_lib.mjs';

const FIXTURE = join(ROOT, 'tests', 'fixtures', 'broadcast-server.mjs');

// ops may do anything; limited too, but may not call get_logs on b.
const POLICY = `roles:\n${allowAllRole('ops')}${allowAllRole('limited')}rules:
  - name: no-logs-on-b
    condition: { mcp_server: "b", tool_name_pattern: "get_logs", role: limited }
    priority: 10
    action: deny
default_policy: deny
`;

let gw;
let httpUp;
let recFile;
const keys = {};

function startHttpUpstream(rec) {
  const proc = spawn(process.execPath, [FIXTURE, 'b', 'ok', rec, '--http'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /URL=(\S+)/.exec(out);
      if (m) resolve({ proc, url: m[1] });
    });
    proc.on('exit', (code) => reject(new Error(`HTTP upstream exited (${code})`)));
  });
}

const stdioServer = (label, mode, tags, extra = '') =>
  `  ${label}:\n    command: node\n    args: ["${FIXTURE}", "${label}", "${mode}", "${recFile}"]\n` +
  `    tags: [${tags.join(', ')}]\n${extra}`;

before(async () => {
  const dir = tempDir();
  const port = await freePort();
  recFile = join(dir, 'calls.jsonl');
  writeFileSync(recFile, '');
  httpUp = await startHttpUpstream(recFile);
  const body = 'servers:\n' +
    stdioServer('a', 'ok', ['elk-logs', 'campaign']) +
    `  b:\n    url: "${httpUp.url}"\n    tags: [elk-logs, events]\n` +
    stdioServer('c', 'fail', ['elk-logs', 'events']) +
    stdioServer('d', 'hang', ['slow'], '    timeouts: { tool: 3 }\n') +
    'broadcast_tool: true\n' + apiKeyAuthYaml(port) +
    'audit:\n  sinks:\n    - { type: file, path: audit.jsonl }\n';
  const cfg = writeGatewayFiles(dir, port, body, POLICY);
  keys.ops = apikeyCreate(cfg, 'ops', 'ops');
  keys.limited = apikeyCreate(cfg, 'limited', 'limited');
  gw = await startGateway(body, { dir, port });
  // the first call of a server scope starts its upstream session: done here,
  // so that the short timeouts below measure calls, not process starts
  const r = await get('/tools');
  assert.equal(r.status, 200, r.text);
});

after(async () => {
  await gw?.stop();
  httpUp?.proc.kill('SIGTERM');
});

const auth = (who = 'ops') => (who ? { authorization: `Bearer ${keys[who]}` } : {});

async function get(path, who = 'ops') {
  const r = await fetch(gw.base + path, { headers: auth(who) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
}

async function postJson(path, body, who = 'ops', signal) {
  const r = await fetch(gw.base + path, {
    method: 'POST', signal, headers: { 'content-type': 'application/json', ...auth(who) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
}

const calls = () => readFileSync(recFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const callsSince = (n) => calls().slice(n);
const t = (name, fn) => test(name, withGatewayLog(fn, () => gw));

t('GET /mcp/servers and /mcp/server/{name}/info: every server with its type, tags and state', async () => {
  const r = await get('/mcp/servers');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.count, 4);
  const by = Object.fromEntries(r.json.servers.map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(by).sort(), ['a', 'b', 'c', 'd']);
  assert.deepEqual(by.a.tags, ['elk-logs', 'campaign']);
  assert.equal(by.a.type, 'stdio');
  assert.equal(by.b.type, 'streamable-http');
  assert.equal(by.b.url, httpUp.url);
  for (const s of r.json.servers) {
    assert.equal(typeof s.state, 'string');
    assert.equal(typeof s.timeout, 'number');
    assert.equal(s.enabled, true);
  }
  const info = await get('/mcp/server/b/info');
  assert.equal(info.status, 200, info.text);
  assert.equal(info.json.name, 'b');
  assert.deepEqual(info.json.tags, ['elk-logs', 'events']);
  assert.equal(info.json.status.name, 'b');
  assert.equal(typeof info.json.status.calls, 'number');
  assert.equal((await get('/mcp/server/nosuch/info')).status, 404);
});

t('GET /tools: each tool once, with every server that offers it', async () => {
  const r = await get('/tools');
  assert.equal(r.status, 200, r.text);
  const by = Object.fromEntries(r.json.tools.map((x) => [x.name, x]));
  assert.deepEqual(by.get_logs.servers, ['a', 'b', 'c', 'd']);
  assert.deepEqual(by.only_a.servers, ['a']);
  assert.deepEqual(by.only_b.servers, ['b']);
  assert.equal(typeof by.get_logs.description, 'string');
  assert.equal(by.get_logs.inputSchema.type, 'object');
  assert.equal(r.json.tools.filter((x) => x.name === 'get_logs').length, 1);
});

t('GET /mcp/list-tools?mcp_server=: the tools of one server', async () => {
  const r = await get('/mcp/list-tools?mcp_server=a');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.mcp_server, 'a');
  assert.equal(r.json.count, 2);
  assert.deepEqual(r.json.tools.map((x) => x.name).sort(), ['get_logs', 'only_a']);
  assert.equal(typeof r.json.tools[0].description, 'string');
  assert.equal((await get('/mcp/list-tools')).status, 400);
  assert.equal((await get('/mcp/list-tools?mcp_server=nosuch')).status, 404);
});

t('POST /mcp/invoke?mcp_server=: one server, its result and the time it took', async () => {
  const n = calls().length;
  const r = await postJson('/mcp/invoke?mcp_server=b', { tool_name: 'get_logs', parameters: { query: 'boom' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.success, true);
  assert.equal(r.json.tool_name, 'get_logs');
  assert.equal(r.json.mcp_server, 'b');
  assert.equal(typeof r.json.execution_time_ms, 'number');
  assert.deepEqual(r.json.result.structuredContent, { server: 'b', query: 'boom', logs: [{ level: 'error', message: 'b saw boom' }] });
  assert.deepEqual(callsSince(n), [{ label: 'b', tool: 'get_logs', arguments: { query: 'boom' } }]);
  // a tool error is an answer, not a failure of the endpoint
  const f = await postJson('/mcp/invoke?mcp_server=c', { tool_name: 'get_logs' });
  assert.equal(f.status, 200, f.text);
  assert.equal(f.json.success, false);
  assert.equal(f.json.error, 'c: cluster down');
  assert.equal(f.json.result.isError, true);
  const u = await postJson('/mcp/invoke?mcp_server=a', { tool_name: 'only_b' });
  assert.equal(u.status, 404, u.text);
  assert.equal(u.json.success, false);
});

t('POST /tools/{name}/invoke: a tool on several servers is called on all, results tagged by server', async () => {
  const n = calls().length;
  const r = await postJson('/tools/get_logs/invoke', { query: 'campaign failure' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.isError, false);
  assert.equal(r.json.content[0].type, 'text');
  assert.equal(r.json.content[0].text, "Successfully executed 'get_logs' on 2/4 servers");
  const res = r.json.content[1].resource;
  assert.equal(res.uri, 'gateway://results/get_logs');
  assert.equal(res.mimeType, 'application/json');
  const all = JSON.parse(res.text);
  assert.deepEqual(Object.keys(all.results).sort(), ['a', 'b']);
  assert.equal(all.results.a.structuredContent.server, 'a');
  assert.equal(all.results.b.structuredContent.server, 'b');
  assert.deepEqual(Object.keys(all.errors).sort(), ['c', 'd']);
  assert.equal(all.errors.d.status, 'timeout');
  assert.deepEqual(callsSince(n).map((c) => c.label).sort(), ['a', 'b', 'c', 'd']);
  // a tool one server has: that server only
  const one = await postJson('/tools/only_a/invoke', {});
  assert.equal(one.json.content[0].text, "Successfully executed 'only_a' on 1/1 servers");
  assert.equal((await postJson('/tools/nosuch/invoke', {})).status, 404);
});

t('broadcast by tags and by server names: only those servers are called', async () => {
  let n = calls().length;
  const r = await postJson('/mcp/invoke-broadcast', { tool_name: 'get_logs', parameters: { query: 'q' }, tags: ['events'] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.tool_name, 'get_logs');
  assert.equal(r.json.total_servers, 2);
  assert.equal(r.json.successful, 1);
  assert.equal(r.json.failed, 1);
  assert.equal(typeof r.json.execution_time_ms, 'number');
  assert.deepEqual(Object.keys(r.json.results), ['b']);
  assert.deepEqual(r.json.results.b.structuredContent.logs, [{ level: 'error', message: 'b saw q' }]);
  assert.deepEqual(Object.keys(r.json.errors), ['c']);
  assert.equal(r.json.errors.c.message, 'c: cluster down');
  assert.deepEqual(callsSince(n).map((c) => c.label).sort(), ['b', 'c']);

  n = calls().length;
  const s = await postJson('/mcp/invoke-broadcast', { tool_name: 'get_logs', mcp_servers: ['a', 'b'] });
  assert.equal(s.json.total_servers, 2);
  assert.deepEqual(Object.keys(s.json.results).sort(), ['a', 'b']);
  assert.deepEqual(s.json.errors, {});
  assert.deepEqual(callsSince(n).map((c) => c.label).sort(), ['a', 'b']);

  // both: the named servers that carry a tag
  n = calls().length;
  const both = await postJson('/mcp/invoke-broadcast', { tool_name: 'get_logs', mcp_servers: ['a', 'b'], tags: ['campaign'] });
  assert.deepEqual(Object.keys(both.json.results), ['a']);
  assert.deepEqual(callsSince(n).map((c) => c.label), ['a']);
});

t('bad input: one server hangs past its timeout and one fails: errors for those two, results for the rest', async () => {
  const n = calls().length;
  const r = await postJson('/mcp/invoke-broadcast',
    { tool_name: 'get_logs', parameters: { query: 'x' }, tags: ['elk-logs', 'slow'], timeout: 1.5 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.total_servers, 4);
  assert.equal(r.json.successful, 2);
  assert.equal(r.json.failed, 2);
  assert.deepEqual(Object.keys(r.json.results).sort(), ['a', 'b']);
  assert.deepEqual(Object.keys(r.json.errors).sort(), ['c', 'd']);
  assert.equal(r.json.errors.c.status, 'failed');
  assert.equal(r.json.errors.d.status, 'timeout');
  assert.match(r.json.errors.d.message, /no answer within 1\.5 s/);
  // every one was called, concurrently, the hanging one too
  assert.deepEqual(callsSince(n).map((c) => c.label).sort(), ['a', 'b', 'c', 'd']);
  // one server alone: 504
  const one = await postJson('/mcp/invoke?mcp_server=d', { tool_name: 'get_logs', timeout: 1 });
  assert.equal(one.status, 504, one.text);
  assert.equal(one.json.success, false);
  assert.match(one.json.error, /no answer within 1 s/);
});

t('a caller whose policy denies the tool on one server: that server is not called, and shows as skipped', async () => {
  const n = calls().length;
  const before = recordsIn(gw.dir).length;
  const r = await postJson('/mcp/invoke-broadcast', { tool_name: 'get_logs', tags: ['elk-logs'] }, 'limited');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.skipped, { b: 'denied by policy' });
  assert.equal(r.json.total_servers, 2);
  assert.deepEqual(Object.keys(r.json.results), ['a']);
  assert.deepEqual(Object.keys(r.json.errors), ['c']);
  assert.deepEqual(callsSince(n).map((c) => c.label).sort(), ['a', 'c']);
  // each server's call is its own record; the refusal too
  const recs = await eventually(() => {
    const got = recordsIn(gw.dir).slice(before).map((l) => JSON.parse(l)).filter((x) => x.tool_name === 'get_logs');
    return got.length >= 3 && got;
  }, 'three records of get_logs');
  const by = Object.fromEntries(recs.map((x) => [x.mcp_server, x]));
  assert.equal(by.b.status, 'denied');
  assert.equal(by.a.status, 'success');
  assert.equal(by.b.user, 'apikey:limited');
  // the same caller asking for b alone is refused as by /mcp
  const one = await postJson('/mcp/invoke?mcp_server=b', { tool_name: 'get_logs' }, 'limited');
  assert.equal(one.status, 403, one.text);
});

t('unauthenticated: 401 on every endpoint, nothing called', async () => {
  const n = calls().length;
  for (const p of ['/tools', '/mcp/servers', '/mcp/list-tools?mcp_server=a', '/mcp/server/a/info']) {
    assert.equal((await get(p, null)).status, 401, p);
  }
  const r = await postJson('/mcp/invoke-broadcast', { tool_name: 'get_logs' }, null);
  assert.equal(r.status, 401);
  const bad = await fetch(`${gw.base}/tools/get_logs/invoke`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer nope' } });
  assert.equal(bad.status, 401);
  assert.equal(calls().length, n);
});

t('bad requests: unknown server 404, bad JSON and bad fields 400, wrong method 405', async () => {
  const n = calls().length;
  const unknown = await postJson('/mcp/invoke-broadcast', { tool_name: 'get_logs', mcp_servers: ['a', 'nosuch'] });
  assert.equal(unknown.status, 404, unknown.text);
  assert.match(unknown.json.error, /nosuch/);
  assert.equal((await postJson('/mcp/invoke?mcp_server=nosuch', { tool_name: 'get_logs' })).status, 404);
  const badJson = await postJson('/mcp/invoke-broadcast', '{"tool_name": ');
  assert.equal(badJson.status, 400);
  assert.match(badJson.json.error, /not valid JSON/);
  assert.equal((await postJson('/mcp/invoke?mcp_server=a', '[1')).status, 400);
  for (const [body, field] of [[{}, 'tool_name'], [{ tool_name: 'get_logs', tags: 'elk-logs' }, 'tags'],
    [{ tool_name: 'get_logs', parameters: [1] }, 'parameters'], [{ tool_name: 'get_logs', mcp_servers: [1] }, 'mcp_servers'],
    [{ tool_name: 'get_logs', timeout: -1 }, 'timeout']]) {
    const r = await postJson('/mcp/invoke-broadcast', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.json.error, new RegExp(`^${field}`));
  }
  assert.equal((await postJson('/tools/get_logs/invoke', '[]')).status, 400);
  assert.equal((await get('/mcp/invoke-broadcast')).status, 405);
  assert.equal((await get('/mcp/nosuch')).status, 404);
  assert.equal(calls().length, n);
});

// The record of the first get_logs call on server after line `from` of the audit file.
const recordOf = (from, server) => eventually(() => recordsIn(gw.dir).slice(from).map((l) => JSON.parse(l))
  .find((x) => x.tool_name === 'get_logs' && x.mcp_server === server), `a record of get_logs on ${server}`);

t('a client that leaves mid-broadcast: its calls are cancelled, the gateway stays healthy', async () => {
  const n = calls().length;
  const from = recordsIn(gw.dir).length;
  const ac = new AbortController();
  const p = postJson('/mcp/invoke-broadcast', { tool_name: 'get_logs', tags: ['slow'], timeout: 60 }, 'ops', ac.signal);
  await eventually(() => callsSince(n).some((c) => c.label === 'd'), 'd called');
  ac.abort();
  await assert.rejects(p);
  await eventually(() => /client left before the answer: 1 call\(s\) cancelled/.test(gw.logs()), 'the cancellation logged');
  const h = await (await fetch(`${gw.base}/health`)).json();
  assert.equal(h.status, 'ok');
  assert.equal((await recordOf(from, 'd')).status, 'cancelled');
  const again = await postJson('/mcp/invoke-broadcast', { tool_name: 'get_logs', mcp_servers: ['a'] });
  assert.equal(again.json.successful, 1);
});

t('gateway__broadcast cancelled by its client: the calls it made are cancelled too', async () => {
  const client = await bearerClient(gw.url, keys.ops);
  try {
    const n = calls().length;
    const from = recordsIn(gw.dir).length;
    const ac = new AbortController();
    const p = client.callTool({ name: 'gateway__broadcast', arguments: { tool_name: 'get_logs', servers: ['d'], timeout: 60 } },
      undefined, { signal: ac.signal });
    await eventually(() => callsSince(n).some((c) => c.label === 'd'), 'd called');
    ac.abort();
    await assert.rejects(p);
    assert.equal((await recordOf(from, 'd')).status, 'cancelled');
    // the session goes on
    const r = await client.callTool({ name: 'gateway__broadcast', arguments: { tool_name: 'only_a' } });
    assert.equal(r.structuredContent.successful, 1);
    assert.deepEqual(Object.keys(r.structuredContent.results), ['a']);
  } finally {
    await client.close();
  }
});

t('gateway__broadcast over MCP: listed with its schema, the same fields as structured content', async () => {
  const client = await bearerClient(gw.url, keys.ops);
  try {
    const { tools } = await client.listTools();
    const tool = tools.find((x) => x.name === 'gateway__broadcast');
    assert.ok(tool, 'gateway__broadcast is listed');
    assert.deepEqual(tool.inputSchema.required, ['tool_name']);
    assert.ok(tool.inputSchema.properties.tags && tool.inputSchema.properties.servers && tool.inputSchema.properties.arguments);
    const n = calls().length;
    const r = await client.callTool({ name: 'gateway__broadcast',
      arguments: { tool_name: 'get_logs', tags: ['events'], arguments: { query: 'via mcp' } } });
    assert.equal(r.isError, false);
    const s = r.structuredContent;
    assert.equal(s.tool_name, 'get_logs');
    assert.equal(s.total_servers, 2);
    assert.equal(s.successful, 1);
    assert.equal(s.failed, 1);
    assert.equal(s.results.b.structuredContent.query, 'via mcp');
    assert.equal(s.errors.c.message, 'c: cluster down');
    assert.deepEqual(JSON.parse(r.content[0].text), s);
    assert.deepEqual(callsSince(n).map((c) => c.label).sort(), ['b', 'c']);
    // the caller's policy applies to each server here too
    const limited = await bearerClient(gw.url, keys.limited);
    try {
      const l = await limited.callTool({ name: 'gateway__broadcast', arguments: { tool_name: 'get_logs', servers: ['a', 'b'] } });
      assert.deepEqual(l.structuredContent.skipped, { b: 'denied by policy' });
      assert.deepEqual(Object.keys(l.structuredContent.results), ['a']);
    } finally {
      await limited.close();
    }
    const bad = await client.callTool({ name: 'gateway__broadcast', arguments: { tool_name: 'get_logs', servers: ['nosuch'] } })
      .catch((e) => e);
    assert.equal(bad.code, -32602);
  } finally {
    await client.close();
  }
});

test('config check: a tag that is not a word is refused', () => {
  const dir = tempDir();
  const cfg = join(dir, 'mcpgw.yaml');
  writeFileSync(cfg, 'servers:\n  a:\n    command: x\n    tags: ["elk logs"]\n');
  let out = '';
  try {
    execFileSync(BIN, ['config', 'check', '-c', cfg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.fail('config check accepted it');
  } catch (e) {
    out = String(e.stderr) + String(e.stdout);
  }
  assert.match(out, /servers\.a\.tags.*a tag is 1 to 32 letters/);
  writeFileSync(cfg, 'broadcast_tool: yes-please\n');
  assert.throws(() => execFileSync(BIN, ['config', 'check', '-c', cfg], { stdio: 'pipe' }));
  assert.ok(existsSync(cfg));
});

test('a server whose tool list cannot be fetched: 502 naming why, and listed under errors by GET /tools', async () => {
  const dead = await freePort(); // nothing listens there
  const g = await startGateway(`servers:\n  gone:\n    url: "http://127.0.0.1:${dead}/mcp"\n` +
    '    timeouts: { connect: 1, discovery: 1 }\n', { args: ['--no-auth'], readyUpstreams: false });
  try {
    const r = await fetch(`${g.base}/mcp/list-tools?mcp_server=gone`);
    const body = await r.json();
    assert.equal(r.status, 502, JSON.stringify(body));
    assert.equal(body.mcp_server, 'gone');
    assert.match(body.error, /gone|connect|refused/i);
    const all = await (await fetch(`${g.base}/tools`)).json();
    assert.deepEqual(all.tools, []);
    assert.ok(all.errors.gone, JSON.stringify(all));
  } finally {
    await g.stop();
  }
});
