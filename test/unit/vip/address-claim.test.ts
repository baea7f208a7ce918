// The address claim on its own, driven as an election other than VRRP would drive it: no
// router, no adverts, only claim / yieldTo / release / fault / stop. A fake address table
// and announcer; notify hooks are a real script appending its arguments to a file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressClaim } from '../../../src/vip/address-claim.ts';
import type { AddressTable } from '../../../src/vip/virtual-addresses.ts';
import type { VirtualAddress } from '../../../src/config/types.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { FakeClock, instanceConfig } from '../vrrp-router/fake-world.ts';

function setup(notify: { any?: string } = {}) {
  const clock = new FakeClock();
  const held = new Set<string>();
  const log: string[] = [];
  const table: AddressTable = {
    add: async (v: VirtualAddress) => (log.push(`add ${v.address}`), held.has(v.address) ? 'present' : (held.add(v.address), 'added')),
    remove: async (v: VirtualAddress) => (log.push(`remove ${v.address}`), held.delete(v.address) ? 'removed' : 'absent'),
    has: async (v: VirtualAddress) => held.has(v.address),
    removeStale: async (vips: readonly VirtualAddress[]) => (log.push('removeStale'), vips.filter((v) => held.delete(v.address))),
    addRoute: async () => 'added',
    removeRoute: async () => 'absent',
  };
  const announced: string[] = [];
  const claim = new AddressClaim({
    config: instanceConfig({ notify: { timeout: 5000, ...notify } }),
    log: silentLogger(),
    timers: clock,
    addressTable: table,
    announce: async (vip, _iface, opts) => (announced.push(`${vip.address} x${opts.repeat}`), opts.repeat),
    handoff: {
      begin: async (peer: string, windowMs: number) => (log.push(`handoff begin ${peer} ${windowMs}`), true),
      arm: async (peer: string) => (log.push(`handoff arm ${peer}`), true),
      include: async (peer: string, windowMs: number) => (log.push(`handoff include ${peer} ${windowMs}`), true),
      end: async () => void log.push('handoff end'),
      removeStale: async () => void log.push('handoff removeStale'),
    },
  });
  return { clock, held, log, announced, claim };
}

test('claim from a live holder: hand-off first, then the VIP; announce after; yieldTo lingers the release delay', async () => {
  const { clock, held, log, announced, claim } = setup();
  await claim.start();
  assert.deepEqual(log, ['removeStale', 'handoff removeStale']);
  claim.claim({ from: '10.0.0.2', priority: 100 });
  claim.announce();
  await claim.settled();
  assert.deepEqual(log.slice(2), ['handoff begin 10.0.0.2 800', 'add 10.0.0.100']);
  assert.deepEqual(announced, ['10.0.0.100 x5']);
  assert.equal(claim.status().holdingAddresses, true);

  claim.yieldTo('10.0.0.3', 100);
  await claim.settled();
  assert.ok(log.includes('handoff end'));
  assert.equal(held.size, 1, 'lingers so clients move first');
  clock.advance(999);
  await claim.settled();
  assert.equal(held.size, 1);
  clock.advance(1);
  await claim.lingerDone();
  await claim.settled();
  assert.equal(held.size, 0);
  assert.equal(claim.status().holdingAddresses, false);
  await claim.close();
});

test('a backup arms the hand-off for the master it follows, never while its addresses linger; a takeover from a silent master ends it after the VIP is in', async () => {
  const { clock, log, claim } = setup();
  await claim.start();
  claim.follow('10.0.0.2');
  await claim.settled();
  assert.deepEqual(log.slice(2), ['handoff arm 10.0.0.2']);
  // The master we followed stepped down (priority 0): the takeover uses the armed rule.
  claim.claim({ from: '10.0.0.2', priority: 100 });
  claim.announce();
  await claim.settled();
  assert.deepEqual(log.slice(3), ['handoff begin 10.0.0.2 800', 'add 10.0.0.100']);
  // Yield to a new master: armed only once the lingering VIP is gone.
  log.length = 0;
  claim.yieldTo('10.0.0.3', 100);
  claim.follow('10.0.0.3');
  await claim.settled();
  assert.ok(!log.includes('handoff arm 10.0.0.3'), `not armed while lingering: ${log.join(', ')}`);
  clock.advance(1000);
  await claim.settled();
  assert.deepEqual(log.slice(-2), ['remove 10.0.0.100', 'handoff arm 10.0.0.3']);
  // That master goes silent (Master_Down_Interval): the VIP first, then the armed rule goes.
  log.length = 0;
  claim.claim({ priority: 100 });
  await claim.settled();
  assert.deepEqual(log, ['add 10.0.0.100', 'handoff end']);
  await claim.close();
});

