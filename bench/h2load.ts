// Runs h2load (Debian nghttp2-client) for the HTTP/2 scenario and reads its text output into the
// numbers the report shows. h2load prints no latency percentiles: p50 is its mean time per
// request, p99 its max (an upper bound, not a percentile), said so in the results note.
import { existsSync } from 'node:fs';
import { runBounded } from './process-group.ts';
import type { WrkResult } from './wrk.ts';

export const H2LOAD = '/usr/bin/h2load';

export interface H2loadOptions {
  url: string;
  durationS: number;
  connections: number;
  streams: number;
}

const unitMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

export function parseH2load(text: string): WrkResult {
  const fin = /finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/.exec(text);
  const req = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(text);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text);
  const t = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(text);
  if (!fin || !req || !codes) throw new Error(`h2load output not understood:\n${text}`);
  const ms = (v: string | undefined, u: string | undefined): number => Number(v) * (unitMs[u ?? ''] ?? Number.NaN);
  return {
    requests: Number(req[2]),
    seconds: ms(fin[1], fin[2]) / 1000,
    reqPerSec: Number(fin[3]),
    p50Ms: t ? ms(t[5], t[6]) : Number.NaN,
    p99Ms: t ? ms(t[3], t[4]) : Number.NaN,
    errors: Number(req[4]) + Number(req[5]) + Number(req[6]) + Number(codes[3]) + Number(codes[4]),
    raw: text,
  };
}

export async function runH2load(o: H2loadOptions): Promise<WrkResult> {
  if (!existsSync(H2LOAD)) throw new Error(`${H2LOAD} not found (apt-get install nghttp2-client)`);
  const args = ['-t', '1', '-c', String(o.connections), '-m', String(o.streams), '-D', String(o.durationS), o.url];
  const r = await runBounded('h2load', H2LOAD, args, (o.durationS + 20) * 1000);
  if (r.code !== 0) throw new Error(`h2load exited with ${r.code}: ${r.stderr || r.stdout}`);
  return parseH2load(r.stdout);
}
