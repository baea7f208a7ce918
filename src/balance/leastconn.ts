// Least connections, weighted: the server with the smallest active/weight wins. Ties go to the
// server picked longest ago, so equal servers rotate instead of the first one taking every
// burst. Kept in an indexed binary heap: pick is O(1) (plus O(log n) to record the pick) and the
// pool reports every change of `active` through loadChanged (O(log n)).

import type { ServerState } from '../pool/server-state.ts';
import type { BalancePolicy, PickRequest } from './policy.ts';

export class LeastConnPolicy implements BalancePolicy {
  readonly name = 'leastconn';
  private servers: ServerState[] = [];
  private weights = new Float64Array(0);
  /** Pick sequence per slot: lower = picked longer ago; the tie-breaker. */
  private seq = new Float64Array(0);
  private counter = 0;
  /** heap[k] = slot; heapPos[slot] = k. */
  private heap = new Int32Array(0);
  private heapPos = new Int32Array(0);
  /** server.index -> slot, -1 when the server is not in the eligible set. */
  private slotOfIndex = new Int32Array(0);

  update(servers: readonly ServerState[]): void {
    const list = servers.filter((s) => s.weight > 0);
    const n = list.length;
    this.servers = list;
    this.weights = new Float64Array(n);
    this.seq = new Float64Array(n);
    this.heap = new Int32Array(n);
    this.heapPos = new Int32Array(n);
    let maxIndex = -1;
    for (const s of list) if (s.index > maxIndex) maxIndex = s.index;
    this.slotOfIndex = new Int32Array(maxIndex + 1).fill(-1);
    for (let i = 0; i < n; i++) {
      const s = list[i]!;
      this.weights[i] = s.weight;
      this.seq[i] = i - n; // config order breaks the very first ties
      this.slotOfIndex[s.index] = i;
      this.heap[i] = i;
      this.heapPos[i] = i;
    }
    for (let k = (n >> 1) - 1; k >= 0; k--) this.siftDown(k);
  }

  pick(_req: PickRequest, exclude?: ReadonlySet<ServerState>): ServerState | undefined {
    const n = this.servers.length;
    if (n === 0) return undefined;
    let slot: number;
    if (exclude === undefined || exclude.size === 0) {
      slot = this.heap[0]!;
    } else {
      slot = -1;
      for (let i = 0; i < n; i++) {
        if (exclude.has(this.servers[i]!)) continue;
        if (slot < 0 || this.less(i, slot)) slot = i;
      }
      if (slot < 0) return undefined;
    }
    this.seq[slot] = ++this.counter;
    this.siftDown(this.heapPos[slot]!);
    return this.servers[slot];
  }

  loadChanged(server: ServerState): void {
    const slot = server.index < this.slotOfIndex.length ? this.slotOfIndex[server.index]! : -1;
    if (slot < 0 || this.servers[slot] !== server) return;
    const k = this.heapPos[slot]!;
    this.siftUp(k);
    this.siftDown(this.heapPos[slot]!);
  }

  /** a ranks before b: lower active/weight (compared by cross-multiplying), then older pick. */
  private less(a: number, b: number): boolean {
    const la = this.servers[a]!.active * this.weights[b]!;
    const lb = this.servers[b]!.active * this.weights[a]!;
    if (la !== lb) return la < lb;
    return this.seq[a]! < this.seq[b]!;
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    this.heapPos[b] = i;
    this.heapPos[a] = j;
  }

  private siftUp(k: number): void {
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.less(this.heap[k]!, this.heap[parent]!)) return;
      this.swap(k, parent);
      k = parent;
    }
  }

  private siftDown(k: number): void {
    const n = this.heap.length;
    while (true) {
      const l = 2 * k + 1;
      if (l >= n) return;
      const r = l + 1;
      let m = l;
      if (r < n && this.less(this.heap[r]!, this.heap[l]!)) m = r;
      if (!this.less(this.heap[m]!, this.heap[k]!)) return;
      this.swap(k, m);
      k = m;
    }
  }
}
