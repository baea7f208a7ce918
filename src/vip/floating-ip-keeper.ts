// Keeps a floating address on this node while it is VRRP master, the "staying right" half of
// cloud failover: acquire on becoming master (abandoned if we stop being master meanwhile),
// then verify every verifyInterval and re-acquire when someone moved the address away (the
// split-brain race keepalived users hit with notify scripts), and re-assert when a
// lower-priority master shows up (keepalived's notify_master_rx_lower_pri case).
// Timers and clock are injected: the logic is driven step by step in unit tests.

import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.ts';
import type { Millis } from '../config/types.ts';
import { ProviderError, type AcquireResult, type AddressProvider } from './provider.ts';
import type { ApiCallResult } from './api-call-counts.ts';

export interface KeeperTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimers: KeeperTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

export interface FloatingIpKeeperOptions {
  provider: AddressProvider;
  verifyInterval: Millis;
  log: Logger;
  timers?: KeeperTimers;
  /** Wait before trying again after an acquire gave up. Default: verifyInterval. */
  retryInterval?: Millis;
  /** After a fatal error (bad token, no such address) retry this much more slowly. Default 60 s. */
  fatalRetryInterval?: Millis;
  /** Lower-priority adverts come every advert interval; re-assert at most this often. Default 5 s. */
  reassertMinGap?: Millis;
  /** On leaving MASTER, give the address up if the provider can (off by default: the next master takes it anyway). */
  releaseOnBackup?: boolean;
}

export type Holding = 'unknown' | 'ours' | 'elsewhere';

export interface KeeperStatus {
  master: boolean;
  acquiring: boolean;
  holding: Holding;
  /** Who holds the address at the last look, as the provider names it. */
  holder?: string;
  lastError?: string;
  lastAcquireAt?: number;
  acquires: number;
  failures: number;
  reassertions: number;
  /** The provider's API calls by how they ended, when it talks to an API. */
  calls?: Record<ApiCallResult, number>;
}

/**
 * Events: 'acquired' (AcquireResult), 'acquire-failed' (Error), 'moved' (holder: string) when a
 * verify found the address elsewhere while master.
 */
export class FloatingIpKeeper extends EventEmitter {
  readonly provider: AddressProvider;
  private readonly verifyInterval: number;
  private readonly retryInterval: number;
  private readonly fatalRetryInterval: number;
  private readonly reassertMinGap: number;
  private readonly releaseOnBackup: boolean;
  private readonly log: Logger;
  private readonly timers: KeeperTimers;
  private master = false;
  private generation = 0;
  private timer: unknown = undefined;
  private inflight: AbortController | undefined;
  private work: Promise<void> = Promise.resolve();
  private verifying = false;
  private lastReassert = -Infinity;
  private readonly st: KeeperStatus = { master: false, acquiring: false, holding: 'unknown', acquires: 0, failures: 0, reassertions: 0 };

  constructor(opts: FloatingIpKeeperOptions) {
    super();
    this.provider = opts.provider;
    this.verifyInterval = opts.verifyInterval;
    this.retryInterval = opts.retryInterval ?? opts.verifyInterval;
    this.fatalRetryInterval = opts.fatalRetryInterval ?? 60_000;
    this.reassertMinGap = opts.reassertMinGap ?? 5_000;
    this.releaseOnBackup = opts.releaseOnBackup ?? false;
    this.log = opts.log.child({ vip: opts.provider.name });
    this.timers = opts.timers ?? realTimers;
  }

  status(): KeeperStatus {
    const calls = this.provider.calls?.snapshot();
    return { ...this.st, master: this.master, acquiring: this.inflight !== undefined, ...(calls ? { calls } : {}) };
  }

  /** Resolves when the acquire/verify/release started so far has settled (tests, shutdown). */
  async settled(): Promise<void> {
    let w: Promise<void>;
    do {
      w = this.work;
      await w;
    } while (w !== this.work);
  }

  onMaster(): void {
    if (this.master) return;
    this.master = true;
    this.generation++;
    this.startAcquire('became MASTER');
  }

  /** Leaving MASTER for BACKUP, FAULT or STOP. */
  onBackup(): void {
    if (!this.master) return;
    this.master = false;
    this.generation++;
    this.clearTimer();
    if (this.inflight) {
      this.inflight.abort(new Error('left MASTER'));
      this.inflight = undefined;
    }
    if (this.releaseOnBackup && this.provider.release) {
      const release = this.provider.release.bind(this.provider);
      this.track(
        release().then(
          () => {
            this.st.holding = 'unknown';
            this.log.info('floating address released');
          },
          (err: unknown) => this.log.warn({ err: errMessage(err) }, 'floating address release failed'),
        ),
      );
    }
  }

