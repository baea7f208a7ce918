// A node started the way packaging/halb.service starts it: an unprivileged user (nobody) with
// exactly the unit's AmbientCapabilities/CapabilityBoundingSet and NoNewPrivileges, through
// setpriv. Both nodes of the seed lab run so; lb1 serves the VIP, kill -9 moves it to lb2. A node
// without CAP_NET_RAW is refused at start with the reason.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { parseCapEff, CAPABILITY_BITS, type CapabilityName } from '../../../src/node/capabilities.ts';
import { eventually } from '../vrrp/vrrp-node-client.ts';
import { SeedLab, switchover } from './seed-lab.ts';

const UNIT = new URL('../../../packaging/halb.service', import.meta.url);
const NOBODY = 65534;

function unitSetting(name: string): string[] {
  const m = new RegExp(`^${name}=(.*)$`, 'm').exec(readFileSync(UNIT, 'utf8'));
  assert.ok(m, `${name}= in packaging/halb.service`);
  return m[1]!.trim().split(/\s+/);
}

/** setpriv arguments that give a process what the unit gives halb. */
function asTheUnitDoes(caps: string[]): string[] {
  const list = caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`).join(',');
  return [
    'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups',
    `--inh-caps=-all,${list}`, `--ambient-caps=${list}`, `--bounding-set=-all,${list}`,
    ...(unitSetting('NoNewPrivileges')[0] === 'yes' ? ['--no-new-privs'] : []),
  ];
}

function procStatus(pid: number): { uid: number; capEff: bigint; noNewPrivs: boolean } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    uid: Number(/^Uid:\s+(\d+)/m.exec(text)![1]),
    capEff: parseCapEff(text),
    noNewPrivs: /^NoNewPrivs:\s+1/m.test(text),
  };
}

let seed: SeedLab;
before(async () => {
  seed = await SeedLab.create();
});
after(async () => {
  await seed?.destroy();
});

test('the unit grants exactly the capabilities a node uses, and the bounding set matches', () => {
  const ambient = unitSetting('AmbientCapabilities');
  assert.deepEqual([...ambient].sort(), ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']);
  assert.deepEqual([...unitSetting('CapabilityBoundingSet')].sort(), [...ambient].sort());
});

test('two nodes run as nobody with the unit capabilities: lb1 serves the VIP, kill -9 moves it to lb2', async () => {
  const caps = unitSetting('AmbientCapabilities');
  const prefix = asTheUnitDoes(caps);
  const advertInt = '100ms';
  try {
    const lb2 = await seed.startLb('lb2', { priority: 100, advertInt }, prefix);
    const lb1 = await seed.startLb('lb1', { priority: 101, advertInt, state: 'MASTER' }, prefix);
    const expected = caps.reduce((a, c) => a | (1n << BigInt(CAPABILITY_BITS[c as CapabilityName])), 0n);
    for (const n of [lb1, lb2]) {
      const st = procStatus(n.child.pid!);
      assert.equal(st.uid, NOBODY, `${n.host} runs as nobody`);
      assert.equal(st.capEff, expected, `${n.host} holds exactly the unit's capabilities (CapEff ${st.capEff.toString(16)})`);
      assert.ok(st.noNewPrivs, `${n.host} has no_new_privs`);
    }
    await lb1.waitState('master', 2 * masterDownInterval(3, 101, 100) + 3000, 0);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3000, 'VIP on lb1 only');
    const client = seed.startClient({ durationMs: 15_000 });
    await client.servedBy('lb1', 10, 5000);
    const mark = lb2.events.length;
    const t0 = Date.now();
    await lb1.kill9();
    await lb2.waitState('master', 2 * masterDownInterval(3, 100, 100) + 2000, mark);
    await client.servedBy('lb2', 10, 5000);
    // lb1 died holding the VIP (kill -9 removes nothing); lb2, unprivileged too, added it.
    await eventually(async () => (await seed.vipHolders()).includes('lb2'), 3000, 'VIP added on lb2');
    const s = switchover(await client.stop(), 'lb1', 'lb2');
    assert.ok(s.firstTo !== undefined);
    console.log(`# unprivileged nodes, kill -9 of lb1 at advert 100ms: lb2 served ${s.firstTo - t0} ms later, ${s.failed} failed`);
    assert.ok(s.firstTo - t0 < 2000, 'lb2 serves within 2 s of the kill');
  } finally {
    await seed.reset();
  }
});

test('a node without CAP_NET_RAW is refused at start, naming the capability and the instance', async () => {
  const caps = unitSetting('AmbientCapabilities').filter((c) => c !== 'CAP_NET_RAW');
  try {
    await assert.rejects(
      seed.startLb('lb1', { priority: 101, advertInt: '1s' }, asTheUnitDoes(caps)),
      (err: Error) => {
        assert.match(err.message, /exited \(1\) before ready/);
        assert.match(err.message, /CAP_NET_RAW is missing: vrrp instance VI_1 sends and receives adverts on a raw IP socket/);
        return true;
      },
    );
    assert.deepEqual(await seed.vipHolders(), [], 'nothing was taken');
  } finally {
    await seed.reset();
  }
});
