// Hostile input: random, truncated and mutated buffers must never throw, and anything accepted
// must re-encode to exactly the bytes received (nothing silently dropped or normalised).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAdvert, encodeAdvert } from '../../../src/vrrp/packet.ts';
import type { DecodeContext } from '../../../src/vrrp/packet.ts';
import { decodeIpv4Advert } from '../../../src/vrrp/ipv4-header.ts';
import { internetChecksum, pseudoHeaderSum } from '../../../src/vrrp/checksum.ts';
import { parseIp } from '../../../src/vrrp/ip-address.ts';
import { randomInt, seededRandom } from './seeded-random.ts';
import { signAdvert, verifyTrailer, vrrpMessageLength } from '../../../src/vrrp/hmac-trailer.ts';

// The suite runs 100k seeded cases; `npm run fuzz:vrrp` runs 1M (HALB_FUZZ_CASES) with other seeds.
const ITERATIONS = Number(process.env.HALB_FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.HALB_FUZZ_SEED ?? 0xc0ffee);
const contexts: DecodeContext[] = [
  { src: '10.77.0.11', dst: '224.0.0.18', family: 4 },
  { src: '192.168.10.101', dst: '192.168.10.102', family: 4 },
  { src: 'fe80::1', dst: 'ff02::12', family: 6 },
];

function validSeed(random: () => number, ctx: DecodeContext): Buffer {
  const version = ctx.family === 6 || random() < 0.5 ? 3 : 2;
  const n = randomInt(random, 0, 4);
  const addresses = Array.from({ length: n }, () =>
    ctx.family === 4
      ? Array.from({ length: 4 }, () => randomInt(random, 0, 255)).join('.')
      : Array.from({ length: 8 }, () => randomInt(random, 0, 0xffff).toString(16)).join(':'),
  );
  return encodeAdvert(
    {
      version,
      vrid: randomInt(random, 1, 255),
      priority: randomInt(random, 0, 255),
      advertIntMs: version === 3 ? randomInt(random, 1, 4095) * 10 : randomInt(random, 1, 255) * 1000,
      addresses,
      authType: randomInt(random, 0, 1),
      authData: Buffer.from(Array.from({ length: 8 }, () => randomInt(random, 0, 255))),
      checksumForm: ctx.family === 4 && random() < 0.2 ? 'message-only' : 'pseudo-header',
    },
    ctx,
  );
}

function fixChecksum(b: Buffer, ctx: DecodeContext): void {
  if (b.length < 8) return;
  const v3 = b[0]! >> 4 === 3;
  const initial = v3 ? pseudoHeaderSum(parseIp(ctx.src, ctx.family)!, parseIp(ctx.dst, ctx.family)!, ctx.family, b.length) : 0;
  b.writeUInt16BE(internetChecksum(b, 6, initial), 6);
}

it(`${ITERATIONS} random/truncated/mutated buffers never throw; accepted ones round-trip`, () => {
  const random = seededRandom(SEED);
  const counts = { accepted: 0, rejected: 0 };
  const reasons = new Map<string, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const ctx = contexts[i % contexts.length]!;
    let buf: Buffer;
    const mode = i % 4;
    if (mode === 0) {
      buf = Buffer.from(Array.from({ length: randomInt(random, 0, 80) }, () => randomInt(random, 0, 255)));
    } else {
      buf = validSeed(random, ctx);
      if (mode === 1) buf = buf.subarray(0, randomInt(random, 0, buf.length));
      const flips = randomInt(random, mode === 3 ? 0 : 1, 3);
      for (let f = 0; f < flips && buf.length > 0; f++) buf[randomInt(random, 0, buf.length - 1)] = randomInt(random, 0, 255);
      // Half the mutants get a correct checksum so the checks after it are exercised too.
      if (mode >= 2 && random() < 0.5) fixChecksum(buf, ctx);
    }
    let res;
    try {
      res = decodeAdvert(buf, ctx);
    } catch (e) {
      assert.fail(`threw on ${buf.toString('hex')} (${ctx.family}): ${String(e)}`);
    }
    if (res.ok) {
      counts.accepted++;
      const again = encodeAdvert(res.advert, ctx);
      assert.equal(again.toString('hex'), buf.toString('hex'), `round-trip of ${buf.toString('hex')}`);
    } else {
      counts.rejected++;
      reasons.set(res.reason, (reasons.get(res.reason) ?? 0) + 1);
      assert.ok(res.field.length > 0 && res.detail.length > 0);
    }
  }
  // The generator must actually reach both outcomes and a spread of reasons, or it tests nothing.
  assert.ok(counts.accepted > ITERATIONS / 10, JSON.stringify(counts));
  assert.ok(counts.rejected > ITERATIONS / 10, JSON.stringify(counts));
  for (const r of ['too-short', 'bad-version', 'bad-type', 'bad-checksum', 'bad-length', 'address-count-mismatch']) {
    assert.ok((reasons.get(r) ?? 0) > 0, `never produced ${r}: ${JSON.stringify([...reasons])}`);
  }
});

