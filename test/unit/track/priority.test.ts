import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectivePriority } from '../../../src/vrrp/track/priority.ts';
import { RiseFallCounter } from '../../../src/vrrp/track/rise-fall-counter.ts';

test('negative weight lowers priority only while failing', () => {
  assert.equal(effectivePriority(101, [{ name: 'b', ok: true, weight: -50 }]).priority, 101);
  const r = effectivePriority(101, [{ name: 'b', ok: false, weight: -50 }]);
  assert.equal(r.priority, 51);
  assert.deepEqual(r.failing, ['b']);
  assert.equal(r.fault, false);
});

test('positive weight raises priority only while ok (keepalived chk_haproxy weight 2)', () => {
  assert.equal(effectivePriority(100, [{ name: 's', ok: true, weight: 2 }]).priority, 102);
  assert.equal(effectivePriority(100, [{ name: 's', ok: false, weight: 2 }]).priority, 100);
});

test('weight 0 failure means FAULT', () => {
  assert.equal(effectivePriority(100, [{ name: 's', ok: false, weight: 0 }]).fault, true);
  assert.equal(effectivePriority(100, [{ name: 's', ok: true, weight: 0 }]).fault, false);
});

test('priority clamps to 1..254 and an owner stays 255', () => {
  assert.equal(effectivePriority(20, [{ name: 'a', ok: false, weight: -100 }]).priority, 1);
  assert.equal(effectivePriority(250, [{ name: 'a', ok: true, weight: 100 }]).priority, 254);
  assert.equal(effectivePriority(255, [{ name: 'a', ok: false, weight: -100 }]).priority, 255);
});

test('file tracker value times weight; weight 0 and non-zero value is FAULT', () => {
  assert.equal(effectivePriority(100, [{ name: 'f', ok: true, weight: -10, fileValue: 3 }]).priority, 70);
  assert.equal(effectivePriority(100, [{ name: 'f', ok: true, weight: 0, fileValue: 1 }]).fault, true);
  assert.equal(effectivePriority(100, [{ name: 'f', ok: true, weight: 0, fileValue: 0 }]).fault, false);
});

test('rise/fall: first result decides, later changes need rise or fall repeats', () => {
  const c = new RiseFallCounter(2, 3);
  assert.equal(c.ok, undefined);
  assert.equal(c.record(true), true);
  assert.equal(c.record(false), false);
  assert.equal(c.record(false), false);
  assert.equal(c.record(true), false); // streak broken
  assert.equal(c.ok, true);
  assert.equal(c.record(false), false);
  assert.equal(c.record(false), false);
  assert.equal(c.record(false), true);
  assert.equal(c.ok, false);
  assert.equal(c.record(true), false);
  assert.equal(c.record(true), true);
  assert.equal(c.ok, true);
});
