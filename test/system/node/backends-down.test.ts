// lb1's proxy loses every web server (its path to them is cut with blackhole routes inside its
// namespace) while lb2's does not: track.backends weight -60 takes lb1 from 101 to 41, below
// lb2's 100, and lb2 takes over and serves. When lb1's path returns, it preempts again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../vrrp/vrrp-node-client.ts';
import { SeedLab, switchover } from './seed-lab.ts';
import { ResultsTable } from './results-table.ts';
import { lb1Serving } from './planned-trials.ts';

const ADVERT = '100ms';
const ADVERT_MS = 100;
let seed: SeedLab;
const table = new ResultsTable();

before(async () => {
  seed = await SeedLab.create();
});

after(async () => {
  table.print('backend tracking, full halb nodes');
  await seed?.destroy();
});

test('lb1 loses all its web servers while lb2 keeps them: lb2 takes over; lb1 preempts back when they return', async () => {
  try {
    const { lb1, lb2 } = await lb1Serving(seed, ADVERT, ADVERT_MS);
    const client = seed.startClient({ durationMs: 30_000 });
    await client.servedBy('lb1', 10, 5000);
    const t0 = Date.now();
    await seed.cutWeb('lb1');
    await client.servedBy('lb2', 10, 10_000);
    const s1 = await lb1.status();
    assert.equal(s1.keepalivedState, 'BACKUP');
    assert.equal(s1.effectivePriority, 41, 'weight -60 applied');
    assert.deepEqual(s1.failingTrackers, ['backend webservers']);
    assert.equal((await lb2.status()).keepalivedState, 'MASTER');
    await eventually(async () => (await seed.vipHolders()).join() === 'lb2', 3000, 'VIP on lb2 only');
    const mark = client.records.length;
    const down = switchover(client.records, 'lb1', 'lb2');
    assert.ok(down.firstTo !== undefined);
    const servedMs = down.firstTo - t0;

    // lb1's servers come back: priority 101 again, it preempts lb2 without failing a request.
    const t1 = Date.now();
    await seed.cutWeb('lb1', false);
    await client.servedBy('lb1', 10, 10_000);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3000, 'VIP back on lb1 only');
    const records = await client.stop();
    const back = switchover(records.slice(mark), 'lb2', 'lb1', t1);
    console.log(`# servers cut on lb1: lb2 served ${servedMs} ms after the cut, ${down.failed} failed (${JSON.stringify(down.errors)}); servers back: lb1 served ${(back.firstTo ?? NaN) - t1} ms later, ${back.failed} failed`);
    table.add({ scenario: 'lb1 loses its servers: lb1 -> lb2', advert: ADVERT, gapsMs: [down.gap ?? NaN], servedMs: [servedMs], failed: [down.failed] });
    table.add({ scenario: 'lb1 servers back, preempts: lb2 -> lb1', advert: ADVERT, gapsMs: [back.gap ?? NaN], servedMs: [(back.firstTo ?? NaN) - t1], failed: [back.failed] });
    assert.equal(back.failed, 0, `no failed request when lb1 preempts back: ${JSON.stringify(back.errors)}`);
    // While lb1 had no server, its answers were 503 (or timeouts): the track weight bounds how long.
    assert.ok(down.failed > 0 || servedMs < 1000, 'sanity: the cut was felt or was fast');
  } finally {
    await seed.reset();
  }
});
