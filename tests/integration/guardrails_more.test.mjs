// Guardrails, the two actions that keep state or ask outside (issue 11;
// docs/guardrails.md "restore_pii" and "Provider"):
// - restore_pii: PII in a request's arguments goes upstream as placeholders
//   and comes back to the client as the originals; the upstream (the leaky
//   fixture logs what it got, LEAKY_LOG) and the audit record never hold them;
// - provider: webhook: a checker (a small HTTP server in this file) is asked
//   about each call without holding the others; its answer, its silence and
//   its garbage are each decided as documented; a call cancelled while the
//   checker thinks is forgotten (no crash, no leak: stop() fails on one).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { connectClient, tempDir, BIN, withGatewayLog } from './lib.mjs';
import { recordAfter, recordsIn } from './audit_lib.mjs';
import { leaky, upstreamSaw, lastSeen, textOf, startLeakyGateway } from './guard_lib.mjs';

const EMAIL = 'alice.martin@example.org';
const EMAIL2 = 'bob.stone@example.net';
const CARD = '4111 1111 1111 1111';
const PHONE = '+1 415 555 2671';
const URL_SECRET = 's3cretHookPw';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the checker -------------------------------------------------------------------
// It answers by the texts it is sent: "CHK-BLOCK" blocks (and "OUT-BLOCK" in an answer), "CHK-REDACT"
// redacts "zebra", "CHK-GARBAGE" answers garbage, "CHK-HANG" never answers,
// "CHK-HOLD" in a request answers allow once the test releases it; anything else is allowed.
// checker.sockets[i].closed: the gateway let go of the i-th question's connection.
const checker = { seen: [], held: [], auth: [], sockets: [] };
function startChecker() {
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const q = JSON.parse(body);
      checker.seen.push(q);
      const gone = { closed: false };
      checker.sockets.push(gone);
      res.once('close', () => { gone.closed = true; });
      checker.auth.push(req.headers.authorization || '');
      const all = q.texts.join(' ');
      const send = (o) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(typeof o === 'string' ? o : JSON.stringify(o)); };
            if (all.includes('CHK-BLOCK') || (q.direction === 'output' && all.includes('OUT-BLOCK'))) return send({ action: 'block', reason: 'policy 7: no zebras' });
      if (all.includes('CHK-REDACT')) return send({ action: 'redact', reason: 'zebra', redactions: [{ text: 'zebra', type: 'animal' }] });
      if (all.includes('CHK-GARBAGE')) return send('<html>not json</html>');
      if (all.includes('CHK-HANG')) return undefined;
      if (all.includes('CHK-HOLD') && q.direction === 'input') return checker.held.push(() => send({ action: 'allow' }));
      return send({ action: 'allow' });
    });
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}

let gw, dir, client, srv;
before(async () => {
  srv = await startChecker();
  const port = srv.address().port;
  const hook = (onError, timeout) => `    guardrails:\n      provider: { type: webhook, name: checker, url: "http://hook:${URL_SECRET}@127.0.0.1:${port}/check", timeout: ${timeout}, on_error: ${onError} }\n`;
  ({ gw, dir, client } = await startLeakyGateway({
    parameters: 'redacted',
    servers: {
      plain: '',
      anon: '    guardrails: { output: { restore_pii: true } }\n',
      anonred: '    guardrails: { output: { redact: [pii], restore_pii: true } }\n',
      anonblk: '    guardrails: { input: { block: [pii] }, output: { restore_pii: true } }\n',
      hooked: hook('block', '1s'),
      lenient: hook('allow', '500ms'),
      both: `    guardrails:\n      output: { restore_pii: true }\n      provider: { type: webhook, name: checker, url: "http://127.0.0.1:${port}/check", timeout: 30s }\n`,
    },
  }));
});
after(async () => {
  await client?.close();
  await gw?.stop();
  srv?.closeAllConnections?.();
  srv?.close();
  assert.ok(!gw.logs().includes(URL_SECRET), 'the provider URL\'s password is never logged');
});

