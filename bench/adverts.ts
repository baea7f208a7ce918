// Advert timing under load: two halb nodes in namespaces (the seed lab of the system tests:
// lb1 MASTER 101, lb2 BACKUP 100, VIP 10.77.0.100, web1..3) with fast VRRPv3 adverts, wrk
// through the master's VIP for the whole run. Counts VRRP transitions on both nodes after the
// election settled (must be 0) and measures the advert interval as sent (tcpdump on lb1's
// link, egress) and as received (tcpdump on lb2's link, ingress): p50, p99, p99.9, max.
// Needs root (namespaces). Not a test: it loads both cores for its whole duration.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { findBinaries } from './binaries.ts';
import { parseWrk } from './wrk.ts';
import { SeedLab, VIP, LB_ADDR } from '../test/system/node/seed-lab.ts';
import { masterDownInterval } from '../src/vrrp/state-machine.ts';

const USAGE = `usage: node bench/adverts.ts [--duration 600] [--advert-int 20ms] [--connections 64] [--no-results]
  --duration S      seconds of wrk load through the master's VIP (default 600: 10 minutes)
  --advert-int D    advert_int of both nodes (default 20ms)
  --connections N   wrk connections (default 64, 2 threads)
  --no-results      print only; write nothing under bench/results/`;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '600' },
    'advert-int': { type: 'string', default: '20ms' },
    connections: { type: 'string', default: '64' },
    'no-results': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const durationS = Number(args.duration);
const advertText = args['advert-int'];
const advertMs = /^(\d+)ms$/.test(advertText) ? Number(advertText.slice(0, -2)) : /^(\d+(?:\.\d+)?)s$/.test(advertText) ? Number(advertText.slice(0, -1)) * 1000 : Number.NaN;
const connections = Number(args.connections);
if (!(durationS > 0) || !(advertMs >= 10) || !(connections > 0)) {
  console.error(USAGE);
  process.exit(2);
}

/** Advert arrival/departure times (s, µs resolution) from one tcpdump, for adverts of `from`. */
class AdvertCapture {
  readonly times: number[] = [];
  readonly child: ChildProcess;
  constructor(child: ChildProcess, from: string) {
    this.child = child;
    // "1764970000.123456 IP 10.77.0.11 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 101, ..."
    const re = new RegExp(`^(\\d+\\.\\d+) IP ${from.replace(/\./g, '\\.')} > `);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = re.exec(line);
      if (m && line.includes('VRRP')) this.times.push(Number(m[1]));
    });
  }
  intervalsMs(fromS: number, toS: number): number[] {
    const t = this.times.filter((x) => x >= fromS && x <= toS);
    const out: number[] = [];
    for (let i = 1; i < t.length; i++) out.push((t[i]! - t[i - 1]!) * 1000);
    return out;
  }
}

function percentiles(v: number[]): { n: number; p50: number; p99: number; p999: number; max: number } {
  const s = [...v].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { n: s.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s[s.length - 1] ?? Number.NaN };
}

