// Responses the C side forwards by itself (keep-alive clients of the simple path, heads of the
// common shape) and the ones it leaves to the JS parser, seen from a raw client and a raw server:
// exact bytes, connection reuse, a server cutting a body short, a graceful stop mid-response.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { backendConfig, frontendConfig, startProxy, type Proxy } from './proxy-harness.ts';
import { RawClient } from './raw-client.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const BIG = randomBytes(1024 * 1024);
const COMMON = 'HTTP/1.1 200 OK\r\nServer: raw\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 5\r\n\r\nhello';
const COMMON_OUT = 'HTTP/1.1 200 OK\r\nServer: raw\r\nContent-Length: 5\r\n\r\nhello';

interface RawServer {
  port: number;
  connections: number;
}

/** A server answering by path with exact bytes, the way a misbehaving one would too. */
async function rawServer(): Promise<RawServer> {
  const state = { port: 0, connections: 0 };
  const srv = net.createServer((s) => {
    state.connections++;
    let buf = '';
    s.on('error', () => {});
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        answer(s, head.split(' ')[0]!, head.split(' ')[1]!, head);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  state.port = (srv.address() as net.AddressInfo).port;
  cleanups.push(() => new Promise((r) => srv.close(() => r())));
  return state;
}

function answer(s: net.Socket, method: string, path: string, head: string): void {
  switch (path.split('?')[0]) {
    case '/echo-head': {
      const body = `${head}\r\n\r\n`;
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      break;
    }
    case '/common':
      s.write(method === 'HEAD' ? COMMON.slice(0, -5) : COMMON);
      break;
    case '/split':
      s.write(COMMON.slice(0, 30));
      setTimeout(() => s.write(COMMON.slice(30)), 30);
      break;
    case '/chunked':
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
      break;
    case '/204':
      s.write('HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n');
      break;
    case '/big':
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BIG.length}\r\n\r\n`);
      s.write(BIG);
      break;
    case '/huge': {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${64 * BIG.length}\r\n\r\n`);
      let n = 0;
      const more = (): void => {
        while (n < 64 && s.write(BIG)) n++;
        if (++n <= 64) s.once('drain', more);
      };
      more();
      break;
    }
    case '/extra':
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokJUNK');
      break;
    case '/extra-late':
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => s.write('JUNK'), 20);
      break;
    case '/cut':
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
      setTimeout(() => s.destroy(), 20);
      break;
    case '/slow':
      setTimeout(() => s.write(COMMON), 300);
      break;
  }
}

async function proxyTo(server: RawServer, forwardfor = false): Promise<Proxy> {
  const p = await startProxy(frontendConfig({ forwardfor }), [backendConfig('app', [{ name: 'raw', port: server.port }], { retries: 0 })]);
  cleanups.push(() => p.close());
  return p;
}

test('forwarded and parsed responses alike on one keep-alive connection, over one server connection', { timeout: 15_000 }, async () => {
  const server = await rawServer();
  const p = await proxyTo(server);
  const c = new RawClient(cleanups, p.port);
  const str = async (method: string, path: string, expected: string): Promise<void> => {
    assert.equal((await c.exchange(method, path, expected.length)).toString('latin1'), expected, `${method} ${path}`);
  };
  await str('GET', '/common', COMMON_OUT);
  // a head in two reads goes to the JS parser, which gives the same bytes
  await str('GET', '/split', COMMON_OUT);
  await str('HEAD', '/common', COMMON_OUT.slice(0, -5));
  await str('GET', '/204', 'HTTP/1.1 204 No Content\r\n\r\n');
  await str('GET', '/chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${BIG.length}\r\n\r\n`;
  const big = await c.exchange('GET', '/big', head.length + BIG.length);
  assert.equal(big.toString('latin1', 0, head.length), head);
  assert.ok(big.subarray(head.length).equals(BIG), '1 MiB body intact');
  await str('GET', '/common', COMMON_OUT);
  assert.equal(c.closed, false);
  assert.equal(server.connections, 1);
});

test('bytes beyond a response: the client gets the response, the server connection is not reused', { timeout: 15_000 }, async () => {
  const server = await rawServer();
  const p = await proxyTo(server);
  const c = new RawClient(cleanups, p.port);
  const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  // in the same read as the response (left to the JS parser)...
  assert.equal((await c.exchange('GET', '/extra', ok.length)).toString('latin1'), ok);
  assert.equal((await c.read(1, 100)).length, 0, 'nothing beyond the response reaches the client');
  assert.equal((await c.exchange('GET', '/common', COMMON_OUT.length)).toString('latin1'), COMMON_OUT);
  assert.equal(server.connections, 2);
  // ... and in a later read, after the C side forwarded the whole response
  assert.equal((await c.exchange('GET', '/extra-late', ok.length)).toString('latin1'), ok);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal((await c.exchange('GET', '/common', COMMON_OUT.length)).toString('latin1'), COMMON_OUT);
  assert.equal(server.connections, 3);
  assert.equal(c.closed, false);
});

test('a server closing mid-body: the client gets the bytes sent, then its connection is cut', { timeout: 15_000 }, async () => {
  const server = await rawServer();
  const p = await proxyTo(server);
  const c = new RawClient(cleanups, p.port);
  const got = (await c.exchange('GET', '/cut', 1000)).toString('latin1');
  assert.equal(got, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
  assert.equal(c.closed, true);
});

test('a graceful stop while a response is on its way: it carries Connection: close, then the connection ends', { timeout: 15_000 }, async () => {
  const server = await rawServer();
  const p = await proxyTo(server);
  const c = new RawClient(cleanups, p.port);
  const reply = c.exchange('GET', '/slow', 1000);
  await new Promise((r) => setTimeout(r, 100));
  const stopped = p.frontend.close(3000);
  const expected = 'HTTP/1.1 200 OK\r\nServer: raw\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello';
  assert.equal((await reply).toString('latin1'), expected);
  assert.equal(c.closed, true);
  await stopped;
});

test('a head with nothing to change reaches the server byte for byte; with X-Forwarded-For it is rebuilt', { timeout: 15_000 }, async () => {
  const server = await rawServer();
  const odd = 'GET /echo-head?a=1 HTTP/1.1\r\nHost:h\r\nX-Case:  AbC  \r\nAccept: */*\r\n\r\n';
  const echoed = async (p: Proxy, head: string): Promise<string> => {
    const c = new RawClient(cleanups, p.port);
    c.send(head);
    const got = (await c.read(4096, 500)).toString('latin1');
    return got.slice(got.indexOf('\r\n\r\n') + 4);
  };
  assert.equal(await echoed(await proxyTo(server), odd), odd);
  const rebuilt = await echoed(await proxyTo(server, true), odd);
  assert.match(rebuilt, /^GET \/echo-head\?a=1 HTTP\/1\.1\r\nHost: h\r\nX-Case: AbC\r\nAccept: \*\/\*\r\nX-Forwarded-For: 127\.0\.0\.1\r\n/);
});

test('a client leaving in the middle of a big forwarded body: the next clients are served', { timeout: 15_000 }, async () => {
  const server = await rawServer();
  const p = await proxyTo(server);
  for (let i = 0; i < 3; i++) {
    const c = new RawClient(cleanups, p.port);
    const part = await c.exchange('GET', '/huge', 300_000);
    assert.equal(part.length, 300_000);
    c.destroy();
    await new Promise((r) => setTimeout(r, 20));
  }
  const c = new RawClient(cleanups, p.port);
  assert.equal((await c.exchange('GET', '/common', COMMON_OUT.length)).toString('latin1'), COMMON_OUT);
});
