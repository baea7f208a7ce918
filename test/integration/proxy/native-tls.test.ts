// TLS in the C connection layer (native/netio/src/tls.c) against node's TLS client on loopback:
// the handshake with the context JS built (versions, ALPN, facts), bytes both ways including a
// write big enough to be sent at once and backpressure, records that arrived while the reader
// was paused, close_notify both ways, a refused handshake whose alert reaches the client, and
// session tickets that resume wherever the same key is held (another worker).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { tlsContext, type TlsContextHandle } from '#netio';
import { NativeSocket } from '../../../src/proxy/native/native-socket.ts';
import { clientHelloName } from '../../../src/proxy/tls/client-hello.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-native-tls-'));
let ca: TestCa;
let chain = '';
let key = '';
const SID = 'halb native tls test';

before(() => {
  ca = makeCa(dir);
  const pem = readFileSync(makeLeaf(ca, 'a', { names: ['a.test'] }), 'utf8');
  const blocks = pem.match(/-----BEGIN [^-]+-----[\s\S]+?-----END [^-]+-----\n?/g) ?? [];
  chain = blocks.filter((b) => b.includes('CERTIFICATE')).join('');
  key = blocks.find((b) => b.includes('PRIVATE KEY')) ?? '';
});

after(() => rmSync(dir, { recursive: true, force: true }));

function alpnWire(protocols: string[]): Buffer {
  return Buffer.concat(protocols.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])));
}

function context(o: { minVersion?: 'TLSv1.2' | 'TLSv1.3'; ticketKey?: Buffer } = {}): TlsContextHandle {
  const ciphers = tls.DEFAULT_CIPHERS.split(':');
  return tlsContext(
    [chain],
    [key],
    o.minVersion ?? 'TLSv1.2',
    ciphers.filter((c) => !c.startsWith('TLS_')).join(':'),
    ciphers.filter((c) => c.startsWith('TLS_')).join(':'),
    SID,
    o.ticketKey,
    alpnWire(['http/1.1']),
  );
}

/** A listener whose connections get their TLS from the C layer, handed to `onSecure`. */
async function nativeServer(ctx: TlsContextHandle, onSecure: (s: NativeSocket) => void, onError?: (err: NodeJS.ErrnoException) => void): Promise<{ port: number; close(): void }> {
  const server = net.createServer({ allowHalfOpen: true }, (raw) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (!clientHelloName(buf).done) return;
      raw.off('data', onData);
      raw.pause();
      const s = NativeSocket.adoptTls(raw, ctx, buf, { allowHalfOpen: true });
      assert.ok(s, 'the raw socket can be taken over');
      s.on('error', (err: NodeJS.ErrnoException) => onError?.(err));
      s.once('secure', () => onSecure(s));
    };
    raw.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

function connect(port: number, o: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ port, host: '127.0.0.1', servername: 'a.test', ca: ca.ca, ALPNProtocols: ['http/1.1'], ...o }, () => resolve(c));
    c.once('error', reject);
  });
}

function collect(s: tls.TLSSocket | NativeSocket): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  return { bytes: () => Buffer.concat(chunks) };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('handshake over TLS 1.3 and 1.2: verified certificate, ALPN http/1.1, the facts JS logs', async () => {
  const seen: NativeSocket[] = [];
  const srv = await nativeServer(context(), (s) => seen.push(s));
  try {
    for (const v of ['TLSv1.3', 'TLSv1.2'] as const) {
      const c = await connect(srv.port, { minVersion: v, maxVersion: v });
      assert.equal(c.authorized, true, 'the client verified the chain');
      assert.equal(c.getProtocol(), v);
      assert.equal(c.alpnProtocol, 'http/1.1');
      await until(() => seen.length > 0 && seen[seen.length - 1]!.secure);
      const f = seen[seen.length - 1]!.tlsFacts();
      assert.equal(f?.version, v);
      assert.equal(f?.cipher, c.getCipher().standardName);
      assert.equal(f?.alpn, 'http/1.1');
      assert.equal(f?.resumed, false);
      c.destroy();
    }
  } finally {
    for (const s of seen) s.destroy();
    srv.close();
  }
});

