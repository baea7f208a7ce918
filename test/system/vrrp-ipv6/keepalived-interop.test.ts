// halb and Debian's keepalived 2.2.7 in one IPv6 VRRPv3 virtual router (VRID 61, VIP
// fd77::100/64: keepalived runs an instance over IPv6 when its virtual addresses are IPv6).
// Both send from their link-local addresses to ff02::12. The higher priority wins whichever
// implementation it is, and each takes over from the other on kill -9 (and on keepalived's
// priority-0 SIGTERM). halb's drop counters stay at zero: keepalived's IPv6 adverts decode,
// checksum (IPv6 pseudo-header) and match.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Lab } from '../../helpers/netns.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { VrrpNode, eventually, hasAddress, vrrpYaml } from '../vrrp/vrrp-node-client.ts';
import { KEEPALIVED, Keepalived, keepalivedConf } from '../vrrp/keepalived-runner.ts';
import { MACS, VIP6, VIP6_CIDR, VRID6, dropVip6, ipv6Hosts, linkLocal, neighbourMac, reaches } from './ipv6-lab.ts';

const HALB = 'lb1';
const KA = 'lb2';
const ADVERT_MS = 100;
let lab: Lab;
const halbs = new Set<VrrpNode>();
const kas = new Set<Keepalived>();
// Every keepalived ever started: one that exited by itself (SIGTERM) has left `kas`, and
// cleanup() is what removes its temp dir.
const allKas: Keepalived[] = [];
const ll: Record<string, string> = {};
const skip = !existsSync(KEEPALIVED);

before(async () => {
  lab = await Lab.create();
  await ipv6Hosts(lab);
  for (const h of [HALB, KA]) ll[h] = await linkLocal(lab, h);
});

after(async () => {
  for (const k of allKas) k.cleanup();
  for (const n of halbs) n.signal('SIGKILL');
  await lab?.destroy();
});

async function startHalb(priority: number, host = HALB): Promise<VrrpNode> {
  const n = await VrrpNode.start(lab, host, vrrpYaml({ priority, advertInt: `${ADVERT_MS}ms`, version: 3, vrid: VRID6, vip: VIP6_CIDR }));
  halbs.add(n);
  void n.exited.then(() => halbs.delete(n));
  return n;
}

function startKa(priority: number, host = KA): Keepalived {
  const k = new Keepalived(lab, host, keepalivedConf({ priority, version: 3, advertInt: String(ADVERT_MS / 1000), vrid: VRID6, vip: VIP6_CIDR }));
  kas.add(k);
  allKas.push(k);
  void k.exited.then(() => kas.delete(k));
  return k;
}

async function holders(): Promise<string[]> {
  const out: string[] = [];
  for (const h of [HALB, KA]) if (await hasAddress(lab, h, VIP6)) out.push(h);
  return out;
}

async function cleanup(): Promise<void> {
  for (const k of kas) {
    await k.kill9();
    k.cleanup();
  }
  for (const k of allKas) k.cleanup();
  await Promise.all([...halbs].map((n) => n.kill9()));
  await dropVip6(lab);
}

async function noDrops(n: VrrpNode): Promise<void> {
  const s = await n.status();
  assert.deepEqual(s.counters.drops, {}, `halb dropped keepalived packets: ${JSON.stringify(s.counters.drops)}`);
}

const mdi = masterDownInterval(3, 100, ADVERT_MS);
const bound = 2 * mdi + 3000; // keepalived takes a moment to start

test('IPv6 v3: halb (101) master, keepalived (100) backup; kill -9 halb -> keepalived; halb returns and wins', { skip }, async () => {
  try {
    const halb = await startHalb(101);
    const ka = startKa(100);
    await halb.waitState('master', bound, 0);
    await eventually(() => /Entering BACKUP STATE/.test(ka.log), bound, 'keepalived running as backup');
    await new Promise((r) => setTimeout(r, 2 * ADVERT_MS + 500));
    assert.deepEqual(await holders(), [HALB], 'VIP only on halb');
    assert.doesNotMatch(ka.log, /Entering MASTER STATE/, 'keepalived never became master');
    assert.equal((await halb.status()).localAddress, ll[HALB], 'halb sends from its link-local address');
    await noDrops(halb);
    assert.ok(await reaches(lab, 'client', VIP6), 'client reaches the VIP');
    assert.equal(await neighbourMac(lab, 'client', VIP6), MACS[HALB]);

    const t0 = Date.now();
    await halb.kill9();
    await eventually(async () => (await hasAddress(lab, KA, VIP6)) && /Entering MASTER STATE/.test(ka.log), bound, 'keepalived takes the VIP');
    const took = Date.now() - t0;
    await eventually(async () => (await neighbourMac(lab, 'client', VIP6)) === MACS[KA], 3000, "keepalived's NA re-points the client");
    console.log(`# IPv6 v3 advert ${ADVERT_MS} ms: keepalived took over ${took} ms after kill -9 of halb (Master_Down_Interval ${mdi.toFixed(0)} ms; polled)`);

    const halb2 = await startHalb(101);
    await halb2.waitState('master', bound, 0);
    await eventually(async () => (await holders()).join() === HALB, bound, 'keepalived released the VIP to halb');
    assert.match(ka.log, /Entering BACKUP STATE/);
    await eventually(async () => (await neighbourMac(lab, 'client', VIP6)) === MACS[HALB], 3000, "halb's NA re-points the client");
    await noDrops(halb2);
    // keepalived took halb's IPv6 advert (its checks: hop limit, checksum, address list) as a better master.
    assert.match(ka.log, new RegExp(`received advert from ${ll[HALB]} with higher priority 101, ours 100`));
    assert.match(ka.log, /family\(IPv6\), proto\(112\).*address\(ff02::12\)/, 'keepalived ran the instance over IPv6 multicast');
  } finally {
    await cleanup();
  }
});

