// MCP 2026-07-28 over `mcpgw stdio`: the official v2 client pinned to
// 2026-07-28 (server/discover, the _meta envelope on each request, no
// initialize) through the gateway launched as a local server; and both eras
// on one stdio connection, each message judged by its own params._meta.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { tempDir, EVERYTHING, MISBEHAVE, BIN } from './lib.mjs';

const EVERYTHING_YAML = `servers:\n  everything:\n    command: node\n    args: ["${EVERYTHING}", "stdio"]\n    timeout: 30\n`;
const MISBEHAVE_YAML = `servers:\n  mb:\n    command: node\n    args: ["${MISBEHAVE}"]\n    timeout: 20\n`;

function configFile(yaml) {
  const cfg = join(tempDir(), 'mcpgw.yaml');
  writeFileSync(cfg, yaml);
  return cfg;
}

// The gateway must end cleanly once its client is gone: exit 0, and no
// sanitizer report (a leak makes the ASan build exit with 86).
function checkExit(exit, stderr) {
  assert.equal(exit.code, 0, `mcpgw stdio exited with ${exit.code}/${exit.sig}:\n${stderr().slice(-3000)}`);
  assert.doesNotMatch(stderr(), /Sanitizer|runtime error/);
}

// The v2 client, pinned to 2026-07-28, launching `mcpgw stdio -c CFG`.
async function withModernClient(yaml, { caps = {}, handlers = {} } = {}, fn) {
  const transport = new StdioV2({ command: BIN, args: ['stdio', '-c', configFile(yaml)], stderr: 'pipe' });
  let log = '';
  transport.stderr?.on('data', (d) => { log += d; });
  const client = new ClientV2({ name: 'v2-stdio', version: '1.0.0' },
    { capabilities: caps, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  for (const [m, h] of Object.entries(handlers)) client.setRequestHandler(m, h);
  await client.connect(transport);
  const proc = transport._process;
  const exited = new Promise((res) => proc.once('exit', (code, sig) => res({ code, sig })));
  try {
    await fn(client, () => log);
  } finally { await client.close(); }
  checkExit(await exited, () => log);
}

test('the v2 client pinned to 2026-07-28 lists and calls tools over mcpgw stdio', async () => {
  await withModernClient(EVERYTHING_YAML, {}, async (client) => {
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'everything__echo'), tools.map((t) => t.name).join(','));
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'stdio 2026' } });
    assert.match(r.content[0].text, /stdio 2026/);
  });
});

test('over stdio, elicitation and sampling from a 2025 server become input_required answered by the v2 client', async () => {
  let asked = null;
  const handlers = {
    'elicitation/create': async (req) => { asked = req.params; return { action: 'accept', content: { name: 'Grace Hopper', check: true } }; },
    'sampling/createMessage': async () => ({ role: 'assistant', content: { type: 'text', text: 'stdio-sample' }, model: 'm', stopReason: 'endTurn' }),
  };
  await withModernClient(EVERYTHING_YAML, { caps: { elicitation: { form: {} }, sampling: {} }, handlers }, async (client) => {
    const e = await client.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} });
    assert.ok(asked?.requestedSchema, 'the client was asked');
    assert.match(JSON.stringify(e.content), /Grace Hopper/);
    const s = await client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 10 } });
    assert.match(JSON.stringify(s.content), /stdio-sample/);
  });
});

