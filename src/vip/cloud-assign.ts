// The acquire loop every cloud floating-IP provider shares: look at who holds the address,
// ask for it if it is not ours, wait for the provider's action to finish, look again.
// Failures that retrying can fix (5xx, timeouts, 429, "pending event", a stuck action) are
// retried with jittered exponential backoff within a bound; ones it cannot (401, 403, 404,
// 400) end the loop at once. This is what keepalived users script as "assign, up to 10 times,
// 3 s apart"; here the bound and the waits are settings.

import type { Logger } from '../log/logger.ts';
import { backoffDelay } from './backoff.ts';
import { ApiError } from './cloud-http.ts';
import { ProviderError, type AcquireResult } from './provider.ts';

/** What every cloud floating-IP client is configured with (the provider adds its own ids). */
export interface CloudClientOptions {
  ip: string;
  tokenEnv?: string;
  tokenFile?: string;
  /** With or without the API version suffix. */
  apiBase?: string;
  metadataBase?: string;
  /** Per HTTP request. */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  log?: Logger;
  /** Tests: environment to read token_env from. */
  env?: NodeJS.ProcessEnv;
  /** Tests: record or shorten waits. The HTTP requests themselves are always real. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** An `{ action: { id, status } }` answer, with the provider's words for finished and failed. */
export function readAction(body: unknown, words: { done: string; failed: string }, what: string): { id: number | null; status: ActionStatus } {
  const a = (body as { action?: { id?: unknown; status?: unknown } } | undefined)?.action;
  if (!a || typeof a !== 'object') throw new ApiError(`${what}: answer has no action`, { kind: 'transport' });
  const id = typeof a.id === 'number' ? a.id : null;
  const status: ActionStatus = a.status === words.done ? 'done' : a.status === words.failed ? 'failed' : 'running';
  return { id, status };
}

export interface Holder {
  mine: boolean;
  /** "droplet 42", "server 7", "nobody". */
  holder: string;
  /** The provider reports an action in progress on the address (DO `locked`). */
  busy: boolean;
}

export type ActionStatus = 'running' | 'done' | 'failed';

export interface CloudAssignOps {
  current(signal: AbortSignal): Promise<Holder>;
  /** Starts the assignment; returns the action id to poll, or null when the API finished it already. */
  assign(signal: AbortSignal): Promise<{ actionId: number | null; status: ActionStatus }>;
  action(id: number, signal: AbortSignal): Promise<{ status: ActionStatus; detail?: string }>;
  /** "203.0.113.10 to droplet 42", for messages. */
  describe(): string;
}

export interface RetryPolicy {
  /** Assignment attempts before giving up (master.sh: 10). */
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Longest single wait a 429 may ask for before we wait our own backoff instead. */
  retryAfterMaxMs: number;
  actionPollMs: number;
  /** Give up waiting on one action after this long (then look at the address again). */
  actionTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 10,
  backoffBaseMs: 1_000,
  backoffMaxMs: 15_000,
  retryAfterMaxMs: 60_000,
  actionPollMs: 1_000,
  actionTimeoutMs: 60_000,
};

export interface LoopDeps {
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random: () => number;
  now: () => number;
  /** Told about each failed attempt (for a warn log line); optional. */
  onRetry?: (attempt: number, reason: string, delayMs: number) => void;
}

/** HTTP statuses where trying again cannot help: credentials, permissions, no such address, our request is malformed. */
export function isFatalStatus(status: number | undefined): boolean {
  return status === 400 || status === 401 || status === 403 || status === 404;
}

export async function acquireLoop(
  provider: string,
  ops: CloudAssignOps,
  policy: RetryPolicy,
  deps: LoopDeps,
  signal: AbortSignal,
): Promise<AcquireResult> {
  let lastReason = 'no attempt made';
  let assigned = false;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    signal.throwIfAborted();
    let delay = backoffDelay(attempt, { baseMs: policy.backoffBaseMs, maxMs: policy.backoffMaxMs }, deps.random);
    try {
      const cur = await ops.current(signal);
      if (cur.mine) {
        return {
          changed: assigned,
          attempts: attempt,
          detail: assigned ? `assigned ${ops.describe()}` : `${ops.describe()}: already assigned here`,
        };
      }
      if (cur.busy) {
        lastReason = `address is locked by an action in progress (held by ${cur.holder})`;
      } else {
        const started = await ops.assign(signal);
        assigned = true;
        let status = started.status;
        if (status === 'running' && started.actionId !== null) {
          status = await waitAction(ops, started.actionId, policy, deps, signal);
        }
        if (status === 'done') {
          const after = await ops.current(signal);
          if (after.mine) {
            return { changed: true, attempts: attempt, detail: `assigned ${ops.describe()}${started.actionId !== null ? ` (action ${started.actionId} completed)` : ''}` };
          }
          lastReason = `action completed but the address is held by ${after.holder}`;
        } else if (status === 'failed') {
          lastReason = `action ${started.actionId} errored`;
        } else {
          lastReason = `action ${started.actionId} still in progress after ${policy.actionTimeoutMs} ms`;
          // We already waited the action's bound; look again right away.
          delay = 0;
        }
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof ProviderError) throw err;
      if (!(err instanceof ApiError)) throw err;
      if (err.kind === 'http' && isFatalStatus(err.status)) {
        throw new ProviderError(provider, `${err.message} (not retried)`, { fatal: true, status: err.status, ...(err.code !== undefined ? { code: err.code } : {}) });
      }
      lastReason = err.message;
      if (err.status === 429 || err.status === 503) {
        if (err.retryAfterMs !== undefined && err.retryAfterMs <= policy.retryAfterMaxMs) delay = Math.max(delay, err.retryAfterMs);
      }
      // 422 (DO: "already assigned"/"pending event"; Hetzner: floating_ip_assigned) and
      // 409/423 (locked): the next look at the address settles it, after the backoff.
    }
    if (attempt < policy.maxAttempts) {
      deps.onRetry?.(attempt, lastReason, delay);
      if (delay > 0) await deps.sleep(delay, signal);
    }
  }
  throw new ProviderError(provider, `gave up on ${ops.describe()} after ${policy.maxAttempts} attempts: ${lastReason}`, { fatal: false });
}

async function waitAction(ops: CloudAssignOps, id: number, policy: RetryPolicy, deps: LoopDeps, signal: AbortSignal): Promise<ActionStatus> {
  // Bounded by poll count as well as by clock, so a slow API cannot stretch the bound.
  const deadline = deps.now() + policy.actionTimeoutMs;
  const maxPolls = Math.max(1, Math.ceil(policy.actionTimeoutMs / Math.max(1, policy.actionPollMs)));
  for (let poll = 1; ; poll++) {
    await deps.sleep(policy.actionPollMs, signal);
    try {
      const a = await ops.action(id, signal);
      if (a.status !== 'running') return a.status;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      // A blip while polling is not a failed assignment; a fatal answer is.
      if (!(err instanceof ApiError) || (err.kind === 'http' && isFatalStatus(err.status) && err.status !== 404)) throw err;
    }
    if (poll >= maxPolls || deps.now() >= deadline) return 'running';
  }
}

/** For one-shot calls (verify, release): an ApiError as a ProviderError with the same fatality rule. */
export function toProviderError(provider: string, err: unknown): unknown {
  if (err instanceof ApiError) {
    return new ProviderError(provider, err.message, {
      fatal: err.kind === 'http' && isFatalStatus(err.status),
      ...(err.status !== undefined ? { status: err.status } : {}),
      ...(err.code !== undefined ? { code: err.code } : {}),
      cause: err,
    });
  }
  return err;
}
