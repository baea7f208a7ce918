import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKeys, encodeKeys, rotateKeys, ticketKeyName } from '../../../../src/proxy/tls/ticket-keys.ts';

const k = (n: number): Buffer => Buffer.alloc(48, n);

test('ticket keys: a rotation keeps exactly the previous key; the name is the first 16 bytes', () => {
  const one = rotateKeys(undefined, k(1));
  assert.deepEqual(one, { current: k(1), previous: undefined });
  const two = rotateKeys(one, k(2));
  assert.deepEqual(two, { current: k(2), previous: k(1) });
  assert.deepEqual(rotateKeys(two, k(3)), { current: k(3), previous: k(2) });
  assert.equal(ticketKeyName(k(1)), '01'.repeat(16));
  assert.throws(() => rotateKeys(two, Buffer.alloc(32)), /48 bytes, got 32/);
});

test('ticket keys: the IPC form round-trips', () => {
  assert.deepEqual(decodeKeys(encodeKeys({ current: k(5), previous: k(4) })), { current: k(5), previous: k(4) });
  assert.deepEqual(decodeKeys(encodeKeys({ current: k(5), previous: undefined })), { current: k(5), previous: undefined });
});
