// Unicast VRRP (unicast_src_ip / unicast_peer) on a segment that does not carry multicast:
// the bridge ports stop flooding multicast, and the pair still elects, fails over and hands back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../helpers/netns.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { VrrpNode, eventually, hasAddress, vrrpYaml } from './vrrp-node-client.ts';

const VIP = '10.77.0.100';
let lab: Lab;
const nodes = new Set<VrrpNode>();

before(async () => {
  lab = await Lab.create();
  await lab.host('lb1', { addresses: ['10.77.0.11/24'] });
  await lab.host('lb2', { addresses: ['10.77.0.12/24'] });
  for (const h of ['lb1', 'lb2']) {
    await lab.exec('sw', 'bridge', ['link', 'set', 'dev', `p-${h}`, 'mcast_flood', 'off']);
  }
});

after(async () => {
  for (const n of nodes) n.signal('SIGKILL');
  await lab?.destroy();
});

function yaml(priority: number, self: string, peer: string): string {
  return vrrpYaml({ priority, advertInt: '100ms', unicast: { source: self, peers: [peer] } });
}

test('control: multicast VRRP cannot work on this segment (both nodes end up master)', async () => {
  const lb1 = await VrrpNode.start(lab, 'lb1', vrrpYaml({ priority: 101, advertInt: '100ms' }));
  const lb2 = await VrrpNode.start(lab, 'lb2', vrrpYaml({ priority: 100, advertInt: '100ms' }));
  nodes.add(lb1).add(lb2);
  try {
    await lb1.waitState('master', 3000, 0);
    await lb2.waitState('master', 3000, 0);
    await new Promise((r) => setTimeout(r, 500));
    const [s1, s2] = [await lb1.status(), await lb2.status()];
    assert.equal(s1.counters.advertsReceived + s2.counters.advertsReceived, 0, 'no multicast advert crossed the bridge');
  } finally {
    await Promise.all([lb1.kill9(), lb2.kill9()]);
    nodes.clear();
    for (const h of ['lb1', 'lb2']) await lab.exec(h, 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { check: false });
  }
});

test('unicast: lb1 master, lb2 backup hearing it; kill -9 -> lb2; lb1 returns and preempts', async () => {
  const start = async (host: string, y: string): Promise<VrrpNode> => {
    const n = await VrrpNode.start(lab, host, y);
    nodes.add(n);
    return n;
  };
  const lb1 = await start('lb1', yaml(101, '10.77.0.11', '10.77.0.12'));
  const lb2 = await start('lb2', yaml(100, '10.77.0.12', '10.77.0.11'));
  await lb1.waitState('master', 3000, 0);
  await new Promise((r) => setTimeout(r, 500));
  const s2 = await lb2.status();
  assert.equal(s2.state, 'backup');
  assert.equal(s2.masterAddress, '10.77.0.11');
  assert.ok(s2.counters.advertsReceived >= 3, `lb2 hears lb1 over unicast (${s2.counters.advertsReceived})`);
  assert.deepEqual(s2.counters.drops, {});
  assert.equal(await hasAddress(lab, 'lb1', VIP), true);
  assert.equal(await hasAddress(lab, 'lb2', VIP), false);

  const mark = lb2.events.length;
  const t0 = Date.now();
  await lb1.kill9();
  const e = await lb2.waitState('master', 2 * masterDownInterval(3, 100, 100) + 500, mark);
  console.log(`# unicast kill -9 failover at advert 0.1 s: ${e.t - t0} ms`);
  await eventually(() => hasAddress(lab, 'lb2', VIP), 2000, 'lb2 holds the VIP');

  const mark2 = lb2.events.length;
  const lb1b = await start('lb1', yaml(101, '10.77.0.11', '10.77.0.12'));
  await lb1b.waitState('master', 3000, 0);
  await lb2.waitState('backup', 3000, mark2);
  await eventually(async () => (await hasAddress(lab, 'lb1', VIP)) && !(await hasAddress(lab, 'lb2', VIP)), 2000, 'VIP back on lb1 only');
});
