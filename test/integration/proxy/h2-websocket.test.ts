// WebSocket over HTTP/2 (RFC 8441) through a real `halb run` on loopback: a real WebSocket server
// (the `ws` package, which node_modules holds) behind halb, and node's http2 client sending an
// extended CONNECT once halb's SETTINGS allow it. halb turns the stream into an HTTP/1.1 Upgrade
// request and the 101 into `:status 200`; framed messages go both ways (client frames masked, as
// RFC 6455 wants, written here); a refused upgrade is the stream's answer; either side closing
// ends the other, and a late reader still gets every byte the server sent before it closed;
// backpressure holds the server back while the client does not read; the backend's tunnel
// timeout ends an idle tunnel; a refused connect is retried; a wrong Sec-WebSocket-Accept is a
// 502; the same over TLS (ALPN h2); plain CONNECT and other protocols are 501.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { refusedPort } from '../../helpers/refused-port.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';

/** What of the `ws` package this test uses (it ships no types, and is not one of halb's). */
interface WsSocket {
  readonly protocol: string;
  readonly bufferedAmount: number;
  send(data: string | Buffer, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', cb: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'close', cb: (code: number) => void): void;
}
interface WsServerOptions {
  server: http.Server;
  verifyClient(info: { req: http.IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void): void;
  handleProtocols(protocols: Set<string>): string | false;
}
interface WsServer {
  on(event: 'connection', cb: (ws: WsSocket, req: http.IncomingMessage) => void): void;
  close(): void;
}
const { WebSocketServer } = createRequire(import.meta.url)('ws') as { WebSocketServer: new (o: WsServerOptions) => WsServer };

const dir = mkdtempSync(join(tmpdir(), 'halb-h2-ws-'));
let halb: HalbProcess | undefined;
let backend: http.Server | undefined;
let wss: WsServer | undefined;
/** A hand-written upgrade server: /burst gets a proper 101, 4 MiB in one frame and the connection
 *  closed at once; anything else a 101 whose Sec-WebSocket-Accept is not the key's. */
let liar: http.Server | undefined;
let port = 0;
let idlePort = 0;
let liarPort = 0;
let flakyPort = 0;
let tlsPort = 0;
let ca: TestCa;
const BURST = randomBytes(4 * 1024 * 1024);
/** Server side of each accepted WebSocket, by the path it was opened with. */
const accepted = new Map<string, { ws: WsSocket; req: http.IncomingMessage; closed: Promise<number> }>();

before(async () => {
  backend = http.createServer((_req, res) => res.end('plain'));
  wss = new WebSocketServer({
    server: backend,
    verifyClient: (info, cb) => (info.req.url === '/forbidden' ? cb(false, 403, 'Forbidden') : cb(true)),
    handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false),
  });
  wss.on('connection', (ws, req) => {
    const closed = new Promise<number>((resolve) => ws.on('close', resolve));
    accepted.set(req.url ?? '', { ws, req, closed });
    ws.send('hello from the server');
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'bye') ws.close(1000, 'done');
      else if (!isBinary && data.toString().startsWith('flood ')) {
        // that many 64 KiB messages, queued at once: bufferedAmount is what the socket has yet to take
        for (let i = Number(data.toString().slice(6)); i > 0; i--) ws.send(Buffer.alloc(65536, i & 0xff));
      }
      else ws.send(isBinary ? data : `echo: ${data.toString()}`);
    });
  });
  await new Promise<void>((r) => backend!.listen(0, '127.0.0.1', r));
  const bport = (backend.address() as { port: number }).port;
  liar = http.createServer((_req, res) => res.end('plain'));
  liar.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    if (req.url !== '/burst') {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const head = Buffer.alloc(10);
    head[0] = 0x82;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(BURST.length), 2);
    socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`), head, BURST]));
  });
  await new Promise<void>((r) => liar!.listen(0, '127.0.0.1', r));
  const lport = (liar.address() as { port: number }).port;
  const dead = await refusedPort();
  [port, idlePort, liarPort, flakyPort, tlsPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  ca = makeCa(dir);
  const crt = makeLeaf(ca, 'ws', { names: ['ws.test'], key: 'ec' });
  halb = await runHalbWith(
    join(dir, 'halb.yaml'),
    `global: { workers: 1 }
