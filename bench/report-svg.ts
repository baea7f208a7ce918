// A grouped bar chart of median req/s, written by hand as SVG: one group per scenario, one bar per
// proxy, the same colour for a proxy in every group.
import type { Row } from './summary.ts';
import type { Scenario } from './scenarios.ts';

const palette: Record<string, string> = {
  direct: '#9e9e9e',
  'halb-1': '#1b9e77',
  'halb-auto': '#0b6e4f',
  'halb-1-pipeline': '#66c2a5',
  'halb-auto-pipeline': '#2a8c6e',
  'haproxy-1': '#7570b3',
  'haproxy-2': '#4b4590',
  nginx: '#d95f02',
  'node-http-proxy': '#e7298a',
};
const fallback = ['#66a61e', '#e6ab02', '#a6761d', '#666666'];

const esc = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * mag >= v) return step * mag;
  return 10 * mag;
}

const kilo = (v: number): string => {
  if (v < 1000) return v.toFixed(0);
  const k = v / 1000;
  return `${Number.isInteger(k) || k >= 100 ? k.toFixed(0) : k.toFixed(1)}k`;
};

export function svgChart(title: string, scenarios: readonly Scenario[], rows: readonly Row[]): string {
  const measured = rows.filter((r) => r.runs > 0 && Number.isFinite(r.reqPerSec));
  const ids: string[] = [];
  const labels = new Map<string, string>();
  for (const r of measured) {
    if (!ids.includes(r.contestant.id)) ids.push(r.contestant.id);
    labels.set(r.contestant.id, r.contestant.label);
  }
  const colour = (id: string): string => palette[id] ?? fallback[ids.indexOf(id) % fallback.length] ?? '#333';
  const groups = scenarios
    .map((s) => ({ s, bars: measured.filter((r) => r.scenario.id === s.id) }))
    .filter((g) => g.bars.length > 0);

  const barW = 26;
  const barGap = 4;
  const groupGap = 48;
  const left = 70;
  const top = 50;
  const plotH = 300;
  const legendW = 190;
  const groupW = (n: number): number => n * (barW + barGap) - barGap;
  const plotW = groups.reduce((a, g) => a + groupW(g.bars.length) + groupGap, groupGap);
  const width = left + plotW + legendW;
  const height = top + plotH + 60;
  const yMax = niceMax(Math.max(...measured.map((r) => r.reqPerSec), 0));
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${left}" y="40" fill="#555">median requests per second (higher is better)</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="${i === 0 ? '#000' : '#ddd'}"/>`);
    out.push(`<text x="${left - 6}" y="${yy}" dy="4" text-anchor="end" fill="#333">${kilo(v)}</text>`);
  }
  let x = left + groupGap;
  for (const g of groups) {
    for (const r of g.bars) {
      const h = top + plotH - y(r.reqPerSec);
      const cx = x + barW / 2;
      out.push(
        `<rect x="${x}" y="${y(r.reqPerSec).toFixed(1)}" width="${barW}" height="${h.toFixed(1)}" fill="${colour(r.contestant.id)}"><title>${esc(r.contestant.label)}: ${Math.round(r.reqPerSec)} req/s</title></rect>`,
      );
      out.push(
        `<text x="${cx}" y="${(y(r.reqPerSec) - 4).toFixed(1)}" text-anchor="middle" font-size="9" fill="#333">${kilo(r.reqPerSec)}</text>`,
      );
      x += barW + barGap;
    }
    x -= barGap;
    const mid = x - groupW(g.bars.length) / 2;
    out.push(`<text x="${mid}" y="${top + plotH + 20}" text-anchor="middle" font-weight="bold">${esc(g.s.label)}</text>`);
    x += groupGap;
  }
  const lx = left + plotW + 20;
  ids.forEach((id, i) => {
    const ly = top + 10 + i * 20;
    out.push(`<rect x="${lx}" y="${ly}" width="14" height="14" fill="${colour(id)}"/>`);
    out.push(`<text x="${lx + 20}" y="${ly + 11}">${esc(labels.get(id) ?? id)}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
