// Traffic counters of one serving process: per frontend, backend and server, requests by status
// class, bytes, connections, retries, redispatches and a response-time histogram with fixed
// buckets. The request path only adds to plain number fields of objects it looked up once, so
// counting costs no allocation and no prom-client call; the primary sums the processes'
// snapshots (mergeTraffic) and renders them at scrape time (admin/metrics.ts).

/** Upper bounds (seconds) of the response-time buckets; one more bucket holds the rest (+Inf). */
export const RESPONSE_TIME_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `other`: the request ended without a response status (client gone, server failure before a head). */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

export interface HistogramSnapshot {
  /** RESPONSE_TIME_BUCKETS.length + 1 counts, NOT cumulative; the last one is above 10 s. */
  counts: number[];
  /** Sum of the observed seconds. */
  sum: number;
  count: number;
}

export interface TrafficCountersSnapshot {
  /** Finished HTTP requests by response status class (TCP sessions are not requests). */
  requests: Record<StatusClass, number>;
  /** Body bytes halb read from clients (HTTP request bodies, TCP streams); unlike HAProxy's bin, heads are not counted. */
  bytesIn: number;
  /** Body bytes halb wrote to clients (HTTP response bodies, TCP streams); unlike HAProxy's bout, heads are not counted. */
  bytesOut: number;
  /** Frontend: client connections accepted. Backend/server: sessions sent there (HTTP requests, TCP connections). */
  connectionsTotal: number;
  /** The same, open now. A gauge: summing processes is right, keeping a dead process's is not. */
  connectionsCurrent: number;
  /** Attempts again on the same server after a connect failure. */
  retries: number;
  /** Attempts moved to another server after a failure. */
  redispatches: number;
  /** Seconds from the request head read to the response head received (HTTP only). */
  responseTime: HistogramSnapshot;
  /** Frontend: HTTP/2 client connections halb closed, by reason (h2/h2-frontend.ts); absent while none. */
  h2Closed?: Record<string, number>;
}

export interface TrafficSnapshot {
  frontends: Record<string, TrafficCountersSnapshot>;
  backends: Record<string, TrafficCountersSnapshot>;
  /** servers[backend][server] */
  servers: Record<string, Record<string, TrafficCountersSnapshot>>;
}

/** Index into requests/STATUS_CLASSES for an HTTP status; 0 or out of range is `other`. */
export function statusClassIndex(status: number): number {
  const c = Math.floor(status / 100);
  return c >= 1 && c <= 5 ? c - 1 : 5;
}

/** The live, mutable counters of one frontend, backend or server. */
export class TrafficCounters {
  /** Indexed by statusClassIndex. */
  readonly requests: number[] = [0, 0, 0, 0, 0, 0];
  bytesIn = 0;
  bytesOut = 0;
  connectionsTotal = 0;
  connectionsCurrent = 0;
  retries = 0;
  redispatches = 0;
  readonly timeCounts: number[] = new Array<number>(RESPONSE_TIME_BUCKETS.length + 1).fill(0);
  timeSum = 0;
  timeCount = 0;
  /** Created at the first HTTP/2 connection closed by halb. */
  h2Closed: Record<string, number> | undefined;

  h2ClosedBy(reason: string): void {
    const m = (this.h2Closed ??= {});
    m[reason] = (m[reason] ?? 0) + 1;
  }

  response(status: number): void {
    this.requests[statusClassIndex(status)]!++;
  }

  observe(seconds: number): void {
    let i = 0;
    while (i < RESPONSE_TIME_BUCKETS.length && seconds > RESPONSE_TIME_BUCKETS[i]!) i++;
    this.timeCounts[i]!++;
    this.timeSum += seconds;
    this.timeCount++;
  }

  connect(): void {
    this.connectionsTotal++;
    this.connectionsCurrent++;
  }

  disconnect(): void {
    this.connectionsCurrent--;
  }

  snapshot(): TrafficCountersSnapshot {
    const requests = {} as Record<StatusClass, number>;
    STATUS_CLASSES.forEach((c, i) => (requests[c] = this.requests[i]!));
    const out: TrafficCountersSnapshot = {
      requests,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      connectionsTotal: this.connectionsTotal,
      connectionsCurrent: this.connectionsCurrent,
      retries: this.retries,
      redispatches: this.redispatches,
      responseTime: { counts: [...this.timeCounts], sum: this.timeSum, count: this.timeCount },
    };
    if (this.h2Closed !== undefined) out.h2Closed = { ...this.h2Closed };
    return out;
  }
}

/**
 * All counters of one process. Scopes are created on first use and kept across reloads (a
 * reload builds new pools; the counts of a name go on), so look them up when a frontend or a
 * request is set up, not per byte.
 */
export class TrafficStats {
  readonly #frontends = new Map<string, TrafficCounters>();
  readonly #backends = new Map<string, TrafficCounters>();
  readonly #servers = new Map<string, Map<string, TrafficCounters>>();

