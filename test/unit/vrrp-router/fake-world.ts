// Test doubles for the router's outside world: a transport that records what is sent and lets
// a test inject packets, and a hand-driven monotonic clock with timers.

import { EventEmitter } from 'node:events';
import type { VrrpInstanceConfig } from '../../../src/config/types.ts';
import type { RouterPacket, RouterTimers, RouterTransport } from '../../../src/vrrp/router.ts';
import { encodeAdvert } from '../../../src/vrrp/packet.ts';
import type { AdvertFields } from '../../../src/vrrp/packet.ts';

export class FakeClock implements RouterTimers {
  #now = 1000;
  #seq = 0;
  readonly pending = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.pending.set(id, { at: this.#now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Move time forward, firing due timers in deadline order (each sees now = its deadline). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.pending.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = end;
  }
}

export interface Sent {
  at: number;
  dst: string;
  payload: Buffer;
}

export class FakeTransport extends EventEmitter implements RouterTransport {
  readonly localAddress: string;
  readonly destinations: readonly string[];
  readonly multicast: boolean;
  readonly sent: Sent[] = [];
  readonly drops = { ttl: 0, interface: 0, peer: 0, malformed: 0 };
  closed = false;
  failSends = false;
  readonly #clock: FakeClock;

  constructor(clock: FakeClock, localAddress = '10.0.0.1', destinations: string[] = ['224.0.0.18']) {
    super();
    this.#clock = clock;
    this.localAddress = localAddress;
    this.destinations = destinations;
    this.multicast = destinations[0] === '224.0.0.18' || destinations[0] === 'ff02::12';
  }

  sendTo(payload: Buffer, dst: string): boolean {
    if (this.failSends) return false;
    this.sent.push({ at: this.#clock.now(), dst, payload: Buffer.from(payload) });
    return true;
  }

  close(): void {
    this.closed = true;
  }

  deliver(pkt: Partial<RouterPacket> & { payload: Buffer; src: string }): void {
    this.emit('packet', { dst: '224.0.0.18', ttl: 255, ifindex: 2, ...pkt });
  }

  /** Encode and deliver an advert from `src`. */
  advert(src: string, fields: Partial<AdvertFields>, opts: { dst?: string; ttl?: number } = {}): void {
    const dst = opts.dst ?? '224.0.0.18';
    const full: AdvertFields = { version: 3, vrid: 51, priority: 100, advertIntMs: 1000, addresses: ['10.0.0.100'], ...fields };
    this.deliver({ payload: encodeAdvert(full, { src, dst, family: 4 }), src, dst, ttl: opts.ttl ?? 255 });
  }
}

export function instanceConfig(patch: Partial<VrrpInstanceConfig> = {}): VrrpInstanceConfig {
  return {
    name: 'VI_1',
    interface: 'eth0',
    state: 'BACKUP',
    priority: 100,
    virtualRouterId: 51,
    version: 3,
    family: 4,
    advertInt: 1000,
    preempt: true,
    preemptDelay: 0,
    virtualIpAddresses: [{ address: '10.0.0.100', family: 4, prefix: 24 }],
    virtualRoutes: [],
    track: { backends: {}, frontends: {}, scripts: [], interfaces: [], files: [] },
    notify: { timeout: 5000 },
    garp: { masterDelay: 5000, masterRepeat: 5, masterRefresh: 0, interval: 0 },
    handoverBound: 3000,
    ...patch,
  };
}
