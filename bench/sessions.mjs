// 100 concurrent sessions x 100 tools/call each through mcpgw in front of
// echo-mcp; checks every answer and reports time and the gateway's peak RSS
// (VmHWM). Usage: node bench/sessions.mjs MCPGW_BIN ECHO_MCP [SESSIONS] [CALLS]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';

const [bin, echo, nsArg, ncArg] = process.argv.slice(2);
const NS = Number(nsArg || 100), NC = Number(ncArg || 100);
const port = await new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const gw = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--log-level', 'warn', '--', echo], { stdio: ['ignore', 'ignore', 'inherit'] });
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function post(body, sid) {
  return new Promise((res, rej) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', agent, headers: {
      'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'content-length': Buffer.byteLength(data), ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } : {}) } }, (r) => {
      let t = ''; r.on('data', (d) => { t += d; }); r.on('end', () => res({ status: r.statusCode, sid: r.headers['mcp-session-id'], text: t }));
    });
    req.on('error', rej); req.end(data);
  });
}
for (let i = 0; ; i++) {
  try { await post({ jsonrpc: '2.0', id: 0, method: 'ping' }); break; } catch { if (i > 100) throw new Error('gateway did not start'); await new Promise((r) => setTimeout(r, 100)); }
}
const t0 = Date.now();
let bad = 0;
await Promise.all(Array.from({ length: NS }, async (_, s) => {
  const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: `s${s}`, version: '1' } } });
  const sid = init.sid;
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
  for (let c = 1; c <= NC; c++) {
    const r = await post({ jsonrpc: '2.0', id: c, method: 'tools/call', params: { name: 'echo', arguments: { text: `s${s}-c${c}` } } }, sid);
    const m = JSON.parse(r.text);
    if (r.status !== 200 || m.id !== c || m.result?.content?.[0]?.text !== `s${s}-c${c}`) bad++;
  }
}));
const ms = Date.now() - t0;
const hwm = readFileSync(`/proc/${gw.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)[1];
gw.kill('SIGTERM');
await new Promise((r) => gw.on('exit', r));
console.log(`sessions=${NS} calls_per_session=${NC} total_calls=${NS * NC} wrong_answers=${bad} elapsed_ms=${ms} calls_per_s=${Math.round(NS * NC / (ms / 1000))}`);
console.log(`gateway peak RSS (VmHWM): ${(hwm / 1024).toFixed(1)} MiB (the 100 echo-mcp children are separate processes)`);
process.exit(bad ? 1 : 0);
