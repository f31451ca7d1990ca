// Server→client traffic through the real gateway with the official SDK v1
// client: progress, logging, sampling, elicitation and roots relayed from a
// stdio server-everything, including two clients at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema,
  LoggingMessageNotificationSchema, ProgressNotificationSchema, EmptyResultSchema, McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { startGateway, connectClient, rpcError, within, EVERYTHING, withGatewayLog } from './lib.mjs';

const T = { timeout: 30000 };

// On failure, show the tail of the gateway's log with the test's report.
const logged = (f, which = () => gw) => withGatewayLog(f, which);
const ALL_CAPS = { sampling: {}, elicitation: {}, roots: {} };

let gw;
const clients = [];

async function open(opts = {}) {
  const c = await connectClient(gw.url, opts);
  clients.push(c);
  return c;
}

const text = (result) => result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// SDK errors reported through onerror that mean a message was misrouted.
const misrouted = (errors) => errors.filter((e) => /unknown (token|message ID)/i.test(String(e?.message)));

before(async () => {
  gw = await startGateway(`servers:
  everything:
    command: node
    args: [${JSON.stringify(EVERYTHING)}, "stdio"]
`);
});

const extraGateways = [];

after(async () => {
  for (const c of clients) await c.close();
  for (const g of extraGateways) await g.stop();
  if (gw) await gw.stop();
});

test('progress: increasing notifications with the client\'s own token, then the result', T, logged(async () => {
  // Two clients at once: both SDK clients number their first tools/call the
  // same way, so both use the same progressToken; each must get only its own.
  const a = await open({ name: 'progress-a' });
  const b = await open({ name: 'progress-b' });
  const seenA = [];
  const seenB = [];
  const [ra, rb] = await Promise.all([
    a.client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 2, steps: 4 } },
      undefined, { onprogress: (p) => seenA.push(p) }),
    b.client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 1.5, steps: 3 } },
      undefined, { onprogress: (p) => seenB.push(p) }),
  ]);
  assert.match(text(ra), /Long running operation completed\. Duration: 2 seconds, Steps: 4\./);
  assert.match(text(rb), /Long running operation completed\. Duration: 1\.5 seconds, Steps: 3\./);
  assert.deepEqual(seenA.map((p) => [p.progress, p.total]), [[1, 4], [2, 4], [3, 4], [4, 4]]);
  assert.deepEqual(seenB.map((p) => [p.progress, p.total]), [[1, 3], [2, 3], [3, 3]]);
  assert.deepEqual(misrouted(a.errors), []);
  assert.deepEqual(misrouted(b.errors), []);

  // A token the client picked itself (a string) comes back unchanged.
  const c = await open({ name: 'progress-c' });
  const raw = [];
  c.client.setNotificationHandler(ProgressNotificationSchema, (n) => { raw.push(n.params); });
  const rc = await c.client.callTool({
    name: 'everything__trigger-long-running-operation',
    arguments: { duration: 1, steps: 2 },
    _meta: { progressToken: 'client-chosen-token-7' },
  });
  assert.match(text(rc), /Steps: 2\./);
  assert.deepEqual(raw.map((p) => [p.progressToken, p.progress]), [['client-chosen-token-7', 1], ['client-chosen-token-7', 2]]);
}));

test('logging: setLevel succeeds, a bad level is -32602, and server log messages reach the client', T, logged(async () => {
  const logs = [];
  const { client } = await open({
    name: 'logging',
    handlers: { notifications: [[LoggingMessageNotificationSchema, (n) => { logs.push(n.params); }]] },
  });
  assert.deepEqual(await client.setLoggingLevel('debug'), {});
  const bad = await rpcError(() => client.request({ method: 'logging/setLevel', params: { level: 'loudest' } }, EmptyResultSchema));
  assert.equal(bad.code, -32602);

  const on = await client.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
  assert.match(text(on), /Started simulated/);
  // The first message is sent at once (during the call); the next ones every
  // 5 s, unrelated to any request, so they travel on the GET stream.
  const duringCall = logs.length;
  const deadline = Date.now() + 8000;
  while (logs.length <= duringCall && Date.now() < deadline) await sleep(100);
  const off = await client.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
  assert.match(text(off), /Stopped simulated/);
  assert.ok(logs.length >= 1, 'at least one notifications/message reached the client');
  assert.ok(logs.length > duringCall,
    `a periodic log message sent after the tool call ended reached the client within 8 s (got ${logs.length}, ${duringCall} during the call)`);
  const levels = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
  for (const l of logs) assert.ok(levels.includes(l.level), `level ${l.level}`);
  assert.ok(logs.some((l) => /-level message|level-message/.test(String(l.data))), JSON.stringify(logs));
}));

