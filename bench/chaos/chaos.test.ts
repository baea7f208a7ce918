// Chaos trials, the long run: the system test's trial (test/system/chaos/) with a fresh seed
// each time and 300 events by default. Run as `npm run bench:chaos` (root). The seed is printed:
// HALB_CHAOS_SEED=N replays a run, HALB_CHAOS_EVENTS sets the count, HALB_CHAOS_FROM=K skips
// to event K (drawing the same random numbers) and HALB_CHAOS_DEBUG=1 prints the nodes' logs
// for an event that failed requests.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChaosLab } from '../../test/system/chaos/chaos-lab.ts';
import { runChaos } from '../../test/system/chaos/chaos-run.ts';

const SEED = Number(process.env.HALB_CHAOS_SEED ?? Date.now() % 1_000_000_007);
const EVENTS = Number(process.env.HALB_CHAOS_EVENTS ?? 300);
const FROM = Number(process.env.HALB_CHAOS_FROM ?? 0);

let chaos: ChaosLab;
before(async () => {
  chaos = await ChaosLab.create();
});
after(async () => {
  await chaos?.destroy();
});

test(`chaos: ${EVENTS} seeded faults on three nodes, each healed: one VIP holder, clients served, planned events 0 failed`, async () => {
  const s = await runChaos(chaos, SEED, EVENTS, FROM);
  assert.equal(s.plannedFailed, 0);
});
