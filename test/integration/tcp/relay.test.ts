// TCP mode end to end on loopback: byte relay, half-close in both orders, bulk transfer, idle
// timeout, no server. Servers are real net servers; the pool is the real BackendPool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { encodeProxyV1 } from '../../../src/proxy/tcp/proxy-protocol.ts';
import { backendCfg, connect, frontendCfg, listenServer, readAll, serverCfg, startFrontend, timeouts, untilEqual } from './fixtures.ts';

test('client half-closes first and still receives the server reply', async () => {
  // The server answers only after EOF from the client: needs FIN to cross while the reverse stays open.
  const srv = await listenServer((s) => {
    let n = 0;
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('end', () => s.end(`got ${n} bytes`));
  });
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]));
  try {
    const c = await connect(h.port);
    const reply = readAll(c);
    c.write('hello ');
    c.end('world');
    assert.equal((await reply).toString(), 'got 11 bytes');
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'closed');
    assert.equal(rec.firstFin, 'client');
    assert.equal(rec.server, 's1');
    assert.equal(rec.backend, 'be');
    assert.equal(rec.frontend, 'fe');
    assert.equal(rec.bytesIn, 11);
    assert.equal(rec.bytesOut, 12);
    assert.equal(rec.attempts, 1);
    assert.ok(rec.connectMs >= 0);
    assert.equal(h.pool.servers[0]!.active, 0, 'released');
  } finally {
    await h.close();
    await srv.close();
  }
});

test('server half-closes first and still receives what the client sends afterwards', async () => {
  let received: Promise<string> | undefined;
  const srv = await listenServer((s) => {
    s.end('banner');
    received = readAll(s).then((b) => b.toString());
  });
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]));
  try {
    const c = await connect(h.port);
    const chunks: Buffer[] = [];
    c.on('data', (d: Buffer) => chunks.push(d));
    await new Promise<void>((r) => c.once('end', r));
    assert.equal(Buffer.concat(chunks).toString(), 'banner');
    // Our side is still writable: the server must get this after it sent FIN.
    c.end('late data');
    assert.equal(await received, 'late data');
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'closed');
    assert.equal(rec.firstFin, 'server');
  } finally {
    await h.close();
    await srv.close();
  }
});

