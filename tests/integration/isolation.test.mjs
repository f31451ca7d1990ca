// One upstream restarting must not hold up calls to another. The chaos test
// found it: a tools/call named "echo__echo" waited for the tool lists of
// every upstream of the session, so while a crashed shared upstream took its
// time to come back, every other call of every session waited with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, initSession, rpc, buildEchoMcp, MISBEHAVE } from './lib.mjs';

let gw;

before(async () => {
  const echo = await buildEchoMcp();
  // slow starts 2 s after every spawn, so its restart window is wide and known.
  gw = await startGateway(`servers:
  slow:
    command: sh
    args: ["-c", "sleep 2; exec node '${MISBEHAVE}'"]
    session: shared
    timeout: 10
  echo:
    command: "${echo}"
    session: shared
`);
});

after(async () => { if (gw) await gw.stop(); });

test('a call to one upstream is answered while another restarts', async () => {
  const a = await initSession(gw.url);
  const crash = await rpc(gw.url, a, 1, 'tools/call', { name: 'slow__crash', arguments: {} });
  assert.equal(crash.status, 200, crash.res.body);
  assert.ok(crash.msg?.error, `the crash answers with an error: ${crash.res.body}`);
  await sleep(100); // the gateway has seen the exit and is respawning (2 s)

  // A new session has no tool lists yet: routing echo__echo must only need echo's.
  const b = await initSession(gw.url);
  const r = await rpc(gw.url, b, 2, 'tools/call', { name: 'echo__echo', arguments: { text: 'hi' } },
    { signal: AbortSignal.timeout(10000) });
  assert.equal(r.status, 200, r.res.body);
  assert.deepEqual(r.msg?.result?.content, [{ type: 'text', text: 'hi' }], r.res.body);
  assert.ok(r.ms < 1000, `echo__echo took ${r.ms} ms while 'slow' was restarting`);

  // and the restarting upstream's own tools come back once it is up
  const back = await rpc(gw.url, b, 3, 'tools/call', { name: 'slow__echo', arguments: { text: 'back' } },
    { signal: AbortSignal.timeout(15000) });
  assert.deepEqual(back.msg?.result?.content, [{ type: 'text', text: 'back' }], back.res.body);
});
