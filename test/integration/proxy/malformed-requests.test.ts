// Requests that must be answered by halb itself and never reach a server.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { backendConfig, frontendConfig, rawExchange, startBackend, startProxy, type Backend, type Proxy } from './proxy-harness.ts';

let b: Backend;
let p: Proxy;
before(async () => {
  b = await startBackend('b');
  const fe = frontendConfig();
  fe.timeouts.httpRequest = 500;
  p = await startProxy(fe, [backendConfig('app', [{ name: 'b', port: b.port }])]);
});
after(async () => {
  await p.close();
  await b.close();
});

const cases: [string, string, number][] = [
  ['control byte in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01b\r\n\r\n', 400],
  ['space in a header name', 'GET / HTTP/1.1\r\nHost: a\r\nX Bad: 1\r\n\r\n', 400],
  ['Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['duplicate Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', 400],
  ['conflicting Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
  ['Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc', 400],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['unknown transfer coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
  ['identity transfer coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n', 501],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n', 400],
  ['bare LF', 'GET / HTTP/1.1\nHost: a\n\n', 400],
  ['20 KiB header', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`, 431],
];

for (const [name, bytes, status] of cases) {
  test(`${name} -> ${status}, server sees nothing`, async () => {
    const before = { conns: b.connections, reqs: b.requests.length };
    const reply = await rawExchange(p.port, bytes);
    assert.match(reply, new RegExp(`^HTTP/1\\.1 ${status} `), JSON.stringify(reply.slice(0, 100)));
    assert.equal(b.requests.length, before.reqs, 'no request reached the server');
    assert.equal(b.connections, before.conns, 'no connection to the server');
  });
}

test('slowloris: a head trickling in gets 408 and no server connection is opened', async () => {
  const before = b.connections;
  const reqs = b.requests.length;
  const reply = await new Promise<string>((resolve) => {
    const c = net.connect(p.port, '127.0.0.1');
    let data = '';
    const parts = ['GET / HTTP/1.1\r\n', 'Host: a\r\n', 'X-1: 1\r\n', 'X-2: 2\r\n', 'X-3: 3\r\n', 'X-4: 4\r\n', 'X-5: 5\r\n', 'X-6: 6\r\n'];
    let i = 0;
    const timer = setInterval(() => {
      if (i < parts.length && !c.destroyed) c.write(parts[i++]!);
    }, 150);
    const guard = setTimeout(() => c.destroy(), 5000);
    c.on('data', (d) => (data += d.toString()));
    c.on('error', () => {});
    c.on('close', () => {
      clearInterval(timer);
      clearTimeout(guard);
      resolve(data);
    });
  });
  assert.match(reply, /^HTTP\/1\.1 408 /);
  assert.equal(b.connections, before);
  assert.equal(b.requests.length, reqs);
});

test('a good request on the same proxy still works', async () => {
  const reply = await rawExchange(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 200 /);
});
