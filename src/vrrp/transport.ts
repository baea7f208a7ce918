// VRRP on the wire: raw IP protocol 112 on one interface, multicast (224.0.0.18 / ff02::12)
// or unicast to configured peers. This layer only moves bytes and applies the checks that
// are about the wire, not the protocol: TTL/hop limit must be 255 (RFC 5798 7.1: the packet
// came from this link), the packet must have arrived on our interface, and in unicast mode
// it must come from a configured peer. Everything else (version, VRID, checksum) is the
// codec's and the router's business. Hostile packets are counted, never thrown.
//
// One unbound socket does both directions: an unbound raw socket receives multicast, and the
// source address and interface of what we send travel in a PKTINFO control message.

import { decodeIpv4Packet } from './ipv4-header.ts';
import { EventEmitter } from 'node:events';
import { BlockList, isIP } from 'node:net';
import {
  openInet,
  bindToDevice,
  setHopLimit,
  setTrafficClass,
  setDontFragment,
  setMulticastInterface,
  setMulticastLoop,
  joinGroup,
  startReceiving,
  send,
  close,
  setRef,
  drain,
} from '#rawsock';
import { ThreadAdvertPacer } from './advert-pacer.ts';
import type { RawHandle } from '#rawsock';
import { interfaceInfo, defaultSourceAddress } from '../host/interface-info.ts';

export const VRRP_PROTOCOL = 112;
export const VRRP_GROUP_V4 = '224.0.0.18';
export const VRRP_GROUP_V6 = 'ff02::12';
export const VRRP_TTL = 255;
/** Network control precedence, as keepalived sends it. */
const VRRP_TOS = 0xc0;

/** A raw protocol-112 socket on one interface, set up to send as VRRP must (TTL 255, TOS, no DF). */
export function openVrrpSocket(family: 4 | 6, iface: string, ifindex: number): RawHandle {
  const handle = openInet(family, VRRP_PROTOCOL);
  try {
    // Only this link's adverts: also what makes the TTL-255 rule meaningful.
    bindToDevice(handle, iface);
    setHopLimit(handle, VRRP_TTL);
    setTrafficClass(handle, VRRP_TOS);
    if (family === 4) setDontFragment(handle, false); // as keepalived: no DF
    setMulticastInterface(handle, ifindex);
    setMulticastLoop(handle, false);
  } catch (err) {
    close(handle);
    throw err;
  }
  return handle;
}

export interface VrrpTransportOptions {
  family: 4 | 6;
  interface: string;
  /** Source of our adverts; default: primary IPv4 / link-local IPv6 of the interface. */
  sourceAddress?: string;
  /** true: 224.0.0.18 / ff02::12. false: unicast to `unicastPeers`. */
  multicast: boolean;
  unicastPeers?: string[];
}

export interface ReceivedPacket {
  /** The VRRP message (IPv4 header already stripped). */
  payload: Buffer;
  src: string;
  dst: string;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  ifindex: number;
}

/** Why a packet never reached 'packet' listeners. */
export type DropReason = 'ttl' | 'interface' | 'peer' | 'malformed';

export interface VrrpTransportEvents {
  packet: [pkt: ReceivedPacket];
  /** recvmsg/poll or send failure; the transport stays open. */
  'socket-error': [err: Error];
}

export class VrrpTransport extends EventEmitter<VrrpTransportEvents> {
  readonly family: 4 | 6;
  readonly interfaceName: string;
  readonly ifindex: number;
  /** Source address of our packets; the VRRPv3 checksum pseudo-header needs it. */
  readonly localAddress: string;
  readonly multicast: boolean;
  /** Where send() goes: the group, or every unicast peer. */
  readonly destinations: readonly string[];
  readonly drops: Record<DropReason, number> = { ttl: 0, interface: 0, peer: 0, malformed: 0 };
  readonly counters = { received: 0, sent: 0, sendErrors: 0, receiveErrors: 0 };
  #handle: RawHandle | undefined;
  #peers: BlockList | undefined;
  #pacer: ThreadAdvertPacer | undefined;

  private constructor(opts: VrrpTransportOptions, handle: RawHandle, ifindex: number, localAddress: string) {
    super();
    this.family = opts.family;
    this.interfaceName = opts.interface;
    this.ifindex = ifindex;
    this.localAddress = localAddress;
    this.multicast = opts.multicast;
    this.#handle = handle;
    if (opts.multicast) {
      this.destinations = [opts.family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6];
    } else {
      this.destinations = [...(opts.unicastPeers ?? [])];
      const peers = new BlockList();
      const type = opts.family === 4 ? 'ipv4' : 'ipv6';
      for (const p of this.destinations) peers.addAddress(p, type);
      this.#peers = peers;
    }
  }

