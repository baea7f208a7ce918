import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeastConnPolicy } from '../../../src/balance/leastconn.ts';
import { req, servers } from './servers.ts';
import type { ServerState } from '../../../src/pool/server-state.ts';

function setActive(p: LeastConnPolicy, s: ServerState, n: number): void {
  s.active = n;
  p.loadChanged(s);
}

test('picks the least active/weight server', () => {
  const p = new LeastConnPolicy();
  const list = servers([1, 1, 1]);
  p.update(list);
  setActive(p, list[0]!, 5);
  setActive(p, list[1]!, 2);
  setActive(p, list[2]!, 9);
  assert.equal(p.pick(req()), list[1]);
  setActive(p, list[1]!, 10);
  assert.equal(p.pick(req()), list[0]);
});

test('weights scale the load: 4 conns on weight 4 beats 2 conns on weight 1', () => {
  const p = new LeastConnPolicy();
  const list = servers([4, 1]);
  p.update(list);
  setActive(p, list[0]!, 4);
  setActive(p, list[1]!, 2);
  assert.equal(p.pick(req()), list[0]);
});

test('ties rotate instead of always taking the first', () => {
  const p = new LeastConnPolicy();
  const list = servers([1, 1, 1]);
  p.update(list);
  const names = Array.from({ length: 6 }, () => p.pick(req())!.name);
  assert.deepEqual(names, ['s0', 's1', 's2', 's0', 's1', 's2']);
});

test('acquire/release simulation keeps loads balanced by weight', () => {
  const p = new LeastConnPolicy();
  const list = servers([1, 2, 3]);
  p.update(list);
  for (let i = 0; i < 600; i++) {
    const s = p.pick(req())!;
    setActive(p, s, s.active + 1);
  }
  assert.deepEqual(list.map((s) => s.active), [100, 200, 300]);
  // release half from the heaviest; the next picks go there
  setActive(p, list[2]!, 150);
  for (let i = 0; i < 10; i++) {
    const s = p.pick(req())!;
    assert.equal(s, list[2]);
    setActive(p, s, s.active + 1);
  }
});

test('exclude and unknown servers', () => {
  const p = new LeastConnPolicy();
  const list = servers([1, 1]);
  p.update(list);
  setActive(p, list[1]!, 3);
  assert.equal(p.pick(req(), new Set([list[0]!])), list[1]);
  assert.equal(p.pick(req(), new Set(list)), undefined);
  p.loadChanged(servers([1, 1, 1, 1, 1, 1])[5]!); // not in the set: ignored
  p.update([]);
  assert.equal(p.pick(req()), undefined);
});
