import { startGateway, within, EVERYTHING } from './lib.mjs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
const gw = await startGateway(`servers:
  everything:
    command: node
    args: [${JSON.stringify(EVERYTHING)}, "stdio"]
`);
const t0 = Date.now();
const ts = () => String(Date.now() - t0).padStart(5);
const logFetch = async (url, init) => {
  const h = new Headers(init?.headers);
  console.log(ts(), '>>', init?.method, String(url), 'LEID=', h.get('last-event-id'), init?.body ? String(init.body).slice(0, 160) : '');
  const r = await fetch(url, init);
  console.log(ts(), '<<', init?.method, r.status, r.headers.get('content-type'));
  if (r.body && (r.headers.get('content-type') || '').includes('event-stream')) {
    const [a, b] = r.body.tee();
    (async () => { const rd = b.getReader(); const dec = new TextDecoder(); for (;;) { const { value, done } = await rd.read(); if (done) { console.log(ts(), '   [stream end]', init?.method); break; } console.log(ts(), '   SSE', init?.method, JSON.stringify(dec.decode(value)).slice(0, 300)); } })();
    return new Response(a, { status: r.status, headers: r.headers });
  }
  return r;
};
const client = new Client({ name: 'x', version: '1' }, { capabilities: { sampling: {}, elicitation: {}, roots: {} } });
client.onerror = (e) => console.log(ts(), 'ONERROR', String(e));
client.setRequestHandler(CreateMessageRequestSchema, async () => { console.log(ts(), 'HANDLER'); return { model: 'm', role: 'assistant', content: { type: 'text', text: 'ans' } }; });
const tr = new StreamableHTTPClientTransport(new URL(gw.url), { fetch: logFetch });
await client.connect(tr);
await new Promise(r => setTimeout(r, 500));
const long = client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 2, steps: 2 } }, undefined, { onprogress: (p) => console.log(ts(), 'progress', p.progress) });
await new Promise(r => setTimeout(r, 200));
try {
  const s = await within(client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'busy' } }), 6000, 'sampling');
  console.log(ts(), 'sampling result ok');
} catch (e) { console.log(ts(), 'ERR', e.message); }
await long;
await tr.terminateSession(); await client.close();
await gw.stop();
