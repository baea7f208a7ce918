// NativeSocket (the C connection layer under the HTTP path) against real loopback peers:
// bytes both ways, backpressure and 'drain', half-close, idle timeout, reset, detach back to a
// net.Socket with unsent bytes kept, and no descriptor left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { NativeSocket, type AdoptOptions } from '../../../src/proxy/native/native-socket.ts';
import type { ByteStream } from '../../../src/proxy/byte-stream.ts';

/** A connected pair on loopback: `ours` adopted into a NativeSocket, `peer` a plain net.Socket. */
async function pair(opts: AdoptOptions = {}): Promise<{ ours: NativeSocket; peer: net.Socket; close(): void }> {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(client, 'connect');
  const [peer] = await accepted;
  const adopted = NativeSocket.adopt(client, opts);
  assert.ok(adopted, 'a connected socket can be adopted');
  return {
    ours: adopted.socket,
    peer,
    close() {
      adopted.socket.destroy();
      peer.destroy();
      server.close();
    },
  };
}

function collect(s: net.Socket | NativeSocket): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  // NativeSocket chunks are views of a reused buffer: copy
  s.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  return { bytes: () => Buffer.concat(chunks) };
}

test('bytes cross both ways unchanged, and the peer address is known', async () => {
  const p = await pair();
  try {
    assert.equal(p.ours.remoteAddress, '127.0.0.1');
    assert.equal(p.ours.remotePort, p.peer.localPort);
    const got = collect(p.ours);
    p.peer.write('hello ');
    p.peer.write('native');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.bytes().toString(), 'hello native');
    const back = collect(p.peer);
    assert.equal(p.ours.write('string, latin1 é'), true);
    p.ours.write(Buffer.from(' and a buffer'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(back.bytes().toString('latin1'), 'string, latin1 é and a buffer');
    assert.equal(p.ours.bytesRead, 12);
  } finally {
    p.close();
  }
});

test('backpressure: write() says stop past the high-water mark, drain follows once the peer reads', async () => {
  const p = await pair({ highWater: 64 * 1024 });
  try {
    p.peer.pause();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let writes = 0;
    let ok = true;
    // bounded: the kernel buffers take a few MiB at most before ours has to queue
    while (ok && writes < 2000) {
      ok = p.ours.write(chunk);
      writes++;
    }
    assert.equal(ok, false, 'write() returned false before 2000 chunks');
    assert.ok(p.ours.writableLength >= 64 * 1024);
    const drained = once(p.ours, 'drain');
    let received = 0;
    p.peer.on('data', (c: Buffer) => (received += c.length));
    p.peer.resume();
    await drained;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(received, writes * chunk.length);
    assert.equal(p.ours.writableLength, 0);
  } finally {
    p.close();
  }
});

test('allowHalfOpen: the peer FIN arrives as end, and our side can still answer', async () => {
  const p = await pair({ allowHalfOpen: true });
  try {
    const ended = once(p.ours, 'end');
    p.peer.end('question');
    await ended;
    const back = collect(p.peer);
    const peerEnded = once(p.peer, 'end');
    const closed = once(p.ours, 'close');
    p.ours.end('answer');
    await peerEnded;
    assert.equal(back.bytes().toString(), 'answer');
    // both directions are done: the connection closes by itself
    await closed;
  } finally {
    p.close();
  }
});

test('without allowHalfOpen, a peer FIN closes our side after what is queued', async () => {
  const p = await pair({ allowHalfOpen: false });
  try {
    const closed = once(p.ours, 'close');
    const back = collect(p.peer);
    const peerEnded = once(p.peer, 'end');
    p.ours.write('last words');
    p.peer.end();
    await peerEnded;
    await closed;
    assert.equal(back.bytes().toString(), 'last words');
  } finally {
    p.close();
  }
});

test('idle timeout fires when nothing moves, and activity postpones it', async () => {
  const p = await pair();
  try {
    p.ours.setTimeout(150);
    const t0 = Date.now();
    const keepBusy = setInterval(() => p.peer.write('x'), 50);
    await new Promise((r) => setTimeout(r, 300));
    clearInterval(keepBusy);
    await once(p.ours, 'timeout');
    const waited = Date.now() - t0;
    assert.ok(waited >= 400, `timeout after ${waited} ms, activity should have postponed it`);
  } finally {
    p.close();
  }
});

test('a reset from the peer is reported as an error, then close', async () => {
  const p = await pair();
  try {
    const err = once(p.ours, 'error') as Promise<[NodeJS.ErrnoException]>;
    // not events.once: it rejects on the 'error' that comes first
    const closed = new Promise<[boolean]>((r) => p.ours.once('close', (hadError: boolean) => r([hadError])));
    p.ours.write('ping');
    await new Promise((r) => setTimeout(r, 20));
    p.peer.resetAndDestroy();
    const [e] = await err;
    assert.equal(e.code, 'ECONNRESET');
    const [hadError] = await closed;
    assert.equal(hadError, true);
  } finally {
    p.close();
  }
});

test('resetAndDestroy sends RST to the peer', async () => {
  const p = await pair();
  try {
    const err = once(p.peer, 'error') as Promise<[NodeJS.ErrnoException]>;
    p.ours.resetAndDestroy();
    const [e] = await err;
    assert.equal(e.code, 'ECONNRESET');
  } finally {
    p.close();
  }
});

test('detach gives a working net.Socket back, queued bytes first', async () => {
  const p = await pair();
  try {
    const back = collect(p.peer);
    p.ours.write('queued before detach; ');
    // detached in the same turn: the bytes are still in our queue
    const s = p.ours.detach();
    assert.ok(s instanceof net.Socket);
    s.write('written after');
    const got = collect(s);
    p.peer.write('to the new owner');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(back.bytes().toString(), 'queued before detach; written after');
    assert.equal(got.bytes().toString(), 'to the new owner');
    s.destroy();
  } finally {
    p.close();
  }
});

test('200 adopted connections leave no descriptor behind', async () => {
  const openFds = (): number => readdirSync('/proc/self/fd').length;
  const warm = await pair();
  warm.close();
  await new Promise((r) => setTimeout(r, 50));
  const before = openFds();
  for (let i = 0; i < 20; i++) {
    const ps = await Promise.all(Array.from({ length: 10 }, () => pair()));
    await Promise.all(
      ps.map(async (p) => {
        const closed = once(p.ours, 'close');
        p.close();
        await closed;
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(openFds(), before);
});

test('without allowHalfOpen: our end() first, then the peer FIN closes the connection', async () => {
  const p = await pair({ allowHalfOpen: false });
  try {
    const closed = once(p.ours, 'close');
    const peerEnded = once(p.peer, 'end');
    p.peer.resume(); // 'end' comes only once the data before it is consumed
    p.ours.end('bye');
    await peerEnded;
    p.peer.end();
    await closed;
  } finally {
    p.close();
  }
});

test('as a ByteStream: native is the socket itself, and destroySoon sends what was written in this turn, then FIN', async () => {
  const p = await pair({ allowHalfOpen: true });
  try {
    const s: ByteStream = p.ours;
    assert.equal(s.native, p.ours);
    const back = collect(p.peer);
    const peerEnded = once(p.peer, 'end');
    const closed = once(p.ours, 'close');
    // batched writes go out after this loop turn: destroySoon must not drop them
    s.write('last ');
    s.write(Buffer.from('answer'));
    s.destroySoon();
    await peerEnded;
    await closed;
    assert.equal(back.bytes().toString(), 'last answer');
    assert.equal(p.ours.destroyed, true);
  } finally {
    p.close();
  }
});
