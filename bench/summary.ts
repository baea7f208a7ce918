// Turns the individual measurements into one row per scenario and contestant: medians across
// runs and the ratios the targets are stated in.
import { plays } from './contestants.ts';
import type { Contestant, Family } from './contestants.ts';
import type { Scenario } from './scenarios.ts';
import { median } from './statistics.ts';

export interface Measurement {
  run: number;
  scenario: string;
  contestant: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** proxy CPU seconds during the measured interval; NaN for direct */
  cpuS: number;
  /** CPU seconds the rest of the machine spent during the interval: noise from other work */
  otherCpuS: number;
}

export interface Row {
  scenario: Scenario;
  contestant: Contestant;
  runs: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuPer1k: number;
  errors: number;
  vsHaproxy: number;
  vsDirect: number;
  /** why the contestant has no numbers, when it has none */
  skipped: string | undefined;
}

export function summarize(
  scenarios: readonly Scenario[],
  contestants: readonly Contestant[],
  measurements: readonly Measurement[],
  skipped: ReadonlyMap<string, string>,
): Row[] {
  const rows: Row[] = [];
  for (const s of scenarios) {
    const here: Row[] = [];
    for (const c of contestants) {
      if (!plays(c, s)) continue;
      const ms = measurements.filter((m) => m.scenario === s.id && m.contestant === c.id);
      here.push({
        scenario: s,
        contestant: c,
        runs: ms.length,
        reqPerSec: median(ms.map((m) => m.reqPerSec)),
        p50Ms: median(ms.map((m) => m.p50Ms)),
        p99Ms: median(ms.map((m) => m.p99Ms)),
        cpuPer1k: median(ms.map((m) => (m.cpuS / m.requests) * 1000)),
        errors: ms.reduce((a, m) => a + m.errors, 0),
        vsHaproxy: Number.NaN,
        vsDirect: Number.NaN,
        skipped: ms.length === 0 ? (skipped.get(`${s.id}/${c.id}`) ?? skipped.get(c.id) ?? 'not measured') : undefined,
      });
    }
    const haproxyBest = bestOf(here, 'haproxy');
    const directRps = bestOf(here, 'direct');
    for (const r of here) {
      r.vsHaproxy = r.reqPerSec / haproxyBest;
      r.vsDirect = r.reqPerSec / directRps;
    }
    rows.push(...here);
  }
  return rows;
}

function bestOf(rows: readonly Row[], family: Family): number {
  let best = Number.NaN;
  for (const r of rows) {
    if (r.contestant.family !== family || r.runs === 0) continue;
    if (!(r.reqPerSec <= best)) best = r.reqPerSec;
  }
  return best;
}
