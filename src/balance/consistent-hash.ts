// Consistent hashing on a ring: every server owns weight-proportional virtual points placed by
// hashing its *name* (not its position), so adding or removing one of n servers moves only the
// keys it owns, about 1/n of them, and every halb node with the same config agrees on the
// mapping. A key goes to the first point at or after its hash (binary search, O(log points)).
// A request without a key (no source address, missing header) falls back to round robin, as
// HAProxy does.

import type { ServerState } from '../pool/server-state.ts';
import type { BalancePolicy, PickRequest } from './policy.ts';
import { fmix32, hashString } from './hash.ts';
import { RoundRobinPolicy } from './roundrobin.ts';

/** Virtual points per unit of weight. */
export const POINTS_PER_WEIGHT = 100;
/** Upper bound on ring size; weights are scaled down beyond it (memory and rebuild time). */
const MAX_POINTS = 1 << 20;
/** Returned by keyHash when the request has no key. */
export const NO_KEY = -1;

export class HashRing {
  readonly servers: ServerState[];
  /** Sorted point hashes and, at the same position, the server slot owning the point. */
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;

  constructor(servers: readonly ServerState[]) {
    const list = servers.filter((s) => s.weight > 0);
    this.servers = list;
    let totalWeight = 0;
    for (const s of list) totalWeight += s.weight;
    const perWeight = Math.max(1, Math.min(POINTS_PER_WEIGHT, Math.floor(MAX_POINTS / Math.max(1, totalWeight))));
    let count = 0;
    for (const s of list) count += Math.max(1, Math.round(s.weight * perWeight));
    // Pack (hash, slot) pairs into float64s so one numeric sort orders them.
    const packed = new Float64Array(count);
    let k = 0;
    for (let slot = 0; slot < list.length; slot++) {
      const s = list[slot]!;
      const base = hashString(s.name);
      const n = Math.max(1, Math.round(s.weight * perWeight));
      for (let i = 0; i < n; i++) {
        const h = fmix32((base + Math.imul(i + 1, 0x9e3779b1)) >>> 0);
        packed[k++] = h * 65536 + slot;
      }
    }
    packed.sort();
    this.points = new Uint32Array(count);
    this.owners = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const v = packed[i]!;
      const slot = v % 65536;
      this.points[i] = (v - slot) / 65536;
      this.owners[i] = slot;
    }
  }

  get size(): number {
    return this.points.length;
  }

  /** The server owning `hash`, skipping excluded servers clockwise; undefined if none is left. */
  lookup(hash: number, exclude?: ReadonlySet<ServerState>): ServerState | undefined {
    const points = this.points;
    const n = points.length;
    if (n === 0) return undefined;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    let i = lo === n ? 0 : lo;
    const first = this.servers[this.owners[i]!]!;
    if (exclude === undefined || exclude.size === 0 || !exclude.has(first)) return first;
    for (let step = 1; step < n; step++) {
      i = i + 1 === n ? 0 : i + 1;
      const s = this.servers[this.owners[i]!]!;
      if (!exclude.has(s)) return s;
    }
    return undefined;
  }
}

/** A hashing policy; subclasses say which part of the request is the key. */
export abstract class ConsistentHashPolicy implements BalancePolicy {
  abstract readonly name: string;
  private ring = new HashRing([]);
  private readonly fallback = new RoundRobinPolicy();

  /** uint32 hash of the request's key, or NO_KEY. */
  protected abstract keyHash(req: PickRequest): number;

  update(servers: readonly ServerState[]): void {
    this.ring = new HashRing(servers);
    this.fallback.update(servers);
  }

  pick(req: PickRequest, exclude?: ReadonlySet<ServerState>): ServerState | undefined {
    const h = this.keyHash(req);
    if (h === NO_KEY) return this.fallback.pick(req, exclude);
    return this.ring.lookup(h, exclude);
  }
}
