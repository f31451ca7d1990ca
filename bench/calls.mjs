// node bench/calls.mjs URL N: one session, then N sequential tools/call echo on
// one keep-alive connection (the shared harness's echo-mcp behind the gateway).
import http from 'node:http';
const [url, nstr] = process.argv.slice(2);
const N = Number(nstr);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const u = new URL(url);
function post(body, headers = {}) {
  return new Promise((res, rej) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(data), ...headers } },
    (r) => { let b = ''; r.on('data', (d) => { b += d; }); r.on('end', () => res({ status: r.statusCode, headers: r.headers, body: b })); });
    req.on('error', rej); req.end(data);
  });
}
const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cg', version: '1' } } });
const h = { 'mcp-session-id': init.headers['mcp-session-id'], 'mcp-protocol-version': '2025-06-18' };
await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, h);
for (let i = 1; i <= N; i++) {
  const r = await post({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { text: `m${i}` } } }, h);
  if (r.status !== 200) { console.error('bad', r.status, r.body); process.exit(1); }
}
process.exit(0);
