// SIGTERM of the master lb1 with full halb nodes and a client at 50 req/s, at advert 1 s as
// keepalived's figure (31 failed requests): lb1 hands over (priority 0, keeps serving until lb2
// is heard, then keeps the VIP a moment so clients move first) and no request fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { across, lb1Serving, plannedSuite, type PlannedTrial } from './planned-trials.ts';

const suite = plannedSuite('1s', 'SIGTERM handover, full halb nodes');
const { advert: ADVERT, advertMs: ADVERT_MS, report } = suite;
const TRIALS = 3;

test(`SIGTERM of lb1 at advert ${ADVERT}: lb2 takes over with 0 failed requests`, async () => {
  try {
    const trials: PlannedTrial[] = [];
    let lb2;
    for (let i = 0; i < TRIALS; i++) {
      const nodes = await lb1Serving(suite.seed(), ADVERT, ADVERT_MS, lb2);
      lb2 = nodes.lb2;
      const lb1 = nodes.lb1;
      trials.push(
        await across(suite.seed(), 'lb1', 'lb2', async () => {
          lb1.signal('SIGTERM');
          assert.equal(await lb1.exited, 0, 'lb1 stops cleanly');
        }, 3 * ADVERT_MS + 3000),
      );
    }
    report('SIGTERM lb1: lb1 -> lb2', trials, '31 failed at advert 1 s');
    for (const t of trials) assert.equal(t.failed, 0, `failed requests: ${JSON.stringify(t.errors)}`);
  } finally {
    await suite.seed().reset();
  }
});
