// The Internet checksum (RFC 1071) and the two ways VRRP applies it:
// VRRPv2 (RFC 3768 §5.3.8) sums the VRRP message alone; VRRPv3 (RFC 5798 §5.2.8) prepends the
// IPv4/IPv6 pseudo-header, as for UDP/TCP, with next header 112.

import type { IpFamily } from './ip-address.ts';

export const VRRP_PROTOCOL = 112;

/** One's-complement sum of 16-bit big-endian words, folded to 16 bits (not yet complemented). */
export function onesComplementSum(buf: Buffer, start = 0, end = buf.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  // An odd trailing byte is padded with a zero low byte.
  if (i < end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * RFC 1071 checksum of `buf` as if its checksum field (2 bytes at the even offset `skip`) were zero,
 * starting from `initial` (a pseudo-header sum).
 */
export function internetChecksum(buf: Buffer, skip = -1, initial = 0): number {
  let sum: number;
  if (skip >= 0) {
    sum = onesComplementSum(buf, 0, Math.min(skip, buf.length), initial);
    sum = onesComplementSum(buf, Math.min(skip + 2, buf.length), buf.length, sum);
  } else {
    sum = onesComplementSum(buf, 0, buf.length, initial);
  }
  return ~sum & 0xffff;
}

/** Folded sum of the pseudo-header (RFC 768 for IPv4, RFC 8200 §8.1 for IPv6) for protocol 112. */
export function pseudoHeaderSum(src: Buffer, dst: Buffer, family: IpFamily, length: number): number {
  let sum = onesComplementSum(src) + onesComplementSum(dst);
  if (family === 4) {
    sum += VRRP_PROTOCOL + (length & 0xffff);
  } else {
    sum += (length >>> 16) + (length & 0xffff) + VRRP_PROTOCOL;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
