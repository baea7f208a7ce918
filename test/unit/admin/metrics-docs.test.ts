// The metric names README lists are exactly what /metrics writes, and the Grafana dashboard in
// examples/ asks only for those, in PromQL that promtool parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeMetrics } from '../../../src/admin/metrics.ts';
import { TrafficStats } from '../../../src/proxy/traffic-stats.ts';

const root = new URL('../../../', import.meta.url).pathname;

/** Every family a node with one of everything writes. */
async function families(): Promise<Map<string, string>> {
  const t = new TrafficStats();
  t.frontend('f');
  t.backend('b');
  t.server('b', 's');
  const m = new NodeMetrics(
    () => ({
      generation: 1,
      frontends: [{ name: 'f', bind: [] }],
      backends: [{ name: 'b', usable: true, queue: 0, servers: [{ name: 's', up: true, admin: 'ready', weight: 1, active: 0, wentDown: 0, wentUp: 0, lastCheck: { ok: true, durationMs: 1 } }] }],
      bgp: { neighbors: [{ address: '10.0.0.254', state: 'Established' }], prefixes: [{ prefix: '203.0.113.10/32', announced: true }], handoff: { counts: { handedOn: 3, copiesDropped: 1 } } },
      vrrp: [{ instance: 'VI', counters: { drops: { 'wire-ttl': 1 }, transitions: [{ to: 'master', reason: 'master-down', count: 1 }] }, floatingIp: { calls: { ok: 1 } } }],
    }),
    () => t.snapshot(),
  );
  const out = new Map<string, string>();
  for (const m2 of (await m.render()).body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m2[1]!, m2[2]!);
  return out;
}

function readmeNames(): Set<string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('### Metrics');
  assert.ok(start >= 0, 'README has a Metrics section');
  const end = readme.indexOf('\n#', start + 5);
  return new Set(readme.slice(start, end).match(/`halb_[a-z0-9_]+`/g)!.map((n) => n.slice(1, -1)));
}

test('README lists every metric /metrics writes, and none it does not', async () => {
  const written = await families();
  const listed = readmeNames();
  assert.ok(written.size >= 40, `a full scrape has ${written.size} families`);
  assert.deepEqual([...written.keys()].filter((n) => !listed.has(n)), [], 'written but not in README');
  assert.deepEqual([...listed].filter((n) => !written.has(n)), [], 'in README but never written');
  for (const [name, type] of written) if (type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
});

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; refId: string }[];
}

const dashboard = JSON.parse(readFileSync(join(root, 'examples/grafana-halb.json'), 'utf8')) as { title: string; uid: string; panels: Panel[]; templating: { list: { name: string }[] } };

test('the Grafana dashboard queries only metrics halb writes, and covers traffic, health and failover', async () => {
  const written = await families();
  const used = new Set<string>();
  const ids = new Set<number>();
  for (const p of dashboard.panels) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} unique`);
    ids.add(p.id);
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
    if (p.type === 'row') continue;
    assert.ok(p.targets && p.targets.length > 0, `${p.title} has a query`);
    for (const t of p.targets) {
      for (const name of t.expr.match(/halb_[a-z0-9_]+/g) ?? []) {
        const family = written.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(written.has(family), `${p.title}: ${name} is not a metric halb writes`);
        if (name !== family) assert.equal(written.get(family), 'histogram', `${name}: only histograms have _bucket`);
        used.add(family);
      }
    }
  }
  for (const must of ['halb_frontend_http_requests_total', 'halb_frontend_response_time_seconds', 'halb_backend_response_time_seconds', 'halb_server_up', 'halb_server_health_transitions_total', 'halb_backend_queue', 'halb_vrrp_master', 'halb_vrrp_transitions_total', 'halb_vrrp_dropped_packets_total', 'halb_cloud_api_calls_total']) {
    assert.ok(used.has(must), `the dashboard shows ${must}`);
  }
  assert.deepEqual(dashboard.templating.list.map((v) => v.name), ['datasource', 'node']);
});

const promtool = existsSync('/usr/bin/promtool') || process.env.CI === 'true' ? false : 'promtool not installed (apt-get install prometheus)';

test('promtool parses every query of the Grafana dashboard (as recording rules)', { skip: promtool }, () => {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  // Grafana's variables, as Grafana would expand them.
  const rules = exprs.map((e, i) => `      - record: halb:dashboard_${i}\n        expr: ${JSON.stringify(e.replaceAll('$__rate_interval', '1m').replaceAll('$node', '.+'))}`);
  const dir = mkdtempSync(join(tmpdir(), 'halb-grafana-'));
  try {
    const file = join(dir, 'rules.yml');
    writeFileSync(file, `groups:\n  - name: halb-dashboard\n    rules:\n${rules.join('\n')}\n`);
    const r = spawnSync('/usr/bin/promtool', ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
