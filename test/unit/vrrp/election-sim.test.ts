// Randomised election: 2..5 machines on a simulated network with loss, partitions that heal,
// faults, priority changes, restarts and handovers, driven by a discrete-event scheduler.
// After the network heals and 5 x Master_Down_Interval pass, exactly one master must remain,
// and it must be the one RFC 5798 §6.4 (plus preempt semantics) says should win.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createMachine, step } from '../../../src/vrrp/state-machine.ts';
import type { MachineConfig, MachineEvent, MachineState, TimerName } from '../../../src/vrrp/state-machine.ts';
import { compareIp } from '../../../src/vrrp/ip-address.ts';
import { randomInt, seededRandom } from './seeded-random.ts';

const SEEDS = 300;

interface SimNode {
  index: number;
  config: MachineConfig;
  state: MachineState;
  timerGen: Record<TimerName, number>;
  transitions: { at: number; to: string }[];
}

interface QueueItem {
  at: number;
  seq: number;
  run: () => void;
}

/** Binary min-heap on (at, seq): a deterministic discrete-event scheduler. */
class Scheduler {
  now = 0;
  private heap: QueueItem[] = [];
  private seq = 0;
  at(at: number, run: () => void): void {
    const item = { at: Math.max(at, this.now), seq: this.seq++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  runUntil(end: number): void {
    const h = this.heap;
    while (h.length > 0 && h[0]!.at <= end) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && less(h[l]!, h[m]!)) m = l;
          if (r < h.length && less(h[r]!, h[m]!)) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m]!, h[i]!];
          i = m;
        }
      }
      this.now = top.at;
      top.run();
    }
    this.now = end;
  }
}
const less = (a: QueueItem, b: QueueItem) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** (priority, address) order of §6.4.3. */
function rank(a: SimNode, b: SimNode): number {
  return a.config.priority - b.config.priority || compareIp(a.config.primaryAddress, b.config.primaryAddress);
}

const serving = (n: SimNode) => n.state.name === 'master' || n.state.name === 'master-handing-over';

interface Outcome {
  ties: boolean;
  isolation: boolean;
  allPreempt: boolean;
  family: 4 | 6;
  deliveries: number;
  drops: number;
}

