import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import type { ServerState } from '../../../src/pool/server-state.ts';
import type { PickRequest } from '../../../src/balance/policy.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { backendConfig, serverConfig } from './backend-config.ts';
import { FakeTimers } from './fake-timers.ts';

const req: PickRequest = { sourceIp: '10.0.0.1', uri: '/', random: Math.random };

function pool(cfg = backendConfig([serverConfig('a'), serverConfig('b')]), timers = new FakeTimers()): BackendPool {
  return new BackendPool(cfg, { log: silentLogger(), timers });
}

function sync(r: ReturnType<BackendPool['acquire']>): ServerState | string {
  assert.ok(!(r instanceof Promise), 'expected a synchronous result');
  return typeof r === 'string' ? r : r;
}

function name(r: ReturnType<BackendPool['acquire']>): string {
  const v = sync(r);
  return typeof v === 'string' ? v : v.name;
}

test('servers start up, in config order, with admin state from config', () => {
  const p = pool(backendConfig([serverConfig('a'), serverConfig('b', { disabled: true }), serverConfig('c', { drain: true, weight: 3 })]));
  assert.deepEqual(p.servers.map((s) => [s.name, s.index, s.up, s.admin, s.weight]), [
    ['a', 0, true, 'ready', 1],
    ['b', 1, true, 'maint', 1],
    ['c', 2, true, 'drain', 3],
  ]);
  assert.equal(p.hasUsable(), true);
  assert.deepEqual(p.eligibleServers.map((s) => s.name), ['a']);
  assert.throws(() => pool(backendConfig([serverConfig('a'), serverConfig('a')])), /duplicate server name "a"/);
});

test('acquire is synchronous and round-robins; release pairs', () => {
  const p = pool();
  const got = [name(p.acquire(req)), name(p.acquire(req)), name(p.acquire(req))];
  assert.deepEqual(got, ['a', 'b', 'a']);
  assert.equal(p.servers[0]!.active, 2);
  p.release(p.servers[0]!, 'ok');
  p.release(p.servers[0]!, 'ok');
  assert.equal(p.servers[0]!.active, 0);
  p.release(p.servers[0]!, 'ok'); // never below zero
  assert.equal(p.servers[0]!.active, 0);
});

test('exclude avoids tried servers; nothing left is no-server', () => {
  const p = pool();
  const a = p.servers[0]!;
  for (let i = 0; i < 4; i++) assert.equal(name(p.acquire(req, new Set([a]))), 'b');
  assert.equal(p.acquire(req, new Set(p.servers)), 'no-server');
});

test('backup servers are used only when every normal server is down', () => {
  const p = pool(backendConfig([serverConfig('a'), serverConfig('b'), serverConfig('spare', { backup: true })]));
  const events: boolean[] = [];
  p.on('usable-changed', (u) => events.push(u));
  for (let i = 0; i < 10; i++) assert.notEqual(name(p.acquire(req)), 'spare');
  p.setHealth('a', false, 'test');
  for (let i = 0; i < 10; i++) assert.equal(name(p.acquire(req)), 'b');
  p.setHealth('b', false, 'test');
  for (let i = 0; i < 10; i++) assert.equal(name(p.acquire(req)), 'spare');
  assert.equal(p.hasUsable(), true);
  p.setHealth('spare', false, 'test');
  assert.equal(p.acquire(req), 'no-server');
  assert.equal(p.hasUsable(), false);
  p.setHealth('b', true, 'test');
  assert.equal(name(p.acquire(req)), 'b');
  assert.deepEqual(events, [false, true]);
});

test('admin drain/maint and weight 0 stop new traffic; persistence may use a draining server', () => {
  const p = pool();
  p.setAdmin('a', 'drain');
  for (let i = 0; i < 4; i++) assert.equal(name(p.acquire(req)), 'b');
  assert.equal(p.acquireNamed('a')?.name, 'a');
  p.setAdmin('a', 'maint');
  assert.equal(p.acquireNamed('a'), undefined);
  p.setAdmin('a', 'ready');
  p.setWeight('b', 0);
  for (let i = 0; i < 4; i++) assert.equal(name(p.acquire(req)), 'a');
  assert.equal(p.acquireNamed('nope'), undefined);
  p.setHealth('a', false, 'x');
  assert.equal(p.acquireNamed('a'), undefined);
  assert.throws(() => p.setWeight('a', 257), /weight must be an integer 0-256/);
  assert.throws(() => p.setWeight('a', 1.5), /weight/);
  assert.throws(() => p.setHealth('zz', true, 'x'), /backend web: no server named "zz"/);
  assert.throws(() => p.setAdmin('a', 'bogus' as 'ready'), /bad admin state/);
});