frontends:
  ws:
    bind: ["127.0.0.1:${port}"]
    mode: http
    default_backend: app
    forwardfor: true
    h2c: true
  idle:
    bind: ["127.0.0.1:${idlePort}"]
    mode: http
    default_backend: idle
    h2c: true
  liar:
    bind: ["127.0.0.1:${liarPort}"]
    mode: http
    default_backend: liar
    h2c: true
  tls:
    bind: ["127.0.0.1:${tlsPort}"]
    mode: http
    default_backend: app
    forwardfor: true
    tls: { crt: ${crt}, alpn: [h2, http/1.1] }
  flaky:
    bind: ["127.0.0.1:${flakyPort}"]
    mode: http
    default_backend: flaky
    h2c: true
backends:
  flaky:
    balance: roundrobin
    retries: 2
    servers:
      - { name: dead, address: "127.0.0.1:${dead}" }
      - { name: ws1, address: "127.0.0.1:${bport}" }
  liar:
    servers:
      - { name: liar1, address: "127.0.0.1:${lport}" }
  app:
    servers:
      - { name: ws1, address: "127.0.0.1:${bport}" }
  idle:
    timeouts: { tunnel: 1s }
    servers:
      - { name: ws1, address: "127.0.0.1:${bport}" }
`,
  );
});

after(async () => {
  halb?.kill('SIGKILL');
  wss?.close();
  backend?.closeAllConnections();
  await new Promise<void>((r) => (backend === undefined ? r() : backend.close(() => r())));
  liar?.closeAllConnections();
  liar?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An h2c session to halb (h2 over TLS with `tls`), once its SETTINGS arrived. */
async function connect(p = port, tls = false): Promise<http2.ClientHttp2Session> {
  const session = tls ? http2.connect(`https://127.0.0.1:${p}`, { ca: ca.ca, servername: 'ws.test' }) : http2.connect(`http://127.0.0.1:${p}`);
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** A masked client frame (RFC 6455 §5.2). */
function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

const text = (s: string): Buffer => frame(1, Buffer.from(s));

interface Message {
  opcode: number;
  payload: Buffer;
}

/** The server's (unmasked) frames as they come off a stream. */
class FrameReader {
  /** Bytes not yet parsed, joined only once the frame they start is complete. */
  private chunks: Buffer[] = [];
  private length = 0;
  private need = 2;
  private readonly queue: Message[] = [];
  private waiter: (() => void) | undefined;
  ended = false;

  constructor(stream: http2.ClientHttp2Stream) {
    stream.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.length += d.length;
      if (this.length >= this.need) this.parse();
    });
    stream.on('end', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  private parse(): void {
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    for (;;) {
      this.need = 2;
      if (buf.length < 2) break;
      let len = buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        this.need = 4;
        if (buf.length < 4) break;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        this.need = 10;
        if (buf.length < 10) break;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      this.need = at + len;
      if (buf.length < at + len) break;
      this.queue.push({ opcode: buf[0]! & 0x0f, payload: buf.subarray(at, at + len) });
      buf = buf.subarray(at + len);
      this.waiter?.();
    }
    this.chunks = [buf];
    this.length = buf.length;
  }

  async next(timeoutMs = 5000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.ended) throw new Error('stream ended before a message');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no message in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.queue.shift()!;
  }
}

/** Opens an extended CONNECT stream for `path`; resolves with its response headers. */
async function open(session: http2.ClientHttp2Session, path: string, extra: http2.OutgoingHttpHeaders = {}): Promise<{ stream: http2.ClientHttp2Stream; headers: http2.IncomingHttpHeaders; frames: FrameReader }> {
  const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': path, ':authority': 'ws.test', 'sec-websocket-version': '13', ...extra }, { endStream: false });
  stream.on('error', () => undefined);
  const frames = new FrameReader(stream);
  const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('close', () => reject(new Error(`stream closed before a response (rst ${stream.rstCode})`)));
  });
  return { stream, headers, frames };
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('halb announces SETTINGS_ENABLE_CONNECT_PROTOCOL', async () => {
  const session = await connect();
  try {
    assert.equal(session.remoteSettings.enableConnectProtocol, true);
  } finally {
    session.close();
  }
});

