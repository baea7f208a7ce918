import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createMachine,
  machineConfig,
  masterDownInterval,
  skewTime,
  step,
} from '../../../src/vrrp/state-machine.ts';
import type { MachineAction, MachineConfig, MachineEvent, MachineState } from '../../../src/vrrp/state-machine.ts';
import type { VrrpInstanceConfig } from '../../../src/config/types.ts';

const ME = '10.0.0.2';
const cfg = (over: Partial<MachineConfig> = {}): MachineConfig => ({
  version: 3,
  priority: 100,
  advertInt: 1000,
  preempt: true,
  preemptDelay: 0,
  handoverBound: 3000,
  primaryAddress: ME,
  ...over,
});
const MDI100 = 3000 + (156 * 1000) / 256; // 3609.375
const SKEW100 = (156 * 1000) / 256; // 609.375

/** A fake clock plus the machine: feed events at given times, inspect the last step. */
class Harness {
  state: MachineState;
  actions: MachineAction[] = [];
  now = 0;
  constructor(config: MachineConfig) {
    this.state = createMachine(config);
  }
  at(now: number, event: MachineEvent): this {
    this.now = now;
    const r = step(this.state, event, now);
    this.state = r.state;
    this.actions = r.actions;
    return this;
  }
  advert(now: number, from: string, priority: number, maxAdvertInt = 1000): this {
    return this.at(now, { type: 'advert', from, priority, maxAdvertInt });
  }
  fire(which: 'adver' | 'master-down' | 'handover'): this {
    const at = this.state.timers[which];
    assert.ok(at !== undefined, `${which} timer not armed in ${this.state.name}`);
    return this.at(at, { type: 'timer', which });
  }
}

const startedBackup = (over: Partial<MachineConfig> = {}) => new Harness(cfg(over)).at(0, { type: 'startup' });
const startedMaster = (over: Partial<MachineConfig> = {}) => startedBackup(over).fire('master-down');

describe('timers (RFC 5798 §6.1)', () => {
  it('Skew_Time and Master_Down_Interval, v3 scales with Master_Adver_Interval', () => {
    assert.equal(skewTime(3, 100, 1000), SKEW100);
    assert.equal(masterDownInterval(3, 100, 1000), MDI100);
    assert.equal(skewTime(3, 100, 500), SKEW100 / 2);
    assert.equal(masterDownInterval(3, 254, 100), 300 + (2 * 100) / 256);
  });
  it('v2 skew is (256 - Priority)/256 s whatever the interval (RFC 3768 §6.1)', () => {
    assert.equal(skewTime(2, 100, 3000), SKEW100);
    assert.equal(masterDownInterval(2, 100, 3000), 9000 + SKEW100);
  });
});

describe('§6.4.1 Initialize', () => {
  it('non-owner starts as Backup with Master_Down_Timer', () => {
    const h = new Harness(cfg()).at(10, { type: 'startup' });
    assert.equal(h.state.name, 'backup');
    assert.deepEqual(h.actions, [{ type: 'become-backup' }, { type: 'set-timer', which: 'master-down', at: 10 + MDI100 }]);
  });
  it('owner (255) goes straight to Master: advert, GARP, Adver_Timer', () => {
    const h = new Harness(cfg({ priority: 255 })).at(5, { type: 'startup' });
    assert.equal(h.state.name, 'master');
    assert.deepEqual(h.actions, [
      { type: 'become-master' },
      { type: 'send-advert', priority: 255 },
      { type: 'send-garp' },
      { type: 'set-timer', which: 'adver', at: 1005 },
    ]);
  });
  it('starting while a tracker fault is on goes to Fault', () => {
    const h = new Harness(cfg()).at(0, { type: 'fault', on: true }).at(1, { type: 'startup' });
    assert.equal(h.state.name, 'fault');
    assert.deepEqual(h.actions, [{ type: 'enter-fault' }]);
  });
  it('ignores adverts and timers before startup', () => {
    const h = new Harness(cfg()).advert(0, '10.0.0.1', 200);
    assert.equal(h.state.name, 'initialize');
    assert.deepEqual(h.actions, []);
    h.at(1, { type: 'timer', which: 'master-down' });
    assert.deepEqual(h.actions, []);
  });
});

