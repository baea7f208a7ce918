// Connect failures: retries, redispatch to another server, and giving up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { backendCfg, connect, listenServer, readAll, refusedPort, serverCfg, startFrontend, timeouts } from './fixtures.ts';

test('first server refuses: retry is redispatched to the second one', async () => {
  const dead = await refusedPort();
  const srv = await listenServer((s) => s.end('from s2'));
  // 'first' always picks the first usable server, so the first attempt goes to the dead one.
  const be = backendCfg([serverCfg('s1', dead), serverCfg('s2', srv.port)], { balance: { algorithm: 'first' } });
  const h = await startFrontend(be);
  try {
    const c = await connect(h.port);
    c.end();
    assert.equal((await readAll(c)).toString(), 'from s2');
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.server, 's2');
    assert.equal(rec.attempts, 2);
    assert.equal(rec.termination, 'closed');
    assert.ok(h.logs.lines.some((l) => l.msg === 'tcp connect failed, retrying' && l.server === 's1'));
    assert.equal(h.pool.servers[0]!.active, 0);
    assert.equal(h.pool.servers[1]!.active, 0);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('without redispatch the same server is retried, then the client is closed', async () => {
  const dead = await refusedPort();
  const srv = await listenServer((s) => s.end('never'));
  const be = backendCfg([serverCfg('s1', dead), serverCfg('s2', srv.port)], {
    balance: { algorithm: 'first' },
    redispatch: false,
    retries: 2,
  });
  const h = await startFrontend(be);
  try {
    const c = await connect(h.port);
    assert.equal((await readAll(c)).length, 0);
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'connect-error');
    assert.equal(rec.server, 's1');
    assert.equal(rec.attempts, 3);
    assert.match(rec.error ?? '', /ECONNREFUSED/);
    assert.equal(h.pool.servers[0]!.active, 0);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('every server refuses: retries run out and the connection is closed', async () => {
  const a = await refusedPort();
  const b = await refusedPort();
  const be = backendCfg([serverCfg('s1', a), serverCfg('s2', b)], { retries: 3 });
  const h = await startFrontend(be);
  try {
    const c = await connect(h.port);
    assert.equal((await readAll(c)).length, 0);
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'connect-error');
    assert.equal(rec.attempts, 4);
    assert.equal(h.pool.servers[0]!.active + h.pool.servers[1]!.active, 0);
  } finally {
    await h.close();
  }
});

test('passive health: connect errors feed the pool and take the dead server out', async () => {
  const dead = await refusedPort();
  const srv = await listenServer((s) => s.end('ok'));
  const be = backendCfg([serverCfg('s1', dead), serverCfg('s2', srv.port)], { passive: { errorLimit: 2 } });
  const h = await startFrontend(be);
  try {
    for (let i = 0; i < 6; i++) {
      const c = await connect(h.port);
      c.end();
      assert.equal((await readAll(c)).toString(), 'ok');
    }
    assert.equal(h.pool.servers[0]!.up, false);
    assert.equal(h.pool.servers[1]!.up, true);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('connect timeout counts as a connect error and is redispatched', async () => {
  // A loopback listener whose accept queue is full drops further SYNs, so connect() hangs: a
  // real connect timeout without leaving loopback. Python holds the socket without accepting.
  const py = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const fillers: net.Socket[] = [];
  const srv = await listenServer((s) => s.end('from s2'));
  try {
    const stuckPort = Number(await new Promise<string>((r) => py.stdout.once('data', (d: Buffer) => r(d.toString()))));
    // Fill the queue: connections beyond it stay in SYN-SENT.
    for (let i = 0; i < 4; i++) {
      const f = net.connect({ host: '127.0.0.1', port: stuckPort });
      f.on('error', () => {});
      fillers.push(f);
    }
    await new Promise((r) => setTimeout(r, 100));
    const be = backendCfg([serverCfg('s1', stuckPort), serverCfg('s2', srv.port)], {
      balance: { algorithm: 'first' },
      timeouts: timeouts({ connect: 200 }),
    });
    const h = await startFrontend(be);
    try {
      const c = await connect(h.port);
      c.end();
      assert.equal((await readAll(c)).toString(), 'from s2');
      const rec = await h.logs.nextAccess(1);
      assert.equal(rec.server, 's2');
      assert.equal(rec.attempts, 2);
      const retry = h.logs.lines.find((l) => l.msg === 'tcp connect failed, retrying');
      assert.match(String(retry?.reason), /connect timeout after 200 ms/);
      assert.ok(rec.durationMs >= 190);
    } finally {
      await h.close();
    }
  } finally {
    for (const f of fillers) f.destroy();
    py.kill();
    await srv.close();
  }
});

test('observe layer4: a server that resets mid-stream stays up, a refusing one goes down', async () => {
  const dead = await refusedPort();
  const resetting = await listenServer((s) => {
    s.write('partial');
    setTimeout(() => s.resetAndDestroy(), 20);
  });
  const be = backendCfg([serverCfg('s1', dead), serverCfg('s2', resetting.port)], { passive: { errorLimit: 1, observe: 'layer4' } });
  const h = await startFrontend(be);
  try {
    for (let i = 0; i < 4; i++) {
      const c = await connect(h.port);
      c.on('error', () => {});
      assert.equal((await readAll(c)).toString(), 'partial');
    }
    assert.equal(h.logs.lines.filter((l) => l.termination === 'server-reset').length, 4);
    assert.equal(h.pool.servers[0]!.up, false);
    // Four failed exchanges at error-limit 1, and still up: layer4 does not count them.
    assert.equal(h.pool.servers[1]!.up, true);
  } finally {
    await h.close();
    await resetting.close();
  }
});
