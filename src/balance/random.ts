// Power of two random choices, weighted: draw two servers with probability proportional to
// weight (prefix sums + binary search, O(log n)) and send to the less loaded (active/weight).
// Nearly as even as leastconn, without its herd behaviour across many balancers.

import type { ServerState } from '../pool/server-state.ts';
import type { BalancePolicy, PickRequest } from './policy.ts';

/** Draws tried before a retry (with excluded servers) falls back to a scan. */
const MAX_DRAWS = 8;

export class RandomPolicy implements BalancePolicy {
  readonly name = 'random';
  private servers: ServerState[] = [];
  private weights = new Float64Array(0);
  /** cumulative[i] = sum of weights[0..i]. */
  private cumulative = new Float64Array(0);
  private total = 0;

  update(servers: readonly ServerState[]): void {
    const list = servers.filter((s) => s.weight > 0);
    this.servers = list;
    this.weights = new Float64Array(list.length);
    this.cumulative = new Float64Array(list.length);
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      this.weights[i] = list[i]!.weight;
      total += list[i]!.weight;
      this.cumulative[i] = total;
    }
    this.total = total;
  }

  pick(req: PickRequest, exclude?: ReadonlySet<ServerState>): ServerState | undefined {
    const n = this.servers.length;
    if (n === 0) return undefined;
    if (n === 1) {
      const only = this.servers[0]!;
      return exclude !== undefined && exclude.has(only) ? undefined : only;
    }
    const hasExclude = exclude !== undefined && exclude.size > 0;
    let a = -1;
    let b = -1;
    for (let d = 0; d < MAX_DRAWS && b < 0; d++) {
      const i = this.draw(req.random());
      if (hasExclude && exclude.has(this.servers[i]!)) continue;
      if (a < 0) a = i;
      else b = i;
    }
    if (a < 0) return this.scan(exclude);
    if (b < 0) return this.servers[a];
    return this.lessLoaded(b, a) ? this.servers[b] : this.servers[a];
  }

  private draw(r: number): number {
    const target = r * this.total;
    const c = this.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private lessLoaded(a: number, b: number): boolean {
    return this.servers[a]!.active * this.weights[b]! < this.servers[b]!.active * this.weights[a]!;
  }

  private scan(exclude: ReadonlySet<ServerState> | undefined): ServerState | undefined {
    let best = -1;
    for (let i = 0; i < this.servers.length; i++) {
      if (exclude !== undefined && exclude.has(this.servers[i]!)) continue;
      if (best < 0 || this.lessLoaded(i, best)) best = i;
    }
    return best < 0 ? undefined : this.servers[best];
  }
}
