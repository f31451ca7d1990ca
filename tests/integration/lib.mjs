// Shared helpers for integration tests: start the real mcpgw binary on a
// free port with a config written to a temp dir, wait until /health answers,
// and stop it with SIGTERM (checking it exits 0).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { request as httpsRequest } from 'node:https';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.MCPGW_BIN || join(ROOT, 'build', 'mcpgw');
export const NODE_MODULES = join(ROOT, 'tests', 'node_modules');
export const EVERYTHING = join(NODE_MODULES, '@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = join(NODE_MODULES, '@modelcontextprotocol/server-filesystem/dist/index.js');
export const MEMORY = join(NODE_MODULES, '@modelcontextprotocol/server-memory/dist/index.js');

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

export function tempDir(prefix = 'mcpgw-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// yaml: the config text without `listen:`; returns { url, base, proc, logs(), stop() }.
// dir/port: reuse a directory (a store or policy beside the config) and a
// port chosen in advance (a config that names its own URL).
// https: { ca, cert?, key? } (PEM text) for a config with `tls:`: base and url
// are https://, and readiness is probed over TLS trusting ca (presenting the
// client certificate cert/key, when the gateway requires one).
// bin: another binary than BIN (the release build, for measurements).
export async function startGateway(yaml, { args = [], env = {}, readyUpstreams = true, dir: inDir, port: inPort, https, bin = BIN } = {}) {
  const port = inPort || await freePort();
  const dir = inDir || tempDir();
  const cfg = join(dir, 'mcpgw.yaml');
  writeFileSync(cfg, `listen: "127.0.0.1:${port}"\n${yaml}`);
  const proc = spawn(bin, ['serve', '-c', cfg, ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (d) => { log += d.toString(); });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
  const base = `${https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mcpgw exited early (${proc.exitCode}):\n${log}`);
    try {
      const h = https ? JSON.parse((await httpsGet(`${base}/health`, https)).body)
        : await (await fetch(`${base}/health`)).json();
      if (!readyUpstreams || h.upstreams_ready) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`mcpgw not ready:\n${log}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base, url: `${base}/mcp`, proc, dir, cfg,
    logs: () => log,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      let timer;
      const r = await Promise.race([exited, new Promise((res) => { timer = setTimeout(() => res(null), 15000); })]);
      clearTimeout(timer);
      if (!r) { proc.kill('SIGKILL'); throw new Error(`mcpgw did not stop on SIGTERM:\n${log}`); }
      if (r.code !== 0) throw new Error(`mcpgw exited with ${r.code}/${r.sig} on SIGTERM:\n${log}`);
      return r;
    },
  };
}

// A raw MCP POST (for bad-input tests): returns { status, headers, body, json }.
export async function post(url, body, headers = {}) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* SSE or empty */ }
  return { status: r.status, headers: r.headers, body: text, json };
}

export async function initSession(url, proto = '2025-06-18', caps = {}) {
  const r = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: proto, capabilities: caps, clientInfo: { name: 'raw', version: '1' } } });
  const sid = r.headers.get('mcp-session-id');
  await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid, 'mcp-protocol-version': proto });
  return sid;
}

// ---- helpers for the SDK-client tests (federation, relay) -------------------

// Connect an official SDK v1 client to url. Returns { client, transport,
// errors, close() }; errors collects what the SDK reports through onerror
// (e.g. progress for an unknown token, responses to unknown ids).
export async function connectClient(url, { name = 'itest', capabilities = {}, handlers = {} } = {}) {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const client = new Client({ name, version: '1.0.0' }, { capabilities });
  const errors = [];
  client.onerror = (e) => errors.push(e);
  for (const [schema, fn] of handlers.requests || []) client.setRequestHandler(schema, fn);
  for (const [schema, fn] of handlers.notifications || []) client.setNotificationHandler(schema, fn);
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  let closed = false;
  return {
    client, transport, errors,
    async close() {
      if (closed) return;
      closed = true;
      try { await transport.terminateSession(); } catch { /* gateway may be gone */ }
      try { await client.close(); } catch { /* ignore */ }
    },
  };
}

// Run fn (which should reject with an McpError) and return the error's code.
export async function rpcErrorCode(fn) {
  try {
    await fn();
  } catch (e) {
    return e.code;
  }
  throw new Error('expected the request to fail with a JSON-RPC error, but it succeeded');
}

// Follow nextCursor through every page of a list method. kind: 'tools',
// 'prompts', 'resources' or 'resourceTemplates'. Returns { items, pages }.
export async function listAll(client, kind, { maxPages = 100 } = {}) {
  const call = {
    tools: (p) => client.listTools(p),
    prompts: (p) => client.listPrompts(p),
    resources: (p) => client.listResources(p),
    resourceTemplates: (p) => client.listResourceTemplates(p),
  }[kind];
  const items = [];
  const pages = [];
  let cursor;
  for (let i = 0; i < maxPages; i++) {
    const r = await call(cursor === undefined ? undefined : { cursor });
    pages.push(r[kind].length);
    items.push(...r[kind]);
    if (r.nextCursor === undefined) return { items, pages };
    cursor = r.nextCursor;
  }
  throw new Error(`${kind}: still a nextCursor after ${maxPages} pages`);
}

// What an upstream lists when spoken to directly over stdio (the oracle for
// what the gateway should show). Returns { tools, prompts, resources, templates }
// as arrays of names/URIs.
export async function directListing(command, args, capabilities = {}) {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const client = new Client({ name: 'itest-direct', version: '1.0.0' }, { capabilities });
  const transport = new StdioClientTransport({ command, args, stderr: 'ignore' });
  await client.connect(transport);
  try {
    const caps = client.getServerCapabilities() || {};
    const all = async (kind) => (await listAll(client, kind)).items;
    return {
      tools: caps.tools ? (await all('tools')).map((t) => t.name) : [],
      prompts: caps.prompts ? (await all('prompts')).map((p) => p.name) : [],
      resources: caps.resources ? (await all('resources')).map((r) => r.uri) : [],
      templates: caps.resources ? (await all('resourceTemplates')).map((t) => t.uriTemplate) : [],
    };
  } finally {
    await client.close();
  }
}

// ---- helpers for the bad-input, upstream-failure, lifecycle and load tests ----
// (import declarations are hoisted, so this one may sit here)
import { readFileSync } from 'node:fs';

export const MISBEHAVE = join(ROOT, 'tests', 'fixtures', 'misbehave-server.mjs');
export const ECHO_MCP_SRC = process.env.ECHO_MCP_SRC ||
  [join(ROOT, '..', 'shared', 'bench', 'echo-mcp.c'), '/work/shared/bench/echo-mcp.c'].find((p) => existsSync(p));

let echoMcpBin = null;
// Compile the tiny C echo MCP server once per test process; returns its path.
export async function buildEchoMcp() {
  if (echoMcpBin) return echoMcpBin;
  const out = join(tempDir('echo-mcp-'), 'echo-mcp');
  await new Promise((res, rej) => {
    const p = spawn('cc', ['-O2', '-o', out, ECHO_MCP_SRC], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`cc echo-mcp failed (${code}): ${err}`))));
  });
  echoMcpBin = out;
  return out;
}

// The JSON-RPC messages in a POST answer: one JSON object, or the data of
// every SSE event (the priming event's empty data is skipped).
export function rpcMessages(res) {
  if (res.json) return [res.json];
  const msgs = [];
  for (const ev of res.body.split(/\r?\n\r?\n/)) {
    const data = ev.split(/\r?\n/).filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
    if (data.trim()) msgs.push(JSON.parse(data));
  }
  return msgs;
}

// POST one request on a session; returns { status, res, msg (the answer to
// id, or null), ms }.
export async function rpc(url, sid, id, method, params, { proto = '2025-06-18', headers = {}, signal } = {}) {
  const t0 = Date.now();
  const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
    ...(sid ? { 'mcp-session-id': sid } : {}), 'mcp-protocol-version': proto, ...headers };
  const r = await fetch(url, { method: 'POST', headers: h, signal,
    body: JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }) });
  const body = await r.text();
  let json = null;
  try { json = JSON.parse(body); } catch { /* SSE or empty */ }
  const res = { status: r.status, headers: r.headers, body, json };
  const msg = (json ? [json] : rpcMessages(res)).find((m) => m.id === id && (m.result || m.error)) || null;
  return { status: r.status, res, msg, ms: Date.now() - t0 };
}

// Raw HTTP/1.1 over a socket, for requests fetch() will not send (own Host,
// a Content-Length the body does not match). Resolves when the peer closes or
// a full response (by Content-Length) has arrived, or after timeoutMs with
// timedOut: true. Returns { status, headers (lowercased), body, raw, ms }.
export function rawHttp(base, text, { timeoutMs = 5000 } = {}) {
  const u = new URL(base);
  const t0 = Date.now();
  return new Promise((resolvePromise, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (timedOut) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = buf.toString('latin1');
      const head = raw.split('\r\n\r\n')[0];
      const lines = head.split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] || '');
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const body = raw.includes('\r\n\r\n') ? raw.slice(raw.indexOf('\r\n\r\n') + 4) : '';
      resolvePromise({ status: m ? Number(m[1]) : null, headers, body, raw, ms: Date.now() - t0, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const raw = buf.toString('latin1');
      const i = raw.indexOf('\r\n\r\n');
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(raw.slice(0, i + 2));
      if (i >= 0 && cl && buf.length >= i + 4 + Number(cl[1])) finish(false);
    });
    sock.on('end', () => finish(false));
    sock.on('close', () => finish(false));
    sock.on('error', (e) => { if (!done && buf.length) finish(false); else if (!done) { done = true; clearTimeout(timer); reject(e); } });
    sock.write(text);
  });
}

// Is a process with this pid still alive (and not a zombie we could see)?
export function pidAlive(pid) {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}

// Run fn (which should reject with an McpError) and return the error
// ({ code, message, data }).
export async function rpcError(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the request to fail with a JSON-RPC error, but it succeeded');
}

// Resolve with p's value, or reject after ms with a message naming what hung.
export function within(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// Poll fn (sync or async) every 20 ms until it is truthy; reject naming what
// after ms. For waits bound by work: the deadline only stops a hung test.
export async function waitFor(fn, what, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- helpers for the TLS tests -------------------------------------------------

// GET url with node's https module, trusting tls.ca and presenting
// tls.cert/tls.key if given (PEM text); a fresh connection each time.
// Resolves { status, headers (lowercased), body }; rejects on a TLS or
// connection error (e.g. a refused handshake) or after timeoutMs.
export function httpsGet(url, tls = {}, { headers = {}, timeoutMs = 5000 } = {}) {
  return new Promise((res, rej) => {
    const req = httpsRequest(url, { method: 'GET', headers, agent: false, ...tls }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d) => { body += d; });
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, body }));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.end();
  });
}

// A fetch (for the SDK's `fetch` transport option) whose connections trust
// tls.ca and present tls.cert/tls.key (PEM text). Node 20 bundles undici as
// the engine of the global fetch but does not export it: its Agent class is
// taken from the global dispatcher (an undici Agent). Not the undici package
// from node_modules (a dependency of the Inspector): its Agent speaks another
// version of the dispatcher interface than Node's own fetch.
export async function tlsFetch(tls) {
  const key = Symbol.for('undici.globalDispatcher.1');
  if (!globalThis[key]) await fetch('http://127.0.0.1:1/').catch(() => {});
  const Agent = globalThis[key]?.constructor;
  if (!Agent) throw new Error('no undici Agent behind the global fetch');
  const dispatcher = new Agent({ connect: { ...tls } });
  const f = (url, init = {}) => fetch(url, { ...init, dispatcher });
  f.close = () => dispatcher.close();
  return f;
}

// The three-role policy of the auth tests (auth, oidc): viewer sees echo
// only; developer also the misbehave server minus hang/crash/garbage (a deny
// rule); admin everything.
export const THREE_ROLE_POLICY = `
roles:
  viewer:
    permissions:
      - resource: "mcp:echo:*"
        actions: [list_tools, invoke_tool]
  developer:
    permissions:
      - resource: "mcp:echo:*"
        actions: [list_tools, invoke_tool]
      - resource: "mcp:mb:*"
        actions: [list_tools, invoke_tool]
  admin:
    permissions:
      - resource: "mcp:*"
        actions: ["*"]
rules:
  - name: no-hang-for-developers
    condition: { mcp_server: "mb", tool_name_pattern: "hang|crash|garbage", role: developer }
    priority: 10
    action: deny
default_policy: deny
`;

// Wrap a test body so that, when it fails, the tail of the gateway's log
// (which() returns the gateway) is shown with the report.
export function withGatewayLog(fn, which) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const g = which();
      if (g) t.diagnostic(`gateway log (tail):\n${g.logs().split('\n').slice(-40).join('\n')}`);
      throw e;
    }
  };
}

// ---- gateways with API keys ---------------------------------------------------

// Run `mcpgw ARGS...` to completion; its stdout, trimmed. Throws (with stderr)
// when it exits non-zero.
export function mcpgw(...args) {
  return execFileSync(BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

// Create an API key with the CLI in the store cfg names; roles and servers
// (optional) are comma-separated lists. Returns the key.
export function apikeyCreate(cfg, name, roles, servers) {
  const scope = servers ? ['--servers', servers] : [];
  return mcpgw('apikey', 'create', '--name', name, '--roles', roles, ...scope, '-c', cfg);
}

// Write policy.yaml and mcpgw.yaml (body listening on port) into dir, so that
// keys can be made with apikeyCreate() before startGateway(body, { dir, port })
// reads the same store. Returns the config's path.
export function writeGatewayFiles(dir, port, body, policy) {
  const cfg = join(dir, 'mcpgw.yaml');
  writeFileSync(join(dir, 'policy.yaml'), policy);
  writeFileSync(cfg, `listen: "127.0.0.1:${port}"\n${body}`);
  return cfg;
}

// A policy with two roles: admin (every action, the admin API included) and
// operator (list and call tools), nothing by default.
export const ADMIN_POLICY = `roles:
  admin:
    permissions:
      - resource: "mcp:*"
        actions: ["*"]
  operator:
    permissions:
      - resource: "mcp:*"
        actions: [list_tools, invoke_tool]
default_policy: deny
`;

// The auth: and policy: keys of a gateway on port that takes API keys and
// reads policy.yaml beside its config (as writeGatewayFiles() writes it).
export const apiKeyAuthYaml = (port) =>
  `auth:\n  api_keys: true\n  resource: "http://127.0.0.1:${port}/mcp"\npolicy: policy.yaml\n`;

// A policy role (under `roles:`) allowed everything on every server.
export const allowAllRole = (role) =>
  `  ${role}:\n    permissions:\n      - resource: "mcp:*"\n        actions: ["*"]\n`;

// An SDK v1 client connected to url with `Authorization: Bearer token`.
export async function bearerClient(url, token, name = 'itest') {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const client = new Client({ name, version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url),
    { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}
