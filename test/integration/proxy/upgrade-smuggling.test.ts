// WebSocket smuggling (issue 15.1): a server that refuses an upgrade (answers anything but 101)
// leaves the connection in HTTP. halb must then parse what the client sent behind the upgrade
// request as requests and route them, so a rule that keeps /admin from the server still does;
// a proxy that switched to a tunnel on seeing the request would pass them through unparsed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startByteLogBackend, header, type ByteLogBackend } from './byte-log-backend.ts';
import { startHalbTarget, sendRaw, type Target } from './raw-target.ts';

const UPGRADE =
  'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const ADMIN = 'GET /admin/users HTTP/1.1\r\nHost: a\r\n\r\n';

let b: ByteLogBackend;
let halb: Target;
before(async () => {
  b = await startByteLogBackend({ upgrade: 'refuse' });
  halb = await startHalbTarget(b.port);
});
after(async () => {
  await halb?.stop();
  await b?.close();
});

function seen(): { requests: number; bytes: number } {
  return { requests: b.requests.length, bytes: b.bytes };
}

function receivedSince(mark: { requests: number }): string[] {
  return b.requests.slice(mark.requests).map((r) => r.line);
}

test('refused upgrade, /admin in the same packet: the server answers the upgrade, halb denies /admin', async () => {
  const mark = seen();
  const r = await sendRaw(halb.port, Buffer.from(UPGRADE + ADMIN, 'latin1'));
  assert.deepEqual(r.statuses, [200, 503], r.raw.toString('latin1'));
  assert.match(r.raw.toString('latin1'), /X-Backend: \d+/, 'the 200 is the server refusing the upgrade');
  assert.deepEqual(receivedSince(mark), ['GET /chat HTTP/1.1']);
  const all = Buffer.concat(b.connections.map((c) => c.bytes)).toString('latin1');
  assert.doesNotMatch(all, /\/admin/, 'no byte of the /admin request reached the server');
});

test('refused upgrade, /admin sent after the answer: still denied', async () => {
  const mark = seen();
  const r = await sendRaw(halb.port, [Buffer.from(UPGRADE, 'latin1'), Buffer.from(ADMIN, 'latin1')]);
  assert.deepEqual(r.statuses, [200, 503]);
  assert.deepEqual(receivedSince(mark), ['GET /chat HTTP/1.1']);
});

test('refused upgrade: the next request reaches the server parsed and rebuilt by halb, not tunnelled', async () => {
  const mark = seen();
  const r = await sendRaw(halb.port, Buffer.from(UPGRADE + 'GET /next HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n', 'latin1'));
  assert.deepEqual(r.statuses, [200, 200]);
  assert.deepEqual(receivedSince(mark), ['GET /chat HTTP/1.1', 'GET /next HTTP/1.1']);
  const next = b.requests[mark.requests + 1]!;
  // halb appends the client it saw: a raw tunnel would have passed the client's header alone
  assert.equal(header(next, 'x-forwarded-for'), '6.6.6.6, 127.0.0.1');
  assert.notEqual(next.conn, b.requests[mark.requests]!.conn, 'the upgrade connection is not reused for HTTP');
});

test('upgrade without Sec-WebSocket-Key, /admin behind it: 400 and the server sees nothing', async () => {
  const mark = seen();
  const bad = 'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
  const r = await sendRaw(halb.port, Buffer.from(bad + ADMIN, 'latin1'));
  assert.deepEqual(r.statuses, [400]);
  assert.deepEqual(seen(), mark);
  await halb.waitFor((l) => l.reason === 'WebSocket upgrade without Sec-WebSocket-Key', 5000);
});

test('a 101 from the server makes a tunnel: bytes behind the request go through as data', async () => {
  const echo = await startByteLogBackend({ upgrade: 'switch' });
  const t = await startHalbTarget(echo.port);
  try {
    const r = await sendRaw(t.port, Buffer.from(UPGRADE + 'opaque bytes', 'latin1'), { guardMs: 800 });
    const text = r.raw.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 101 /);
    assert.match(text, /\r\n\r\nopaque bytes$/, 'echoed through the tunnel');
    assert.equal(echo.requests.length, 1);
  } finally {
    await t.stop();
    await echo.close();
  }
});
