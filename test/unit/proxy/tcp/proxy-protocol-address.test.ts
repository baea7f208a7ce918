import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { formatIPv6, parseIPv4Text, parseIPv6Text } from '../../../../src/proxy/tcp/proxy-protocol-address.ts';

test('IPv4 text: strict dotted quad', () => {
  assert.deepEqual(parseIPv4Text('0.0.0.0'), new Uint8Array(4));
  assert.deepEqual(parseIPv4Text('255.1.10.100'), Uint8Array.from([255, 1, 10, 100]));
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '1.2.3.256', '01.2.3.4', '1..3.4', '1.2.3.4.', ' 1.2.3.4', '1.2.3.-4', '1.2.3.4x']) {
    assert.equal(parseIPv4Text(bad), undefined, bad);
  }
});

test('IPv6 text: RFC 5952 rendering agrees with the WHATWG URL serializer', () => {
  const samples = ['::', '::1', '1::', '2001:db8::1', '2001:db8:0:0:1:0:0:1', '2001:0db8:0000:0000:0000:ff00:0042:8329',
    'fe80::1:2', '1:2:3:4:5:6:7:8', '0:0:1:0:0:0:1:0', 'ABCD:EF01::', '1:0:0:2:0:0:0:3'];
  for (const s of samples) {
    const b = parseIPv6Text(s);
    assert.ok(b, s);
    assert.equal(formatIPv6(b), new URL(`http://[${s}]/`).hostname.slice(1, -1), s);
  }
});

test('IPv6 text: rejects what the spec does not allow', () => {
  for (const bad of [':', ':::', '1:::2', ':1::2', '1::2:', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8:9', 'fe80::1%eth0', '::1.2.3', '::1.2.3.4:5', '1.2.3.4']) {
    assert.equal(parseIPv6Text(bad), undefined, bad);
    // Zone ids are valid for node but mean nothing to the receiving host, so we refuse them.
    if (isIPv6(bad) && !bad.includes('%')) assert.fail(`test vector ${bad} is valid IPv6 for node`);
  }
  assert.ok(parseIPv6Text('::ffff:1.2.3.4'));
  assert.ok(parseIPv6Text('1:2:3:4:5:6:1.2.3.4'));
  assert.equal(parseIPv6Text('1:2:3:4:5:6:7:1.2.3.4'), undefined);
});
