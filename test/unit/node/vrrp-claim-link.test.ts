// A vrrp instance wired to its address claim (VrrpClaimLink), with a fake transport, a fake
// address table and announcer, and in-process tracker sources: tracker changes move the
// advertised priority or force FAULT, addresses are taken and released with the state, stop()
// and handover() behave as the node needs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { VrrpClaimLink } from '../../../src/node/vrrp-claim-link.ts';
import type { TrackSource } from '../../../src/vrrp/instance.ts';
import type { AddressTable } from '../../../src/vip/virtual-addresses.ts';
import { decodeAdvert } from '../../../src/vrrp/packet.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { VirtualAddress } from '../../../src/config/types.ts';
import { FakeClock, FakeTransport, instanceConfig } from '../vrrp-router/fake-world.ts';

class Source extends EventEmitter implements TrackSource {
  readonly name: string;
  ok = true;
  constructor(name: string) {
    super();
    this.name = name;
  }
  set(ok: boolean): void {
    this.ok = ok;
    this.emit('change', ok);
  }
}

function fakeTable() {
  const held = new Set<string>();
  const log: string[] = [];
  const table: AddressTable = {
    add: async (v: VirtualAddress) => (log.push(`add ${v.address}`), held.has(v.address) ? 'present' : (held.add(v.address), 'added')),
    remove: async (v: VirtualAddress) => (log.push(`remove ${v.address}`), held.delete(v.address) ? 'removed' : 'absent'),
    has: async (v: VirtualAddress) => held.has(v.address),
    removeStale: async (vips: readonly VirtualAddress[]) => (log.push('removeStale'), vips.filter((v) => held.delete(v.address))),
    addRoute: async () => 'added',
    removeRoute: async () => 'absent',
  };
  return { table, held, log };
}

async function setup(o: { handoff?: boolean; handoffBegun?: Promise<void> } = {}) {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  const web = new Source('web');
  const api = new Source('api');
  const { table, held, log } = fakeTable();
  held.add('10.0.0.100'); // stale copy from a crashed run
  const announced: string[] = [];
  const config = instanceConfig({
    priority: 150,
    track: { backends: { web: { weight: -60 }, api: { weight: 0 } }, frontends: {}, scripts: [], interfaces: [], files: [] },
  });
  const inst = new VrrpClaimLink({
    config,
    log: silentLogger(),
    backends: { web, api },
    trackOwnInterface: false,
    openTransport: () => transport,
    timers: clock,
    addressTable: table,
    announce: async (vip, _iface, opts) => (announced.push(`${vip.address} x${opts.repeat}`), opts.repeat),
    ...(o.handoff
      ? {
          handoff: {
            begin: async (peer: string, windowMs: number) => {
              log.push(`handoff begin ${peer} ${windowMs}`);
              await o.handoffBegun;
              return true;
            },
            end: async () => void log.push('handoff end'),
            removeStale: async () => void log.push('handoff removeStale'),
          },
        }
      : {}),
  });
  await inst.start();
  return { clock, transport, inst, web, api, held, log, announced };
}

const settle = () => new Promise((r) => setTimeout(r, 10));
const lastPriority = (t: FakeTransport) => {
  const s = t.sent.at(-1)!;
  const r = decodeAdvert(s.payload, { src: t.localAddress, dst: s.dst, family: 4 });
  assert.ok(r.ok);
  return r.advert.priority;
};

test('stale VIPs go at start; as master the VIP is added and announced; trackers move the priority', async () => {
  const { clock, transport, inst, web, held, log, announced } = await setup();
  assert.equal(log[0], 'removeStale');
  assert.equal(held.size, 0);
  clock.advance(masterDownInterval(3, 150, 1000));
  await settle();
  assert.equal(inst.state, 'master');
  assert.deepEqual([...held], ['10.0.0.100']);
  assert.deepEqual(announced, ['10.0.0.100 x5'], 'first GARP burst of garp_master_repeat');
  assert.equal(inst.status().holdingAddresses, true);

  web.set(false);
  assert.equal(lastPriority(transport), 90, 'weight -60 applied and advertised at once');
  assert.equal(inst.status().effectivePriority, 90);
  assert.deepEqual(inst.status().failingTrackers, ['backend web']);
  web.set(true);
  assert.equal(lastPriority(transport), 150);
  await inst.stop();
});

