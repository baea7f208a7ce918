// Gratuitous ARP: a new master tells the segment "this IP now lives at my MAC", so switches
// and neighbours move traffic for the VIP to us at once. Frame layout matches keepalived's
// byte for byte: an ARP request (not a reply), sender = target = VIP, target MAC all-ones,
// Ethernet broadcast. Sent over AF_PACKET because the kernel never emits ARP on demand.

import { isIPv4 } from 'node:net';
import { openPacket, sendFrame, close } from '#rawsock';
import type { RawHandle } from '#rawsock';
import { macBytes } from '../host/interface-info.ts';

const ETH_P_ARP = 0x0806;
const ARPHRD_ETHER = 1;
const ETH_P_IP = 0x0800;
const ARPOP_REQUEST = 1;
export const GARP_FRAME_LENGTH = 42;

/** The 42-byte Ethernet frame announcing `ipv4` at `senderMac`. Pure. */
export function buildGarpFrame(senderMac: string | Buffer, ipv4: string): Buffer {
  const mac = typeof senderMac === 'string' ? macBytes(senderMac) : senderMac;
  if (mac.length !== 6) throw new TypeError('GARP sender MAC must be 6 bytes');
  if (!isIPv4(ipv4)) throw new TypeError(`GARP address "${ipv4}" is not IPv4`);
  const ip = Buffer.from(ipv4.split('.').map(Number));
  const f = Buffer.alloc(GARP_FRAME_LENGTH);
  f.fill(0xff, 0, 6); // Ethernet destination: broadcast
  mac.copy(f, 6);
  f.writeUInt16BE(ETH_P_ARP, 12);
  f.writeUInt16BE(ARPHRD_ETHER, 14);
  f.writeUInt16BE(ETH_P_IP, 16);
  f[18] = 6; // hardware address length
  f[19] = 4; // protocol address length
  f.writeUInt16BE(ARPOP_REQUEST, 20);
  mac.copy(f, 22); // sender MAC
  ip.copy(f, 28); // sender IP
  f.fill(0xff, 32, 38); // target MAC, as keepalived sends it
  ip.copy(f, 38); // target IP
  return f;
}

/** A send-only AF_PACKET socket for GARP frames. Needs CAP_NET_RAW. */
export class GarpSender {
  #handle: RawHandle | undefined;

  constructor() {
    this.#handle = openPacket();
  }

  /** Returns bytes sent; throws (errno error) when the kernel refuses, e.g. ENETDOWN. */
  send(ifindex: number, frame: Buffer): number {
    if (!this.#handle) throw new Error('GarpSender is closed');
    return sendFrame(this.#handle, ifindex, frame);
  }

  close(): void {
    if (this.#handle) close(this.#handle);
    this.#handle = undefined;
  }
}