// ---- restore_pii -------------------------------------------------------------------

test('restore_pii: the upstream gets placeholders, never the e-mail, card or phone; the client gets the originals back', withGatewayLog(async () => {
  const text = `mail ${EMAIL}, card ${CARD}, call ${PHONE}`;
  const r = await client.callTool({ name: 'anon__echo', arguments: { text, note: `cc ${EMAIL}` } });
  const saw = upstreamSaw(dir, 'anon');
  for (const v of [EMAIL, CARD, PHONE]) assert.ok(!saw.includes(v), `the upstream saw ${v}: ${saw}`);
  const args = lastSeen(dir, 'anon').arguments;
  assert.equal(args.text, 'mail [PII:email:1], card [PII:payment_card:1], call [PII:phone:1]');
  assert.equal(args.note, 'cc [PII:email:1]', 'the same value gets the same placeholder');
  assert.deepEqual(JSON.parse(textOf(r)), { text, note: `cc ${EMAIL}` });
}, () => gw));

test('restore_pii: two different values get two placeholders, each restored to its own', withGatewayLog(async () => {
  const r = await client.callTool({ name: 'anon__say', arguments: { text: `from ${EMAIL} to ${EMAIL2}` } });
  assert.equal(lastSeen(dir, 'anon').arguments.text, 'from [PII:email:1] to [PII:email:2]');
  assert.equal(textOf(r), `from ${EMAIL} to ${EMAIL2}`);
}, () => gw));

test('restore_pii: a placeholder the call did not make is left as it is', withGatewayLog(async () => {
  const r = await client.callTool({ name: 'anon__say', arguments: { text: `${EMAIL} and [PII:email:2] [PII:email:1` } });
  assert.equal(textOf(r), `${EMAIL} and [PII:email:2] [PII:email:1`);
}, () => gw));

test('restore_pii with output redact pii: the answer\'s own PII is redacted, the client\'s own values come back', withGatewayLog(async () => {
  const r = await client.callTool({ name: 'anonred__say', arguments: { text: `me ${EMAIL}` } });
  assert.ok(!upstreamSaw(dir, 'anonred').includes(EMAIL));
  assert.equal(textOf(r), `me ${EMAIL}`);
  const s = await client.callTool({ name: 'anonred__sample', arguments: { kind: 'pii' } });
  assert.equal(textOf(s), 'card [REDACTED:payment_card] on file', 'PII the upstream wrote itself is redacted');
}, () => gw));

test('restore_pii: the audit record (parameters: redacted) holds the placeholders, never an original', withGatewayLog(async () => {
  const n = recordsIn(dir).length;
  await client.callTool({ name: 'anon__echo', arguments: { text: `mail ${EMAIL} card ${CARD} phone ${PHONE}` } });
  const { line, rec } = await recordAfter(dir, n, 'anon__echo');
  for (const v of [EMAIL, CARD, PHONE]) assert.ok(!line.includes(v), `the record holds ${v}: ${line}`);
  assert.equal(rec.parameters.text, 'mail [PII:email:1] card [PII:payment_card:1] phone [PII:phone:1]');
  assert.ok(rec.guardrails.some((g) => g.direction === 'input' && g.kind === 'pii' && g.type === 'email' && g.action === 'pseudonymize'),
    JSON.stringify(rec.guardrails));
  assert.ok(rec.guardrails.some((g) => g.direction === 'output' && g.kind === 'pii' && g.action === 'restore'),
    JSON.stringify(rec.guardrails));
}, () => gw));

test('restore_pii with input block pii: block still wins, nothing is sent', withGatewayLog(async () => {
  await assert.rejects(client.callTool({ name: 'anonblk__say', arguments: { text: EMAIL } }), (e) => {
    assert.equal(e.code, -32030);
    assert.match(e.message, /guardrail input\.pii blocked the request: email found/);
    return true;
  });
  assert.equal(upstreamSaw(dir, 'anonblk'), '');
}, () => gw));

