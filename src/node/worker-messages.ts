// Messages between the node's primary process (health checks, VRRP, admin) and its serving workers.
// Health is decided once per node, in the primary, and pushed to every worker.
import type { Config, OnError } from '../config/types.ts';
import type { PoolSnapshot } from '../pool/state-transfer.ts';
import type { TrafficSnapshot } from '../proxy/traffic-stats.ts';
import type { TicketKeysMessage } from '../proxy/tls/ticket-keys.ts';

export type ToWorker =
  | { t: 'config'; config: Config; snapshot: PoolSnapshot; generation: number }
  | { t: 'health'; backend: string; server: string; up: boolean; reason: string }
  | { t: 'server'; backend: string; server: string; admin?: 'ready' | 'drain' | 'maint'; weight?: number }
  | { t: 'stats-request' }
  /** TLS session ticket keys: sent before a new worker's first config, and at each rotation. */
  | { t: 'ticket-keys'; keys: TicketKeysMessage }
  /** An ACME HTTP-01 token to answer (keyAuthorization undefined: no longer). */
  | { t: 'acme-challenge'; id: number; token: string; keyAuthorization?: string }
  /** An ACME TLS-ALPN-01 certificate for a name (cert undefined: no longer). */
  | { t: 'acme-tls-challenge'; id: number; domain: string; cert?: { chain: string; key: string } }
  /** The frontend's certificate files changed (an ACME certificate arrived): re-read them. */
  | { t: 'tls-refresh'; frontend: string }
  | { t: 'stop'; graceMs: number };

/** Per backend, per server: what one worker is doing and has done. */
export type ServerCounters = Record<string, Record<string, { active: number; requests: number; failures: number }>>;

export type FromWorker =
  | { t: 'applied'; generation: number; listenErrors: { frontend: string; bind: string; error: string }[] }
  | { t: 'passive-down'; backend: string; server: string; reason: string }
  /** The acme-challenge or acme-tls-challenge message `id` is in force in this worker. */
  | { t: 'acme-challenge-set'; id: number }
  | { t: 'passive-error'; backend: string; server: string; mode: OnError; reason: string }
  | { t: 'stats'; servers: ServerCounters; traffic: TrafficSnapshot; queues: Record<string, number> };

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}
