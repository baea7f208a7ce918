// Issue 12 point 1, the lost backend path: lb1 (master) can no longer reach its web servers
// (cutWeb) while lb2 can, a client opens a new connection every 20 ms through the VIP. One trial
// measures cut -> first request served by lb2 and the requests failed until the VIP is on lb2
// only. The same scenario runs for halb (with and without passive health) and for keepalived +
// HAProxy in the same namespaces, so the figures sit side by side. Shared by
// test/system/node/path-loss.test.ts (one trial each) and bench/path-loss.ts (three).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { eventually, type NodeEvent, type VrrpNode } from '../vrrp/vrrp-node-client.ts';
import { Keepalived } from '../vrrp/keepalived-runner.ts';
import { VIP, WEB_ADDR, lbYaml, switchover, type SeedLab } from './seed-lab.ts';

export const HAPROXY = '/usr/sbin/haproxy';

export interface Variant {
  id: string;
  impl: 'halb' | 'keepalived';
  version: 2 | 3;
  advertMs: number;
  passive: boolean;
  /** Track weight: -2 lowers 101 below the peer's 100; 0 means FAULT (keepalived's weight 0), which sends priority 0. */
  weight: -2 | 0;
}

// The issue's lab: health interval 1 s, fall 2, no peer fallback; v3 tracks with weight -2
// (101 -> 99 < 100), v2 with weight 0 (FAULT), as the issue measured both.
export const VARIANTS: Variant[] = [
  { id: 'a halb v3 100ms, passive off', impl: 'halb', version: 3, advertMs: 100, passive: false, weight: -2 },
  { id: 'b halb v3 100ms, passive layer4 mark-down', impl: 'halb', version: 3, advertMs: 100, passive: true, weight: -2 },
  { id: 'c halb v2 1s weight 0, passive layer4 mark-down', impl: 'halb', version: 2, advertMs: 1000, passive: true, weight: 0 },
  { id: 'd keepalived+HAProxy v3 100ms', impl: 'keepalived', version: 3, advertMs: 100, passive: false, weight: -2 },
  { id: 'e keepalived+HAProxy v2 1s weight 0', impl: 'keepalived', version: 2, advertMs: 1000, passive: false, weight: 0 },
];

export const KEEPALIVED_FIGURES: Record<number, string> = { 3: 'issue: 1.71 s / 85 failed', 2: 'issue: 1.78 s / 88 failed' };

export interface Trial {
  /** Cut -> first request served by lb2 (client start times). */
  servedMs: number;
  gap: number;
  failed: number;
  total: number;
  errors: Record<string, number>;
  /** halb only: ms after the cut of the steps on lb1/lb2, for tracing where the time goes. */
  trace?: string[];
}

