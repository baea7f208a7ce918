// BGP over both address families and TCP-MD5 (issue 14 point 1): two halb nodes announce an IPv4
// and an IPv6 VIP (/32 and /128) to an FRR router; n1's session is signed with TCP-MD5 (RFC 2385),
// so the router, which requires it, only talks to n1 if halb configured it. IPv6 connections spread
// over both nodes, and a third node joining resets none of the IPv6 long-lived connections (the
// ip6 flow hand-off table). A MED makes nodes standbys: active-standby over BGP.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HALB_MAIN } from '../../helpers/halb-process.ts';
import { EcmpLab, VIP, VIP6, until } from './ecmp-lab.ts';

let e: EcmpLab;

before(async () => {
  e = await EcmpLab.create(['n1', 'n2'], { prefix: `hs${process.pid % 1000}`, ipv6: true, md5: ['n1'] });
});

after(async () => {
  const errors = e?.errors() ?? [];
  if (errors.length > 0) console.log(`# node errors:\n${errors.join('\n')}`);
  await e?.destroy();
});

test('both nodes announce /32 and /128; n1 over TCP-MD5; IPv6 connections spread over both', { timeout: 120_000 }, async () => {
  const v4 = await until('two IPv4 next hops', () => e.nextHops(VIP), (h) => h.length === 2, 45_000);
  const v6 = await until('two IPv6 next hops', () => e.nextHops(VIP6), (h) => h.length === 2, 20_000);
  console.log(`# router next hops: ${VIP} via ${v4.value.join(', ')}; ${VIP6} via ${v6.value.join(', ')}`);
  const md5 = await e.router.vtysh(['-c', 'show bgp neighbors 10.77.0.11 json']);
  assert.match(md5, /"bgpState":\s*"Established"/);
  // FRR reports the session's TCP-MD5 only indirectly; the router requires it for n1, so an
  // unsigned session would never leave Active. n2's has none and is up as well.
  assert.match(await e.router.vtysh(['-c', 'show running-config']), /neighbor 10\.77\.0\.11 password/);
  const r = await e.requests(100, 0, VIP6);
  console.log(`# 100 new IPv6 connections: ${JSON.stringify(r.by)}, failed ${r.failed}`);
  assert.equal(r.failed, 0, JSON.stringify(r.errors));
  assert.ok((r.by['n1'] ?? 0) >= 20 && (r.by['n2'] ?? 0) >= 20, JSON.stringify(r.by));
  const status = (await e.lab.exec('n1', process.execPath, [HALB_MAIN, 'status', '--socket', join(e.dir, 'n1.sock')])).stdout;
  assert.match(status, /fd77:99::10\/128\s+yes/);
  assert.match(status, /fd77::12\s+eth0\s+-/, `n1 reaches its IPv6 peer n2 directly: ${status}`);
});

test('a third node joins: IPv6 long-lived connections on the others: 0 reset', { timeout: 120_000 }, async () => {
  const HOLD_MS = 30_000;
  const held = e.longLived(40, HOLD_MS, 200, VIP6);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 1500));
  e.startWeb('n3');
  e.startHalb('n3');
  const joined = await until('n3 announced over IPv6', () => e.nextHops(VIP6), (h) => h.length === 3, 45_000);
  assert.ok(Date.now() - t0 < HOLD_MS - 4000, `n3 joined ${Date.now() - t0} ms into the hold: too late to see the rehash`);
  const h = await held.result;
  await new Promise((r) => setTimeout(r, 1200)); // counters are read each second
  const passed = (await e.metric('n1', 'halb_bgp_segments_handed_on_total')) + (await e.metric('n2', 'halb_bgp_segments_handed_on_total'));
  console.log(`# n3 joins (IPv6 next hops 2 -> 3 after ${joined.ms} ms): 40 long-lived IPv6 connections opened ${JSON.stringify(h.opened)}, broken ${JSON.stringify(h.broken)} ${JSON.stringify(h.errors)}; segments passed on by n1+n2: ${passed}`);
  assert.equal(Object.values(h.opened).reduce((a, b) => a + b, 0), 40, JSON.stringify(h));
  assert.deepEqual(h.broken, {}, JSON.stringify(h));
  assert.ok(passed > 0, 'the rehash moved flows and they were passed on');
});

test('active-standby over BGP: a node announcing a higher MED is a standby, and takes over when the preferred node stops', { timeout: 120_000 }, async () => {
  // n2 and n3 restart with MED 100 on the IPv4 VIP; n1 keeps none (0): the router's best path is n1 alone.
  for (const n of ['n2', 'n3'] as const) {
    e.med.set(n, 100);
    const p = e.halb.get(n)!;
    const exit = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    await exit;
    e.startHalb(n);
  }
  const standby = await until('IPv4 next hops: n1 only, with n2 and n3 up again', async () => ({ v4: await e.nextHops(VIP), v6: await e.nextHops(VIP6) }), (x) => x.v4.length === 1 && x.v6.length === 3, 45_000);
  assert.deepEqual(standby.value.v4, ['10.77.0.11']);
  const rib = await e.router.vtysh(['-c', `show bgp ipv4 unicast ${VIP}/32 json`]);
  assert.match(rib, /"metric":\s*100/, 'the router holds the standby paths with their MED');
  const r = await e.requests(30);
  assert.deepEqual(Object.keys(r.by), ['n1'], JSON.stringify(r));
  // The preferred node stops: the standbys share the VIP (equal MED: ECMP again).
  const n1 = e.halb.get('n1')!;
  const exit = new Promise((resolve) => n1.once('exit', resolve));
  n1.kill('SIGTERM');
  const moved = await until('IPv4 next hops: n2 and n3', () => e.nextHops(VIP), (h) => h.length === 2 && !h.includes('10.77.0.11'), 20_000);
  await exit;
  const after = await e.requests(40);
  console.log(`# active-standby: with MED 100 on n2 and n3 the router sends ${VIP} to n1 only (30 of 30); SIGTERM n1: next hops n2+n3 ${moved.ms} ms later; then 40 connections ${JSON.stringify(after.by)}, failed ${after.failed}`);
  assert.equal(after.failed, 0, JSON.stringify(after.errors));
});