describe('§6.4.2 Backup', () => {
  it('Master_Down_Timer fires -> Master', () => {
    const h = startedBackup().fire('master-down');
    assert.equal(h.state.name, 'master');
    assert.deepEqual(h.actions, [
      { type: 'become-master' },
      { type: 'send-advert', priority: 100 },
      { type: 'send-garp' },
      { type: 'set-timer', which: 'adver', at: MDI100 + 1000 },
    ]);
    assert.equal(h.state.timers['master-down'], undefined);
  });
  it('higher-priority advert resets Master_Down_Timer and learns the v3 interval', () => {
    const h = startedBackup().advert(2000, '10.0.0.1', 150, 500);
    assert.equal(h.state.name, 'backup');
    assert.equal(h.state.masterAdverInterval, 500);
    assert.equal(h.state.masterAddress, '10.0.0.1');
    assert.deepEqual(h.actions, [{ type: 'set-timer', which: 'master-down', at: 2000 + 1500 + SKEW100 / 2 }]);
  });
  it('v2 keeps its own interval for Master_Down_Interval', () => {
    const h = startedBackup({ version: 2 }).advert(2000, '10.0.0.1', 150, 3000);
    assert.equal(h.state.masterAdverInterval, 1000);
    assert.deepEqual(h.actions, [{ type: 'set-timer', which: 'master-down', at: 2000 + MDI100 }]);
  });
  it('priority 0 advert -> Master_Down_Timer = Skew_Time', () => {
    const h = startedBackup().advert(2000, '10.0.0.1', 150, 1000).advert(2500, '10.0.0.1', 0);
    assert.deepEqual(h.actions, [{ type: 'set-timer', which: 'master-down', at: 2500 + SKEW100 }]);
    h.fire('master-down');
    assert.equal(h.state.name, 'master');
  });
  it('equal priority is accepted whatever the address (">=" in §6.4.2)', () => {
    const h = startedBackup().advert(100, '10.0.0.1', 100);
    assert.deepEqual(h.actions, [{ type: 'set-timer', which: 'master-down', at: 100 + MDI100 }]);
  });
  it('preempt: lower-priority advert is discarded, so we take over when the timer runs out', () => {
    const h = startedBackup().advert(100, '10.0.0.1', 50);
    assert.deepEqual(h.actions, []);
    assert.equal(h.state.timers['master-down'], MDI100);
    h.fire('master-down');
    assert.equal(h.state.name, 'master');
  });
  it('nopreempt: lower-priority master is accepted', () => {
    const h = startedBackup({ preempt: false }).advert(100, '10.0.0.1', 50);
    assert.deepEqual(h.actions, [{ type: 'set-timer', which: 'master-down', at: 100 + MDI100 }]);
    assert.equal(h.state.masterPriority, 50);
  });
  it('preempt_delay: lower master accepted until startup + delay, discarded after', () => {
    const h = startedBackup({ preemptDelay: 5000 }).advert(1000, '10.0.0.1', 50);
    assert.equal(h.actions.length, 1);
    h.advert(4999, '10.0.0.1', 50);
    assert.deepEqual(h.actions, [{ type: 'set-timer', which: 'master-down', at: 4999 + MDI100 }]);
    h.advert(5000, '10.0.0.1', 50);
    assert.deepEqual(h.actions, []);
    h.fire('master-down');
    assert.equal(h.state.name, 'master');
    assert.equal(h.now, 4999 + MDI100);
  });
  it('preempt_delay restarts when leaving Fault', () => {
    const h = startedBackup({ preemptDelay: 5000 })
      .at(10_000, { type: 'fault', on: true })
      .at(20_000, { type: 'fault', on: false })
      .advert(24_000, '10.0.0.1', 50);
    assert.equal(h.actions.length, 1, 'accepted within delay');
    h.advert(25_000, '10.0.0.1', 50);
    assert.deepEqual(h.actions, [], 'discarded after delay');
  });
  it('the owner preempts even with nopreempt', () => {
    const h = new Harness(cfg({ priority: 255, preempt: false }))
      .at(0, { type: 'priority', value: 90 })
      .at(0, { type: 'startup' })
      .advert(100, '10.0.0.1', 120);
    assert.equal(h.state.name, 'backup');
    h.at(200, { type: 'priority', value: 255 }).advert(300, '10.0.0.1', 120);
    assert.deepEqual(h.actions, [], 'owner discards lower adverts');
  });
  it('a backup whose priority rises above the master preempts', () => {
    const h = startedBackup().advert(100, '10.0.0.1', 120);
    h.at(200, { type: 'priority', value: 130 });
    assert.deepEqual(h.actions, []);
    h.advert(1100, '10.0.0.1', 120);
    assert.deepEqual(h.actions, []);
    h.fire('master-down');
    assert.equal(h.state.name, 'master');
    assert.deepEqual(h.actions[1], { type: 'send-advert', priority: 130 });
  });
  it('ignores its own adverts (multicast loopback)', () => {
    const h = startedBackup().advert(100, ME, 200);
    assert.deepEqual(h.actions, []);
  });
  it('a stale adver timer in Backup is ignored', () => {
    const h = startedBackup().at(10, { type: 'timer', which: 'adver' });
    assert.deepEqual(h.actions, []);
    assert.equal(h.state.name, 'backup');
  });
  it('shutdown cancels Master_Down_Timer and sends nothing', () => {
    const h = startedBackup().at(10, { type: 'shutdown' });
    assert.equal(h.state.name, 'initialize');
    assert.deepEqual(h.actions, [{ type: 'cancel-timer', which: 'master-down' }, { type: 'stop' }]);
  });
});

