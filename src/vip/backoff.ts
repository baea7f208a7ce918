// Delay before retry number `attempt` (1-based): exponential with "equal jitter", so two
// nodes that failed together do not hammer a provider API in lockstep. Pure: randomness injected.

export interface BackoffPolicy {
  /** Delay of the first retry before jitter. */
  baseMs: number;
  /** Cap on the un-jittered delay. */
  maxMs: number;
}

/** A value in [d/2, d] where d = min(max, base * 2^(attempt-1)). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/**
 * How long a 429/503 answer asks us to wait, in ms, or undefined when it does not say.
 * Retry-After is seconds or an HTTP date (RFC 9110 10.2.3); DigitalOcean sends seconds.
 * RateLimit-Reset (Hetzner, DigitalOcean) is the Unix time in seconds when the window refills.
 */
export function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const ra = headers.get('retry-after');
  if (ra !== null && ra.trim() !== '') {
    const s = ra.trim();
    if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
    const at = Date.parse(s);
    if (!Number.isNaN(at)) return Math.max(0, at - nowMs);
  }
  const reset = headers.get('ratelimit-reset');
  if (reset !== null && /^\d+$/.test(reset.trim())) {
    const at = Number(reset.trim()) * 1000;
    // Some APIs send seconds-until-reset instead of an epoch; small numbers mean that.
    if (at < 1e12) return Number(reset.trim()) * 1000;
    return Math.max(0, at - nowMs);
  }
  return undefined;
}
