// keepalived's trackers end to end on real nodes: lb1 runs the full `halb run -c` (status from
// its admin API, events from its log lines) with priority 101 and a tracker; lb2 is a bare
// halb VRRP node with priority 100 and none. VRRPv3 at advert 0.1 s, VIP 10.77.0.100.
// - vrrp_script, weight -60: failing on the master drops it to 41, lb2 takes over; passing
//   again gives lb1 back its 101 and it preempts.
// - track_interface on a second interface (weight 0): link down -> FAULT, the VIP moves.
// - track_file, weight -1: the number in the file lowers the priority by that much.
// - vrrp_script, weight 0: failing -> FAULT.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../helpers/netns.ts';
import { VrrpNode, eventually, hasAddress, vrrpYaml } from '../vrrp/vrrp-node-client.ts';
import type { NodeEvent } from '../vrrp/vrrp-node-client.ts';

const VIP = '10.77.0.100';
let lab: Lab;
let dir: string;
const nodes = new Set<VrrpNode>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'halb-trackers-'));
  lab = await Lab.create();
  await lab.host('lb1', { addresses: ['10.77.0.11/24'] });
  await lab.host('lb2', { addresses: ['10.77.0.12/24'] });
  // The second interface lb1 tracks: a veth pair inside lb1's namespace only (no dummy module here).
  await lab.exec('lb1', 'ip', ['link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1p']);
  await lab.exec('lb1', 'ip', ['link', 'set', 'eth1p', 'up']);
  await lab.exec('lb1', 'ip', ['link', 'set', 'eth1', 'up']);
});

after(async () => {
  for (const n of nodes) n.signal('SIGKILL');
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** lb1: a full halb node (admin API in its namespace) whose instance carries `track` and `scripts`. */
function lb1Yaml(track: string[], scripts: string[] = []): string {
  const base = vrrpYaml({ priority: 101, state: 'MASTER', advertInt: '100ms', extra: ['      track:', ...track].join('\n') });
  const head = ['global:', '  workers: 1', '  admin: { listen: "127.0.0.1:9100", read_only_open: true, token_env: HALB_TEST_ADMIN_TOKEN }', '  grace: 1s', 'vrrp:'];
  if (scripts.length > 0) head.push('  scripts:', ...scripts);
  return base.replace(/^vrrp:\n/, `${head.join('\n')}\n`);
}

async function start(host: string, yaml: string, mode: 'halb' | 'vrrp-node'): Promise<VrrpNode> {
  const n = await VrrpNode.start(lab, host, yaml, { mode, timeoutMs: 15_000 });
  nodes.add(n);
  void n.exited.then(() => nodes.delete(n));
  return n;
}

/** Both nodes up, lb1 master with the VIP; lb2 backup. */
async function pair(lb1Config: string): Promise<{ lb1: VrrpNode; lb2: VrrpNode }> {
  const lb2 = await start('lb2', vrrpYaml({ priority: 100, advertInt: '100ms' }), 'vrrp-node');
  const lb1 = await start('lb1', lb1Config, 'halb');
  await lb1.waitState('master', 5000, 0);
  await eventually(async () => (await holders()).join() === 'lb1', 5000, 'VIP on lb1 only');
  assert.equal(lb2.state, 'backup');
  return { lb1, lb2 };
}

async function holders(): Promise<string[]> {
  const out: string[] = [];
  for (const h of ['lb1', 'lb2']) if (await hasAddress(lab, h, VIP)) out.push(h);
  return out;
}

async function stopAll(): Promise<void> {
  // SIGTERM first: halb run exits through its own shutdown (no orphaned worker on the admin port).
  await Promise.all(
    [...nodes].map(async (n) => {
      n.signal('SIGTERM');
      const t = setTimeout(() => n.signal('SIGKILL'), 5000);
      await n.exited;
      clearTimeout(t);
    }),
  );
  for (const h of ['lb1', 'lb2']) await lab.exec(h, 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { check: false });
  await lab.exec('lb1', 'ip', ['link', 'set', 'eth1', 'up']);
}

/** halb's "tracked priority changed" log lines (after event index `since`). */
function priorityLogs(n: VrrpNode, since = 0): NodeEvent[] {
  return n.events.slice(since).filter((e) => e.ev === 'log' && e.msg === 'tracked priority changed');
}

/** lb2 takes over after `trigger`, lb1 ends in `lb1State`; returns ms from trigger to lb2 master. */
async function takeover(lb1: VrrpNode, lb2: VrrpNode, lb1State: string, trigger: () => Promise<void> | void): Promise<number> {
  const m1 = lb1.events.length;
  const m2 = lb2.events.length;
  const t0 = Date.now();
  await trigger();
  const e = await lb2.waitState('master', 5000, m2);
  await lb1.waitState(lb1State, 5000, m1);
  // A yielding master keeps the VIP briefly (instance.ts releaseDelay) before removing it.
  await eventually(async () => (await holders()).join() === 'lb2', 5000, 'VIP on lb2 only');
  return e.t - t0;
}

/** lb1 recovers and takes the VIP back (preempt); returns ms from trigger to lb1 master. */
async function giveBack(lb1: VrrpNode, lb2: VrrpNode, trigger: () => Promise<void> | void): Promise<number> {
  const m1 = lb1.events.length;
  const m2 = lb2.events.length;
  const t0 = Date.now();
  await trigger();
  const e = await lb1.waitState('master', 5000, m1);
  await lb2.waitState('backup', 5000, m2);
  await eventually(async () => (await holders()).join() === 'lb1', 5000, 'VIP back on lb1 only');
  return e.t - t0;
}

test('vrrp_script weight -60 (sh -c "test -f ok"): failing on the master moves the VIP to lb2; passing again preempts back', async () => {
  const ok = join(dir, 'script-ok');
  writeFileSync(ok, '');
  try {
    const { lb1, lb2 } = await pair(
      lb1Yaml(
        ['        scripts: [chk_ok]'],
        [`    chk_ok: { script: "/bin/sh -c 'test -f ${ok}'", interval: 200ms, timeout: 1s, fall: 2, rise: 2, weight: -60 }`],
      ),
    );
    let s = await lb1.status();
    assert.equal(s.effectivePriority, 101);
    assert.deepEqual(s.failingTrackers, []);

    const down = await takeover(lb1, lb2, 'backup', () => rmSync(ok));
    s = await lb1.status();
    assert.equal(s.effectivePriority, 41, '101 - 60');
    assert.equal(s.priority, 41, 'what lb1 advertises');
    assert.deepEqual(s.failingTrackers, ['script chk_ok']);
    assert.equal(s.fault, false);
    assert.equal(s.masterPriority, 100, 'lb1 follows lb2');
    assert.ok(priorityLogs(lb1).some((e) => e.priority === 41), 'log line with the effective priority 41');

    const up = await giveBack(lb1, lb2, () => writeFileSync(ok, ''));
    s = await lb1.status();
    assert.equal(s.effectivePriority, 101);
    assert.deepEqual(s.failingTrackers, []);
    console.log(`# script weight -60 (interval 200 ms, fall 2, rise 2, advert 100 ms): lb2 master ${down} ms after the check started failing; lb1 back ${up} ms after it passed`);
  } finally {
    await stopAll();
  }
});

test('track_interface on a second interface (weight 0): link down -> lb1 FAULT, VIP to lb2; link up -> lb1 master again', async () => {
  try {
    const { lb1, lb2 } = await pair(lb1Yaml(['        interfaces: [eth1]']));
    const down = await takeover(lb1, lb2, 'fault', () => lab.exec('lb1', 'ip', ['link', 'set', 'eth1', 'down']).then(() => undefined));
    const s = await lb1.status();
    assert.equal(s.state, 'fault');
    assert.equal(s.keepalivedState, 'FAULT');
    assert.equal(s.fault, true);
    assert.deepEqual(s.failingTrackers, ['interface eth1']);
    assert.equal(s.holdingAddresses, false);
    // In FAULT lb1 is silent: lb2 hears nobody and lb1's sent counter stands still.
    const sent = s.counters.advertsSent;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await lb1.status()).counters.advertsSent, sent, 'lb1 sends nothing in FAULT');
    assert.equal((await lb2.status()).counters.advertsReceived > 0, true);

    const up = await giveBack(lb1, lb2, () => lab.exec('lb1', 'ip', ['link', 'set', 'eth1', 'up']).then(() => undefined));
    assert.equal((await lb1.status()).fault, false);
    console.log(`# track_interface (poll 250 ms, advert 100 ms): lb2 master ${down} ms after eth1 went down; lb1 master ${up} ms after it came up`);
  } finally {
    await stopAll();
  }
});

