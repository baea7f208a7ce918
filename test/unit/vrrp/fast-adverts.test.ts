// 10 ms and 20 ms adverts (VRRPv3's finest steps: the wire carries centiseconds) through every
// layer that handles the interval: config validation, the codec, and the state machine's timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.ts';
import { formatConfigError } from '../../../src/config/errors.ts';
import { decodeAdvert, encodeAdvert } from '../../../src/vrrp/packet.ts';
import { createMachine, masterDownInterval, skewTime, step } from '../../../src/vrrp/state-machine.ts';
import type { MachineConfig, MachineState, StepResult } from '../../../src/vrrp/state-machine.ts';

function instanceWith(advertInt: string): ReturnType<typeof parseConfigText> {
  const yaml = ['vrrp:', '  instances:', '    VI:', '      interface: eth0', '      virtual_router_id: 5', `      advert_int: ${advertInt}`, '      virtual_ipaddress: [10.0.0.100]', ''];
  return parseConfigText(yaml.join('\n'), 'halb.yaml');
}

test('config: advert_int 10ms and 20ms are valid VRRPv3 intervals; 15ms and 5ms are refused with their place', () => {
  for (const [text, ms] of [['10ms', 10], ['20ms', 20], ['0.02s', 20]] as const) {
    const r = instanceWith(text);
    if (!r.ok) assert.fail(r.errors.map(formatConfigError).join('\n'));
    assert.equal(r.config.vrrp!.instances[0]!.advertInt, ms, text);
    assert.equal(r.config.vrrp!.instances[0]!.handoverBound, 3 * ms);
  }
  for (const text of ['15ms', '5ms']) {
    const r = instanceWith(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(formatConfigError(r.errors[0]!), /^halb\.yaml:6:19 vrrp\.instances\.VI\.advert_int: VRRPv3 advert_int must be a multiple of 10ms/);
  }
});

test('codec: 10 ms and 20 ms travel as 1 and 2 centiseconds and decode back to ms', () => {
  const ctx = { src: '10.0.0.1', dst: '224.0.0.18', family: 4 as const };
  for (const [ms, cs] of [[10, 1], [20, 2]] as const) {
    const wire = encodeAdvert({ version: 3, vrid: 5, priority: 100, advertIntMs: ms, addresses: ['10.0.0.100'] }, ctx);
    // Max Adver Int: the low 12 bits of bytes 4-5 (RFC 5798 §5.2.7).
    assert.equal(wire.readUInt16BE(4) & 0x0fff, cs);
    const back = decodeAdvert(wire, { ...ctx, ttl: 255 });
    assert.ok(back.ok);
    if (back.ok) {
      assert.equal(back.advert.advertIntMs, ms);
      assert.equal(back.advert.advertIntRaw, cs);
    }
  }
});

test('timers at 20 ms: Skew_Time and Master_Down_Interval keep their fractions (RFC 5798 §6.1)', () => {
  assert.equal(skewTime(3, 100, 20), (156 * 20) / 256); // 12.1875
  assert.equal(masterDownInterval(3, 100, 20), 60 + (156 * 20) / 256); // 72.1875
  assert.equal(masterDownInterval(3, 254, 20), 60 + (2 * 20) / 256);
  assert.equal(masterDownInterval(3, 1, 10), 30 + (255 * 10) / 256);
  // The backup with the higher priority always times out first, even 1 priority apart.
  assert.ok(masterDownInterval(3, 101, 20) < masterDownInterval(3, 100, 20));
});

const cfg = (over: Partial<MachineConfig> = {}): MachineConfig => ({
  version: 3,
  priority: 100,
  advertInt: 20,
  preempt: true,
  preemptDelay: 0,
  handoverBound: 60,
  primaryAddress: '10.0.0.2',
  ...over,
});

function run(s: MachineState, ev: Parameters<typeof step>[1], now: number): StepResult {
  return step(s, ev, now);
}

test('state machine at 20 ms: a master ticks every 20 ms; a backup follows a 20 ms master and takes over 72.19 ms after its last advert', () => {
  let m = run(createMachine(cfg({ priority: 101 })), { type: 'startup' }, 0).state;
  m = run(m, { type: 'timer', which: 'master-down' }, m.timers['master-down']!).state;
  assert.equal(m.name, 'master');
  let t = m.timers.adver!;
  for (let i = 0; i < 5; i++) {
    const r = run(m, { type: 'timer', which: 'adver' }, t);
    assert.deepEqual(r.actions.filter((a) => a.type === 'send-advert'), [{ type: 'send-advert', priority: 101 }]);
    assert.equal(r.state.timers.adver, t + 20);
    m = r.state;
    t = m.timers.adver!;
  }

  // A backup configured for 1 s learns the master's 20 ms (v3 Master_Adver_Interval).
  let b = run(createMachine(cfg({ advertInt: 1000 })), { type: 'startup' }, 0).state;
  b = run(b, { type: 'advert', from: '10.0.0.1', priority: 101, maxAdvertInt: 20 }, 5).state;
  assert.equal(b.masterAdverInterval, 20);
  assert.equal(b.timers['master-down'], 5 + 72.1875);
  b = run(b, { type: 'advert', from: '10.0.0.1', priority: 101, maxAdvertInt: 20 }, 25).state;
  assert.equal(b.timers['master-down'], 25 + 72.1875);
  const r = run(b, { type: 'timer', which: 'master-down' }, 25 + 72.1875);
  assert.equal(r.state.name, 'master');
  // Priority 0 from a leaving master: take over after Skew_Time (12.19 ms).
  const z = run(b, { type: 'advert', from: '10.0.0.1', priority: 0, maxAdvertInt: 20 }, 30).state;
  assert.equal(z.timers['master-down'], 30 + 12.1875);
});
