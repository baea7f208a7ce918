// Active-active halb behind a real router (issue 14): three halb nodes each run their own FRR and
// announce one VIP to an FRR router that spreads new connections over them with ECMP (L4 hash).
// A node whose backends are gone withdraws; a planned stop withdraws and drains; a killed node is
// dropped by BFD. With bgp.peers the nodes pass segments of each other's connections on, so a next-hop
// change resets none of them. Times are printed, not asserted (figures go to the note and bench/).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HALB_MAIN } from '../../helpers/halb-process.ts';
import { EcmpLab, VIP, hops, until, type NodeName } from './ecmp-lab.ts';

let e: EcmpLab;

// HALB_ECMP_BASELINE=1 runs the same lab with no flow hand-off (no bgp.peers) and only prints what
// a next-hop change breaks: the MetalLB / kube-vip figure the note sets next to ours.
const BASELINE = process.env['HALB_ECMP_BASELINE'] === '1';

type Held = Awaited<ReturnType<EcmpLab['longLived']>['result']>;
const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const brokenOn = (h: Held, nodes: string[]): number => nodes.reduce((n, k) => n + (h.broken[k] ?? 0), 0);

/** Segments the nodes passed on to each other so far (from their /metrics). */
async function handedOn(nodes: NodeName[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of nodes) out[n] = await e.metric(n, 'halb_bgp_segments_handed_on_total');
  return out;
}

before(async () => {
  e = await EcmpLab.create(['n1', 'n2', 'n3'], { handoff: !BASELINE });
});

after(async () => {
  const errors = e?.errors() ?? [];
  if (errors.length > 0) console.log(`# node errors:\n${errors.join('\n')}`);
  await e?.destroy();
});

test('three nodes announce; the router installs three next hops; new connections spread over all three', { timeout: 120_000 }, async () => {
  const up = await until('three next hops', () => e.nextHops(), (h) => h.length === 3, 45_000);
  assert.deepEqual(up.value, hops(['n1', 'n2', 'n3']));
  const r = await e.requests(300);
  console.log(`# 300 new connections: ${JSON.stringify(r.by)}, failed ${r.failed}`);
  assert.equal(r.failed, 0, JSON.stringify(r.errors));
  for (const n of ['n1', 'n2', 'n3']) assert.ok((r.by[n] ?? 0) >= 60, `${n} got ${r.by[n] ?? 0} of 300 (want >= 20%)`);
  // The node says so: `halb status` and /metrics.
  const status = await until('n1 sees its session Established', async () => (await e.lab.exec('n1', process.execPath, [HALB_MAIN, 'status', '--socket', join(e.dir, 'n1.sock')])).stdout, (t) => /10\.77\.0\.1\s+65000\s+Established/.test(t));
  assert.match(status.value, new RegExp(`${VIP.replaceAll('.', '\\.')}/32\\s+yes\\s+serving: web -> pool`));
  const metrics = (await e.lab.exec('n1', 'curl', ['-s', '--unix-socket', join(e.dir, 'n1.sock'), 'http://halb/metrics'])).stdout;
  assert.match(metrics, /^halb_bgp_session_established\{neighbor="10\.77\.0\.1"\} 1$/m);
  assert.match(metrics, new RegExp(`^halb_bgp_prefix_announced\\{prefix="${VIP.replaceAll('.', '\\.')}/32"\\} 1$`, 'm'));
});

test("a node whose backends are down withdraws the VIP and takes no new connections; back up, it announces again", { timeout: 120_000 }, async () => {
  e.web.get('n1')!.kill('SIGKILL');
  const gone = await until('n1 withdrawn', () => e.nextHops(), (h) => h.length === 2, 20_000);
  assert.deepEqual(gone.value, hops(['n2', 'n3']));
  const r = await e.requests(60);
  console.log(`# n1's web server killed: withdrawn at the router ${gone.ms} ms later; then 60 connections: ${JSON.stringify(r.by)}, failed ${r.failed}`);
  assert.equal(r.failed, 0, JSON.stringify(r.errors));
  assert.equal(r.by['n1'] ?? 0, 0);
  e.startWeb('n1');
  const back = await until('n1 announced again', () => e.nextHops(), (h) => h.length === 3, 20_000);
  console.log(`# n1's web server back: announced again, at the router ${back.ms} ms later`);
});