  /** Opens and starts receiving. Needs CAP_NET_RAW. Throws with a clear message on bad options. */
  static open(opts: VrrpTransportOptions): VrrpTransport {
    const where = `VRRP transport on "${opts.interface}"`;
    if (opts.family !== 4 && opts.family !== 6) throw new TypeError(`${where}: family must be 4 or 6`);
    const peers = opts.unicastPeers ?? [];
    if (!opts.multicast && peers.length === 0) throw new TypeError(`${where}: unicast needs at least one peer`);
    for (const p of peers) {
      if (isIP(p) !== opts.family) throw new TypeError(`${where}: unicast peer "${p}" is not an IPv${opts.family} address`);
    }
    if (opts.sourceAddress !== undefined && isIP(opts.sourceAddress) !== opts.family) {
      throw new TypeError(`${where}: source "${opts.sourceAddress}" is not an IPv${opts.family} address`);
    }
    const info = interfaceInfo(opts.interface);
    const localAddress = opts.sourceAddress ?? defaultSourceAddress(info, opts.family);
    if (localAddress === undefined) {
      throw new Error(`${where}: interface has no ${opts.family === 4 ? 'IPv4' : 'IPv6 link-local'} address to send from; configure a source address`);
    }

    const handle = openVrrpSocket(opts.family, opts.interface, info.index);
    let transport: VrrpTransport;
    try {
      if (opts.multicast) joinGroup(handle, opts.family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6, info.index);
      transport = new VrrpTransport(opts, handle, info.index, localAddress);
      startReceiving(
        handle,
        (buf, src, dst, ttl, ifindex) => transport.#onPacket(buf, src, dst, ttl, ifindex),
        (err) => transport.#onError(err, 'receive'),
      );
    } catch (err) {
      close(handle);
      throw err;
    }
    return transport;
  }

  /**
   * Send one VRRP message to the group or to every unicast peer. Never throws for network
   * errors (a down link must not crash the router): failures are counted and emitted as
   * 'socket-error'. Returns how many destinations took the packet.
   */
  send(payload: Buffer): number {
    const handle = this.#handle;
    if (!handle) return 0;
    let ok = 0;
    for (const dst of this.destinations) {
      try {
        send(handle, payload, dst, this.localAddress, this.ifindex);
        ok++;
        this.counters.sent++;
      } catch (err) {
        this.#onError(err as Error, 'send');
      }
    }
    return ok;
  }

  /**
   * Send to one destination (one of `destinations`). VRRPv3 checksums cover the destination
   * address, so with several unicast peers each copy needs its own payload.
   */
  sendTo(payload: Buffer, dst: string): boolean {
    const handle = this.#handle;
    if (!handle) return false;
    try {
      send(handle, payload, dst, this.localAddress, this.ifindex);
      this.counters.sent++;
      return true;
    } catch (err) {
      this.#onError(err as Error, 'send');
      return false;
    }
  }

  /** A thread that sends queued adverts on time however busy the event loop is (one per transport). */
  pacer(): ThreadAdvertPacer | undefined {
    if (!this.#handle) return undefined;
    this.#pacer ??= new ThreadAdvertPacer(this.#handle, this.localAddress, this.ifindex);
    return this.#pacer;
  }

  /** Deliver what the socket holds now, before a timer decides the peer went silent. */
  drain(): number {
    return this.#handle ? drain(this.#handle) : 0;
  }

  /** Whether the open transport keeps the process alive (default true). */
  setRef(ref: boolean): void {
    if (this.#handle) setRef(this.#handle, ref);
  }

  get closed(): boolean {
    return this.#handle === undefined;
  }

  /** Idempotent. No 'packet' events after this returns. */
  close(): void {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#pacer?.close();
    this.#pacer = undefined;
    if (handle) close(handle);
  }

  #onPacket(buf: Buffer, src: string, dst: string, hops: number, ifindex: number): void {
    let payload = buf;
    let ttl = hops;
    if (this.family === 4) {
      // Raw IPv4 sockets hand us the IP header; the TTL we judge is the one in it.
      const ip = decodeIpv4Packet(buf);
      if (!ip.ok) {
        this.drops.malformed++;
        return;
      }
      ttl = ip.packet.ttl;
      payload = ip.packet.payload;
    }
    if (ifindex !== 0 && ifindex !== this.ifindex) {
      this.drops.interface++;
      return;
    }
    if (ttl !== VRRP_TTL) {
      this.drops.ttl++;
      return;
    }
    if (this.#peers && !this.#peers.check(src, this.family === 4 ? 'ipv4' : 'ipv6')) {
      this.drops.peer++;
      return;
    }
    this.counters.received++;
    // A throwing listener surfaces as an uncaught exception (the addon reports it as such).
    this.emit('packet', { payload, src, dst, ttl, ifindex });
  }

  #onError(err: Error, where: 'send' | 'receive'): void {
    if (where === 'send') this.counters.sendErrors++;
    else this.counters.receiveErrors++;
    if (this.listenerCount('socket-error') > 0) this.emit('socket-error', err);
  }
}
