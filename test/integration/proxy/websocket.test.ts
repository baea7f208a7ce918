// WebSocket through halb against a tiny hand-written upgrade echo server (no frame parsing:
// after the 101 it echoes bytes, which is all a tunnel has to carry).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { backendConfig, frontendConfig, startProxy, type Proxy } from './proxy-harness.ts';

let echo: http.Server;
let p: Proxy;
let upgradeHeaders: http.IncomingHttpHeaders | undefined;

before(async () => {
  echo = http.createServer((_req, res) => res.end('plain'));
  echo.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
    upgradeHeaders = req.headers;
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const be = backendConfig('app', [{ name: 'ws', port: (echo.address() as AddressInfo).port }]);
  p = await startProxy(frontendConfig(), [be]);
});

after(async () => {
  await p.close();
  echo.closeAllConnections();
  await new Promise<void>((r) => echo.close(() => r()));
});

test('upgrade handshake and echo through the tunnel; slot held while open', async () => {
  const socket = net.connect(p.port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(
    'GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let buf = '';
  const until = (pred: (s: string) => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout, got ${JSON.stringify(buf)}`)), 3000);
      const check = (): void => {
        if (pred(buf)) {
          clearTimeout(t);
          socket.off('data', onData);
          resolve();
        }
      };
      const onData = (d: Buffer): void => {
        buf += d.toString('latin1');
        check();
      };
      socket.on('data', onData);
      check();
    });
  await until((s) => s.includes('\r\n\r\n'));
  assert.match(buf, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(buf, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
  assert.equal(upgradeHeaders?.upgrade, 'websocket');
  assert.equal(upgradeHeaders?.['x-forwarded-for'], '127.0.0.1');
  assert.equal(p.pools.get('app')!.servers[0]!.active, 1, 'tunnel holds its server slot');
  buf = '';
  for (const msg of ['hello', 'world', 'x'.repeat(100_000)]) {
    socket.write(msg);
    await until((s) => s.length >= msg.length);
    assert.equal(buf, msg);
    buf = '';
  }
  socket.end();
  await new Promise((r) => socket.once('close', r));
  const deadline = Date.now() + 2000;
  while (p.pools.get('app')!.servers[0]!.active !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(p.pools.get('app')!.servers[0]!.active, 0, 'slot released when the tunnel closes');
});

test('upgrade with no usable server gets 503', async () => {
  p.pools.get('app')!.setHealth('ws', false, 'test');
  try {
    const reply = await new Promise<string>((resolve) => {
      const c = net.connect(p.port, '127.0.0.1', () =>
        c.write('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
      );
      let d = '';
      c.on('data', (x) => (d += x));
      c.on('close', () => resolve(d));
      c.on('error', () => {});
    });
    assert.match(reply, /^HTTP\/1\.1 503 /);
  } finally {
    p.pools.get('app')!.setHealth('ws', true, 'test');
  }
});
