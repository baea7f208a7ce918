import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildGarpFrame, GARP_FRAME_LENGTH } from '../../../src/vip/garp.ts';

interface GarpVector {
  frame_hex: string;
  decoded: { eth_src: string; sender_ip: string; target_ip: string; frame_len: number };
}
const vectors = JSON.parse(readFileSync(new URL('./keepalived-garp.vector.json', import.meta.url), 'utf8')) as { garp: GarpVector };

test('GARP frame equals keepalived 2.2.7 capture byte for byte', () => {
  const v = vectors.garp;
  const frame = buildGarpFrame(v.decoded.eth_src, v.decoded.sender_ip);
  assert.equal(frame.length, v.decoded.frame_len);
  assert.equal(frame.length, GARP_FRAME_LENGTH);
  assert.equal(frame.toString('hex'), v.frame_hex);
});

test('GARP frame accepts a MAC as bytes', () => {
  const frame = buildGarpFrame(Buffer.from('020000000001', 'hex'), '10.77.0.200');
  assert.equal(
    frame.toString('hex'),
    'ffffffffffff' + '020000000001' + '0806' + '0001' + '0800' + '06' + '04' + '0001' +
      '020000000001' + '0a4d00c8' + 'ffffffffffff' + '0a4d00c8',
  );
});

test('GARP frame rejects bad input with a clear error', () => {
  assert.throws(() => buildGarpFrame('02:00:00:00:00', '10.77.0.1'), /not a MAC address/);
  assert.throws(() => buildGarpFrame('zz:00:00:00:00:01', '10.77.0.1'), /not a MAC address/);
  assert.throws(() => buildGarpFrame('02:00:00:00:00:01', 'fd77::1'), /not IPv4/);
  assert.throws(() => buildGarpFrame('02:00:00:00:00:01', '10.77.0.300'), /not IPv4/);
  assert.throws(() => buildGarpFrame(Buffer.alloc(5), '10.77.0.1'), /6 bytes/);
});
