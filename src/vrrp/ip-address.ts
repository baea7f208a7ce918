// Textual IP addresses <-> wire bytes, and their numeric order (VRRP breaks priority ties by the
// higher primary address). Pure and non-throwing on hostile input: parsers return undefined.

import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

/** 4 bytes for IPv4, 16 for IPv6; undefined when `text` is not an address of `family`. */
export function parseIp(text: string, family: IpFamily): Buffer | undefined {
  return family === 4 ? parseIpv4(text) : parseIpv6(text);
}

export function parseIpv4(text: string): Buffer | undefined {
  if (!isIPv4(text)) return undefined;
  const parts = text.split('.');
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

export function parseIpv6(text: string): Buffer | undefined {
  // Zone ids ("fe80::1%eth0") name a link, not part of the address bytes.
  const bare = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (!isIPv6(bare)) return undefined;
  let head = bare;
  let tailV4: Buffer | undefined;
  const lastColon = bare.lastIndexOf(':');
  if (bare.indexOf('.', lastColon) !== -1) {
    tailV4 = parseIpv4(bare.slice(lastColon + 1));
    if (!tailV4) return undefined;
    head = bare.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = right === undefined ? leftGroups : [...leftGroups, ...Array<string>(missing).fill('0'), ...rightGroups];
  if (groups.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i] ?? '', 16), i * 2);
  if (tailV4) tailV4.copy(out, 12);
  return out;
}

/** Canonical text: dotted quad, or RFC 5952 compressed lower-case IPv6. */
export function formatIp(bytes: Buffer, offset: number, family: IpFamily): string {
  if (family === 4) return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(offset + i * 2));
  // RFC 5952 §4.2: compress the longest run (of two or more) of zero groups, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical form of an address string, or undefined when it is not an IPv4/IPv6 address. */
export function normaliseIp(text: string): string | undefined {
  const v4 = parseIpv4(text);
  if (v4) return formatIp(v4, 0, 4);
  const v6 = parseIpv6(text);
  return v6 ? formatIp(v6, 0, 6) : undefined;
}

/**
 * Numeric order of two addresses (negative, zero, positive). IPv4 sorts before IPv6 (an instance
 * never mixes them); unparsable text sorts first so that garbage never wins a tie-break.
 */
export function compareIp(a: string, b: string): number {
  const ab = parseIpv4(a) ?? parseIpv6(a);
  const bb = parseIpv4(b) ?? parseIpv6(b);
  if (!ab || !bb) return (ab ? 1 : 0) - (bb ? 1 : 0);
  if (ab.length !== bb.length) return ab.length - bb.length;
  return Buffer.compare(ab, bb);
}
