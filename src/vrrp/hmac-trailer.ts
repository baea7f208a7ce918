// HMAC-SHA256 authentication for halb-to-halb VRRP adverts (docs/vrrp-hmac.md is the wire spec).
// keepalived's PASS is a plaintext password (v2 only) and VRRPv3 has no authentication, so a
// signed advert is an ordinary, complete VRRP message followed by a 28-byte trailer inside the
// same IP payload. The VRRP checksum covers the message only, so the message stays valid VRRP on
// its own; the MAC covers the sender's address, the message and the trailer's header.
//
// Pure: the key, the sequence and the replay state are inputs; no clock, no file.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseIp } from './ip-address.ts';
import type { IpFamily } from './ip-address.ts';

export const HMAC_TRAILER_LEN = 28;
export const HMAC_MAGIC = 0x4856; // "HV"
export const HMAC_FORMAT = 1;
const HEADER_LEN = 12;
const MAC_LEN = 16;
const HEADER = 8;
const V2_AUTH_LEN = 8;

export interface HmacKey {
  id: number;
  secret: Buffer;
}

/** The replay guard's position: sender start (unix seconds) then a per-packet counter. */
export interface AdvertSequence {
  epoch: number;
  counter: number;
}

export type HmacFailureReason =
  /** Our VRID, but no trailer (a keepalived or a halb without the key). */
  | 'auth-unsigned'
  /** Bytes after the message that are not a trailer of ours (length, magic, format). */
  | 'auth-malformed'
  /** A trailer signed with another key id. */
  | 'auth-unknown-key'
  /** The MAC does not match: wrong key, or the packet was changed. */
  | 'auth-forged'
  /** Authentic, but not newer than the last one accepted from that sender. */
  | 'auth-replayed';

export type HmacVerdict =
  | { ok: true; sequence: AdvertSequence }
  | { ok: false; reason: HmacFailureReason; detail: string };

/**
 * Length of the VRRP message at the head of `payload` as its own header declares it, or undefined
 * when the header is too short or names no version we know (the codec then reports why).
 */
export function vrrpMessageLength(payload: Buffer, family: IpFamily): number | undefined {
  if (payload.length < HEADER) return undefined;
  const version = payload[0]! >> 4;
  if (version !== 2 && version !== 3) return undefined;
  return HEADER + payload[3]! * (family === 4 ? 4 : 16) + (version === 2 ? V2_AUTH_LEN : 0);
}

function mac(secret: Buffer, src: Buffer, message: Buffer, header: Buffer): Buffer {
  return createHmac('sha256', secret).update(src).update(message).update(header).digest().subarray(0, MAC_LEN);
}

function sourceBytes(src: string, family: IpFamily): Buffer {
  const b = parseIp(src, family);
  if (!b) throw new RangeError(`HMAC trailer: source "${src}" is not an IPv${family} address`);
  return b;
}

/** `message` (an encoded advert) followed by its trailer. Throws RangeError on values out of range. */
export function signAdvert(message: Buffer, key: HmacKey, seq: AdvertSequence, src: string, family: IpFamily): Buffer {
  if (!Number.isInteger(key.id) || key.id < 0 || key.id > 255) throw new RangeError(`HMAC trailer: key id ${key.id} is outside 0..255`);
  for (const [name, v] of [['epoch', seq.epoch], ['counter', seq.counter]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`HMAC trailer: ${name} ${v} is outside 0..2^32-1`);
  }
  const out = Buffer.alloc(message.length + HMAC_TRAILER_LEN);
  message.copy(out, 0);
  const t = out.subarray(message.length);
  t.writeUInt16BE(HMAC_MAGIC, 0);
  t[2] = HMAC_FORMAT;
  t[3] = key.id;
  t.writeUInt32BE(seq.epoch, 4);
  t.writeUInt32BE(seq.counter, 8);
  mac(key.secret, sourceBytes(src, family), message, t.subarray(0, HEADER_LEN)).copy(t, HEADER_LEN);
  return out;
}

/** Whether `seq` comes strictly after `last` (epoch first, then counter). */
export function isNewer(seq: AdvertSequence, last: AdvertSequence | undefined): boolean {
  if (last === undefined) return true;
  return seq.epoch > last.epoch || (seq.epoch === last.epoch && seq.counter > last.counter);
}

/**
 * Check the trailer after the `messageLength` bytes of `payload`. `last` is the newest sequence
 * accepted from this sender (undefined: none yet); the caller stores the returned sequence only
 * after the whole advert was accepted.
 */
export function verifyTrailer(
  payload: Buffer,
  messageLength: number,
  src: string,
  family: IpFamily,
  key: HmacKey,
  last: AdvertSequence | undefined,
): HmacVerdict {
  const extra = payload.length - messageLength;
  if (extra === 0) return { ok: false, reason: 'auth-unsigned', detail: 'advert carries no HMAC trailer' };
  if (extra !== HMAC_TRAILER_LEN) {
    return { ok: false, reason: 'auth-malformed', detail: `${extra} bytes after the VRRP message, an HMAC trailer is ${HMAC_TRAILER_LEN}` };
  }
  const t = payload.subarray(messageLength);
  const magic = t.readUInt16BE(0);
  if (magic !== HMAC_MAGIC) return { ok: false, reason: 'auth-malformed', detail: `trailer.magic 0x${magic.toString(16)}, expected 0x${HMAC_MAGIC.toString(16)}` };
  if (t[2] !== HMAC_FORMAT) return { ok: false, reason: 'auth-malformed', detail: `trailer.format ${t[2]}, only ${HMAC_FORMAT} exists` };
  if (t[3] !== key.id) return { ok: false, reason: 'auth-unknown-key', detail: `trailer.key_id ${t[3]}, ours is ${key.id}` };
  const src4or6 = parseIp(src, family);
  if (!src4or6) return { ok: false, reason: 'auth-malformed', detail: `source "${src}" is not an IPv${family} address` };
  const want = mac(key.secret, src4or6, payload.subarray(0, messageLength), t.subarray(0, HEADER_LEN));
  if (!timingSafeEqual(want, t.subarray(HEADER_LEN))) return { ok: false, reason: 'auth-forged', detail: 'trailer.mac does not match' };
  const sequence = { epoch: t.readUInt32BE(4), counter: t.readUInt32BE(8) };
  if (!isNewer(sequence, last)) {
    return {
      ok: false,
      reason: 'auth-replayed',
      detail: `sequence ${sequence.epoch}/${sequence.counter} is not after ${last!.epoch}/${last!.counter}`,
    };
  }
  return { ok: true, sequence };
}

/** The sender's side: the next sequence after `seq` (a full counter moves to the next epoch). */
export function nextSequence(seq: AdvertSequence): AdvertSequence {
  return seq.counter >= 0xffffffff ? { epoch: seq.epoch + 1, counter: 0 } : { epoch: seq.epoch, counter: seq.counter + 1 };
}
