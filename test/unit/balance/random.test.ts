import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomPolicy } from '../../../src/balance/random.ts';
import { counts, req, seeded, servers } from './servers.ts';

test('weighted distribution without load follows weights approximately', () => {
  const p = new RandomPolicy();
  const list = servers([1, 2, 3, 4]);
  p.update(list);
  // active stays 0, so both choices tie and the first draw wins: pure weighted random
  const r = req({ random: seeded(42) });
  const N = 40_000;
  const c = counts(Array.from({ length: N }, () => p.pick(r)));
  for (const s of list) {
    const share = c.get(s.name)! / N;
    assert.ok(Math.abs(share - s.weight / 10) < 0.015, `${s.name} share ${share}`);
  }
});

test('power of two choices: loads stay close under acquire-only load', () => {
  const p = new RandomPolicy();
  const list = servers(Array.from({ length: 10 }, () => 1));
  p.update(list);
  const r = req({ random: seeded(7) });
  for (let i = 0; i < 10_000; i++) p.pick(r)!.active++;
  const loads = list.map((s) => s.active);
  assert.ok(Math.max(...loads) - Math.min(...loads) <= 10, `loads ${loads.join(',')}`);
});

test('prefers the less loaded of two', () => {
  const p = new RandomPolicy();
  const list = servers([1, 1]);
  list[0]!.active = 100;
  p.update(list);
  const r = req({ random: seeded(3) });
  const c = counts(Array.from({ length: 1000 }, () => p.pick(r)));
  // s0 wins only when both draws hit s0: ~1/4
  assert.ok(c.get('s0')! < 320 && c.get('s0')! > 180, `s0 ${c.get('s0')}`);
});

test('exclude, single server, empty', () => {
  const p = new RandomPolicy();
  const list = servers([1, 1, 1]);
  p.update(list);
  const r = req({ random: seeded(9) });
  for (let i = 0; i < 100; i++) assert.equal(p.pick(r, new Set([list[0]!, list[2]!])), list[1]);
  assert.equal(p.pick(r, new Set(list)), undefined);
  p.update([list[0]!]);
  assert.equal(p.pick(r), list[0]);
  assert.equal(p.pick(r, new Set([list[0]!])), undefined);
  p.update([]);
  assert.equal(p.pick(r), undefined);
});
