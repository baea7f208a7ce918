import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameLength, handoverKey, openHandover, ReplayGuard, sealHandover, MAX_SKEW_MS, type HandoverHeader } from '../../../src/acme/handover-message.ts';

const key = handoverKey(Buffer.from('0123456789abcdef0123456789abcdef'));
const other = handoverKey(Buffer.from('fedcba9876543210fedcba9876543210'));
const T = 1_800_000_000_000;
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n';
const h = (seq: number, o: Partial<HandoverHeader> = {}): HandoverHeader => ({ node: 'lb1', boot: 'b1', seq, ts: T, frontend: 'site', ...o });

test('sealed and opened: header and certificate come through; the key is not readable on the wire', () => {
  const frame = sealHandover(key, h(1), PEM);
  assert.equal(frameLength(frame), frame.length);
  assert.equal(frameLength(frame.subarray(0, 10)), undefined);
  assert.equal(frame.includes(Buffer.from('secret')), false);
  assert.equal(frame.includes(Buffer.from('PRIVATE KEY')), false);
  const r = openHandover(key, frame, new ReplayGuard(), T + 1000);
  assert.deepEqual(r, { ok: true, header: h(1), pem: PEM });
});

test('any changed byte, in the header, the body or the tag, is refused as bad-tag', () => {
  const frame = sealHandover(key, h(1), PEM);
  // past the magic, version and lengths: those are refused as malformed instead
  for (let i = 7; i < frame.length; i++) {
    const t = Buffer.from(frame);
    t[i] = (t[i] as number) ^ 0x01;
    const r = openHandover(key, t, new ReplayGuard(), T);
    assert.equal(r.ok, false, `byte ${i}`);
    if (!r.ok) assert.ok(r.reason === 'bad-tag' || r.reason === 'malformed', `byte ${i}: ${r.reason}`);
  }
  const wrongKey = openHandover(other, frame, new ReplayGuard(), T);
  assert.equal(wrongKey.ok === false && wrongKey.reason, 'bad-tag');
});

test('malformed frames: magic, version, lengths', () => {
  const frame = sealHandover(key, h(1), PEM);
  const g = new ReplayGuard();
  const bad = (b: Buffer) => {
    const r = openHandover(key, b, g, T);
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(bad(Buffer.from('GET / HTTP/1.1\r\n\r\n')), 'malformed');
  const v = Buffer.from(frame);
  v[4] = 2;
  assert.equal(bad(v), 'malformed');
  assert.equal(bad(frame.subarray(0, frame.length - 1)), 'malformed');
  assert.equal(bad(Buffer.concat([frame, Buffer.from([0])])), 'malformed');
});

test('replays: the same sequence again, an older one, a stale timestamp, an earlier boot', () => {
  const g = new ReplayGuard();
  const open = (hd: HandoverHeader, now = T) => {
    const r = openHandover(key, sealHandover(key, hd, PEM), g, now);
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(open(h(5)), 'ok');
  assert.equal(open(h(5)), 'replay');
  assert.equal(open(h(4)), 'replay');
  assert.equal(open(h(6)), 'ok');
  assert.equal(open(h(7, { ts: T - MAX_SKEW_MS - 1 })), 'stale');
  assert.equal(open(h(7, { ts: T + MAX_SKEW_MS + 1 })), 'stale');
  // a restarted sender starts its sequence again under a new boot id, with a later clock
  assert.equal(open(h(1, { boot: 'b2', ts: T + 10 })), 'ok');
  assert.equal(open(h(9, { boot: 'b1', ts: T + 5 })), 'replay');
  // senders are kept apart
  assert.equal(open(h(1, { node: 'lb2' })), 'ok');
  // the very frame seen before is a replay even byte for byte
  const frame = sealHandover(key, h(20, { boot: 'b2', ts: T + 20 }), PEM);
  assert.equal(openHandover(key, frame, g, T).ok, true);
  const again = openHandover(key, frame, g, T);
  assert.equal(again.ok === false && again.reason, 'replay');
});
