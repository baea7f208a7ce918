// The pair as this node hears it: one record per peer that sent an accepted advert (source
// address, priority, when, its advert interval). Pure: the router passes its monotonic clock in,
// so the view gives ages, not wall times. Only a master advertises, so a peer we hear is master
// (or stepping down with priority 0); one not heard for Master_Down_Interval has gone quiet.

export interface PeerRecord {
  address: string;
  priority: number;
  /** Monotonic ms of the last accepted advert. */
  lastAt: number;
  advertIntervalMs: number;
  adverts: number;
}

export type PeerState = 'master' | 'stepping-down' | 'silent';

export interface PeerView {
  address: string;
  priority: number;
  /** ms since its last accepted advert. */
  lastAdvertAgoMs: number;
  advertIntervalMs: number;
  adverts: number;
  /** Inferred from its adverts: only a master sends them; priority 0 is a master leaving. */
  state: PeerState;
}

/** A peer silent for longer than this many of its own intervals is shown silent (RFC 5798 Master_Down_Interval is 3 + skew). */
const SILENT_AFTER_INTERVALS = 3.5;

export class PeerTable {
  readonly #peers = new Map<string, PeerRecord>();
  readonly #max: number;

  /** `max` bounds the table: a link full of forged sources cannot grow it without end. */
  constructor(max = 32) {
    this.#max = max;
  }

  observe(address: string, priority: number, advertIntervalMs: number, now: number): void {
    const p = this.#peers.get(address);
    if (p) {
      p.priority = priority;
      p.lastAt = now;
      p.advertIntervalMs = advertIntervalMs;
      p.adverts++;
      return;
    }
    if (this.#peers.size >= this.#max) {
      // Forget the peer heard least recently.
      let oldest: PeerRecord | undefined;
      for (const r of this.#peers.values()) if (!oldest || r.lastAt < oldest.lastAt) oldest = r;
      if (oldest) this.#peers.delete(oldest.address);
    }
    this.#peers.set(address, { address, priority, lastAt: now, advertIntervalMs, adverts: 1 });
  }

  view(now: number): PeerView[] {
    return [...this.#peers.values()]
      .map((p) => {
        const ago = Math.max(0, now - p.lastAt);
        const state: PeerState = ago > SILENT_AFTER_INTERVALS * p.advertIntervalMs ? 'silent' : p.priority === 0 ? 'stepping-down' : 'master';
        return { address: p.address, priority: p.priority, lastAdvertAgoMs: Math.round(ago), advertIntervalMs: p.advertIntervalMs, adverts: p.adverts, state };
      })
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }
}
