// The dashboard's bounded histories: the ring, per-server health transitions, the timeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedRing } from '../../../src/admin/bounded-ring.ts';
import { NodeHistory } from '../../../src/admin/node-history.ts';

test('BoundedRing keeps the newest items, oldest first, and refuses a bad capacity', () => {
  const r = new BoundedRing<number>(3);
  assert.deepEqual(r.items(), []);
  r.push(1);
  r.push(2);
  assert.deepEqual(r.items(), [1, 2]);
  for (let i = 3; i <= 10; i++) r.push(i);
  assert.deepEqual(r.items(), [8, 9, 10]);
  assert.equal(r.size, 3);
  assert.throws(() => new BoundedRing(0), /capacity must be a positive integer, got 0/);
  assert.throws(() => new BoundedRing(1.5), /positive integer/);
});

test('NodeHistory: health transitions only when health changes, bounded per server, each also on the timeline', () => {
  const h = new NodeHistory({ perServer: 2, timeline: 4 });
  h.seed('pool', 'a', true);
  h.health('pool', 'a', true, 'admin state ready -> drain', 1); // same health: an admin change, not a transition
  assert.deepEqual(h.healthOf('pool', 'a'), []);
  h.health('pool', 'a', false, 'connection refused', 2);
  h.health('pool', 'a', true, 'HTTP status 200', 3);
  h.health('pool', 'a', false, 'timeout', 4);
  assert.deepEqual(h.healthOf('pool', 'a'), [
    { at: 3, from: 'down', to: 'up', reason: 'HTTP status 200' },
    { at: 4, from: 'up', to: 'down', reason: 'timeout' },
  ]);
  assert.deepEqual(h.healthOf('pool', 'b'), []);
  h.event('admin', 'pool/a set drain', 5);
  h.event('reload', 'reloaded', 6);
  assert.deepEqual(
    h.timeline().map((e) => [e.at, e.kind, e.text]),
    [
      [3, 'server', 'pool/a UP: HTTP status 200'],
      [4, 'server', 'pool/a DOWN: timeout'],
      [5, 'admin', 'pool/a set drain'],
      [6, 'reload', 'reloaded'],
    ],
  );
});

test('NodeHistory: an unseeded server records its first change; keepOnly forgets removed servers', () => {
  const h = new NodeHistory();
  h.health('pool', 'x', false, 'connection refused', 1);
  h.health('pool', 'y', false, 'connection refused', 1);
  assert.equal(h.healthOf('pool', 'x').length, 1);
  h.keepOnly(new Set(['pool/y']));
  assert.deepEqual(h.healthOf('pool', 'x'), []);
  assert.equal(h.healthOf('pool', 'y').length, 1);
  // x's last state went too: a new x starts fresh.
  h.health('pool', 'x', false, 'refused again', 2);
  assert.equal(h.healthOf('pool', 'x').length, 1);
});
