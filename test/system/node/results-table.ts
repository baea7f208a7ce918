// Measured figures of the node system tests, printed as one table per file (node:test shows
// console output), side by side with keepalived's figure where there is one.

export interface Row {
  scenario: string;
  advert: string;
  /** Per trial. */
  gapsMs: number[];
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
    const head = ['scenario', 'advert', 'trials', 'gap ms (median; each)', 'failed (median; each)', 'keepalived'];
    const body = this.rows.map((r) => [
      r.scenario,
      r.advert,
      String(Math.max(r.gapsMs.length, r.failed.length)),
      r.gapsMs.length ? `${median(r.gapsMs).toFixed(0)}; ${r.gapsMs.map((g) => g.toFixed(0)).join(' ')}` : '-',
      r.failed.length ? `${median(r.failed)}; ${r.failed.join(' ')}` : '-',
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