const advertText = (ms: number): string => (ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`);

/** The seed halb.yaml with the issue's health and track settings. */
export function pathLossYaml(host: string, v: Variant, priority: number): string {
  let y = lbYaml(host, { priority, advertInt: advertText(v.advertMs), ...(priority === 101 ? { state: 'MASTER' as const } : {}) });
  const swap = (from: string, to: string): void => {
    if (!y.includes(from)) throw new Error(`path-loss: seed config has no "${from.trim()}"`);
    y = y.replace(from, to);
  };
  swap('      interval: 300ms\n', '      interval: 1s\n');
  swap('      timeout: 250ms\n', '      timeout: 500ms\n');
  swap('{ weight: -60 }', `{ weight: ${v.weight} }`);
  if (v.version === 2) swap('      version: 3\n', '      version: 2\n');
  if (v.passive) swap('    balance: roundrobin\n', '    balance: roundrobin\n    passive: { observe: layer4, on_error: mark-down }\n');
  return y;
}

/** HAProxy on one lb: the seed frontend/backend, checks inter 1s fall 2, a monitor URI keepalived's script asks. */
export function haproxyCfg(host: string): string {
  const servers = Object.entries(WEB_ADDR).map(([n, a]) => `  server ${n} ${a}:80 check inter 1s fall 2 rise 2`);
  return [
    'global',
    '  log stderr format raw local0 warning',
    'defaults',
    '  mode http',
    '  timeout connect 500ms',
    '  timeout client 5s',
    '  timeout server 5s',
    '  timeout check 500ms',
    'frontend web',
    // The VIP comes and goes with keepalived: bound thanks to ip_nonlocal_bind, as users do.
    `  bind ${VIP}:80`,
    `  http-response set-header X-Served-By ${host}`,
    '  default_backend webservers',
    'frontend health',
    '  bind 127.0.0.1:8404',
    '  monitor-uri /up',
    '  monitor fail if { nbsrv(webservers) lt 1 }',
    'backend webservers',
    '  balance roundrobin',
    ...servers,
    '',
  ].join('\n');
}

/** keepalived.conf: the fixture's vrrp_script shape (interval 1, fall 2) asking HAProxy's backend. */
export function keepalivedPathConf(v: Variant, priority: number): string {
  return `global_defs {
  router_id halbtest
  vrrp_version ${v.version}
  script_user root
  enable_script_security
}
vrrp_script chk_haproxy {
  script "/usr/bin/curl -sf -o /dev/null -m 0.5 http://127.0.0.1:8404/up"
  interval 1
  fall 2
  rise 2
  weight ${v.weight}
}
vrrp_instance VI_1 {
  state ${priority === 101 ? 'MASTER' : 'BACKUP'}
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int ${v.advertMs / 1000}
  virtual_ipaddress {
    ${VIP}/24 dev eth0
  }
  track_script {
    chk_haproxy
  }
}
`;
}

/** What one variant started in the lab, to stop between trials. */
export class Running {
  readonly kas: Keepalived[] = [];
  readonly haproxies: ChildProcess[] = [];
  readonly dirs: string[] = [];
  haproxyLog = '';

  async stop(seed: SeedLab): Promise<void> {
    for (const k of this.kas) await k.kill9();
    for (const h of this.haproxies) {
      if (h.exitCode === null && h.signalCode === null) {
        const gone = new Promise((r) => h.once('exit', r));
        h.kill('SIGKILL');
        await gone;
      }
    }
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    await seed.reset();
  }
}

function startHaproxy(seed: SeedLab, run: Running, host: string): ChildProcess {
  const dir = mkdtempSync(join(tmpdir(), `halb-hq-${host}-`));
  run.dirs.push(dir);
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyCfg(host));
  const child = seed.lab.spawn(host, HAPROXY, ['-db', '-f', cfg]);
  const collect = (d: Buffer): void => {
    run.haproxyLog = (run.haproxyLog + `${host}: ${d.toString()}`).slice(-4000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  run.haproxies.push(child);
  return child;
}

async function haproxyReady(seed: SeedLab, host: string): Promise<void> {
  await eventually(
    async () => (await seed.lab.exec(host, '/usr/bin/curl', ['-sf', '-o', '/dev/null', '-m', '0.5', 'http://127.0.0.1:8404/up'], { check: false })).code === 0,
    10_000,
    `HAProxy on ${host} up with its servers`,
  );
}

/** Log lines of a halb node after `t0`, as "+ms host msg" (the steps of the handover). */
function traceOf(node: VrrpNode, t0: number, until: number): string[] {
  const events = node.events.filter((e: NodeEvent) => e.t >= t0 && e.t <= until);
  // One "no server available" line per refused request: the first and the count say enough.
  const noServer = events.filter((e) => e.msg === 'no server available');
  const summary = noServer.length ? [`+${noServer[0]!.t - t0} ${node.host} first of ${noServer.length} "no server available"`] : [];
  return events
    .filter((e) => e.msg !== 'no server available')
    .map((e) => `+${e.t - t0} ${node.host} ${e.ev === 'state' ? `VRRP ${String(e.from)} -> ${String(e.to)} prio ${String(e.priority)}` : String(e.msg ?? e.ev)}${e.server ? ` ${String(e.server)}` : ''}${e.reason ? ` (${String(e.reason)})` : ''}`)
    .concat(summary);
}

/** One trial of one variant: start lb2 then lb1, wait for lb1 master serving, cut, measure. */
export async function trial(seed: SeedLab, v: Variant): Promise<Trial> {
  const run = new Running();
  let nodes: VrrpNode[] = [];
  try {
    if (v.impl === 'halb') {
      const lb2 = await seed.startLbFile('lb2', pathLossYaml('lb2', v, 100), []);
      const lb1 = await seed.startLbFile('lb1', pathLossYaml('lb1', v, 101), []);
      nodes = [lb1, lb2];
      await lb1.waitState('master', 2 * masterDownInterval(3, 101, v.advertMs) + 3000, 0);
      await eventually(() => lb2.state === 'backup', 5000, 'lb2 backup');
    } else {
      for (const h of ['lb2', 'lb1']) {
        await seed.lab.sysctl(h, { 'net.ipv4.ip_nonlocal_bind': 1 });
        startHaproxy(seed, run, h);
      }
      for (const h of ['lb2', 'lb1']) await haproxyReady(seed, h);
      run.kas.push(new Keepalived(seed.lab, 'lb2', keepalivedPathConf(v, 100)));
      run.kas.push(new Keepalived(seed.lab, 'lb1', keepalivedPathConf(v, 101)));
    }
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3 * masterDownInterval(3, 100, v.advertMs) + 5000, 'VIP on lb1 only');
    const client = seed.startClient({ durationMs: 40_000 });
    await client.servedBy('lb1', 10, 5000);
    const t0 = Date.now();
    await seed.cutWeb('lb1');
    await client.servedBy('lb2', 5, 15_000);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb2', 5000, 'VIP on lb2 only');
    const tEnd = Date.now();
    await client.servedBy('lb2', 5, 5000);
    const records = await client.stop();
    const s = switchover(records.filter((r) => r.t < tEnd), 'lb1', 'lb2');
    if (s.firstTo === undefined) throw new Error(`${v.id}: no request served by lb2`);
    const t: Trial = { servedMs: s.firstTo - t0, gap: s.gap ?? NaN, failed: s.failed, total: s.total, errors: s.errors };
    if (nodes.length) t.trace = nodes.flatMap((n) => traceOf(n, t0, tEnd)).sort((a, b) => Number(a.split(' ')[0]) - Number(b.split(' ')[0]));
    return t;
  } catch (err) {
    for (const k of run.kas) console.log(`# keepalived log tail: ${k.log.slice(-2000)}`);
    if (run.haproxyLog) console.log(`# haproxy log tail: ${run.haproxyLog}`);
    throw err;
  } finally {
    await run.stop(seed);
  }
}
