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
  const backends = [{ name: 'pool', usable: true, queue: 3, servers: [{ name: 'w"1', up: false, admin: 'ready', weight: 1, active: 0, wentDown: 2, wentUp: 1 }] }];
  const vrrp = [
    {
      instance: 'VI',
      counters: { drops: { 'wire-ttl': 2 }, transitions: [{ to: 'master', reason: 'master-down', count: 4 }, { to: 'backup', reason: 'heard-master', count: 3 }] },
      floatingIp: { calls: { ok: 5, http_4xx: 0, http_5xx: 1, transport: 2, aborted: 0 } },
    },
  ];
  const m = new NodeMetrics(() => ({ backends, vrrp }), () => t.snapshot());
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
  assert.match(body, /^halb_vrrp_dropped_packets_total\{vrrp_instance="VI",reason="wire-ttl"\} 2$/m);
  assert.match(body, /^halb_vrrp_transitions_total\{vrrp_instance="VI",to="master",reason="master-down"\} 4$/m);
  assert.match(body, /^halb_vrrp_transitions_total\{vrrp_instance="VI",to="backup",reason="heard-master"\} 3$/m);
  assert.match(body, /^halb_cloud_api_calls_total\{vrrp_instance="VI",result="http_5xx"\} 1$/m);
  assert.match(body, /^halb_cloud_api_calls_total\{vrrp_instance="VI",result="transport"\} 2$/m);
  assert.match(body, /^halb_server_health_transitions_total\{backend="pool",server="w\\"1",to="down"\} 2$/m);
  assert.match(body, /^halb_backend_queue\{backend="pool"\} 3$/m);
});

// CI installs Debian's prometheus (scripts/provision.sh --apt): there a missing promtool fails the test.
const promtool = existsSync('/usr/bin/promtool') || process.env.CI === 'true' ? false : 'promtool not installed (apt-get install prometheus)';

test('promtool check metrics accepts the scrape with no lint problem', { skip: promtool }, async () => {
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: await scrape(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal((r.stdout + r.stderr).trim(), '');
});