test('over stdio, a 2026-07-28 call the v2 client gives up on is cancelled upstream', async () => {
  await withModernClient(MISBEHAVE_YAML, {}, async (client, log) => {
    const ctl = new AbortController();
    const call = client.callTool({ name: 'mb__hang', arguments: {} }, { signal: ctl.signal });
    // The gateway has forwarded the call once it has a session upstream and
    // the tool list; the echo below answering proves the pipe is live.
    assert.equal((await client.callTool({ name: 'mb__echo', arguments: { text: 'warm' } })).content[0].text, 'warm');
    ctl.abort('user gave up');
    await assert.rejects(call);
    const end = Date.now() + 10000;
    while (!/cancelled request \d+/.test(log()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.match(log(), /cancelled request \d+/, 'the upstream saw notifications/cancelled');
    const r = await client.callTool({ name: 'mb__echo', arguments: { text: 'still here' } });
    assert.equal(r.content[0].text, 'still here');
  });
});

// Raw JSON lines on one `mcpgw stdio` connection.
function rawStdio(yaml) {
  const proc = spawn(BIN, ['stdio', '-c', configFile(yaml)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  // 'close': its stdout is read to the end by then.
  const exited = new Promise((res) => proc.once('close', (code, sig) => res({ code, sig })));
  const seen = [];
  const waiters = [];
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const msg = JSON.parse(line);
    seen.push(msg);
    for (const w of waiters.splice(0)) if (!w(msg)) waiters.push(w);
  });
  return {
    send: (msg) => proc.stdin.write(`${JSON.stringify(msg)}\n`),
    // The first message that pred accepts (already seen, or the next ones).
    next: (pred) => new Promise((res) => {
      const m = seen.find(pred);
      if (m) res(m); else waiters.push((x) => (pred(x) ? (res(x), true) : false));
    }),
    seen,
    log: () => log,
    async end() { proc.stdin.end(); return exited; },
  };
}

const ENV26 = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const byId = (id) => (m) => m.id === id && ('result' in m || 'error' in m);

test('both eras on one stdio connection, and 2026-07-28 bad input answered in-band', async () => {
  const c = rawStdio(EVERYTHING_YAML);
  try {
    c.send({ jsonrpc: '2.0', id: 'd', method: 'server/discover', params: { _meta: ENV26 } });
    const d = (await c.next(byId('d'))).result;
    assert.deepEqual(d.supportedVersions, ['2026-07-28']);
    assert.equal(d.resultType, 'complete');

    // A 2025 client on the same pipe: initialize, then plain requests.
    c.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'old', version: '1' } } });
    assert.equal((await c.next(byId(1))).result.protocolVersion, '2025-06-18');
    c.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    c.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'era 2025' } } });
    c.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'era 2026' }, _meta: ENV26 } });
    const old = (await c.next(byId(2))).result;
    const neu = (await c.next(byId(3))).result;
    assert.match(old.content[0].text, /era 2025/);
    assert.equal(old.resultType, undefined, 'a 2025 answer is not stamped');
    assert.match(neu.content[0].text, /era 2026/);
    assert.equal(neu.resultType, 'complete');
    assert.equal(neu._meta['io.modelcontextprotocol/serverInfo'].name, 'mcpgw');

    // initialize with an envelope is not a method of 2026-07-28.
    c.send({ jsonrpc: '2.0', id: 4, method: 'initialize', params: { protocolVersion: '2026-07-28', capabilities: {}, clientInfo: { name: 'x', version: '1' }, _meta: ENV26 } });
    assert.equal((await c.next(byId(4))).error.code, -32601);
    // A version we do not serve: -32022 naming both.
    c.send({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: { ...ENV26, 'io.modelcontextprotocol/protocolVersion': 'v999' } } });
    const v = (await c.next(byId(5))).error;
    assert.equal(v.code, -32022);
    assert.deepEqual(v.data, { supported: ['2026-07-28'], requested: 'v999' });
    // An envelope without clientCapabilities: -32602.
    c.send({ jsonrpc: '2.0', id: 6, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } });
    assert.equal((await c.next(byId(6))).error.code, -32602);
    // 2026-07-28 requests are never batched.
    c.send([{ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: ENV26 } }]);
    assert.equal((await c.next(byId(7))).error.code, -32600);

    // A listen stream: acknowledged, tagged with its id; cancelled by its id.
    c.send({ jsonrpc: '2.0', id: 'l1', method: 'subscriptions/listen', params: { _meta: ENV26, notifications: { toolsListChanged: true } } });
    const ack = await c.next((m) => m.method === 'notifications/subscriptions/acknowledged');
    assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], 'l1');
    assert.deepEqual(ack.params.notifications, { toolsListChanged: true });
    c.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'l1', _meta: ENV26 } });
    c.send({ jsonrpc: '2.0', id: 8, method: 'tools/list', params: { _meta: ENV26 } });
    assert.ok((await c.next(byId(8))).result.tools.length > 0);
    // A listen still open at shutdown would be ended with its result.
    c.send({ jsonrpc: '2.0', id: 'l2', method: 'subscriptions/listen', params: { _meta: ENV26, notifications: { promptsListChanged: true } } });
    await c.next((m) => m.method === 'notifications/subscriptions/acknowledged' && m.params._meta['io.modelcontextprotocol/subscriptionId'] === 'l2');
  } finally {
    checkExit(await c.end(), c.log);
  }
  assert.equal(c.seen.filter((m) => m.id === 'l1').length, 0, 'the cancelled listen got no answer');
  assert.equal(c.seen.find((m) => m.id === 'l2')?.result?.resultType, 'complete', 'the open listen was ended at shutdown');
});
