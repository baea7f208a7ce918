// PROXY protocol v1 (text) and v2 (binary) codec, after the haproxy specification
// doc/proxy-protocol.txt ("The PROXY protocol, Versions 1 & 2", haproxy/haproxy repository;
// section numbers below refer to it). Pure: no sockets, no timers. The parser is incremental
// (call it again with a longer buffer after 'need-more') and never throws on hostile input;
// the caller owns the header read timeout (see accept-proxy.ts).

import { formatIPv4, formatIPv6, mappedIPv4, parseIPv4Text, parseIPv6Text } from './proxy-protocol-address.ts';

export interface ProxyEndpoint {
  address: string;
  port: number;
}

export interface ParsedEndpoint extends ProxyEndpoint {
  family: 4 | 6;
}

export type ProxyParseResult =
  | { status: 'need-more' }
  | {
      status: 'ok';
      version: 1 | 2;
      /** Header bytes to drop; everything after them is the client's payload. */
      consumed: number;
      /** 'local' (v2 LOCAL command): a health check by the proxy itself; use the real endpoints. */
      command: 'proxy' | 'local';
      /** Absent for v1 UNKNOWN, v2 LOCAL and v2 families we do not relay (UNSPEC, UDP, UNIX): use the real endpoints. */
      source?: ParsedEndpoint;
      dest?: ParsedEndpoint;
    }
  | { status: 'error'; reason: string };

export interface ProxyParseOptions {
  /** Largest v2 header (16-byte fixed part + addresses + TLVs) accepted. */
  maxV2Length?: number;
}

/** Section 2.1: the longest v1 line, CRLF included ("PROXY UNKNOWN" + two full IPv6 + ports). */
export const PROXY_V1_MAX_LENGTH = 107;
/**
 * Section 2: headers are meant to fit a 536-byte minimal segment, but TLVs (e.g. SSL info with a
 * client certificate CN, cloud vendor ids) may push real senders past it; 4 KiB keeps a hostile
 * sender from making us buffer the full 64 KiB the length field allows.
 */
export const PROXY_V2_DEFAULT_MAX_LENGTH = 4096;

/** Section 2.2: the 12-byte v2 signature. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const CR = 0x0d;
const LF = 0x0a;

// ---------------------------------------------------------------- encoding

type Resolved = { family: 4 | 6; src: Uint8Array; dst: Uint8Array; srcPort: number; dstPort: number };

function bytesOf(address: string): { family: 4 | 6; bytes: Uint8Array } | undefined {
  const v4 = parseIPv4Text(address);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6Text(address);
  if (v6) return { family: 6, bytes: v6 };
  return undefined;
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p <= 65535;
}

function toMapped(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

/**
 * Pick one family for both ends. Dual-stack sockets report IPv4 peers as "::ffff:a.b.c.d";
 * those go out as TCP4 so the server sees a plain IPv4 client. A genuine IPv6 end with an
 * IPv4 other end is sent as TCP6 with the IPv4 one mapped (the spec requires one family).
 */
function resolve(src: ProxyEndpoint | undefined, dst: ProxyEndpoint | undefined): Resolved | undefined {
  if (!src || !dst || !validPort(src.port) || !validPort(dst.port)) return undefined;
  const a = bytesOf(src.address);
  const b = bytesOf(dst.address);
  if (!a || !b) return undefined;
  const a4 = a.family === 4 ? a.bytes : mappedIPv4(a.bytes);
  const b4 = b.family === 4 ? b.bytes : mappedIPv4(b.bytes);
  if (a4 && b4) return { family: 4, src: a4, dst: b4, srcPort: src.port, dstPort: dst.port };
  return {
    family: 6,
    src: a.family === 6 ? a.bytes : toMapped(a.bytes),
    dst: b.family === 6 ? b.bytes : toMapped(b.bytes),
    srcPort: src.port,
    dstPort: dst.port,
  };
}

/**
 * Version 1 line, e.g. "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n" (section 2.1).
 * Missing or unparsable addresses give "PROXY UNKNOWN\r\n" (the receiver then uses the real peer).
 */
