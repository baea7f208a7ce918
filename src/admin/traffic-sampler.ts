// The dashboard's traffic charts: the primary takes a snapshot of the cumulative traffic counters
// every second or two, keeps the last minutes of them in a bounded ring, and turns consecutive
// samples into rates: req/s, error rate (5xx / all) and p50/p99 latency from the latency
// histogram's bucket deltas (as Prometheus' histogram_quantile does on rate()). Pure: samples
// carry their own time; nothing here reads a clock or a socket.
import { BoundedRing } from './bounded-ring.ts';
import { RESPONSE_TIME_BUCKETS, type TrafficCountersSnapshot, type TrafficSnapshot } from '../proxy/traffic-stats.ts';

/** Cumulative counters of one frontend or backend since the process started. */
export interface TrafficCounters {
  requests: number;
  /** Responses with a 5xx status (halb's own 502/503/504 included). */
  errors: number;
  /**
   * Latency histogram: count per bucket (not cumulative), one per entry of `bounds` and a
   * last one for +Inf. Absent when the source has no latency.
   */
  buckets?: readonly number[];
}

export interface TrafficSample {
  /** Wall-clock ms. */
  at: number;
  /** Upper bounds of the latency buckets, seconds, ascending. */
  bounds: readonly number[];
  /** Keyed "frontend/<name>" or "backend/<name>". */
  groups: Readonly<Record<string, TrafficCounters>>;
}

export interface TrafficPoint {
  at: number;
  rps: number;
  /** 0..1; null without requests in the step. */
  errorRate: number | null;
  /** Seconds; null without requests or without a histogram. */
  p50: number | null;
  p99: number | null;
}

export interface TrafficSeries {
  key: string;
  points: TrafficPoint[];
}

/**
 * The q-quantile (0..1) of the observations counted in `counts` (per bucket, the last +Inf),
 * linear within the bucket it falls in. Beyond the last finite bound it answers that bound:
 * the histogram knows nothing finer.
 */
export function quantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && seen + c >= rank) {
      if (i >= bounds.length) return bounds.length > 0 ? bounds[bounds.length - 1]! : null;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - seen) / c);
    }
    seen += c;
  }
  return bounds.length > 0 ? bounds[bounds.length - 1]! : null;
}

/** One step between two samples of one group; undefined when a counter went back (a restart or reload). */
export function stepPoint(prev: TrafficCounters, cur: TrafficCounters, dtMs: number, at: number, bounds: readonly number[]): TrafficPoint | undefined {
  const requests = cur.requests - prev.requests;
  const errors = cur.errors - prev.errors;
  if (requests < 0 || errors < 0 || dtMs <= 0) return undefined;
  let p50: number | null = null;
  let p99: number | null = null;
  if (cur.buckets && prev.buckets && cur.buckets.length === prev.buckets.length && cur.buckets.length === bounds.length + 1) {
    const delta = cur.buckets.map((c, i) => c - prev.buckets![i]!);
    if (delta.some((d) => d < 0)) return undefined;
    p50 = quantile(0.5, bounds, delta);
    p99 = quantile(0.99, bounds, delta);
  }
  return { at, rps: (requests * 1000) / dtMs, errorRate: requests > 0 ? errors / requests : null, p50, p99 };
}

/**
 * One sample of the node's traffic counters: per frontend and backend, HTTP requests (TCP
 * frontends and backends, which have no requests: their sessions), 5xx as errors, and the
 * response-time histogram.
 */
export function sampleOf(t: TrafficSnapshot, at: number): TrafficSample {
  const groups: Record<string, TrafficCounters> = {};
  const add = (key: string, c: TrafficCountersSnapshot): void => {
    const r = c.requests;
    const http = r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'] + r.other;
    groups[key] = http > 0 ? { requests: http, errors: r['5xx'], buckets: c.responseTime.counts } : { requests: c.connectionsTotal, errors: 0 };
  };
  for (const [name, c] of Object.entries(t.frontends)) add(`frontend/${name}`, c);
  for (const [name, c] of Object.entries(t.backends)) add(`backend/${name}`, c);
  return { at, bounds: RESPONSE_TIME_BUCKETS, groups };
}

export class TrafficSampler {
  readonly #samples: BoundedRing<TrafficSample>;

  /** `keep` samples: at one a second, 600 is ten minutes. */
  constructor(keep = 600) {
    this.#samples = new BoundedRing(keep + 1);
  }

  add(sample: TrafficSample): void {
    const last = this.#samples.items().at(-1);
    // A clock step back would give negative rates: start the series over from here.
    if (last && sample.at <= last.at) return;
    this.#samples.push(sample);
  }

  /** Per group, oldest first; a group that appeared later counts from zero in the step it appeared. */
  series(): TrafficSeries[] {
    const samples = this.#samples.items();
    const out = new Map<string, TrafficPoint[]>();
    for (let i = 1; i < samples.length; i++) {
      const prev = samples[i - 1]!;
      const cur = samples[i]!;
      const sameBounds = prev.bounds.length === cur.bounds.length && prev.bounds.every((b, j) => b === cur.bounds[j]);
      for (const [key, c] of Object.entries(cur.groups)) {
        // A group the previous sample lacks is new (first traffic, a frontend added by a reload):
        // its counters started at zero, so its first step counts from there.
        const p = prev.groups[key] ?? { requests: 0, errors: 0, ...(c.buckets ? { buckets: c.buckets.map(() => 0) } : {}) };
        const point = stepPoint(p, sameBounds ? c : { requests: c.requests, errors: c.errors }, cur.at - prev.at, cur.at, cur.bounds);
        if (!point) continue;
        let list = out.get(key);
        if (!list) out.set(key, (list = []));
        list.push(point);
      }
    }
    return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, points]) => ({ key, points }));
  }
}
