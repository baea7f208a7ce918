// The IPv4 header in front of a VRRP message, as a Linux raw IPv4 socket delivers it (header
// included, fields in network order, fragments already reassembled). Never throws.

import { internetChecksum } from './checksum.ts';
import { VRRP_PROTOCOL } from './checksum.ts';
import { decodeFailure } from './decode-errors.ts';
import type { DecodeFailure } from './decode-errors.ts';
import { formatIp } from './ip-address.ts';
import { decodeAdvert } from './packet.ts';
import type { VrrpAdvert } from './packet.ts';

export interface Ipv4Packet {
  src: string;
  dst: string;
  ttl: number;
  tos: number;
  id: number;
  protocol: number;
  /** Header length in bytes (IHL * 4). */
  headerLength: number;
  totalLength: number;
  /** The IP payload (a view into the input, no copy), trailing link padding removed. */
  payload: Buffer;
}

export type Ipv4DecodeResult = { ok: true; packet: Ipv4Packet } | DecodeFailure;

/** Parse and check an IPv4 header; the protocol must be `protocol` (112, VRRP, by default). */
export function decodeIpv4Packet(buf: Buffer, protocol = VRRP_PROTOCOL): Ipv4DecodeResult {
  if (buf.length < 20) return decodeFailure('too-short', 'ip.length', `${buf.length} bytes, an IPv4 header needs 20`);
  const version = buf[0]! >> 4;
  if (version !== 4) return decodeFailure('bad-ip-version', 'ip.version', `IP version ${version}, expected 4`);
  const headerLength = (buf[0]! & 0x0f) * 4;
  if (headerLength < 20) return decodeFailure('bad-ihl', 'ip.ihl', `IHL ${headerLength / 4}, minimum 5`);
  if (headerLength > buf.length) return decodeFailure('bad-ihl', 'ip.ihl', `header of ${headerLength} bytes in a ${buf.length}-byte packet`);
  const totalLength = buf.readUInt16BE(2);
  if (totalLength < headerLength || totalLength > buf.length) {
    return decodeFailure('bad-ip-length', 'ip.totalLength', `total length ${totalLength}, header ${headerLength}, received ${buf.length}`);
  }
  const header = buf.subarray(0, headerLength);
  const stored = buf.readUInt16BE(10);
  const computed = internetChecksum(header, 10);
  if (stored !== computed) {
    return decodeFailure('bad-ip-checksum', 'ip.checksum', `got 0x${stored.toString(16)}, expected 0x${computed.toString(16)}`);
  }
  const flagsFrag = buf.readUInt16BE(6);
  if ((flagsFrag & 0x2000) !== 0 || (flagsFrag & 0x1fff) !== 0) {
    return decodeFailure('fragmented', 'ip.fragment', `fragment (MF=${(flagsFrag >> 13) & 1}, offset ${(flagsFrag & 0x1fff) * 8})`);
  }
  const proto = buf[9]!;
  if (proto !== protocol) return decodeFailure('bad-protocol', 'ip.protocol', `protocol ${proto}, expected ${protocol}`);
  return {
    ok: true,
    packet: {
      src: formatIp(buf, 12, 4),
      dst: formatIp(buf, 16, 4),
      ttl: buf[8]!,
      tos: buf[1]!,
      id: buf.readUInt16BE(4),
      protocol: proto,
      headerLength,
      totalLength,
      payload: buf.subarray(headerLength, totalLength),
    },
  };
}

export type Ipv4AdvertResult = { ok: true; advert: VrrpAdvert; ip: Ipv4Packet } | DecodeFailure;

/** A full IPv4 packet from a raw socket to a checked advertisement (TTL 255 enforced unless `checkTtl` is false). */
export function decodeIpv4Advert(buf: Buffer, opts: { checkTtl?: boolean } = {}): Ipv4AdvertResult {
  const ip = decodeIpv4Packet(buf);
  if (!ip.ok) return ip;
  const { packet } = ip;
  const res = decodeAdvert(packet.payload, {
    src: packet.src,
    dst: packet.dst,
    family: 4,
    ...(opts.checkTtl === false ? {} : { ttl: packet.ttl }),
  });
  return res.ok ? { ok: true, advert: res.advert, ip: packet } : res;
}