test('10 MiB each way at the same time, byte exact', async () => {
  const size = 10 * 1024 * 1024;
  const down = randomBytes(size);
  const up = randomBytes(size);
  let serverGot: Promise<Buffer> | undefined;
  const srv = await listenServer((s) => {
    serverGot = readAll(s);
    s.end(down);
  });
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]));
  try {
    const c = await connect(h.port);
    const got = readAll(c);
    c.end(up);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const [clientGot, srvGot] = await Promise.all([got, (async () => { while (!serverGot) await new Promise((r) => setTimeout(r, 5)); return serverGot; })()]);
    assert.equal(clientGot.length, size);
    assert.equal(sha(clientGot), sha(down));
    assert.equal(srvGot.length, size);
    assert.equal(sha(srvGot), sha(up));
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.bytesIn, size);
    assert.equal(rec.bytesOut, size);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('backpressure: a client that stops reading does not make the proxy buffer the whole stream', async () => {
  // The server offers 64 MiB as fast as it can; the client reads nothing for a while.
  let written = 0;
  const srv = await listenServer((s) => {
    const chunk = Buffer.alloc(64 * 1024);
    const pump = (): void => {
      while (written < 64 * 1024 * 1024) {
        written += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]));
  try {
    const c = await connect(h.port);
    c.pause();
    await new Promise((r) => setTimeout(r, 300));
    // Socket buffers on loopback hold a few MiB at most; without backpressure the proxy would
    // have pulled all 64 MiB into memory by now.
    assert.ok(written < 32 * 1024 * 1024, `server managed to write ${written} bytes while nobody read`);
    c.destroy();
    const rec = await h.logs.nextAccess(1);
    assert.match(rec.termination, /reset|closed/);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('idle tunnel is closed after timeouts.tunnel', async () => {
  const srv = await listenServer(() => {});
  const be = backendCfg([serverCfg('s1', srv.port)], { timeouts: timeouts({ tunnel: 300 }) });
  const h = await startFrontend(be, frontendCfg({ timeouts: timeouts({ tunnel: 300 }) }));
  try {
    const c = await connect(h.port);
    const t0 = Date.now();
    await readAll(c);
    assert.ok(Date.now() - t0 >= 250, 'closed too early');
    const rec = await h.logs.nextAccess(1);
    assert.match(rec.termination, /idle-timeout/);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('no usable server: the client connection is closed at once and logged', async () => {
  const h = await startFrontend(backendCfg([serverCfg('s1', 1, { disabled: true })]));
  try {
    const c = await connect(h.port);
    const data = await readAll(c);
    assert.equal(data.length, 0);
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'no-server');
    assert.equal(rec.server, '');
  } finally {
    await h.close();
  }
});

test('server reset mid-stream reaches the client and counts as a server error', async () => {
  const srv = await listenServer((s) => {
    s.write('partial');
    setTimeout(() => s.resetAndDestroy(), 50);
  });
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)], { passive: { errorLimit: 1 } }));
  try {
    const c = await connect(h.port);
    const errored = new Promise<string>((r) => c.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? '')));
    const data = await readAll(c);
    assert.equal(data.toString(), 'partial');
    assert.equal(await errored, 'ECONNRESET');
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'server-reset');
    // errorLimit 1: the pool marked the server down from our 'server-error' outcome.
    assert.equal(h.pool.servers[0]!.up, false);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('close(grace) lets a running connection finish, then cuts what is left', async () => {
  const srv = await listenServer(() => {});
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]));
  try {
    const c = await connect(h.port);
    const closed = readAll(c);
    await untilEqual(() => h.fe.connections, 1);
    const t0 = Date.now();
    await h.fe.close(200);
    assert.ok(Date.now() - t0 >= 150);
    await closed;
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'aborted');
    assert.equal(h.pool.servers[0]!.active, 0);
  } finally {
    // A failed assertion must not leave listeners behind: they keep the test process alive.
    await h.close();
    await srv.close();
  }
});