export function encodeProxyV1(src: ProxyEndpoint | undefined, dst: ProxyEndpoint | undefined): Buffer {
  const r = resolve(src, dst);
  if (!r) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const line =
    r.family === 4
      ? `PROXY TCP4 ${formatIPv4(r.src)} ${formatIPv4(r.dst)} ${r.srcPort} ${r.dstPort}\r\n`
      : `PROXY TCP6 ${formatIPv6(r.src)} ${formatIPv6(r.dst)} ${r.srcPort} ${r.dstPort}\r\n`;
  return Buffer.from(line, 'latin1');
}

/**
 * Version 2 binary header (section 2.2): PROXY command, TCP over IPv4 (0x11) or IPv6 (0x21);
 * AF_UNSPEC (0x00, no address block) when the addresses are missing or unparsable.
 */
export function encodeProxyV2(src: ProxyEndpoint | undefined, dst: ProxyEndpoint | undefined): Buffer {
  const r = resolve(src, dst);
  const addrLen = !r ? 0 : r.family === 4 ? 12 : 36;
  const out = Buffer.allocUnsafe(16 + addrLen);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, command PROXY
  out[13] = !r ? 0x00 : r.family === 4 ? 0x11 : 0x21;
  out.writeUInt16BE(addrLen, 14);
  if (r) {
    const w = r.family === 4 ? 4 : 16;
    out.set(r.src, 16);
    out.set(r.dst, 16 + w);
    out.writeUInt16BE(r.srcPort, 16 + 2 * w);
    out.writeUInt16BE(r.dstPort, 18 + 2 * w);
  }
  return out;
}

/** Version 2 LOCAL header: for health checks the proxy makes on its own behalf. */
export function encodeProxyV2Local(): Buffer {
  const out = Buffer.alloc(16);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = 0x20;
  return out;
}

// ---------------------------------------------------------------- parsing

const NEED_MORE: ProxyParseResult = { status: 'need-more' };

function fail(reason: string): ProxyParseResult {
  return { status: 'error', reason };
}

/**
 * Parse a PROXY header (v1 or v2, told apart by the first byte) at the start of `buf`.
 * 'need-more' only while `buf` is a strict prefix of something that could still be valid, so a
 * non-PROXY client is rejected on its first bytes instead of waiting for the timeout.
 */
export function parseProxyHeader(buf: Uint8Array, opts: ProxyParseOptions = {}): ProxyParseResult {
  if (buf.length === 0) return NEED_MORE;
  if (buf[0] === PROXY_V2_SIGNATURE[0]) return parseV2(buf, opts.maxV2Length ?? PROXY_V2_DEFAULT_MAX_LENGTH);
  if (buf[0] === V1_PREFIX[0]) return parseV1(buf);
  return fail('not a PROXY protocol header (bad signature)');
}

