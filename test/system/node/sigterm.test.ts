// SIGTERM of the master lb1 with full halb nodes and a client at 50 req/s, at advert 1 s as
// keepalived's figure (31 failed requests): lb1 hands over (priority 0, keeps serving until lb2
// is heard, then keeps the VIP a moment so clients move first) and no request fails.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SeedLab } from './seed-lab.ts';
import { ResultsTable } from './results-table.ts';
import { across, lb1Serving, type PlannedTrial } from './planned-trials.ts';

const ADVERT = process.env.HALB_TEST_ADVERT ?? '1s';
const ADVERT_MS = ADVERT.endsWith('ms') ? Number(ADVERT.slice(0, -2)) : Number(ADVERT.slice(0, -1)) * 1000;
const TRIALS = 3;
let seed: SeedLab;
const table = new ResultsTable();

before(async () => {
  seed = await SeedLab.create();
});

after(async () => {
  table.print('SIGTERM handover, full halb nodes');
  await seed?.destroy();
});

function report(scenario: string, trials: PlannedTrial[], keepalived?: string): void {
  console.log(`# ${scenario} at advert ${ADVERT}: ${JSON.stringify(trials.map((t) => ({ failed: t.failed, gap: t.gap, servedMs: t.servedMs, lastFrom: (t.lastFrom ?? 0) - (t.firstTo ?? 0), failures: t.failures })))}`);
  table.add({ scenario, advert: ADVERT, gapsMs: trials.map((t) => t.gap ?? NaN), servedMs: trials.map((t) => t.servedMs ?? NaN), failed: trials.map((t) => t.failed), ...(keepalived ? { keepalived } : {}) });
}

test(`SIGTERM of lb1 at advert ${ADVERT}: lb2 takes over with 0 failed requests`, async () => {
  try {
    const trials: PlannedTrial[] = [];
    let lb2;
    for (let i = 0; i < TRIALS; i++) {
      const nodes = await lb1Serving(seed, ADVERT, ADVERT_MS, lb2);
      lb2 = nodes.lb2;
      const lb1 = nodes.lb1;
      trials.push(
        await across(seed, 'lb1', 'lb2', async () => {
          lb1.signal('SIGTERM');
          assert.equal(await lb1.exited, 0, 'lb1 stops cleanly');
        }, 3 * ADVERT_MS + 3000),
      );
    }
    report('SIGTERM lb1: lb1 -> lb2', trials, '31 failed at advert 1 s');
    for (const t of trials) assert.equal(t.failed, 0, `failed requests: ${JSON.stringify(t.errors)}`);
  } finally {
    await seed.reset();
  }
});
