// Older and local clients: the SDK v1 client over the 2024-11-05 HTTP+SSE
// transport (/sse + /messages), and over stdio (`mcpgw stdio`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startGateway, tempDir, EVERYTHING, BIN } from './lib.mjs';

const SERVERS = `servers:\n  everything:\n    command: node\n    args: ["${EVERYTHING}", "stdio"]\n`;
let gw;
before(async () => { gw = await startGateway(SERVERS); });
after(async () => { await gw?.stop(); });

function sampler(client, text) {
  client.setRequestHandler(CreateMessageRequestSchema, async () =>
    ({ role: 'assistant', content: { type: 'text', text }, model: 'm', stopReason: 'endTurn' }));
}

test('SDK v1 client over legacy HTTP+SSE: list, call, and a sampling request relayed', async () => {
  const client = new Client({ name: 'legacy', version: '1' }, { capabilities: { sampling: {} } });
  sampler(client, 'legacy-sampled');
  await client.connect(new SSEClientTransport(new URL(`${gw.base}/sse`)));
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'everything__echo'));
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'old transport' } });
    assert.match(r.content[0].text, /old transport/);
    const s = await client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 10 } });
    assert.match(JSON.stringify(s.content), /legacy-sampled/);
  } finally { await client.close(); }
});

test('legacy endpoint of one server shows its own names', async () => {
  const client = new Client({ name: 'legacy1', version: '1' });
  await client.connect(new SSEClientTransport(new URL(`${gw.base}/servers/everything/sse`)));
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'), tools.map((t) => t.name).join(','));
  } finally { await client.close(); }
});

test('a legacy session ends with its event stream', async () => {
  const ctl = new AbortController();
  const r = await fetch(`${gw.base}/sse`, { headers: { accept: 'text/event-stream' }, signal: ctl.signal });
  const reader = r.body.getReader();
  let text = '';
  while (!/data: (\S+)/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  const endpoint = /data: (\S+)/.exec(text)[1];
  const ping = () => fetch(`${gw.base}${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
  assert.equal((await ping()).status, 202);
  ctl.abort();
  let status = 202;
  for (let i = 0; i < 40 && status !== 404; i++) {
    await new Promise((res) => setTimeout(res, 50));
    status = (await ping()).status;
  }
  assert.equal(status, 404, 'the session is gone once its stream closed');
});

test('a POST to /messages with an unknown sessionId is 404', async () => {
  const r = await fetch(`${gw.base}/messages?sessionId=nope`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error.code, -32001);
});

test('SDK v1 client over stdio (mcpgw stdio): list and call; logs stay off stdout', async () => {
  const dir = tempDir();
  const cfg = join(dir, 'mcpgw.yaml');
  writeFileSync(cfg, SERVERS);
  const transport = new StdioClientTransport({ command: BIN, args: ['stdio', '-c', cfg], stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'desktop', version: '1' }, { capabilities: { sampling: {} } });
  sampler(client, 'stdio-sampled');
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'everything__echo'));
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'over stdio' } });
    assert.match(r.content[0].text, /over stdio/);
    const s = await client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 10 } });
    assert.match(JSON.stringify(s.content), /stdio-sampled/);
  } finally { await client.close(); }
  assert.match(stderr, /"comp":"stdio"/, 'logs go to stderr');
});

test('mcpgw stdio --server limits the session to one server', async () => {
  const dir = tempDir();
  const cfg = join(dir, 'mcpgw.yaml');
  writeFileSync(cfg, SERVERS);
  const client = new Client({ name: 'desktop1', version: '1' });
  await client.connect(new StdioClientTransport({ command: BIN, args: ['stdio', '-c', cfg, '--server', 'everything'], stderr: 'ignore' }));
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
  } finally { await client.close(); }
});