test('a weight-0 tracker forces FAULT (priority 0 advert, VIP released); recovery returns to Backup', async () => {
  const { clock, transport, inst, api, held } = await setup();
  clock.advance(masterDownInterval(3, 150, 1000));
  await settle();
  api.set(false);
  await settle();
  assert.equal(inst.state, 'fault');
  assert.equal(lastPriority(transport), 0);
  assert.equal(held.size, 0);
  assert.equal(inst.status().fault, true);
  api.set(true);
  assert.equal(inst.state, 'backup');
  await inst.stop();
});

test('stop() as master: priority 0, VIP released, transport closed, keepalived state STOP', async () => {
  const { clock, transport, inst, held } = await setup();
  clock.advance(masterDownInterval(3, 150, 1000));
  await settle();
  await inst.stop();
  assert.equal(lastPriority(transport), 0);
  assert.equal(held.size, 0);
  assert.equal(transport.closed, true);
  assert.equal(inst.status().keepalivedState, 'STOP');
});

test('handover() keeps the VIP until the new master is heard, then releases and resolves', async () => {
  const { clock, transport, inst, held } = await setup();
  clock.advance(masterDownInterval(3, 150, 1000));
  await settle();
  let done = false;
  const p = inst.handover().then(() => (done = true));
  await settle();
  assert.equal(inst.state, 'master-handing-over');
  assert.equal(lastPriority(transport), 0);
  assert.equal(held.size, 1, 'still serving the VIP');
  assert.equal(done, false);
  transport.advert('10.0.0.2', { priority: 100 });
  await settle();
  assert.equal(inst.state, 'backup');
  assert.equal(held.size, 1, 'lingers with the VIP so clients move to the new master first');
  assert.equal(done, false);
  clock.advance(1000);
  await p;
  assert.equal(held.size, 0);
  await inst.stop();
});

test('a master preempted by a better one keeps the VIP for the release delay; stop() during it releases at once', async () => {
  const { clock, transport, inst, held } = await setup();
  clock.advance(masterDownInterval(3, 150, 1000));
  await settle();
  transport.advert('10.0.0.2', { priority: 200 });
  await settle();
  assert.equal(inst.state, 'backup');
  assert.equal(held.size, 1, 'still holding while clients move');
  clock.advance(500);
  await settle();
  assert.equal(held.size, 1);
  await inst.stop();
  assert.equal(held.size, 0, 'stop ends the linger');
});

test('taking over from a live master: the handoff begins before the VIP is added, and ends on leaving master', async () => {
  const { clock, transport, inst, log } = await setup({ handoff: true });
  assert.deepEqual(log, ['removeStale', 'handoff removeStale']);
  transport.advert('10.0.0.2', { priority: 200 });
  transport.advert('10.0.0.2', { priority: 0 });
  clock.advance(1000);
  await settle();
  assert.equal(inst.state, 'master');
  assert.deepEqual(log.slice(2), ['handoff begin 10.0.0.2 800', 'add 10.0.0.100'], 'window: 80% of the old master\'s 1 s linger');
  transport.advert('10.0.0.3', { priority: 250 });
  await settle();
  assert.equal(inst.state, 'backup');
  assert.ok(log.includes('handoff end'));
  await inst.stop();
});

test('taking over from a dead master (silent for Master_Down_Interval): no handoff', async () => {
  const { clock, transport, inst, log } = await setup({ handoff: true });
  transport.advert('10.0.0.2', { priority: 200 });
  clock.advance(masterDownInterval(3, 150, 1000) + 10);
  await settle();
  assert.equal(inst.state, 'master');
  assert.ok(!log.some((l) => l.startsWith('handoff begin')), log.join(', '));
  await inst.stop();
});

test('a master that yields before its addresses are in sends no gratuitous ARP for them (it would pull clients from the winner)', async () => {
  // Chaos seed 509388878: two backups took over at once after a priority-0 advert; the loser
  // stepped down while its handoff rule and VIP were still being set up, then announced the VIP
  // after the winner had, so clients followed it and timed out when its linger ended.
  let begun!: () => void;
  const handoffBegun = new Promise<void>((r) => (begun = r));
  const { clock, transport, inst, held, announced } = await setup({ handoff: true, handoffBegun });
  transport.advert('10.0.0.2', { priority: 200 });
  transport.advert('10.0.0.2', { priority: 0 });
  clock.advance(1000);
  await settle();
  assert.equal(inst.state, 'master');
  transport.advert('10.0.0.3', { priority: 250 });
  assert.equal(inst.state, 'backup');
  begun();
  await settle();
  assert.deepEqual(announced, [], 'no GARP after leaving master');
  assert.equal(held.size, 1, 'the VIP lingers as for any yielding master');
  clock.advance(1000);
  await settle();
  assert.equal(held.size, 0, 'and goes after the release delay');
  await inst.stop();
});
