import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSourceAddress, interfaceInfo, isLinkLocal6, macBytes } from '../../../src/host/interface-info.ts';

const info = {
  name: 'eth0',
  index: 2,
  mac: '02:00:00:00:00:01',
  up: true,
  running: true,
  ipv4: ['10.77.0.11', '10.77.0.100'],
  ipv6: ['fd77::11', 'fe80::1'],
};

test('default VRRP source: primary IPv4, link-local IPv6', () => {
  assert.equal(defaultSourceAddress(info, 4), '10.77.0.11');
  assert.equal(defaultSourceAddress(info, 6), 'fe80::1');
  assert.equal(defaultSourceAddress({ ...info, ipv4: [], ipv6: ['fd77::11'] }, 4), undefined);
  assert.equal(defaultSourceAddress({ ...info, ipv4: [], ipv6: ['fd77::11'] }, 6), undefined);
});

test('link-local detection', () => {
  assert.ok(isLinkLocal6('fe80::1'));
  assert.ok(isLinkLocal6('FEBF::1'));
  assert.ok(!isLinkLocal6('fec0::1'));
  assert.ok(!isLinkLocal6('fd77::1'));
});

test('macBytes', () => {
  assert.equal(macBytes('8e:6b:60:5b:E3:b9').toString('hex'), '8e6b605be3b9');
  assert.throws(() => macBytes('8e-6b-60-5b-e3-b9'), /not a MAC/);
});

test('interfaceInfo reads loopback and names a missing interface', () => {
  const lo = interfaceInfo('lo');
  assert.equal(lo.index > 0, true);
  assert.equal(lo.up, true);
  assert.throws(() => interfaceInfo('halb-nonexist'), (err: NodeJS.ErrnoException) => err.code === 'ENODEV' && /"halb-nonexist" not found/.test(err.message));
});
