// Runs wrk and reads the numbers we report out of its text output.
import { runBounded } from './process-group.ts';

export interface WrkResult {
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** connect/read/write/timeout socket errors plus non-2xx/3xx responses */
  errors: number;
  raw: string;
}

const unitMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(text: string, pct: string): number {
  const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
  if (!m) return Number.NaN;
  return Number(m[1]) * (unitMs[m[2] as string] ?? Number.NaN);
}

export function parseWrk(text: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!total || !rps) throw new Error(`wrk output not understood:\n${text}`);
  let errors = 0;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (sock) errors += Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non2xx) errors += Number(non2xx[1]);
  return {
    requests: Number(total[1]),
    seconds: (Number(total[2]) * (unitMs[total[3] as string] ?? Number.NaN)) / 1000,
    reqPerSec: Number(rps[1]),
    p50Ms: latencyMs(text, '50'),
    p99Ms: latencyMs(text, '99'),
    errors,
    raw: text,
  };
}

export interface WrkOptions {
  url: string;
  durationS: number;
  connections: number;
  threads: number;
  headers?: readonly string[];
}

export async function runWrk(wrk: string, o: WrkOptions): Promise<WrkResult> {
  const headers = (o.headers ?? []).flatMap((h) => ['-H', h]);
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--latency', '--timeout', '5s', ...headers, o.url];
  // wrk stops itself after -d; the limit only catches a wedged run
  const r = await runBounded('wrk', wrk, args, (o.durationS + 20) * 1000);
  if (r.code !== 0) throw new Error(`wrk exited with ${r.code}: ${r.stderr || r.stdout}`);
  return parseWrk(r.stdout);
}
