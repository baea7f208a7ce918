import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, tryParseDuration, formatDuration, DurationError } from '../../../src/config/duration.ts';

test('units', () => {
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('.5s'), 500);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1500us'), 2);
  assert.equal(parseDuration(' 3s '), 3000);
});

test('bare numbers are seconds (keepalived style), or ms when asked (HAProxy style)', () => {
  assert.equal(parseDuration(2), 2000);
  assert.equal(parseDuration('2'), 2000);
  assert.equal(parseDuration(0.1), 100);
  assert.equal(parseDuration(0), 0);
  assert.equal(parseDuration(5000, { bareUnit: 'ms' }), 5000);
  assert.equal(parseDuration('5000', { bareUnit: 'ms' }), 5000);
  assert.equal(parseDuration('5s', { bareUnit: 'ms' }), 5000);
});

test('bad input gets a clear error', () => {
  for (const bad of ['', '5x', 's', '1 s', '-1s', '1s2', 'ms', '1.s']) {
    assert.throws(() => parseDuration(bad), DurationError, bad);
  }
  assert.throws(() => parseDuration(-1), /non-negative/);
  assert.throws(() => parseDuration(Number.NaN), /non-negative/);
  assert.throws(() => parseDuration('5x'), /invalid duration "5x".*"2s"/);
  assert.deepEqual(tryParseDuration('2s'), { ok: true, ms: 2000 });
  const r = tryParseDuration('two');
  assert.equal(r.ok, false);
});

test('format round-trips', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(1500), '1.5s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(1250), '1250ms');
  assert.equal(formatDuration(120_000), '2m');
  assert.equal(formatDuration(3_600_000), '1h');
  for (const ms of [0, 10, 999, 1000, 1500, 61_000, 7_200_000]) assert.equal(parseDuration(formatDuration(ms)), ms);
});
