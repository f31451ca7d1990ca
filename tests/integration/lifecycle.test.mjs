// The command line and the process lifecycle: version, help, config check,
// quick `serve -- CMD` mode, graceful drain on SIGTERM, JSON-lines logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BIN, startGateway, initSession, rpc, buildEchoMcp, MISBEHAVE, pidAlive, freePort, tempDir,
} from './lib.mjs';

// Run the binary to completion: { code, signal, stdout, stderr }.
function run(args, { timeoutMs = 10000 } = {}) {
  return new Promise((res, rej) => {
    const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { p.kill('SIGKILL'); rej(new Error(`mcpgw ${args.join(' ')} timed out`)); }, timeoutMs);
    p.on('error', rej);
    p.on('exit', (code, signal) => { clearTimeout(t); res({ code, signal, stdout, stderr }); });
  });
}

// Every stderr line is one JSON object with ts, level, comp and msg.
function assertJsonLogs(text) {
  const lines = text.split('\n').filter((l) => l.length > 0);
  assert.ok(lines.length > 0, 'no log lines at all');
  for (const line of lines) {
    let o;
    try { o = JSON.parse(line); } catch { assert.fail(`log line is not JSON: ${line}`); }
    assert.equal(typeof o, 'object', line);
    for (const k of ['ts', 'level', 'comp', 'msg']) assert.equal(typeof o[k], 'string', `${k} in ${line}`);
    assert.match(o.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
    assert.match(o.level, /^(debug|info|warn|error)$/, line);
  }
  return lines.map((l) => JSON.parse(l));
}

// Direct children of pid (from /proc).
function childrenOf(pid) {
  const kids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(d));
    } catch { /* gone */ }
  }
  return kids;
}

