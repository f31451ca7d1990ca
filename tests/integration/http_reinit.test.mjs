// An HTTP upstream that forgets its sessions (it restarts) answers 404; the
// gateway re-initialises a new upstream session and the client never notices.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startGateway, freePort, connectClient, ROOT } from './lib.mjs';

const FIXTURE = join(ROOT, 'tests/fixtures/conformance-server.mjs');
const procs = [];
let gw;

function startFixture(port) {
  const p = spawn('node', [FIXTURE, '--http', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(p);
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('fixture did not start')), 15000);
    p.stdout.on('data', (d) => { if (d.toString().includes('MCP_FIXTURE_URL=')) { clearTimeout(t); res(p); } });
  });
}

after(async () => {
  try { await gw?.stop(); } finally { for (const p of procs) p.kill('SIGKILL'); }
});

test('after the upstream forgets the session (404), the next call still succeeds', async () => {
  const port = await freePort();
  let fixture = await startFixture(port);
  gw = await startGateway(`servers:\n  conf:\n    url: "http://127.0.0.1:${port}/mcp"\n    timeout: 10\n`);
  const conn = await connectClient(gw.url);
  const { client } = conn;
  try {
    const first = await client.callTool({ name: 'conf__test_simple_text', arguments: {} });
    assert.equal(first.content[0].type, 'text');
    fixture.kill('SIGKILL');
    await new Promise((r) => fixture.on('exit', r));
    fixture = await startFixture(port);
    const again = await client.callTool({ name: 'conf__test_simple_text', arguments: {} });
    assert.deepEqual(again.content, first.content);
    assert.match(gw.logs(), /session expired|re-?initiali|404/i);
  } finally { await conn.close(); }
});
