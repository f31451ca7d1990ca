// Descriptions at discovery for prompts, resources and resource templates
// (issue 11, point 3; docs/guardrails.md "Descriptions at discovery"): one
// whose texts have injection patterns is hidden from its list and refused
// by name or URI, with the detector and never the text, until an operator
// approves it with `mcpgw tools approve`; approvals and rejections live in
// the store. Through the gateway with the official SDK client (2025 era)
// and with 2026-07-28 stateless requests, against an SDK fixture upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, connectClient, rpcError, tempDir, BIN, ROOT } from './lib.mjs';

const SERVER = join(ROOT, 'tests', 'fixtures', 'quarantine-server.mjs');
const T = { timeout: 120000 };
const YAML = `servers:\n  q:\n    command: node\n    args: [${JSON.stringify(SERVER)}]\n` +
  'audit:\n  sinks:\n    - { type: file, path: audit.jsonl }\n';
const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

// `mcpgw tools ARGS... -c cfg`: { status, out, err }.
function tools(cfg, ...args) {
  const r = spawnSync(BIN, ['tools', ...args, '-c', cfg], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

async function until(pred, what, g) {
  for (let i = 0; i < 150; i++) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}${g ? `\n${g.logs().slice(-2000)}` : ''}`);
}

async function withGateway(fn, opts = {}) {
  const g = await startGateway(YAML, opts);
  const conns = [];
  const client = async () => { const c = await connectClient(g.url); conns.push(c); return c.client; };
  try {
    await fn(g, client);
  } finally {
    for (const c of conns) await c.close();
    await g.stop();
  }
}

const prompts = async (c) => (await c.listPrompts()).prompts.map((p) => p.name).sort();
const resources = async (c) => (await c.listResources()).resources.map((r) => r.uri).sort();
const templates = async (c) => (await c.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate).sort();
const promptText = async (c, name) => (await c.getPrompt({ name, arguments: {} })).messages[0].content.text;
const readText = async (c, uri) => (await c.readResource({ uri })).contents[0].text;

function auditPins(g) {
  const path = join(g.dir, 'audit.jsonl');
  return (existsSync(path) ? readFileSync(path, 'utf8') : '').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l)).filter((r) => r.event_type === 'tool_pin');
}

test('poisoned prompts, resources and templates are hidden and refused; approve serves them, reject keeps them out, across a restart', T, async () => {
  const dir = tempDir();
  await withGateway(async (g, client) => {
    const c = await client();
    assert.deepEqual(await prompts(c), ['q__greet']);
    assert.deepEqual(await resources(c), ['doc://clean']);
    assert.deepEqual(await templates(c), ['files://{name}']);
    // the clean ones are served, their invisible characters removed
    assert.equal((await c.listPrompts()).prompts[0].description, 'Say hello');
    assert.equal(await promptText(c, 'q__greet'), 'prompt:greet');
    assert.equal(await readText(c, 'doc://clean'), 'read:doc://clean');
    assert.equal(await readText(c, 'files://a.txt'), 'read:files://a.txt');

    let e = await rpcError(() => c.getPrompt({ name: 'q__poisoned', arguments: {} }));
    assert.equal(e.code, -32030);
    assert.match(e.message, /Prompt 'q__poisoned' is quarantined: its description has injection patterns \(hidden_tag\); .*mcpgw tools approve q__poisoned/);
    assert.doesNotMatch(e.message, /id_rsa|IMPORTANT/, 'the matched text is never in the answer');
    e = await rpcError(() => c.getPrompt({ name: 'q__sly_arg', arguments: {} }));
    assert.match(e.message, /Prompt 'q__sly_arg' is quarantined: .*\(instruction_override\)/);
    e = await rpcError(() => c.readResource({ uri: 'doc://poisoned' }));
    assert.equal(e.code, -32030);
    assert.match(e.message, /Resource 'doc:\/\/poisoned' is quarantined: its description has injection patterns \(instruction_override\)/);
    assert.doesNotMatch(e.message, /system prompt/);
    e = await rpcError(() => c.readResource({ uri: 'notes://7' }));
    assert.match(e.message, /Resource 'notes:\/\/7' is quarantined: the template 'notes:\/\/\{id\}' that offers it has injection patterns \(hidden_tag\)/);

    // the operator's list of what waits, with the kind of each
    await until(() => /notes:\/\/\{id\}/.test(tools(g.cfg, 'pending').out), 'pending lists no quarantined template', g);
    await until(() => /q__poisoned/.test(tools(g.cfg, 'pending').out), 'pending lists no quarantined prompt', g);
    const pending = tools(g.cfg, 'pending').out;
    assert.match(pending, /^q__poisoned\s+quarantined .* prompt\s+quarantined: hidden_tag$/m);
    assert.match(pending, /^q__sly_arg\s+quarantined .* prompt\s+quarantined: instruction_override$/m);
    assert.match(pending, /^q__doc:\/\/poisoned\s+quarantined .* resource\s+quarantined: instruction_override$/m);
    assert.match(pending, /^q__notes:\/\/\{id\}\s+quarantined .* template\s+quarantined: hidden_tag$/m);
    assert.doesNotMatch(pending, /greet|doc:\/\/clean|files:/);
    // each decision is an audit record, as a tool's quarantine is
    await until(() => auditPins(g).some((r) => r.tool_name === 'notes://{id}'), 'no audit record of the template', g);
    assert.ok(auditPins(g).some((r) => r.tool_name === 'poisoned' && r.mcp_server === 'q' &&
      /^prompt quarantined sha256:[0-9a-f]{64} hidden_tag$/.test(r.reason)));
    assert.ok(auditPins(g).some((r) => r.tool_name === 'doc://poisoned' &&
      /^resource quarantined sha256:[0-9a-f]{64} instruction_override$/.test(r.reason)));

    // approve: the prompt by its gateway name, the resource by its bare URI
    let r = tools(g.cfg, 'approve', 'q__poisoned', '--by', 'alice');
    assert.equal(r.status, 0, r.err);
    assert.match(r.err, /approved q__poisoned \(prompt sha256:[0-9a-f]{12}\)/);
    r = tools(g.cfg, 'approve', 'doc://poisoned', '--by', 'alice');
    assert.equal(r.status, 0, r.err);
    r = tools(g.cfg, 'reject', 'q__notes://{id}', '--by', 'bob');
    assert.equal(r.status, 0, r.err);
    await until(async () => (await prompts(c)).includes('q__poisoned'), 'the approved prompt is never listed', g);
    await until(async () => (await resources(c)).includes('doc://poisoned'), 'the approved resource is never listed', g);
    assert.equal(await promptText(c, 'q__poisoned'), 'prompt:poisoned');
    assert.equal(await readText(c, 'doc://poisoned'), 'read:doc://poisoned');
    assert.deepEqual(await templates(c), ['files://{name}']);
    // each decision is its own transaction: the rejection may reach the gateway a moment later
    await until(async () => /rejected/.test((await rpcError(() => c.readResource({ uri: 'notes://7' }))).message),
      'the rejection never reached the gateway', g);
    e = await rpcError(() => c.readResource({ uri: 'notes://7' }));
    assert.match(e.message, /Resource 'notes:\/\/7' is refused: an operator rejected its current definition/);
    assert.ok(!(await prompts(c)).includes('q__sly_arg'), 'what was not approved stays hidden');
    await until(() => auditPins(g).some((r) => r.tool_name === 'poisoned' && /^prompt approved /.test(r.reason)),
      'no audit record of the approval', g);
  }, { dir });

  // The same store: the decisions hold after a restart.
  await withGateway(async (g, client) => {
    const c = await client();
    assert.deepEqual(await prompts(c), ['q__greet', 'q__poisoned']);
    assert.deepEqual(await resources(c), ['doc://clean', 'doc://poisoned']);
    assert.deepEqual(await templates(c), ['files://{name}']);
    assert.equal(await promptText(c, 'q__poisoned'), 'prompt:poisoned');
    assert.equal(await readText(c, 'doc://poisoned'), 'read:doc://poisoned');
    await assert.rejects(() => c.readResource({ uri: 'notes://7' }), /rejected/);
    const list = tools(g.cfg, 'list').out;
    assert.match(list, /^q__poisoned\s+pinned .* prompt\s+alice$/m);
    assert.match(list, /^q__notes:\/\/\{id\}\s+rejected .* template\s+bob$/m);

    // An approved prompt changed by its upstream, still poisoned: held again.
    await c.callTool({ name: 'q__change', arguments: {} });
    await until(async () => !(await prompts(c)).includes('q__poisoned'), 'the changed prompt is still listed', g);
    const e = await rpcError(() => c.getPrompt({ name: 'q__poisoned', arguments: {} }));
    assert.match(e.message, /Prompt 'q__poisoned' is quarantined: .*\(hidden_tag\)/);
    await until(() => /^q__poisoned\s+quarantined/m.test(tools(g.cfg, 'pending').out), 'pending lists no changed prompt', g);
  }, { dir });
});

test('2026-07-28 stateless requests: the same lists hidden, the same refusals, the same approval', T, async () => {
  await withGateway(async (g) => {
    async function rpc(method, params = {}, name) {
      const r = await fetch(g.url, { method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: ENVELOPE } }),
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) } });
      const text = await r.text();
      const d = text.startsWith('{') ? text : text.split('\n').filter((l) => l.startsWith('data:')).pop().slice(5);
      return JSON.parse(d);
    }
    const names = async (method, key, field) => (await rpc(method)).result[key].map((x) => x[field]).sort();

    assert.deepEqual(await names('prompts/list', 'prompts', 'name'), ['q__greet']);
    assert.deepEqual(await names('resources/list', 'resources', 'uri'), ['doc://clean']);
    assert.deepEqual(await names('resources/templates/list', 'resourceTemplates', 'uriTemplate'), ['files://{name}']);
    let r = await rpc('prompts/get', { name: 'q__poisoned', arguments: {} }, 'q__poisoned');
    assert.equal(r.error?.code, -32030, JSON.stringify(r));
    assert.match(r.error.message, /^Prompt 'q__poisoned' is quarantined: .*\(hidden_tag\)/);
    r = await rpc('resources/read', { uri: 'doc://poisoned' }, 'doc://poisoned');
    assert.equal(r.error?.code, -32030, JSON.stringify(r));
    assert.match(r.error.message, /^Resource 'doc:\/\/poisoned' is quarantined/);
    r = await rpc('resources/read', { uri: 'notes://7' }, 'notes://7');
    assert.match(r.error?.message, /template 'notes:\/\/\{id\}'/);
    r = await rpc('prompts/get', { name: 'q__greet', arguments: {} }, 'q__greet');
    assert.equal(r.result.messages[0].content.text, 'prompt:greet');

    await until(() => /q__poisoned/.test(tools(g.cfg, 'pending').out), 'pending lists no quarantined prompt', g);
    assert.equal(tools(g.cfg, 'approve', 'q__poisoned').status, 0);
    await until(async () => (await names('prompts/list', 'prompts', 'name')).includes('q__poisoned'),
      'the approved prompt is never listed', g);
    r = await rpc('prompts/get', { name: 'q__poisoned', arguments: {} }, 'q__poisoned');
    assert.equal(r.result.messages[0].content.text, 'prompt:poisoned');
  });
});

test('mcpgw tools on a prompt: --kind chooses the rows, diff shows it; an unknown URI is said so', T, async () => {
  await withGateway(async (g, client) => {
    const c = await client();
    await prompts(c);
    await until(() => /q__poisoned/.test(tools(g.cfg, 'pending').out), 'pending lists no quarantined prompt', g);
    let r = tools(g.cfg, 'approve', 'nope://x');
    assert.equal(r.status, 1);
    assert.match(r.err, /'nope:\/\/x' is not SERVER__NAME, nor a URI the gateway saw/);
    r = tools(g.cfg, 'diff', 'q__poisoned', '--kind', 'tool');
    assert.equal(r.status, 1);
    assert.match(r.err, /no definition of q__poisoned awaits approval/);
    r = tools(g.cfg, 'diff', 'q__poisoned', '--kind', 'prompt');
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /^--- q__poisoned \(nothing pinned: a new prompt\)$/m);
    assert.match(r.out, /^\+ +"description": "Summarise the chat\. <IMPORTANT>/m);
  });
});