test('sampling: the client handler gets the server\'s messages and its answer is in the tool result', T, logged(async () => {
  const calls = [];
  const { client } = await open({
    name: 'sampling',
    capabilities: ALL_CAPS,
    handlers: {
      requests: [[CreateMessageRequestSchema, async (req) => {
        calls.push(req.params);
        return { model: 'itest-model', role: 'assistant', content: { type: 'text', text: 'sampled answer 4711' } };
      }]],
    },
  });
  const r = await client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'say hi', maxTokens: 33 } });
  assert.ok(!r.isError, JSON.stringify(r));
  assert.equal(calls.length, 1, 'the sampling handler ran once');
  assert.equal(calls[0].messages[0].role, 'user');
  assert.equal(calls[0].messages[0].content.text, 'Resource trigger-sampling-request context: say hi');
  assert.equal(calls[0].systemPrompt, 'You are a helpful test server.');
  assert.equal(calls[0].maxTokens, 33);
  assert.match(text(r), /sampled answer 4711/);
  assert.match(text(r), /itest-model/);
}));

test('elicitation: the client handler gets the request; accept and decline reach the tool', T, logged(async () => {
  const calls = [];
  let action = 'accept';
  const { client } = await open({
    name: 'elicitation',
    capabilities: ALL_CAPS,
    handlers: {
      requests: [[ElicitRequestSchema, async (req) => {
        calls.push(req.params);
        if (action === 'decline') return { action: 'decline' };
        return { action: 'accept', content: { name: 'Ada Lovelace', check: true, integer: 7 } };
      }]],
    },
  });
  const r = await client.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} });
  assert.ok(!r.isError, JSON.stringify(r));
  assert.equal(calls.length, 1);
  assert.equal(calls[0].message, 'Please provide inputs for the following fields:');
  assert.equal(calls[0].requestedSchema.properties.name.type, 'string');
  assert.deepEqual(calls[0].requestedSchema.required, ['name']);
  const t = text(r);
  assert.match(t, /User provided the requested information/);
  assert.match(t, /- Name: Ada Lovelace/);
  assert.match(t, /- Agreed to terms: true/);
  assert.match(t, /- Favorite Integer: 7/);

  action = 'decline';
  const d = await client.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} });
  assert.equal(calls.length, 2);
  assert.match(text(d), /User declined/);
}));

test('roots: get-roots-list returns the roots the client handler gave', T, logged(async () => {
  let asked = 0;
  const roots = [
    { uri: 'file:///tmp/mcpgw-root-alpha', name: 'Alpha Root' },
    { uri: 'file:///tmp/mcpgw-root-beta', name: 'Beta Root' },
  ];
  const { client } = await open({
    name: 'roots',
    capabilities: ALL_CAPS,
    handlers: { requests: [[ListRootsRequestSchema, async () => { asked++; return { roots }; }]] },
  });
  const r = await client.callTool({ name: 'everything__get-roots-list', arguments: {} });
  assert.ok(!r.isError, JSON.stringify(r));
  const t = text(r);
  assert.match(t, /Current MCP Roots \(2 total\)/, t);
  assert.match(t, /Alpha Root\s+URI: file:\/\/\/tmp\/mcpgw-root-alpha/);
  assert.match(t, /Beta Root\s+URI: file:\/\/\/tmp\/mcpgw-root-beta/);
  assert.ok(asked >= 1, 'the client roots handler was asked');
}));

test('a client without the sampling capability gets an error, not a hang', T, logged(async () => {
  const { client } = await open({ name: 'no-sampling', capabilities: {} });
  let outcome;
  try {
    const r = await within(
      client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'x' } }),
      10000, 'tools/call trigger-sampling-request without sampling');
    outcome = { result: r };
  } catch (e) {
    if (/no answer within/.test(e.message)) throw e;
    outcome = { error: e };
  }
  if (outcome.result) assert.equal(outcome.result.isError, true, JSON.stringify(outcome.result));
  else assert.equal(typeof outcome.error.code, 'number', `a JSON-RPC error, got ${outcome.error}`);
  // The session still works afterwards.
  const echo = await client.callTool({ name: 'everything__echo', arguments: { message: 'still here' } });
  assert.equal(text(echo), 'Echo: still here');
}));

test('a client that refuses sampling: the refusal reaches the server, the call ends with an error', T, logged(async () => {
  let asked = 0;
  const { client } = await open({
    name: 'refuses',
    capabilities: ALL_CAPS,
    handlers: {
      requests: [[CreateMessageRequestSchema, async () => {
        asked++;
        throw new McpError(-1, 'User rejected sampling request');
      }]],
    },
  });
  let outcome;
  try {
    outcome = { result: await within(
      client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'no' } }),
      10000, 'tools/call trigger-sampling-request refused by the client') };
  } catch (e) {
    if (/no answer within/.test(e.message)) throw e;
    outcome = { error: e };
  }
  assert.equal(asked, 1, 'the client was asked');
  const what = outcome.result ? text(outcome.result) : outcome.error.message;
  if (outcome.result) assert.equal(outcome.result.isError, true, what);
  assert.match(what, /User rejected sampling request/);
}));

