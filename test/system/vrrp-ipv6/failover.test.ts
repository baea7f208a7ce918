// VRRPv3 over IPv6 between two halb nodes: adverts to ff02::12 from each node's link-local
// address (RFC 5798 5.1.2.1), hop limit 255, the VIP fd77::100/64. Election, kill -9 failover
// at advert 1 s and 0.1 s (measured), the new master's unsolicited NA re-pointing a third
// host's neighbour entry for the VIP, and SIGTERM releasing the VIP on the old master.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../helpers/netns.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { VrrpNode, eventually, hasAddress, median, vrrpYaml } from '../vrrp/vrrp-node-client.ts';
import { MACS, VIP6, VIP6_CIDR, VRID6, captureVrrp6, dropVip6, ipv6Hosts, linkLocal, neighbourMac, reaches, vip6Holders } from './ipv6-lab.ts';

let lab: Lab;
const nodes = new Set<VrrpNode>();
const ll: Record<string, string> = {};

before(async () => {
  lab = await Lab.create();
  await ipv6Hosts(lab);
  for (const h of ['lb1', 'lb2']) ll[h] = await linkLocal(lab, h);
});

after(async () => {
  for (const n of nodes) n.signal('SIGKILL');
  await lab?.destroy();
});

function yaml(priority: number, advertInt: string, state: 'MASTER' | 'BACKUP' = 'BACKUP'): string {
  return vrrpYaml({ priority, state, advertInt, version: 3, vrid: VRID6, vip: VIP6_CIDR });
}

async function start(host: string, y: string): Promise<VrrpNode> {
  const n = await VrrpNode.start(lab, host, y);
  nodes.add(n);
  void n.exited.then(() => nodes.delete(n));
  return n;
}

async function stopAll(): Promise<void> {
  await Promise.all([...nodes].map((n) => n.kill9()));
  await dropVip6(lab);
}

/** The client talks to the VIP once, so it has a neighbour entry the NA must re-point. */
async function clientKnowsVip(): Promise<string | undefined> {
  assert.ok(await reaches(lab, 'client', VIP6), 'client reaches the VIP');
  return neighbourMac(lab, 'client', VIP6);
}

test('election over IPv6: adverts from link-local to ff02::12, hop limit 255; lb1 master with the VIP, lb2 silent', async () => {
  try {
    const lb1 = await start('lb1', yaml(101, '100ms', 'MASTER'));
    const lb2 = await start('lb2', yaml(100, '100ms'));
    await lb1.waitState('master', 3000, 0);
    await eventually(async () => (await vip6Holders(lab)).join() === 'lb1', 3000, 'VIP on lb1 only');
    const wire = await captureVrrp6(lab, 3, 3000);
    await new Promise((r) => setTimeout(r, 500));
    const [s1, s2] = [await lb1.status(), await lb2.status()];
    assert.equal(s1.state, 'master');
    assert.equal(s2.state, 'backup');
    assert.equal(s1.localAddress, ll.lb1, 'lb1 sends from its link-local address');
    assert.equal(s2.localAddress, ll.lb2, 'lb2 would send from its link-local address');
    assert.equal(s2.masterAddress, ll.lb1, 'lb2 follows lb1 by its link-local address');
    assert.equal(s2.counters.advertsSent, 0, 'lb2 sends nothing');
    assert.ok(s2.counters.advertsReceived >= 5, `lb2 hears lb1 (${s2.counters.advertsReceived})`);
    assert.deepEqual(s2.counters.drops, {}, 'lb2 dropped nothing');
    // tcpdump -v: "IP6 (class 0xc0, hlim 255, next-header VRRP (112) ...) fe80::.. > ff02::12: VRRPv3, Advertisement, vrid 61, prio 101, intvl 10cs, length 24, addrs: fd77::100"
    const lines = wire.split('\n').filter((l) => l.includes('VRRP'));
    assert.ok(lines.length >= 1, `the client saw VRRP on the wire:\n${wire}`);
    const text = lines.join('\n');
    assert.match(text, /hlim 255/, 'hop limit 255');
    assert.match(text, new RegExp(`${ll.lb1!.replace(/\./g, '\\.')} > ff02::12`), 'from lb1 link-local to ff02::12');
    assert.match(text, /VRRPv3, Advertisement, vrid 61, prio 101, intvl 10cs/);
    assert.match(text, /addrs: fd77::100\b/);
    assert.doesNotMatch(text, /prio 100/, 'the backup sent nothing');
  } finally {
    await stopAll();
  }
});

