// Address syntax shared by the schema and the importers: "host:port", "[v6]:port", ":port",
// "*:port", keepalived's "addr/prefix dev IF", and plain IPs. Pure parsing; errors are messages.

import { isIP } from 'node:net';
import type { HostPort, VirtualAddress, VirtualRoute } from './types.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,62})(?:\.[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,62}))*\.?$/;

/**
 * "host:port". An empty host or "*" means every IPv4 address ("0.0.0.0"), as in HAProxy's bind.
 * allowWildcard: accept the empty/"*" host (binds only; a server needs a real host).
 */
export function parseHostPort(text: string, opts: { allowWildcard?: boolean } = {}): Parsed<HostPort> {
  const s = text.trim();
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return { ok: false, error: `expected "[ipv6]:port", got "${text}"` };
    host = s.slice(1, end);
    portText = s.slice(end + 2);
    if (isIP(host) !== 6) return { ok: false, error: `"${host}" inside [] is not an IPv6 address` };
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return { ok: false, error: `expected "host:port", got "${text}" (no port)` };
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) return { ok: false, error: `IPv6 addresses need brackets: "[${host}]:${portText}"` };
    if (host === '' || host === '*') {
      if (!opts.allowWildcard) return { ok: false, error: `"${text}" has no host` };
      host = '0.0.0.0';
    } else if (isIP(host) === 0 && !HOSTNAME.test(host)) {
      return { ok: false, error: `"${host}" is neither an IP address nor a host name` };
    }
  }
  if (!/^\d{1,5}$/.test(portText)) return { ok: false, error: `port must be a number 1..65535, got "${portText}"` };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { ok: false, error: `port must be 1..65535, got ${port}` };
  return { ok: true, value: { host, port } };
}

/** Formats back to "host:port" / "[v6]:port". */
export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

export function ipFamily(ip: string): 4 | 6 | 0 {
  return isIP(ip) as 4 | 6 | 0;
}

export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** A listener bound to `bindHost` accepts traffic for `address`: the same address, 0.0.0.0 (IPv4), or :: (dual-stack: it conflicts with 0.0.0.0 on one port). */
export function bindServes(bindHost: string, address: string, family: 4 | 6): boolean {
  return bindHost === address || bindHost === '::' || (family === 4 && bindHost === '0.0.0.0');
}

/** keepalived's virtual_ipaddress line: "172.16.0.200/24 dev eth0" (also "label X", "brd X", "scope X" are rejected). */
export function parseVirtualAddress(text: string): Parsed<VirtualAddress> {
  const words = text.trim().split(/\s+/);
  const first = words.shift() ?? '';
  const slash = first.indexOf('/');
  const address = slash < 0 ? first : first.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return { ok: false, error: `"${address}" is not an IP address` };
  const maxPrefix = family === 4 ? 32 : 128;
  let prefix = maxPrefix;
  if (slash >= 0) {
    const p = first.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > maxPrefix) {
      return { ok: false, error: `prefix must be 0..${maxPrefix}, got "/${p}"` };
    }
    prefix = Number(p);
  }
  const out: VirtualAddress = { address, family: family as 4 | 6, prefix };
  while (words.length > 0) {
    const word = words.shift() as string;
    const arg = words.shift();
    if (word === 'dev' && arg) out.device = arg;
    else return { ok: false, error: `unsupported word "${word}" in "${text}" (supported: "ADDR[/PREFIX] [dev IFACE]")` };
  }
  return { ok: true, value: out };
}

/** keepalived's virtual_routes line: "10.0.0.0/8 via 192.168.1.1 dev eth0". */
export function parseVirtualRoute(text: string): Parsed<VirtualRoute> {
  const words = text.trim().split(/\s+/);
  let to = words.shift() ?? '';
  if (to === 'to') to = words.shift() ?? '';
  const toAddr = to === 'default' ? '0.0.0.0' : (to.split('/')[0] as string);
  if (isIP(toAddr) === 0) return { ok: false, error: `route destination "${to}" is not an address or prefix` };
  const out: VirtualRoute = { to };
  while (words.length > 0) {
    const word = words.shift() as string;
    const arg = words.shift();
    if (word === 'via' && arg && isIP(arg) !== 0) out.via = arg;
    else if (word === 'dev' && arg) out.device = arg;
    else return { ok: false, error: `unsupported word "${word}" in route "${text}" (supported: "DEST [via GW] [dev IFACE]")` };
  }
  return { ok: true, value: out };
}