test('bytes both ways: small writes batched, a 4 MiB write sent at once with backpressure, reads while paused kept', async () => {
  let ours: NativeSocket | undefined;
  const srv = await nativeServer(context(), (s) => (ours = s));
  try {
    const c = await connect(srv.port);
    await until(() => ours?.secure === true);
    const s = ours!;
    const atServer = collect(s);
    c.write('one ');
    c.write('two');
    await until(() => atServer.bytes().length === 7);
    assert.equal(atServer.bytes().toString(), 'one two');

    const atClient = collect(c);
    c.pause();
    const big = randomBytes(4 * 1024 * 1024);
    s.write('head:');
    const accepted = s.write(big);
    assert.equal(accepted, false, 'over the high-water mark while the client does not read');
    let drained = false;
    s.once('drain', () => (drained = true));
    await new Promise((r) => setTimeout(r, 100));
    c.resume();
    await until(() => atClient.bytes().length === big.length + 5, 10_000);
    assert.ok(atClient.bytes().subarray(5).equals(big), 'the bytes arrive unchanged and in order');
    await until(() => drained);

    // records that arrive while the reader is paused wait in OpenSSL and come on resume
    s.pause();
    const before = atServer.bytes().length;
    c.write('a'.repeat(20_000));
    c.write('b'.repeat(20_000));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(atServer.bytes().length, before, 'nothing is delivered while paused');
    s.resume();
    await until(() => atServer.bytes().length === before + 40_000);
    assert.equal(atServer.bytes().subarray(before).toString(), 'a'.repeat(20_000) + 'b'.repeat(20_000));
    c.destroy();
  } finally {
    ours?.destroy();
    srv.close();
  }
});

test('close_notify both ways: the client ending is the server\'s end, the server ending is the client\'s', async () => {
  const seen: NativeSocket[] = [];
  const srv = await nativeServer(context(), (s) => seen.push(s));
  try {
    const c1 = await connect(srv.port, { allowHalfOpen: true } as tls.ConnectionOptions);
    await until(() => seen[0]?.secure === true);
    const ended = once(seen[0]!, 'end');
    c1.end();
    await ended;
    const c1Ended = once(c1, 'end');
    seen[0]!.end('bye');
    const got = collect(c1);
    await c1Ended;
    assert.equal(got.bytes().toString(), 'bye');

    const c2 = await connect(srv.port);
    await until(() => seen[1]?.secure === true);
    const c2Ended = once(c2, 'end');
    seen[1]!.end();
    await c2Ended;
    c1.destroy();
    c2.destroy();
  } finally {
    for (const s of seen) s.destroy();
    srv.close();
  }
});

test('a refused handshake: the client gets the alert (protocol version), the server an EPROTO error naming the reason', async () => {
  const errors: NodeJS.ErrnoException[] = [];
  const srv = await nativeServer(context({ minVersion: 'TLSv1.3' }), () => assert.fail('no handshake may finish'), (err) => errors.push(err));
  try {
    await assert.rejects(connect(srv.port, { maxVersion: 'TLSv1.2' }), /protocol version/i);
    await until(() => errors.length === 1);
    assert.equal(errors[0]?.code, 'EPROTO');
    assert.match(String(errors[0]?.message), /unsupported protocol|version/i);
  } finally {
    srv.close();
  }
});

test('session tickets: a context with the same key (another worker) resumes the session; one with another key makes a full handshake', async () => {
  const ticketKey = randomBytes(48);
  const resumed: boolean[] = [];
  const servers = await Promise.all(
    [ticketKey, ticketKey, randomBytes(48)].map((k) =>
      nativeServer(context({ ticketKey: k }), (s) => {
        resumed.push(s.tlsFacts()?.resumed === true);
        s.end();
      }),
    ),
  );
  const sessionOf = (v: 'TLSv1.2' | 'TLSv1.3', port: number, session?: Buffer): Promise<{ session: Buffer | undefined; reused: boolean }> =>
    new Promise((resolve, reject) => {
      // TLS 1.3 tickets come after the handshake, maybe in the same read: listen from the start
      const c = tls.connect({ port, host: '127.0.0.1', servername: 'a.test', ca: ca.ca, maxVersion: v, ALPNProtocols: ['http/1.1'], ...(session === undefined ? {} : { session }) });
      let ticket: Buffer | undefined;
      let reused = false;
      c.once('error', reject);
      c.once('secureConnect', () => (reused = c.isSessionReused()));
      c.on('session', (t: Buffer) => (ticket ??= t));
      c.once('close', () => resolve({ session: ticket, reused }));
      c.resume();
    });
  try {
    for (const v of ['TLSv1.3', 'TLSv1.2'] as const) {
      resumed.length = 0;
      const first = await sessionOf(v, servers[0]!.port);
      assert.ok(first.session, `${v}: a ticket was issued`);
      assert.equal(first.reused, false);
      assert.equal((await sessionOf(v, servers[1]!.port, first.session)).reused, true, `${v}: resumed with the same key elsewhere`);
      assert.equal((await sessionOf(v, servers[2]!.port, first.session)).reused, false, `${v}: another key: a full handshake, not a failure`);
      await until(() => resumed.length === 3);
      assert.deepEqual(resumed, [false, true, false], 'the C layer says which handshake resumed');
    }
  } finally {
    for (const s of servers) s.close();
  }
});
