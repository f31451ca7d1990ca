// Shared helpers for integration tests: start the real mcpgw binary on a
// free port with a config written to a temp dir, wait until /health answers,
// and stop it with SIGTERM (checking it exits 0).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

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
export async function startGateway(yaml, { args = [], env = {}, readyUpstreams = true } = {}) {
  const port = await freePort();
  const dir = tempDir();
  const cfg = join(dir, 'mcpgw.yaml');
  writeFileSync(cfg, `listen: "127.0.0.1:${port}"\n${yaml}`);
  const proc = spawn(BIN, ['serve', '-c', cfg, ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (d) => { log += d.toString(); });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mcpgw exited early (${proc.exitCode}):\n${log}`);
    try {
      const r = await fetch(`${base}/health`);
      const h = await r.json();
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
      const r = await Promise.race([exited, new Promise((res) => setTimeout(() => res(null), 15000))]);
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