test('restore_pii: a prompt\'s arguments are pseudonymized and its messages restored', withGatewayLog(async () => {
  const r = await client.getPrompt({ name: 'anon__greet', arguments: { who: EMAIL } });
  assert.ok(!upstreamSaw(dir, 'anon').includes(EMAIL));
  assert.equal(lastSeen(dir, 'anon').arguments.who, '[PII:email:1]');
  assert.match(r.messages[0].content.text, new RegExp(`^Hello ${EMAIL.replace(/\./g, '\\.')},`));
}, () => gw));

// ---- provider: webhook ---------------------------------------------------------------

test('provider allow: the call passes; the checker was asked with direction, server, tool and the texts', withGatewayLog(async () => {
  checker.seen.length = 0;
  const r = await client.callTool({ name: 'hooked__say', arguments: { text: 'hello checker' } });
  assert.equal(textOf(r), 'hello checker');
  const input = checker.seen.find((q) => q.direction === 'input');
  assert.deepEqual(input, { direction: 'input', server: 'hooked', method: 'tools/call', tool: 'say', texts: ['hello checker'] });
  assert.ok(checker.seen.some((q) => q.direction === 'output' && q.texts.includes('hello checker')), JSON.stringify(checker.seen));
  assert.ok(checker.auth.some((a) => a === `Basic ${Buffer.from(`hook:${URL_SECRET}`).toString('base64')}`),
    'the URL\'s credentials reach the checker');
}, () => gw));

test('provider block: JSON-RPC -32030 naming the provider and its reason; the upstream never sees the call', withGatewayLog(async () => {
  const n = recordsIn(dir).length;
  await assert.rejects(client.callTool({ name: 'hooked__say', arguments: { text: 'CHK-BLOCK please' } }), (e) => {
    assert.equal(e.code, -32030);
    assert.equal(e.message, 'MCP error -32030: guardrail provider checker blocked the request: policy 7: no zebras');
    return true;
  });
  assert.ok(!upstreamSaw(dir, 'hooked').includes('CHK-BLOCK'));
  const { rec } = await recordAfter(dir, n, 'hooked__say');
  assert.equal(rec.status, 'denied');
  assert.equal(rec.stage, 'guard_in');
  assert.deepEqual(rec.guardrails.find((g) => g.kind === 'provider'),
    { direction: 'input', kind: 'provider', type: 'verdict', action: 'block', count: 1 });
}, () => gw));

test('provider block on output: the tool result becomes isError naming the provider', withGatewayLog(async () => {
  const n = recordsIn(dir).length;
  const r = await client.callTool({ name: 'hooked__say', arguments: { text: 'OUT-BLOCK me' } });
  assert.equal(r.isError, true);
  assert.equal(textOf(r), 'guardrail provider checker blocked the answer: policy 7: no zebras');
  const { rec } = await recordAfter(dir, n, 'hooked__say');
  assert.equal(rec.status, 'denied');
  assert.equal(rec.stage, 'guard_out');
}, () => gw));

test('provider redact: each redaction replaces its text going upstream', withGatewayLog(async () => {
  const r = await client.callTool({ name: 'hooked__say', arguments: { text: 'CHK-REDACT a zebra and a zebra' } });
  assert.equal(lastSeen(dir, 'hooked').arguments.text, 'CHK-REDACT a [REDACTED:animal] and a [REDACTED:animal]');
  assert.ok(!textOf(r).includes('zebra'));
}, () => gw));

