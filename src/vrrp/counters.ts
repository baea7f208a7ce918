// What a VRRP router counts: adverts in and out, state changes, and every dropped packet by
// reason. Operators read these when two nodes disagree about who is master (wrong VRID, wrong
// password, a peer on another version): a drop is never silent, it shows up here and in a log.

import type { DecodeReason } from './decode-errors.ts';
// auth-unsigned, auth-malformed, auth-unknown-key, auth-forged, auth-replayed (hmac-trailer.ts).
import type { HmacFailureReason } from './hmac-trailer.ts';

/** Reasons the router itself adds to the codec's (packet.ts / decode-errors.ts). */
export type RouterDropReason =
  /** Valid advert for another virtual router on the same link (keepalived: vrid_err). */
  | 'unknown-vrid'
  /** v2 advert for a v3 instance or the reverse (keepalived: vers_err). */
  | 'version-mismatch'
  /** VRRPv2: the advert interval differs from ours (RFC 3768 §7.1 MUST; keepalived drops too). */
  | 'interval-mismatch'
  /** The advert's address list is not our virtual_ipaddress list (keepalived: addr_list_err). */
  | 'address-mismatch'
  /** Unicast mode: the sender is not a configured peer (keepalived: vrrp_check_unicast_src). */
  | 'not-a-peer'
  /** Our own advert came back (multicast loop, a bridge reflecting it). */
  | 'own-advert';

/** Drops the transport made before the router saw the packet (transport.ts DropReason, renamed). */
export type TransportDropReason = 'wire-ttl' | 'wrong-interface' | 'wire-not-a-peer' | 'malformed-ip';

export type DropReason = DecodeReason | RouterDropReason | TransportDropReason | HmacFailureReason;

export interface RouterCountersSnapshot {
  advertsSent: number;
  /** Valid adverts for our VRID that went to the state machine. */
  advertsReceived: number;
  /** Of those, priority 0 (a master stepping down). */
  priorityZeroReceived: number;
  priorityZeroSent: number;
  /** Sends the kernel refused (link down, no route). */
  sendErrors: number;
  /** Transitions into MASTER. */
  becameMaster: number;
  /** Every state change, by the state entered and why (transition-reason.ts). */
  transitions: { to: string; reason: string; count: number }[];
  dropped: number;
  /** Only reasons that happened, so the object stays readable. */
  drops: Partial<Record<DropReason, number>>;
}

export class RouterCounters {
  advertsSent = 0;
  advertsReceived = 0;
  priorityZeroReceived = 0;
  priorityZeroSent = 0;
  sendErrors = 0;
  becameMaster = 0;
  readonly #drops = new Map<DropReason, number>();
  readonly #transitions = new Map<string, { to: string; reason: string; count: number }>();

  transition(to: string, reason: string): void {
    const key = `${to} ${reason}`;
    const t = this.#transitions.get(key);
    if (t) t.count++;
    else this.#transitions.set(key, { to, reason, count: 1 });
  }

  drop(reason: DropReason): void {
    this.#drops.set(reason, (this.#drops.get(reason) ?? 0) + 1);
  }

  drops(reason: DropReason): number {
    return this.#drops.get(reason) ?? 0;
  }

  /** `transport` adds the transport's own drop counts (kept by the transport). */
  snapshot(transport?: Partial<Record<TransportDropReason, number>>): RouterCountersSnapshot {
    const drops: Partial<Record<DropReason, number>> = {};
    let dropped = 0;
    for (const [reason, n] of this.#drops) {
      drops[reason] = n;
      dropped += n;
    }
    for (const [reason, n] of Object.entries(transport ?? {}) as [TransportDropReason, number][]) {
      if (n > 0) {
        drops[reason] = (drops[reason] ?? 0) + n;
        dropped += n;
      }
    }
    return {
      advertsSent: this.advertsSent,
      advertsReceived: this.advertsReceived,
      priorityZeroReceived: this.priorityZeroReceived,
      priorityZeroSent: this.priorityZeroSent,
      sendErrors: this.sendErrors,
      becameMaster: this.becameMaster,
      transitions: [...this.#transitions.values()].map((t) => ({ ...t })),
      dropped,
      drops,
    };
  }
}