describe('§6.4.3 Master', () => {
  it('Adver_Timer fires -> advert and re-arm', () => {
    const h = startedMaster();
    const t = h.state.timers.adver!;
    h.fire('adver');
    assert.deepEqual(h.actions, [{ type: 'send-advert', priority: 100 }, { type: 'set-timer', which: 'adver', at: t + 1000 }]);
  });
  it('higher-priority advert -> Backup, learning its interval', () => {
    const h = startedMaster().advert(5000, '10.0.0.1', 101, 2000);
    assert.equal(h.state.name, 'backup');
    assert.equal(h.state.masterAdverInterval, 2000);
    assert.deepEqual(h.actions, [
      { type: 'cancel-timer', which: 'adver' },
      { type: 'become-backup' },
      { type: 'set-timer', which: 'master-down', at: 5000 + masterDownInterval(3, 100, 2000) },
    ]);
  });
  it('equal priority: higher primary address wins, compared numerically (IPv4)', () => {
    const lose = startedMaster({ primaryAddress: '10.0.0.9' }).advert(5000, '10.0.0.10', 100);
    assert.equal(lose.state.name, 'backup', '10.0.0.10 > 10.0.0.9 numerically');
    const win = startedMaster({ primaryAddress: '10.0.0.10' }).advert(5000, '10.0.0.9', 100);
    assert.equal(win.state.name, 'master');
  });
  it('equal priority: higher primary address wins (IPv6)', () => {
    const lose = startedMaster({ primaryAddress: 'fe80::9' }).advert(5000, 'fe80::a', 100);
    assert.equal(lose.state.name, 'backup');
    const win = startedMaster({ primaryAddress: 'fe80::1:0' }).advert(5000, 'fe80::ffff', 100);
    assert.equal(win.state.name, 'master');
  });
  it('lower-priority advert: stays Master, re-advertises at once, GARP, reports it', () => {
    const h = startedMaster().advert(5000, '10.0.0.1', 50);
    assert.equal(h.state.name, 'master');
    assert.deepEqual(h.actions, [
      { type: 'send-advert', priority: 100 },
      { type: 'set-timer', which: 'adver', at: 6000 },
      { type: 'send-garp' },
      { type: 'lower-priority-seen', from: '10.0.0.1', priority: 50 },
    ]);
  });
  it('priority 0 advert from another master: answer at once', () => {
    const h = startedMaster().advert(5000, '10.0.0.1', 0);
    assert.deepEqual(h.actions, [{ type: 'send-advert', priority: 100 }, { type: 'set-timer', which: 'adver', at: 6000 }]);
  });
  it('shutdown: cancel Adver_Timer, send priority 0, stop', () => {
    const h = startedMaster().at(5000, { type: 'shutdown' });
    assert.equal(h.state.name, 'initialize');
    assert.deepEqual(h.actions, [{ type: 'cancel-timer', which: 'adver' }, { type: 'send-advert', priority: 0 }, { type: 'stop' }]);
  });
  it('priority change is advertised at once; clamped to 1..254 for non-owners', () => {
    const h = startedMaster().at(5000, { type: 'priority', value: 50 });
    assert.deepEqual(h.actions, [{ type: 'send-advert', priority: 50 }, { type: 'set-timer', which: 'adver', at: 6000 }]);
    h.at(5001, { type: 'priority', value: -20 });
    assert.equal(h.state.priority, 1);
    h.at(5002, { type: 'priority', value: 400 });
    assert.equal(h.state.priority, 254);
    h.at(5003, { type: 'priority', value: 254 });
    assert.deepEqual(h.actions, [], 'no change, no advert');
  });
  it('a stale master-down timer in Master is ignored', () => {
    const h = startedMaster().at(9000, { type: 'timer', which: 'master-down' });
    assert.deepEqual(h.actions, []);
  });
});