test('maxconn: a second client waits in the pool queue and gets the server when the first leaves', async () => {
  const srv = await listenServer((s) => {
    s.on('data', () => {});
    s.on('end', () => s.end('bye'));
  });
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port, { maxconn: 1 })]));
  try {
    const a = await connect(h.port);
    await untilEqual(() => h.pool.servers[0]!.active, 1);
    const b = await connect(h.port);
    const bGot = readAll(b);
    b.end('x');
    await untilEqual(() => h.pool.queueLength, 1);
    a.end();
    assert.equal((await readAll(a)).toString(), 'bye');
    assert.equal((await bGot).toString(), 'bye');
    assert.equal(h.pool.servers[0]!.active, 0);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('close(grace) also ends a connection still waiting in the queue', async () => {
  const srv = await listenServer(() => {});
  // A queue timeout far beyond the test's patience: close() must not wait for it.
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port, { maxconn: 1 })], { timeouts: timeouts({ queue: 30_000 }) }));
  try {
    const a = await connect(h.port);
    await untilEqual(() => h.pool.servers[0]!.active, 1);
    const b = await connect(h.port);
    await untilEqual(() => h.pool.queueLength, 1);
    const ended = Promise.all([readAll(a), readAll(b)]);
    const t0 = Date.now();
    await h.fe.close(100);
    assert.ok(Date.now() - t0 < 10_000, 'close waited for the queue timeout');
    await ended;
    await h.logs.nextAccess(2);
    assert.deepEqual(h.logs.access().map((r) => r.termination).sort(), ['aborted', 'aborted']);
    h.pool.close();
    assert.equal(h.pool.servers[0]!.active, 0);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('accept-proxy: a client that resets while queued ends its session and never holds the server', async () => {
  // The PROXY header reader has read from the socket, so the reset is seen (and the socket
  // closed) while the session waits in the queue. It used to reach the relay with a socket whose
  // 'close' had already fired: the session never ended, its server slot leaked, close() hung.
  const srv = await listenServer((s) => {
    s.on('data', () => {});
    s.on('end', () => s.end('bye'));
  });
  const be = backendCfg([serverCfg('s1', srv.port, { maxconn: 1 })], { timeouts: timeouts({ queue: 30_000 }) });
  const h = await startFrontend(be, frontendCfg({}, true));
  const header = encodeProxyV1({ address: '203.0.113.7', port: 4321 }, { address: '198.51.100.1', port: 443 });
  try {
    const a = await connect(h.port);
    a.write(header);
    await untilEqual(() => h.pool.servers[0]!.active, 1);
    const b = await connect(h.port);
    b.write(header);
    await untilEqual(() => h.pool.queueLength, 1);
    b.resetAndDestroy();
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'client-abort');
    assert.equal(rec.server, '');
    a.end();
    assert.equal((await readAll(a)).toString(), 'bye');
    assert.equal((await h.logs.nextAccess(2)).termination, 'closed');
    assert.equal(h.pool.servers[0]!.active, 0, 'the slot the reset client was queued for is free again');
    assert.equal(h.fe.connections, 0);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('reusePort: a second frontend (another worker) can bind the same address', async () => {
  const srv = await listenServer((s) => s.end('hi'));
  const be = backendCfg([serverCfg('s1', srv.port)]);
  const a = await startFrontend(be);
  const b = await startFrontend(be, frontendCfg({ bind: [{ host: '127.0.0.1', port: a.port, acceptProxy: false }] }));
  try {
    assert.equal(b.port, a.port);
    const c = await connect(a.port);
    c.end();
    assert.equal((await readAll(c)).toString(), 'hi');
  } finally {
    await a.close();
    await b.close();
    await srv.close();
  }
});

test('client reset mid-stream reaches the server as a reset', async () => {
  const serverEnd = Promise.withResolvers<string>();
  const srv = await listenServer((s) => {
    s.on('error', (e: NodeJS.ErrnoException) => serverEnd.resolve(e.code ?? ''));
    s.on('close', () => serverEnd.resolve('closed without error'));
    s.write('hello');
  });
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]));
  try {
    const c = await connect(h.port);
    await new Promise((r) => c.once('data', r));
    c.resetAndDestroy();
    assert.equal(await serverEnd.promise, 'ECONNRESET');
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'client-reset');
  } finally {
    await h.close();
    await srv.close();
  }
});

test('200 relayed connections leave no descriptor behind', async () => {
  const srv = await listenServer((s) => s.on('data', (d) => s.end(d)).on('end', () => s.end()));
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]));
  const openFds = () => readdirSync('/proc/self/fd').length;
  try {
    // warm-up: the first connections allocate the loop's own descriptors
    for (let i = 0; i < 5; i++) {
      const c = await connect(h.port);
      c.end('x');
      await readAll(c);
    }
    await untilEqual(() => h.fe.connections, 0);
    const before = openFds();
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const c = await connect(h.port);
          c.end(`ping ${round}-${i}`);
          assert.equal((await readAll(c)).toString(), `ping ${round}-${i}`);
        }),
      );
    }
    await untilEqual(() => h.fe.connections, 0);
    assert.equal(openFds(), before);
    assert.equal(h.logs.access().filter((r) => r.termination === 'closed').length, 205);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('frontend maxconn: connections beyond it are closed at once, the others carry on', async () => {
  const srv = await listenServer((s) => s.on('data', (d) => s.write(d)));
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]), frontendCfg({ maxconn: 2 }));
  try {
    const a = await connect(h.port);
    const b = await connect(h.port);
    await untilEqual(() => h.fe.connections, 2);
    const c = await connect(h.port);
    assert.equal((await readAll(c)).length, 0);
    a.write('still here');
    assert.equal((await new Promise<Buffer>((r) => a.once('data', r))).toString(), 'still here');
    a.destroy();
    b.destroy();
  } finally {
    await h.close();
    await srv.close();
  }
});