  frontend(name: string): TrafficCounters {
    return getOrAdd(this.#frontends, name);
  }

  backend(name: string): TrafficCounters {
    return getOrAdd(this.#backends, name);
  }

  server(backend: string, server: string): TrafficCounters {
    let m = this.#servers.get(backend);
    if (!m) this.#servers.set(backend, (m = new Map()));
    return getOrAdd(m, server);
  }

  snapshot(): TrafficSnapshot {
    const out = emptyTraffic();
    for (const [n, c] of this.#frontends) out.frontends[n] = c.snapshot();
    for (const [n, c] of this.#backends) out.backends[n] = c.snapshot();
    for (const [b, m] of this.#servers) {
      const per: Record<string, TrafficCountersSnapshot> = (out.servers[b] = {});
      for (const [s, c] of m) per[s] = c.snapshot();
    }
    return out;
  }
}

function getOrAdd(m: Map<string, TrafficCounters>, k: string): TrafficCounters {
  let c = m.get(k);
  if (!c) m.set(k, (c = new TrafficCounters()));
  return c;
}

export function emptyTraffic(): TrafficSnapshot {
  return { frontends: {}, backends: {}, servers: {} };
}

export function emptyCounters(): TrafficCountersSnapshot {
  return new TrafficCounters().snapshot();
}

/** a + b, field by field; a name present in only one side is copied. Neither input changes. */
export function mergeCounters(a: TrafficCountersSnapshot, b: TrafficCountersSnapshot): TrafficCountersSnapshot {
  const requests = {} as Record<StatusClass, number>;
  for (const c of STATUS_CLASSES) requests[c] = a.requests[c] + b.requests[c];
  const out: TrafficCountersSnapshot = {
    requests,
    bytesIn: a.bytesIn + b.bytesIn,
    bytesOut: a.bytesOut + b.bytesOut,
    connectionsTotal: a.connectionsTotal + b.connectionsTotal,
    connectionsCurrent: a.connectionsCurrent + b.connectionsCurrent,
    retries: a.retries + b.retries,
    redispatches: a.redispatches + b.redispatches,
    responseTime: {
      counts: a.responseTime.counts.map((n, i) => n + (b.responseTime.counts[i] ?? 0)),
      sum: a.responseTime.sum + b.responseTime.sum,
      count: a.responseTime.count + b.responseTime.count,
    },
  };
  if (a.h2Closed !== undefined || b.h2Closed !== undefined) {
    const h: Record<string, number> = { ...a.h2Closed };
    for (const [k, n] of Object.entries(b.h2Closed ?? {})) h[k] = (h[k] ?? 0) + n;
    out.h2Closed = h;
  }
  return out;
}

function mergeRecord(a: Record<string, TrafficCountersSnapshot>, b: Record<string, TrafficCountersSnapshot>): Record<string, TrafficCountersSnapshot> {
  const out: Record<string, TrafficCountersSnapshot> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = out[k] ? mergeCounters(out[k], v) : v;
  return out;
}

/** The sum of processes' snapshots: what the primary reports for the node. */
export function mergeTraffic(...snaps: TrafficSnapshot[]): TrafficSnapshot {
  let out = emptyTraffic();
  for (const s of snaps) {
    const servers = { ...out.servers };
    for (const [b, per] of Object.entries(s.servers)) servers[b] = mergeRecord(servers[b] ?? {}, per);
    out = { frontends: mergeRecord(out.frontends, s.frontends), backends: mergeRecord(out.backends, s.backends), servers };
  }
  return out;
}

/**
 * A process that exited: its totals stay part of the node's (counters must not go back), its
 * open connections are gone.
 */
export function retireTraffic(s: TrafficSnapshot): TrafficSnapshot {
  const zero = (r: Record<string, TrafficCountersSnapshot>): Record<string, TrafficCountersSnapshot> =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { ...v, connectionsCurrent: 0 }]));
  return {
    frontends: zero(s.frontends),
    backends: zero(s.backends),
    servers: Object.fromEntries(Object.entries(s.servers).map(([b, per]) => [b, zero(per)])),
  };
}

/**
 * The q-quantile (0..1) of a histogram, interpolated linearly inside its bucket as Prometheus'
 * histogram_quantile does; undefined with no observations. Above the last bound it answers the
 * last bound (10 s), as Prometheus does for the +Inf bucket.
 */
export function histogramQuantile(h: HistogramSnapshot, q: number): number | undefined {
  if (h.count === 0) return undefined;
  const rank = Math.min(Math.max(q, 0), 1) * h.count;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const n = h.counts[i] ?? 0;
    if (n > 0 && seen + n >= rank) {
      if (i >= RESPONSE_TIME_BUCKETS.length) return RESPONSE_TIME_BUCKETS[RESPONSE_TIME_BUCKETS.length - 1];
      const lo = i === 0 ? 0 : RESPONSE_TIME_BUCKETS[i - 1]!;
      const hi = RESPONSE_TIME_BUCKETS[i]!;
      return lo + ((hi - lo) * (rank - seen)) / n;
    }
    seen += n;
  }
  return RESPONSE_TIME_BUCKETS[RESPONSE_TIME_BUCKETS.length - 1];
}