test('bad input: garbage to a node\'s BGP port and a session the router resets flap nothing else', { timeout: 120_000 }, async () => {
  // Garbage at n1's bgpd (TCP 179) from the client: refused by FRR, no session or route changes.
  const junk = "const s = require('node:net').connect(179, '10.77.0.11', () => { s.write(Buffer.alloc(4096, 0xab)); setTimeout(() => s.destroy(), 300); }); s.on('error', () => {});";
  await e.lab.exec('c', process.execPath, ['-e', junk], { check: false });
  assert.deepEqual(await e.nextHops(), hops(['n1', 'n2', 'n3']), 'garbage changed nothing');
  // The router resets its session with n1: n1 is withdrawn and comes back; n2 and n3 serve throughout.
  const during = e.requests(120, 20);
  await e.router.vtysh(['-c', 'clear bgp 10.77.0.11']);
  const gone = await until('n1 withdrawn by the reset', () => e.nextHops(), (h) => h.length === 2, 10_000);
  const back = await until('n1 re-established', () => e.nextHops(), (h) => h.length === 3, 30_000);
  const r = await during;
  console.log(`# router reset its session with n1: withdrawn after ${gone.ms} ms, back with three next hops ${back.ms} ms later; 120 new connections meanwhile ${JSON.stringify(r.by)}, failed ${r.failed}`);
  if (!BASELINE) assert.equal(r.failed, 0, `session reset: ${JSON.stringify(r.errors)}`);
  assert.ok((r.by['n2'] ?? 0) > 0 && (r.by['n3'] ?? 0) > 0);
});

test('a fourth node joins: new connections reach it; long-lived connections on the others: 0 reset', { timeout: 120_000 }, async () => {
  // Held across the join: open before n4 starts, still sending seconds after the router has four
  // hops (n4's FRR takes 5-13 s to bring its session up on a busy machine).
  const HOLD_MS = 30_000;
  const held = e.longLived(90, HOLD_MS);
  const t0 = Date.now();
  const before = await handedOn(['n1', 'n2', 'n3']);
  await new Promise((r) => setTimeout(r, 1500));
  let r: Awaited<ReturnType<EcmpLab['requests']>>;
  let held2: Held;
  let passed: Record<string, number>;
  e.startWeb('n4');
  e.startHalb('n4');
  try {
    const joined = await until('n4 announced', () => e.nextHops(), (h) => h.length === 4, 45_000);
    assert.deepEqual(joined.value, hops(['n1', 'n2', 'n3', 'n4']));
    assert.ok(Date.now() - t0 < HOLD_MS - 4000, `n4 joined ${Date.now() - t0} ms into the ${HOLD_MS} ms hold: too late to see the rehash`);
    r = await e.requests(200);
    held2 = await held.result;
    await new Promise((res) => setTimeout(res, 1200)); // the nodes read their kernel counters each second
    const now = await handedOn(['n1', 'n2', 'n3']);
    passed = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  } finally {
    // n4 leaves again so the next test starts from three nodes.
    const n4 = e.halb.get('n4')!;
    const exit = new Promise((resolve) => n4.once('exit', resolve));
    n4.kill('SIGTERM');
    await exit;
    await until('n4 gone', () => e.nextHops(), (h) => h.length === 3, 20_000);
  }
  const broken = total(held2.broken);
  console.log(`# n4 joins (router next hops 3 -> 4)${BASELINE ? ' [BASELINE: no hand-off]' : ''}: 200 new connections ${JSON.stringify(r.by)}, failed ${r.failed}; 90 long-lived connections opened ${JSON.stringify(held2.opened)}, broken ${broken} ${JSON.stringify(held2.broken)} ${JSON.stringify(held2.errors)}; segments passed on to their owners: ${JSON.stringify(passed)}`);
  assert.equal(r.failed, 0, JSON.stringify(r.errors));
  assert.ok((r.by['n4'] ?? 0) >= 20, `n4 takes new connections: ${JSON.stringify(r.by)}`);
  assert.equal(total(held2.opened), 90, `every long-lived connection got a first answer: ${JSON.stringify(held2)}`);
  if (BASELINE) return;
  assert.equal(broken, 0, `long-lived connections reset by the rehash: ${JSON.stringify(held2)}`);
  // The rehash did move flows (so the 0 above is the hand-off's doing, not luck).
  assert.ok(total(passed) > 0, `segments passed on: ${JSON.stringify(passed)}`);
});

