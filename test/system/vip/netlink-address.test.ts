// VIPs added through netlink (rawsock addAddress, the default of LinuxAddresses) inside a
// namespace this run made: the kernel ends up with the same address, prefix and flags `ip addr
// add` gives, a second add reports 'present', and a missing device fails naming the command.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../helpers/netns.ts';
import { LinuxAddresses } from '../../../src/vip/linux-address.ts';

const MODULE = new URL('../../../src/vip/linux-address.ts', import.meta.url).href;

let lab: Lab;

before(async () => {
  lab = await Lab.create();
  await lab.host('a', { addresses: ['10.77.0.11/24', 'fd77::11/64'] });
});

after(async () => {
  await lab?.destroy();
});

/** Runs adds inside namespace a (netlink works in the calling process's namespace). */
async function addInA(vips: object[], device = 'eth0'): Promise<string[]> {
  const code = `
    import { LinuxAddresses } from ${JSON.stringify(MODULE)};
    const t = new LinuxAddresses();
    const out = [];
    for (const v of ${JSON.stringify(vips)}) {
      try { out.push(await t.add(v, ${JSON.stringify(device)})); } catch (e) { out.push('error: ' + e.message); }
    }
    console.log(JSON.stringify(out));`;
  const r = await lab.exec('a', process.execPath, ['--input-type=module', '-e', code]);
  return JSON.parse(r.stdout) as string[];
}

test('netlink add: IPv4 and IPv6 (nodad) land as iproute2 would add them; repeated adds are present', async () => {
  const v4 = { address: '10.77.0.100', family: 4, prefix: 24 };
  const v6 = { address: 'fd77::100', family: 6, prefix: 64 };
  assert.deepEqual(await addInA([v4, v6, v4, v6]), ['added', 'added', 'present', 'present']);
  const seen = await new LinuxAddresses({ netns: lab.netns('a') }).list('eth0');
  const a4 = seen.find((x) => x.address === '10.77.0.100');
  const a6 = seen.find((x) => x.address === 'fd77::100');
  assert.equal(a4?.prefix, 24);
  assert.ok(a4?.flags.includes('secondary'), `second address in 10.77.0.0/24 is secondary: ${JSON.stringify(a4)}`);
  assert.equal(a6?.prefix, 64);
  assert.ok(a6?.flags.includes('nodad'), `IPv6 VIP without DAD: ${JSON.stringify(a6)}`);
  // Removal still goes through iproute2 and finds what netlink added.
  const viaIp = new LinuxAddresses({ netns: lab.netns('a') });
  assert.equal(await viaIp.remove({ address: '10.77.0.100', family: 4, prefix: 24 }, 'eth0'), 'removed');
  assert.equal(await viaIp.remove({ address: 'fd77::100', family: 6, prefix: 64 }, 'eth0'), 'removed');
});

test('netlink add on a device that does not exist fails with the command and the errno', async () => {
  const [r] = await addInA([{ address: '10.77.0.100', family: 4, prefix: 24 }], 'nosuch0');
  assert.match(r!, /^error: ip addr add 10\.77\.0\.100\/24 dev nosuch0 label nosuch0:halb: netlink: .*(ENODEV|No such device)/);
});
