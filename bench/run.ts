// npm run bench: halb against HAProxy, nginx and node-http-proxy on this machine.
// Interleaved: each run visits every scenario and, inside it, every proxy, so slow drift of the
// machine (thermal, noisy neighbours) hits all contestants alike. Medians across runs are reported.
import { parseArgs } from 'node:util';
import { cpus, release, tmpdir } from 'node:os';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { findBinaries, versionOf } from './binaries.ts';
import { installCleanup, killAllNow } from './process-group.ts';
import { startNginxBackends } from './nginx-backends.ts';
import { contestants, plays, Unavailable } from './contestants.ts';
import { makeBenchCert } from './tls-cert.ts';
import type { Contestant, Running } from './contestants.ts';
import { scenarios } from './scenarios.ts';
import type { Scenario } from './scenarios.ts';
import { freePort } from './loopback.ts';
import { runWrk, type WrkResult } from './wrk.ts';
import { runH2load } from './h2load.ts';
import { cpuBetween, machineBusy, machineBusySeconds, selfAndReapedCpuSeconds, treeCpu } from './proc-tree.ts';
import { summarize } from './summary.ts';
import type { Measurement } from './summary.ts';
import { markdownReport, scenarioTable } from './report-markdown.ts';
import { svgChart } from './report-svg.ts';

const usage = `usage: node bench/run.ts [options]
  --quick              1 run of 3 s per measurement (checks the harness, numbers are rough)
  --duration <s>       seconds of measured load per measurement (default 10)
  --runs <n>           interleaved runs; medians are reported (default 3)
  --connections <n>    wrk connections (default 64)
  --warmup <s>         seconds of unmeasured load after each start (default 1)
  --only <ids>         scenarios, comma separated: ${scenarios.map((s) => s.id).join(', ')}
  --contestants <ids>  proxies, comma separated: ${contestants.map((c) => c.id).join(', ')}
  --no-results         print the table but write nothing under bench/results/
  --keep-temp          keep the temporary directory with every config and log`;

function die(msg: string): never {
  process.stderr.write(`${msg}\n\n${usage}\n`);
  process.exit(2);
}

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) die(`--${name} wants a positive integer, got "${v}"`);
  return n;
}

