// LinuxAddresses against a fake `ip` that records its arguments and answers like iproute2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinuxAddresses, IpCommandError } from '../../../src/vip/linux-address.ts';

let dir = '';
let fakeIp = '';
let log = '';

const JSON_ADDR = JSON.stringify([
  {
    ifindex: 2,
    ifname: 'eth0',
    addr_info: [
      { family: 'inet', local: '10.77.0.11', prefixlen: 24, label: 'eth0' },
      { family: 'inet', local: '10.77.0.100', prefixlen: 24, secondary: true, label: 'eth0' },
      { family: 'inet6', local: 'fd77:0::100', prefixlen: 64, nodad: true },
      { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
    ],
  },
]);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'halb-fake-ip-'));
  fakeIp = join(dir, 'ip');
  log = join(dir, 'log');
  // Exists: 10.77.0.100 and fd77::100 and route 10.77.9.0/24; everything else is absent.
  writeFileSync(
    fakeIp,
    `#!/bin/sh
echo "$*" >> ${log}
case "$*" in
  *"-j addr show"*) cat ${join(dir, 'addr.json')} ;;
  *"addr add 10.77.0.100/"*) echo "RTNETLINK answers: File exists" >&2; exit 2 ;;
  *"addr add fd77::100/"*) echo "Error: ipv6: address already assigned." >&2; exit 2 ;;
  *"addr del 10.77.0.100/"*|*"addr del fd77::100/"*) exit 0 ;;
  *"addr del 10.77.0.201/"*) echo "Error: ipv4: Address not found." >&2; exit 2 ;;
  *"addr del"*) echo "RTNETLINK answers: Cannot assign requested address" >&2; exit 2 ;;
  *"route add 10.77.9.0/24"*) echo "RTNETLINK answers: File exists" >&2; exit 2 ;;
  *"route del 10.77.8.0/24"*) echo "RTNETLINK answers: No such process" >&2; exit 2 ;;
  *"broken"*) echo "Error: something else" >&2; exit 1 ;;
esac
exit 0
`,
  );
  chmodSync(fakeIp, 0o755);
  writeFileSync(join(dir, 'addr.json'), JSON_ADDR);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function calls(): string[] {
  const text = readFileSync(log, 'utf8');
  writeFileSync(log, '');
  return text.trim().split('\n').filter(Boolean);
}

test('list flattens ip -j addr and canonicalises IPv6', async () => {
  writeFileSync(log, '');
  const a = new LinuxAddresses({ ipPath: fakeIp });
  const list = await a.list('eth0');
  assert.deepEqual(calls(), ['-j addr show dev eth0']);
  assert.deepEqual(list[1], { device: 'eth0', address: '10.77.0.100', prefix: 24, family: 4, flags: ['secondary'], label: 'eth0' });
  assert.equal(list[2]?.address, 'fd77::100');
  assert.deepEqual(list[2]?.flags, ['nodad']);
});

test('add is idempotent and adds IPv6 without DAD', async () => {
  writeFileSync(log, '');
  const a = new LinuxAddresses({ ipPath: fakeIp, netns: 'nsx' });
  assert.equal(await a.add({ address: '10.77.0.200', family: 4, prefix: 24 }, 'eth0'), 'added');
  assert.equal(await a.add({ address: '10.77.0.100', family: 4, prefix: 24, device: 'eth1' }, 'eth0'), 'present');
  assert.equal(await a.add({ address: 'fd77::200', family: 6, prefix: 64 }, 'eth0'), 'added');
  assert.deepEqual(calls(), [
    '-n nsx addr add 10.77.0.200/24 dev eth0 label eth0:halb',
    '-n nsx addr add 10.77.0.100/24 dev eth1 label eth1:halb',
    '-n nsx addr add fd77::200/64 dev eth0 nodad',
  ]);
});

test('remove is idempotent; other failures throw IpCommandError', async () => {
  const a = new LinuxAddresses({ ipPath: fakeIp });
  assert.equal(await a.remove({ address: '10.77.0.100', family: 4, prefix: 24 }, 'eth0'), 'removed');
  assert.equal(await a.remove({ address: '10.77.0.201', family: 4, prefix: 24 }, 'eth0'), 'absent');
  assert.equal(await a.remove({ address: '10.77.0.202', family: 4, prefix: 24 }, 'eth0'), 'absent');
  assert.equal(await a.add({ address: 'fd77::100', family: 6, prefix: 64 }, 'eth0'), 'present');
  await assert.rejects(a.add({ address: '10.77.0.1', family: 4, prefix: 24 }, 'broken'), (err: unknown) => err instanceof IpCommandError && /something else/.test(err.message));
});

test('removeStale leaves what halb did not add: another prefix, no halb label, no nodad', async () => {
  writeFileSync(log, '');
  const a = new LinuxAddresses({ ipPath: fakeIp });
  const removed = await a.removeStale(
    [
      { address: '10.77.0.100', family: 4, prefix: 32 },
      { address: '10.77.0.100', family: 4, prefix: 24 },
      { address: 'fd77::100', family: 6, prefix: 128 },
      { address: '10.77.0.250', family: 4, prefix: 32 },
    ],
    'eth0',
  );
  assert.deepEqual(removed, []);
  assert.deepEqual(calls(), ['-j addr show dev eth0']);
});

test('routes: add/del idempotent, family from the addresses', async () => {
  writeFileSync(log, '');
  const a = new LinuxAddresses({ ipPath: fakeIp });
  assert.equal(await a.addRoute({ to: '10.77.9.0/24', via: '10.77.0.1' }), 'present');
  assert.equal(await a.addRoute({ to: 'fd77:9::/64' }, 'eth0'), 'added');
  assert.equal(await a.removeRoute({ to: '10.77.8.0/24', device: 'eth0' }), 'absent');
  assert.deepEqual(calls(), ['-4 route add 10.77.9.0/24 via 10.77.0.1', '-6 route add fd77:9::/64 dev eth0', '-4 route del 10.77.8.0/24 dev eth0']);
});