  /**
   * A master heard an advert with lower priority: another node believes it is master and may
   * have taken the address. Look, and take it back if so (rate-limited).
   */
  onLowerPriorityAdvertSeen(): void {
    if (!this.master || this.inflight || this.verifying) return;
    const now = this.timers.now();
    if (now - this.lastReassert < this.reassertMinGap) return;
    this.lastReassert = now;
    this.st.reassertions++;
    this.clearTimer();
    this.verifyNow('lower-priority advert seen');
  }

  /**
   * After leaving MASTER: resolves true once the provider says the address is no longer ours
   * (the new master's assign completed, so the provider routes it there), false when `maxMs`
   * passed or `signal` aborted first. Looks every `pollMs`; a failed look is just retried.
   * Until then the traffic still comes here, so the caller keeps serving it.
   */
  async whenMovedAway(signal: AbortSignal, maxMs: number, pollMs = 500): Promise<boolean> {
    const end = this.timers.now() + maxMs;
    for (;;) {
      if (signal.aborted) return false;
      try {
        const v = await this.provider.verify();
        if (!v.ours && !this.master) {
          this.st.holding = 'elsewhere';
          this.st.holder = v.holder;
          return true;
        }
      } catch (err) {
        this.log.debug({ err: errMessage(err) }, 'floating address look failed while waiting for it to move');
      }
      const left = end - this.timers.now();
      if (signal.aborted || left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.timers.clearTimeout(handle);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const handle = this.timers.setTimeout(done, Math.min(pollMs, left));
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Shutdown: stop timers and in-flight calls. Does not release (the peer takes over). */
  async stop(): Promise<void> {
    this.master = false;
    this.generation++;
    this.clearTimer();
    this.inflight?.abort(new Error('stopping'));
    this.inflight = undefined;
    await this.settled();
  }

  private startAcquire(reason: string): void {
    if (this.inflight) return;
    const gen = this.generation;
    const ac = new AbortController();
    this.inflight = ac;
    this.log.info({ reason }, 'acquiring floating address');
    this.track(
      this.provider.acquire(ac.signal).then(
        (res: AcquireResult) => {
          if (this.inflight === ac) this.inflight = undefined;
          if (gen !== this.generation) return;
          this.st.acquires++;
          this.st.holding = 'ours';
          this.st.lastAcquireAt = this.timers.now();
          delete this.st.lastError;
          this.log.info({ changed: res.changed, attempts: res.attempts }, res.detail);
          this.emit('acquired', res);
          this.schedule(this.verifyInterval);
        },
        (err: unknown) => {
          if (this.inflight === ac) this.inflight = undefined;
          if (gen !== this.generation || ac.signal.aborted) return;
          this.st.failures++;
          this.st.lastError = errMessage(err);
          const fatal = err instanceof ProviderError && err.fatal;
          const wait = fatal ? Math.max(this.fatalRetryInterval, this.retryInterval) : this.retryInterval;
          this.log.error({ err: this.st.lastError, fatal, retryInMs: wait }, 'could not acquire floating address');
          this.emit('acquire-failed', err instanceof Error ? err : new Error(String(err)));
          this.schedule(wait, true);
        },
      ),
    );
  }

  private verifyNow(reason: string): void {
    const gen = this.generation;
    this.verifying = true;
    this.track(
      this.provider.verify().then(
        (v) => {
          this.verifying = false;
          if (gen !== this.generation) return;
          this.st.holder = v.holder;
          if (v.ours) {
            this.st.holding = 'ours';
            this.schedule(this.verifyInterval);
            return;
          }
          this.st.holding = 'elsewhere';
          this.log.warn({ holder: v.holder, reason }, 'floating address is not here while MASTER; re-acquiring');
          this.emit('moved', v.holder);
          this.startAcquire(`held by ${v.holder}`);
        },
        (err: unknown) => {
          this.verifying = false;
          if (gen !== this.generation) return;
          this.st.lastError = errMessage(err);
          this.log.warn({ err: this.st.lastError }, 'floating address verify failed');
          this.schedule(this.verifyInterval);
        },
      ),
    );
  }

  /** Next step while master: verify, or (after a failure) acquire again. */
  private schedule(ms: number, acquire = false): void {
    this.clearTimer();
    if (!this.master || ms <= 0 || !Number.isFinite(ms)) return;
    const gen = this.generation;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (gen !== this.generation || !this.master) return;
      if (acquire) this.startAcquire('retry');
      else this.verifyNow('periodic');
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private track(p: Promise<void>): void {
    const prev = this.work;
    this.work = Promise.all([prev, p]).then(() => undefined);
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