describe('Fault (trackers)', () => {
  it('Master -> Fault sends priority 0 and releases', () => {
    const h = startedMaster().at(5000, { type: 'fault', on: true });
    assert.equal(h.state.name, 'fault');
    assert.deepEqual(h.actions, [{ type: 'cancel-timer', which: 'adver' }, { type: 'send-advert', priority: 0 }, { type: 'enter-fault' }]);
  });
  it('Backup -> Fault sends nothing', () => {
    const h = startedBackup().at(5, { type: 'fault', on: true });
    assert.deepEqual(h.actions, [{ type: 'cancel-timer', which: 'master-down' }, { type: 'enter-fault' }]);
  });
  it('Fault ignores adverts, timers and handover', () => {
    const h = startedBackup().at(5, { type: 'fault', on: true });
    for (const e of [
      { type: 'advert', from: '10.0.0.1', priority: 0, maxAdvertInt: 1000 },
      { type: 'timer', which: 'master-down' },
      { type: 'handover' },
      { type: 'fault', on: true },
      { type: 'startup' },
    ] as MachineEvent[]) {
      h.at(10, e);
      assert.deepEqual(h.actions, [], e.type);
      assert.equal(h.state.name, 'fault');
    }
  });
  it('leaving Fault re-initialises: Backup, or Master for the owner', () => {
    const b = startedBackup().at(5, { type: 'fault', on: true }).at(100, { type: 'fault', on: false });
    assert.equal(b.state.name, 'backup');
    assert.deepEqual(b.actions, [{ type: 'become-backup' }, { type: 'set-timer', which: 'master-down', at: 100 + MDI100 }]);
    const o = new Harness(cfg({ priority: 255 })).at(0, { type: 'startup' }).at(5, { type: 'fault', on: true }).at(100, { type: 'fault', on: false });
    assert.equal(o.state.name, 'master');
  });
  it('shutdown in Fault stops; the fault is remembered for the next startup', () => {
    const h = startedBackup().at(5, { type: 'fault', on: true }).at(6, { type: 'shutdown' });
    assert.deepEqual(h.actions, [{ type: 'stop' }]);
    h.at(7, { type: 'startup' });
    assert.equal(h.state.name, 'fault');
  });
});

describe('handover', () => {
  const handingOver = () => startedMaster().at(10_000, { type: 'handover' });
  it('Master advertises priority 0 but keeps serving', () => {
    const h = handingOver();
    assert.equal(h.state.name, 'master-handing-over');
    assert.deepEqual(h.actions, [
      { type: 'cancel-timer', which: 'adver' },
      { type: 'keep-serving' },
      { type: 'send-advert', priority: 0 },
      { type: 'set-timer', which: 'adver', at: 11_000 },
      { type: 'set-timer', which: 'handover', at: 13_000 },
    ]);
  });
  it('repeats priority 0 each interval', () => {
    const h = handingOver().fire('adver');
    assert.deepEqual(h.actions, [{ type: 'send-advert', priority: 0 }, { type: 'set-timer', which: 'adver', at: 12_000 }]);
  });
  it('ends as Backup when the new master (any priority) is heard', () => {
    const h = handingOver().advert(10_700, '10.0.0.1', 90);
    assert.equal(h.state.name, 'backup');
    assert.deepEqual(h.actions, [
      { type: 'cancel-timer', which: 'adver' },
      { type: 'cancel-timer', which: 'handover' },
      { type: 'become-backup' },
      { type: 'set-timer', which: 'master-down', at: 10_700 + MDI100 },
    ]);
  });
  it('ends as Backup when the bound runs out', () => {
    const h = handingOver().fire('handover');
    assert.equal(h.state.name, 'backup');
    assert.deepEqual(h.actions, [
      { type: 'cancel-timer', which: 'adver' },
      { type: 'become-backup' },
      { type: 'set-timer', which: 'master-down', at: 13_000 + MDI100 },
    ]);
  });
  it('priority 0 from others does not end it', () => {
    const h = handingOver().advert(10_100, '10.0.0.1', 0);
    assert.equal(h.state.name, 'master-handing-over');
    assert.deepEqual(h.actions, []);
  });
  it('after handing over it does not preempt the lower new master, but returns if it vanishes', () => {
    const h = handingOver().advert(10_700, '10.0.0.1', 90).advert(11_700, '10.0.0.1', 90);
    assert.deepEqual(h.actions, [{ type: 'set-timer', which: 'master-down', at: 11_700 + MDI100 }]);
    h.fire('master-down');
    assert.equal(h.state.name, 'master');
    assert.equal(h.state.yielded, false);
  });
  it('handover is ignored outside Master', () => {
    const h = startedBackup().at(5, { type: 'handover' });
    assert.deepEqual(h.actions, []);
    assert.equal(h.state.name, 'backup');
  });
  it('fault or shutdown while handing over releases with priority 0', () => {
    const f = handingOver().at(10_100, { type: 'fault', on: true });
    assert.equal(f.state.name, 'fault');
    assert.deepEqual(f.actions, [
      { type: 'cancel-timer', which: 'adver' },
      { type: 'cancel-timer', which: 'handover' },
      { type: 'send-advert', priority: 0 },
      { type: 'enter-fault' },
    ]);
    const s = handingOver().at(10_100, { type: 'shutdown' });
    assert.equal(s.state.name, 'initialize');
    assert.deepEqual(s.state.timers, {});
  });
});

