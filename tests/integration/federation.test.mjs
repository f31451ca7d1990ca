// Federation through the real gateway, driven by the official SDK v1 client:
// server-everything and server-filesystem (both stdio) behind one /mcp,
// per-server endpoints, a virtual server and downstream pagination.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startGateway, post, tempDir, connectClient, rpcErrorCode, rpcError, listAll, directListing,
  EVERYTHING, FILESYSTEM,
  withGatewayLog,
} from './lib.mjs';

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const T = { timeout: 30000 };

// On failure, show the tail of the gateway's log with the test's report.
const logged = (f, which = () => gw) => withGatewayLog(f, which);

function config(fsDir, extra = '') {
  return `servers:
  everything:
    command: node
    args: [${JSON.stringify(EVERYTHING)}, "stdio"]
  fs:
    command: node
    args: [${JSON.stringify(FILESYSTEM)}, ${JSON.stringify(fsDir)}]
virtual_servers:
  dev:
    tools: ["everything__echo", "fs__*"]
${extra}`;
}

const text = (result) => result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const sorted = (a) => [...a].sort();

// What the upstreams list when asked directly (no client capabilities, as
// the SDK clients below declare none).
let direct;
let fsDir;
let gw;
const clients = [];

async function open(path = '/mcp', opts = {}) {
  const c = await connectClient(`${gw.base}${path}`, opts);
  clients.push(c);
  return c;
}

before(async () => {
  fsDir = tempDir('mcpgw-fs-');
  const [ev, fs] = await Promise.all([
    directListing('node', [EVERYTHING, 'stdio']),
    directListing('node', [FILESYSTEM, fsDir]),
  ]);
  direct = { everything: ev, fs };
  gw = await startGateway(config(fsDir));
});

after(async () => {
  for (const c of clients) await c.close();
  if (gw) await gw.stop();
});

describe('tools through /mcp', () => {
  test('listTools shows every tool of both upstreams, prefixed, with valid names', T, logged(async () => {
    const { client } = await open();
    const { items } = await listAll(client, 'tools');
    const names = items.map((t) => t.name);
    for (const n of names) assert.match(n, NAME_RE, `tool name ${n}`);
    assert.equal(new Set(names).size, names.length, 'no duplicate tool names');
    const expected = [
      ...direct.everything.tools.map((n) => `everything__${n}`),
      ...direct.fs.tools.map((n) => `fs__${n}`),
    ];
    assert.deepEqual(sorted(names), sorted(expected));
    assert.ok(names.includes('everything__echo'));
    assert.ok(names.includes('fs__read_text_file'));
    assert.ok(names.includes('fs__write_file'));
    // The tool definition itself is passed through (only the name changes).
    const echo = items.find((t) => t.name === 'everything__echo');
    assert.equal(echo.inputSchema.type, 'object');
    assert.ok(echo.inputSchema.properties.message, 'echo keeps its inputSchema');
  }));

  test('callTool everything__echo returns the echoed text', T, logged(async () => {
    const { client } = await open();
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'hello gateway' } });
    assert.ok(!r.isError, JSON.stringify(r));
    assert.equal(text(r), 'Echo: hello gateway');
  }));

  test('filesystem write then read through the gateway', T, logged(async () => {
    const { client } = await open();
    const file = join(fsDir, 'written-through-mcpgw.txt');
    const content = `line one\nline two ${Date.now()}\n`;
    const w = await client.callTool({ name: 'fs__write_file', arguments: { path: file, content } });
    assert.ok(!w.isError, `write_file failed: ${JSON.stringify(w)}`);
    assert.equal(readFileSync(file, 'utf8'), content, 'the file on disk has what was written');

    const r = await client.callTool({ name: 'fs__read_text_file', arguments: { path: file } });
    assert.ok(!r.isError, `read_text_file failed: ${JSON.stringify(r)}`);
    assert.equal(text(r), content);

    // And a file created outside the gateway is read back unchanged.
    const other = join(fsDir, 'made-on-disk.txt');
    writeFileSync(other, 'from disk');
    const r2 = await client.callTool({ name: 'fs__read_text_file', arguments: { path: other } });
    assert.equal(text(r2), 'from disk');
  }));

  test('an unknown tool is a JSON-RPC error -32602', T, logged(async () => {
    const { client } = await open();
    assert.equal(await rpcErrorCode(() => client.callTool({ name: 'everything__no-such-tool', arguments: {} })), -32602);
    assert.equal(await rpcErrorCode(() => client.callTool({ name: 'nosuchprefix__echo', arguments: {} })), -32602);
    // The unprefixed upstream name is not a gateway name.
    assert.equal(await rpcErrorCode(() => client.callTool({ name: 'echo', arguments: { message: 'x' } })), -32602);
  }));
});

