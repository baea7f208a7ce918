import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, planRenewal, renewalTime } from '../../../src/acme/renewal-plan.ts';

const DAY = 86_400_000;
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const backoff = { minMs: 60_000, maxMs: 3_600_000 };
const cert90 = { notBefore: T0, notAfter: at(90 * DAY) };

test('no certificate, or an expired one: order now', () => {
  assert.deepEqual(planRenewal({ now: T0, certificate: undefined, renewBeforeMs: 30 * DAY, failures: 0, backoff }), { kind: 'now', reason: 'no certificate held' });
  const p = planRenewal({ now: at(91 * DAY), certificate: cert90, renewBeforeMs: 30 * DAY, failures: 0, backoff });
  assert.equal(p.kind, 'now');
  assert.equal(p.reason, 'the certificate has expired');
});

test('a valid certificate is renewed renew_before ahead of expiry', () => {
  const p = planRenewal({ now: at(DAY), certificate: cert90, renewBeforeMs: 30 * DAY, failures: 0, backoff });
  assert.equal(p.kind, 'at');
  assert.equal(p.kind === 'at' && p.at.getTime(), at(60 * DAY).getTime());
  assert.equal(planRenewal({ now: at(60 * DAY), certificate: cert90, renewBeforeMs: 30 * DAY, failures: 0, backoff }).kind, 'now');
  assert.equal(planRenewal({ now: at(60 * DAY - 1), certificate: cert90, renewBeforeMs: 30 * DAY, failures: 0, backoff }).kind, 'at');
});

test('renew_before longer than the lifetime: renewed after a third of it, not in a loop', () => {
  const short = { notBefore: T0, notAfter: at(30_000) };
  assert.equal(renewalTime(short, 30 * DAY).getTime(), at(10_000).getTime());
  assert.equal(planRenewal({ now: at(5_000), certificate: short, renewBeforeMs: 30 * DAY, failures: 0, backoff }).kind, 'at');
  assert.equal(planRenewal({ now: at(10_000), certificate: short, renewBeforeMs: 30 * DAY, failures: 0, backoff }).kind, 'now');
});

test('backoff doubles from min and stops at max', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => backoffMs(n, backoff)), [60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000]);
});

test('after failures the next attempt waits out the backoff, then goes', () => {
  const failedAt = at(0);
  const p = planRenewal({ now: at(1000), certificate: undefined, renewBeforeMs: 30 * DAY, failures: 3, lastFailureAt: failedAt, backoff });
  assert.equal(p.kind, 'backoff');
  assert.equal(p.kind === 'backoff' && p.until.getTime(), at(240_000).getTime());
  assert.equal(planRenewal({ now: at(240_000), certificate: undefined, renewBeforeMs: 30 * DAY, failures: 3, lastFailureAt: failedAt, backoff }).kind, 'now');
});

test('a backoff that ends before renewal is due does not move the renewal earlier', () => {
  const p = planRenewal({ now: at(DAY), certificate: cert90, renewBeforeMs: 30 * DAY, failures: 1, lastFailureAt: at(DAY), backoff });
  assert.equal(p.kind, 'at');
  assert.equal(p.kind === 'at' && p.at.getTime(), at(60 * DAY).getTime());
});
