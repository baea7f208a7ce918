// What a VRRP master does to make an address reach it. Two families implement this:
// the L2 virtual IP (add the address to an interface, announce it with GARP/NA) and cloud
// floating IPs (ask the provider's API to route the address to this machine). Hooks are not
// providers: they are fire-and-forget notifications run next to them (see exec-hooks.ts).
//
// Contract, for every implementation:
// - acquire() is idempotent: when the address already reaches this node it returns
//   { changed: false } quickly. It resolves only when the address is ours (as far as the
//   provider can tell) and rejects with ProviderError otherwise, or with the signal's reason
//   when aborted (the node left MASTER while acquiring).
// - verify() answers "does the address reach this node now?" with one cheap look; it never
//   changes anything. A failed look (network, 5xx) rejects; "it is elsewhere" resolves with ours=false.
// - calls, where the provider talks to an API: how its calls ended, for /metrics.
// - release() exists only where giving the address up means something (L2: delete the address;
//   clouds: unassign). Callers must not rely on it for correctness: the next master acquires anyway.

import type { ApiCallCounts } from './api-call-counts.ts';

export interface AcquireResult {
  /** True when this call moved the address; false when it was already ours. */
  changed: boolean;
  /** API calls / attempts it took, for logs and metrics. */
  attempts: number;
  /** One line for logs, e.g. "assigned 203.0.113.10 to droplet 42 (action 7 completed)". */
  detail: string;
}

export interface VerifyResult {
  ours: boolean;
  /** Who holds the address now, as the provider names it ("droplet 43", "server 7", "nobody"). */
  holder: string;
}

export interface AddressProvider {
  /** For logs: "digitalocean 203.0.113.10", "hetzner 198.51.100.5", "l2 172.16.0.200/24 dev eth0". */
  readonly name: string;
  acquire(signal?: AbortSignal): Promise<AcquireResult>;
  release?(): Promise<void>;
  verify(): Promise<VerifyResult>;
  readonly calls?: ApiCallCounts;
}

/**
 * A provider failure with enough shape for callers to decide what to do.
 * fatal: retrying cannot help (bad token, address does not exist, bad config).
 */
export class ProviderError extends Error {
  readonly provider: string;
  readonly fatal: boolean;
  /** HTTP status when the failure came from an API answer. */
  readonly status?: number;
  /** The provider's error code, e.g. "unauthorized", "not_found". */
  readonly code?: string;

  constructor(provider: string, message: string, opts: { fatal: boolean; status?: number; code?: string; cause?: unknown }) {
    super(`${provider}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ProviderError';
    this.provider = provider;
    this.fatal = opts.fatal;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.code !== undefined) this.code = opts.code;
  }
}
