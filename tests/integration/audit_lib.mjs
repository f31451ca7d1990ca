// What the audit tests share (docs/audit.md): a gateway with the flaky
// upstream, API keys and a policy; the records read back from each kind of
// sink (the file, the SQLite store, PostgreSQL; syslog_receiver.mjs keeps
// its own messages); the chain's hash; a bounded wait for a record; the
// SDK v2 client speaking 2026-07-28.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import {
  ROOT, tempDir, freePort, apikeyCreate, writeGatewayFiles, apiKeyAuthYaml, startGateway, allowAllRole,
} from './lib.mjs';

export const FLAKY = join(ROOT, 'tests', 'fixtures', 'flaky-server.mjs');
export const MODERN = '2026-07-28';
export const ZERO_HASH = '0'.repeat(64);

// servers: with the flaky upstream as `fl` (tools echo, pid, fail, tool_error, ...).
export const flakyServer = () =>
  `servers:\n  fl:\n    command: node\n    args: ["${FLAKY}"]\n    env:\n      FLAKY_STATE: "${tempDir()}"\n`;

// The audit tests' policy: role user may do anything but call fl's pid (the
// rule no-pid denies it); limited: the subjects held to one request a
// minute after a burst of `burst`.
export function auditPolicy({ limited = [], burst = 4 } = {}) {
  const clients = limited.map((who) => `  "${who}":\n    max_requests_per_minute: 1\n    burst: ${burst}\n`).join('');
  return `roles:\n${allowAllRole('user')}${clients ? `clients:\n${clients}` : ''}rules:
  - name: no-pid
    condition: { mcp_server: "fl", tool_name_pattern: "pid" }
    priority: 10
    action: deny
default_policy: deny
`;
}

// A gateway taking API keys, reading `policy` (policy.yaml), with `servers`
// (default: the flaky upstream) and `audit` (the audit: block, or '' for the
// default trail). keys: names of API keys made for role `user` before it
// starts. Returns { gw, cfg, dir, db (the store), keys: {name: key} }.
export async function auditGateway({ policy, audit = '', keys = [], servers = flakyServer() }) {
  const dir = tempDir();
  const port = await freePort();
  const body = servers + apiKeyAuthYaml(port) + audit;
  const cfg = writeGatewayFiles(dir, port, body, policy);
  const made = {};
  for (const name of keys) made[name] = apikeyCreate(cfg, name, 'user');
  const gw = await startGateway(body, { dir, port });
  return { gw, cfg, dir, db: join(dir, 'mcpgw.db'), keys: made };
}

// docs/audit.md, "The chain": SHA-256 of the line without its hash member.
export function hashOf(line) {
  const cut = line.lastIndexOf(',"hash":"');
  return createHash('sha256').update(line.slice(0, cut) + '}').digest('hex');
}

// Lines of a JSON-lines file sink (none when it does not exist yet).
export function fileLines(path) {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l) : [];
}

// The lines of the file sink audit.jsonl in dir, and the record (its line
// and parsed) of the first call of tool after the first n lines, waited for
// (bounded): what the guardrails tests read.
export const recordsIn = (dir) => fileLines(join(dir, 'audit.jsonl'));
export async function recordAfter(dir, n, tool) {
  for (let i = 0; i < 100; i++) {
    const line = recordsIn(dir).slice(n).find((l) => JSON.parse(l).tool_name === tool);
    if (line) return { line, rec: JSON.parse(line) };
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`no record of ${tool}`);
}

// Rows of an SQLite sink's audit_logs, oldest first, read by the sqlite3
// shell (not by mcpgw's code).
export function sqliteRows(db, cols = 'seq, event_type, "user", mcp_server, tool_name, status, record, hash') {
  const out = execFileSync('sqlite3', ['-json', db, `SELECT ${cols} FROM audit_logs ORDER BY seq`], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

// Rows of a PostgreSQL sink's audit_logs (pg: pg.mjs's server) WHERE where.
export const pgRows = (pg, where = 'true') => pg.query(
  `SELECT seq, ts_ms, event_type, "user", mcp_server, tool_name, status, record, hash FROM audit_logs WHERE ${where} ORDER BY seq`);

// fn's first truthy value (fn may be async), polled every 50 ms for at most
// ms; else fails saying what (a string, or a function called then for the
// state to show).
export async function eventually(fn, what, { ms = 10000 } = {}) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`${typeof what === 'function' ? what() : what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The SDK v2 client pinned to 2026-07-28, connected to url with `Authorization: Bearer key`
// (none without a key).
export async function v2Client(url, key, { name = 'audit-v2', version = '2.0' } = {}) {
  const c = new ClientV2({ name, version }, { versionNegotiation: { mode: { pin: MODERN } } });
  const headers = key ? { Authorization: `Bearer ${key}` } : {};
  await c.connect(new TransportV2(new URL(url), { requestInit: { headers } }));
  return c;
}

// The chain of a file sink's lines (docs/audit.md, "The chain"): seq from
// `from` without a gap, each prev_hash the hash before (`prev` for the
// first), each hash the SHA-256 of its line, the first three and last two
// members in their places. Returns { seq: the next, prev: the last hash }.
export function checkChain(ls, { from = 1, prev = ZERO_HASH } = {}) {
  let seq = from;
  for (const line of ls) {
    const r = JSON.parse(line);
    assert.equal(r.seq, seq, `seq ${seq} expected, got ${r.seq}: ${line.slice(0, 200)}`);
    assert.equal(r.prev_hash, prev, `record ${r.seq}: prev_hash is not the hash of the one before`);
    assert.equal(r.hash, hashOf(line), `record ${r.seq}: hash is not the SHA-256 of its line`);
    assert.deepEqual(Object.keys(r).slice(0, 3), ['seq', 'timestamp', 'event_type']);
    assert.deepEqual(Object.keys(r).slice(-2), ['prev_hash', 'hash']);
    prev = r.hash;
    seq++;
  }
  return { seq, prev };
}
