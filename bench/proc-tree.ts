// CPU time and resident memory of a process and all its descendants, read from /proc.
// A proxy's cost includes its workers (nginx, halb workers: auto), so the whole tree counts.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface StatLine {
  pid: number;
  ppid: number;
  /** utime + stime, in clock ticks */
  ticks: number;
}

function readStat(pid: number): StatLine | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name may contain spaces and parentheses: fields start after the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return { pid, ppid, ticks: utime + stime };
}

function allStats(): StatLine[] {
  const out: StatLine[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s) out.push(s);
  }
  return out;
}

/** The root pid and every descendant that is alive now. */
export function treePids(root: number): number[] {
  const stats = allStats();
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/** CPU seconds (user + system) consumed so far by the tree's live processes, keyed by pid so a
 *  before/after difference can ignore processes that came or went in between. */
export function treeCpu(root: number): Map<number, number> {
  const hz = ticksPerSecond();
  const out = new Map<number, number>();
  for (const pid of treePids(root)) {
    const s = readStat(pid);
    if (s) out.set(pid, s.ticks / hz);
  }
  return out;
}

/** CPU seconds spent between two treeCpu() snapshots. A process that appeared in between counts
 *  from zero; one that vanished is lost (proxies do not fork per request, so this is rare). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0);
  return sum;
}

/** Resident set size of the whole tree in bytes (VmRSS summed). */
export function treeRssBytes(root: number): number {
  let sum = 0;
  for (const pid of treePids(root)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) sum += Number(m[1]) * 1024;
    } catch {
      // exited while we were reading
    }
  }
  return sum;
}

function cpuTotals(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // user nice system idle iowait irq softirq steal (guest is already inside user)
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  // irq/softirq time (loopback traffic is mostly softirq) belongs to no process, so it is left
  // out of "busy" rather than blamed on other work; steal is other work, on the host
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[7] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy, total };
}

/** Share (0..1) of all CPUs busy over the next intervalMs: other work on the machine skews every
 *  number, so the benchmarks check before they start. */
export async function machineBusy(intervalMs = 1000): Promise<number> {
  const a = cpuTotals();
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
  const b = cpuTotals();
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : 0;
}

/** CPU seconds all CPUs have spent busy since boot. */
export function machineBusySeconds(): number {
  return cpuTotals().busy / ticksPerSecond();
}

/** CPU seconds of this process plus the children it has reaped (wrk, once it has exited). */
export function selfAndReapedCpuSeconds(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields 14-17: utime, stime, cutime, cstime
  const sum = Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
  return sum / ticksPerSecond();
}
