// The known HTTP/2 attacks against a real `halb run` (h2c), sent by a raw-frame client
// (h2-raw-client.ts) over a plain socket: each connection is closed (or its streams refused)
// with the error code asserted here, no request reaches the server, the close is counted in
// halb_frontend_h2_closed_connections_total, and halb goes on serving another client.
//
// Who answers what (see proxy/h2/h2-frontend.ts):
// - rapid reset paced over many reads: halb's reset budget, GOAWAY ENHANCE_YOUR_CALM;
// - rapid reset in one burst: node refuses the streams over max_concurrent_streams (the reset
//   ones are not yet reaped) and closes the connection with GOAWAY INTERNAL_ERROR;
// - CONTINUATION flood: nghttp2's cap on CONTINUATION frames, GOAWAY INTERNAL_ERROR;
// - HPACK bomb: node's header list limit, RST_STREAM ENHANCE_YOUR_CALM on each such stream;
// - PING and SETTINGS floods by a client that never reads: nghttp2's flood detection closes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { RawH2Client, frame, FRAME, FLAG, H2_ERROR, getBlock, literal, indexedLiteral, indexed, ping, settings, rstStream } from './h2-raw-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-h2-floods-'));
let halb: HalbProcess | undefined;
let backend: http.Server;
/** Requests the server received. */
let received = 0;
let port = 0;
let adminPort = 0;