test('track_file weight -1: the value in the file lowers the priority by that much (71 hands over, 96 stays backup, 0 preempts back)', async () => {
  const file = join(dir, 'prio');
  writeFileSync(file, '0\n');
  try {
    const { lb1, lb2 } = await pair(lb1Yaml([`        files: [{ path: "${file}", weight: -1 }]`]));
    assert.equal((await lb1.status()).effectivePriority, 101);

    const mark = lb1.events.length;
    await takeover(lb1, lb2, 'backup', () => writeFileSync(file, '30\n'));
    let s = await lb1.status();
    assert.equal(s.effectivePriority, 71, '101 + 30 x -1');
    assert.equal(s.priority, 71);
    assert.deepEqual(s.failingTrackers, [`file ${file}`]);
    assert.ok(priorityLogs(lb1, mark).some((e) => e.priority === 71), 'log line with the effective priority 71');

    // Still below lb2: priority follows the file, lb1 stays backup.
    writeFileSync(file, '5\n');
    await eventually(async () => (await lb1.status()).effectivePriority === 96, 3000, 'effective priority 96');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(lb1.state, 'backup');
    assert.equal(lb2.state, 'master');
    assert.deepEqual(await holders(), ['lb2']);

    await giveBack(lb1, lb2, () => writeFileSync(file, '0\n'));
    s = await lb1.status();
    assert.equal(s.effectivePriority, 101);
    assert.deepEqual(s.failingTrackers, []);
  } finally {
    await stopAll();
  }
});

test('vrrp_script weight 0: failing -> FAULT (VIP to lb2), passing -> master again', async () => {
  const ok = join(dir, 'fault-ok');
  writeFileSync(ok, '');
  try {
    const { lb1, lb2 } = await pair(
      lb1Yaml(
        ['        scripts: [{ name: chk_fault, weight: 0 }]'],
        [`    chk_fault: { script: "/bin/sh -c 'test -f ${ok}'", interval: 200ms, fall: 1, rise: 1, weight: -10 }`],
      ),
    );
    const down = await takeover(lb1, lb2, 'fault', () => rmSync(ok));
    const s = await lb1.status();
    assert.equal(s.keepalivedState, 'FAULT');
    assert.equal(s.fault, true);
    assert.deepEqual(s.failingTrackers, ['script chk_fault']);
    assert.equal(s.effectivePriority, 101, 'weight 0 (the instance override of -10) faults instead of lowering');
    const up = await giveBack(lb1, lb2, () => writeFileSync(ok, ''));
    assert.equal((await lb1.status()).keepalivedState, 'MASTER');
    console.log(`# script weight 0: lb2 master ${down} ms after the check failed (FAULT); lb1 master ${up} ms after it passed`);
  } finally {
    await stopAll();
  }
});