test('weights change the mix; server-state events carry reasons', () => {
  const p = pool();
  const reasons: string[] = [];
  p.on('server-state', (s, r) => reasons.push(`${s.name}: ${r}`));
  p.setWeight('b', 3);
  const c = { a: 0, b: 0 };
  for (let i = 0; i < 400; i++) c[name(p.acquire(req)) as 'a' | 'b']++;
  assert.deepEqual(c, { a: 100, b: 300 });
  p.setHealth('a', false, 'HTTP status 500');
  p.setHealth('a', false, 'again'); // no change, no event
  p.setAdmin('b', 'drain');
  assert.deepEqual(reasons, ['b: weight 1 -> 3', 'a: HTTP status 500', 'b: admin state ready -> drain']);
});

test('maxconn: full servers are skipped, then requests queue FIFO and get slots on release', async () => {
  const timers = new FakeTimers();
  const cfg = backendConfig([serverConfig('a', { maxconn: 1 }), serverConfig('b', { maxconn: 1 })]);
  const p = pool(cfg, timers);
  const a = sync(p.acquire(req)) as ServerState;
  const b = sync(p.acquire(req)) as ServerState;
  assert.notEqual(a, b);
  const q1 = p.acquire(req);
  const q2 = p.acquire(req);
  const q3 = p.acquire(req);
  assert.ok(q1 instanceof Promise && q2 instanceof Promise && q3 instanceof Promise);
  assert.equal(p.queueLength, 3);
  const order: string[] = [];
  void q1.then((r) => order.push(`q1:${(r as ServerState).name}`));
  void q2.then((r) => order.push(`q2:${(r as ServerState).name}`));
  void q3.then((r) => order.push(`q3:${typeof r === 'string' ? r : r.name}`));
  p.release(b, 'ok');
  p.release(a, 'ok');
  await Promise.resolve();
  assert.deepEqual(order, ['q1:b', 'q2:a']);
  assert.equal(p.queueLength, 1);
  assert.equal(a.active + b.active, 2);
  timers.advance(999);
  await Promise.resolve();
  assert.equal(order.length, 2);
  timers.advance(1);
  await Promise.resolve();
  assert.deepEqual(order, ['q1:b', 'q2:a', 'q3:queue-timeout']);
  assert.equal(p.queueLength, 0);
  assert.equal(timers.size, 0);
});

test('maxqueue bounds the queue: beyond it acquire says queue-full', () => {
  const cfg = backendConfig([serverConfig('a', { maxconn: 1, maxqueue: 2 })]);
  const p = pool(cfg);
  sync(p.acquire(req));
  assert.ok(p.acquire(req) instanceof Promise);
  assert.ok(p.acquire(req) instanceof Promise);
  assert.equal(p.acquire(req), 'queue-full');
  p.close();
  assert.equal(p.queueLength, 0);
});

test('queued requests get a server that comes up, or no-server when all go down', async () => {
  const cfg = backendConfig([serverConfig('a', { maxconn: 1 }), serverConfig('b', { maxconn: 1 })]);
  const p = pool(cfg);
  p.setHealth('b', false, 'x');
  sync(p.acquire(req));
  const q = p.acquire(req) as Promise<ServerState | string>;
  p.setHealth('b', true, 'back');
  assert.equal(((await q) as ServerState).name, 'b');
  const q2 = p.acquire(req) as Promise<ServerState | string>;
  assert.ok(q2 instanceof Promise);
  p.setHealth('a', false, 'x');
  p.setHealth('b', false, 'x');
  assert.equal(await q2, 'no-server');
});

test('queue timeout with real timers', async () => {
  const cfg = backendConfig([serverConfig('a', { maxconn: 1 })], { timeouts: { ...backendConfig([]).timeouts, queue: 30 } });
  const p = new BackendPool(cfg, { log: silentLogger() });
  sync(p.acquire(req));
  assert.equal(await p.acquire(req), 'queue-timeout');
});

