// Real HTTP backends on loopback, real checks, real pools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import { CheckerSet } from '../../../src/health/checker-set.ts';
import { defaultRunner, type CheckRunner } from '../../../src/health/scheduler.ts';
import type { BackendConfig, HealthConfig } from '../../../src/config/types.ts';
import { silentLogger } from '../../../src/log/logger.ts';

interface Web {
  server: Server;
  port: number;
  status: number;
}

async function startWeb(port = 0): Promise<Web> {
  const web: Web = { server: undefined as unknown as Server, port, status: 200 };
  web.server = createServer((_req, res) => {
    res.statusCode = web.status;
    res.end(web.status === 200 ? 'OK' : 'bad');
  });
  await new Promise<void>((r) => web.server.listen(port, '127.0.0.1', r));
  web.port = (web.server.address() as AddressInfo).port;
  return web;
}

async function stopWeb(web: Web): Promise<void> {
  web.server.closeAllConnections();
  await new Promise((r) => web.server.close(r));
}

function backend(webs: Web[], health: HealthConfig, errorLimit = 0): BackendConfig {
  return {
    name: 'web',
    mode: 'http',
    balance: { algorithm: 'roundrobin' },
    health,
    passive: { errorLimit },
    servers: webs.map((w, i) => ({ name: `web${i + 1}`, host: '127.0.0.1', port: w.port, weight: 1, backup: false, disabled: false, drain: false, check: true })),
    retries: 3,
    redispatch: true,
    timeouts: { connect: 1000, client: 1000, server: 1000, httpRequest: 1000, httpKeepAlive: 1000, queue: 1000, tunnel: 1000 },
    stickSource: false,
    pipeline: 1,
    peerFallback: false,
  };
}

const health: HealthConfig = {
  type: 'http',
  http: { method: 'GET', path: '/', expectStatus: [{ from: 200, to: 399 }] },
  interval: 40,
  fastinter: 20,
  downinter: 40,
  timeout: 300,
  rise: 2,
  fall: 3,
};

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

/** Runner that records every result per server port, so tests can count checks. */
function recording(): { run: CheckRunner; results: Map<number, boolean[]> } {
  const results = new Map<number, boolean[]>();
  const run: CheckRunner = async (target, h, signal) => {
    const r = await defaultRunner(target, h, signal);
    if (!signal.aborted) {
      const list = results.get(target.port) ?? [];
      list.push(r.ok);
      results.set(target.port, list);
    }
    return r;
  };
  return { run, results };
}

test('a killed server goes down after `fall` failed checks and comes back after `rise`', async () => {
  const webs = [await startWeb(), await startWeb()];
  const pool = new BackendPool(backend(webs, health), { log: silentLogger() });
  const { run, results } = recording();
  const checkers = new CheckerSet([pool], { log: silentLogger(), run });
  const events: string[] = [];
  pool.on('server-state', (s, reason) => events.push(`${s.name} ${s.up ? 'UP' : 'DOWN'} ${reason}`));
  checkers.start();
  try {
    const port1 = webs[0]!.port;
    await until(() => checkers.states().every((s) => s.phase === 'up'), 'all fully up');
    await stopWeb(webs[0]!);
    const okBefore = results.get(port1)!.length;
    await until(() => !pool.servers[0]!.up, 'web1 down');
    const after = results.get(port1)!.slice(okBefore);
    // exactly `fall` failures flipped it (a check in flight while we stopped may have passed)
    assert.deepEqual(after.filter((x) => !x).length, 3);
    assert.equal(after.at(-1), false);
    assert.deepEqual(events, ['web1 DOWN connection refused']);
    assert.deepEqual(pool.eligibleServers.map((s) => s.name), ['web2']);

    webs[0] = await startWeb(port1);
    const before = results.get(port1)!.length;
    await until(() => pool.servers[0]!.up, 'web1 up');
    const seq = results.get(port1)!.slice(before);
    // a refused check in flight across the restart may land first; after the last failure: rise passes
    assert.deepEqual(seq.slice(seq.lastIndexOf(false) + 1), [true, true]);
    assert.deepEqual(events, ['web1 DOWN connection refused', 'web1 UP HTTP status 200']);
  } finally {
    checkers.stop();
    for (const w of webs) await stopWeb(w).catch(() => {});
  }
});

test('HTTP status expectations drive health; states() reports counters and reasons', async () => {
  const webs = [await startWeb()];
  const pool = new BackendPool(backend(webs, { ...health, rise: 1, fall: 2 }), { log: silentLogger() });
  const checkers = new CheckerSet([pool], { log: silentLogger() });
  const usable: boolean[] = [];
  pool.on('usable-changed', (u) => usable.push(u));
  checkers.start();
  try {
    webs[0]!.status = 503;
    await until(() => !pool.servers[0]!.up, 'down on 503');
    const st = checkers.states()[0]!;
    assert.equal(st.up, false);
    assert.equal(st.last?.reason, 'HTTP status 503');
    assert.equal(pool.hasUsable(), false);
    webs[0]!.status = 200;
    await until(() => pool.servers[0]!.up, 'up on 200');
    assert.deepEqual(usable, [false, true]);
  } finally {
    checkers.stop();
    await stopWeb(webs[0]!);
  }
});

test('passive mark-down is held until active checks pass `rise` times', async () => {
  const webs = [await startWeb(), await startWeb()];
  const slow: HealthConfig = { ...health, interval: 60_000, fastinter: 30, downinter: 30 };
  const pool = new BackendPool(backend(webs, slow, 2), { log: silentLogger() });
  const { run, results } = recording();
  const checkers = new CheckerSet([pool], { log: silentLogger(), run });
  const events: string[] = [];
  pool.on('server-state', (s, reason) => events.push(`${s.name} ${s.up ? 'UP' : 'DOWN'} ${reason}`));
  checkers.start();
  try {
    const s = pool.acquireNamed('web1')!;
    pool.release(s, 'connect-error');
    pool.acquireNamed('web1');
    pool.release(s, 'server-error');
    assert.equal(s.up, false);
    await until(() => s.up, 'web1 back by active checks');
    assert.deepEqual(events, ['web1 DOWN passive: 2 consecutive errors', 'web1 UP HTTP status 200']);
    assert.ok((results.get(webs[0]!.port) ?? []).length >= 2);
  } finally {
    checkers.stop();
    for (const w of webs) await stopWeb(w);
  }
});

test('tcp checks: servers without `check` are not checked; stop() ends all checking', async () => {
  const webs = [await startWeb(), await startWeb()];
  const cfg = backend(webs, { ...health, type: 'tcp', http: undefined });
  cfg.servers[1]!.check = false;
  const pool = new BackendPool(cfg, { log: silentLogger() });
  const { run, results } = recording();
  const checkers = new CheckerSet([pool], { log: silentLogger(), run });
  checkers.start();
  try {
    await until(() => (results.get(webs[0]!.port) ?? []).length >= 3, 'some checks');
    assert.equal(results.get(webs[1]!.port), undefined);
    assert.equal(checkers.states().length, 1);
    assert.equal(checkers.states()[0]!.last?.reason, 'TCP connect ok');
  } finally {
    checkers.stop();
  }
  const n = results.get(webs[0]!.port)!.length;
  await sleep(150);
  assert.equal(results.get(webs[0]!.port)!.length, n);
  for (const w of webs) await stopWeb(w);
});