describe('resources through /mcp', () => {
  test('listResources shows the upstream resources and each reads back with the same uri', T, logged(async () => {
    const { client } = await open();
    const { items } = await listAll(client, 'resources');
    const uris = items.map((r) => r.uri);
    assert.ok(uris.length > 0, 'server-everything has resources');
    assert.deepEqual(sorted(uris), sorted([...direct.everything.resources, ...direct.fs.resources]));
    const uri = uris.find((u) => u.endsWith('/features.md')) || uris[0];
    const r = await client.readResource({ uri });
    assert.ok(r.contents.length >= 1);
    assert.equal(r.contents[0].uri, uri);
    assert.ok(typeof r.contents[0].text === 'string' && r.contents[0].text.length > 0);
  }));

  test('resource templates are listed and a URI matching one can be read', T, logged(async () => {
    const { client } = await open();
    const { items } = await listAll(client, 'resourceTemplates');
    const tpls = items.map((t) => t.uriTemplate);
    assert.ok(tpls.length > 0, 'templates listed');
    assert.ok(tpls.includes('demo://resource/dynamic/text/{resourceId}'), `templates: ${tpls}`);
    const uri = 'demo://resource/dynamic/text/7';
    const r = await client.readResource({ uri });
    assert.equal(r.contents[0].uri, uri);
    assert.match(r.contents[0].text, /^Resource 7: /);
  }));

  test('reading an unknown URI gives -32002', T, logged(async () => {
    const { client } = await open();
    const e = await rpcError(() => client.readResource({ uri: 'demo://no/such/resource' }));
    assert.equal(e.code, -32002, e.message);
    assert.equal(e.data?.uri, 'demo://no/such/resource', 'error.data.uri names the URI');
    assert.equal(await rpcErrorCode(() => client.readResource({ uri: 'file:///definitely/not/listed.txt' })), -32002);
  }));
});

describe('prompts through /mcp', () => {
  test('listPrompts shows the upstream prompts prefixed', T, logged(async () => {
    const { client } = await open();
    const { items } = await listAll(client, 'prompts');
    const names = items.map((p) => p.name);
    for (const n of names) assert.match(n, NAME_RE);
    assert.deepEqual(sorted(names), sorted([
      ...direct.everything.prompts.map((n) => `everything__${n}`),
      ...direct.fs.prompts.map((n) => `fs__${n}`),
    ]));
    const args = items.find((p) => p.name === 'everything__args-prompt');
    assert.ok(args, 'everything__args-prompt listed');
    assert.deepEqual(args.arguments.map((a) => a.name).sort(), ['city', 'state']);
  }));

  test('getPrompt without and with arguments', T, logged(async () => {
    const { client } = await open();
    const simple = await client.getPrompt({ name: 'everything__simple-prompt' });
    assert.equal(simple.messages[0].content.text, 'This is a simple prompt without arguments.');
    const withArgs = await client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Lyon', state: 'Rhone' } });
    assert.equal(withArgs.messages[0].content.text, "What's weather in Lyon, Rhone?");
    assert.equal(await rpcErrorCode(() => client.getPrompt({ name: 'everything__no-such-prompt' })), -32602);
  }));

  test('completion/complete for a prompt argument (and a resource template)', T, logged(async () => {
    const { client } = await open();
    const dep = await client.complete({
      ref: { type: 'ref/prompt', name: 'everything__completable-prompt' },
      argument: { name: 'department', value: 'Eng' },
    });
    assert.deepEqual(dep.completion.values, ['Engineering']);
    // The context (other arguments) reaches the upstream too.
    const who = await client.complete({
      ref: { type: 'ref/prompt', name: 'everything__completable-prompt' },
      argument: { name: 'name', value: '' },
      context: { arguments: { department: 'Sales' } },
    });
    assert.deepEqual(who.completion.values, ['David', 'Eve', 'Frank']);
    const rid = await client.complete({
      ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' },
      argument: { name: 'resourceId', value: '12' },
    });
    assert.deepEqual(rid.completion.values, ['12']);
  }));
});

