// Load: 100 concurrent sessions x 100 tools/call each through /mcp to the C
// echo upstream; every answer must carry its own id and its own text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, initSession, rpc, buildEchoMcp } from './lib.mjs';

const SESSIONS = 100;
const CALLS = 100;
const LIMIT_MS = 60000;

test(`${SESSIONS} concurrent sessions x ${CALLS} tools/call: every answer correct`, async () => {
  const echo = await buildEchoMcp();
  const gw = await startGateway(`servers:
  echo:
    command: "${echo}"
`);
  try {
    const t0 = Date.now();
    const sids = await Promise.all(Array.from({ length: SESSIONS }, () => initSession(gw.url)));
    assert.equal(new Set(sids).size, SESSIONS, 'distinct session ids');
    for (const sid of sids) assert.match(sid ?? '', /^[\x21-\x7e]+$/);
    const tInit = Date.now() - t0;

    const errors = [];
    let ok = 0;
    await Promise.all(sids.map(async (sid, s) => {
      for (let c = 0; c < CALLS; c++) {
        // Integer and string ids, both reused across sessions on purpose.
        const id = c % 2 ? c : `call-${c}`;
        const text = `s${s}-c${c}-${Math.random().toString(36).slice(2)} "quoted" \\ ünï`;
        let r;
        try {
          r = await rpc(gw.url, sid, id, 'tools/call', { name: 'echo__echo', arguments: { text } },
            { signal: AbortSignal.timeout(30000) });
        } catch (e) {
          errors.push(`session ${s} call ${c}: ${e.message}`);
          return;
        }
        const m = r.res.json;
        if (r.status !== 200 || !m || m.id !== id || m.result?.content?.[0]?.text !== text
            || m.result.content.length !== 1) {
          errors.push(`session ${s} call ${c}: id ${JSON.stringify(id)} text ${JSON.stringify(text)} -> ${r.status} ${r.res.body.slice(0, 300)}`);
          if (errors.length > 20) return;
        } else {
          ok++;
        }
      }
    }));
    const total = Date.now() - t0;
    console.log(`load: ${SESSIONS} sessions (init ${tInit} ms) x ${CALLS} calls = ${ok} ok in ${total} ms ` +
      `(${Math.round((ok * 1000) / Math.max(1, total - tInit))} calls/s)`);
    assert.deepEqual(errors.slice(0, 10), [], `${errors.length} bad answers\n${gw.logs().slice(-3000)}`);
    assert.equal(ok, SESSIONS * CALLS);
    assert.ok(total < LIMIT_MS, `took ${total} ms (limit ${LIMIT_MS})`);

    const h = await (await fetch(`${gw.base}/health`)).json();
    assert.equal(h.status, 'ok');
    assert.equal(h.sessions, SESSIONS);
    // Ending every session leaves none behind.
    await Promise.all(sids.map(async (sid) => {
      const d = await fetch(gw.url, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
      await d.text();
      assert.ok(d.status === 200 || d.status === 204, `DELETE ${d.status}`);
    }));
    const h2 = await (await fetch(`${gw.base}/health`)).json();
    assert.equal(h2.sessions, 0);
    assert.doesNotMatch(gw.logs(), /"level":"(error|bug)"/, 'no error or bug lines in the log');
  } finally {
    await gw.stop();
  }
});
