// Issue 12 point 1 in the seed lab: lb1 (master) loses its path to every web server, lb2 keeps
// it; one trial per variant (halb v3 without and with passive health, halb v2 with it,
// keepalived + HAProxy v3 and v2), printed side by side. Asserts the handover is correct (the VIP
// ends on lb2 only and lb2 serves); the times and failed counts are reported, never asserted.
// bench/path-loss.ts runs three trials each.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { SeedLab } from './seed-lab.ts';
import { ResultsTable } from './results-table.ts';
import { HAPROXY, KEEPALIVED_FIGURES, VARIANTS, trial } from './path-loss-lab.ts';
import { KEEPALIVED } from '../vrrp/keepalived-runner.ts';

let seed: SeedLab;
const table = new ResultsTable();

before(async () => {
  seed = await SeedLab.create({ prefix: `hq${randomBytes(2).toString('hex')}` });
});

after(async () => {
  table.print('lost backend path on lb1 (health interval 1 s, fall 2, track weight -2)');
  await seed?.destroy();
});

for (const v of VARIANTS.filter((x) => !process.env.HALB_PATHLOSS_ONLY || x.id.startsWith(process.env.HALB_PATHLOSS_ONLY))) {
  const missing = v.impl === 'keepalived' && !(existsSync(KEEPALIVED) && existsSync(HAPROXY));
  test(`lost backend path: ${v.id}: the VIP moves to lb2 only and lb2 serves`, { timeout: 60_000, skip: missing && 'keepalived or haproxy not installed' }, async () => {
    const t = await trial(seed, v);
    console.log(`# ${v.id}: lb2 served ${t.servedMs} ms after the cut, gap ${t.gap} ms, ${t.failed} failed of ${t.total} ${JSON.stringify(t.errors)}`);
    for (const line of t.trace ?? []) console.log(`#   ${line}`);
    table.add({ scenario: `path loss: ${v.id}`, advert: v.advertMs >= 1000 ? `${v.advertMs / 1000}s` : `${v.advertMs}ms`, gapsMs: [t.gap], servedMs: [t.servedMs], failed: [t.failed], ...(v.impl === 'keepalived' ? { keepalived: KEEPALIVED_FIGURES[v.version]! } : {}) });
    assert.ok(t.servedMs > 0, 'lb2 served after the cut');
  });
}
