import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryStep, retryCounter, triedWith } from '../../../src/proxy/retry-policy.ts';

test('retries run out after exactly `retries` retries', () => {
  const cfg = { retries: 2, redispatch: false };
  assert.equal(retryStep(cfg, 0, true), 'same-server');
  assert.equal(retryStep(cfg, 1, true), 'same-server');
  assert.equal(retryStep(cfg, 2, true), 'give-up');
  assert.equal(retryStep(cfg, 3, true), 'give-up');
});

test('retries: 0 gives up at the first failure', () => {
  assert.equal(retryStep({ retries: 0, redispatch: true }, 0, true), 'give-up');
  assert.equal(retryStep({ retries: 0, redispatch: false }, 0, true), 'give-up');
});

test('redispatch sends every retry elsewhere', () => {
  const cfg = { retries: 3, redispatch: true };
  for (let done = 0; done < 3; done++) assert.equal(retryStep(cfg, done, true), 'redispatch');
  assert.equal(retryStep(cfg, 3, true), 'give-up');
});

test('an attempt that may not be repeated gives up whatever retries are left', () => {
  assert.equal(retryStep({ retries: 5, redispatch: true }, 0, false), 'give-up');
  assert.equal(retryStep({ retries: 5, redispatch: false }, 0, false), 'give-up');
});

test('each step counts on its own counter', () => {
  assert.equal(retryCounter('same-server'), 'retries');
  assert.equal(retryCounter('redispatch'), 'redispatches');
});

test('the tried set keeps earlier servers and adds the one that failed', () => {
  const first = triedWith<string>(undefined, 'a');
  assert.deepEqual([...first], ['a']);
  const second = triedWith(first, 'b');
  assert.equal(second, first, 'one set per request, grown in place');
  assert.deepEqual([...second], ['a', 'b']);
  assert.deepEqual([...triedWith(second, 'a')], ['a', 'b']);
});
