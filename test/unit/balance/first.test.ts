import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FirstPolicy } from '../../../src/balance/first.ts';
import { req, servers } from './servers.ts';

test('fills the first server up to maxconn, then the next', () => {
  const p = new FirstPolicy();
  const list = servers([1, 1, 1]);
  list[0]!.maxconn = 2;
  list[1]!.maxconn = 1;
  p.update(list);
  const order: string[] = [];
  for (let i = 0; i < 5; i++) {
    const s = p.pick(req())!;
    order.push(s.name);
    s.active++;
    p.loadChanged(s);
  }
  assert.deepEqual(order, ['s0', 's0', 's1', 's2', 's2']); // s2 has no maxconn: never full
  list[0]!.active--;
  p.loadChanged(list[0]!);
  assert.equal(p.pick(req()), list[0]);
});

test('all full gives undefined; exclude skips', () => {
  const p = new FirstPolicy();
  const list = servers([1, 1]);
  for (const s of list) s.maxconn = 1;
  p.update(list);
  assert.equal(p.pick(req(), new Set([list[0]!])), list[1]);
  for (const s of list) {
    s.active = 1;
    p.loadChanged(s);
  }
  assert.equal(p.pick(req()), undefined);
});

test('order is by server index, not update order', () => {
  const p = new FirstPolicy();
  const list = servers([1, 1, 1]);
  p.update([list[2]!, list[1]!]);
  assert.equal(p.pick(req()), list[1]);
});