/**
 * kill -9 the master lb1 `trials` times; each time the client's neighbour entry for the VIP must
 * follow (lb1's NA on preempting, lb2's NA on taking over). Returns lb2's takeover times.
 */
async function killTrials(advertInt: string, advertMs: number, trials: number): Promise<{ takeover: number[]; na: number[] }> {
  const lb2 = await start('lb2', yaml(100, advertInt));
  const takeover: number[] = [];
  const na: number[] = [];
  for (let i = 0; i < trials; i++) {
    const since = lb2.events.length;
    const lb1 = await start('lb1', yaml(101, advertInt, 'MASTER'));
    await lb1.waitState('master', 2 * masterDownInterval(3, 101, advertMs) + 2000);
    if (lb2.state === 'master') await lb2.waitState('backup', 2 * advertMs + 1000, since);
    await eventually(async () => (await vip6Holders(lab)).join() === 'lb1', 3000, 'VIP on lb1 only');
    if (i === 0) assert.equal(await clientKnowsVip(), MACS.lb1, 'client reaches the VIP at lb1');
    else await eventually(async () => (await neighbourMac(lab, 'client', VIP6)) === MACS.lb1, 3000, "lb1's NA re-points the client to lb1");
    await new Promise((r) => setTimeout(r, 2 * advertMs + Math.random() * advertMs));
    const mark = lb2.events.length;
    const t0 = Date.now();
    await lb1.kill9();
    const e = await lb2.waitState('master', 2 * masterDownInterval(3, 100, advertMs) + 1000, mark);
    takeover.push(e.t - t0);
    // The client sends nothing: only lb2's unsolicited NA (Override flag) can move its entry.
    await eventually(async () => (await neighbourMac(lab, 'client', VIP6)) === MACS.lb2, 3000, "lb2's NA re-points the client's neighbour entry to lb2");
    na.push(Date.now() - t0);
    assert.ok(await hasAddress(lab, 'lb2', VIP6), 'lb2 holds the VIP');
  }
  // The VIP answers from lb2 (lb1's stale copy is behind a neighbour entry that no longer points there).
  assert.ok(await reaches(lab, 'client', VIP6), 'client reaches the VIP after failover');
  assert.equal(await neighbourMac(lab, 'client', VIP6), MACS.lb2);
  await stopAll();
  return { takeover, na };
}

test('kill -9 of the master at advert 0.1 s: lb2 takes over and its NA re-points the client', async () => {
  try {
    const { takeover, na } = await killTrials('100ms', 100, 5);
    const mdi = masterDownInterval(3, 100, 100);
    console.log(`# IPv6 kill -9 failover, advert 0.1 s: ${takeover.map((t) => t.toFixed(0)).join(', ')} ms; median ${median(takeover).toFixed(0)} ms; Master_Down_Interval ${mdi.toFixed(0)} ms; client neighbour entry moved after ${na.join(', ')} ms (polled every 25 ms)`);
    for (const t of takeover) assert.ok(t < 1000, `failover ${t} ms < 1000 ms`);
  } finally {
    await stopAll();
  }
});

test('kill -9 of the master at advert 1 s: lb2 takes over within Master_Down_Interval', async () => {
  try {
    const { takeover, na } = await killTrials('1s', 1000, 2);
    const mdi = masterDownInterval(3, 100, 1000);
    console.log(`# IPv6 kill -9 failover, advert 1 s: ${takeover.map((t) => t.toFixed(0)).join(', ')} ms; median ${median(takeover).toFixed(0)} ms; Master_Down_Interval ${mdi.toFixed(0)} ms; client neighbour entry moved after ${na.join(', ')} ms`);
    for (const t of takeover) assert.ok(t < 2 * mdi, `failover ${t} ms < 2 x ${mdi} ms`);
  } finally {
    await stopAll();
  }
});

