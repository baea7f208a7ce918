// Issue 12 point 2 in the seed lab: lb1 (master) loses its path to every web server while lb2
// keeps it. With peer_fallback on, lb1 hands the requests that still reach it to lb2 (marked
// X-Halb-Peer) until the VIP has moved, so the client sees 0 failed requests through the
// handover; when lb1's path returns it preempts back, again with 0 failed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually } from '../vrrp/vrrp-node-client.ts';
import { LB_ADDR, SeedLab, VIP, lbYaml, switchover, type LbOptions } from './seed-lab.ts';
import { ResultsTable } from './results-table.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';

const ADVERT = '100ms';
const ADVERT_MS = 100;
let seed: SeedLab;
const table = new ResultsTable();

before(async () => {
  seed = await SeedLab.create({ prefix: `hp${randomBytes(2).toString('hex')}` });
});

after(async () => {
  table.print('peer fallback, full halb nodes');
  await seed?.destroy();
});

/** The seed config, bound on every address (the peer reaches it on its real one) with the fallback on. */
function fallbackYaml(host: string, peer: string, o: LbOptions): string {
  const y = lbYaml(host, o);
  const bound = y.replace(`bind: ["${VIP}:80"]`, 'bind: ["0.0.0.0:80"]');
  const withPeer = bound.replace('    balance: roundrobin\n', `    balance: roundrobin\n    peer_fallback: true\n    peer_fallback_address: ${LB_ADDR[peer]}\n`);
  assert.notEqual(bound, y, 'seed config has the VIP bind');
  assert.notEqual(withPeer, bound, 'seed config has the balance line');
  return withPeer;
}

test('lb1 loses its web servers with peer_fallback on: 0 failed through the handover and back', { timeout: 120_000 }, async () => {
  try {
    const lb2 = await seed.startLbFile('lb2', fallbackYaml('lb2', 'lb1', { priority: 100, advertInt: ADVERT }), []);
    const lb1 = await seed.startLbFile('lb1', fallbackYaml('lb1', 'lb2', { priority: 101, advertInt: ADVERT, state: 'MASTER' }), []);
    await lb1.waitState('master', 2 * masterDownInterval(3, 101, ADVERT_MS) + 3000, 0);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3000, 'VIP on lb1 only');
    await eventually(() => lb2.state === 'backup', 3000, 'lb2 backup');

    const client = seed.startClient({ durationMs: 40_000 });
    await client.servedBy('lb1', 10, 5000);
    const t0 = Date.now();
    await seed.cutWeb('lb1');
    await client.servedBy('lb2', 10, 10_000);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb2', 3000, 'VIP on lb2 only');
    assert.equal((await lb2.status()).keepalivedState, 'MASTER');
    const mark = client.records.length;
    const down = switchover(client.records, 'lb1', 'lb2');
    assert.ok(down.firstTo !== undefined);
    const servedMs = down.firstTo - t0;

    const t1 = Date.now();
    await seed.cutWeb('lb1', false);
    await client.servedBy('lb1', 10, 10_000);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3000, 'VIP back on lb1 only');
    const records = await client.stop();
    const back = switchover(records.slice(mark), 'lb2', 'lb1', t1);
    const backMs = (back.firstTo ?? NaN) - t1;
    console.log(
      `# peer fallback: servers cut on lb1: lb2 answered as VIP holder ${servedMs} ms after the cut, ${down.failed} failed of ${down.total} (${JSON.stringify(down.errors)}); ` +
        `servers back: lb1 served ${backMs} ms later, ${back.failed} failed of ${back.total} (${JSON.stringify(back.errors)})`,
    );
    table.add({ scenario: 'peer fallback, lb1 loses its servers: lb1 -> lb2', advert: ADVERT, gapsMs: [down.gap ?? NaN], servedMs: [servedMs], failed: [down.failed] });
    table.add({ scenario: 'peer fallback, lb1 servers back: lb2 -> lb1', advert: ADVERT, gapsMs: [back.gap ?? NaN], servedMs: [backMs], failed: [back.failed] });
    if (down.failed + back.failed > 0) {
      // A rare failure under CI load (1 HTTP 503 of ~110): the nodes' warnings say which path answered it.
      for (const [n, node] of [['lb1', lb1], ['lb2', lb2]] as const) {
        const warn = node.stderr.split('\n').filter((l) => /"level":[45]0/.test(l) && !/connect to server failed/.test(l));
        console.log(`## ${n} warnings (last 20)\n${warn.slice(-20).join('\n')}`);
      }
    }
    assert.equal(down.failed, 0, `no failed request through the handover: ${JSON.stringify(down.errors)}`);
    assert.equal(back.failed, 0, `no failed request when lb1 preempts back: ${JSON.stringify(back.errors)}`);
  } finally {
    await seed.reset();
  }
});
