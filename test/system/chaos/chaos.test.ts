// Chaos trials, bounded for CI: three halb nodes and a client, 100 seeded faults, each healed
// (see chaos-run.ts for what is checked after each). A fixed seed by default, so CI replays one
// known sequence; HALB_CHAOS_SEED / HALB_CHAOS_EVENTS override it. `npm run bench:chaos` is the
// longer run with a fresh seed each time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChaosLab } from './chaos-lab.ts';
import { runChaos } from './chaos-run.ts';

const SEED = Number(process.env.HALB_CHAOS_SEED ?? 509_388_878);
const EVENTS = Number(process.env.HALB_CHAOS_EVENTS ?? 100);
const FROM = Number(process.env.HALB_CHAOS_FROM ?? 0);

let chaos: ChaosLab;
before(async () => {
  chaos = await ChaosLab.create();
});
after(async () => {
  await chaos?.destroy();
});

test(`chaos: ${EVENTS} seeded faults on three nodes, each healed: one VIP holder, clients served, planned events 0 failed`, { timeout: 20 * 60_000 }, async () => {
  const s = await runChaos(chaos, SEED, EVENTS, FROM);
  assert.equal(s.events, EVENTS - FROM);
  assert.equal(s.plannedFailed, 0);
});