test('SIGTERM: lb1 hands over, lb2 master, the VIP leaves lb1 and the client follows lb2', async () => {
  try {
    const lb2 = await start('lb2', yaml(100, '100ms'));
    const lb1 = await start('lb1', yaml(101, '100ms', 'MASTER'));
    await lb1.waitState('master', 3000, 0);
    await eventually(async () => (await vip6Holders(lab)).join() === 'lb1', 3000, 'VIP on lb1 only');
    await eventually(async () => (await clientKnowsVip()) === MACS.lb1, 3000, 'client reaches the VIP at lb1');
    const mark = lb2.events.length;
    const t0 = Date.now();
    lb1.signal('SIGTERM');
    const e = await lb2.waitState('master', 2000, mark);
    assert.equal(await lb1.exited, 0, 'lb1 exits cleanly');
    assert.ok(lb1.events.some((x) => x.ev === 'state' && x.to === 'master-handing-over'), 'lb1 went through master-handing-over');
    assert.equal(await hasAddress(lab, 'lb1', VIP6), false, 'lb1 removed the VIP on its way out');
    await eventually(async () => (await vip6Holders(lab)).join() === 'lb2', 2000, 'VIP on lb2 only');
    await eventually(async () => (await neighbourMac(lab, 'client', VIP6)) === MACS.lb2, 3000, 'client neighbour entry on lb2');
    const s2 = await lb2.status();
    assert.ok(s2.counters.priorityZeroReceived >= 1, 'lb2 heard the priority-0 advert');
    console.log(`# IPv6 SIGTERM handover, advert 0.1 s: lb2 master ${e.t - t0} ms after the signal`);
  } finally {
    await stopAll();
  }
});

test("master's link goes admin down: FAULT, lb2 takes over; the kernel flushes lb1's IPv6 addresses, and on link up lb1 re-adds the VIP and preempts", async () => {
  try {
    const lb2 = await start('lb2', yaml(100, '100ms'));
    const lb1 = await start('lb1', yaml(101, '100ms', 'MASTER'));
    await lb1.waitState('master', 3000, 0);
    await eventually(async () => (await vip6Holders(lab)).join() === 'lb1', 3000, 'VIP on lb1 only');
    assert.ok(await reaches(lab, 'client', VIP6), 'client reaches the VIP');
    const m1 = lb1.events.length;
    const m2 = lb2.events.length;
    await lab.exec('lb1', 'ip', ['link', 'set', 'eth0', 'down']);
    await lb1.waitState('fault', 2000, m1);
    await lb2.waitState('master', 2000, m2);
    await eventually(async () => (await neighbourMac(lab, 'client', VIP6)) === MACS.lb2, 3000, 'client follows lb2');
    // Admin down removes every IPv6 address (keep_addr_on_down=0), the link-local included.
    assert.equal(await hasAddress(lab, 'lb1', VIP6), false);
    const m1b = lb1.events.length;
    await lab.exec('lb1', 'ip', ['link', 'set', 'eth0', 'up']);
    await lb1.waitState('master', 3000, m1b);
    await eventually(async () => (await vip6Holders(lab)).join() === 'lb1', 3000, 'VIP re-added on lb1 only');
    assert.equal(await linkLocal(lab, 'lb1'), ll.lb1, 'the same link-local came back (EUI-64 from the MAC)');
    assert.equal((await lb2.status()).masterAddress, ll.lb1);
    await eventually(async () => (await neighbourMac(lab, 'client', VIP6)) === MACS.lb1, 3000, "lb1's NA re-points the client");
  } finally {
    await stopAll();
    await lab.exec('lb1', 'ip', ['link', 'set', 'eth0', 'up']);
    await lab.exec('lb1', 'ip', ['-6', 'addr', 'replace', 'fd77::11/64', 'dev', 'eth0', 'nodad']);
  }
});
