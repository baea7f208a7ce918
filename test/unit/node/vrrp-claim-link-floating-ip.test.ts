// A vrrp instance and its address claim (VrrpClaimLink) with a cloud floating IP AND virtual
// addresses (e.g. the floating IP configured on the interface, as Hetzner needs): a master
// that yields keeps its addresses until the provider reports the IP moved, not a fixed delay,
// because the provider keeps routing the IP here until the new master's assign completes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpClaimLink } from '../../../src/node/vrrp-claim-link.ts';
import type { AddressTable } from '../../../src/vip/virtual-addresses.ts';
import type { AddressProvider } from '../../../src/vip/provider.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { VirtualAddress } from '../../../src/config/types.ts';
import { FakeClock, FakeTransport, instanceConfig } from '../vrrp-router/fake-world.ts';

async function setup() {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  const held = new Set<string>();
  const table: AddressTable = {
    add: async (v: VirtualAddress) => (held.has(v.address) ? 'present' : (held.add(v.address), 'added')),
    remove: async (v: VirtualAddress) => (held.delete(v.address) ? 'removed' : 'absent'),
    has: async (v: VirtualAddress) => held.has(v.address),
    removeStale: async () => [],
    addRoute: async () => 'added',
    removeRoute: async () => 'absent',
  };
  const cloud = { holder: 'nobody', verifies: 0 };
  const provider: AddressProvider = {
    name: 'fake 10.0.0.100',
    acquire: async () => ((cloud.holder = 'me'), { changed: true, attempts: 1, detail: 'assigned' }),
    verify: async () => (cloud.verifies++, { ours: cloud.holder === 'me', holder: cloud.holder }),
  };
  const config = instanceConfig({
    priority: 150,
    floatingIp: { provider: 'digitalocean', ip: '10.0.0.100', apiBase: 'http://x', metadataBase: 'http://x', verifyInterval: 60_000 },
  });
  const inst = new VrrpClaimLink({
    config,
    log: silentLogger(),
    trackOwnInterface: false,
    openTransport: () => transport,
    timers: clock,
    addressTable: table,
    announce: async (_vip, _iface, opts) => opts.repeat,
    floatingIpProvider: provider,
    floatingIpMoveTimeout: 10_000,
  });
  await inst.start();
  clock.advance(masterDownInterval(3, 150, 1000));
  await settle();
  assert.equal(inst.state, 'master');
  assert.equal(cloud.holder, 'me');
  assert.equal(held.size, 1);
  return { clock, transport, inst, held, cloud };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

/** Half a second passes; the new master (priority 200) keeps advertising. */
async function tick(w: { clock: FakeClock; transport: FakeTransport }): Promise<void> {
  w.clock.advance(500);
  w.transport.advert('10.0.0.2', { priority: 200 });
  await settle();
}

test('preempted master keeps its addresses while the provider still routes the floating IP here, then the release delay', async () => {
  const { clock, transport, inst, held, cloud } = await setup();
  transport.advert('10.0.0.2', { priority: 200 });
  await settle();
  assert.equal(inst.state, 'backup');
  for (let i = 0; i < 6; i++) await tick({ clock, transport });
  assert.equal(held.size, 1, 'still serving: the new master has not got the IP yet (3 s, past the 1 s release delay)');
  assert.ok(cloud.verifies >= 5, 'kept looking');
  cloud.holder = 'droplet 2';
  await tick({ clock, transport });
  assert.equal(held.size, 1, 'moved: requests in flight get the release delay');
  await tick({ clock, transport });
  await tick({ clock, transport });
  assert.equal(held.size, 0);
  await inst.stop();
});

test('the wait for the move is bounded, and stop() during it releases at once', async () => {
  const a = await setup();
  a.transport.advert('10.0.0.2', { priority: 200 });
  await settle();
  for (let i = 0; i < 20; i++) await tick(a);
  assert.equal(a.held.size, 1, 'timeout (10 s) then release delay');
  await tick(a);
  await tick(a);
  await tick(a);
  assert.equal(a.held.size, 0, 'released although the provider never reported the move');
  await a.inst.stop();

  const b = await setup();
  b.transport.advert('10.0.0.2', { priority: 200 });
  await settle();
  for (let i = 0; i < 4; i++) await tick(b);
  assert.equal(b.held.size, 1);
  await b.inst.stop();
  assert.equal(b.held.size, 0, 'stop ends the wait');
});
