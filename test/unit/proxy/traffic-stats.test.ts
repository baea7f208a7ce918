import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RESPONSE_TIME_BUCKETS,
  TrafficStats,
  emptyCounters,
  histogramQuantile,
  mergeTraffic,
  retireTraffic,
  statusClassIndex,
} from '../../../src/proxy/traffic-stats.ts';

test('status codes fall in their class; no status is other', () => {
  assert.deepEqual([100, 204, 301, 404, 503, 0, 600, 99].map(statusClassIndex), [0, 1, 2, 3, 4, 5, 5, 5]);
});

test('histogram puts a value on a bound into that bucket (le is inclusive) and beyond 10 s into +Inf', () => {
  const st = new TrafficStats();
  const c = st.frontend('web');
  c.observe(0.001);
  c.observe(0.0011);
  c.observe(10);
  c.observe(42);
  const h = st.snapshot().frontends.web!.responseTime;
  assert.equal(h.counts.length, RESPONSE_TIME_BUCKETS.length + 1);
  assert.equal(h.counts[0], 1);
  assert.equal(h.counts[1], 1);
  assert.equal(h.counts[RESPONSE_TIME_BUCKETS.length - 1], 1);
  assert.equal(h.counts[RESPONSE_TIME_BUCKETS.length], 1);
  assert.equal(h.count, 4);
  assert.ok(Math.abs(h.sum - 52.0021) < 1e-9);
});

test('snapshots are copies: counting on does not change a taken snapshot', () => {
  const st = new TrafficStats();
  const c = st.server('b', 's1');
  c.response(200);
  c.observe(0.2);
  const snap = st.snapshot();
  c.response(200);
  c.observe(0.2);
  assert.equal(snap.servers.b!.s1!.requests['2xx'], 1);
  assert.equal(snap.servers.b!.s1!.responseTime.count, 1);
});

test('merge sums per name and keeps names only one side has', () => {
  const a = new TrafficStats();
  const b = new TrafficStats();
  a.frontend('web').response(200);
  a.frontend('web').bytesIn += 10;
  a.frontend('web').connect();
  a.server('pool', 'w1').retries++;
  a.frontend('web').observe(0.003);
  b.frontend('web').response(502);
  b.frontend('web').bytesOut += 7;
  b.frontend('web').connect();
  b.frontend('web').observe(0.003);
  b.frontend('api').response(404);
  b.server('pool', 'w2').redispatches++;
  b.server('pool', 'w1').retries += 2;
  const m = mergeTraffic(a.snapshot(), b.snapshot());
  const web = m.frontends.web!;
  assert.deepEqual(web.requests, { '1xx': 0, '2xx': 1, '3xx': 0, '4xx': 0, '5xx': 1, other: 0 });
  assert.equal(web.bytesIn, 10);
  assert.equal(web.bytesOut, 7);
  assert.equal(web.connectionsTotal, 2);
  assert.equal(web.connectionsCurrent, 2);
  assert.equal(web.responseTime.counts[2], 2);
  assert.equal(m.frontends.api!.requests['4xx'], 1);
  assert.equal(m.servers.pool!.w1!.retries, 3);
  assert.equal(m.servers.pool!.w2!.redispatches, 1);
  // inputs unchanged
  assert.equal(a.snapshot().servers.pool!.w1!.retries, 1);
});

test('merge of nothing is empty; merge with empty is identity', () => {
  assert.deepEqual(mergeTraffic(), { frontends: {}, backends: {}, servers: {} });
  const a = new TrafficStats();
  a.backend('pool').response(301);
  assert.deepEqual(mergeTraffic(a.snapshot()), a.snapshot());
});

test('a retired process keeps its totals but not its open connections', () => {
  const a = new TrafficStats();
  a.frontend('web').connect();
  a.frontend('web').connect();
  a.frontend('web').disconnect();
  a.server('pool', 'w1').connect();
  const r = retireTraffic(a.snapshot());
  assert.equal(r.frontends.web!.connectionsTotal, 2);
  assert.equal(r.frontends.web!.connectionsCurrent, 0);
  assert.equal(r.servers.pool!.w1!.connectionsCurrent, 0);
  assert.equal(r.servers.pool!.w1!.connectionsTotal, 1);
});

test('quantile interpolates inside the bucket as histogram_quantile does', () => {
  const h = emptyCounters().responseTime;
  assert.equal(histogramQuantile(h, 0.5), undefined);
  const st = new TrafficStats();
  const c = st.frontend('f');
  // 10 observations in (0.01, 0.025], 10 in (0.1, 0.25]
  for (let i = 0; i < 10; i++) c.observe(0.02);
  for (let i = 0; i < 10; i++) c.observe(0.2);
  const snap = st.snapshot().frontends.f!.responseTime;
  assert.ok(Math.abs(histogramQuantile(snap, 0.5)! - 0.025) < 1e-12);
  assert.ok(Math.abs(histogramQuantile(snap, 0.25)! - 0.0175) < 1e-12);
  assert.ok(Math.abs(histogramQuantile(snap, 0.99)! - (0.1 + 0.15 * 0.98)) < 1e-12);
  c.observe(100);
  assert.equal(histogramQuantile(st.snapshot().frontends.f!.responseTime, 1), 10);
});
