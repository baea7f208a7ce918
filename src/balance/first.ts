// HAProxy's "first": the first server in config order with a free connection slot takes the
// traffic, so the others can be powered down when load is low. A server without maxconn never
// fills up. `hint` is the first slot that is not full, maintained through loadChanged.

import type { ServerState } from '../pool/server-state.ts';
import type { BalancePolicy, PickRequest } from './policy.ts';

function isFull(s: ServerState): boolean {
  return s.maxconn !== undefined && s.active >= s.maxconn;
}

export class FirstPolicy implements BalancePolicy {
  readonly name = 'first';
  private servers: ServerState[] = [];
  private slotOfIndex = new Int32Array(0);
  private hint = 0;

  update(servers: readonly ServerState[]): void {
    const list = servers.filter((s) => s.weight > 0).sort((a, b) => a.index - b.index);
    this.servers = list;
    let maxIndex = -1;
    for (const s of list) if (s.index > maxIndex) maxIndex = s.index;
    this.slotOfIndex = new Int32Array(maxIndex + 1).fill(-1);
    for (let i = 0; i < list.length; i++) this.slotOfIndex[list[i]!.index] = i;
    this.hint = 0;
    this.advance();
  }

  pick(_req: PickRequest, exclude?: ReadonlySet<ServerState>): ServerState | undefined {
    const servers = this.servers;
    if (exclude === undefined || exclude.size === 0) return servers[this.hint];
    for (let i = this.hint; i < servers.length; i++) {
      const s = servers[i]!;
      if (!isFull(s) && !exclude.has(s)) return s;
    }
    return undefined;
  }

  loadChanged(server: ServerState): void {
    const slot = server.index < this.slotOfIndex.length ? this.slotOfIndex[server.index]! : -1;
    if (slot < 0 || this.servers[slot] !== server) return;
    if (!isFull(server)) {
      if (slot < this.hint) this.hint = slot;
    } else if (slot === this.hint) {
      this.advance();
    }
  }

  private advance(): void {
    const servers = this.servers;
    while (this.hint < servers.length && isFull(servers[this.hint]!)) this.hint++;
  }
}
