// The JS face of the C advert pacer (native/rawsock/src/pacer.c): a thread that sends a
// master's adverts at their interval while the event loop is busy with the proxy. The router
// hands it the next rounds, already encoded, at every advert tick; see router.ts #pace.

import { pacerOpen, pacerSchedule, pacerStop, pacerStats, pacerClose } from '#rawsock';
import type { RawHandle, PacerHandle } from '#rawsock';

export interface PacerStats {
  /** Packets the thread sent (one per destination per round). */
  sent: number;
  errors: number;
  /** Worst lateness of a round against its due time, ms, since start. */
  maxLateMs: number;
  /** Rounds still queued. */
  queued: number;
  /** Whether the thread got SCHED_FIFO (needs CAP_SYS_NICE). */
  realtime: boolean;
}

/** One round: a packet per destination. */
export type AdvertRound = readonly (readonly [payload: Buffer, dst: string])[];

export interface AdvertPacer {
  /**
   * Replace the queued rounds. rounds[0] is due `firstDueMs` from now (< 0: at the due time of
   * the next queued round, keeping the phase), each next one `intervalMs` after it.
   */
  schedule(rounds: readonly AdvertRound[], intervalMs: number, firstDueMs: number): void;
  /** Drop what is queued. */
  stop(): void;
  stats(): PacerStats;
  close(): void;
}

export class ThreadAdvertPacer implements AdvertPacer {
  #h: PacerHandle | undefined;

  constructor(socket: RawHandle, source: string, ifindex: number) {
    this.#h = pacerOpen(socket, source, ifindex);
  }

  schedule(rounds: readonly AdvertRound[], intervalMs: number, firstDueMs: number): void {
    if (this.#h) pacerSchedule(this.#h, rounds, intervalMs, firstDueMs);
  }

  stop(): void {
    if (this.#h) pacerStop(this.#h);
  }

  stats(): PacerStats {
    return this.#h ? pacerStats(this.#h) : { sent: 0, errors: 0, maxLateMs: 0, queued: 0, realtime: false };
  }

  close(): void {
    const h = this.#h;
    this.#h = undefined;
    if (h) pacerClose(h);
  }
}