test('extended CONNECT: 101 becomes :status 200, messages both ways, the server sees an HTTP/1.1 upgrade', async () => {
  const session = await connect();
  try {
    const t0 = performance.now();
    const { stream, headers, frames } = await open(session, '/echo', { 'sec-websocket-protocol': 'chat, other', origin: 'http://ws.test' });
    console.log(`# extended CONNECT to :status 200 in ${(performance.now() - t0).toFixed(1)} ms`);
    assert.equal(headers[':status'], 200);
    assert.equal(headers['sec-websocket-protocol'], 'chat');
    assert.equal(headers['sec-websocket-accept'], undefined, 'the 101 key exchange is halb\'s, not the client\'s');
    assert.equal(headers.upgrade, undefined);
    const hello = await frames.next();
    assert.deepEqual([hello.opcode, hello.payload.toString()], [1, 'hello from the server']);
    for (let i = 0; i < 20; i++) {
      stream.write(text(`message ${i}`));
      const m = await frames.next();
      assert.equal(m.payload.toString(), `echo: message ${i}`);
    }
    // a binary message over several DATA frames and server writes
    const big = randomBytes(300_000);
    const t1 = performance.now();
    stream.write(frame(2, big));
    const back = await frames.next();
    console.log(`# 300 kB binary message round trip in ${(performance.now() - t1).toFixed(1)} ms`);
    assert.equal(back.opcode, 2);
    assert.ok(back.payload.equals(big));
    const server = accepted.get('/echo')!;
    assert.equal(server.ws.protocol, 'chat');
    const h = server.req.headers;
    assert.equal(server.req.method, 'GET');
    assert.equal(h.host, 'ws.test');
    assert.equal(h.upgrade, 'websocket');
    assert.match(String(h.connection), /upgrade/i);
    assert.equal(h['sec-websocket-version'], '13');
    assert.match(String(h['sec-websocket-key']), /^[A-Za-z0-9+/]{22}==$/);
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h.origin, 'http://ws.test');
    // the client closes the WebSocket: the server answers the close and ends, so does the stream
    stream.write(text('bye'));
    const close = await frames.next();
    assert.equal(close.opcode, 8);
    assert.equal(close.payload.readUInt16BE(0), 1000);
    // the client's close frame ends the closing handshake; then its half of the stream
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1000);
    stream.end(frame(8, code));
    await until('the stream to close', () => stream.closed);
    assert.equal(await server.closed, 1000);
    const line = await halb!.waitFor((l) => l.type === 'access' && l.url === '/echo');
    assert.equal(line.method, 'GET');
    assert.equal(line.status, 101);
    assert.equal(line.proto, 'h2');
    assert.equal(line.backend, 'app');
    assert.equal(line.server, 'ws1');
    assert.ok(Number(line.bytesIn) > 300_000 && Number(line.bytesOut) > 300_000, JSON.stringify(line));
  } finally {
    session.close();
  }
});

test('a server refusing the upgrade: its 403 is the stream\'s answer, the connection serves on', async () => {
  const session = await connect();
  try {
    const { stream, headers } = await open(session, '/forbidden');
    assert.equal(headers[':status'], 403);
    const body: Buffer[] = [];
    stream.on('data', (d: Buffer) => body.push(d));
    await new Promise<void>((r) => stream.once('end', r));
    assert.match(Buffer.concat(body).toString(), /Forbidden/);
    await until('the refused stream to close', () => stream.closed);
    assert.equal(stream.rstCode, http2.constants.NGHTTP2_NO_ERROR);
    const line = await halb!.waitFor((l) => l.type === 'access' && l.url === '/forbidden');
    assert.equal(line.status, 403);
    // the same connection: a WebSocket opens next to it
    const ok = await open(session, '/after-refusal');
    assert.equal(ok.headers[':status'], 200);
    assert.equal((await ok.frames.next()).payload.toString(), 'hello from the server');
    ok.stream.close();
  } finally {
    session.close();
  }
});

