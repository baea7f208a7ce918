// VRRP advertisement codec: VRRPv3 (RFC 5798, updated by RFC 9568) over IPv4 and IPv6, and
// VRRPv2 (RFC 3768) over IPv4 with keepalived's simple password authentication.
// decodeAdvert never throws: the bytes come from the network. encodeAdvert throws RangeError on
// values we should never have produced (they come from our own validated config).
//
// Wire layout (both versions share the first 8 bytes except bytes 4-5):
//   0: version(4) type(4)   1: VRID   2: priority   3: count of addresses
//   v3: 4-5: reserved(4) max advert interval in centiseconds(12)
//   v2: 4: auth type        5: advert interval in seconds
//   6-7: checksum           8..: addresses (4 or 16 bytes each); v2 then 8 bytes of auth data

import { internetChecksum, pseudoHeaderSum } from './checksum.ts';
import { decodeFailure } from './decode-errors.ts';
import type { DecodeFailure } from './decode-errors.ts';
import { formatIp, parseIp } from './ip-address.ts';
import type { IpFamily } from './ip-address.ts';

export const VRRP_TTL = 255;
export const VRRP_MULTICAST_V4 = '224.0.0.18';
export const VRRP_MULTICAST_V6 = 'ff02::12';
export const VRRP_ADVERTISEMENT = 1;
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
const HEADER = 8;
const V2_AUTH_LEN = 8;
const CHECKSUM_AT = 6;

/**
 * Which bytes the checksum covers.
 * - message-only: the VRRP message alone (VRRPv2 always; VRRPv3-over-IPv4 senders that leave
 *   the pseudo-header out, an interoperability case RFC 9568 §5.2.8 notes).
 * - pseudo-header: RFC 5798 §5.2.8, IPv4/IPv6 pseudo-header with the packet's real destination.
 * - pseudo-header-multicast: pseudo-header with the VRRP multicast group as destination even for
 *   unicast packets, as keepalived before 1.3.6 sent (keepalived issue #642, its `old_unicast_checksum`).
 */
export type ChecksumForm = 'message-only' | 'pseudo-header' | 'pseudo-header-multicast';

export interface VrrpAdvert {
  version: 2 | 3;
  type: 1;
  vrid: number;
  priority: number;
  /** Advertisement interval in ms, whichever version sent it. */
  advertIntMs: number;
  /** The interval field as on the wire: centiseconds (v3, Max Advert Int) or seconds (v2). */
  advertIntRaw: number;
  addresses: string[];
  /** v2 only: 0 none, 1 simple password. */
  authType?: number;
  /** v2 only: the 8 authentication bytes as sent (zeros with auth type 0). */
  authData?: Buffer;
  /** v3 only: the 4 reserved bits (sent as 0, ignored on receipt per RFC 5798 §5.2.5). */
  reserved?: number;
  checksum: number;
  checksumForm: ChecksumForm;
}

export interface PacketContext {
  /** IP source and destination of the packet carrying the advertisement. */
  src: string;
  dst: string;
  family: IpFamily;
}

export interface DecodeContext extends PacketContext {
  /** IPv4 TTL / IPv6 hop limit when known; must be 255 (RFC 5798 §7.1). Omit to skip the check. */
  ttl?: number;
}

/** What encodeAdvert needs; the interval is taken from advertIntMs (advertIntRaw is ignored). */
export interface AdvertFields {
  version: 2 | 3;
  vrid: number;
  priority: number;
  advertIntMs: number;
  addresses: readonly string[];
  authType?: number;
  /** Up to 8 bytes, zero-padded; see passwordAuthData. */
  authData?: Buffer;
  reserved?: number;
  /** Default: pseudo-header for v3, message-only for v2 (the only form v2 has). */
  checksumForm?: ChecksumForm;
}

export type DecodeResult = { ok: true; advert: VrrpAdvert } | DecodeFailure;

/** keepalived's PASS: the password's first 8 bytes, zero-padded. */
export function passwordAuthData(password: string): Buffer {
  const out = Buffer.alloc(V2_AUTH_LEN);
  Buffer.from(password, 'utf8').copy(out, 0, 0, V2_AUTH_LEN);
  return out;
}

function multicastGroup(family: IpFamily): string {
  return family === 4 ? VRRP_MULTICAST_V4 : VRRP_MULTICAST_V6;
}