function runSeed(seed: number): Outcome {
  const random = seededRandom(seed);
  const sched = new Scheduler();
  const n = randomInt(random, 2, 5);
  const version: 2 | 3 = random() < 0.7 ? 3 : 2;
  const family: 4 | 6 = version === 3 && random() < 0.3 ? 6 : 4;
  const intervals = version === 2 ? [1000] : [100, 200, 1000];
  const sharedInterval = intervals[randomInt(random, 0, intervals.length - 1)]!;
  const mixedIntervals = version === 3 && random() < 0.3;

  // Priorities: distinct, or the top shared by two or more (tie-break by address).
  const ties = random() < 0.35;
  const pool = Array.from({ length: 254 }, (_, i) => i + 1);
  const priorities = Array.from({ length: n }, () => pool.splice(randomInt(random, 0, pool.length - 1), 1)[0]!);
  if (ties) {
    const top = Math.max(...priorities);
    const k = randomInt(random, 2, n);
    for (let i = 0; i < k; i++) priorities[i] = top;
  } else if (random() < 0.15) {
    priorities[0] = 255; // an address owner
  }
  const preemptMode = random();
  const addresses = new Set<string>();
  while (addresses.size < n) {
    addresses.add(family === 4 ? `10.0.${randomInt(random, 0, 3)}.${randomInt(random, 1, 254)}` : `fe80::${randomInt(random, 1, 0x1ffff).toString(16).replace(/(.{1,4})$/, ':$1').replace(/^:/, '')}`);
  }
  const addrList = [...addresses];

  const nodes: SimNode[] = priorities.map((priority, index) => {
    const advertInt = mixedIntervals ? intervals[randomInt(random, 0, intervals.length - 1)]! : sharedInterval;
    const config: MachineConfig = {
      version,
      priority,
      advertInt,
      preempt: preemptMode < 0.6 ? true : preemptMode < 0.8 ? false : random() < 0.5,
      preemptDelay: random() < 0.4 ? randomInt(random, 0, 3 * advertInt) : 0,
      handoverBound: randomInt(random, 1, 3) * advertInt,
      primaryAddress: addrList[index]!,
    };
    return { index, config, state: createMachine(config), timerGen: { adver: 0, 'master-down': 0, handover: 0 }, transitions: [] };
  });
  const maxAdvert = Math.max(...nodes.map((x) => x.config.advertInt));
  const maxMdi = 4 * maxAdvert; // >= 3 * interval + skew for every node and version

  // The network: group per node (same group = connected), a drop rate, small random latency.
  let groups = nodes.map(() => 0);
  let dropRate = 0;
  let deliveries = 0;
  let drops = 0;

  function apply(node: SimNode, event: MachineEvent): void {
    const r = step(node.state, event, sched.now);
    node.state = r.state;
    for (const a of r.actions) {
      switch (a.type) {
        case 'send-advert':
          for (const peer of nodes) {
            if (peer === node) continue;
            if (groups[peer.index] !== groups[node.index] || random() < dropRate) { drops++; continue; }
            deliveries++;
            const ev: MachineEvent = { type: 'advert', from: node.config.primaryAddress, priority: a.priority, maxAdvertInt: node.config.advertInt };
            sched.at(sched.now + 0.1 + random() * 2, () => apply(peer, ev));
          }
          break;
        case 'set-timer': {
          const gen = ++node.timerGen[a.which];
          sched.at(a.at, () => { if (node.timerGen[a.which] === gen) apply(node, { type: 'timer', which: a.which }); });
          break;
        }
        case 'cancel-timer':
          node.timerGen[a.which]++;
          break;
        case 'become-master':
        case 'become-backup':
        case 'enter-fault':
        case 'stop':
        case 'keep-serving':
          node.transitions.push({ at: sched.now, to: a.type });
          break;
        default:
          break;
      }
    }
  }

  for (const node of nodes) sched.at(random() * maxAdvert, () => apply(node, { type: 'startup' }));

  // Phase 1: chaos with node events.
  const t1 = randomInt(random, 5, 40) * maxAdvert;
  for (let t = 0; t < t1; ) {
    const len = randomInt(random, 1, 10) * maxAdvert;
    const k = randomInt(random, 1, n);
    const g = nodes.map(() => randomInt(random, 0, k - 1));
    const d = random() * 0.6;
    sched.at(t, () => { groups = g; dropRate = d; });
    t += len;
  }
  const nodeEvents = randomInt(random, 0, 3 * n);
  for (let i = 0; i < nodeEvents; i++) {
    const node = nodes[randomInt(random, 0, n - 1)]!;
    const at = random() * t1;
    const roll = random();
    let ev: MachineEvent;
    if (roll < 0.25) ev = { type: 'fault', on: random() < 0.6 };
    else if (roll < 0.5) ev = { type: 'priority', value: node.config.priority + randomInt(random, -80, 80) };
    else if (roll < 0.65) ev = { type: 'shutdown' };
    else if (roll < 0.8) ev = { type: 'startup' };
    else ev = { type: 'handover' };
    sched.at(at, () => apply(node, ev));
  }

  // Restore every node to its configured self, then phase 2: partitions and loss only.
  sched.at(t1, () => {
    for (const node of nodes) {
      apply(node, { type: 'fault', on: false });
      apply(node, { type: 'priority', value: node.config.priority });
      if (node.state.name === 'initialize') apply(node, { type: 'startup' });
    }
  });
  const isolation = random() < 0.3;
  let t2: number;
  if (isolation) {
    // Everyone alone long enough to become master: the heal is a pure master-vs-master contest.
    t2 = t1 + randomInt(random, 8, 12) * maxMdi;
    sched.at(t1, () => { groups = nodes.map((_, i) => i); dropRate = 0; });
  } else {
    t2 = t1 + randomInt(random, 1, 20) * maxAdvert;
    const k = randomInt(random, 1, n);
    const g = nodes.map(() => randomInt(random, 0, k - 1));
    const d = random() * 0.5;
    sched.at(t1, () => { groups = g; dropRate = d; });
  }

  sched.runUntil(t2);
  groups = nodes.map(() => 0);
  dropRate = 0;
  const healMasters = nodes.filter((x) => x.state.name === 'master');
  const end = t2 + 5 * maxMdi;
  sched.runUntil(end);

  const ctx = () => `seed ${seed}: ${JSON.stringify(nodes.map((x) => ({
    p: x.config.priority, a: x.config.primaryAddress, pre: x.config.preempt, delay: x.config.preemptDelay, int: x.config.advertInt,
    state: x.state.name, yielded: x.state.yielded, eff: x.state.priority,
  })))} v${version} healMasters=${healMasters.map((x) => x.index)}`;

  const masters = nodes.filter(serving);
  assert.equal(masters.length, 1, `exactly one master: ${ctx()}`);
  const winner = masters[0]!;
  assert.equal(winner.state.name, 'master', ctx());
  for (const node of nodes) {
    if (node !== winner) assert.equal(node.state.name, 'backup', ctx());
    assert.equal(node.state.priority, node.config.priority, ctx());
  }
  // §6.4.3: a master only yields to a better (priority, address), so the best master at heal time
  // (or someone even better who took over since) must be the survivor.
  for (const m of healMasters) assert.ok(rank(winner, m) >= 0, `winner below a heal-time master: ${ctx()}`);
  // §6.4.2 preemption: nobody that may preempt (preempt on, or owner; not yielded by handover)
  // can sit as backup under a lower-priority master.
  for (const node of nodes) {
    const mayPreempt = (node.config.preempt || node.config.priority === 255) && !node.state.yielded;
    if (mayPreempt) assert.ok(winner.config.priority >= node.config.priority, `preempting node ${node.index} under lower master: ${ctx()}`);
  }
  if (isolation) {
    assert.equal(healMasters.length, n, `isolation should make everyone master: ${ctx()}`);
    const best = [...nodes].sort(rank).at(-1)!;
    assert.equal(winner, best, `highest (priority, address) must win: ${ctx()}`);
  }
  // Converged, not oscillating: no transitions in the last Master_Down_Interval.
  for (const node of nodes) {
    const late = node.transitions.filter((x) => x.at > end - maxMdi);
    assert.deepEqual(late, [], `node ${node.index} still flapping: ${ctx()}`);
  }
  return { ties, isolation, allPreempt: nodes.every((x) => x.config.preempt), family, deliveries, drops };
}

