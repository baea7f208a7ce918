// Split brain with full halb nodes: the path between lb1 and lb2 is cut at the switch (their
// bridge ports are isolated from each other; web servers and clients still reach both),
// so both become master and hold the VIP. After healing: one master within about one advert
// interval, the VIP on exactly one node (lb1), and the clients served by it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { eventually, hasAddress } from '../vrrp/vrrp-node-client.ts';
import { SeedLab, VIP, switchover } from './seed-lab.ts';
import { ResultsTable } from './results-table.ts';
import { lb1Serving } from './planned-trials.ts';

const ADVERT = '1s';
const ADVERT_MS = 1000;
let seed: SeedLab;
const table = new ResultsTable();

before(async () => {
  seed = await SeedLab.create();
});

after(async () => {
  table.print('split brain, full halb nodes');
  await seed?.destroy();
});

/** Cut (or heal) lb1 <-> lb2 only: isolated bridge ports cannot talk to each other, but both still reach the rest. */
async function isolateLbs(on: boolean): Promise<void> {
  for (const port of ['p-lb1', 'p-lb2']) await seed.lab.exec('sw', 'bridge', ['link', 'set', 'dev', port, 'isolated', on ? 'on' : 'off']);
}

test('split brain at advert 1 s: both masters during the cut; after healing one master, the VIP on lb1 only, clients served by lb1', async () => {
  try {
    const { lb1, lb2 } = await lb1Serving(seed, ADVERT, ADVERT_MS);
    await isolateLbs(true);
    await lb2.waitState('master', 2 * masterDownInterval(3, 100, ADVERT_MS) + 2000);
    await eventually(async () => (await hasAddress(seed.lab, 'lb1', VIP)) && (await hasAddress(seed.lab, 'lb2', VIP)), 3000, 'both hold the VIP during the split');
    assert.equal(lb1.state, 'master');
    // lb2's GARP pulled the client over: it is served by lb2 during the split.
    const client = seed.startClient({ durationMs: 30_000 });
    await client.servedBy('lb2', 10, 5000);

    const mark = lb2.events.length;
    const healedAt = Date.now();
    await isolateLbs(false);
    const e = await lb2.waitState('backup', 3 * ADVERT_MS, mark);
    const oneMaster = e.t - healedAt;
    await client.servedBy('lb1', 10, 5000);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3000, 'VIP on lb1 only');
    await new Promise((r) => setTimeout(r, 500));
    const records = await client.stop();
    const s = switchover(records, 'lb2', 'lb1', healedAt);
    const tail = records.filter((r) => r.t > (s.firstTo ?? Infinity));
    console.log(`# split brain healed: one master ${oneMaster} ms after the heal (advert ${ADVERT}); clients moved to lb1 ${(s.firstTo ?? NaN) - healedAt} ms after; ${s.failed} failed`);
    table.add({ scenario: `split brain heal: lb2 -> lb1 (one master ${oneMaster} ms after heal)`, advert: ADVERT, gapsMs: [s.gap ?? NaN], servedMs: [(s.firstTo ?? NaN) - healedAt], failed: [s.failed] });
    assert.ok(oneMaster < ADVERT_MS + 1000, `one master within one advert interval + slack (${oneMaster} ms)`);
    assert.equal(lb1.state, 'master');
    assert.equal((await lb2.status()).masterAddress, '10.77.0.11');
    assert.ok(tail.length > 0 && tail.every((r) => r.ok && r.by === 'lb1'), 'after the move every request is served by lb1');
  } finally {
    await isolateLbs(false).catch(() => undefined);
    await seed.reset();
  }
});
