// Planned moves with full halb nodes and a client at 50 req/s (advert 0.1 s, v3): `halb
// handover` and preemption by a returning lb1 fail no request; with nopreempt the returning
// lb1 stays backup and lb2 keeps serving.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { eventually } from '../vrrp/vrrp-node-client.ts';
import { across, lb1Serving, plannedSuite, type PlannedTrial } from './planned-trials.ts';
import { LB_MAC } from './seed-lab.ts';

const suite = plannedSuite('100ms', 'planned moves, full halb nodes');
const { advert: ADVERT, advertMs: ADVERT_MS, report } = suite;
const TRIALS = 3;

test(`halb handover on lb1 at advert ${ADVERT}: lb2 takes over with 0 failed requests, lb1 stays backup`, async () => {
  try {
    const { lb1, lb2 } = await lb1Serving(suite.seed(), ADVERT, ADVERT_MS);
    const trial = await across(suite.seed(), 'lb1', 'lb2', async () => {
      const out = await lb1.handover();
      assert.match(out, /handed over/);
    }, 3 * ADVERT_MS + 3000);
    report('halb handover (POST /handover): lb1 -> lb2', [trial]);
    assert.equal(trial.failed, 0, `failed requests: ${JSON.stringify(trial.errors)}`);
    // A handed-over node does not take the VIP straight back (it behaves as nopreempt).
    await new Promise((r) => setTimeout(r, 2 * masterDownInterval(3, 101, ADVERT_MS)));
    assert.equal((await lb1.status()).keepalivedState, 'BACKUP');
    assert.equal((await lb2.status()).keepalivedState, 'MASTER');
    assert.deepEqual(await suite.seed().vipHolders(), ['lb2']);
  } finally {
    await suite.seed().reset();
  }
});

test(`lb1 returns at advert ${ADVERT}: preemption gives it the VIP back with 0 failed requests`, async () => {
  try {
    const trials: PlannedTrial[] = [];
    const lb2 = await suite.seed().startLb('lb2', { priority: 100, advertInt: ADVERT });
    await lb2.waitState('master', 2 * masterDownInterval(3, 100, ADVERT_MS) + 3000, 0);
    for (let i = 0; i < TRIALS; i++) {
      let lb1;
      trials.push(
        await across(suite.seed(), 'lb2', 'lb1', async () => {
          lb1 = await suite.seed().startLb('lb1', { priority: 101, advertInt: ADVERT, state: 'MASTER' });
        }, 2 * masterDownInterval(3, 101, ADVERT_MS) + 5000),
      );
      // lb2 keeps the VIP about a second after yielding (so clients move first), then drops it.
      await eventually(async () => (await suite.seed().vipHolders()).join() === 'lb1', 3000, 'VIP on lb1 only');
      // Back to lb2 alone for the next trial (planned, so it is not part of the measurement).
      lb1!.signal('SIGTERM');
      await lb1!.exited;
      await eventually(async () => (await suite.seed().vipHolders()).join() === 'lb2', 5000, 'VIP on lb2 only');
    }
    report('lb1 returns, preempts: lb2 -> lb1', trials);
    for (const t of trials) assert.equal(t.failed, 0, `failed requests: ${JSON.stringify(t.errors)}`);
  } finally {
    await suite.seed().reset();
  }
});

// A connection the old master accepted, whose next packets reach the new master once the
// clients' neighbour entry for the VIP has moved: the new master hands them to the old one
// (which keeps the VIP a moment after yielding) instead of resetting them.
test(`a connection open across a planned move at advert ${ADVERT} is still served by the old master`, async () => {
  const seed = suite.seed();
  const held = [];
  try {
    const lb2 = await seed.startLb('lb2', { priority: 100, advertInt: ADVERT });
    await lb2.waitState('master', 2 * masterDownInterval(3, 100, ADVERT_MS) + 3000, 0);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb2', 3000, 'VIP on lb2');

    // Preemption: lb2 -> lb1, the connection was opened on lb2.
    const toLb1 = seed.holdConnection();
    held.push(toLb1);
    assert.deepEqual(await toLb1.first(), { ok: true, status: 200, by: 'lb2', reused: false });
    const lb1 = await seed.startLb('lb1', { priority: 101, advertInt: ADVERT, state: 'MASTER' });
    await eventually(async () => (await seed.clientVipMac()) === LB_MAC.lb1, 2 * masterDownInterval(3, 101, ADVERT_MS) + 3000, "client's VIP entry points at lb1");
    const afterPreempt = await toLb1.again();
    assert.deepEqual(afterPreempt, { ok: true, status: 200, by: 'lb2', reused: true }, 'the open connection is still served by lb2');

    // Handover: lb1 -> lb2, the connection was opened on lb1.
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3000, 'VIP on lb1 only');
    const toLb2 = seed.holdConnection();
    held.push(toLb2);
    assert.deepEqual(await toLb2.first(), { ok: true, status: 200, by: 'lb1', reused: false });
    const handover = lb1.handover();
    await eventually(async () => (await seed.clientVipMac()) === LB_MAC.lb2, 3000, "client's VIP entry points at lb2");
    const afterHandover = await toLb2.again();
    assert.deepEqual(afterHandover, { ok: true, status: 200, by: 'lb1', reused: true }, 'the open connection is still served by lb1');
    await handover;
    console.log(`# open connections across preemption and handover: ${JSON.stringify([afterPreempt, afterHandover])}`);
  } finally {
    for (const h of held) h.child.kill('SIGKILL');
    await seed.reset();
  }
});

test(`nopreempt at advert ${ADVERT}: a returning lb1 stays backup and lb2 keeps serving`, async () => {
  try {
    const lb2 = await suite.seed().startLb('lb2', { priority: 100, advertInt: ADVERT, nopreempt: true });
    await lb2.waitState('master', 2 * masterDownInterval(3, 100, ADVERT_MS) + 3000, 0);
    const client = suite.seed().startClient({ durationMs: 30_000 });
    await client.servedBy('lb2', 10, 5000);
    const lb1 = await suite.seed().startLb('lb1', { priority: 101, advertInt: ADVERT, nopreempt: true });
    await lb1.waitState('backup', 3000, 0);
    await new Promise((r) => setTimeout(r, 2 * masterDownInterval(3, 101, ADVERT_MS)));
    const records = await client.stop();
    assert.equal((await lb1.status()).keepalivedState, 'BACKUP');
    assert.equal((await lb2.status()).keepalivedState, 'MASTER');
    assert.deepEqual(await suite.seed().vipHolders(), ['lb2']);
    assert.ok(records.every((r) => r.ok && r.by === 'lb2'), 'every request served by lb2');
    console.log(`# nopreempt: lb2 served all ${records.length} requests while lb1 stayed backup`);
  } finally {
    await suite.seed().reset();
  }
});
