// The sampler's maths: quantiles from bucket deltas, rates between samples, resets, bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantile, sampleOf, stepPoint, TrafficSampler } from '../../../src/admin/traffic-sampler.ts';
import { RESPONSE_TIME_BUCKETS, TrafficStats } from '../../../src/proxy/traffic-stats.ts';

const BOUNDS = [0.01, 0.1, 1];

test('quantile: linear inside the bucket the rank falls in, like histogram_quantile', () => {
  // 100 observations: 50 under 10 ms, 40 in 10-100 ms, 9 in 0.1-1 s, 1 beyond.
  const counts = [50, 40, 9, 1];
  assert.equal(quantile(0.5, BOUNDS, counts), 0.01);
  assert.ok(Math.abs(quantile(0.7, BOUNDS, counts)! - (0.01 + 0.09 * 0.5)) < 1e-12);
  assert.ok(Math.abs(quantile(0.99, BOUNDS, counts)! - 1) < 1e-12);
  assert.equal(quantile(0.995, BOUNDS, counts), 1, 'in +Inf: the last finite bound');
  assert.equal(quantile(0.5, BOUNDS, [0, 0, 0, 0]), null);
  assert.equal(quantile(0.25, BOUNDS, [4, 0, 0, 0]), 0.0025);
  assert.equal(quantile(0.5, BOUNDS, [0, 0, 2, 0]), 0.55);
});

test('stepPoint: req/s, 5xx share and percentiles from the deltas only', () => {
  const prev = { requests: 1000, errors: 10, buckets: [900, 100, 0, 0] };
  const cur = { requests: 1200, errors: 30, buckets: [900, 100, 200, 0] };
  const p = stepPoint(prev, cur, 2000, 5, BOUNDS)!;
  assert.equal(p.rps, 100);
  assert.equal(p.errorRate, 0.1);
  // All 200 new observations were 0.1-1 s: the old fast ones do not pull the median down.
  assert.ok(Math.abs(p.p50! - 0.55) < 1e-12);
  assert.ok(Math.abs(p.p99! - (0.1 + 0.9 * 0.99)) < 1e-12);
  assert.deepEqual(stepPoint({ requests: 5, errors: 0 }, { requests: 5, errors: 0 }, 1000, 1, BOUNDS), { at: 1, rps: 0, errorRate: null, p50: null, p99: null });
  assert.equal(stepPoint(cur, prev, 1000, 1, BOUNDS), undefined, 'a counter going back is a restart, not negative traffic');
  assert.equal(stepPoint(prev, cur, 0, 1, BOUNDS), undefined);
});

test('TrafficSampler: one point per step per group, bounded, skips resets and clock steps back', () => {
  const s = new TrafficSampler(3);
  const sample = (at: number, req: number, err = 0) => ({ at, bounds: BOUNDS, groups: { 'backend/pool': { requests: req, errors: err, buckets: [req, 0, 0, 0] }, ...(at >= 3000 ? { 'frontend/web': { requests: req, errors: 0 } } : {}) } });
  s.add(sample(1000, 0));
  s.add(sample(2000, 10, 1));
  s.add(sample(3000, 30, 1));
  s.add(sample(2500, 99)); // clock went back: ignored
  s.add(sample(4000, 5)); // counters went back (reload): no point for this step
  s.add(sample(5000, 25));
  const series = s.series();
  assert.deepEqual(series.map((x) => x.key), ['backend/pool', 'frontend/web']);
  // Keeps 3 steps' worth (4 samples: 2000..5000); the 3000->4000 step is a reset.
  assert.deepEqual(series[0]!.points.map((p) => [p.at, p.rps, p.errorRate]), [
    [3000, 20, 0],
    [5000, 20, 0],
  ]);
  assert.equal(series[0]!.points[0]!.p50, 0.005);
  // frontend/web first appears at 3000: its counters started at zero, so that step counts.
  assert.deepEqual(series[1]!.points.map((p) => [p.at, p.rps, p.p50]), [
    [3000, 30, null],
    [5000, 20, null],
  ]);
});

test('sampleOf: frontends and backends from the traffic counters; HTTP requests, 5xx, histogram; TCP by sessions', () => {
  const t = new TrafficStats();
  const web = t.frontend('web');
  web.response(200);
  web.response(503);
  web.observe(0.003);
  const pool = t.backend('pool');
  pool.response(200);
  t.backend('db').connectionsTotal = 7;
  const s = sampleOf(t.snapshot(), 42);
  assert.equal(s.at, 42);
  assert.deepEqual(s.bounds, RESPONSE_TIME_BUCKETS);
  assert.equal(s.groups['frontend/web']!.requests, 2);
  assert.equal(s.groups['frontend/web']!.errors, 1);
  assert.equal(s.groups['frontend/web']!.buckets!.reduce((a, b) => a + b, 0), 1);
  assert.equal(s.groups['frontend/web']!.buckets!.length, RESPONSE_TIME_BUCKETS.length + 1);
  assert.equal(s.groups['backend/pool']!.requests, 1);
  assert.deepEqual(s.groups['backend/db'], { requests: 7, errors: 0 }, 'a TCP backend counts its sessions');
});
