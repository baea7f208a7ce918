// Issue 15.6: halb removes only exact copies of what it added. A VIP equal to an address the host
// already has (127.0.0.1 on lo, a primary address with another prefix, an IPv6 address) is
// reported as foreign and survives the stale-VIP cleanup; halb's own labelled copies go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { LinuxAddresses } from '../../../src/vip/linux-address.ts';
import type { VirtualAddress } from '../../../src/config/types.ts';

const root = process.getuid?.() === 0;
const ns = `hs${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

function ip(...args: string[]): string {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
}
function vip(address: string, prefix: number, device: string): VirtualAddress {
  return { address, prefix, device, family: address.includes(':') ? 6 : 4 } as VirtualAddress;
}

test('the stale-VIP cleanup leaves the host addresses and removes only halb-labelled copies', { skip: !root && 'needs root (network namespace)' }, async () => {
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'); // no dummy module on every kernel
    ip('link', 'set', 'd0', 'up');
    ip('link', 'set', 'd1', 'up');
    ip('addr', 'add', '10.9.0.1/24', 'dev', 'd0');
    ip('addr', 'add', '2001:db8:9::1/64', 'dev', 'd0', 'nodad');
    const table = new LinuxAddresses({ netns: ns });
    const hostOnes = [vip('127.0.0.1', 32, 'lo'), vip('10.9.0.1', 32, 'd0'), vip('10.9.0.1', 24, 'd0')];
    // A copy halb added in an earlier run (the labelled one) next to them.
    const ours = vip('10.9.0.50', 32, 'd0');
    assert.equal(await table.add(ours, 'd0'), 'added');
    assert.match(ip('-4', 'addr', 'show', 'dev', 'd0'), /10\.9\.0\.50\/32 .*d0:halb/);
    const removed = await table.removeStale([...hostOnes, ours, vip('2001:db8:9::1', 128, 'd0')], 'd0');
    assert.deepEqual(removed.map((v) => v.address), ['10.9.0.50']);
    const lo = ip('addr', 'show', 'dev', 'lo');
    const d0 = ip('addr', 'show', 'dev', 'd0');
    assert.match(lo, /127\.0\.0\.1\/8/, 'the host loopback address survives');
    assert.match(d0, /10\.9\.0\.1\/24/);
    assert.match(d0, /2001:db8:9::1\/64/);
    assert.doesNotMatch(d0, /10\.9\.0\.50/);
    const foreign = await table.foreignCopies([vip('127.0.0.1', 32, 'lo'), vip('10.9.0.1', 32, 'd0'), ours], 'd0');
    assert.deepEqual(foreign.map((f) => `${f.vip.address} on ${f.held.device} as ${f.held.address}/${f.held.prefix}`), [
      '127.0.0.1 on lo as 127.0.0.1/8',
      '10.9.0.1 on d0 as 10.9.0.1/24',
    ]);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});
