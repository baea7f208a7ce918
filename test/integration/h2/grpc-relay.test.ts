// The h2 relay with real peers on loopback: a grpc-js client -> a node http2 server whose 'stream'
// handler calls relayH2Stream (standing in for halb's h2 frontend) -> the upstream h2 pool ->
// real grpc-js servers (test/helpers/grpc-servers.ts), over h2c and over TLS. And raw node http2
// peers for what gRPC does not show: RST_STREAM codes both ways, the server's stream limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import grpc from '@grpc/grpc-js';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import type { BackendConfig, BackendTlsConfig } from '../../../src/config/types.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { UpstreamH2Pool } from '../../../src/proxy/h2/upstream-h2-pool.ts';
import { relayH2Stream, type H2RelayResult } from '../../../src/proxy/h2/h2-stream-relay.ts';
import { EchoService, startGrpcServer, type TestGrpcServer } from '../../helpers/grpc-servers.ts';
import { makeCa, makeLeaf } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-h2-relay-'));
const upstream = new UpstreamH2Pool({ idleTimeoutMs: 60_000 });
const fronts: http2.Http2Server[] = [];
const pools: BackendPool[] = [];
const grpcServers: TestGrpcServer[] = [];
const clients: grpc.Client[] = [];
/** What each relayed stream came to, last first. */
const results: H2RelayResult[] = [];

function backend(name: string, ports: number[], extra: Partial<BackendConfig> = {}): BackendPool {
  const cfg: BackendConfig = {
    name,
    mode: 'http',
    proto: 'h2',
    balance: { algorithm: 'roundrobin' },
    passive: { errorLimit: 0 },
    servers: ports.map((port, i) => ({ name: `${name}${i + 1}`, host: '127.0.0.1', port, weight: 1, backup: false, disabled: false, drain: false, check: false })),
    retries: 2,
    redispatch: true,
    timeouts: { connect: 2000, client: 10_000, server: 10_000, httpRequest: 10_000, httpKeepAlive: 10_000, queue: 2000, tunnel: 10_000 },
    stickSource: false,
    pipeline: 1,
    peerFallback: false,
    ...extra,
  };
  const pool = new BackendPool(cfg, { log: silentLogger() });
  pools.push(pool);
  return pool;
}

/** The stand-in h2 frontend: every stream relayed to `pool`. */
async function front(pool: BackendPool): Promise<number> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    void relayH2Stream(stream, headers, pool, { upstream, log: silentLogger() }, { sourceIp: '127.0.0.1', extraHeaders: { 'x-forwarded-for': '127.0.0.1' } }).then((r) => results.unshift(r));
  });
  fronts.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

interface EchoClient extends grpc.Client {
  Say(req: { text: string }, cb: (err: grpc.ServiceError | null, res?: { text: string; server: string }) => void): grpc.ClientUnaryCall;
  Chat(): grpc.ClientDuplexStream<{ text: string }, { text: string; server: string }>;
}

