// gRPC end to end through a real `halb run`: grpc-js clients -> halb's h2 frontend (h2c with prior
// knowledge, and TLS with ALPN h2) -> a `proto: h2` backend -> real grpc-js servers
// (test/helpers/grpc-servers.ts). Unary calls with their trailers, a server error's grpc-status,
// bidirectional streaming, the access log line of a relayed stream (with its body bytes: the
// gRPC frames' sizes, also in /metrics), the forwarded headers a
// relayed stream carries (seen by a node http2 server), and the 502 an HTTP/1.1 request gets
// when it is routed to a backend that speaks HTTP/2 only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import grpc from '@grpc/grpc-js';
import { runHalbWith, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { EchoService, startGrpcServer, type TestGrpcServer } from '../../helpers/grpc-servers.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-grpc-through-'));
let ca: TestCa;
let halb: HalbProcess | undefined;
const grpcServers: TestGrpcServer[] = [];
const clients: grpc.Client[] = [];
let raw: http2.Http2Server;
/** Request headers the raw h2 server saw, last first. */
const rawSeen: http2.IncomingHttpHeaders[] = [];
let h2cPort = 0;
let tlsPort = 0;

interface EchoClient extends grpc.Client {
  Say(req: { text: string }, cb: (err: grpc.ServiceError | null, res?: { text: string; server: string }) => void): grpc.ClientUnaryCall;
  Chat(): grpc.ClientDuplexStream<{ text: string }, { text: string; server: string }>;
}

function h2cClient(): EchoClient {
  const c = new EchoService(`127.0.0.1:${h2cPort}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  clients.push(c);
  return c;
}

function tlsClient(): EchoClient {
  const c = new EchoService(`127.0.0.1:${tlsPort}`, grpc.credentials.createSsl(Buffer.from(ca.ca)), { 'grpc.ssl_target_name_override': 'rpc.test', 'grpc.default_authority': 'rpc.test' }) as unknown as EchoClient;
  clients.push(c);
  return c;
}

interface SayResult {
  err: grpc.ServiceError | null;
  res: { text: string; server: string } | undefined;
  trailer: string | undefined;
}

/** Bytes of one gRPC message on the wire: the 5-byte prefix (compressed flag, length) and the
 *  protobuf the service's own serializer makes of `msg` (grpc-js sends uncompressed). */
function frameBytes(method: 'Say' | 'Chat', kind: 'request' | 'response', msg: Record<string, string>): number {
  const def = EchoService.service[method]!;
  const body = kind === 'request' ? def.requestSerialize(msg) : def.responseSerialize(msg);
  return 5 + body.length;
}

function say(c: EchoClient, text: string): Promise<SayResult> {
  return new Promise((resolve) => {
    let trailer: string | undefined;
    const call = c.Say({ text }, (err, res) => setImmediate(() => resolve({ err, res, trailer })));
    call.on('status', (s: grpc.StatusObject) => (trailer = s.metadata.get('x-served-by')[0]?.toString()));
  });
}

before(async () => {
  ca = makeCa(dir);
  const crt = makeLeaf(ca, 'rpc', { names: ['rpc.test'], key: 'ec' });
  grpcServers.push(await startGrpcServer('g1'), await startGrpcServer('g2'));
  raw = http2.createServer();
  raw.on('stream', (stream, headers) => {
    rawSeen.unshift(headers);
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('raw\n');
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const rawPort = (raw.address() as { port: number }).port;
  [h2cPort, tlsPort] = [await freePort(), await freePort()];
  const file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, `global: { workers: 1, admin: { socket: ${join(dir, 'admin.sock')} } }
frontends:
  rpc:
    bind: ["127.0.0.1:${h2cPort}"]
    mode: http
    h2c: true
    forwardfor: true
    forwarded: true
    http-request: [ { set-header: X-Via-Halb, value: "yes" } ]
    rules: [ { path_prefix: /raw, backend: rawh2 } ]
    default_backend: grpc
  rpcs:
    bind: ["127.0.0.1:${tlsPort}"]
    mode: http
    tls: { crt: ${crt}, alpn: [h2] }
    default_backend: grpc
backends:
  grpc:
    proto: h2
    balance: roundrobin
    servers:
${grpcServers.map((s) => `      - { name: ${s.name}, address: "127.0.0.1:${s.port}" }`).join('\n')}
  rawh2:
    proto: h2
    servers: [ { name: raw, address: "127.0.0.1:${rawPort}" } ]
`);
});

after(async () => {
  for (const c of clients) c.close();
  halb?.kill('SIGKILL');
  raw?.close();
  await Promise.all(grpcServers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

test('unary calls over h2c: answers, trailing metadata and grpc-status cross halb; roundrobin spreads them over both servers', async () => {
  const c = h2cClient();
  const served = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = await say(c, `hello ${i}`);
    assert.equal(r.err, null, r.err?.message);
    assert.equal(r.res?.text, `hello ${i}`);
    assert.equal(r.trailer, r.res?.server, 'trailers from the server that answered');
    served.add(r.res!.server);
  }
  assert.deepEqual([...served].sort(), ['g1', 'g2']);
  const line = await halb!.waitFor((l) => l.type === 'access' && l.frontend === 'rpc' && l.url === '/halb.test.Echo/Say');
  assert.equal(line.proto, 'h2');
  assert.equal(line.grpcStatus, '0');
  assert.equal(line.status, 200);
  assert.equal(line.backend, 'grpc');
  // body bytes: one request message up, one answer down (server names g1/g2 are the same size)
  const inBytes = frameBytes('Say', 'request', { text: 'hello 0' });
  const outBytes = frameBytes('Say', 'response', { text: 'hello 0', server: 'g1' });
  const isSay = (l: Record<string, unknown>): boolean => l.type === 'access' && l.frontend === 'rpc' && l.url === '/halb.test.Echo/Say';
  await halb!.waitFor(() => halb!.lines.filter(isSay).length >= 6);
  const says = halb!.lines.filter(isSay);
  for (const l of says) assert.deepEqual([l.bytesIn, l.bytesOut], [inBytes, outBytes], JSON.stringify(l));
  console.log(`# relayed unary Say: bytesIn ${inBytes}, bytesOut ${outBytes} per call in the access log (the gRPC frames' sizes)`);
});