it(`${SEEDS} seeded elections converge to the rightful single master`, () => {
  const outcomes: Outcome[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) outcomes.push(runSeed(seed));
  // The generator must cover the interesting cases, or the assertions above prove little.
  const count = (f: (o: Outcome) => boolean) => outcomes.filter(f).length;
  assert.ok(count((o) => o.ties) > 30, 'tie-break scenarios');
  assert.ok(count((o) => o.ties && o.isolation) > 5, 'tie-break master-vs-master scenarios');
  assert.ok(count((o) => !o.allPreempt) > 30, 'nopreempt scenarios');
  assert.ok(count((o) => o.family === 6) > 20, 'IPv6 scenarios');
  assert.ok(count((o) => o.drops > 0) > SEEDS / 2, 'lossy scenarios');
});

it('handover: the next best backup takes over within Skew_Time, the old master then stands by', () => {
  const sched = new Scheduler();
  const mk = (priority: number, address: string): SimNode => {
    const config: MachineConfig = { version: 3, priority, advertInt: 1000, preempt: true, preemptDelay: 0, handoverBound: 3000, primaryAddress: address };
    return { index: 0, config, state: createMachine(config), timerGen: { adver: 0, 'master-down': 0, handover: 0 }, transitions: [] };
  };
  const nodes = [mk(150, '10.0.0.1'), mk(100, '10.0.0.2'), mk(50, '10.0.0.3')];
  const apply = (node: SimNode, event: MachineEvent): void => {
    const r = step(node.state, event, sched.now);
    node.state = r.state;
    for (const a of r.actions) {
      if (a.type === 'send-advert') {
        for (const peer of nodes) if (peer !== node) sched.at(sched.now + 1, () => apply(peer, { type: 'advert', from: node.config.primaryAddress, priority: a.priority, maxAdvertInt: 1000 }));
      } else if (a.type === 'set-timer') {
        const gen = ++node.timerGen[a.which];
        sched.at(a.at, () => { if (node.timerGen[a.which] === gen) apply(node, { type: 'timer', which: a.which }); });
      } else if (a.type === 'cancel-timer') {
        node.timerGen[a.which]++;
      } else if (a.type.startsWith('become') || a.type === 'keep-serving') {
        node.transitions.push({ at: sched.now, to: a.type });
      }
    }
  };
  for (const node of nodes) sched.at(0, () => apply(node, { type: 'startup' }));
  sched.runUntil(10_000);
  assert.deepEqual(nodes.map((x) => x.state.name), ['master', 'backup', 'backup']);
  sched.at(10_000, () => apply(nodes[0]!, { type: 'handover' }));
  sched.runUntil(10_500);
  // Backup with priority 100 waits Skew_Time = 156/256 s; meanwhile the old master still serves.
  assert.deepEqual(nodes.map((x) => x.state.name), ['master-handing-over', 'backup', 'backup']);
  sched.runUntil(10_700);
  assert.deepEqual(nodes.map((x) => x.state.name), ['backup', 'master', 'backup']);
  const takeover = nodes[1]!.transitions.at(-1)!;
  const release = nodes[0]!.transitions.at(-1)!;
  assert.ok(release.at > takeover.at, 'old master released only after the new one took over');
  sched.runUntil(60_000);
  assert.deepEqual(nodes.map((x) => x.state.name), ['backup', 'master', 'backup'], 'the yielded node does not preempt back');
  // If the new master dies, the yielded node comes back.
  sched.at(60_000, () => apply(nodes[1]!, { type: 'fault', on: true }));
  sched.runUntil(70_000);
  assert.deepEqual(nodes.map((x) => x.state.name), ['master', 'fault', 'backup']);
});
