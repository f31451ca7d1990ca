import { startGateway, post, EVERYTHING } from './lib.mjs';
const gw = await startGateway(`servers:
  everything:
    command: node
    args: [${JSON.stringify(EVERYTHING)}, "stdio"]
`);
for (const proto of ['2025-11-25', '2025-06-18', '2025-03-26']) {
const r = await post(gw.url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: proto, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const sid = r.headers.get('mcp-session-id');
const n = await post(gw.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid, 'mcp-protocol-version': proto });
console.log(proto, 'init', r.status, 'initialized', n.status);
const ac = new AbortController();
const g = await fetch(gw.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': proto }, signal: ac.signal });
console.log('GET', g.status, g.headers.get('content-type'), g.status !== 200 ? await g.text() : '');
ac.abort();
const g2 = await fetch(gw.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid } , signal: AbortSignal.timeout(500)}).catch(e => ({status: String(e)}));
console.log('GET no proto header', g2.status);
}
await gw.stop();
console.log(gw.logs());