const log = (line: string) => console.log(line);
const bins = findBinaries(log);
const seed = await SeedLab.create();
const started = new Date();
let report: string | undefined;
try {
  const lb2 = await seed.startLb('lb2', { priority: 100, advertInt: advertText });
  const lb1 = await seed.startLb('lb1', { priority: 101, advertInt: advertText, state: 'MASTER' });
  await lb1.waitState('master', 2 * masterDownInterval(3, 101, advertMs) + 5000, 0);
  if (lb2.state !== 'backup') await lb2.waitState('backup', 5000, 0);
  // Settled: from here on every state change is a spurious failover.
  await new Promise((r) => setTimeout(r, 1000));
  const mark1 = lb1.events.length;
  const mark2 = lb2.events.length;
  const dump = (host: string, dir: 'in' | 'out') =>
    seed.lab.spawn(host, 'tcpdump', ['-i', 'eth0', '-n', '-l', '-tt', '--time-stamp-precision=micro', '-Q', dir, 'ip proto 112']);
  const sent = new AdvertCapture(dump('lb1', 'out'), LB_ADDR.lb1!);
  const received = new AdvertCapture(dump('lb2', 'in'), LB_ADDR.lb1!);
  await new Promise((r) => setTimeout(r, 1000));
  log(`# wrk -t2 -c${connections} -d${durationS}s http://${VIP}/ from the client namespace; adverts every ${advertText}`);
  const t0 = Date.now() / 1000;
  const wrk = seed.lab.spawn('client', bins.wrk, ['-t2', `-c${connections}`, `-d${durationS}s`, '--latency', '--timeout', '5s', `http://${VIP}/`]);
  let wrkOut = '';
  wrk.stdout!.on('data', (d: Buffer) => (wrkOut += d.toString()));
  const wrkDone = new Promise<number>((resolve) => wrk.once('exit', (code) => resolve(code ?? 1)));
  const progress = setInterval(() => {
    const n = lb1.events.length - mark1 + lb2.events.length - mark2;
    log(`#   ${Math.round(Date.now() / 1000 - t0)} s: ${sent.times.length} adverts sent, ${received.times.length} received, ${n} node events since settle`);
  }, 60_000);
  const code = await Promise.race([wrkDone, new Promise<number>((r) => setTimeout(() => r(-1), (durationS + 30) * 1000))]);
  clearInterval(progress);
  const t1 = Date.now() / 1000;
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${wrkOut}`);
  await new Promise((r) => setTimeout(r, 200));
  for (const c of [sent.child, received.child]) c.kill('SIGTERM');
  const w = parseWrk(wrkOut);
  const transitions = (events: typeof lb1.events, from: number) => events.slice(from).filter((e) => e.ev === 'state').map((e) => `${String(e.from)}->${String(e.to)}`);
  const tr1 = transitions(lb1.events, mark1);
  const tr2 = transitions(lb2.events, mark2);
  const ps = percentiles(sent.intervalsMs(t0, t1));
  const pr = percentiles(received.intervalsMs(t0, t1));
  const mdi = masterDownInterval(3, 100, advertMs);
  const f = (x: number) => x.toFixed(2);
  report = [
    `# Advert timing under load (${started.toISOString()})`,
    '',
    `Two halb nodes (\`workers: 1\`: VRRP shares its event loop with the proxy), VRRPv3, advert_int ${advertText}; wrk -t2 -c${connections} through the master's VIP for ${durationS} s.`,
    `Backup's Master_Down_Interval ${f(mdi)} ms: an advert gap over ${f(mdi)} ms would make it master. Machine: ${(await import('node:os')).cpus().length} cores, shared.`,
    '',
    `- wrk: ${w.requests} requests, ${w.reqPerSec.toFixed(0)} req/s, p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, errors ${w.errors}`,
    `- VRRP transitions after settling: lb1 ${tr1.length}${tr1.length ? ` (${tr1.join(', ')})` : ''}, lb2 ${tr2.length}${tr2.length ? ` (${tr2.join(', ')})` : ''}`,
    '',
    '| advert interval (ms) | n | p50 | p99 | p99.9 | max |',
    '|---|---|---|---|---|---|',
    `| as sent (lb1 egress) | ${ps.n} | ${f(ps.p50)} | ${f(ps.p99)} | ${f(ps.p999)} | ${f(ps.max)} |`,
    `| as received (lb2 ingress) | ${pr.n} | ${f(pr.p50)} | ${f(pr.p99)} | ${f(pr.p999)} | ${f(pr.max)} |`,
    '',
  ].join('\n');
  console.log(report);
  if (tr1.length + tr2.length > 0) process.exitCode = 1;
} finally {
  await seed.destroy();
}
if (report !== undefined && !args['no-results']) {
  const dir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const name = `${started.toISOString().slice(0, 10)}-adverts-${advertText}-${durationS}s.md`;
  writeFileSync(dir + name, report);
  writeFileSync(dir + `latest-adverts.md`, report);
  console.log(`written bench/results/${name}`);
}
