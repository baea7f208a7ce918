import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResetBudget } from '../../../../src/proxy/h2/reset-budget.ts';
import { sniffPreface, H2_PREFACE } from '../../../../src/proxy/h2/h2c-preface.ts';

test('reset budget: max resets within the window pass, the next one trips; a new window starts afresh', () => {
  const b = new ResetBudget(3, 10_000);
  assert.deepEqual([0, 1, 2].map((t) => b.spend(t)), [false, false, false]);
  assert.equal(b.spend(9_999), true, 'the fourth within 10 s');
  const c = new ResetBudget(3, 10_000);
  for (const t of [0, 1, 2]) c.spend(t);
  assert.equal(c.spend(10_000), false, 'the window ran out: counting starts again');
  assert.equal(c.spend(10_001), false);
  assert.equal(c.spend(10_002), false);
  assert.equal(c.spend(10_003), true);
});

test('h2c preface sniffing: the whole preface is h2, a prefix of it needs more, anything else is HTTP/1.1', () => {
  assert.equal(sniffPreface(H2_PREFACE), 'h2');
  assert.equal(sniffPreface(Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4])])), 'h2');
  assert.equal(sniffPreface(H2_PREFACE.subarray(0, 3)), 'more');
  assert.equal(sniffPreface(Buffer.alloc(0)), 'more');
  assert.equal(sniffPreface(Buffer.from('GET / HTTP/1.1\r\n')), 'h1');
  assert.equal(sniffPreface(Buffer.from('PRI / HTTP/1.1\r\n')), 'h1');
  assert.equal(sniffPreface(Buffer.from('P')), 'more');
});