test('unary over TLS (ALPN h2) and a server error: the error code and message arrive as the server sent them', async () => {
  const c = tlsClient();
  const ok = await say(c, 'over tls');
  assert.equal(ok.err, null, ok.err?.message);
  assert.equal(ok.res?.text, 'over tls');
  const f = await say(c, 'fail');
  assert.equal(f.err?.code, grpc.status.FAILED_PRECONDITION);
  assert.equal(f.err?.details, 'asked to fail');
  const line = await halb!.waitFor((l) => l.type === 'access' && l.frontend === 'rpcs' && l.grpcStatus === String(grpc.status.FAILED_PRECONDITION));
  assert.equal((line.tls as { alpn?: string }).alpn, 'h2');
});

test('bidirectional streaming through halb: each reply arrives before the next message is sent, then OK with trailers', async () => {
  for (const c of [h2cClient(), tlsClient()]) {
    const call = c.Chat();
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    const got: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const reply = new Promise<{ text: string }>((resolve) => call.once('data', resolve));
      call.write({ text });
      got.push((await reply).text);
    }
    call.end();
    const s = await status;
    assert.deepEqual(got, ['ONE', 'TWO', 'THREE']);
    assert.equal(s.code, grpc.status.OK);
    assert.match(String(s.metadata.get('x-served-by')[0]), /^g[12]$/);
  }
  // the access lines of both streams: three messages each way, counted as they crossed
  const server = 'g1';
  const inBytes = ['one', 'two', 'three'].reduce((n, text) => n + frameBytes('Chat', 'request', { text }), 0);
  const outBytes = ['ONE', 'TWO', 'THREE'].reduce((n, text) => n + frameBytes('Chat', 'response', { text, server }), 0);
  for (const frontend of ['rpc', 'rpcs']) {
    const l = await halb!.waitFor((x) => x.type === 'access' && x.frontend === frontend && x.url === '/halb.test.Echo/Chat');
    assert.deepEqual([l.bytesIn, l.bytesOut], [inBytes, outBytes], JSON.stringify(l));
  }
});

test('a relayed stream carries the forwarded headers and header ops of the frontend, as an HTTP/1.1 request does', async () => {
  const session = http2.connect(`http://127.0.0.1:${h2cPort}`);
  session.on('error', () => undefined);
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/raw/x', 'x-forwarded-for': '198.51.100.9' });
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (text += d));
      req.on('end', () => resolve(text));
      req.on('error', reject);
    });
    assert.equal(body, 'raw\n');
  } finally {
    session.close();
  }
  const h = rawSeen[0]!;
  assert.equal(h[':path'], '/raw/x');
  assert.equal(h[':authority'], `127.0.0.1:${h2cPort}`);
  assert.equal(h['x-forwarded-for'], '198.51.100.9, 127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h.forwarded, `for=127.0.0.1;proto=http;host="127.0.0.1:${h2cPort}"`);
  assert.equal(h['x-via-halb'], 'yes');
});

/** One counter of halb's /metrics, read over the admin socket. */
function metric(name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: join(dir, 'admin.sock'), path: '/metrics' }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (body += d));
        r.on('end', () => {
          const line = body.split('\n').find((l) => l.startsWith(`${name} `));
          resolve(line === undefined ? NaN : Number(line.slice(name.length + 1)));
        });
      })
      .on('error', reject);
  });
}

test('the body bytes of relayed streams reach the traffic counters (/metrics), as the access log counts them', async () => {
  const lines = halb!.lines.filter((l) => l.type === 'access' && l.backend === 'grpc');
  const sum = (k: 'bytesIn' | 'bytesOut'): number => lines.reduce((n, l) => n + Number(l[k]), 0);
  assert.ok(sum('bytesIn') > 0 && sum('bytesOut') > 0);
  // the workers' counters reach the primary on their next report: bounded wait
  const deadline = Date.now() + 10_000;
  let got: number[];
  for (;;) {
    got = [await metric('halb_backend_received_bytes_total{backend="grpc"}'), await metric('halb_backend_sent_bytes_total{backend="grpc"}')];
    if ((got[0] === sum('bytesIn') && got[1] === sum('bytesOut')) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(got, [sum('bytesIn'), sum('bytesOut')], `${lines.length} access lines`);
});

test('an HTTP/1.1 request routed to a proto h2 backend gets 502 and a log line saying why', async () => {
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: h2cPort, path: '/halb.test.Echo/Say' }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (body += d));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
  assert.equal(res.status, 502);
  await halb!.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('HTTP/1.1 request routed to a proto h2 backend'));
  await halb!.waitFor((l) => l.type === 'access' && l.termination === 'proto-mismatch');
});
