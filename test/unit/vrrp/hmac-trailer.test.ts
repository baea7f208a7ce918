// The HMAC trailer codec and its verification (docs/vrrp-hmac.md): a fixed vector others can
// implement against, and every way a trailer is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { encodeAdvert } from '../../../src/vrrp/packet.ts';
import { HMAC_TRAILER_LEN, isNewer, nextSequence, signAdvert, verifyTrailer, vrrpMessageLength } from '../../../src/vrrp/hmac-trailer.ts';

const key = { id: 1, secret: Buffer.from('0123456789abcdef0123456789abcdef') };
const ctx4 = { src: '10.0.0.2', dst: '224.0.0.18', family: 4 as const };
const v3 = encodeAdvert({ version: 3, vrid: 51, priority: 150, advertIntMs: 1000, addresses: ['10.0.0.100'] }, ctx4);

test('wire vector: v3 IPv4 advert + trailer, MAC = HMAC-SHA256(key, src | message | trailer[0..12])[0..16]', () => {
  const signed = signAdvert(v3, key, { epoch: 0x65000000, counter: 7 }, ctx4.src, 4);
  assert.equal(signed.length, v3.length + HMAC_TRAILER_LEN);
  assert.ok(signed.subarray(0, v3.length).equals(v3), 'the VRRP message is unchanged, checksum included');
  const t = signed.subarray(v3.length);
  assert.equal(t.subarray(0, 12).toString('hex'), '4856' + '01' + '01' + '65000000' + '00000007');
  const want = createHmac('sha256', key.secret).update(Buffer.from([10, 0, 0, 2])).update(v3).update(t.subarray(0, 12)).digest();
  assert.equal(t.subarray(12).toString('hex'), want.subarray(0, 16).toString('hex'));
  // A fixed vector for other implementations (docs/vrrp-hmac.md repeats it).
  assert.equal(signed.toString('hex'), '3133960100644372' + '0a000064' + '4856010165000000' + '00000007' + '3e2dbff8687ff4e6efa0c84c840a0326');
});

test('verify: authentic, then every refusal with its reason', () => {
  const seq = { epoch: 1000, counter: 5 };
  const signed = signAdvert(v3, key, seq, ctx4.src, 4);
  const len = vrrpMessageLength(signed, 4)!;
  assert.equal(len, v3.length);
  assert.deepEqual(verifyTrailer(signed, len, ctx4.src, 4, key, undefined), { ok: true, sequence: seq });
  const reason = (buf: Buffer, opts: { src?: string; k?: typeof key; last?: { epoch: number; counter: number } } = {}) => {
    const v = verifyTrailer(buf, len, opts.src ?? ctx4.src, 4, opts.k ?? key, opts.last);
    return v.ok ? 'ok' : v.reason;
  };
  assert.equal(reason(v3), 'auth-unsigned');
  assert.equal(reason(signed.subarray(0, signed.length - 1)), 'auth-malformed');
  assert.equal(reason(Buffer.concat([signed, Buffer.alloc(1)])), 'auth-malformed');
  const badMagic = Buffer.from(signed);
  badMagic[len] = 0;
  assert.equal(reason(badMagic), 'auth-malformed');
  const badFormat = Buffer.from(signed);
  badFormat[len + 2] = 2;
  assert.equal(reason(badFormat), 'auth-malformed');
  assert.equal(reason(signed, { k: { id: 2, secret: key.secret } }), 'auth-unknown-key');
  assert.equal(reason(signed, { k: { id: 1, secret: Buffer.from('another key, 16 bytes at least') } }), 'auth-forged');
  assert.equal(reason(signed, { src: '10.0.0.3' }), 'auth-forged', 'the MAC binds the sender address');
  for (const at of [2, len + 5, len + 9, signed.length - 1]) {
    const flipped = Buffer.from(signed);
    flipped[at]! ^= 0x01;
    assert.equal(reason(flipped), 'auth-forged', `bit flipped at byte ${at}`);
  }
  assert.equal(reason(signed, { last: seq }), 'auth-replayed', 'the same sequence twice');
  assert.equal(reason(signed, { last: { epoch: 1000, counter: 9 } }), 'auth-replayed');
  assert.equal(reason(signed, { last: { epoch: 1001, counter: 0 } }), 'auth-replayed', 'from before the sender restarted');
  assert.equal(reason(signed, { last: { epoch: 999, counter: 99 } }), 'ok', 'a newer epoch (restarted sender) resets the counter');
});

test('IPv6 and v2: the trailer follows the whole message (v2 includes its 8 auth bytes)', () => {
  const ctx6 = { src: 'fe80::2', dst: 'ff02::12', family: 6 as const };
  const m6 = encodeAdvert({ version: 3, vrid: 9, priority: 100, advertIntMs: 100, addresses: ['2001:db8::1', '2001:db8::2'] }, ctx6);
  const s6 = signAdvert(m6, key, { epoch: 1, counter: 0 }, ctx6.src, 6);
  assert.equal(vrrpMessageLength(s6, 6), 8 + 32);
  assert.equal(verifyTrailer(s6, 40, ctx6.src, 6, key, undefined).ok, true);
  const m2 = encodeAdvert({ version: 2, vrid: 9, priority: 100, advertIntMs: 1000, addresses: ['10.0.0.1'] }, ctx4);
  const s2 = signAdvert(m2, key, { epoch: 1, counter: 0 }, ctx4.src, 4);
  assert.equal(vrrpMessageLength(s2, 4), 8 + 4 + 8);
  assert.equal(verifyTrailer(s2, 20, ctx4.src, 4, key, undefined).ok, true);
  assert.equal(vrrpMessageLength(Buffer.alloc(7), 4), undefined);
  assert.equal(vrrpMessageLength(Buffer.from([0x11, 1, 1, 0, 0, 1, 0, 0]), 4), undefined);
});

test('sequence: ordered by epoch then counter; a full counter moves to the next epoch', () => {
  assert.equal(isNewer({ epoch: 5, counter: 0 }, undefined), true);
  assert.equal(isNewer({ epoch: 5, counter: 1 }, { epoch: 5, counter: 0 }), true);
  assert.equal(isNewer({ epoch: 5, counter: 0 }, { epoch: 5, counter: 0 }), false);
  assert.equal(isNewer({ epoch: 4, counter: 100 }, { epoch: 5, counter: 0 }), false);
  assert.deepEqual(nextSequence({ epoch: 5, counter: 0xffffffff }), { epoch: 6, counter: 0 });
  assert.deepEqual(nextSequence({ epoch: 5, counter: 1 }), { epoch: 5, counter: 2 });
  assert.throws(() => signAdvert(v3, { id: 256, secret: key.secret }, { epoch: 0, counter: 0 }, ctx4.src, 4), RangeError);
  assert.throws(() => signAdvert(v3, key, { epoch: -1, counter: 0 }, ctx4.src, 4), RangeError);
});
