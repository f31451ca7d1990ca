// Real OAuth-aware clients presenting an API key (issue 12, item 10):
// mcp-remote (what Claude Desktop runs for a remote server) and the MCP
// Inspector's CLI. With API keys as the only identity source the gateway
// offers no OAuth: its 401 names no protected resource metadata, and the
// OAuth endpoints these clients fall back to (/register) answer with the
// header to send, so a client without a key says which header it needs
// instead of dying in dynamic client registration (docs/clients.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  startGateway, tempDir, freePort, post, buildEchoMcp, apikeyCreate, writeGatewayFiles, apiKeyAuthYaml,
  allowAllRole, NODE_MODULES,
} from './lib.mjs';

const MCP_REMOTE = join(NODE_MODULES, 'mcp-remote/dist/proxy.js');
const INSPECTOR = join(NODE_MODULES, '@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const HEADER_HINT = /'Authorization: Bearer KEY' or 'X-API-Key: KEY'/;

let gw, key, home;

before(async () => {
  const echo = await buildEchoMcp();
  const dir = tempDir();
  const port = await freePort();
  const body = `servers:\n  echo:\n    command: "${echo}"\n${apiKeyAuthYaml(port)}`;
  const cfg = writeGatewayFiles(dir, port, body, `default_policy: deny\nroles:\n${allowAllRole('admin')}`);
  key = apikeyCreate(cfg, 'desktop', 'admin');
  gw = await startGateway(body, { dir, port });
  home = tempDir('mcpgw-clients-home-'); // the clients' token stores, not the user's
});
after(async () => { await gw?.stop(); });

const clientEnv = () => ({
  ...process.env, HOME: home, MCP_REMOTE_CONFIG_DIR: join(home, '.mcp-auth'), MCP_INSPECTOR_SECRET_STORE: 'memory',
});

// An SDK client speaking to `mcp-remote URL ARGS...` over stdio, as Claude
// Desktop does. Returns { client, stderr() }; connect() may reject.
function viaMcpRemote(args) {
  const transport = new StdioClientTransport({
    command: process.execPath, args: [MCP_REMOTE, gw.url, ...args], env: clientEnv(), stderr: 'pipe',
  });
  let err = '';
  transport.stderr.on('data', (d) => { err += d.toString(); });
  const client = new Client({ name: 'desktop-like', version: '1' });
  return { client, transport, stderr: () => err };
}

// Run the Inspector's CLI to completion: { code, stdout, stderr }.
function inspector(args) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [INSPECTOR, '--cli', gw.url, ...args],
      { env: clientEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout: out, stderr: err }); });
  });
}

test('mcp-remote with --header "Authorization: Bearer KEY" lists and calls a tool through the gateway', async () => {
  const r = viaMcpRemote(['--header', `Authorization: Bearer ${key}`]);
  try {
    await r.client.connect(r.transport);
    const tools = (await r.client.listTools()).tools.map((t) => t.name);
    assert.deepEqual(tools, ['echo__echo']);
    const res = await r.client.callTool({ name: 'echo__echo', arguments: { text: 'through mcp-remote' } });
    assert.equal(res.content[0].text, 'through mcp-remote');
    assert.doesNotMatch(r.stderr(), /OAuth callback server|Registration/, r.stderr());
  } finally { await r.client.close(); }
});

test('mcp-remote without a key fails naming the header to send, not in dynamic client registration', async () => {
  const r = viaMcpRemote([]);
  await assert.rejects(r.client.connect(r.transport));
  await r.client.close().catch(() => {});
  await new Promise((res) => setTimeout(res, 200)); // its last lines
  assert.match(r.stderr(), HEADER_HINT, r.stderr());
  assert.match(r.stderr(), /--header \\?"Authorization: Bearer KEY\\?"/);
  assert.doesNotMatch(r.stderr(), /No such endpoint/);
});

test('the Inspector CLI with --header lists and calls tools', async () => {
  const list = await inspector(['--method', 'tools/list', '--header', `Authorization: Bearer ${key}`]);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).tools.map((t) => t.name), ['echo__echo']);
  const call = await inspector(['--method', 'tools/call', '--tool-name', 'echo__echo', '--tool-arg', 'text=hi',
    '--header', `X-API-Key: ${key}`]);
  assert.equal(call.code, 0, call.stderr);
  assert.equal(JSON.parse(call.stdout).content[0].text, 'hi');
});

test('the Inspector CLI without a key says which header to send', async () => {
  // --stored-auth-only: headless (without it, and without a TTY, it stops
  // before asking anything: "Interactive OAuth requires a TTY").
  const r = await inspector(['--method', 'tools/list', '--stored-auth-only']);
  assert.equal(r.code, 3, r.stdout + r.stderr); // its "auth required" exit
  const line = r.stderr.split('\n').find((l) => l.startsWith('{"error"'));
  assert.ok(line, r.stderr);
  assert.match(JSON.parse(line).error.message, /X-API-Key: KEY/);
});

test('API keys only: a 401 without resource_metadata, no metadata, /register says what to send', async () => {
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  const none = await post(gw.url, init);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="mcpgw"');
  assert.match(none.json.error.message, /^Unauthorized: a credential is required/);
  assert.deepEqual(none.json.error.data.headers, ['Authorization: Bearer KEY', 'X-API-Key: KEY']);
  assert.equal(none.json.error.data.docs, 'docs/clients.md');
  const bad = await post(gw.url, init, { 'x-api-key': `${key.slice(0, -4)}AAAA` });
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="mcpgw", error="invalid_token"');
  for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp',
    '/.well-known/oauth-authorization-server']) {
    assert.equal((await fetch(`${gw.base}${path}`)).status, 404, path);
  }
  const reg = await fetch(`${gw.base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(reg.status, 400);
  const j = await reg.json();
  assert.equal(j.error, 'invalid_request');
  assert.match(j.error_description, HEADER_HINT);
});
