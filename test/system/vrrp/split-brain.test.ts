// Split brain: the link between lb1 and lb2 is cut (both become master, both hold the VIP),
// then healed: one master within about one advert interval, the VIP on exactly one node, and
// the winner announces the VIP again (GARP seen by a client on the segment).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { Lab } from '../../helpers/netns.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { VrrpNode, eventually, hasAddress, vrrpYaml } from './vrrp-node-client.ts';

const VIP = '10.77.0.100';
const LB1_MAC = '02:77:00:00:00:11';
let lab: Lab;
const nodes: VrrpNode[] = [];

before(async () => {
  lab = await Lab.create();
  await lab.host('lb1', { addresses: ['10.77.0.11/24'], mac: LB1_MAC });
  await lab.host('lb2', { addresses: ['10.77.0.12/24'], mac: '02:77:00:00:00:12' });
  await lab.host('client', { addresses: ['10.77.0.50/24'] });
});

after(async () => {
  for (const n of nodes) n.signal('SIGKILL');
  await lab?.destroy();
});

/** Gratuitous ARPs for the VIP seen by the client: [time, sender MAC]. */
function watchGarp(): { child: ChildProcess; seen: [number, string][]; ready: Promise<void> } {
  const child = lab.spawn('client', 'tcpdump', ['-l', '-n', '-e', '-i', 'eth0', 'arp', 'and', 'host', VIP]);
  const seen: [number, string][] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    // "... 02:77:00:00:00:11 > ff:ff:ff:ff:ff:ff, ethertype ARP ..., Request who-has 10.77.0.100 ... tell 10.77.0.100"
    const m = /^\S+ ([0-9a-f:]{17}) > ff:ff:ff:ff:ff:ff.*tell 10\.77\.0\.100\b/.exec(line);
    if (m) seen.push([Date.now(), m[1]!]);
  });
  const ready = new Promise<void>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening on')) resolve();
    });
    setTimeout(resolve, 3000);
  });
  return { child, seen, ready };
}

test('split brain at advert 1 s heals to one master with the VIP on one node, and the winner re-announces', async () => {
  const advertMs = 1000;
  const lb1 = await VrrpNode.start(lab, 'lb1', vrrpYaml({ priority: 101, state: 'MASTER', advertInt: '1s' }));
  const lb2 = await VrrpNode.start(lab, 'lb2', vrrpYaml({ priority: 100, advertInt: '1s' }));
  nodes.push(lb1, lb2);
  await lb1.waitState('master', 2 * masterDownInterval(3, 101, advertMs), 0);

  await lab.cutLink('lb2');
  await lb2.waitState('master', 2 * masterDownInterval(3, 100, advertMs), 0);
  await eventually(async () => (await hasAddress(lab, 'lb1', VIP)) && (await hasAddress(lab, 'lb2', VIP)), 2000, 'both hold the VIP during the split');
  assert.equal(lb1.state, 'master');

  const garp = watchGarp();
  await garp.ready;
  const mark = lb2.events.length;
  const healedAt = Date.now();
  await lab.healLink('lb2');
  const e = await lb2.waitState('backup', 3 * advertMs, mark);
  const took = e.t - healedAt;
  await eventually(async () => !(await hasAddress(lab, 'lb2', VIP)) && (await hasAddress(lab, 'lb1', VIP)), 2000, 'VIP on lb1 only');
  await eventually(() => garp.seen.some(([t, mac]) => t >= healedAt && mac === LB1_MAC), 2000, 'lb1 sends GARP after the heal');
  garp.child.kill('SIGTERM');
  console.log(`# split brain healed: one master ${took} ms after the link came back (advert ${advertMs} ms); GARPs from lb1 after heal: ${garp.seen.filter(([t]) => t >= healedAt).length}`);
  assert.ok(took < advertMs + 1000, `one master within one advert interval + slack (${took} ms)`);
  assert.equal(lb1.state, 'master');
  assert.equal((await lb2.status()).masterAddress, '10.77.0.11');
});