test('mcpgw version prints the version', async () => {
  const r = await run(['version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^mcpgw \d+\.\d+\.\d+\S*\n$/);
});

test('mcpgw help exits 0 and prints usage', async () => {
  const r = await run(['help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /usage:/);
  assert.match(r.stdout, /mcpgw serve/);
  assert.match(r.stdout, /config check/);
});

test('mcpgw config check: good file exits 0, unknown key exits 1 with file:line: key', async () => {
  const dir = tempDir();
  const good = join(dir, 'good.yaml');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(good, 'listen: "127.0.0.1:18080"\nservers:\n  a:\n    command: /bin/cat\n    timeout: 5\n');
  writeFileSync(bad, 'listen: "127.0.0.1:18080"\nservers:\n  a:\n    command: /bin/cat\n    bogus_key: 1\n');
  const g = await run(['config', 'check', '-c', good]);
  assert.equal(g.code, 0, `good.yaml: ${g.stdout}${g.stderr}`);
  assert.match(g.stdout, /good\.yaml.*ok/);
  const b = await run(['config', 'check', '-c', bad]);
  assert.equal(b.code, 1, `bad.yaml exit code: ${b.stdout}${b.stderr}`);
  assert.ok(b.stderr.includes('bad.yaml:5: key'), `message: ${b.stderr}`);
  assert.match(b.stderr, /bogus_key/);
  assert.match(b.stderr, /unknown key/);
});

test('serve --listen HOST:PORT -- CMD serves tools/list of that command', async () => {
  const echo = await buildEchoMcp();
  const port = await freePort();
  // no config file: the store (mcpgw.db) and its signing key go in the
  // working directory, a temp one, not the source tree
  const proc = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--', echo],
    { cwd: tempDir(), stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  try {
    let health = null;
    for (let i = 0; i < 100 && !health?.upstreams_ready; i++) {
      try { health = await (await fetch(`${base}/health`)).json(); } catch { /* not yet */ }
      if (!health?.upstreams_ready) await sleep(100);
    }
    assert.ok(health?.upstreams_ready, `not ready: ${JSON.stringify(health)}\n${log}`);
    const v = await run(['version']);
    assert.equal(`mcpgw ${health.version}\n`, v.stdout, '/health and `mcpgw version` agree');
    const sid = await initSession(`${base}/mcp`);
    const r = await rpc(`${base}/mcp`, sid, 1, 'tools/list', {});
    assert.equal(r.status, 200, r.res.body);
    assert.deepEqual(r.msg?.result?.tools?.map((t) => t.name), ['echo'], r.res.body);
    const c = await rpc(`${base}/mcp`, sid, 2, 'tools/call', { name: 'echo', arguments: { text: 'quick' } });
    assert.deepEqual(c.msg?.result?.content, [{ type: 'text', text: 'quick' }], c.res.body);
  } finally {
    if (proc.exitCode === null) proc.kill('SIGTERM');
  }
  const e = await Promise.race([exited, sleep(15000).then(() => null)]);
  if (!e) proc.kill('SIGKILL');
  assert.deepEqual(e, { code: 0, signal: null }, log);
  assertJsonLogs(log);
});

test('SIGTERM during an in-flight call: the call completes, exit 0, children gone, JSON logs', async () => {
  const gw = await startGateway(`shutdown_grace: 10
servers:
  mis:
    command: node
    args: ["${MISBEHAVE}"]
`);
  let stopped = false;
  try {
    const sid = await initSession(gw.url);
    const pr = await rpc(gw.url, sid, 1, 'tools/call', { name: 'mis__pid', arguments: {} });
    const upid = Number(pr.msg?.result?.content?.[0]?.text);
    assert.ok(upid > 0, pr.res.body);
    const kids = childrenOf(gw.proc.pid);
    assert.ok(kids.includes(upid), `upstream ${upid} is a child of the gateway (${kids})`);
    assert.ok(kids.length >= 2, `the supervised and the session upstream: ${kids}`);

    const t0 = Date.now();
    const slow = rpc(gw.url, sid, 2, 'tools/call', { name: 'mis__slow', arguments: { ms: 1000 } },
      { signal: AbortSignal.timeout(15000) });
    // 250 ms: the answer lands between two 100 ms drain ticks (see the next
    // test for an answer that is still being written when the drain ends).
    await sleep(250);
    gw.proc.kill('SIGTERM');
    const exited = new Promise((res) => {
      if (gw.proc.exitCode !== null) res(gw.proc.exitCode);
      else gw.proc.on('exit', (code) => res(code));
    });
    const r = await slow;
    assert.equal(r.status, 200, r.res.body);
    assert.deepEqual(r.msg?.result?.content, [{ type: 'text', text: 'slept 1000' }],
      `in-flight call after SIGTERM: ${r.res.body}\n${gw.logs()}`);
    assert.ok(Date.now() - t0 >= 1000);
    const code = await Promise.race([exited, sleep(15000).then(() => 'timeout')]);
    stopped = true;
    assert.equal(code, 0, `exit code after SIGTERM:\n${gw.logs()}`);
    await sleep(100); // reparenting, if anything was left behind
    for (const k of kids) assert.equal(pidAlive(k), false, `child ${k} outlived the gateway`);
    assert.equal(pidAlive(upid), false, `upstream ${upid} outlived the gateway`);
    const logs = assertJsonLogs(gw.logs());
    assert.ok(logs.some((l) => /SIGTERM: .*finishing calls/.test(l.msg)), 'the drain is logged');
    assert.ok(logs.some((l) => l.msg === 'stopped'), 'the stop is logged');
  } finally {
    if (!stopped) await gw.stop().catch(() => {});
  }
});

test('SIGTERM: an answer still being written when the calls are done is delivered in full', async () => {
  // A 10 MiB answer to a client that reads it slowly: the kernel buffers
  // cannot hold it, so the gateway must keep writing during the drain (the
  // grace is 10 s) instead of closing the connection once no call is left.
  const echo = await buildEchoMcp();
  const gw = await startGateway(`max_body: 16MiB
shutdown_grace: 10
servers:
  echo:
    command: "${echo}"
`);
  let stopped = false;
  try {
    const sid = await initSession(gw.url);
    const text = 'z'.repeat(10 * 1024 * 1024);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call',
      params: { name: 'echo__echo', arguments: { text } } });
    const port = Number(new URL(gw.base).port);
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => {});
    const closed = new Promise((res) => sock.on('close', res));
    // read until the answer has started, then stop reading
    const started = new Promise((res) => sock.once('data', () => { sock.pause(); res(); }));
    sock.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
      `Accept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\n` +
      `MCP-Protocol-Version: 2025-06-18\r\nConnection: close\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    sock.write(body);
    await Promise.race([started, sleep(15000)]); // the echo answer is produced and partly written
    gw.proc.kill('SIGTERM');
    await sleep(500); // several drain ticks pass while the client is not reading
    sock.resume();
    await Promise.race([closed, sleep(10000)]);
    sock.destroy();
    const raw = Buffer.concat(chunks).toString('latin1');
    const sep = raw.indexOf('\r\n\r\n');
    assert.match(raw.slice(0, 20), /^HTTP\/1\.1 200/, raw.slice(0, 200));
    const cl = Number(/\r\ncontent-length:\s*(\d+)/i.exec(raw.slice(0, sep + 2))?.[1]);
    const got = raw.length - sep - 4;
    assert.equal(got, cl, `answer truncated: ${got} of ${cl} body bytes arrived\n${gw.logs()}`);
    const msg = JSON.parse(raw.slice(sep + 4));
    assert.equal(msg.id, 5);
    assert.equal(msg.result?.content?.[0]?.text?.length, text.length);
    const code = await Promise.race([
      new Promise((res) => (gw.proc.exitCode !== null ? res(gw.proc.exitCode) : gw.proc.on('exit', res))),
      sleep(15000).then(() => 'timeout')]);
    stopped = true;
    assert.equal(code, 0, gw.logs());
  } finally {
    if (!stopped) await gw.stop().catch(() => {});
  }
});
