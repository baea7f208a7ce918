// Measured figures of the node system tests, printed as one table per file (node:test shows
// console output), side by side with keepalived's figure where there is one.

export interface Row {
  scenario: string;
  advert: string;
  /** Per trial: first success via the new master - last success via the old one. */
  gapsMs: number[];
  /** Per trial: the action (kill, SIGTERM, cut, heal, start) -> first request served by the new master. */
  servedMs?: number[];
  failed: number[];
  keepalived?: string;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export class ResultsTable {
  readonly rows: Row[] = [];

  add(row: Row): void {
    this.rows.push(row);
  }

  print(title: string): void {
    if (this.rows.length === 0) return;
    const head = ['scenario', 'advert', 'trials', 'gap ms (median; each)', 'action -> served ms (median; each)', 'failed (median; each)', 'keepalived'];
    const cell = (xs: number[] | undefined): string => (xs?.length ? `${median(xs).toFixed(0)}; ${xs.map((x) => x.toFixed(0)).join(' ')}` : '-');
    const body = this.rows.map((r) => [
      r.scenario,
      r.advert,
      String(Math.max(r.gapsMs.length, r.failed.length)),
      cell(r.gapsMs),
      cell(r.servedMs),
      cell(r.failed),
      r.keepalived ?? '',
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]): string => `# | ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    console.log(`# ${title} (client: 50 req/s, fresh connection each, 500 ms timeout; gap = first success via new master - last success via old)`);
    console.log(line(head));
    console.log(`# |${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const b of body) console.log(line(b));
  }
}
