// A syslog receiver for the tests: TCP with RFC 6587 octet counting
// ("LEN SP MSG", frames split anywhere across reads) or UDP (one message per
// datagram). Every message is parsed as RFC 5424 (header, structured data,
// MSG); what does not parse lands in `errors`, so a test can assert none.
import net from 'node:net';
import dgram from 'node:dgram';

const PRINTUSASCII = /^[\x21-\x7e]+$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_FRAME = 1 << 20;

function field(s, pos, name, max) {
  const sp = s.indexOf(' ', pos);
  if (sp < 0) throw new Error(`${name}: no space after it`);
  const v = s.slice(pos, sp);
  if (!PRINTUSASCII.test(v) || v.length > max) throw new Error(`${name}: bad value '${v}'`);
  return [v, sp + 1];
}

// SD-ELEMENTs from pos: [[id, {name: value}], ...] and the position after.
function structuredData(s, pos) {
  const sd = [];
  if (s[pos] === '-') return [sd, pos + 1];
  while (s[pos] === '[') {
    const idEnd = s.slice(pos + 1).search(/[ \]]/) + pos + 1;
    const id = s.slice(pos + 1, idEnd);
    if (!/^[\x21-\x7e]{1,32}$/.test(id) || /[="\]]/.test(id)) throw new Error(`SD-ID: bad '${id}'`);
    const params = {};
    pos = idEnd;
    while (s[pos] === ' ') {
      const eq = s.indexOf('="', pos);
      if (eq < 0) throw new Error('SD-PARAM: no ="');
      const name = s.slice(pos + 1, eq);
      if (!/^[\x21-\x7e]{1,32}$/.test(name) || /[="\] ]/.test(name)) throw new Error(`PARAM-NAME: bad '${name}'`);
      let v = '';
      let i = eq + 2;
      for (; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === '\\' && '"\\]'.includes(s[i + 1])) i++;
        v += s[i];
      }
      if (i >= s.length) throw new Error('SD-PARAM: unterminated value');
      params[name] = v;
      pos = i + 1;
    }
    if (s[pos] !== ']') throw new Error('SD-ELEMENT: no ]');
    sd.push([id, params]);
    pos++;
  }
  if (sd.length === 0) throw new Error('STRUCTURED-DATA: neither - nor [');
  return [sd, pos];
}

// One RFC 5424 message (a Buffer) -> { pri, facility, severity, version,
// timestamp, hostname, appName, procId, msgId, sd: {id: params}, msg, raw }.
export function parseRfc5424(buf) {
  const s = buf.toString('utf8');
  const m = /^<(\d{1,3})>(\d{1,2}) /.exec(s);
  if (!m || Number(m[1]) > 191 || (m[1].length > 1 && m[1][0] === '0')) throw new Error('PRI VERSION: bad');
  let pos = m[0].length;
  let timestamp, hostname, appName, procId, msgId;
  [timestamp, pos] = field(s, pos, 'TIMESTAMP', 32);
  if (timestamp !== '-' && !TIMESTAMP.test(timestamp)) throw new Error(`TIMESTAMP: bad '${timestamp}'`);
  [hostname, pos] = field(s, pos, 'HOSTNAME', 255);
  [appName, pos] = field(s, pos, 'APP-NAME', 48);
  [procId, pos] = field(s, pos, 'PROCID', 128);
  [msgId, pos] = field(s, pos, 'MSGID', 32);
  const [sdList, after] = structuredData(s, pos);
  let msg = null;
  if (after < s.length) {
    if (s[after] !== ' ') throw new Error('MSG: no space before it');
    // MSG as bytes: it may be cut anywhere a UTF-8 decoder would complain
    msg = buf.subarray(Buffer.byteLength(s.slice(0, after + 1))).toString('utf8');
  }
  const pri = Number(m[1]);
  return {
    pri, facility: pri >> 3, severity: pri & 7, version: Number(m[2]), timestamp, hostname,
    appName, procId, msgId, sd: Object.fromEntries(sdList), msg, raw: s,
  };
}

export class SyslogReceiver {
  // protocol: 'tcp' or 'udp'; port: 0 for a free one (then reuse it on restart)
  constructor(protocol = 'tcp') {
    this.protocol = protocol;
    this.port = 0;
    this.messages = [];
    this.errors = [];
    this.connections = 0;
    this.server = null;
    this.sockets = new Set();
    this.waiters = [];
  }

  address() { return `127.0.0.1:${this.port}`; }

  async start(port = this.port) {
    if (this.protocol === 'udp') {
      this.server = dgram.createSocket('udp4');
      this.server.on('message', (b) => this.accept(b));
      await new Promise((res, rej) => { this.server.once('error', rej); this.server.bind(port, '127.0.0.1', res); });
    } else {
      this.server = net.createServer((sock) => this.stream(sock));
      await new Promise((res, rej) => { this.server.once('error', rej); this.server.listen(port, '127.0.0.1', res); });
    }
    this.port = this.server.address().port;
    return this;
  }

  // Close the listener and every connection (the gateway sees its stream end).
  async stop() {
    if (!this.server) return;
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise((res) => server.close(() => res()));
  }

  stream(sock) {
    this.connections++;
    this.sockets.add(sock);
    let pending = Buffer.alloc(0);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const sp = pending.indexOf(0x20);
        if (sp < 0) {
          if (pending.length > 8) this.fail(new Error('octet counting: no length'), sock);
          return;
        }
        const len = pending.subarray(0, sp).toString('latin1');
        if (!/^[1-9]\d{0,7}$/.test(len) || Number(len) > MAX_FRAME) {
          this.fail(new Error(`octet counting: bad length '${len.slice(0, 16)}'`), sock);
          return;
        }
        if (pending.length < sp + 1 + Number(len)) return;
        this.accept(pending.subarray(sp + 1, sp + 1 + Number(len)));
        pending = pending.subarray(sp + 1 + Number(len));
      }
    });
  }

  fail(e, sock) {
    this.errors.push(e.message);
    sock.destroy();
  }

  accept(buf) {
    try {
      this.messages.push(parseRfc5424(Buffer.from(buf)));
    } catch (e) {
      this.errors.push(`${e.message}: ${Buffer.from(buf).toString('utf8').slice(0, 200)}`);
    }
    this.waiters = this.waiters.filter((w) => !w());
  }

  // Resolves with the messages once pred(messages) holds; rejects after ms
  // or when pred throws.
  waitFor(pred, ms = 10000, what = 'syslog messages') {
    return new Promise((res, rej) => {
      // true once settled: a predicate that throws (a failed assertion on
      // a message) rejects the wait instead of escaping a socket handler
      const check = () => {
        try {
          if (!pred(this.messages)) return false;
          res(this.messages);
        } catch (e) {
          rej(e);
        }
        clearTimeout(t);
        return true;
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        rej(new Error(`timed out waiting for ${what}: have ${this.messages.length}, errors ${JSON.stringify(this.errors)}`));
      }, ms);
      if (!check()) this.waiters.push(check);
    });
  }
}