test('provider garbage answer: on_error block refuses naming the provider, on_error allow passes and records it', withGatewayLog(async () => {
  await assert.rejects(client.callTool({ name: 'hooked__say', arguments: { text: 'CHK-GARBAGE' } }), (e) => {
    assert.equal(e.code, -32030);
    assert.equal(e.message, 'MCP error -32030: guardrail provider checker could not check the request: bad_answer');
    return true;
  });
  const n = recordsIn(dir).length;
  const r = await client.callTool({ name: 'lenient__say', arguments: { text: 'CHK-GARBAGE' } });
  assert.equal(textOf(r), 'CHK-GARBAGE');
  const { rec } = await recordAfter(dir, n, 'lenient__say');
  assert.ok(rec.guardrails.some((g) => g.kind === 'provider' && g.type === 'bad_answer' && g.action === 'allow'),
    JSON.stringify(rec.guardrails));
}, () => gw));

test('provider hangs: after the timeout on_error block refuses, on_error allow passes', withGatewayLog(async () => {
  await assert.rejects(client.callTool({ name: 'hooked__say', arguments: { text: 'CHK-HANG' } }), (e) => {
    assert.equal(e.code, -32030);
    assert.equal(e.message, 'MCP error -32030: guardrail provider checker could not check the request: timeout');
    return true;
  });
  assert.ok(!upstreamSaw(dir, 'hooked').includes('CHK-HANG'));
  const r = await client.callTool({ name: 'lenient__say', arguments: { text: 'CHK-HANG' } });
  assert.equal(textOf(r), 'CHK-HANG');
  assert.ok(upstreamSaw(dir, 'lenient').includes('CHK-HANG'));
}, () => gw));

test('provider: a call parked on the checker does not hold another call, of this client or another', withGatewayLog(async () => {
  let settled = false;
  const held = client.callTool({ name: 'both__say', arguments: { text: 'CHK-HOLD one' } }).finally(() => { settled = true; });
  while (checker.held.length === 0) await sleep(20);
  const other = await client.callTool({ name: 'plain__say', arguments: { text: 'meanwhile' } });
  assert.equal(textOf(other), 'meanwhile');
  const c2 = (await connectClient(gw.url, { name: 'second' })).client;
  try {
    const r2 = await c2.callTool({ name: 'both__say', arguments: { text: 'not held' } });
    assert.equal(textOf(r2), 'not held');
  } finally { await c2.close(); }
  assert.equal(settled, false, 'the parked call is still waiting for its checker');
  checker.held.shift()();
  const r = await held;
  assert.equal(textOf(r), 'CHK-HOLD one');
}, () => gw));

test('provider + restore_pii: the checker sees placeholders, never the original', withGatewayLog(async () => {
  checker.seen.length = 0;
  const r = await client.callTool({ name: 'both__say', arguments: { text: `mail ${EMAIL}` } });
  assert.equal(textOf(r), `mail ${EMAIL}`);
  assert.ok(checker.seen.length >= 2, JSON.stringify(checker.seen));
  assert.ok(!JSON.stringify(checker.seen).includes(EMAIL), JSON.stringify(checker.seen));
  assert.ok(JSON.stringify(checker.seen).includes('[PII:email:1]'));
}, () => gw));

test('provider: a call cancelled while parked is forgotten; the checker\'s late answer is ignored', withGatewayLog(async () => {
  const ac = new AbortController();
  const n = recordsIn(dir).length;
  const p = client.callTool({ name: 'both__say', arguments: { text: `CHK-HOLD cancel ${EMAIL}` } }, undefined, { signal: ac.signal });
  while (checker.held.length === 0) await sleep(20);
  const asked = checker.sockets[checker.sockets.length - 1];
  ac.abort('the user gave up');
  await assert.rejects(p);
  // the question's transfer is cut, not left open until the checker answers
  for (let i = 0; i < 200 && !asked.closed; i++) await sleep(50);
  assert.ok(asked.closed, 'the gateway closed its connection to the checker when the call was cancelled');
  const { line, rec } = await recordAfter(dir, n, 'both__say');
  assert.equal(rec.status, 'cancelled');
  assert.ok(!line.includes(EMAIL), line);
  checker.held.shift()(); // a late answer: nobody listens
  assert.ok(!upstreamSaw(dir, 'both').includes('cancel'), 'the cancelled call never went upstream');
  const r = await client.callTool({ name: 'both__say', arguments: { text: 'still fine' } });
  assert.equal(textOf(r), 'still fine');
}, () => gw));

