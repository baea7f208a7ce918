import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, retryAfterMs } from '../../../src/vip/backoff.ts';

describe('backoff', () => {
  it('grows exponentially, capped, with jitter in [d/2, d]', () => {
    const p = { baseMs: 1000, maxMs: 8000 };
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, p, () => 1)), [1000, 2000, 4000, 8000, 8000, 8000]);
    assert.deepEqual([1, 2, 3].map((n) => backoffDelay(n, p, () => 0)), [500, 1000, 2000]);
  });
  it('reads Retry-After seconds and dates, and RateLimit-Reset epochs', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '7' }), now), 7000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now), 5000);
    assert.equal(retryAfterMs(new Headers({ 'ratelimit-reset': String(now / 1000 + 30) }), now), 30000);
    assert.equal(retryAfterMs(new Headers({ 'ratelimit-reset': '12' }), now), 12000);
    assert.equal(retryAfterMs(new Headers({}), now), undefined);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now), undefined);
  });
});