function checksumFor(msg: Buffer, form: ChecksumForm, src: Buffer, dst: Buffer, family: IpFamily): number {
  if (form === 'message-only') return internetChecksum(msg, CHECKSUM_AT);
  const d = form === 'pseudo-header' ? dst : parseIp(multicastGroup(family), family)!;
  return internetChecksum(msg, CHECKSUM_AT, pseudoHeaderSum(src, d, family, msg.length));
}

export function encodeAdvert(adv: AdvertFields, ctx: PacketContext): Buffer {
  const { family } = ctx;
  const where = (field: string) => `VRRP advert (vrid ${adv.vrid}) ${field}`;
  if (adv.version !== 2 && adv.version !== 3) throw new RangeError(`${where('version')}: ${String(adv.version)} is not 2 or 3`);
  if (adv.version === 2 && family !== 4) throw new RangeError(`${where('version')}: VRRPv2 is IPv4-only`);
  if (!Number.isInteger(adv.vrid) || adv.vrid < 1 || adv.vrid > 255) throw new RangeError(`${where('vrid')}: must be 1..255`);
  if (!Number.isInteger(adv.priority) || adv.priority < 0 || adv.priority > 255) throw new RangeError(`${where('priority')}: must be 0..255`);
  if (adv.addresses.length > 255) throw new RangeError(`${where('addresses')}: at most 255`);
  const raw = adv.version === 3 ? Math.round(adv.advertIntMs / 10) : Math.round(adv.advertIntMs / 1000);
  const maxRaw = adv.version === 3 ? 0x0fff : 0xff;
  if (!(raw >= 1 && raw <= maxRaw)) {
    throw new RangeError(`${where('advertIntMs')}: ${adv.advertIntMs} ms is outside ${adv.version === 3 ? '10..40950 ms' : '1..255 s'}`);
  }
  const src = parseIp(ctx.src, family);
  const dst = parseIp(ctx.dst, family);
  if (!src) throw new RangeError(`${where('src')}: "${ctx.src}" is not an IPv${family} address`);
  if (!dst) throw new RangeError(`${where('dst')}: "${ctx.dst}" is not an IPv${family} address`);

  const addrLen = family === 4 ? 4 : 16;
  const len = HEADER + adv.addresses.length * addrLen + (adv.version === 2 ? V2_AUTH_LEN : 0);
  const msg = Buffer.alloc(len);
  msg[0] = (adv.version << 4) | VRRP_ADVERTISEMENT;
  msg[1] = adv.vrid;
  msg[2] = adv.priority;
  msg[3] = adv.addresses.length;
  if (adv.version === 3) {
    msg.writeUInt16BE((((adv.reserved ?? 0) & 0xf) << 12) | raw, 4);
  } else {
    msg[4] = adv.authType ?? AUTH_NONE;
    msg[5] = raw;
  }
  adv.addresses.forEach((a, i) => {
    const bytes = parseIp(a, family);
    if (!bytes) throw new RangeError(`${where(`addresses[${i}]`)}: "${a}" is not an IPv${family} address`);
    bytes.copy(msg, HEADER + i * addrLen);
  });
  if (adv.version === 2 && adv.authData) adv.authData.copy(msg, len - V2_AUTH_LEN, 0, V2_AUTH_LEN);
  const form = adv.version === 2 ? 'message-only' : (adv.checksumForm ?? 'pseudo-header');
  msg.writeUInt16BE(checksumFor(msg, form, src, dst, family), CHECKSUM_AT);
  return msg;
}

