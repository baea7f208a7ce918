// Source-IP stickiness (HAProxy's `stick on src`): remember which server a client address was
// sent to, and send it there again while that server is up. Bounded in size (least recently used
// entries go first) and in time (an entry idle longer than `expireMs` is forgotten). Pure: the
// caller passes the time.

export class StickTable {
  private readonly entries = new Map<string, { server: string; at: number }>();
  private readonly maxEntries: number;
  private readonly expireMs: number;

  constructor(maxEntries = 100_000, expireMs = 30 * 60_000) {
    this.maxEntries = maxEntries;
    this.expireMs = expireMs;
  }

  get size(): number {
    return this.entries.size;
  }

  lookup(key: string, now: number): string | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.at > this.expireMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.server;
  }

  record(key: string, server: string, now: number): void {
    // Re-insert so Map order is least recently used first.
    this.entries.delete(key);
    this.entries.set(key, { server, at: now });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