test('armed for the master that stepped down, taking over from the backup that beat us to it: the armed rule first, the VIP, then that backup added', async () => {
  const { log, claim } = setup();
  await claim.start();
  claim.follow('10.0.0.2');
  await claim.settled();
  claim.claim({ from: '10.0.0.3', priority: 100 });
  await claim.settled();
  assert.deepEqual(log.slice(3), ['handoff begin 10.0.0.2 800', 'add 10.0.0.100', 'handoff include 10.0.0.3 800']);
  await claim.close();
});

test('another holder heard while master: its connections are handed on to it too, and the VIP is announced once more after its announcements', async () => {
  const { clock, log, announced, claim } = setup();
  await claim.start();
  claim.claim({ from: '10.0.0.2', priority: 100 });
  claim.announce();
  await claim.settled();
  claim.reassert('10.0.0.3');
  claim.reassert('10.0.0.3');
  await claim.settled();
  assert.deepEqual(log.slice(-2), ['handoff include 10.0.0.3 800', 'handoff include 10.0.0.3 800']);
  assert.equal(announced.length, 1);
  clock.advance(249);
  await claim.settled();
  assert.equal(announced.length, 1);
  clock.advance(1);
  await claim.settled();
  assert.deepEqual(announced, ['10.0.0.100 x5', '10.0.0.100 x5'], 'one more announce, however many adverts were heard');
  // Not master: nothing to hand on, nothing to announce.
  claim.release(100);
  await claim.settled();
  log.length = 0;
  claim.reassert('10.0.0.3');
  clock.advance(300);
  await claim.settled();
  assert.ok(!log.some((l) => l.startsWith('handoff include')), log.join(', '));
  assert.equal(announced.length, 2);
  await claim.close();
});

test('claimed again during the linger keeps the VIP; release and fault remove it at once; close ends a linger', async () => {
  const { clock, held, claim } = setup();
  await claim.start();
  claim.claim({ priority: 100 });
  await claim.settled();
  claim.yieldTo('10.0.0.3', 100);
  claim.claim({ priority: 100 });
  clock.advance(5000);
  await claim.settled();
  assert.equal(held.size, 1, 'the linger was cancelled, not completed');

  claim.release(100);
  await claim.settled();
  assert.equal(held.size, 0, 'no holder heard: released without a linger');

  claim.claim({ priority: 100 });
  await claim.settled();
  claim.fault(0);
  await claim.settled();
  assert.equal(held.size, 0);

  claim.claim({ priority: 100 });
  await claim.settled();
  claim.yieldTo('10.0.0.3', 100);
  await claim.close();
  assert.equal(held.size, 0, 'close releases a lingering VIP now');
});

test('an announce queued behind a claim that was left before the VIP was in sends nothing', async () => {
  const { claim, announced } = setup();
  await claim.start();
  claim.claim({ from: '10.0.0.2', priority: 100 });
  claim.announce();
  claim.yieldTo('10.0.0.3', 100);
  await claim.settled();
  assert.deepEqual(announced, []);
  await claim.close();
});

test('notify hooks run in order, with keepalived arguments, for claim / yield / fault / stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halb-claim-'));
  try {
    const out = join(dir, 'out');
    const script = join(dir, 'notify.sh');
    writeFileSync(script, `#!/bin/sh\necho "$*" >> ${out}\n`);
    chmodSync(script, 0o755);
    const { claim } = setup({ any: script });
    await claim.start();
    claim.claim({ priority: 150 });
    claim.yieldTo('10.0.0.3', 150);
    claim.fault(0);
    claim.stop(0);
    await claim.close();
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), ['INSTANCE VI_1 MASTER 150', 'INSTANCE VI_1 BACKUP 150', 'INSTANCE VI_1 FAULT 0', 'INSTANCE VI_1 STOP 0']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
