// ClientHellos written by node's own TLS client into an in-memory stream pair (no network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duplexPair } from 'node:stream';
import tls from 'node:tls';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, makeLeaf } from '../../../helpers/test-certificates.ts';
import { clientHelloName } from '../../../../src/proxy/tls/client-hello.ts';

function hello(opts: tls.ConnectionOptions): Promise<Buffer> {
  const [a, b] = duplexPair();
  return new Promise((resolve) => {
    b.once('data', (d: Buffer) => {
      resolve(d);
      s.destroy();
    });
    const s = tls.connect({ socket: a, rejectUnauthorized: false, ...opts });
    s.on('error', () => undefined);
  });
}

/** The same handshake message, cut into records of at most `size` bytes. */
function reframe(rec: Buffer, size: number): Buffer {
  const hs = rec.subarray(5);
  const out: Buffer[] = [];
  for (let i = 0; i < hs.length; i += size) {
    const part = hs.subarray(i, i + size);
    const h = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    h.writeUInt16BE(part.length, 3);
    out.push(h, part);
  }
  return Buffer.concat(out);
}

test('client hello: the SNI host name, once enough bytes are in', async () => {
  const h = await hello({ servername: 'a.test' });
  assert.deepEqual(clientHelloName(h), { done: true, servername: 'a.test' });
  for (const cut of [0, 3, 5, 40, h.length - 1]) assert.deepEqual(clientHelloName(h.subarray(0, cut)), { done: false }, `cut at ${cut}`);
});

test('client hello: a handshake message spread over several records', async () => {
  const h = await hello({ servername: 'x.w.test' });
  const split = reframe(h, 100);
  assert.ok(split.length > h.length + 5);
  assert.deepEqual(clientHelloName(split), { done: true, servername: 'x.w.test' });
  assert.deepEqual(clientHelloName(split.subarray(0, split.length - 10)), { done: false });
});

test('client hello: no SNI, and bytes that are not a ClientHello, give no name at once', async () => {
  // node sends no SNI when connecting to an IP address without servername
  const h = await hello({ host: '127.0.0.1' });
  assert.deepEqual(clientHelloName(h), { done: true, servername: undefined });
  assert.deepEqual(clientHelloName(Buffer.from('GET / HTTP/1.1\r\n\r\n')), { done: true, servername: undefined });
  assert.deepEqual(clientHelloName(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0])), { done: true, servername: undefined });
});

/** A session from a real in-memory handshake with a server whose ticket key is `key`. */
function sessionFrom(key: Buffer, maxVersion: tls.SecureVersion): Promise<Buffer> {
  const [a, b] = duplexPair();
  const { cert, key: pk } = selfSigned;
  const server = new tls.TLSSocket(b, { isServer: true, secureContext: tls.createSecureContext({ cert, key: pk, ticketKeys: key }) });
  server.on('secure', () => server.end('x'));
  server.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    const c = tls.connect({ socket: a, rejectUnauthorized: false, servername: 'a.test', maxVersion });
    let sess: Buffer | undefined;
    c.on('session', (s: Buffer) => (sess = s));
    c.on('data', () => undefined);
    c.on('end', () => (sess ? resolve(sess) : reject(new Error('no session'))));
    c.on('error', reject);
  });
}

const selfSigned = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'halb-hello-'));
  try {
    const text = readFileSync(makeLeaf(makeCa(dir), 't', { names: ['t.test'] }), 'utf8');
    return { key: /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(text)![0], cert: /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text)![0] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

test('client hello: the key name of an offered session ticket (TLS 1.2 session_ticket, TLS 1.3 pre_shared_key)', async () => {
  const key = Buffer.alloc(48, 7);
  key.write('0123456789abcdef', 0, 'latin1');
  for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
    const session = await sessionFrom(key, v);
    const h = await hello({ servername: 'a.test', session, maxVersion: v });
    assert.deepEqual(clientHelloName(h), { done: true, servername: 'a.test', ticketKeyName: Buffer.from('0123456789abcdef').toString('hex') }, v);
  }
  assert.equal((clientHelloName(await hello({ servername: 'a.test' })) as { ticketKeyName?: string }).ticketKeyName, undefined);
});
