import { startGateway, buildEchoMcp, MISBEHAVE, initSession, rpc, rawHttp, post } from '/work/main/tests/integration/lib.mjs';
const echo = await buildEchoMcp();
const gw = await startGateway(`max_body: 1KiB
servers:
  echo:
    command: ${echo}
  mis:
    command: node
    args: ["${MISBEHAVE}"]
    timeout: 2
`);
const sid = await initSession(gw.url);
console.log(await rpc(gw.url, sid, 1, 'tools/list', {}));
console.log(JSON.stringify((await rpc(gw.url, sid, 2, 'tools/call', {name:'echo__echo', arguments:{text:'hi'}})).msg));
console.log(JSON.stringify((await rpc(gw.url, sid, 3, 'resources/read', {uri:'file:///nope'})).msg));
const big = JSON.stringify({jsonrpc:'2.0',id:4,method:'tools/call',params:{name:'echo__echo',arguments:{text:'x'.repeat(2048)}}});
const r = await post(gw.url, big, {'mcp-session-id': sid});
console.log(r.status, r.body);
const u = new URL(gw.base);
console.log(await rawHttp(gw.base, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${u.port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000000\r\n\r\n{"jsonrpc"`));
console.log(await rawHttp(gw.base, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${u.port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${'x'.repeat(0x800)}\r\n800\r\n${'x'.repeat(0x800)}\r\n`));
console.log(await rawHttp(gw.base, `POST /mcp HTTP/1.1\r\nHost: evil.example.com\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 2\r\n\r\n{}`));
console.log(JSON.stringify((await rpc(gw.url, sid, 5, 'tools/call', {name:'mis__pid'})).msg));
console.log(gw.logs());
await gw.stop();
