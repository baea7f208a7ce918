// What the lab prints at the end: each event, when the VIP moved after it (the first answer of
// the node serving at the end of the event's window, when that is another node than before),
// and how many requests failed until the next event. Pure: events and records in, rows out.

export interface LabEvent {
  t: number;
  what: string;
}

export interface ClientRecord {
  t: number;
  ok: boolean;
  by?: string;
  err?: string;
}

export interface TimelineRow {
  /** ms since the lab started. */
  at: number;
  what: string;
  /** Who served before the event and who first served after it, if that changed. */
  from?: string;
  to?: string;
  /** Event -> first request served by `to` (start times), when the VIP moved. */
  movedAfterMs?: number;
  requests: number;
  failed: number;
  errors: Record<string, number>;
}

export function buildTimeline(start: number, events: readonly LabEvent[], records: readonly ClientRecord[]): TimelineRow[] {
  const sorted = [...records].sort((a, b) => a.t - b.t);
  const evs = [...events].sort((a, b) => a.t - b.t);
  return evs.map((ev, i) => {
    const end = evs[i + 1]?.t ?? Infinity;
    const window = sorted.filter((r) => r.t >= ev.t && r.t < end);
    const before = [...sorted].reverse().find((r) => r.ok && r.t < ev.t)?.by;
    // Where the VIP ended up in this window: the node that served last; it moved if that is
    // another node than before, and the move took until that node's first answer.
    const after = [...window].reverse().find((r) => r.ok)?.by;
    const firstOther = after !== undefined && after !== before ? window.find((r) => r.ok && r.by === after) : undefined;
    const errors: Record<string, number> = {};
    for (const r of window) if (!r.ok) errors[r.err ?? '?'] = (errors[r.err ?? '?'] ?? 0) + 1;
    const row: TimelineRow = { at: ev.t - start, what: ev.what, requests: window.length, failed: window.filter((r) => !r.ok).length, errors };
    if (before !== undefined) row.from = before;
    if (firstOther?.by !== undefined) {
      row.to = firstOther.by;
      row.movedAfterMs = firstOther.t - ev.t;
    }
    return row;
  });
}

export function formatTimeline(rows: readonly TimelineRow[]): string {
  const lines = ['| at (s) | event | VIP | moved after | requests | failed |', '|--:|---|---|--:|--:|--:|'];
  for (const r of rows) {
    const vip = r.to ? `${r.from ?? '-'} -> ${r.to}` : (r.from ?? '-');
    const moved = r.movedAfterMs !== undefined ? `${r.movedAfterMs} ms` : '-';
    const errs = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`| ${(r.at / 1000).toFixed(1)} | ${r.what} | ${vip} | ${moved} | ${r.requests} | ${r.failed}${errs ? ` (${errs})` : ''} |`);
  }
  return lines.join('\n');
}
