// After a failed attempt to reach a server, what next: try again on the same server, redispatch
// to another, or give up. One decision for every frontend (HTTP exchange, Upgrade tunnel, TCP
// session), so `retries` and `redispatch` mean the same thing wherever they are set. Pure: the
// callers do the acquiring, releasing and counting.
//
// What a caller does when the server the step asks for cannot be had (the same server gone
// from the pool, or every server already tried) still differs per site and stays with it:
// HTTP falls back to any server, TCP starts over or gives up; changing that is a behaviour
// change, not a move.

export interface RetryConfig {
  /** Retries allowed after the first attempt (backend `retries`). */
  readonly retries: number;
  /** Retries go to another server than the one that failed (backend `redispatch`). */
  readonly redispatch: boolean;
}

/** `same-server`: retry where it failed. `redispatch`: anywhere but the servers tried. */
export type RetryStep = 'give-up' | 'same-server' | 'redispatch';

/**
 * `retriesDone`: retries already made for this request (0 after the first attempt failed).
 * `resendable`: the attempt may be repeated at all (nothing the caller cannot send again went
 * out, and the caller is still live: not finished, aborted or its client gone).
 */
export function retryStep(cfg: RetryConfig, retriesDone: number, resendable: boolean): RetryStep {
  if (!resendable || retriesDone >= cfg.retries) return 'give-up';
  return cfg.redispatch ? 'redispatch' : 'same-server';
}

/** The traffic counter a retry of this step adds to (HAProxy's wretr / wredis). */
export function retryCounter(step: 'same-server' | 'redispatch'): 'retries' | 'redispatches' {
  return step === 'redispatch' ? 'redispatches' : 'retries';
}

/** The servers a redispatch must avoid: those tried before, and the one that just failed. */
export function triedWith<S>(tried: Set<S> | undefined, failed: S): Set<S> {
  const t = tried ?? new Set<S>();
  t.add(failed);
  return t;
}