function pick<T extends { id: string }>(what: string, all: readonly T[], list: string | undefined): T[] {
  if (list === undefined) return [...all];
  const ids = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!all.some((x) => x.id === id)) die(`--${what}: unknown "${id}"`);
  return all.filter((x) => ids.includes(x.id));
}

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    runs: { type: 'string' },
    connections: { type: 'string' },
    warmup: { type: 'string' },
    only: { type: 'string' },
    contestants: { type: 'string' },
    'no-results': { type: 'boolean', default: false },
    'keep-temp': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (opts.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const quick = opts.quick;
const durationS = positiveInt('duration', opts.duration, quick ? 3 : 10);
const runs = positiveInt('runs', opts.runs, quick ? 1 : 3);
const connections = positiveInt('connections', opts.connections, 64);
const chosenScenarios = pick('only', scenarios, opts.only);
const chosenContestants = pick('contestants', contestants, opts.contestants);
const WARMUP_S = positiveInt('warmup', opts.warmup, 1);

const log = (line: string): void => void process.stdout.write(`${line}\n`);

// Hard ceiling on the whole run: every measurement is (warm-up + load + start/stop), with slack.
const plannedMeasurements =
  runs * chosenScenarios.reduce((a, s) => a + chosenContestants.filter((c) => plays(c, s)).length, 0);
const ceilingMs = (plannedMeasurements * (durationS + WARMUP_S + 20) + 120) * 1000;
setTimeout(() => {
  process.stderr.write(`bench: exceeded the time limit of ${Math.round(ceilingMs / 1000)}s; stopping everything\n`);
  killAllNow();
  process.exit(1);
}, ceilingMs).unref();

installCleanup();

const bin = findBinaries(log);
const versions = { node: process.version, ...versionOf(bin) };
const tmp = mkdtempSync(join(tmpdir(), 'halb-bench-'));
let keepTemp = opts['keep-temp'];
// runs after installCleanup's handler has killed every process, also on SIGINT
process.on('exit', () => {
  if (!keepTemp) rmSync(tmp, { recursive: true, force: true });
});
log(
  `bench: ${plannedMeasurements} measurements of ${durationS}s (+${WARMUP_S}s warm-up), ${runs} run(s); ` +
    `about ${Math.ceil((plannedMeasurements * (durationS + WARMUP_S + 2)) / 60)} min; temp ${tmp}`,
);

const busyBefore = await machineBusy();
if (busyBefore > 0.1) {
  log(`bench: WARNING: the machine is ${(busyBefore * 100).toFixed(0)}% busy before the benchmark starts; numbers will be noisy`);
}

const tlsFiles = chosenScenarios.some((s) => s.tls === true) ? makeBenchCert(tmp) : undefined;
const backends = await startNginxBackends(bin.nginx, tmp);
log(`bench: nginx backends on ports ${backends.ports.join(', ')}`);

const measurements: Measurement[] = [];
// key: contestant id, or "<scenario>/<contestant>" for a failure limited to one scenario
const skipped = new Map<string, string>();

function unavailableKey(c: Contestant, s: Scenario): string {
  // a contestant that cannot terminate TLS may still run plain
  return `${c.id}@${s.mode}${s.tls === true ? '+tls' : ''}`;
}

async function measure(run: number, s: Scenario, c: Contestant): Promise<void> {
  const key = unavailableKey(c, s);
  if (skipped.has(key)) {
    skipped.set(`${s.id}/${c.id}`, skipped.get(key) as string);
    return;
  }
  const dir = join(tmp, `r${run}-${s.id}-${c.id}`);
  mkdirSync(dir, { recursive: true });
  let running: Running | undefined;
  try {
    const tls = s.tls === true ? tlsFiles : undefined;
    running = await c.start({ mode: s.mode, port: await freePort(), backendPorts: backends.ports, dir, bin, tls, h2: s.h2 !== undefined, fullHandshakes: s.fullHandshakes === true });
    const url = `${tls ? 'https' : 'http'}://127.0.0.1:${running.port}${s.path}`;
    const wrkOpts = { url, connections, threads: 1, headers: s.headers ?? [] };
    const h2 = s.h2;
    const load = (d: number): Promise<WrkResult> =>
      h2 === undefined ? runWrk(bin.wrk, { ...wrkOpts, durationS: d }) : runH2load({ url, connections, streams: h2.streams, durationS: d });
    await load(WARMUP_S);
    const before = running.pid === undefined ? undefined : treeCpu(running.pid);
    const backendsBefore = treeCpu(backends.pid);
    const machineBefore = machineBusySeconds();
    const selfBefore = selfAndReapedCpuSeconds();
    const w = await load(durationS);
    const cpuS = running.pid === undefined || before === undefined ? Number.NaN : cpuBetween(before, treeCpu(running.pid));
    // whatever the machine did besides proxy, backends, wrk and this script: other people's work
    const otherCpuS =
      machineBusySeconds() -
      machineBefore -
      (Number.isFinite(cpuS) ? cpuS : 0) -
      cpuBetween(backendsBefore, treeCpu(backends.pid)) -
      (selfAndReapedCpuSeconds() - selfBefore);
    measurements.push({
      run,
      scenario: s.id,
      contestant: c.id,
      reqPerSec: w.reqPerSec,
      p50Ms: w.p50Ms,
      p99Ms: w.p99Ms,
      requests: w.requests,
      errors: w.errors,
      cpuS,
      otherCpuS,
    });
    const cpuText = Number.isFinite(cpuS) ? `, cpu ${cpuS.toFixed(2)}s (${((cpuS / w.requests) * 1000).toFixed(4)} s/1k)` : '';
    log(
      `  ${c.label.padEnd(22)} ${Math.round(w.reqPerSec).toString().padStart(7)} req/s  p50 ${w.p50Ms.toFixed(2)}ms  p99 ${w.p99Ms.toFixed(2)}ms${cpuText}` +
        (w.errors > 0 ? `  ERRORS ${w.errors}` : '') +
        (otherCpuS > 0.1 * w.seconds ? `  (other work on the machine: ${otherCpuS.toFixed(1)} CPU s)` : ''),
    );
  } catch (err) {
    // the message points into the temp directory: keep it
    keepTemp = true;
    const msg = err instanceof Error ? err.message : String(err);
    if (err instanceof Unavailable) {
      skipped.set(key, msg);
      skipped.set(`${s.id}/${c.id}`, msg);
      log(`  ${c.label.padEnd(22)} SKIPPED in ${s.mode} mode: ${msg}`);
    } else {
      skipped.set(`${s.id}/${c.id}`, msg.split('\n')[0] ?? msg);
      log(`  ${c.label.padEnd(22)} FAILED: ${msg}`);
    }
  } finally {
    await running?.stop();
  }
}

for (let run = 1; run <= runs; run++) {
  for (const s of chosenScenarios) {
    log(`run ${run}/${runs}, ${s.label}`);
    for (const c of chosenContestants) {
      if (plays(c, s)) await measure(run, s, c);
    }
  }
}

await backends.stop();

const rows = summarize(chosenScenarios, chosenContestants, measurements, skipped);
const now = new Date();
const date = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
const cpu = cpus();
const info = {
  date,
  machine: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Linux ${release()}`,
  versions,
  runs,
  durationS,
  connections,
  warmupS: WARMUP_S,
  cpus: cpu.length,
  quick,
  busyBefore,
};

log('');
for (const s of chosenScenarios) {
  log(`${s.label}: medians of ${runs} run(s)`);
  log(scenarioTable(rows.filter((r) => r.scenario.id === s.id)));
  log('');
}

if (!opts['no-results']) {
  const repoRoot = resolve(import.meta.dirname, '..');
  const resultsDir = join(import.meta.dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  // an HTTPS-only run gets its own files, so it does not replace the plain-HTTP latest.md
  const httpsOnly = chosenScenarios.every((s) => s.tls === true);
  // and an HTTP/2-only run its own again
  const h2Only = chosenScenarios.every((s) => s.h2 !== undefined);
  const stem = h2Only ? `${date}-h2` : httpsOnly ? `${date}-https` : `${date}-http`;
  const latest = h2Only ? 'latest-h2' : httpsOnly ? 'latest-https' : 'latest';
  const mdPath = join(resultsDir, `${stem}.md`);
  const svgPath = join(resultsDir, httpsOnly ? `${stem}.svg` : `${date}.svg`);
  const title = `halb vs HAProxy, nginx, node-http-proxy (${date}${quick ? ', quick' : ''})`;
  writeFileSync(svgPath, svgChart(title, chosenScenarios, rows));
  writeFileSync(mdPath, markdownReport(info, chosenScenarios, rows, measurements, relative(resultsDir, svgPath)));
  copyFileSync(mdPath, join(resultsDir, `${latest}.md`));
  copyFileSync(svgPath, join(resultsDir, `${latest}.svg`));
  log(`bench: wrote ${relative(repoRoot, mdPath)}, ${relative(repoRoot, svgPath)} (and ${latest}.md, ${latest}.svg)`);
}

if (keepTemp) log(`bench: configs and logs kept in ${tmp}`);
process.exit(0);