export function decodeAdvert(buf: Buffer, ctx: DecodeContext): DecodeResult {
  const { family } = ctx;
  if (family !== 4 && family !== 6) return decodeFailure('bad-address', 'family', `family ${String(family)} is not 4 or 6`);
  if (ctx.ttl !== undefined && ctx.ttl !== VRRP_TTL) {
    return decodeFailure('bad-ttl', 'ip.ttl', `TTL/hop limit ${ctx.ttl}, must be ${VRRP_TTL} (RFC 5798 §7.1)`);
  }
  if (buf.length < HEADER) return decodeFailure('too-short', 'length', `${buf.length} bytes, header needs ${HEADER}`);
  const version = buf[0]! >> 4;
  if (version !== 2 && version !== 3) return decodeFailure('bad-version', 'version', `version ${version}, expected 2 or 3`);
  if (version === 2 && family !== 4) return decodeFailure('bad-version', 'version', 'VRRPv2 over IPv6 does not exist');
  const type = buf[0]! & 0x0f;
  if (type !== VRRP_ADVERTISEMENT) return decodeFailure('bad-type', 'type', `type ${type}, only 1 (advertisement) exists`);
  const vrid = buf[1]!;
  if (vrid === 0) return decodeFailure('bad-vrid', 'vrid', 'VRID 0 is reserved (valid 1..255)');
  const priority = buf[2]!;
  const count = buf[3]!;

  const addrLen = family === 4 ? 4 : 16;
  const trailer = version === 2 ? V2_AUTH_LEN : 0;
  const body = buf.length - HEADER - trailer;
  if (body < 0) return decodeFailure('too-short', 'length', `${buf.length} bytes, VRRPv2 needs ${HEADER + trailer} at least (8 bytes of auth data)`);
  if (body % addrLen !== 0) {
    return decodeFailure('bad-length', 'length', `${buf.length} bytes leave ${body} for addresses, not a multiple of ${addrLen}`);
  }
  if (body / addrLen !== count) {
    return decodeFailure('address-count-mismatch', 'count', `count field says ${count}, length holds ${body / addrLen} IPv${family} addresses`);
  }

  const src = parseIp(ctx.src, family);
  const dst = parseIp(ctx.dst, family);
  if (!src) return decodeFailure('bad-address', 'src', `"${ctx.src}" is not an IPv${family} address`);
  if (!dst) return decodeFailure('bad-address', 'dst', `"${ctx.dst}" is not an IPv${family} address`);
  const checksum = buf.readUInt16BE(CHECKSUM_AT);
  let checksumForm: ChecksumForm | undefined;
  const forms: ChecksumForm[] = version === 2 ? ['message-only'] : ['pseudo-header'];
  if (version === 3 && family === 4) forms.push('message-only');
  if (version === 3 && ctx.dst !== multicastGroup(family) && !dst.equals(parseIp(multicastGroup(family), family)!)) {
    forms.push('pseudo-header-multicast');
  }
  const expected: string[] = [];
  for (const form of forms) {
    const c = checksumFor(buf, form, src, dst, family);
    if (c === checksum) { checksumForm = form; break; }
    expected.push(`${form} 0x${c.toString(16).padStart(4, '0')}`);
  }
  if (!checksumForm) {
    return decodeFailure('bad-checksum', 'checksum', `got 0x${checksum.toString(16).padStart(4, '0')}, expected ${expected.join(' or ')}`);
  }

  let advertIntRaw: number;
  let advertIntMs: number;
  let authType: number | undefined;
  let reserved: number | undefined;
  if (version === 3) {
    const word = buf.readUInt16BE(4);
    reserved = word >> 12;
    advertIntRaw = word & 0x0fff;
    advertIntMs = advertIntRaw * 10;
  } else {
    authType = buf[4]!;
    advertIntRaw = buf[5]!;
    advertIntMs = advertIntRaw * 1000;
  }
  if (advertIntRaw === 0) return decodeFailure('zero-interval', version === 3 ? 'maxAdvertInt' : 'advertInt', 'advertisement interval 0');
  if (authType !== undefined && authType !== AUTH_NONE && authType !== AUTH_PASS) {
    return decodeFailure('bad-auth-type', 'authType', `auth type ${authType}; only 0 (none) and 1 (simple password) are supported`);
  }

  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push(formatIp(buf, HEADER + i * addrLen, family));
  const advert: VrrpAdvert = { version, type: 1, vrid, priority, advertIntMs, advertIntRaw, addresses, checksum, checksumForm };
  if (version === 2) {
    advert.authType = authType;
    advert.authData = Buffer.from(buf.subarray(buf.length - V2_AUTH_LEN));
  } else {
    advert.reserved = reserved;
  }
  return { ok: true, advert };
}

/**
 * Compare a decoded advert's authentication with the instance's (RFC 3768 §5.3.6 / keepalived
 * `authentication { auth_type PASS }`). undefined when acceptable. VRRPv3 has no authentication.
 */
export function checkAuth(advert: VrrpAdvert, auth: { type: 'PASS'; password: string } | undefined): DecodeFailure | undefined {
  if (advert.version === 3) return undefined;
  const got = advert.authType ?? AUTH_NONE;
  const want = auth ? AUTH_PASS : AUTH_NONE;
  if (got !== want) return decodeFailure('auth-mismatch', 'authType', `advert has auth type ${got}, instance expects ${want}`);
  if (auth && !(advert.authData ?? Buffer.alloc(0)).equals(passwordAuthData(auth.password))) {
    return decodeFailure('bad-password', 'authData', 'simple password does not match');
  }
  return undefined;
}
