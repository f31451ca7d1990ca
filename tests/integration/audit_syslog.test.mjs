// The syslog audit sink (docs/audit.md, "Syslog sink") against a real
// receiver (syslog_receiver.mjs): SDK v1 calls that are allowed, denied and
// unauthenticated, and an SDK v2 call in 2026-07-28, each reach it as one
// RFC 5424 message whose header, structured data and MSG carry the record,
// over TCP (octet counting) and UDP; over TCP
// a receiver restarted mid-run gets the records made while it was away.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ROOT, bearerClient, withGatewayLog } from './lib.mjs';
import { MODERN, auditGateway, hashOf, v2Client } from './audit_lib.mjs';
import { SyslogReceiver } from './syslog_receiver.mjs';

const NAMED = join(ROOT, 'tests', 'fixtures', 'named-tools.mjs');
const POLICY = `
roles:
  user:
    permissions:
      - resource: "mcp:nt:ok"
        actions: [list_tools, invoke_tool]
default_policy: deny
`;
const SEVERITY = { success: 6, denied: 5, unauthenticated: 5 };

let gw = null;
const receivers = [];
const gateways = [];
after(async () => {
  for (const g of gateways) if (g.proc.exitCode === null) g.proc.kill('SIGKILL'); // a test failed half-way
  for (const r of receivers) await r.stop();
});

// A gateway with one syslog sink to rcv (and the given audit: extras), and
// an API key for role user. Returns { gw, key }.
async function gatewayTo(rcv, protocol, extra = '') {
  const { gw: g, keys } = await auditGateway({ policy: POLICY, keys: ['alice'],
    servers: `servers:\n  nt:\n    command: node\n    args: ["${NAMED}", "nt", "ok,secret"]\n`,
    audit: `audit:\n  sinks:\n    - { type: syslog, address: "${rcv.address()}", protocol: ${protocol} }\n${extra}` });
  gateways.push(g);
  return { gw: g, key: keys.alice };
}

// The record in a message, checked against the message's own header and
// structured data, and against its chain hash (docs/audit.md, "The chain").
function recordOf(m, pid) {
  const rec = JSON.parse(m.msg);
  const sd = m.sd['mcpgw@32473'];
  assert.equal(m.version, 1);
  assert.equal(m.facility, 16, 'local0');
  assert.equal(m.appName, 'mcpgw');
  assert.equal(m.procId, String(pid));
  assert.equal(m.hostname, hostname());
  assert.equal(m.msgId, rec.event_type);
  assert.equal(m.timestamp, rec.timestamp);
  assert.deepEqual(sd, { seq: String(rec.seq), hash: rec.hash });
  assert.equal(hashOf(m.msg), rec.hash, 'MSG is the line, byte for byte');
  return rec;
}

const callsOf = (msgs, pid, pred) => msgs.map((m) => ({ m, rec: recordOf(m, pid) })).filter(({ rec }) => pred(rec));