test('sampling while another call of the same session is in flight', T, logged(async () => {
  const got = [];
  const { client, errors } = await open({
    name: 'busy',
    capabilities: ALL_CAPS,
    handlers: {
      requests: [[CreateMessageRequestSchema, async (req) => {
        got.push(req.params.messages[0].content.text);
        return { model: 'busy-model', role: 'assistant', content: { type: 'text', text: 'answer while busy' } };
      }]],
    },
  });
  const progress = [];
  const long = client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 2, steps: 2 } },
    undefined, { onprogress: (p) => progress.push(p.progress) });
  await sleep(200);
  const s = await within(
    client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'busy' } }),
    15000, 'sampling during another call');
  assert.deepEqual(got, ['Resource trigger-sampling-request context: busy']);
  assert.match(text(s), /answer while busy/);
  const l = await long;
  assert.match(text(l), /Steps: 2\./);
  assert.deepEqual(progress, [1, 2]);
  assert.deepEqual(misrouted(errors), []);
}));

test('two clients at once each get their own sampling request', T, logged(async () => {
  const mk = (tag) => {
    const got = [];
    return {
      got,
      handler: async (req) => {
        got.push(req.params.messages[0].content.text);
        await sleep(400); // keep both requests in flight together
        return { model: `model-${tag}`, role: 'assistant', content: { type: 'text', text: `answer-from-${tag}` } };
      },
    };
  };
  const ha = mk('A');
  const hb = mk('B');
  const a = await open({ name: 'two-a', capabilities: ALL_CAPS, handlers: { requests: [[CreateMessageRequestSchema, ha.handler]] } });
  const b = await open({ name: 'two-b', capabilities: ALL_CAPS, handlers: { requests: [[CreateMessageRequestSchema, hb.handler]] } });
  const [ra, rb] = await Promise.all([
    a.client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'prompt-of-A' } }),
    b.client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'prompt-of-B' } }),
  ]);
  assert.deepEqual(ha.got, ['Resource trigger-sampling-request context: prompt-of-A']);
  assert.deepEqual(hb.got, ['Resource trigger-sampling-request context: prompt-of-B']);
  assert.match(text(ra), /answer-from-A/);
  assert.doesNotMatch(text(ra), /answer-from-B/);
  assert.match(text(rb), /answer-from-B/);
  assert.doesNotMatch(text(rb), /answer-from-A/);
  assert.deepEqual(misrouted(a.errors), []);
  assert.deepEqual(misrouted(b.errors), []);
}));

test('session: shared — two clients calling at once each get their own progress and result', T, async (t) => {
  const sgw = await startGateway(`servers:
  shared:
    command: node
    args: [${JSON.stringify(EVERYTHING)}, "stdio"]
    session: shared
`);
  extraGateways.push(sgw);
  await logged(async () => {
    const mk = async (name) => {
      const c = await connectClient(sgw.url, { name });
      clients.push(c);
      return c;
    };
    const a = await mk('shared-a');
    const b = await mk('shared-b');
    const seenA = [];
    const seenB = [];
    const [ra, rb, ea, eb] = await Promise.all([
      a.client.callTool({ name: 'shared__trigger-long-running-operation', arguments: { duration: 2, steps: 4 } },
        undefined, { onprogress: (p) => seenA.push([p.progress, p.total]) }),
      b.client.callTool({ name: 'shared__trigger-long-running-operation', arguments: { duration: 1.5, steps: 3 } },
        undefined, { onprogress: (p) => seenB.push([p.progress, p.total]) }),
      a.client.callTool({ name: 'shared__echo', arguments: { message: 'from A' } }),
      b.client.callTool({ name: 'shared__echo', arguments: { message: 'from B' } }),
    ]);
    assert.match(text(ra), /Steps: 4\./);
    assert.match(text(rb), /Steps: 3\./);
    assert.equal(text(ea), 'Echo: from A');
    assert.equal(text(eb), 'Echo: from B');
    assert.deepEqual(seenA, [[1, 4], [2, 4], [3, 4], [4, 4]]);
    assert.deepEqual(seenB, [[1, 3], [2, 3], [3, 3]]);
    assert.deepEqual(misrouted(a.errors), []);
    assert.deepEqual(misrouted(b.errors), []);
  }, () => sgw)(t);
});