test('kill -9 of a node: the router drops it at once; long-lived connections on the two survivors: 0 reset', { timeout: 120_000 }, async () => {
  const held = e.longLived(90, 8000);
  await new Promise((r) => setTimeout(r, 1500));
  // kill -9 of halb: its FRR goes with it (the reaper), the sessions close, the router withdraws.
  e.halb.get('n2')!.kill('SIGKILL');
  const dead = await until('n2 dropped', () => e.nextHops(), (h) => h.length === 2, 20_000);
  assert.deepEqual(dead.value, hops(['n1', 'n3']));
  const after = await e.requests(60);
  const h = await held.result;
  console.log(`# kill -9 of n2's halb${BASELINE ? ' [BASELINE: no hand-off]' : ''}: dropped at the router ${dead.ms} ms later; then 60 connections: ${JSON.stringify(after.by)}, failed ${after.failed}; 90 long-lived connections opened ${JSON.stringify(h.opened)}, broken ${JSON.stringify(h.broken)} ${JSON.stringify(h.errors)} (n2's own may be lost)`);
  assert.equal(after.failed, 0, JSON.stringify(after.errors));
  assert.deepEqual(Object.keys(after.by).sort(), ['n1', 'n3']);
  assert.equal(total(h.opened), 90, JSON.stringify(h));
  if (!BASELINE) assert.equal(brokenOn(h, ['n1', 'n3']), 0, `survivors' connections reset: ${JSON.stringify(h)}`);
  e.startHalb('n2');
  await until('n2 back', () => e.nextHops(), (x) => x.length === 3, 45_000);
});

test('planned stop (SIGTERM): withdraw, drain: 0 failed requests and 0 reset connections; a silent node: BFD drops it', { timeout: 120_000 }, async () => {
  // Held past n3's exit (withdraw + 2 s drain + close), so how n3's own connections end is seen.
  const held = e.longLived(60, 10_000);
  const during = e.requests(150, 20);
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = Date.now();
  const n3 = e.halb.get('n3')!;
  const exit = new Promise<number>((resolve) => n3.once('exit', () => resolve(Date.now() - t0)));
  n3.kill('SIGTERM');
  const gone = await until('n3 withdrawn', () => e.nextHops(), (h) => h.length === 2, 20_000);
  const r = await during;
  const exited = await exit;
  const h = await held.result;
  console.log(`# SIGTERM n3${BASELINE ? ' [BASELINE: no hand-off]' : ''}: withdrawn at the router ${gone.ms} ms later, process exited after ${exited} ms (drain 2 s); 150 connections meanwhile: ${JSON.stringify(r.by)}, failed ${r.failed} ${JSON.stringify(r.errors)}; 60 long-lived: opened ${JSON.stringify(h.opened)}, broken ${JSON.stringify(h.broken)} ${JSON.stringify(h.errors)}`);
  assert.deepEqual(gone.value, hops(['n1', 'n2']));
  if (!BASELINE) {
    assert.equal(r.failed, 0, `planned stop: ${JSON.stringify(r.errors)}`);
    assert.equal(brokenOn(h, ['n1', 'n2']), 0, `planned stop reset other nodes' connections: ${JSON.stringify(h)}`);
    // n3's own keep-alive connections end with its process: closed between requests, not cut
    // (a cut connection would hang: its VIP gone, nothing answers).
    assert.equal(h.errors['timeout'] ?? 0, 0, `planned stop: ${JSON.stringify(h)}`);
  }

  // A node that vanishes without a word (its link cut, as a dead machine): BFD's 3 x 300 ms.
  await e.lab.cutLink('n2');
  const silent = await until('n2 dropped by BFD', () => e.nextHops(), (x) => x.length === 1, 20_000);
  console.log(`# n2's link cut (silent): dropped at the router ${silent.ms} ms later (BFD detect 900 ms; BGP hold alone: 9 s)`);
  assert.deepEqual(silent.value, hops(['n1']));
  await e.lab.healLink('n2');
});