test('IPv6 v3: keepalived (101) master, halb (100) backup; kill -9 keepalived -> halb; keepalived returns and wins; SIGTERM -> halb', { skip }, async () => {
  try {
    const ka = startKa(101);
    const halb = await startHalb(100);
    await eventually(async () => (await holders()).join() === KA, bound, 'keepalived master with the VIP');
    await new Promise((r) => setTimeout(r, 2 * ADVERT_MS + 500));
    assert.equal(halb.state, 'backup');
    const s = await halb.status();
    assert.equal(s.masterAddress, ll[KA], 'halb follows keepalived by its link-local address');
    assert.ok(s.counters.advertsReceived > 0);
    assert.equal(s.counters.advertsSent, 0, 'halb backup sent nothing');
    await noDrops(halb);

    let mark = halb.events.length;
    let t0 = Date.now();
    await ka.kill9();
    let e = await halb.waitState('master', bound, mark);
    console.log(`# IPv6 v3 advert ${ADVERT_MS} ms: halb took over ${e.t - t0} ms after kill -9 of keepalived (Master_Down_Interval ${mdi.toFixed(0)} ms)`);
    await eventually(() => hasAddress(lab, HALB, VIP6), 2000, 'halb holds the VIP');

    mark = halb.events.length;
    const ka2 = startKa(101);
    await halb.waitState('backup', bound + 2 * masterDownInterval(3, 101, ADVERT_MS), mark);
    await eventually(async () => (await holders()).join() === KA, bound, 'VIP back on keepalived only');

    mark = halb.events.length;
    t0 = Date.now();
    await ka2.terminate();
    e = await halb.waitState('master', bound, mark);
    console.log(`# IPv6 v3 advert ${ADVERT_MS} ms: halb took over ${e.t - t0} ms after SIGTERM of keepalived (priority 0)`);
    await eventually(async () => (await holders()).join() === HALB, 2000, 'VIP on halb only');
    assert.ok((await halb.status()).counters.priorityZeroReceived >= 1, "halb heard keepalived's priority-0 advert");
    await noDrops(halb);
  } finally {
    await cleanup();
  }
});

test('IPv6 v3, equal priority, split brain healed: the higher link-local address stays master (RFC 5798 6.4.3), halb and keepalived agree either way round', { skip }, async () => {
  // lb2's link-local (from MAC ..:12) is above lb1's (..:11): whoever runs on lb2 must win. A backup
  // with the same priority accepts any master (6.4.2), so the tie-break is between two masters:
  // cut the link, both take over, heal it.
  assert.ok(ll.lb2! > ll.lb1!, `${ll.lb2} > ${ll.lb1}`);
  for (const [halbHost, kaHost] of [['lb2', 'lb1'], ['lb1', 'lb2']] as const) {
    const winner = halbHost === 'lb2' ? 'halb' : 'keepalived';
    try {
      const ka = startKa(100, kaHost);
      const halb = await startHalb(100, halbHost);
      await eventually(async () => (await holders()).length === 1, bound, 'one master');
      await lab.cutLink('lb1');
      await eventually(async () => (await holders()).join() === 'lb1,lb2', bound, 'split brain: both hold the VIP');
      const mark = halb.events.length;
      await lab.healLink('lb1');
      await eventually(async () => (await holders()).join() === 'lb2', bound, `healed: VIP on lb2 (${winner}) only`);
      await new Promise((r) => setTimeout(r, 10 * ADVERT_MS));
      assert.deepEqual(await holders(), ['lb2'], `${winner} on lb2 keeps the VIP`);
      const s = await halb.status();
      if (winner === 'halb') {
        assert.equal(s.state, 'master');
        assert.match(ka.log, new RegExp(`received advert from ${ll.lb2} with same priority 100 but higher IP address than ours`), 'keepalived yielded on the address');
      } else {
        assert.equal(s.state, 'backup');
        assert.equal(s.masterAddress, ll.lb2);
        assert.ok(halb.events.slice(mark).some((e) => e.ev === 'state' && e.from === 'master' && e.to === 'backup'), 'halb yielded');
      }
      await noDrops(halb);
    } finally {
      await lab.healLink('lb1');
      await cleanup();
    }
  }
});
