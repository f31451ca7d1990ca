// How fast the gateway answers while an upstream's circuit breaker is open
// (issue 5: "fails fast while open, answer in < 5 ms"). A benchmark, not a
// test: the release binary, 200 calls on one keep-alive connection after the
// breaker opened, median and p99 of the round trip. Exits 1 if the median is
// 5 ms or more. Usage: node bench/breaker.mjs MCPGW_BIN
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import net from 'node:net';

const bin = process.argv[2];
const FLAKY = join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'fixtures', 'flaky-server.mjs');
const dir = mkdtempSync(join(tmpdir(), 'mcpgw-breaker-'));
const down = join(dir, 'down');
const port = await new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
writeFileSync(join(dir, 'mcpgw.yaml'), `listen: "127.0.0.1:${port}"
log_level: warn
servers:
  br:
    command: node
    args: ["${FLAKY}"]
    env: { FLAKY_STATE: "${dir}", FLAKY_DOWN_FILE: "${down}" }
    timeouts: { tool: 0.3 }
    retries: { max: 0 }
    breaker: { failures: 3, open_seconds: 600 }
    health_check: { interval: 0 }
`);
const gw = spawn(bin, ['serve', '-c', join(dir, 'mcpgw.yaml')], { stdio: 'ignore' });
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function post(body, sid) {
  return new Promise((res, rej) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', agent, headers: {
      'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'content-length': Buffer.byteLength(data),
      ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } : {}) } }, (r) => {
      let t = ''; r.on('data', (d) => { t += d; }); r.on('end', () => res({ sid: r.headers['mcp-session-id'], text: t }));
    });
    req.on('error', rej); req.end(data);
  });
}
let code = 1;
try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) break; } catch { /* not yet */ }
    if (i > 150) throw new Error('gateway not ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  const { sid } = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'b', version: '1' } } });
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
  const call = (id) => post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'br__echo', arguments: { text: 'x' } } }, sid);
  await call(1); // lists fetched, server up
  writeFileSync(down, '');
  for (let i = 2; i <= 4; i++) await call(i); // three timeouts open the breaker
  const ms = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const r = JSON.parse((await call(100 + i)).text);
    ms.push(performance.now() - t0);
    if (r.error?.code !== -32012) throw new Error(`expected -32012 while open, got ${JSON.stringify(r)}`);
  }
  ms.sort((a, b) => a - b);
  const med = ms[100], p99 = ms[198];
  console.log(`breaker open: 200 calls answered -32012, round trip median ${med.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${ms[199].toFixed(3)} ms (target: median < 5 ms)`);
  code = med < 5 ? 0 : 1;
} finally {
  gw.kill('SIGTERM');
  await new Promise((r) => gw.on('exit', r));
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
