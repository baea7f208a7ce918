// Strict IP text <-> bytes conversion for the PROXY protocol codec. Pure: no sockets, never throws.
// Strict on purpose: the spec (haproxy doc/proxy-protocol.txt, section 2.1) forbids leading zeros in
// IPv4 octets and ports, and any sequence that does not match exactly must abort the connection.
// Parsed addresses are re-rendered canonically (RFC 5952 for IPv6) so source hashing sees one
// spelling per address whatever the sender wrote.

/** "192.168.0.1" -> 4 bytes; undefined unless exactly four decimal octets without leading zeros. */
export function parseIPv4Text(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e; // virtual trailing dot closes the last octet
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return undefined; // leading zero
      value = value * 10 + (c - 0x30);
      digits++;
      if (value > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return part === 4 ? out : undefined;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * "2001:db8::1" -> 16 bytes. Groups of 1-4 hex digits, at most one "::", exactly 128 bits.
 * A trailing dotted IPv4 part ("::ffff:10.0.0.1") is accepted since senders emit it for mapped addresses.
 * No zone ids ("%eth0"): they mean nothing to the receiving host.
 */
export function parseIPv6Text(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const groups: number[] = [];
  let gap = -1; // index in groups where "::" sits
  let i = 0;
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
    if (i === text.length) return new Uint8Array(16);
  } else if (text.charCodeAt(0) === 0x3a) {
    return undefined;
  }
  while (i < text.length) {
    // A dotted IPv4 tail takes the last 32 bits.
    const rest = text.slice(i);
    if (rest.includes('.') && !rest.includes(':')) {
      const v4 = parseIPv4Text(rest);
      if (!v4) return undefined;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      break;
    }
    let value = 0;
    let digits = 0;
    while (i < text.length) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      digits++;
      i++;
      if (digits > 4) return undefined;
    }
    if (digits === 0) return undefined;
    groups.push(value);
    if (groups.length > 8) return undefined;
    if (i === text.length) break;
    if (text.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    if (i < text.length && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return undefined; // a second "::"
      gap = groups.length;
      i++;
      if (i === text.length) break;
    } else if (i === text.length) {
      return undefined; // trailing single ':'
    }
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return undefined;
  const out = new Uint8Array(16);
  const head = gap < 0 ? groups.length : gap;
  for (let g = 0; g < head; g++) {
    out[g * 2] = groups[g]! >> 8;
    out[g * 2 + 1] = groups[g]! & 0xff;
  }
  const tail = groups.length - head;
  for (let t = 0; t < tail; t++) {
    const g = 8 - tail + t;
    out[g * 2] = groups[head + t]! >> 8;
    out[g * 2 + 1] = groups[head + t]! & 0xff;
  }
  return out;
}

export function formatIPv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/**
 * RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero groups as "::".
 * IPv4-mapped addresses are written "::ffff:a.b.c.d", the spelling Node uses for remoteAddress
 * on dual-stack sockets, so a client hashes the same whether it came direct or via PROXY.
 */
export function formatIPv6(b: Uint8Array, at = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[at + i * 2]! << 8) | b[at + i * 2 + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, at + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number): string => x.toString(16);
  if (bestStart < 0) return g.map(hex).join(':');
  return `${g.slice(0, bestStart).map(hex).join(':')}::${g.slice(bestStart + bestLen).map(hex).join(':')}`;
}

/** The 4 IPv4 bytes when 16 IPv6 bytes are an IPv4-mapped address (::ffff:a.b.c.d), else undefined. */
export function mappedIPv4(b: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
  if (b[10] !== 0xff || b[11] !== 0xff) return undefined;
  return b.subarray(12, 16);
}
