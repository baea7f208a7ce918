import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import { StickTable } from '../../../src/pool/stick-table.ts';
import type { ServerState } from '../../../src/pool/server-state.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { backendConfig, serverConfig } from './backend-config.ts';
import { FakeTimers } from './fake-timers.ts';

function pick(p: BackendPool, ip: string): string {
  const r = p.acquire({ sourceIp: ip, uri: '/', random: Math.random });
  assert.ok(typeof r === 'object' && !(r instanceof Promise));
  p.release(r as ServerState, 'ok');
  return (r as ServerState).name;
}

test('stick: source sends a client back to its server, re-picks when it is down, and stays after', () => {
  const cfg = { ...backendConfig([serverConfig('a'), serverConfig('b'), serverConfig('c')]), stickSource: true };
  const p = new BackendPool(cfg, { log: silentLogger(), timers: new FakeTimers() });
  const first = new Map<string, string>();
  for (let i = 0; i < 30; i++) first.set(`10.0.0.${i}`, pick(p, `10.0.0.${i}`));
  // round robin spread the clients over every server...
  assert.equal(new Set(first.values()).size, 3);
  // ...and each comes back to the same one, many times over
  for (let round = 0; round < 5; round++) for (const [ip, s] of first) assert.equal(pick(p, ip), s);

  const [ip, server] = [...first].find(([, s]) => s === 'a')!;
  p.setHealth('a', false, 'test');
  const moved = pick(p, ip);
  assert.notEqual(moved, 'a');
  p.setHealth('a', true, 'test');
  assert.equal(pick(p, ip), moved, 'the client stays on its new server when the old one returns');
  assert.equal(server, 'a');
});

test('stick table forgets idle entries and the least recently used when full', () => {
  const t = new StickTable(2, 1000);
  t.record('x', 'a', 0);
  assert.equal(t.lookup('x', 999), 'a');
  assert.equal(t.lookup('x', 2001), undefined);
  t.record('p', 'a', 0);
  t.record('q', 'b', 1);
  t.lookup('p', 2);
  t.record('p', 'a', 3); // p used most recently
  t.record('r', 'c', 4);
  assert.equal(t.size, 2);
  assert.equal(t.lookup('q', 5), undefined);
  assert.equal(t.lookup('p', 5), 'a');
});