test('the client resetting the stream closes the server connection', async () => {
  const session = await connect();
  try {
    const { stream, headers, frames } = await open(session, '/client-reset');
    assert.equal(headers[':status'], 200);
    await frames.next();
    const t0 = performance.now();
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const code = await accepted.get('/client-reset')!.closed;
    console.log(`# client RST_STREAM to server close in ${(performance.now() - t0).toFixed(1)} ms`);
    // no close frame came: the connection was closed under the WebSocket (1006)
    assert.equal(code, 1006);
  } finally {
    session.close();
  }
});

test('the server dropping the connection ends the stream', async () => {
  const session = await connect();
  try {
    const { stream, headers, frames } = await open(session, '/server-drop');
    assert.equal(headers[':status'], 200);
    await frames.next();
    const ended = new Promise<void>((r) => stream.once('end', r));
    const t0 = performance.now();
    accepted.get('/server-drop')!.ws.terminate();
    await ended;
    console.log(`# server close to END_STREAM in ${(performance.now() - t0).toFixed(1)} ms`);
    // the client's half too: halb resets the stream with NO_ERROR once its last DATA is out
    await until('the stream to close', () => stream.closed);
    assert.equal(stream.rstCode, http2.constants.NGHTTP2_NO_ERROR);
  } finally {
    session.close();
  }
});

test('backpressure: a client that does not read holds the server back; nothing is lost', async () => {
  const session = await connect();
  try {
    const { stream, headers, frames } = await open(session, '/flood');
    assert.equal(headers[':status'], 200);
    await frames.next();
    const count = 512;
    const size = count * 65536;
    stream.pause();
    stream.write(text(`flood ${count}`));
    const server = accepted.get('/flood')!;
    await until('the server to start sending', () => server.ws.bufferedAmount > 0);
    await new Promise((r) => setTimeout(r, 1000));
    // halb reads from the server only as fast as the client takes DATA (flow control): most of
    // the message is still waiting on the server's side
    const waiting = server.ws.bufferedAmount;
    console.log(`# client not reading for 1 s: ${(waiting / 1048576).toFixed(1)} of ${size / 1048576} MiB still queued at the server`);
    assert.ok(waiting > size / 2, `server queue ${waiting}`);
    const t0 = performance.now();
    stream.resume();
    for (let i = count; i > 0; i--) {
      const m = await frames.next(30_000);
      assert.equal(m.payload.length, 65536);
      assert.ok(m.payload[0] === (i & 0xff) && m.payload[65535] === (i & 0xff), `message ${count - i} out of order or damaged`);
    }
    console.log(`# then ${size / 1048576} MiB delivered in ${(performance.now() - t0).toFixed(0)} ms`);
    stream.close();
  } finally {
    session.close();
  }
});

test('an idle tunnel ends after the backend\'s tunnel timeout', async () => {
  const session = await connect(idlePort);
  try {
    const { headers, frames, stream } = await open(session, '/idle');
    assert.equal(headers[':status'], 200);
    await frames.next();
    const t0 = performance.now();
    await until('the idle tunnel to close', () => stream.closed, 10_000);
    const ms = performance.now() - t0;
    console.log(`# idle tunnel closed after ${ms.toFixed(0)} ms (tunnel timeout 1s)`);
    assert.ok(ms >= 900, `closed after ${ms} ms`);
    const line = await halb!.waitFor((l) => l.type === 'access' && l.url === '/idle');
    assert.match(String(line.termination), /timeout/);
  } finally {
    session.close();
  }
});

