// When to ask the CA next (pure): from the held certificate's dates, the configured renew_before,
// and the failures since the last success. A failed order waits min * 2^(failures-1), capped at
// max, so a CA outage is retried ever more rarely but never given up on; success resets it.

export interface HeldCertificate {
  notBefore: Date;
  notAfter: Date;
}

export interface RenewalInput {
  now: Date;
  /** undefined: no usable certificate (none yet, or the one on disk cannot serve). */
  certificate: HeldCertificate | undefined;
  renewBeforeMs: number;
  /** Failed attempts since the last success. */
  failures: number;
  /** When the last failed attempt ended (with failures > 0). */
  lastFailureAt?: Date;
  backoff: { minMs: number; maxMs: number };
}

export type RenewalPlan =
  | { kind: 'now'; reason: string }
  | { kind: 'at'; at: Date; reason: string }
  | { kind: 'backoff'; until: Date; reason: string };

/** The delay after `failures` failed attempts (failures >= 1). */
export function backoffMs(failures: number, backoff: { minMs: number; maxMs: number }): number {
  const exp = Math.min(Math.max(failures - 1, 0), 40);
  return Math.min(backoff.minMs * 2 ** exp, backoff.maxMs);
}

/**
 * A certificate is renewed renew_before ahead of its expiry, but never before a third of its
 * lifetime has passed (Caddy's rule): a renew_before longer than a short-lived certificate's
 * lifetime would otherwise order a new one in a loop.
 */
export function renewalTime(cert: HeldCertificate, renewBeforeMs: number): Date {
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  const byConfig = cert.notAfter.getTime() - renewBeforeMs;
  const floor = cert.notBefore.getTime() + life / 3;
  return new Date(Math.max(byConfig, floor));
}

export function planRenewal(i: RenewalInput): RenewalPlan {
  const now = i.now.getTime();
  let due: number;
  let reason: string;
  if (i.certificate === undefined || i.certificate.notAfter.getTime() <= now) {
    due = now;
    reason = i.certificate === undefined ? 'no certificate held' : 'the certificate has expired';
  } else {
    due = renewalTime(i.certificate, i.renewBeforeMs).getTime();
    reason = `renewal due ${new Date(due).toISOString()} (expires ${i.certificate.notAfter.toISOString()})`;
  }
  if (i.failures > 0 && i.lastFailureAt !== undefined) {
    const until = i.lastFailureAt.getTime() + backoffMs(i.failures, i.backoff);
    if (until > now && until > due) return { kind: 'backoff', until: new Date(until), reason: `${i.failures} failed attempt${i.failures === 1 ? '' : 's'}: retry at ${new Date(until).toISOString()}` };
  }
  if (due <= now) return { kind: 'now', reason };
  return { kind: 'at', at: new Date(due), reason };
}
