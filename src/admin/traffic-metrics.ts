// The traffic counters (proxy/traffic-stats.ts) as Prometheus text. Rendered by hand rather
// than through prom-client: the buckets are already counted by the workers, and prom-client's
// Histogram can only observe values, not take counts.
import { RESPONSE_TIME_BUCKETS, STATUS_CLASSES, type TrafficCountersSnapshot, type TrafficSnapshot } from '../proxy/traffic-stats.ts';

type Scope = 'frontend' | 'backend' | 'server';
type Row = { labels: string; c: TrafficCountersSnapshot };

/** A label value escaped as the text format wants (backslash, quote, newline). */
function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const WHAT: Record<Scope, string> = {
  frontend: 'the frontend',
  backend: 'the backend',
  server: 'the server',
};

/** The metric families of one scope; names are listed in README (Metrics). */
function family(scope: Scope, rows: Row[], out: string[]): void {
  const p = `halb_${scope}_`;
  const w = WHAT[scope];
  const simple = (name: string, type: 'counter' | 'gauge', help: string, v: (c: TrafficCountersSnapshot) => number): void => {
    out.push(`# HELP ${p}${name} ${help}`, `# TYPE ${p}${name} ${type}`);
    for (const r of rows) out.push(`${p}${name}{${r.labels}} ${v(r.c)}`);
  };
  out.push(`# HELP ${p}http_requests_total HTTP requests finished on ${w}, by response status class (other: no response status)`, `# TYPE ${p}http_requests_total counter`);
  for (const r of rows) for (const k of STATUS_CLASSES) out.push(`${p}http_requests_total{${r.labels},code="${k}"} ${r.c.requests[k]}`);
  simple('received_bytes_total', 'counter', `body bytes read from clients for ${w} (HTTP: request bodies, heads not counted; TCP: the stream)`, (c) => c.bytesIn);
  simple('sent_bytes_total', 'counter', `body bytes written to clients for ${w} (HTTP: response bodies, heads not counted; TCP: the stream)`, (c) => c.bytesOut);
  if (scope === 'frontend') {
    simple('connections_total', 'counter', 'client connections accepted', (c) => c.connectionsTotal);
    simple('current_connections', 'gauge', 'client connections open now', (c) => c.connectionsCurrent);
    const n = `${p}h2_closed_connections_total`;
    out.push(`# HELP ${n} HTTP/2 client connections halb closed, by reason (rapid-reset, flood, continuation-flood, protocol-error, timeout)`, `# TYPE ${n} counter`);
    for (const r of rows) for (const [reason, v] of Object.entries(r.c.h2Closed ?? {})) out.push(`${n}{${r.labels},reason="${esc(reason)}"} ${v}`);
  } else {
    simple('sessions_total', 'counter', `HTTP requests and TCP connections sent to ${w} (each attempt)`, (c) => c.connectionsTotal);
    simple('current_sessions', 'gauge', `HTTP requests and TCP connections on ${w} now`, (c) => c.connectionsCurrent);
    simple('retries_total', 'counter', `attempts made again on the same server after a failure on ${w}`, (c) => c.retries);
    simple('redispatches_total', 'counter', `attempts moved to another server after a failure on ${w}`, (c) => c.redispatches);
  }
  const h = `${p}response_time_seconds`;
  out.push(`# HELP ${h} seconds from the request head read to the response head received, HTTP requests on ${w}`, `# TYPE ${h} histogram`);
  for (const r of rows) {
    const t = r.c.responseTime;
    let acc = 0;
    RESPONSE_TIME_BUCKETS.forEach((le, i) => {
      acc += t.counts[i] ?? 0;
      out.push(`${h}_bucket{${r.labels},le="${le}"} ${acc}`);
    });
    out.push(`${h}_bucket{${r.labels},le="+Inf"} ${t.count}`, `${h}_sum{${r.labels}} ${t.sum}`, `${h}_count{${r.labels}} ${t.count}`);
  }
}

export function renderTraffic(s: TrafficSnapshot): string {
  const out: string[] = [];
  const fe = Object.entries(s.frontends).map(([n, c]) => ({ labels: `frontend="${esc(n)}"`, c }));
  const be = Object.entries(s.backends).map(([n, c]) => ({ labels: `backend="${esc(n)}"`, c }));
  const sv = Object.entries(s.servers).flatMap(([b, per]) => Object.entries(per).map(([n, c]) => ({ labels: `backend="${esc(b)}",server="${esc(n)}"`, c })));
  family('frontend', fe, out);
  family('backend', be, out);
  family('server', sv, out);
  return out.join('\n') + '\n';
}

/** Every metric name renderTraffic can write (families and histogram series), for README and dashboard checks. */
export function trafficMetricNames(): string[] {
  const empty = { frontends: { f: zero() }, backends: { b: zero() }, servers: { b: { s: zero() } } };
  const names = new Set<string>();
  for (const line of renderTraffic(empty).split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!m) continue;
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const suf of ['_bucket', '_sum', '_count']) names.add(m[1]! + suf);
  }
  return [...names];
}

function zero(): TrafficCountersSnapshot {
  return {
    requests: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 },
    bytesIn: 0,
    bytesOut: 0,
    connectionsTotal: 0,
    connectionsCurrent: 0,
    retries: 0,
    redispatches: 0,
    responseTime: { counts: new Array<number>(RESPONSE_TIME_BUCKETS.length + 1).fill(0), sum: 0, count: 0 },
  };
}
