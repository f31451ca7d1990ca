// One disturbance of the chaos test, in its own process so that it competes
// with the steady sessions for the gateway, not for the measuring process's
// event loop. Usage: node disturb.mjs MODE PORT [KEY]
//   flood  one client sending tools/call as fast as the answers come (8 in flight)
//   crash  calls crashy__crash once a second: the upstream dies every second
//   hang   keeps 8 calls to hang__hang outstanding: the upstream never answers
//          (once its breaker is open each caller waits 200 ms after an error)
//   loris  holds 500 connections open, each sending a header byte every 2 s
// Runs until SIGTERM; then prints one JSON line of counts on stdout.
import http from 'node:http';
import net from 'node:net';

const [mode, portArg, key] = process.argv.slice(2);
const port = Number(portArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const counts = { mode, sent: 0, statuses: {}, errors: 0 };
let running = true;

function post(body, sid) {
  return new Promise((res) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', agent, headers: {
      'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'content-length': Buffer.byteLength(data),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } : {}) } }, (r) => {
      let t = '';
      r.on('data', (d) => { t += d; });
      r.on('end', () => res({ status: r.statusCode, sid: r.headers['mcp-session-id'], text: t }));
    });
    req.on('error', () => { counts.errors++; res({ status: 0, text: '' }); });
    req.end(data);
  });
}

async function session() {
  for (;;) {
    const r = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {
      protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: `chaos-${mode}`, version: '1' } } });
    if (r.sid) {
      await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, r.sid);
      return r.sid;
    }
    if (!running) return null;
    await new Promise((ok) => setTimeout(ok, 200)); // refused (e.g. 429): try again
  }
}

async function caller(sid, tool, args, pauseMs) {
  for (let id = 1; running; id++) {
    const r = await post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args } }, sid);
    counts.sent++;
    counts.statuses[r.status] = (counts.statuses[r.status] || 0) + 1;
    if (r.status === 404) sid = await session(); // session dropped: start another
    if (pauseMs) await new Promise((ok) => setTimeout(ok, pauseMs));
    // A hung upstream's breaker answers at once: a client backs off from
    // errors rather than spinning (spinning is the flood disturbance).
    else if (tool === 'hang__hang' && r.text.includes('"error"')) await new Promise((ok) => setTimeout(ok, 200));
  }
}

// One slow-loris connection: a request line and then a header byte every 2 s,
// never finishing the headers. When the gateway closes it, open another.
function loris(state) {
  if (!running) return;
  const s = net.connect(port, '127.0.0.1');
  let timer = null;
  s.on('connect', () => {
    state.open++;
    s.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    timer = setInterval(() => s.write('a'), 2000);
  });
  s.on('error', () => {});
  s.on('close', (hadErr) => {
    clearInterval(timer);
    if (s.connecting === false && state.open > 0) state.open--;
    state.closed++;
    if (!hadErr) state.closedByGateway++;
    setTimeout(() => loris(state), 100);
  });
}

async function main() {
  if (mode === 'loris') {
    const state = { open: 0, closed: 0, closedByGateway: 0 };
    for (let i = 0; i < 500; i++) {
      loris(state);
      if (i % 50 === 49) await new Promise((ok) => setTimeout(ok, 20));
    }
    counts.loris = state;
    return;
  }
  const sid = await session();
  if (mode === 'flood') await Promise.all(Array.from({ length: 8 }, () => caller(sid, 'echo__echo', { text: 'flood' }, 0)));
  else if (mode === 'crash') await caller(sid, 'crashy__crash', {}, 1000);
  else if (mode === 'hang') await Promise.all(Array.from({ length: 8 }, () => caller(sid, 'hang__hang', {}, 0)));
  else throw new Error(`unknown mode ${mode}`);
}

process.on('SIGTERM', () => {
  running = false;
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  process.exit(0);
});
main().catch((e) => { process.stderr.write(`disturb ${mode}: ${e.stack}\n`); process.exit(1); });