function echoClient(port: number): EchoClient {
  const c = new EchoService(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  clients.push(c);
  return c;
}

interface SayResult {
  err: grpc.ServiceError | null;
  res: { text: string; server: string } | undefined;
  trailer: string | undefined;
}

function say(c: EchoClient, text: string): Promise<SayResult> {
  return new Promise((resolve) => {
    let trailer: string | undefined;
    const call = c.Say({ text }, (err, res) => {
      // the status (with trailing metadata) may come just after the callback
      setImmediate(() => resolve({ err, res, trailer }));
    });
    call.on('status', (s: grpc.StatusObject) => (trailer = s.metadata.get('x-served-by')[0]?.toString()));
  });
}

let plainPort = 0;
let s1: TestGrpcServer;
let s2: TestGrpcServer;

before(async () => {
  s1 = await startGrpcServer('s1');
  s2 = await startGrpcServer('s2');
  grpcServers.push(s1, s2);
  plainPort = await front(backend('rpc', [s1.port, s2.port]));
});

after(async () => {
  for (const c of clients) c.close();
  for (const f of fronts) f.close();
  upstream.close();
  for (const p of pools) p.close();
  await Promise.all(grpcServers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

test('unary calls: the answer, its trailers and grpc-status cross the relay; both servers serve on one session each', async () => {
  const c = echoClient(plainPort);
  const served = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = await say(c, `hello ${i}`);
    assert.equal(r.err, null);
    assert.equal(r.res?.text, `hello ${i}`);
    assert.equal(r.trailer, r.res?.server, 'trailing metadata from the server that answered');
    served.add(r.res!.server);
  }
  assert.deepEqual([...served].sort(), ['s1', 's2']);
  assert.equal(upstream.sessionCount(), 2, 'one h2 session per server for six calls');
  assert.equal(results[0]?.grpcStatus, '0');
});

test('a failed unary call: its grpc-status and message arrive (trailers-only answer)', async () => {
  const r = await say(echoClient(plainPort), 'fail');
  assert.equal(r.err?.code, grpc.status.FAILED_PRECONDITION);
  assert.equal(r.err?.details, 'asked to fail');
  assert.equal(results[0]?.grpcStatus, String(grpc.status.FAILED_PRECONDITION));
});

test('bidirectional streaming: messages both ways while the call is open, then status OK with trailers', async () => {
  const call = echoClient(plainPort).Chat();
  const got: string[] = [];
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  // each reply arrives before the next message is sent: the streams really are open both ways
  for (const text of ['one', 'two', 'three']) {
    const reply = new Promise<{ text: string; server: string }>((resolve) => call.once('data', resolve));
    call.write({ text });
    const r = await reply;
    got.push(r.text);
  }
  call.end();
  const s = await status;
  const trailer = s.metadata.get('x-served-by')[0]?.toString();
  assert.deepEqual(got, ['ONE', 'TWO', 'THREE']);
  assert.equal(s.code, grpc.status.OK);
  assert.ok(trailer === 's1' || trailer === 's2', `trailer ${trailer}`);
});

test('a client cancelling a streaming call resets the server stream', async () => {
  const cancelledBefore = s1.calls.cancelled + s2.calls.cancelled;
  const call = echoClient(plainPort).Chat();
  const reply = new Promise((resolve) => call.once('data', resolve));
  call.write({ text: 'x' });
  await reply;
  call.on('error', () => {});
  call.cancel();
  const deadline = Date.now() + 5000;
  while (s1.calls.cancelled + s2.calls.cancelled === cancelledBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(s1.calls.cancelled + s2.calls.cancelled, cancelledBefore + 1, 'the server saw the call cancelled');
});

test('over TLS (ALPN h2, verified with ca_file and SNI): a unary call is served', async () => {
  const ca = makeCa(join(dir, 'ca'));
  const pem = readFileSync(makeLeaf(ca, 'rpc', { names: ['rpc.test'] }), 'utf8');
  const secure = await startGrpcServer('tls1', { tlsPem: pem });
  grpcServers.push(secure);
  const tls: BackendTlsConfig = { verify: 'required', caFile: ca.caFile, sni: 'rpc.test' };
  const port = await front(backend('rpcs', [secure.port], { tls }));
  const r = await say(echoClient(port), 'over tls');
  assert.equal(r.err, null);
  assert.deepEqual(r.res, { text: 'over tls', server: 'tls1' });
  // the same server with a CA that did not sign it: the connect fails, the call is UNAVAILABLE
  const other = makeCa(join(dir, 'other'));
  const bad = await front(backend('rpcbad', [secure.port], { tls: { ...tls, caFile: other.caFile }, retries: 0 }));
  const f = await say(echoClient(bad), 'refused');
  assert.equal(f.err?.code, grpc.status.UNAVAILABLE);
  assert.equal(results[0]?.error, 'connect-error');
});

test('a server stopped: every call goes to the other (connect failures redispatched); restarted, it serves again', async () => {
  const a = await startGrpcServer('a');
  const b = await startGrpcServer('b');
  grpcServers.push(a, b);
  const port = await front(backend('failover', [a.port, b.port]));
  const c = echoClient(port);
  for (let i = 0; i < 2; i++) assert.equal((await say(c, 'warm')).err, null);
  await a.stop();
  const served: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await say(c, `after ${i}`);
    assert.equal(r.err, null, r.err?.message);
    served.push(r.res!.server);
  }
  assert.deepEqual(served, Array(6).fill('b'));
  assert.ok(results.slice(0, 6).some((r) => r.retries > 0), 'some call was redispatched');
  // back on its port: a new session is opened to it on demand, and it serves again
  const again = await startGrpcServer('a-again', { port: a.port });
  grpcServers.push(again);
  const later = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = await say(c, `later ${i}`);
    assert.equal(r.err, null, r.err?.message);
    later.add(r.res!.server);
  }
  assert.deepEqual([...later].sort(), ['a-again', 'b']);
});

test('RST_STREAM codes cross both ways; the server\'s SETTINGS_MAX_CONCURRENT_STREAMS bounds its streams', async () => {
  let open = 0;
  let maxOpen = 0;
  const seenResets: number[] = [];
  const raw = http2.createServer({ settings: { maxConcurrentStreams: 2 } });
  raw.on('stream', (stream, headers) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    stream.on('close', () => {
      open--;
      if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) seenResets.push(stream.rstCode);
    });
    stream.on('error', () => {});
    if (headers[':path'] === '/reset') stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    else if (headers[':path'] === '/hold') stream.respond({ ':status': 200 });
    else setTimeout(() => stream.respond({ ':status': 200 }, { endStream: true }), 20);
  });
  fronts.push(raw);
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const rawPort = (raw.address() as { port: number }).port;
  const limited = new UpstreamH2Pool({ maxSessionsPerServer: 1 });
  const pool = backend('raw', [rawPort]);
  const fs = http2.createServer();
  fs.on('stream', (stream, headers) => void relayH2Stream(stream, headers, pool, { upstream: limited, log: silentLogger() }));
  fronts.push(fs);
  await new Promise<void>((r) => fs.listen(0, '127.0.0.1', r));
  const session = http2.connect(`http://127.0.0.1:${(fs.address() as { port: number }).port}`);
  try {
    // server -> client
    const reset = session.request({ ':path': '/reset' }, { endStream: true });
    reset.on('error', () => {});
    await new Promise((r) => reset.on('close', r));
    assert.equal(reset.rstCode, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    // client -> server
    const hold = session.request({ ':path': '/hold' });
    hold.on('error', () => {});
    await new Promise((r) => hold.on('response', r));
    hold.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    const deadline = Date.now() + 5000;
    while (!seenResets.includes(http2.constants.NGHTTP2_REFUSED_STREAM) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(seenResets.includes(http2.constants.NGHTTP2_REFUSED_STREAM), `server saw ${seenResets.join(',')}`);
    // eight at once through one session that takes two: all answered, never more than two open
    maxOpen = 0;
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () => new Promise<number>((resolve) => {
        const s = session.request({ ':path': '/slow' }, { endStream: true });
        s.on('response', (h) => resolve(Number(h[':status'])));
        s.on('error', () => resolve(-1));
        s.resume();
      })),
    );
    assert.deepEqual(statuses, Array(8).fill(200));
    assert.equal(maxOpen, 2);
    assert.equal(limited.sessionCount(), 1);
  } finally {
    session.destroy();
    limited.close();
  }
});
