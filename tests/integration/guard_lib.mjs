// What the guardrails tests share (docs/guardrails.md): a gateway whose
// upstreams are the leaky fixture (tests/fixtures/leaky-server.mjs), each
// writing what reached it to its own log (LEAKY_LOG) so that a test can tell
// what the gateway let through, with the audit trail in a file beside the
// config; and reading those logs back.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir, startGateway, connectClient } from './lib.mjs';

export const LEAKY = join(ROOT, 'tests', 'fixtures', 'leaky-server.mjs');

// One servers: entry: name runs the leaky fixture logging to dir/name.log;
// extra: more YAML lines of that server (indented four spaces).
export function leaky(name, dir, extra = '') {
  return `  ${name}:\n    command: node\n    args: ["${LEAKY}"]\n    env:\n      LEAKY_LOG: "${join(dir, `${name}.log`)}"\n${extra}`;
}

// What the upstream name got, oldest first, one JSON line a call.
export function upstreamSaw(dir, name) {
  const p = join(dir, `${name}.log`);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

// The last call the upstream name got.
export const lastSeen = (dir, name) => JSON.parse(upstreamSaw(dir, name).trim().split('\n').pop());

// A tool result's texts, joined by "|".
export const textOf = (r) => r.content.map((c) => c.text).join('|');

// Start a gateway in a new temp dir: auth none, audit records in
// dir/audit.jsonl with audit.parameters `parameters`, the root keys of
// `head` (YAML text), and one leaky upstream per member of servers (its
// value: that server's extra lines). Returns { gw, dir, client } with an SDK
// client connected.
export async function startLeakyGateway({ parameters, head = '', servers }) {
  const dir = tempDir();
  const list = Object.entries(servers).map(([name, extra]) => leaky(name, dir, extra)).join('');
  const gw = await startGateway(`auth: none
audit:
  sinks:
    - { type: file, path: audit.jsonl }
  parameters: ${parameters}
${head}servers:
${list}`, { dir });
  const { client } = await connectClient(gw.url);
  return { gw, dir, client };
}