describe('pagination (page_size: 5)', () => {
  let pgw;
  const pclients = [];
  before(async () => { pgw = await startGateway(config(fsDir, 'page_size: 5\n')); });
  after(async () => {
    for (const c of pclients) await c.close();
    if (pgw) await pgw.stop();
  });

  test('listTools follows nextCursor to the full set, five at a time', T, logged(async () => {
    const c = await connectClient(pgw.url);
    pclients.push(c);
    const first = await c.client.listTools();
    assert.equal(first.tools.length, 5, 'first page holds page_size tools');
    assert.equal(typeof first.nextCursor, 'string', 'more than one page: a nextCursor');
    const { items, pages } = await listAll(c.client, 'tools');
    const names = items.map((t) => t.name);
    const expected = [
      ...direct.everything.tools.map((n) => `everything__${n}`),
      ...direct.fs.tools.map((n) => `fs__${n}`),
    ];
    assert.ok(pages.every((n) => n <= 5), `page sizes ${pages}`);
    assert.equal(pages.length, Math.ceil(expected.length / 5), `page sizes ${pages}`);
    assert.equal(new Set(names).size, names.length, 'no tool on two pages');
    assert.deepEqual(sorted(names), sorted(expected));
    // Resources page the same way.
    const res = await listAll(c.client, 'resources');
    assert.ok(res.pages.length > 1);
    assert.deepEqual(sorted(res.items.map((r) => r.uri)), sorted(direct.everything.resources));
  }, () => pgw));

  test('a bogus cursor gives -32602', T, logged(async () => {
    const c = await connectClient(pgw.url);
    pclients.push(c);
    assert.equal(await rpcErrorCode(() => c.client.listTools({ cursor: 'bogus-cursor' })), -32602);
    assert.equal(await rpcErrorCode(() => c.client.listPrompts({ cursor: '!!' })), -32602);
    assert.equal(await rpcErrorCode(() => c.client.listResources({ cursor: 'gw.x' })), -32602);
  }, () => pgw));
});

describe('per-server and virtual endpoints', () => {
  test('/servers/everything/mcp shows unprefixed names and calling echo works', T, logged(async () => {
    const { client } = await open('/servers/everything/mcp');
    const { items } = await listAll(client, 'tools');
    const names = items.map((t) => t.name);
    assert.deepEqual(sorted(names), sorted(direct.everything.tools));
    assert.ok(names.includes('echo'));
    const r = await client.callTool({ name: 'echo', arguments: { message: 'direct' } });
    assert.equal(text(r), 'Echo: direct');
    // Another server's tools are not reachable here.
    assert.equal(await rpcErrorCode(() => client.callTool({ name: 'read_text_file', arguments: { path: '/x' } })), -32602);
    const prompts = (await listAll(client, 'prompts')).items.map((p) => p.name);
    assert.deepEqual(sorted(prompts), sorted(direct.everything.prompts));
  }));

  // A call before any list makes the gateway fetch only the lists of the
  // upstreams that may own the name: with an empty prefix (a per-server
  // endpoint) every name may be its upstream's, so echo must still resolve.
  test('/servers/everything/mcp: a call before any list resolves the unprefixed name', T, logged(async () => {
    const { client } = await open('/servers/everything/mcp');
    const r = await client.callTool({ name: 'echo', arguments: { message: 'cold' } });
    assert.equal(text(r), 'Echo: cold');
    assert.equal(await rpcErrorCode(() => client.callTool({ name: 'everything__echo', arguments: { message: 'x' } })), -32602);
  }));

  test('/mcp: a call before any list resolves the prefixed name of either upstream', T, logged(async () => {
    const first = await open();
    const r = await first.client.callTool({ name: 'everything__echo', arguments: { message: 'cold' } });
    assert.equal(text(r), 'Echo: cold');
    const second = await open();
    const fs = await second.client.callTool({ name: 'fs__list_allowed_directories', arguments: {} });
    assert.ok(!fs.isError);
    assert.equal(await rpcErrorCode(() => second.client.callTool({ name: 'echo', arguments: { message: 'x' } })), -32602);
  }));

  test('/servers/nosuch/mcp gives 404', T, logged(async () => {
    const r = await post(`${gw.base}/servers/nosuch/mcp`, {
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    assert.equal(r.status, 404);
  }));

  test('virtual server dev lists exactly everything__echo and the fs tools', T, logged(async () => {
    const { client } = await open('/servers/dev/mcp');
    const names = (await listAll(client, 'tools')).items.map((t) => t.name);
    assert.deepEqual(sorted(names), sorted(['everything__echo', ...direct.fs.tools.map((n) => `fs__${n}`)]));
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'virtual' } });
    assert.equal(text(r), 'Echo: virtual');
    // A tool outside the virtual server is not callable through it.
    assert.equal(await rpcErrorCode(() => client.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 2 } })), -32602);
    // No prompts or resources were selected for it, so none are shown or readable.
    assert.deepEqual((await client.listPrompts()).prompts, []);
    assert.deepEqual((await client.listResources()).resources, []);
    const hidden = direct.everything.resources[0];
    assert.equal(await rpcErrorCode(() => client.readResource({ uri: hidden })), -32002);
    assert.equal(await rpcErrorCode(() => client.getPrompt({ name: 'everything__simple-prompt' })), -32602);
  }));
});