it('random and mutated IPv4 packets never throw', () => {
  const random = seededRandom(7);
  const base = Buffer.from('45c0002800030000ff70d0380a4d000be00000122133650100016f190a4d00640000000000000000', 'hex');
  let ok = 0;
  for (let i = 0; i < 20_000; i++) {
    let buf: Buffer;
    if (i % 2 === 0) {
      buf = Buffer.from(Array.from({ length: randomInt(random, 0, 70) }, () => randomInt(random, 0, 255)));
    } else {
      buf = Buffer.from(base.subarray(0, randomInt(random, 0, base.length)));
      for (let f = randomInt(random, 0, 2); f > 0 && buf.length > 0; f--) buf[randomInt(random, 0, buf.length - 1)] = randomInt(random, 0, 255);
    }
    const res = decodeIpv4Advert(buf);
    if (res.ok) ok++;
  }
  assert.ok(ok > 0);
});

it(`${ITERATIONS} mutated HMAC-signed adverts never throw; only the untouched ones verify`, () => {
  const random = seededRandom(SEED ^ 0x5a5a);
  const key = { id: 3, secret: Buffer.from('fuzzing key, long enough for hmac') };
  const counts = { authentic: 0, refused: 0, decodedButRefused: 0 };
  const reasons = new Map<string, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const ctx = contexts[i % contexts.length]!;
    const signed = signAdvert(validSeed(random, ctx), key, { epoch: randomInt(random, 0, 0xffff), counter: randomInt(random, 0, 0xffff) }, ctx.src, ctx.family);
    const buf = Buffer.from(signed);
    const mode = i % 4;
    let cut = buf;
    if (mode === 1) cut = buf.subarray(0, randomInt(random, 0, buf.length));
    else if (mode === 2) cut = Buffer.concat([buf, Buffer.from(Array.from({ length: randomInt(random, 1, 8) }, () => randomInt(random, 0, 255)))]);
    for (let f = randomInt(random, mode === 3 ? 0 : 1, 3); f > 0 && cut.length > 0; f--) cut[randomInt(random, 0, cut.length - 1)] = randomInt(random, 0, 255);
    const changed = !cut.equals(signed);
    let verdict;
    try {
      const len = vrrpMessageLength(cut, ctx.family);
      if (len === undefined || len > cut.length) {
        counts.refused++;
        continue;
      }
      verdict = verifyTrailer(cut, len, ctx.src, ctx.family, key, undefined);
      if (!verdict.ok && decodeAdvert(cut.subarray(0, len), ctx).ok) counts.decodedButRefused++;
    } catch (e) {
      assert.fail(`threw on ${cut.toString('hex')} (${ctx.family}): ${String(e)}`);
    }
    if (verdict.ok) {
      counts.authentic++;
      assert.ok(!changed, `a changed packet verified: ${cut.toString('hex')}`);
    } else {
      counts.refused++;
      reasons.set(verdict.reason, (reasons.get(verdict.reason) ?? 0) + 1);
      assert.ok(changed, `an untouched packet was refused (${verdict.reason}): ${cut.toString('hex')}`);
    }
  }
  assert.ok(counts.authentic > ITERATIONS / 20, JSON.stringify(counts));
  assert.ok(counts.decodedButRefused > 0, 'mutants that pass the VRRP checks must be caught by the MAC');
  for (const r of ['auth-unsigned', 'auth-malformed', 'auth-unknown-key', 'auth-forged']) {
    assert.ok((reasons.get(r) ?? 0) > 0, `never produced ${r}: ${JSON.stringify([...reasons])}`);
  }
});
