// Smooth weighted round robin (nginx): each pick adds every server's weight to its `current`,
// takes the largest, and subtracts the total from the winner. Over one cycle of `total` picks
// every server is chosen exactly `weight` times, spread out rather than in bursts (5,1,1 gives
// a a b a c a a, not a a a a a b c).
//
// The cycle is precomputed once per update so a pick is O(1); when n * total is too large to
// precompute cheaply the classic O(n) form runs live instead.

import type { ServerState } from '../pool/server-state.ts';
import type { BalancePolicy, PickRequest } from './policy.ts';

/** Largest n * total weight for which the cycle is precomputed (a few ms of work at worst). */
const SCHEDULE_BUDGET = 1 << 22;

export class RoundRobinPolicy implements BalancePolicy {
  readonly name: string = 'roundrobin';
  private servers: ServerState[] = [];
  private weights = new Int32Array(0);
  private current = new Float64Array(0);
  private total = 0;
  private schedule: Uint32Array | undefined;
  private pos = 0;

  update(servers: readonly ServerState[]): void {
    const list = servers.filter((s) => s.weight > 0);
    const n = list.length;
    this.servers = list;
    this.weights = new Int32Array(n);
    this.current = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = Math.floor(list[i]!.weight);
      this.weights[i] = w;
      total += w;
    }
    this.total = total;
    this.schedule = undefined;
    if (n > 0 && n * total <= SCHEDULE_BUDGET) {
      const schedule = new Uint32Array(total);
      for (let k = 0; k < total; k++) schedule[k] = this.step(undefined);
      this.schedule = schedule;
      this.current.fill(0);
    }
    // Keep the position (modulo the new cycle) so frequent updates do not favour the first server.
    this.pos = total > 0 ? this.pos % total : 0;
  }

  pick(_req: PickRequest, exclude?: ReadonlySet<ServerState>): ServerState | undefined {
    const n = this.servers.length;
    if (n === 0) return undefined;
    const schedule = this.schedule;
    if (schedule === undefined) {
      const i = this.step(exclude);
      return i < 0 ? undefined : this.servers[i];
    }
    const len = schedule.length;
    if (exclude === undefined || exclude.size === 0) {
      const s = this.servers[schedule[this.pos]!];
      this.pos = this.pos + 1 === len ? 0 : this.pos + 1;
      return s;
    }
    // Retry path: walk the cycle past excluded servers; at most one full cycle.
    for (let k = 0; k < len; k++) {
      const s = this.servers[schedule[this.pos]!]!;
      this.pos = this.pos + 1 === len ? 0 : this.pos + 1;
      if (!exclude.has(s)) return s;
    }
    return undefined;
  }

  /** One live SWRR step over the non-excluded servers; returns the winner's position or -1. */
  private step(exclude: ReadonlySet<ServerState> | undefined): number {
    const servers = this.servers;
    const weights = this.weights;
    const current = this.current;
    let best = -1;
    let total = 0;
    for (let i = 0; i < servers.length; i++) {
      if (exclude !== undefined && exclude.has(servers[i]!)) continue;
      const w = weights[i]!;
      current[i]! += w;
      total += w;
      if (best < 0 || current[i]! > current[best]!) best = i;
    }
    if (best >= 0) current[best]! -= total;
    return best;
  }
}