async function allowedDeniedUnauthenticated(protocol) {
  const rcv = await new SyslogReceiver(protocol).start();
  receivers.push(rcv);
  let key;
  ({ gw, key } = await gatewayTo(rcv, protocol));
  const pid = gw.proc.pid;
  const client = await bearerClient(gw.url, key);
  try {
    const ok = await client.callTool({ name: 'nt__ok', arguments: {} });
    assert.equal(ok.content[0].text, 'nt:ok');
    await assert.rejects(client.callTool({ name: 'nt__secret', arguments: {} }));
  } finally { await client.close(); }
  await assert.rejects(bearerClient(gw.url, 'mcpgw_not_a_key'));
  // a v2 client speaking 2026-07-28 (no sessions): recorded the same way
  const v2 = await v2Client(gw.url, key, { name: 'v2', version: '1' });
  try {
    assert.equal((await v2.callTool({ name: 'nt__ok', arguments: {} })).content[0].text, 'nt:ok');
  } finally { await v2.close(); }

  const isCall = (name, era = (v) => v !== MODERN) => (r) => r.action === 'tools/call' && r.tool_name === name &&
    era(r.protocol_version);
  await rcv.waitFor((ms) => ms.some((m) => /"status":"unauthenticated"/.test(m.msg)) &&
    ms.some((m) => /"tool_name":"nt__secret"/.test(m.msg)) &&
    ms.filter((m) => /"tool_name":"nt__ok"/.test(m.msg)).length >= 2);
  assert.deepEqual(rcv.errors, []);
  for (const [pred, status] of [[isCall('nt__ok'), 'success'], [isCall('nt__secret'), 'denied'],
    [isCall('nt__ok', (v) => v === MODERN), 'success'],
    [(r) => r.status === 'unauthenticated', 'unauthenticated']]) {
    const got = callsOf(rcv.messages, pid, pred);
    assert.equal(got.length, 1, `one message for the ${status} call: ${got.map(({ m }) => m.raw).join('\n')}`);
    assert.equal(got[0].rec.status, status);
    assert.equal(got[0].m.severity, SEVERITY[status], `severity of ${status}`);
  }
  // every record the gateway made reached the receiver, each once, in order
  const seqs = rcv.messages.map((m) => Number(m.sd['mcpgw@32473'].seq));
  assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
  await gw.stop();
  gw = null;
}

test('tcp: allowed, denied and unauthenticated calls each send one RFC 5424 message, octet-counted',
  withGatewayLog(() => allowedDeniedUnauthenticated('tcp'), () => gw));

test('udp: allowed, denied and unauthenticated calls each send one RFC 5424 datagram',
  withGatewayLog(() => allowedDeniedUnauthenticated('udp'), () => gw));

test('tcp: a receiver restarted mid-run gets the records made while it was down, none missing',
  withGatewayLog(async () => {
    const rcv = await new SyslogReceiver('tcp').start();
    receivers.push(rcv);
    let key;
    ({ gw, key } = await gatewayTo(rcv, 'tcp'));
    const pid = gw.proc.pid;
    const client = await bearerClient(gw.url, key);
    // distinct records: a batch sent again after the restart may repeat some
    const okRecords = () => new Map(callsOf(rcv.messages, pid, (r) => r.tool_name === 'nt__ok')
      .map(({ rec }) => [rec.seq, rec]));
    try {
      await client.callTool({ name: 'nt__ok', arguments: {} });
      await rcv.waitFor(() => okRecords().size === 1);
      await rcv.stop();
      // while the only durable sink is down, calls are refused naming it
      // (audit.on_failure: refuse), and each is still recorded
      for (let i = 0; i < 3; i++) {
        const e = await client.callTool({ name: 'nt__ok', arguments: {} }).then(() => null, (x) => x);
        assert.ok(e, 'a call while the receiver is down is refused');
        assert.equal(e.code, -32031);
        assert.match(e.message, new RegExp(`audit sink syslog unavailable: tcp ${rcv.address()}: `));
      }
      assert.equal(okRecords().size, 1, 'nothing reached a stopped receiver');
      await rcv.start();
      await rcv.waitFor(() => okRecords().size === 4, 30000, 'the records made while the receiver was down');
      // the first was answered before the outage; how the three refusals are
      // classified (status) is the record stage's business, not the sink's
      assert.equal([...okRecords().values()][0].status, 'success');
      // and once they are in, calls go through again
      for (let i = 0; ; i++) {
        const e = await client.callTool({ name: 'nt__ok', arguments: {} }).then(() => null, (x) => x);
        if (!e) break;
        assert.equal(e.code, -32031);
        assert.ok(i < 50, 'calls are accepted again');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally { await client.close(); }
    assert.deepEqual(rcv.errors, []);
    assert.ok(rcv.connections >= 2, 'the gateway connected again');
    // duplicates are allowed (docs/audit.md); gaps are not
    const seqs = [...new Set(rcv.messages.map((m) => Number(m.sd['mcpgw@32473'].seq)))].sort((a, b) => a - b);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
    await gw.stop();
    gw = null;
  }, () => gw));