function parseV2(buf: Uint8Array, maxLength: number): ProxyParseResult {
  const sigLen = Math.min(buf.length, 12);
  for (let i = 0; i < sigLen; i++) {
    if (buf[i] !== PROXY_V2_SIGNATURE[i]) return fail('bad PROXY v2 signature');
  }
  if (buf.length < 16) return NEED_MORE;
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return fail(`unsupported PROXY v2 version ${verCmd >> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return fail(`unknown PROXY v2 command ${cmd}`);
  const fam = buf[13]!;
  const family = fam >> 4;
  const proto = fam & 0x0f;
  const len = (buf[14]! << 8) | buf[15]!;
  const total = 16 + len;
  if (total > maxLength) return fail(`PROXY v2 header of ${total} bytes exceeds limit ${maxLength}`);
  if (cmd === 0) {
    // Section 2.2: LOCAL ignores the family, but the length must still be honoured.
    if (buf.length < total) return NEED_MORE;
    return { status: 'ok', version: 2, consumed: total, command: 'local' };
  }
  if (family > 3 || proto > 2) return fail(`invalid PROXY v2 family/protocol byte 0x${fam.toString(16).padStart(2, '0')}`);
  const needed = family === 0 || proto === 0 ? 0 : family === 1 ? 12 : family === 2 ? 36 : 216;
  if (len < needed) return fail(`PROXY v2 address block of ${len} bytes too short for family 0x${fam.toString(16)}`);
  if (buf.length < total) return NEED_MORE;
  if (fam === 0x11) {
    return {
      status: 'ok',
      version: 2,
      consumed: total,
      command: 'proxy',
      source: { family: 4, address: formatIPv4(buf, 16), port: (buf[24]! << 8) | buf[25]! },
      dest: { family: 4, address: formatIPv4(buf, 20), port: (buf[26]! << 8) | buf[27]! },
    };
  }
  if (fam === 0x21) {
    return {
      status: 'ok',
      version: 2,
      consumed: total,
      command: 'proxy',
      source: { family: 6, address: formatIPv6(buf, 16), port: (buf[48]! << 8) | buf[49]! },
      dest: { family: 6, address: formatIPv6(buf, 32), port: (buf[50]! << 8) | buf[51]! },
    };
  }
  // UNSPEC, UDP and UNIX: valid, but nothing a TCP relay can use; fall back to the real endpoints.
  return { status: 'ok', version: 2, consumed: total, command: 'proxy' };
}

function parsePort(text: string): number | undefined {
  if (text.length === 0 || text.length > 5) return undefined;
  if (text.length > 1 && text.charCodeAt(0) === 0x30) return undefined; // leading zero
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
    v = v * 10 + (c - 0x30);
  }
  return v <= 65535 ? v : undefined;
}

function parseV1(buf: Uint8Array): ProxyParseResult {
  const prefixLen = Math.min(buf.length, V1_PREFIX.length);
  for (let i = 0; i < prefixLen; i++) {
    if (buf[i] !== V1_PREFIX[i]) return fail('bad PROXY v1 signature');
  }
  const scan = Math.min(buf.length, PROXY_V1_MAX_LENGTH);
  let cr = -1;
  for (let i = prefixLen; i < scan; i++) {
    const c = buf[i]!;
    if (c === CR) {
      cr = i;
      break;
    }
    // Section 2.1: US-ASCII only, and a lone LF must not end the line.
    if (c < 0x20 || c > 0x7e) return fail('invalid byte in PROXY v1 line');
  }
  if (cr < 0) {
    return buf.length >= PROXY_V1_MAX_LENGTH ? fail(`PROXY v1 line longer than ${PROXY_V1_MAX_LENGTH} bytes`) : NEED_MORE;
  }
  if (cr + 1 >= PROXY_V1_MAX_LENGTH) return fail(`PROXY v1 line longer than ${PROXY_V1_MAX_LENGTH} bytes`);
  if (cr + 1 >= buf.length) return NEED_MORE;
  if (buf[cr + 1] !== LF) return fail('PROXY v1 line ends with CR not followed by LF');
  const consumed = cr + 2;
  const line = Buffer.from(buf.buffer, buf.byteOffset, cr).toString('latin1');
  const parts = line.split(' ');
  const proto = parts[1];
  if (proto === 'UNKNOWN') {
    // Section 2.1: the receiver must ignore anything after UNKNOWN up to the CRLF.
    return { status: 'ok', version: 1, consumed, command: 'proxy' };
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') return fail(`unknown PROXY v1 protocol "${proto ?? ''}"`);
  if (parts.length !== 6) return fail('PROXY v1 line must have exactly 6 space-separated fields');
  const family = proto === 'TCP4' ? 4 : 6;
  const parse = family === 4 ? parseIPv4Text : parseIPv6Text;
  const format = family === 4 ? formatIPv4 : formatIPv6;
  const src = parse(parts[2]!);
  const dst = parse(parts[3]!);
  if (!src || !dst) return fail(`invalid ${proto} address in PROXY v1 line`);
  const srcPort = parsePort(parts[4]!);
  const dstPort = parsePort(parts[5]!);
  if (srcPort === undefined || dstPort === undefined) return fail('invalid port in PROXY v1 line');
  return {
    status: 'ok',
    version: 1,
    consumed,
    command: 'proxy',
    source: { family, address: format(src), port: srcPort },
    dest: { family, address: format(dst), port: dstPort },
  };
}
