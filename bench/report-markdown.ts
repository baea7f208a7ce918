// The results as Markdown: printed to the terminal and written under bench/results/.
import type { Measurement, Row } from './summary.ts';
import type { Scenario } from './scenarios.ts';
import { median } from './statistics.ts';

/** Other work above this share of all CPUs marks a measurement as disturbed. */
const DISTURBED_SHARE = 0.05;

export interface RunInfo {
  date: string;
  machine: string;
  versions: Record<string, string>;
  runs: number;
  durationS: number;
  connections: number;
  warmupS: number;
  cpus: number;
  quick: boolean;
  /** share of all CPUs busy with other work just before the benchmark started */
  busyBefore: number;
}

const fmt = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const fmtInt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');

export function scenarioTable(rows: readonly Row[]): string {
  const lines = [
    '| proxy | req/s | p50 ms | p99 ms | CPU s / 1k req | vs HAProxy best | vs direct | errors |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    if (r.skipped !== undefined) {
      lines.push(`| ${r.contestant.label} | skipped: ${r.skipped.replaceAll('|', '/')} | | | | | | |`);
      continue;
    }
    lines.push(
      `| ${r.contestant.label} | ${fmtInt(r.reqPerSec)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.cpuPer1k, 4)} | ${ratio(r.vsHaproxy)} | ${ratio(r.vsDirect)} | ${r.errors} |`,
    );
  }
  return lines.join('\n');
}

function halbVsNodeHttpProxy(rows: readonly Row[]): string[] {
  const out: string[] = [];
  const nhp = rows.find((r) => r.contestant.family === 'node-http-proxy' && r.runs > 0);
  if (!nhp) return out;
  for (const r of rows) {
    if (r.contestant.family === 'halb' && r.runs > 0) {
      out.push(`${r.contestant.label}: ${ratio(r.reqPerSec / nhp.reqPerSec)} node-http-proxy`);
    }
  }
  return out;
}

export function markdownReport(
  info: RunInfo,
  scenarios: readonly Scenario[],
  rows: readonly Row[],
  measurements: readonly Measurement[],
  chartFile: string,
): string {
  const parts: string[] = [];
  parts.push(`# halb throughput benchmark, ${info.date}${info.quick ? ' (quick)' : ''}`);
  parts.push('');
  parts.push(`- Machine: ${info.machine}`);
  parts.push(`- CPU busy with other work before the start: ${(info.busyBefore * 100).toFixed(0)}%${info.busyBefore > 0.1 ? ' (not idle: numbers are noisy)' : ''}`);
  parts.push(`- ${Object.entries(info.versions).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  parts.push(
    `- Load: \`wrk -t1 -c${info.connections} -d${info.durationS}s --latency\` after a ${info.warmupS} s warm-up; ${info.runs} run(s), ` +
      'interleaved (each run visits every scenario and every proxy); medians shown.',
  );
  parts.push('- Backends: one nginx (1 worker, access log off) with three server blocks on loopback; proxies balance round robin over all three, "direct" hits one.');
  parts.push('- "Other work CPU s" (every-measurement table): CPU the machine spent outside proxy, backends, wrk and the harness; well above 0 means the numbers are disturbed.');
  parts.push('- CPU: user+system seconds of the proxy\'s whole process tree during the measured interval, per 1000 requests.');
  const others = measurements.map((m) => m.otherCpuS).filter((x) => Number.isFinite(x));
  const disturbed = others.filter((x) => x > DISTURBED_SHARE * info.durationS * info.cpus).length;
  parts.push(
    `- Other work during the measurements: ${disturbed} of ${others.length} measurements had more than ${DISTURBED_SHARE * 100}% of the machine busy with it ` +
      `(median ${fmt(median(others), 1)} CPU s per ${info.durationS} s measurement)${disturbed > 0 ? ': treat the numbers as rough' : ''}.`,
  );
  parts.push(`- Chart: ${chartFile}`, "", `![req/s per scenario](${chartFile})`);
  for (const s of scenarios) {
    const here = rows.filter((r) => r.scenario.id === s.id);
    if (here.length === 0) continue;
    const how = [`\`${s.mode}\``, ...(s.tls === true ? ['over TLS (ECDSA P-256, self-signed)'] : []), ...(s.headers ?? []).map((h) => `\`-H '${h}'\``)];
    parts.push('', `## ${s.label} (${how.join(', ')}, GET ${s.path})`, '', scenarioTable(here));
    const extra = halbVsNodeHttpProxy(here);
    if (extra.length > 0) parts.push('', extra.join('; '));
  }
  parts.push('', '<details><summary>Every measurement</summary>', '');
  parts.push(
    '| run | scenario | proxy | req/s | p50 ms | p99 ms | requests | proxy CPU s | other work CPU s | errors |',
    '|--:|---|---|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const m of measurements) {
    parts.push(
      `| ${m.run} | ${m.scenario} | ${m.contestant} | ${fmtInt(m.reqPerSec)} | ${fmt(m.p50Ms, 2)} | ${fmt(m.p99Ms, 2)} | ${m.requests} | ${fmt(m.cpuS, 2)} | ${fmt(m.otherCpuS, 2)} | ${m.errors} |`,
    );
  }
  parts.push('', '</details>', '');
  return parts.join('\n');
}
