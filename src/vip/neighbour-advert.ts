// Unsolicited neighbour advertisement: IPv6's gratuitous ARP. After taking a VIP the new
// master tells all nodes on the link (ff02::1) that the address is now at its MAC; the
// Override flag makes receivers replace a cached entry. Same message keepalived sends
// (type 136, O flag, R flag when forwarding, target link-layer address option, hop limit
// 255, source = the VIP), but through a raw ICMPv6 socket: the kernel builds the IPv6
// header and fills the ICMPv6 checksum, which it always does for IPPROTO_ICMPV6 sockets.

import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { openInet, setHopLimit, setMulticastInterface, setMulticastLoop, setIcmp6Filter, send, close } from '#rawsock';
import type { RawHandle } from '#rawsock';
import { macBytes } from '../host/interface-info.ts';

export const ALL_NODES = 'ff02::1';
const IPPROTO_ICMPV6 = 58;
const ND_NEIGHBOR_ADVERT = 136;
const ND_NA_FLAG_ROUTER = 0x80;
const ND_NA_FLAG_OVERRIDE = 0x20;
const ND_OPT_TARGET_LINKADDR = 2;
export const NEIGHBOUR_ADVERT_LENGTH = 32;

/**
 * The ICMPv6 message (32 bytes, checksum left 0 for the kernel) announcing `target` at `mac`.
 * Pure. `router` sets the R flag; leave it matching the node's forwarding state, because
 * receivers drop a router from their default-router list when it goes from 1 to 0.
 */
export function buildNeighbourAdvert(target: string, mac: string | Buffer, opts: { router?: boolean } = {}): Buffer {
  if (!isIPv6(target)) throw new TypeError(`neighbour advertisement target "${target}" is not IPv6`);
  const hw = typeof mac === 'string' ? macBytes(mac) : mac;
  if (hw.length !== 6) throw new TypeError('neighbour advertisement MAC must be 6 bytes');
  const m = Buffer.alloc(NEIGHBOUR_ADVERT_LENGTH);
  m[0] = ND_NEIGHBOR_ADVERT;
  m[1] = 0; // code
  // m[2..3] checksum: the kernel computes it over the pseudo-header
  m[4] = ND_NA_FLAG_OVERRIDE | (opts.router ? ND_NA_FLAG_ROUTER : 0);
  ipv6Bytes(target).copy(m, 8);
  m[24] = ND_OPT_TARGET_LINKADDR;
  m[25] = 1; // option length in units of 8 bytes
  hw.copy(m, 26);
  return m;
}

// vip/ sits below vrrp/ (DESIGN.md), so it keeps its own tiny parser rather than vrrp/ip-address.ts.
function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16);
  let head = text;
  let tailV4: number[] | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tailV4 = text.slice(lastColon + 1).split('.').map(Number);
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left = '', right] = head.split('::');
  const l = left === '' ? [] : left.split(':');
  const r = right === undefined || right === '' ? [] : right.split(':');
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i] ?? '0', 16), i * 2);
  if (tailV4) Buffer.from(tailV4).copy(out, 12);
  return out;
}

/** Whether IPv6 forwarding is on for `iface` in this namespace (decides the R flag). */
export function ipv6Forwarding(iface: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${iface}/forwarding`, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** A send-only raw ICMPv6 socket for neighbour advertisements on one interface. */
export class NeighbourAdvertSender {
  readonly ifindex: number;
  #handle: RawHandle | undefined;

  constructor(ifindex: number) {
    this.ifindex = ifindex;
    const h = openInet(6, IPPROTO_ICMPV6);
    try {
      setIcmp6Filter(h, []); // send-only: never queue the link's ICMPv6 here
      setHopLimit(h, 255); // RFC 4861 7.1.2: receivers drop NA with hop limit != 255
      setMulticastInterface(h, ifindex);
      setMulticastLoop(h, false);
    } catch (err) {
      close(h);
      throw err;
    }
    this.#handle = h;
  }

  /**
   * Send `message` to ff02::1 from `source` (the VIP itself, as keepalived does). When the
   * kernel will not use that source (address not on the interface yet, or still tentative)
   * it falls back to the kernel's choice, normally the link-local address.
   */
  send(message: Buffer, source?: string): number {
    if (!this.#handle) throw new Error('NeighbourAdvertSender is closed');
    if (source !== undefined) {
      try {
        return send(this.#handle, message, ALL_NODES, source, this.ifindex);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRNOTAVAIL' && code !== 'EINVAL') throw err;
      }
    }
    return send(this.#handle, message, ALL_NODES, null, this.ifindex);
  }

  close(): void {
    if (this.#handle) close(this.#handle);
    this.#handle = undefined;
  }
}