before(async () => {
  backend = http.createServer((req, res) => {
    received++;
    req.resume();
    res.end('ok\n');
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const bport = (backend.address() as { port: number }).port;
  [port, adminPort] = [await freePort(), await freePort()];
  const file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, `global: { workers: 1, admin: { listen: "127.0.0.1:${adminPort}", read_only_open: true } }
frontends:
  web:
    bind: ["127.0.0.1:${port}"]
    mode: http
    default_backend: app
    h2c: true
    h2: { max_resets: 100 }
backends:
  app: { servers: [ { name: a, address: "127.0.0.1:${bport}" } ] }
`);
});

after(() => {
  halb?.kill('SIGKILL');
  backend?.closeAllConnections();
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connection whose SETTINGS exchange is over (the server's limits are in force). */
async function connected(): Promise<RawH2Client> {
  const c = await RawH2Client.connect(port);
  const deadline = Date.now() + 2000;
  while (!c.frames.some((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) !== 0) && Date.now() < deadline) await sleep(5);
  await sleep(20);
  return c;
}

/** Another client, served as ever. */
async function stillServes(): Promise<void> {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  s.on('error', () => undefined);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = s.request({ ':path': '/other' });
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.resume();
    });
    assert.equal(status, 200);
  } finally {
    s.close();
  }
}

async function closedCount(reason: string): Promise<number> {
  // the traffic counters reach the admin API within a second
  await sleep(1200);
  const text = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: adminPort, path: '/metrics' }, (r) => {
        let b = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (b += d));
        r.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
  const m = new RegExp(`^halb_frontend_h2_closed_connections_total\\{frontend="web",reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

test('rapid reset over many reads (CVE-2023-44487): past max_resets the connection gets GOAWAY ENHANCE_YOUR_CALM; no stream reached the server', async () => {
  const c = await connected();
  const before = received;
  // 10 HEADERS + RST_STREAM pairs per write, a write every 2 ms, bounded at 1000 streams
  let id = 1;
  for (let w = 0; w < 100 && !c.socket.destroyed && c.goaway() === undefined; w++) {
    const parts: Buffer[] = [];
    for (let i = 0; i < 10; i++, id += 2) parts.push(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, getBlock('/rr')), rstStream(id, H2_ERROR.CANCEL));
    c.send(Buffer.concat(parts));
    await sleep(2);
  }
  assert.equal(await c.closed(), true, 'the connection was closed');
  assert.equal(c.goaway()?.code, H2_ERROR.ENHANCE_YOUR_CALM);
  assert.equal(received, before, 'no request reached the server');
  await halb!.waitFor((l) => l.msg === 'HTTP/2 client reset too many streams (rapid reset): connection closed');
  assert.equal(await closedCount('rapid-reset'), 1);
  await stillServes();
});

test('rapid reset in one burst: node refuses the streams beyond max_concurrent_streams and closes with GOAWAY INTERNAL_ERROR; nothing reached the server', async () => {
  const c = await connected();
  const before = received;
  const parts: Buffer[] = [];
  for (let i = 0; i < 500; i++) parts.push(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1 + 2 * i, getBlock('/burst')), rstStream(1 + 2 * i));
  c.send(Buffer.concat(parts));
  assert.equal(await c.closed(), true);
  assert.equal(c.goaway()?.code, H2_ERROR.INTERNAL_ERROR);
  assert.equal(received, before);
  await stillServes();
});

test('CONTINUATION flood: one header block that never ends is cut off with GOAWAY INTERNAL_ERROR (nghttp2 caps its CONTINUATION frames)', async () => {
  const c = await connected();
  const before = received;
  const parts = [frame(FRAME.HEADERS, 0, 1, getBlock('/cont'))];
  for (let i = 0; i < 2000; i++) parts.push(frame(FRAME.CONTINUATION, 0, 1, literal(`x-c${i}`, 'y'.repeat(16))));
  c.send(Buffer.concat(parts));
  assert.equal(await c.closed(), true);
  assert.equal(c.goaway()?.code, H2_ERROR.INTERNAL_ERROR);
  assert.equal(received, before);
  await halb!.waitFor((l) => l.msg === 'HTTP/2 connection closed' && l.reason === 'continuation-flood');
  assert.equal(await closedCount('continuation-flood'), 1);
  await stillServes();
});

test('HPACK bomb: a 4 KB table entry referenced 100 times per stream decodes far over max_header_list_size; each such stream is reset ENHANCE_YOUR_CALM, none reaches the server, the connection serves on', async () => {
  const c = await connected();
  const before = received;
  const parts: Buffer[] = [];
  for (let s = 0; s < 50; s++) {
    const block = [getBlock('/bomb'), s === 0 ? indexedLiteral('x-bomb', 'b'.repeat(4000)) : indexed(62)];
    for (let i = 0; i < 100; i++) block.push(indexed(62));
    parts.push(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1 + 2 * s, Buffer.concat(block)));
  }
  c.send(Buffer.concat(parts));
  const deadline = Date.now() + 5000;
  const resets = (): number => c.frames.filter((f) => f.type === FRAME.RST_STREAM).length;
  while (resets() < 50 && Date.now() < deadline) await sleep(10);
  const codes = new Set(c.frames.filter((f) => f.type === FRAME.RST_STREAM).map((f) => f.payload.readUInt32BE(0)));
  assert.equal(resets(), 50, 'every bomb stream was reset');
  assert.deepEqual([...codes], [H2_ERROR.ENHANCE_YOUR_CALM]);
  assert.equal(received, before, 'no bomb reached the server');
  // the same connection still takes an ordinary request (its HPACK state is intact)
  c.send(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 101, getBlock('/after-bomb')));
  while (!c.frames.some((f) => f.type === FRAME.HEADERS && f.stream === 101) && Date.now() < deadline) await sleep(10);
  assert.ok(c.frames.some((f) => f.type === FRAME.HEADERS && f.stream === 101), 'answered on the same connection');
  c.destroy();
  await stillServes();
});

for (const kind of ['PING', 'SETTINGS'] as const) {
  test(`${kind} flood from a client that never reads: nghttp2 detects the flood of unsent ACKs and the connection is closed`, async () => {
    const c = await connected();
    const before = received;
    c.stopReading();
    const one = kind === 'PING' ? (i: number) => ping(i) : () => settings([[4, 65535]]);
    // 100k frames in 1000-frame writes, bounded in time
    const until = Date.now() + 5000;
    for (let w = 0; w < 100 && Date.now() < until && !c.socket.destroyed; w++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 1000; i++) parts.push(one(w * 1000 + i));
      c.send(Buffer.concat(parts));
      await sleep(1);
    }
    await halb!.waitFor((l) => l.msg === 'HTTP/2 connection closed' && l.reason === 'flood');
    c.socket.resume();
    assert.equal(await c.closed(), true);
    assert.equal(received, before);
    await stillServes();
  });
}

test('the flood closes were counted by reason', async () => {
  assert.equal(await closedCount('flood'), 2);
});
