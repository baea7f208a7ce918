// Chaos trials: three halb nodes and a client, a seeded random sequence of faults (kill -9,
// SIGTERM, link down, partition between two nodes, backends lost, reload), each followed by a
// heal that undoes every fault. After each heal: exactly one node (the highest priority, lb1)
// holds the VIP within the bound, the client is served through it, and a planned event
// (SIGTERM, reload) failed no request. The seed is printed: HALB_CHAOS_SEED=N replays a run;
// HALB_CHAOS_EVENTS sets the count. Run as `npm run bench:chaos` (root), not in CI: it fails
// today on a real defect it found (seed 509388878, event 6: SIGTERM of lb1 right after it was
// killed and restarted; lb3 (101) rather than lb2 (102) takes over, serves 1.5 s, then the client
// times out until the next heal), which this session could not fix in time; see issue 15's note.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { masterDownInterval } from '../../src/vrrp/state-machine.ts';
import { seededRandom, randomInt } from '../../test/unit/vrrp/seeded-random.ts';
import { eventually } from '../../test/system/vrrp/vrrp-node-client.ts';
import { ChaosLab, NODES, ADVERT_MS, type NodeName } from './chaos-lab.ts';

const SEED = Number(process.env.HALB_CHAOS_SEED ?? Date.now() % 1_000_000_007);
const EVENTS = Number(process.env.HALB_CHAOS_EVENTS ?? 100);
// After a heal: lb1 (restarted or not) sees its servers up again (rise 2 checks at 300 ms, one
// of them possibly still waiting out its 250 ms timeout), then takes over from the backup that
// is master after Master_Down_Interval; that old master keeps the VIP 1 s more while clients
// follow (a planned move), then drops it. Plus one advert interval and 300 ms of margin.
const LINGER_MS = 1000;
const BOUND_MS = ADVERT_MS + 2 * 300 + 250 + masterDownInterval(3, 102, ADVERT_MS) + LINGER_MS + 300;

type Kind = 'kill' | 'term' | 'link' | 'partition' | 'backends' | 'reload';
const KINDS: Kind[] = ['kill', 'kill', 'term', 'term', 'link', 'link', 'partition', 'partition', 'backends', 'backends', 'reload'];
const PLANNED = new Set<Kind>(['term', 'reload']);

let chaos: ChaosLab;
before(async () => {
  chaos = await ChaosLab.create();
});
after(async () => {
  await chaos?.destroy();
});

async function master(): Promise<NodeName | undefined> {
  for (const n of NODES) if (chaos.alive(n) && chaos.nodes.get(n)!.state === 'master') return n;
  return undefined;
}

test(`chaos: ${EVENTS} seeded faults on three nodes, each healed: one VIP holder, clients served, planned events 0 failed`, async () => {
  console.log(`# chaos seed ${SEED} (replay: HALB_CHAOS_SEED=${SEED} HALB_CHAOS_EVENTS=${EVENTS})`);
  const random = seededRandom(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[randomInt(random, 0, xs.length - 1)]!;
  for (const n of NODES) await chaos.start(n);
  await eventually(async () => (await chaos.vipHolders()).join() === 'lb1', 10_000, 'VIP on lb1 only at start');
  const client = chaos.startClient(30 * 60_000);
  await client.servedBy('lb1', 5, 5000);
  const log: string[] = [];
  const counts: Record<string, number> = {};
  let maxConvergeMs = 0;
  let plannedFailed = 0;
  try {
    for (let i = 0; i < EVENTS; i++) {
      const kind = pick(KINDS);
      const m = (await master()) ?? 'lb1';
      const target: NodeName = kind === 'term' || kind === 'reload' ? m : random() < 0.5 ? m : pick(NODES);
      const t0 = Date.now();
      const fromRecord = client.records.length;
      let what: string;
      switch (kind) {
        case 'kill':
          await chaos.kill9(target);
          what = `kill -9 ${target}`;
          break;
        case 'term':
          await chaos.sigterm(target);
          what = `SIGTERM ${target}`;
          break;
        case 'reload':
          chaos.reload(target);
          what = `reload ${target}`;
          break;
        case 'link': {
          const mode = random() < 0.5 ? 'silent' : 'carrier';
          await chaos.cutLink(target, mode);
          what = `link ${mode} ${target}`;
          break;
        }
        case 'partition': {
          const others = NODES.filter((n) => n !== target);
          const peer = pick(others);
          await chaos.partition(target, peer);
          what = `partition ${target}|${peer}`;
          break;
        }
        case 'backends':
          await chaos.loseBackends(target);
          what = `backends lost ${target}`;
          break;
      }
      counts[kind] = (counts[kind] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, randomInt(random, 200, 1000)));
      await chaos.heal();
      const healed = Date.now();
      try {
        await eventually(async () => (await chaos.vipHolders()).join() === 'lb1', BOUND_MS + 5000, `after ${what}: VIP on lb1 only`);
      } catch (err) {
        throw new Error(`event ${i} (${what}), seed ${SEED}: ${(err as Error).message}; holders ${(await chaos.vipHolders()).join()}`, { cause: err });
      }
      const convergeMs = Date.now() - healed;
      maxConvergeMs = Math.max(maxConvergeMs, convergeMs);
      await client.servedBy('lb1', 3, 5000);
      const window = client.records.slice(fromRecord).filter((r) => r.t >= t0);
      const failed = window.filter((r) => !r.ok).length;
      if (PLANNED.has(kind)) plannedFailed += failed;
      if (failed > 0 && process.env.HALB_CHAOS_DEBUG) {
        for (const [n, node] of chaos.nodes) console.log(`## ${n} (t0 ${t0})\n${node.stderr.split('\n').slice(-60).join('\n')}`);
      }
      log.push(`${i} ${what}: converged ${convergeMs} ms after heal, ${failed} failed`);
      assert.ok(convergeMs <= BOUND_MS, `event ${i} (${what}), seed ${SEED}: one holder ${convergeMs} ms after heal > bound ${BOUND_MS.toFixed(0)} ms`);
      if (PLANNED.has(kind)) assert.equal(failed, 0, `event ${i} (${what}), seed ${SEED}: a planned event failed ${failed} requests (ms after the event: ${window.filter((r) => !r.ok).map((r) => `${r.t - t0} ${r.err}`).slice(0, 8).join(', ')}); served by, in order: ${window.map((r) => r.by ?? 'x').join('').replace(/lb/g, '')}`);
    }
  } finally {
    await client.stop();
    console.log(`# chaos seed ${SEED}: ${log.length} events healed (${JSON.stringify(counts)}); slowest convergence ${maxConvergeMs} ms (bound ${BOUND_MS.toFixed(0)} ms); planned events failed ${plannedFailed}`);
    for (const l of log) console.log(`#   ${l}`);
  }
});
