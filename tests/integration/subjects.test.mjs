// Data subjects (issue 13 point 4, docs/compliance.md "Subjects and
// erasure"): with encryption on, a subject's id and the parameters of its
// PERSONAL calls are sealed under a key of its own in the audit trail;
// export opens them, erasure destroys the key (the records stay, the chain
// verifies, what was personal reads [erased]); consent is recorded,
// checked and withdrawn.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN, ADMIN_POLICY, apiKeyAuthYaml, apikeyCreate, bearerClient, freePort, startGateway, tempDir, writeGatewayFiles,
} from './lib.mjs';
import { FLAKY, eventually } from './audit_lib.mjs';

const MASTER = randomBytes(32).toString('base64');
process.env.SUBJ_MASTER = MASTER; // for lib.mjs's mcpgw() (apikey create reads the config)
const SUBJECT = 'alice-7c1e'; // an API key's name: the subject is apikey:NAME
const ID = `apikey:${SUBJECT}`;
const SECRET = 'ssn-078-05-1120';
const server = (name, cls) => `  ${name}:\n    command: node\n    args: ["${FLAKY}"]\n    classification: ${cls}\n` +
  `    env:\n      FLAKY_STATE: "${tempDir()}"\n`;
const dir = tempDir();
const AUDIT_DB = join(dir, 'audit.db');
let gw;
let cfg;
let root;
after(async () => { await gw?.stop(); });

function run(args, env = { SUBJ_MASTER: MASTER }) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
async function api(method, path, body) {
  const r = await fetch(`http://127.0.0.1:${gw.port}${path}`, {
    method, headers: { Authorization: `Bearer ${root}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}
const records = () => {
  const q = run(['audit', 'query', '--format', 'json', '--limit', '1000', '-c', cfg]);
  assert.equal(q.status, 0, q.stderr);
  return q.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
};
const storeFiles = (db) => [db, `${db}-wal`].filter((f) => existsSync(f));

test('a subject\'s id and PERSONAL parameters are sealed in the trail; the CLI export opens them', async () => {
  const port = await freePort();
  const body = `servers:\n${server('crm', 'PERSONAL')}${server('pub', 'PUBLIC')}${apiKeyAuthYaml(port)}` +
    `encryption:\n  master_key: env://SUBJ_MASTER\naudit:\n  sinks:\n    - { type: sqlite, path: audit.db }\n`;
  cfg = writeGatewayFiles(dir, port, body, ADMIN_POLICY);
  const alice = apikeyCreate(cfg, SUBJECT, 'operator');
  root = apikeyCreate(cfg, 'root', 'admin');
  gw = await startGateway(body, { dir, port, env: { SUBJ_MASTER: MASTER } });
  gw.port = port;
  const c = await bearerClient(gw.url, alice);
  try {
    assert.equal((await c.callTool({ name: 'crm__echo', arguments: { text: SECRET } })).content[0].text, SECRET);
    await c.callTool({ name: 'pub__echo', arguments: { text: 'public-hello' } });
  } finally { await c.close(); }
  const mine = await eventually(() => {
    const rs = records().filter((x) => x.user === ID && x.tool_name);
    return rs.length >= 2 ? rs : null;
  }, 'the subject\'s records');
  assert.deepEqual(mine.find((x) => x.tool_name === 'crm__echo').parameters, { text: SECRET });
  assert.deepEqual(mine.find((x) => x.tool_name === 'pub__echo').parameters, { text: 'public-hello' });
  assert.match(mine[0].pseudonym, /^psn-[0-9a-f]{32}$/);
  for (const f of storeFiles(AUDIT_DB)) {
    const bytes = readFileSync(f);
    assert.ok(!bytes.includes(SUBJECT), `the subject's id in clear in ${f}`);
    assert.ok(!bytes.includes(SECRET), `personal parameters in clear in ${f}`);
  }
  const ex = run(['subjects', 'export', ID, '-c', cfg]);
  assert.equal(ex.status, 0, ex.stderr);
  const e = JSON.parse(ex.stdout);
  assert.equal(e.user_id, ID);
  assert.ok(e.records.some((x) => x.tool_name === 'crm__echo' && x.parameters.text === SECRET), ex.stdout);
  assert.deepEqual(e.api_keys.map((k) => k.name), [SUBJECT]);
});