test('provider: a session closed while its call is parked frees the call', withGatewayLog(async () => {
  const c2 = await connectClient(gw.url, { name: 'leaver' });
  const n = checker.held.length;
  const p = c2.client.callTool({ name: 'both__say', arguments: { text: 'CHK-HOLD leaving' } }).catch(() => 'gone');
  while (checker.held.length === n) await sleep(20);
  const asked = checker.sockets[checker.sockets.length - 1];
  await c2.close(); // DELETE: the session ends with its call parked
  await p;
  for (let i = 0; i < 200 && !asked.closed; i++) await sleep(50);
  assert.ok(asked.closed, 'the gateway closed its connection to the checker when the session ended');
  checker.held.shift()();
  const r = await client.callTool({ name: 'both__say', arguments: { text: 'after close' } });
  assert.equal(textOf(r), 'after close');
  assert.ok(!upstreamSaw(dir, 'both').includes('leaving'));
}, () => gw));

// ---- configuration ------------------------------------------------------------------

test('config check refuses a restore_pii or a provider that makes no sense, naming file:line and key, never the URL', () => {
  const d = tempDir();
  const cases = [
    ['guardrails:\n  input: { restore_pii: true }\n',
      /:2: key 'guardrails\.input\.restore_pii': restore_pii puts PII back in the answer: put it under output/],
    ['guardrails:\n  output: { restore_pii: yes }\n', /:2: key 'guardrails\.output\.restore_pii'/],
    ['guardrails:\n  provider: { url: "http://127.0.0.1:1/x" }\n', /:2: key 'guardrails\.provider': a provider needs a type: webhook or none/],
    ['guardrails:\n  provider: { type: webhook }\n', /:2: key 'guardrails\.provider': a webhook provider needs a url/],
    ['guardrails:\n  provider: { type: webhook, url: "ftp://u:pw1234@h/x" }\n', /:2: key 'guardrails\.provider\.url': expected an http:\/\/ or https:\/\/ URL/],
    ['guardrails:\n  provider: { type: webhook, url: "http://h/x", timeout: 90s }\n', /:2: key 'guardrails\.provider\.timeout': a provider's timeout is above 0 and at most 60s/],
    ['guardrails:\n  provider: { type: webhook, url: "http://h/x", on_error: ignore }\n', /:2: key 'guardrails\.provider\.on_error'/],
    ['servers:\n  s:\n    command: x\n    guardrails:\n      tools:\n        t: { provider: { type: kafka } }\n', /:6: key 'servers\.s\.guardrails\.tools\.t\.provider\.type'/],
  ];
  for (const [text, says] of cases) {
    writeFileSync(join(d, 'g.yaml'), text);
    const r = spawnSync(BIN, ['config', 'check', '-c', join(d, 'g.yaml')], { encoding: 'utf8' });
    assert.equal(r.status, 1, text);
    assert.match(r.stderr, says);
    assert.ok(!r.stderr.includes('pw1234'), r.stderr);
  }
  writeFileSync(join(d, 'g.yaml'), 'guardrails:\n  output: { restore_pii: true }\n  provider: { type: webhook, name: chk, url: "https://u:pw1234@h.example/x", timeout: 500ms, on_error: allow }\n' +
    'servers:\n  s:\n    command: x\n    guardrails: { provider: { type: none }, output: { restore_pii: false } }\n');
  const ok = spawnSync(BIN, ['config', 'check', '-c', join(d, 'g.yaml')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(!ok.stdout.includes('pw1234') && !ok.stderr.includes('pw1234'));
});