test('plain CONNECT and protocols other than websocket: 501, and no server hears of them', async () => {
  const session = await connect();
  try {
    const before = accepted.size;
    const plain = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
    plain.on('error', () => undefined);
    const ph = await new Promise<http2.IncomingHttpHeaders>((r) => plain.once('response', r));
    assert.equal(ph[':status'], 501);
    plain.close();
    const other = session.request({ ':method': 'CONNECT', ':protocol': 'connect-udp', ':scheme': 'http', ':path': '/', ':authority': 'ws.test' });
    other.on('error', () => undefined);
    const oh = await new Promise<http2.IncomingHttpHeaders>((r) => other.once('response', r));
    assert.equal(oh[':status'], 501);
    other.close();
    assert.equal(accepted.size, before);
  } finally {
    session.close();
  }
});

test('a 101 whose Sec-WebSocket-Accept does not match halb\'s key is a 502', async () => {
  const session = await connect(liarPort);
  try {
    const { headers } = await open(session, '/liar');
    assert.equal(headers[':status'], 502);
    const line = await halb!.waitFor((l) => l.type === 'access' && l.url === '/liar');
    assert.equal(line.termination, 'bad-response');
  } finally {
    session.close();
  }
});

test('extended CONNECT without Sec-WebSocket-Version: 400, as the HTTP/1.1 upgrade', async () => {
  const session = await connect();
  try {
    const n = accepted.size;
    const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/no-version', ':authority': 'ws.test' }, { endStream: false });
    stream.on('error', () => undefined);
    const h = await new Promise<http2.IncomingHttpHeaders>((r) => stream.once('response', r));
    assert.equal(h[':status'], 400);
    stream.close();
    assert.equal(accepted.size, n);
  } finally {
    session.close();
  }
});

test('a server that refuses the connection: the tunnel retries on the next one, as on HTTP/1.1', async () => {
  const session = await connect(flakyPort);
  try {
    for (const path of ['/flaky-1', '/flaky-2']) {
      const { stream, headers, frames } = await open(session, path);
      assert.equal(headers[':status'], 200, path);
      assert.equal((await frames.next()).payload.toString(), 'hello from the server');
      stream.close();
    }
    const lines = await Promise.all(['/flaky-1', '/flaky-2'].map((u) => halb!.waitFor((l) => l.type === 'access' && l.url === u)));
    // round robin over [dead, ws1]: at least one of the two went to dead first, and was retried
    assert.deepEqual(lines.map((l) => l.server), ['ws1', 'ws1']);
    assert.ok(lines.reduce((n, l) => n + Number(l.retries), 0) >= 1, JSON.stringify(lines));
  } finally {
    session.close();
  }
});

test('the server sending its last bytes and closing at once: the client that reads late gets them all, then the end', async () => {
  const session = await connect(liarPort);
  try {
    const { stream, headers, frames } = await open(session, '/burst');
    assert.equal(headers[':status'], 200);
    stream.pause();
    await new Promise((r) => setTimeout(r, 1000));
    stream.resume();
    const m = await frames.next(30_000);
    assert.ok(m.payload.equals(BURST), `got ${m.payload.length} of ${BURST.length} bytes`);
    await until('the stream to close', () => stream.closed);
    assert.ok(frames.ended, 'END_STREAM before the reset');
  } finally {
    session.close();
  }
});

test('over TLS (ALPN h2): the server is told https, the access line has the TLS facts', async () => {
  const session = await connect(tlsPort, true);
  try {
    assert.equal(session.remoteSettings.enableConnectProtocol, true);
    const { stream, headers, frames } = await open(session, '/tls', { ':scheme': 'https' });
    assert.equal(headers[':status'], 200);
    assert.equal((await frames.next()).payload.toString(), 'hello from the server');
    stream.write(text('over tls'));
    assert.equal((await frames.next()).payload.toString(), 'echo: over tls');
    assert.equal(accepted.get('/tls')!.req.headers['x-forwarded-proto'], 'https');
    stream.close();
    const line = await halb!.waitFor((l) => l.type === 'access' && l.url === '/tls');
    assert.equal((line.tls as { alpn?: string } | undefined)?.alpn, 'h2');
  } finally {
    session.close();
  }
});