describe('machineConfig', () => {
  it('takes the election fields from the instance config', () => {
    const instance = {
      name: 'VI', interface: 'eth0', state: 'BACKUP', priority: 90, virtualRouterId: 51, version: 2, family: 4,
      advertInt: 2000, preempt: false, preemptDelay: 7000, handoverBound: 4000,
    } as unknown as VrrpInstanceConfig;
    assert.deepEqual(machineConfig(instance, '10.0.0.7'), {
      version: 2, priority: 90, advertInt: 2000, preempt: false, preemptDelay: 7000, handoverBound: 4000, primaryAddress: '10.0.0.7',
    });
  });
});

describe('handoffFrom: taking over from a live master', () => {
  const becameMaster = (h: Harness) => h.actions.find((a) => a.type === 'become-master');
  it('preemption: the lower-priority master we kept hearing is the handoff peer', () => {
    // We (100) discard 10.0.0.9's priority-50 adverts; Master_Down_Timer runs out and we preempt.
    const h = startedBackup();
    for (let t = 1000; t < MDI100; t += 1000) h.advert(t, '10.0.0.9', 50);
    h.fire('master-down');
    assert.equal(h.state.name, 'master');
    assert.deepEqual(becameMaster(h), { type: 'become-master', handoffFrom: '10.0.0.9' });
    assert.equal(h.state.lastHeard, undefined);
  });
  it('priority 0 (handover, shutdown): the leaving master is the handoff peer', () => {
    const h = startedBackup().advert(1000, '10.0.0.9', 200).advert(2000, '10.0.0.9', 0).fire('master-down');
    assert.equal(h.now, 2000 + SKEW100);
    assert.deepEqual(becameMaster(h), { type: 'become-master', handoffFrom: '10.0.0.9' });
  });
  it('a dead master (silent for Master_Down_Interval) is not', () => {
    const h = startedBackup().advert(1000, '10.0.0.9', 200).fire('master-down');
    assert.equal(h.now, 1000 + MDI100);
    assert.deepEqual(becameMaster(h), { type: 'become-master' });
  });
  it('heard just under two intervals before taking over: still a peer; at two: not', () => {
    const h = startedBackup().advert(MDI100 - 1999, '10.0.0.9', 50).fire('master-down');
    assert.deepEqual(becameMaster(h), { type: 'become-master', handoffFrom: '10.0.0.9' });
    const late = startedBackup().advert(MDI100 - 2000, '10.0.0.9', 50).fire('master-down');
    assert.deepEqual(becameMaster(late), { type: 'become-master' });
  });
  it('our own adverts (looped back) are never the peer', () => {
    const h = startedBackup().advert(MDI100 - 100, ME, 100).fire('master-down');
    assert.deepEqual(becameMaster(h), { type: 'become-master' });
  });
});
