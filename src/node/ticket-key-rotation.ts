// The primary's TLS session ticket keys: a random key at start, a new one every
// global.ticketKeyRotation with the previous kept (ticket-keys.ts says why), each handed to
// `publish`, which gives them to the in-process frontends and to every worker. Keys live in
// memory only: a restart makes new ones, and clients holding old tickets do a full handshake once.
import { randomBytes } from 'node:crypto';
import { rotateKeys, TICKET_KEY_BYTES, type TicketKeys } from '../proxy/tls/ticket-keys.ts';

export class TicketKeyRotation {
  private keys: TicketKeys | undefined;
  private timer: NodeJS.Timeout | undefined;
  private intervalMs: number;
  private readonly publish: (keys: TicketKeys) => void;

  constructor(intervalMs: number, publish: (keys: TicketKeys) => void) {
    this.intervalMs = intervalMs;
    this.publish = publish;
  }

  /** Makes the first key and publishes it before returning: the frontends start with it. */
  start(): void {
    this.rotate();
    this.schedule();
  }

  /** A reload may change the interval; the running key stays. */
  setInterval(ms: number): void {
    if (ms === this.intervalMs) return;
    this.intervalMs = ms;
    this.schedule();
  }

  rotate(): void {
    this.keys = rotateKeys(this.keys, randomBytes(TICKET_KEY_BYTES));
    this.publish(this.keys);
  }

  private schedule(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    // node's timers hold at most 2^31-1 ms (24.8 days); longer would fire at once
    this.timer = setInterval(() => this.rotate(), Math.min(this.intervalMs, 2 ** 31 - 1));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
