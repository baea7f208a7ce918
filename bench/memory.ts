// npm run bench:memory: halb's resident memory (1) holding 10k idle keep-alive client
// connections and (2) across minutes of steady wrk load, with a fitted slope to show whether
// memory grows. Other proxies can be measured the same way with --target, for comparison.
import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { findBinaries } from './binaries.ts';
import { fileLimit, installCleanup, killAllNow } from './process-group.ts';
import { startNginxBackends } from './nginx-backends.ts';
import { contestants } from './contestants.ts';
import type { Running } from './contestants.ts';
import { freePort } from './loopback.ts';
import { runWrk } from './wrk.ts';
import { machineBusy, treePids, treeRssBytes } from './proc-tree.ts';
import { openIdleClients } from './idle-clients.ts';
import { linearFit } from './statistics.ts';

const targets = contestants.filter((c) => c.family !== 'direct' && c.modes.includes('http'));
const usage = `usage: node bench/memory.ts [options]
  --quick              60 s of load instead of 300 s
  --duration <s>       seconds of steady load (default 300)
  --interval <s>       seconds between RSS samples under load (default 10)
  --idle <n>           idle keep-alive client connections to hold (default 10000)
  --target <id>        what to measure (default halb-1): ${targets.map((c) => c.id).join(', ')}
  --no-results         print only; write nothing under bench/results/`;

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

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    interval: { type: 'string' },
    idle: { type: 'string' },
    target: { type: 'string', default: 'halb-1' },
    'no-results': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (opts.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const durationS = positiveInt('duration', opts.duration, opts.quick ? 60 : 300);
const intervalS = positiveInt('interval', opts.interval, 10);
let idleCount = positiveInt('idle', opts.idle, 10_000);
const target = targets.find((c) => c.id === opts.target) ?? die(`--target: unknown "${opts.target}"`);

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const MiB = 1024 * 1024;
const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

// this process holds one descriptor per idle client; leave room for everything else
const ownLimit = fileLimit();
if (idleCount > ownLimit - 200) {
  log(`memory: only ${ownLimit} open files allowed here; holding ${ownLimit - 200} idle connections instead of ${idleCount}`);
  idleCount = ownLimit - 200;
}

const ceilingMs = (durationS + 180) * 1000;
setTimeout(() => {
  process.stderr.write(`memory: exceeded the time limit of ${ceilingMs / 1000}s; stopping everything\n`);
  killAllNow();
  process.exit(1);
}, ceilingMs).unref();
installCleanup();

const bin = findBinaries(log);
const tmp = mkdtempSync(join(tmpdir(), 'halb-membench-'));
let keepTemp = false;
process.on('exit', () => {
  if (!keepTemp) rmSync(tmp, { recursive: true, force: true });
});
const busy = await machineBusy();
if (busy > 0.1) log(`memory: WARNING: the machine is ${(busy * 100).toFixed(0)}% busy with other work`);
const backends = await startNginxBackends(bin.nginx, tmp);
const dir = join(tmp, target.id);
mkdirSync(dir, { recursive: true });

let running: Running;
try {
  // A first start after a code change type-strips the changed files (and keeps that compiler's
  // memory); every later start runs from Node's compile cache. One throwaway start measures the
  // usual case.
  if (target.family === 'halb') await (await target.start({ mode: 'http', port: await freePort(), backendPorts: backends.ports, dir, bin, tls: undefined, h2: false, fullHandshakes: false })).stop();
  running = await target.start({ mode: 'http', port: await freePort(), backendPorts: backends.ports, dir, bin, tls: undefined, h2: false, fullHandshakes: false });
} catch (err) {
  log(`memory: ${target.label} did not start: ${err instanceof Error ? err.message : String(err)}`);
  keepTemp = true;
  await backends.stop();
  process.exit(1);
}
const pid = running.pid as number;
const rss = (): number => treeRssBytes(pid);
const url = `http://127.0.0.1:${running.port}/`;
const report: string[] = [];
const out = (line: string): void => {
  log(line);
  report.push(line);
};

out(`# ${target.label}: memory (${new Date().toISOString()})`);
out('');
out(`- processes in the tree: ${treePids(pid).length}; machine busy with other work at start: ${(busy * 100).toFixed(0)}%`);
const rssStart = rss();
out(`- RSS just started: ${mib(rssStart)} MiB`);
await runWrk(bin.wrk, { url, durationS: 2, connections: 64, threads: 1 });
await new Promise((r) => setTimeout(r, 1000));
const rssWarm = rss();
out(`- RSS after a 2 s warm-up: ${mib(rssWarm)} MiB`);

// (1) idle keep-alive clients
const t0 = Date.now();
const idle = await openIdleClients(running.port, idleCount);
await new Promise((r) => setTimeout(r, 2000));
const rssIdle = rss();
const open = idle.stillOpen();
out(
  `- RSS holding ${open} idle keep-alive connections (${idle.opened} answered, ${idle.failed} failed, opened in ${((Date.now() - t0) / 1000).toFixed(1)} s): ` +
    `**${mib(rssIdle)} MiB** (+${mib(rssIdle - rssWarm)} MiB, ${(((rssIdle - rssWarm) / Math.max(open, 1)) / 1024).toFixed(2)} KiB per connection)`,
);
const idleTarget = 150;
out(`- target: 10k idle connections in <= ${idleTarget} MiB: ${open >= 10_000 ? (rssIdle / MiB <= idleTarget ? 'met' : 'NOT met') : `not judged (only ${open} held)`}`);
idle.closeAll();
await new Promise((r) => setTimeout(r, 3000));
out(`- RSS 3 s after closing them: ${mib(rss())} MiB`);

// (2) steady load
out('');
out(`## Steady load: wrk -t1 -c64 for ${durationS} s, RSS every ${intervalS} s`);
out('');
out('| t (s) | RSS (MiB) |');
out('|--:|--:|');
const samples: Array<{ t: number; rss: number }> = [];
const loadStart = Date.now();
const sample = (): void => {
  const s = { t: (Date.now() - loadStart) / 1000, rss: rss() };
  samples.push(s);
  out(`| ${s.t.toFixed(0)} | ${mib(s.rss)} |`);
};
const timer = setInterval(sample, intervalS * 1000);
const w = await runWrk(bin.wrk, { url, durationS, connections: 64, threads: 1 });
clearInterval(timer);
await new Promise((r) => setTimeout(r, 3000));
const rssAfter = rss();
out('');
out(`- load: ${Math.round(w.reqPerSec)} req/s, ${w.requests} requests, ${w.errors} errors`);
const fit = linearFit(
  samples.map((s) => s.t / 60),
  samples.map((s) => s.rss / MiB),
);
const first = samples[0];
const last = samples[samples.length - 1];
if (first && last) out(`- RSS first sample ${mib(first.rss)} MiB, last ${mib(last.rss)} MiB, max ${mib(Math.max(...samples.map((s) => s.rss)))} MiB`);
out(`- linear fit over ${samples.length} samples: **${Number.isFinite(fit.slope) ? fit.slope.toFixed(3) : '–'} MiB/min**`);
// The first samples include the heap and JIT code growing to their working size; a leak shows
// as a slope that stays once that is done, so the second half is fitted on its own.
const late = samples.filter((s) => s.t >= durationS / 2);
const lateFit = linearFit(
  late.map((s) => s.t / 60),
  late.map((s) => s.rss / MiB),
);
out(`- linear fit over the second half (${late.length} samples, t >= ${durationS / 2} s): **${Number.isFinite(lateFit.slope) ? lateFit.slope.toFixed(3) : '–'} MiB/min**`);
out(`- RSS 3 s after the load stopped: ${mib(rssAfter)} MiB`);

await running.stop();
await backends.stop();

if (!opts['no-results']) {
  const now = new Date();
  const date = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
  const resultsDir = join(import.meta.dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${date}-memory-${target.id}.md`);
  writeFileSync(file, `${report.join('\n')}\n`);
  copyFileSync(file, join(resultsDir, `latest-memory-${target.id}.md`));
  log(`memory: wrote ${relative(resolve(import.meta.dirname, '..'), file)}`);
}
process.exit(0);
