import { startGateway, connectClient, within, EVERYTHING } from './lib.mjs';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
const gw = await startGateway(`log_level: debug
servers:
  everything:
    command: node
    args: [${JSON.stringify(EVERYTHING)}, "stdio"]
`);
const got = [];
const c = await connectClient(gw.url, { capabilities: { sampling: {}, elicitation: {}, roots: {} },
  handlers: { requests: [[CreateMessageRequestSchema, async (req) => { got.push(req.params); console.log('HANDLER CALLED'); return { model: 'm', role: 'assistant', content: { type: 'text', text: 'ans' } }; }]] } });
const t0 = Date.now();
const long = c.client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 2, steps: 2 } }, undefined, { onprogress: (p) => console.log('progress', p, Date.now()-t0) });
await new Promise(r => setTimeout(r, 200));
try {
  const s = await within(c.client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'busy' } }), 8000, 'sampling');
  console.log('sampling result', JSON.stringify(s).slice(0, 200), Date.now()-t0);
} catch (e) { console.log('ERR', e.message, Date.now()-t0); }
console.log('long', JSON.stringify(await long).slice(0,200), Date.now()-t0);
console.log('errors', c.errors.map(String));
await c.close();
await gw.stop();
console.log(gw.logs());
