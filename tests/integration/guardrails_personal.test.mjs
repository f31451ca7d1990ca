// Classification drives the PII guardrail (issue 13 classification, issue 11
// guardrails; docs/guardrails.md "Classification"): a tool classified
// PERSONAL or SENSITIVE_PERSONAL gets its answers' PII redacted with no
// guardrails: configured, and the audit record says so; a server that names
// output pii itself (off included) keeps its own setting; a PUBLIC server,
// and a PUBLIC tool of a PERSONAL server, are left alone; guardrails
// turned off stay off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, tempDir, writeGatewayFiles } from './lib.mjs';
import { recordAfter, recordsIn } from './audit_lib.mjs';
import { startLeakyGateway, textOf, LEAKY } from './guard_lib.mjs';

const EMAIL = 'alice.martin@example.org';
const PHONE = '+1 415 555 2671';
const TEXT = `write to ${EMAIL} or call ${PHONE}`;
const REDACTED = 'write to [REDACTED:email] or call [REDACTED:phone]';

let gw, dir, client;
before(async () => {
  ({ gw, dir, client } = await startLeakyGateway({
    parameters: 'redacted',
    servers: {
      crm: '    classification: PERSONAL\n',
      health: '    classification: SENSITIVE_PERSONAL\n',
      optout: '    classification: PERSONAL\n    guardrails: { output: { off: [pii] } }\n',
      pub: '    classification: PUBLIC\n',
      mixed: '    classification: PUBLIC\n    classifications: { "sa*": PERSONAL }\n',
    },
  }));
});
after(async () => {
  await client?.close();
  await gw?.stop();
});

const say = (server) => client.callTool({ name: `${server}__say`, arguments: { text: TEXT } });

test('PERSONAL with no guardrails configured: the client gets the e-mail and phone redacted; PUBLIC is untouched', async () => {
  assert.equal(textOf(await say('crm')), REDACTED);
  assert.equal(textOf(await say('pub')), TEXT);
});

test('SENSITIVE_PERSONAL: redacted too (the call still answers)', async () => {
  assert.equal(textOf(await say('health')), REDACTED);
});

test('the operator\'s own output pii wins: off: [pii] on a PERSONAL server answers in clear, its neighbour is redacted', async () => {
  assert.equal(textOf(await say('optout')), TEXT);
  assert.equal(textOf(await say('crm')), REDACTED);
});

test('classifications: by tool glob: the PERSONAL tool is redacted, another tool of the server is not', async () => {
  assert.equal(textOf(await say('mixed')), REDACTED);
  const r = await client.callTool({ name: 'mixed__echo', arguments: { text: TEXT } });
  assert.equal(textOf(r), JSON.stringify({ text: TEXT }));
});

test('the audit record notes the redaction as any output guardrail action', async () => {
  const n = recordsIn(dir).length;
  await say('crm');
  const { rec } = await recordAfter(dir, n, 'crm__say');
  assert.equal(rec.classification, 'PERSONAL');
  for (const type of ['email', 'phone'])
    assert.ok(rec.guardrails.some((g) => g.direction === 'output' && g.kind === 'pii' && g.type === type &&
      g.action === 'redact' && g.count === 1), JSON.stringify(rec.guardrails));
});

test('guardrails: { enabled: false } stays off for a PERSONAL server; one that turns them back on gets the default', async () => {
  const off = await startLeakyGateway({
    parameters: 'redacted', head: 'guardrails: { enabled: false }\n',
    servers: { crm: '    classification: PERSONAL\n',
      crm2: '    classification: PERSONAL\n    guardrails: { enabled: true }\n' },
  });
  try {
    const r = await off.client.callTool({ name: 'crm__say', arguments: { text: TEXT } });
    assert.equal(textOf(r), TEXT);
    const on = await off.client.callTool({ name: 'crm2__say', arguments: { text: TEXT } });
    assert.equal(textOf(on), REDACTED);
  } finally {
    await off.client.close();
    await off.gw.stop();
  }
});

test('the compliance report: personal_guardrails passes on the default, fails for an opt-out', () => {
  const run = (extra) => {
    const d = tempDir();
    writeGatewayFiles(d, 1, `auth: none\nservers:\n  crm:\n    command: node\n    args: ["${LEAKY}"]\n` +
      `    classification: PERSONAL\n${extra}`, '');
    const r = spawnSync(BIN, ['compliance', 'report', '-c', join(d, 'mcpgw.yaml')], { encoding: 'utf8', timeout: 60000 });
    return JSON.parse(r.stdout).checks.find((c) => c.id === 'personal_guardrails');
  };
  const dflt = run('');
  assert.equal(dflt.status, 'pass', dflt.evidence);
  assert.equal(dflt.evidence, 'server crm (PERSONAL): output pii redact (the classification\'s default)');
  const opt = run('    guardrails: { output: { off: [pii] } }\n');
  assert.equal(opt.status, 'fail', opt.evidence);
  assert.equal(opt.evidence, 'server crm (PERSONAL): output pii off');
});
