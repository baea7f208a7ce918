// Full halb nodes on the seed topology: lb1 (101) is master and serves the clients; lb2 (100)
// is backup, serves nothing and sends no adverts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SeedLab, switchover } from './seed-lab.ts';
import { eventually } from '../vrrp/vrrp-node-client.ts';

let seed: SeedLab;

before(async () => {
  seed = await SeedLab.create();
});

after(async () => {
  await seed?.destroy();
});

test('lb1 (101) is master and serves through all three web servers; lb2 (100) is backup and sends nothing', async () => {
  try {
    const lb1 = await seed.startLb('lb1', { priority: 101, advertInt: '100ms', state: 'MASTER' });
    const lb2 = await seed.startLb('lb2', { priority: 100, advertInt: '100ms' });
    await lb1.waitState('master', 5000, 0);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3000, 'VIP on lb1 only');
    const client = seed.startClient({ durationMs: 10_000 });
    await client.servedBy('lb1', 20, 5000);
    await new Promise((r) => setTimeout(r, 1000));
    const records = await client.stop();
    const s = switchover(records, 'lb1', 'lb2');
    const [s1, s2] = [await lb1.status(), await lb2.status()];
    assert.equal(s1.keepalivedState, 'MASTER');
    assert.equal(s2.keepalivedState, 'BACKUP');
    assert.equal(s2.masterAddress, '10.77.0.11');
    assert.equal(s2.counters.advertsSent, 0, 'lb2 sends nothing');
    assert.equal(s1.counters.advertsReceived, 0, 'lb1 hears nothing from lb2');
    assert.ok(s2.counters.advertsReceived >= 10, `lb2 hears lb1 (${s2.counters.advertsReceived})`);
    assert.equal(s.failed, 0, `no failed request: ${JSON.stringify(s.errors)}`);
    assert.ok(records.length >= 50, `client ran (${records.length} requests)`);
    assert.ok(records.every((r) => r.by === 'lb1'), 'every response came through lb1');
    const webs = new Set(records.map((r) => r.web));
    assert.deepEqual([...webs].sort(), ['web1', 'web2', 'web3'], 'lb1 balances over the three web servers');
    assert.deepEqual(await seed.vipHolders(), ['lb1']);
    console.log(`# lb1 served ${records.length} requests, 0 failed; lb2 sent ${s2.counters.advertsSent} adverts, heard ${s2.counters.advertsReceived}`);
  } finally {
    await seed.reset();
  }
});
