import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobinPolicy } from '../../../src/balance/roundrobin.ts';
import { counts, req, servers } from './servers.ts';

test('smooth weighted round robin interleaves 5,1,1 as nginx does', () => {
  const p = new RoundRobinPolicy();
  p.update(servers([5, 1, 1], ['a', 'b', 'c']));
  const r = req();
  const seq = Array.from({ length: 14 }, () => p.pick(r)!.name).join('');
  assert.equal(seq, 'aabacaa' + 'aabacaa');
});

test('exact proportions in every cycle', () => {
  const weights = [3, 7, 1, 4, 10];
  const total = weights.reduce((a, b) => a + b, 0);
  const p = new RoundRobinPolicy();
  const list = servers(weights);
  p.update(list);
  const r = req();
  for (let cycle = 0; cycle < 20; cycle++) {
    const c = counts(Array.from({ length: total }, () => p.pick(r)));
    for (const s of list) assert.equal(c.get(s.name), s.weight, `cycle ${cycle} server ${s.name}`);
  }
});

test('equal weights rotate in order', () => {
  const p = new RoundRobinPolicy();
  p.update(servers([1, 1, 1]));
  const r = req();
  assert.deepEqual(Array.from({ length: 6 }, () => p.pick(r)!.name), ['s0', 's1', 's2', 's0', 's1', 's2']);
});

test('exclude skips tried servers; all excluded gives undefined', () => {
  const p = new RoundRobinPolicy();
  const list = servers([1, 1, 1]);
  p.update(list);
  const r = req();
  const ex = new Set([list[0]!, list[1]!]);
  for (let i = 0; i < 5; i++) assert.equal(p.pick(r, ex), list[2]);
  assert.equal(p.pick(r, new Set(list)), undefined);
});

test('empty set and zero weights pick nothing', () => {
  const p = new RoundRobinPolicy();
  p.update([]);
  assert.equal(p.pick(req()), undefined);
  p.update(servers([0, 0]));
  assert.equal(p.pick(req()), undefined);
});

test('live (non-precomputed) path keeps exact proportions for huge totals', () => {
  // 200 servers * total 200*250 = 10M > budget -> live O(n) SWRR
  const weights = Array.from({ length: 200 }, (_, i) => 200 + (i % 57));
  const total = weights.reduce((a, b) => a + b, 0);
  const p = new RoundRobinPolicy();
  const list = servers(weights);
  p.update(list);
  const r = req();
  const c = counts(Array.from({ length: total }, () => p.pick(r)));
  for (const s of list) assert.equal(c.get(s.name), s.weight);
  const ex = new Set([list[0]!]);
  for (let i = 0; i < 300; i++) assert.notEqual(p.pick(r, ex), list[0]);
});
