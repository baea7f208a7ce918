import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNeighbourAdvert, NEIGHBOUR_ADVERT_LENGTH } from '../../../src/vip/neighbour-advert.ts';

test('unsolicited NA: type 136, Override, target, target link-layer option', () => {
  const m = buildNeighbourAdvert('fd77::100', '02:00:00:00:00:01');
  assert.equal(m.length, NEIGHBOUR_ADVERT_LENGTH);
  assert.equal(
    m.toString('hex'),
    '88' + '00' + '0000' + // type 136, code 0, checksum left to the kernel
      '20000000' + // O flag only
      'fd770000000000000000000000000100' +
      '02' + '01' + '020000000001', // option 2, length 1 (8 bytes), MAC
  );
});

test('NA sets the Router flag on request', () => {
  const m = buildNeighbourAdvert('fd77::100', '02:00:00:00:00:01', { router: true });
  assert.equal(m[4], 0xa0);
});

test('NA target parsing covers the textual forms of IPv6', () => {
  const target = (t: string) => buildNeighbourAdvert(t, '02:00:00:00:00:01').subarray(8, 24).toString('hex');
  assert.equal(target('fd77:0:0:0:0:0:0:1'), 'fd770000000000000000000000000001');
  assert.equal(target('fd77::'), 'fd770000000000000000000000000000');
  assert.equal(target('::1'), '00000000000000000000000000000001');
  assert.equal(target('fe80::a:b:c:d'), 'fe80000000000000000a000b000c000d');
  assert.equal(target('FD77:1:2:3:4:5:6:7'), 'fd770001000200030004000500060007');
  assert.equal(target('::ffff:10.77.0.1'), '00000000000000000000ffff0a4d0001');
  assert.equal(target('64:ff9b::10.77.0.1'), '0064ff9b0000000000000000' + '0a4d0001');
});

test('NA rejects bad input', () => {
  assert.throws(() => buildNeighbourAdvert('10.77.0.1', '02:00:00:00:00:01'), /not IPv6/);
  assert.throws(() => buildNeighbourAdvert('fd77::1', '02:00:00:00:00'), /not a MAC address/);
});
