// Upstream lists are cached per session with a time to live (issue 12 item
// 8, docs/configuration.md `list_cache_ttl`): an upstream that changes its
// tools without saying so is seen again once the list's time is up, one
// whose list failed is asked again a few seconds later instead of staying
// empty, and list_cache_ttl: 0 keeps a list until the upstream says it
// changed. The upstream is tests/fixtures/growing-server.mjs: its Nth
// tools/list holds one tool, vN, so the names tell how often it was asked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, connectClient } from './lib.mjs';

const GROWING = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'growing-server.mjs');
const server = (name, extra = '', arg = '') =>
  `  ${name}:\n    command: node\n    args: ["${GROWING}"${arg ? `, "${arg}"` : ''}]\n    session: shared\n${extra}`;

let gw, client;
before(async () => {
  gw = await startGateway(`list_cache_ttl: 1
servers:
${server('short')}
${server('kept', '    list_cache_ttl: 0\n')}
${server('late', '    list_cache_ttl: 600\n', 'fail-first')}`);
  client = (await connectClient(gw.url)).client;
});
after(async () => {
  await client?.close();
  await gw?.stop();
});

const names = async () => (await client.listTools()).tools.map((t) => t.name).sort();

// Poll the list until pred holds or ms pass; the last list either way.
async function listUntil(pred, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const n = await names();
    if (pred(n) || Date.now() > end) return n;
    await sleep(200);
  }
}

test('a list is served from the cache within its time, asked again after it', async () => {
  const first = await names();
  assert.ok(first.includes('short__v1'), first.join());
  assert.ok(first.includes('kept__v1'), first.join());
  const again = await names();
  assert.ok(again.includes('short__v1'), `within the second the cached list: ${again}`);
  const later = await listUntil((n) => !n.includes('short__v1'), 10000);
  assert.ok(later.some((n) => /^short__v[2-9]/.test(n)), `after the TTL the upstream is asked again: ${later}`);
  assert.ok(later.includes('kept__v1'), `list_cache_ttl: 0 keeps the first list: ${later}`);
  const r = await client.callTool({ name: later.find((n) => n.startsWith('short__')), arguments: {} });
  assert.match(r.content[0].text, /^v\d+$/, 'the tool of the new list is callable');
});

test('a list that failed is asked again a few seconds later, even with a long list_cache_ttl', async () => {
  const got = await listUntil((n) => n.some((x) => x.startsWith('late__')), 15000);
  assert.ok(got.includes('late__v2'), `the failed list was fetched again: ${got}`);
  assert.match(gw.logs(), /not ready yet/);
});
