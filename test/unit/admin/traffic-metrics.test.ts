import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NodeMetrics } from '../../../src/admin/metrics.ts';
import { TrafficStats } from '../../../src/proxy/traffic-stats.ts';

async function scrape(): Promise<string> {
  const t = new TrafficStats();
  const f = t.frontend('web');
  f.connect();
  f.response(200);
  f.observe(0.02);
  f.observe(3);
  f.bytesIn += 5;
  t.backend('pool').retries++;
  t.server('pool', 'w"1').response(503);
  const m = new NodeMetrics(() => ({ backends: [], vrrp: [{ instance: 'VI', counters: { drops: { 'wire-ttl': 2 } } }] }), () => t.snapshot());
  return (await m.render()).body;
}

test('traffic is rendered as cumulative histogram buckets and counters by status class', async () => {
  const body = await scrape();
  assert.match(body, /^halb_frontend_response_time_seconds_bucket\{frontend="web",le="0.01"\} 0$/m);
  assert.match(body, /^halb_frontend_response_time_seconds_bucket\{frontend="web",le="0.025"\} 1$/m);
  assert.match(body, /^halb_frontend_response_time_seconds_bucket\{frontend="web",le="5"\} 2$/m);
  assert.match(body, /^halb_frontend_response_time_seconds_count\{frontend="web"\} 2$/m);
  assert.match(body, /^halb_frontend_http_requests_total\{frontend="web",code="2xx"\} 1$/m);
  assert.match(body, /^halb_server_http_requests_total\{backend="pool",server="w\\"1",code="5xx"\} 1$/m);
  assert.match(body, /^halb_backend_retries_total\{backend="pool"\} 1$/m);
  assert.match(body, /^halb_frontend_received_bytes_total\{frontend="web"\} 5$/m);
  assert.match(body, /^# TYPE halb_vrrp_dropped_packets_total counter$/m);
  assert.match(body, /^halb_vrrp_dropped_packets_total\{instance="VI",reason="wire-ttl"\} 2$/m);
});

test('promtool check metrics accepts the scrape with no lint problem', { skip: existsSync('/usr/bin/promtool') ? false : 'promtool not installed (apt-get install prometheus)' }, async () => {
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: await scrape(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal((r.stdout + r.stderr).trim(), '');
});