test('acquireNamed respects maxconn and counts as an acquire', () => {
  const p = pool(backendConfig([serverConfig('a', { maxconn: 1 })]));
  const s = p.acquireNamed('a')!;
  assert.equal(s.active, 1);
  assert.equal(p.acquireNamed('a'), undefined);
  p.release(s, 'ok');
  assert.equal(p.acquireNamed('a'), s);
});

test('passive health: N consecutive errors mark down; ok resets the count', () => {
  const timers = new FakeTimers();
  const cfg = backendConfig([serverConfig('a'), serverConfig('b')], { passive: { errorLimit: 3 } });
  const p = pool(cfg, timers);
  const a = p.servers[0]!;
  const reasons: string[] = [];
  p.on('server-state', (_s, r) => reasons.push(r));
  for (const o of ['connect-error', 'timeout', 'ok', 'server-error', 'server-error'] as const) {
    a.active++;
    p.release(a, o);
  }
  assert.equal(a.up, true);
  a.active++;
  p.release(a, 'connect-error');
  assert.equal(a.up, false);
  assert.deepEqual(reasons, ['passive: 3 consecutive errors']);
  for (let i = 0; i < 4; i++) assert.equal(name(p.acquire(req)), 'b');
  // no active checks configured: retried after the default pause
  timers.advance(9_999);
  assert.equal(a.up, false);
  timers.advance(1);
  assert.equal(a.up, true);
  assert.match(reasons[1]!, /passive: retrying after 10000ms down/);
});

test('passive health with active checks leaves recovery to the checker', () => {
  const timers = new FakeTimers();
  const cfg = backendConfig([serverConfig('a'), serverConfig('b')], {
    passive: { errorLimit: 1 },
    health: { type: 'tcp', interval: 1000, fastinter: 500, downinter: 2000, timeout: 500, rise: 2, fall: 3 },
  });
  const p = pool(cfg, timers);
  const a = p.servers[0]!;
  a.active++;
  p.release(a, 'timeout');
  assert.equal(a.up, false);
  assert.equal(timers.size, 0);
});

test('observe layer4 counts only failed connects; failed exchanges neither count nor reset', () => {
  const cfg = backendConfig([serverConfig('a'), serverConfig('b')], { passive: { errorLimit: 2, observe: 'layer4' } });
  const p = pool(cfg, new FakeTimers());
  const a = p.servers[0]!;
  for (const o of ['server-error', 'timeout', 'connect-error', 'server-error', 'timeout'] as const) {
    a.active++;
    p.release(a, o);
  }
  assert.equal(a.up, true);
  a.active++;
  p.release(a, 'connect-error');
  assert.equal(a.up, false);
});

test('observe layer7 counts failed exchanges as well', () => {
  const cfg = backendConfig([serverConfig('a'), serverConfig('b')], { passive: { errorLimit: 2, observe: 'layer7' } });
  const p = pool(cfg, new FakeTimers());
  const a = p.servers[0]!;
  for (const o of ['server-error', 'timeout'] as const) {
    a.active++;
    p.release(a, o);
  }
  assert.equal(a.up, false);
});

test('passive health disabled with errorLimit 0', () => {
  const p = pool();
  const a = p.servers[0]!;
  for (let i = 0; i < 100; i++) {
    a.active++;
    p.release(a, 'connect-error');
  }
  assert.equal(a.up, true);
});

test('leastconn pool keeps the policy index in step with acquire/release', () => {
  const p = pool(backendConfig([serverConfig('a'), serverConfig('b'), serverConfig('c')], { balance: { algorithm: 'leastconn' } }));
  const held: ServerState[] = [];
  for (let i = 0; i < 6; i++) held.push(sync(p.acquire(req)) as ServerState);
  assert.deepEqual(p.servers.map((s) => s.active), [2, 2, 2]);
  p.release(p.servers[1]!, 'ok');
  p.release(p.servers[1]!, 'ok');
  assert.equal(name(p.acquire(req)), 'b');
  assert.equal(name(p.acquire(req)), 'b');
});

test('release of a server from an older pool only gives back the slot', () => {
  const old = pool();
  const s = sync(old.acquire(req)) as ServerState;
  const fresh = pool(backendConfig([serverConfig('a'), serverConfig('b')], { passive: { errorLimit: 1 } }));
  fresh.release(s, 'connect-error');
  assert.equal(s.active, 0);
  assert.equal(fresh.servers[0]!.up, true);
});
