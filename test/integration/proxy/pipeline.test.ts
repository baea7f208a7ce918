// Backend `pipeline`: GET/HEAD requests that reach the proxy together go to a server on one
// connection in one send, and each answer goes to its own client. Seen from raw clients (written
// to in one tick, so the proxy reads them in one turn) and a raw server that records how many
// requests each read brought and answers them in the bytes each test chooses.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { backendConfig, frontendConfig, startProxy, type Proxy } from './proxy-harness.ts';
import { RawClient } from './raw-client.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Request {
  method: string;
  path: string;
}

/** Answers the requests one read brought; `conn` counts the server's connections from 1. */
type Respond = (s: net.Socket, requests: Request[], conn: number) => void;

interface PipeServer {
  port: number;
  connections: number;
  /** Requests per read, in order: one entry per read that held at least one whole head. */
  reads: number[];
}

async function pipeServer(respond: Respond): Promise<PipeServer> {
  const state: PipeServer = { port: 0, connections: 0, reads: [] };
  const srv = net.createServer((s) => {
    const conn = ++state.connections;
    let buf = '';
    s.on('error', () => {});
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const requests: Request[] = [];
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const [method, path] = buf.slice(0, end).split(' ') as [string, string];
        requests.push({ method, path });
        buf = buf.slice(end + 4);
      }
      if (requests.length === 0) return;
      state.reads.push(requests.length);
      respond(s, requests, conn);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  state.port = (srv.address() as net.AddressInfo).port;
  cleanups.push(
    () =>
      new Promise((r) => {
        srv.close(() => r());
        // keep-alive connections from the proxy would hold close() open
        for (const c of conns) c.destroy();
      }),
  );
  const conns = new Set<net.Socket>();
  srv.on('connection', (s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
  });
  return state;
}

/** The answer to GET `path`: a body naming the path, so a mix-up shows. */
function ok(path: string, extra = ''): string {
  const body = `you asked for ${path}`;
  return `HTTP/1.1 200 OK\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;
}

const answerAll: Respond = (s, requests) => {
  s.write(requests.map((r) => ok(r.path)).join(''));
};

async function proxyTo(server: PipeServer, pipeline: number): Promise<Proxy> {
  const p = await startProxy(frontendConfig(), [backendConfig('app', [{ name: 'raw', port: server.port }], { retries: 0, pipeline })]);
  cleanups.push(() => p.close());
  return p;
}

/** `n` keep-alive clients, each served once already (so each is an open connection the proxy
 *  reads from), over one server connection; the server's record starts empty afterwards. */
async function clients(p: Proxy, server: PipeServer, n: number): Promise<RawClient[]> {
  const out: RawClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = new RawClient(cleanups, p.port);
    assert.equal((await c.exchange('GET', '/warm', ok('/warm').length)).toString('latin1'), ok('/warm'));
    out.push(c);
  }
  server.reads.length = 0;
  return out;
}

/** Each client sends its request in the same tick, so the proxy reads them in one turn. */
function sendTogether(cs: RawClient[], requests: Request[]): void {
  cs.forEach((c, i) => c.send(`${requests[i]!.method} ${requests[i]!.path} HTTP/1.1\r\nHost: test\r\n\r\n`));
}

const GETS = (n: number): Request[] => Array.from({ length: n }, (_, i) => ({ method: 'GET', path: `/r${i}` }));

async function expectAnswers(cs: RawClient[], expected: string[]): Promise<void> {
  const got = await Promise.all(cs.map(async (c, i) => (await c.read(expected[i]!.length)).toString('latin1')));
  assert.deepEqual(got, expected);
}

/** Client i sends GET /r<i>, all in one tick, and each gets its own plain answer. */
async function getsAnswered(cs: RawClient[]): Promise<void> {
  const gets = GETS(cs.length);
  sendTogether(cs, gets);
  await expectAnswers(
    cs,
    gets.map((r) => ok(r.path)),
  );
}

/** `n` GETs sent together to a server that answers a batch after `answerMs`; returns `waitMs`
 *  after sending, while the batch waits for its answers. */
async function batchWaiting(n: number, answerMs: number, waitMs: number): Promise<{ server: PipeServer; p: Proxy; cs: RawClient[] }> {
  const server = await pipeServer((s, rs) => {
    setTimeout(() => answerAll(s, rs, 0), rs.length > 1 ? answerMs : 0);
  });
  const p = await proxyTo(server, 16);
  const cs = await clients(p, server, n);
  sendTogether(cs, GETS(n));
  await new Promise((r) => setTimeout(r, waitMs));
  return { server, p, cs };
}

test('GETs arriving together go to the server in one send on one connection; each client gets its own answer', { timeout: 15_000 }, async () => {
  const server = await pipeServer(answerAll);
  const p = await proxyTo(server, 16);
  const cs = await clients(p, server, 5);
  await getsAnswered(cs);
  assert.deepEqual(server.reads, [5]);
  assert.equal(server.connections, 1);
  // and again: the connection went back to the pool clean
  await getsAnswered(cs);
  assert.deepEqual(server.reads, [5, 5]);
  assert.equal(server.connections, 1);
});

test('answers cut anywhere, heads included, reach the right clients; HEAD and 204 have no body', { timeout: 15_000 }, async () => {
  const requests: Request[] = [
    { method: 'GET', path: '/a' },
    { method: 'HEAD', path: '/b' },
    { method: 'GET', path: '/nothing' },
    { method: 'GET', path: '/d' },
  ];
  const answer = (r: Request): string =>
    r.path === '/nothing' ? 'HTTP/1.1 204 No Content\r\nX-Empty: yes\r\n\r\n' : r.method === 'HEAD' ? ok(r.path).slice(0, -`you asked for ${r.path}`.length) : ok(r.path);
  const server = await pipeServer((s, rs) => {
    if (rs.length === 1) {
      s.write(answer(rs[0]!));
      return;
    }
    const all = rs.map(answer).join('');
    // pieces of 7 bytes, each in its own read: every head is cut somewhere
    let at = 0;
    const next = (): void => {
      if (at >= all.length || s.destroyed) return;
      s.write(all.slice(at, at + 7));
      at += 7;
      setTimeout(next, 2);
    };
    next();
  });
  const p = await proxyTo(server, 16);
  const cs = await clients(p, server, 4);
  sendTogether(cs, requests);
  await expectAnswers(cs, requests.map(answer));
  assert.deepEqual(server.reads, [4]);
  assert.equal(server.connections, 1);
  for (const c of cs) assert.equal((await c.read(1, 50)).length, 0, 'nothing beyond each answer');
  // the connection is still in step: the next batch is answered right on it
  await getsAnswered(cs);
  assert.equal(server.connections, 1);
});

test('a server that closes after its first answer: the requests behind it go again on a new connection', { timeout: 15_000 }, async () => {
  const server = await pipeServer((s, rs) => {
    if (rs.length > 1) {
      // answers the first, says it closes, and ignores the rest
      s.end(ok(rs[0]!.path, 'Connection: close\r\n'));
      return;
    }
    answerAll(s, rs, 0);
  });
  const p = await proxyTo(server, 16);
  const cs = await clients(p, server, 4);
  await getsAnswered(cs);
  assert.equal(server.reads[0], 4);
  // sent again one by one (a retry never pipelines), none of them failed
  assert.deepEqual(server.reads.slice(1), [1, 1, 1]);
  assert.equal(server.connections, 4);
  for (const c of cs) assert.equal(c.closed, false);
});

test('an answer pipelining cannot follow: the requests behind it go again one by one, and that server gets no more pipelined requests', { timeout: 15_000 }, async () => {
  const answer = (r: Request): string =>
    r.path === '/r1' ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' : ok(r.path);
  const server = await pipeServer((s, rs) => s.write(rs.map(answer).join('')));
  const p = await proxyTo(server, 16);
  const cs = await clients(p, server, 3);
  sendTogether(cs, GETS(3));
  await expectAnswers(cs, GETS(3).map(answer));
  // /r0 was answered in the batch; /r1 (chunked, which the C side does not follow) and /r2 again
  assert.deepEqual(server.reads, [3, 1, 1]);
  server.reads.length = 0;
  sendTogether(cs, GETS(3));
  await expectAnswers(cs, GETS(3).map(answer));
  assert.deepEqual(server.reads, [1, 1, 1]);
});

test('a client leaving while its request waits behind another: the others are answered, the connection stays in use', { timeout: 15_000 }, async () => {
  const { server, cs } = await batchWaiting(3, 150, 30);
  cs[1]!.destroy();
  const left = [cs[0]!, cs[2]!];
  await expectAnswers(left, [ok('/r0'), ok('/r2')]);
  assert.deepEqual(server.reads, [3]);
  await getsAnswered(left);
  assert.equal(server.connections, 1);
});

test('a graceful stop while pipelined answers are on their way: each carries Connection: close', { timeout: 15_000 }, async () => {
  const { server, p, cs } = await batchWaiting(3, 200, 80);
  const stopped = p.frontend.close(3000);
  const closing = (path: string): string => ok(path).replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n');
  await expectAnswers(
    cs,
    GETS(3).map((r) => closing(r.path)),
  );
  assert.deepEqual(server.reads, [3]);
  await stopped;
  for (const c of cs) {
    await c.read(1, 500);
    assert.equal(c.closed, true);
  }
});

test('without pipeline (the default) every request has a connection to itself; a depth of 2 pairs them', { timeout: 15_000 }, async () => {
  const server = await pipeServer(answerAll);
  const p1 = await proxyTo(server, 1);
  const cs = await clients(p1, server, 3);
  await getsAnswered(cs);
  assert.deepEqual(server.reads, [1, 1, 1]);
  assert.equal(server.connections, 3);

  const server2 = await pipeServer(answerAll);
  const p2 = await proxyTo(server2, 2);
  const cs2 = await clients(p2, server2, 4);
  await getsAnswered(cs2);
  // 2 on the open connection; the rest had to open connections (a request never waits for one
  // to connect just to go behind another)
  assert.equal(Math.max(...server2.reads), 2);
  assert.equal(server2.reads.reduce((a, b) => a + b), 4);
});

test('only GET and HEAD without a body are pipelined', { timeout: 15_000 }, async () => {
  const server = await pipeServer(answerAll);
  const p = await proxyTo(server, 16);
  const cs = await clients(p, server, 3);
  const requests: Request[] = [
    { method: 'GET', path: '/a' },
    { method: 'DELETE', path: '/b' },
    { method: 'GET', path: '/c' },
  ];
  sendTogether(cs, requests);
  // node's server answers the DELETE (the proxy's fast path takes GET and HEAD only): its own head
  const got = await Promise.all(cs.map(async (c) => (await c.read(300, 300)).toString('latin1')));
  requests.forEach((r, i) => assert.ok(got[i]!.endsWith(`you asked for ${r.path}`), got[i]));
  assert.deepEqual([...server.reads].sort(), [1, 2]);
});

test('an answer over 16 KiB pauses pipelining to its server until a small one comes', { timeout: 15_000 }, async () => {
  const body = 'x'.repeat(20 * 1024);
  const big = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const server = await pipeServer((s, rs) => s.write(rs.map((r) => (r.path === '/big' ? big : ok(r.path))).join('')));
  const p = await proxyTo(server, 16);
  const cs = await clients(p, server, 3);
  assert.equal((await cs[0]!.exchange('GET', '/big', big.length)).toString('latin1'), big);
  server.reads.length = 0;
  await getsAnswered(cs);
  assert.deepEqual(server.reads, [1, 1, 1]);
  server.reads.length = 0;
  await getsAnswered(cs);
  assert.deepEqual(server.reads, [3]);
});

test('a GET never goes behind a request that may not be sent twice', { timeout: 15_000 }, async () => {
  const server = await pipeServer(answerAll);
  const p = await proxyTo(server, 16);
  // a: its requests go through node's server (DELETE), b: through the fast path; one server
  // connection, which b's GET leaves as the one the next GETs may follow
  const a = new RawClient(cleanups, p.port);
  a.send('DELETE /warm HTTP/1.1\r\nHost: test\r\n\r\n');
  assert.ok((await a.read(300, 300)).toString('latin1').endsWith('you asked for /warm'));
  const [b] = await clients(p, server, 1);
  assert.equal(server.connections, 1);
  // the DELETE takes that connection from the pool; the GET must not join it (RFC 9112 9.3.2:
  // nothing is pipelined behind a non-idempotent request)
  sendTogether([a, b!], [
    { method: 'DELETE', path: '/d' },
    { method: 'GET', path: '/g' },
  ]);
  const got = await Promise.all([a, b!].map(async (c) => (await c.read(300, 300)).toString('latin1')));
  assert.ok(got[0]!.endsWith('you asked for /d'), got[0]);
  assert.equal(got[1], ok('/g'));
  assert.deepEqual(server.reads, [1, 1]);
});
