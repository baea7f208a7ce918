import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import { restorePools, snapshotPools } from '../../../src/pool/state-transfer.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { backendConfig, serverConfig } from './backend-config.ts';

const mk = (cfg: ReturnType<typeof backendConfig>) => new BackendPool(cfg, { log: silentLogger() });

test('health, admin and weight overrides survive a reload by name', () => {
  const old = mk(backendConfig([serverConfig('a'), serverConfig('b'), serverConfig('c')]));
  old.setHealth('a', false, 'HTTP status 500');
  old.setAdmin('b', 'drain');
  old.setWeight('c', 7);
  const snap = JSON.parse(JSON.stringify(snapshotPools([old])));
  // new config: order changed, a new server d
  const next = mk(backendConfig([serverConfig('d'), serverConfig('c'), serverConfig('b'), serverConfig('a')]));
  assert.equal(restorePools([next], snap), 3);
  const by = (n: string) => next.server(n)!;
  assert.equal(by('a').up, false);
  assert.equal(by('b').admin, 'drain');
  assert.equal(by('c').weight, 7);
  assert.equal(by('d').up, true);
  assert.deepEqual(next.eligibleServers.map((s) => s.name), ['d', 'c']);
});

test('health transitions are counted and carried over a reload, the carrying itself not counted', () => {
  const old = mk(backendConfig([serverConfig('a')]));
  old.setHealth('a', false, 'HTTP status 500');
  old.setHealth('a', false, 'still 500');
  old.setHealth('a', true, 'HTTP status 200');
  old.setHealth('a', false, 'timeout');
  assert.deepEqual([old.server('a')!.wentDown, old.server('a')!.wentUp], [2, 1]);
  const next = mk(backendConfig([serverConfig('a')]));
  restorePools([next], JSON.parse(JSON.stringify(snapshotPools([old]))));
  assert.equal(next.server('a')!.up, false);
  assert.deepEqual([next.server('a')!.wentDown, next.server('a')!.wentUp], [2, 1]);
});

test('changed config values win; a new address starts fresh; unknown backends are ignored', () => {
  const old = mk(backendConfig([serverConfig('a'), serverConfig('b'), serverConfig('c')]));
  old.setHealth('a', false, 'x');
  old.setAdmin('b', 'maint');
  old.setWeight('c', 7);
  const snap = snapshotPools([old]);
  const next = mk(
    backendConfig([serverConfig('a', { port: 2 }), serverConfig('b', { drain: true }), serverConfig('c', { weight: 2 })]),
  );
  const other = mk(backendConfig([serverConfig('a')], { name: 'other' }));
  assert.equal(restorePools([next, other], snap), 0);
  assert.equal(next.server('a')!.up, true);
  assert.equal(next.server('b')!.admin, 'drain');
  assert.equal(next.server('c')!.weight, 2);
  assert.equal(other.server('a')!.up, true);
});
