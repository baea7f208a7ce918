// kill -9 of lb1's halb at advert 100ms (v3) while a client requests the VIP at 50 req/s:
// lb2 serves within 0.5 s (median of 3 trials; each trial within twice that).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { median } from '../vrrp/vrrp-node-client.ts';
import { SeedLab } from './seed-lab.ts';
import { ResultsTable } from './results-table.ts';
import { killTrials } from './kill-failover.ts';

let seed: SeedLab;
const table = new ResultsTable();

before(async () => {
  seed = await SeedLab.create();
});

after(async () => {
  table.print('kill -9 failover, full halb nodes');
  await seed?.destroy();
});

test('kill -9 of lb1 at advert 100ms: lb2 serves within 0.5 s', async () => {
  try {
    const trials = await killTrials(seed, '100ms', 100, 3);
    const bound = 500;
    console.log(`# kill -9 at advert 100ms: ${JSON.stringify(trials)}; Master_Down_Interval ${masterDownInterval(3, 100, 100).toFixed(0)} ms`);
    table.add({
      scenario: 'kill -9 lb1: lb1 -> lb2',
      advert: '100ms',
      gapsMs: trials.map((t) => t.gapMs),
      servedMs: trials.map((t) => t.servedMs),
      failed: trials.map((t) => t.failed),
      keepalived: 'same bound (Master_Down_Interval)',
    });
    const served = median(trials.map((t) => t.servedMs));
    assert.ok(served <= bound, `median kill -> lb2 serves ${served} ms <= ${bound.toFixed(0)} ms`);
    for (const t of trials) assert.ok(t.servedMs <= 2 * bound, `kill -> lb2 serves ${t.servedMs} ms <= 2 x ${bound.toFixed(0)} ms`);
  } finally {
    await seed.reset();
  }
});
