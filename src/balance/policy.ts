// One interface for every balancing policy. Policies are pure: they never touch sockets or clocks.
// The pool calls `update` with the servers eligible right now (already filtered for health,
// admin state and backup fallback) whenever that set or a weight changes, and `pick` per request.

import type { ServerState } from '../pool/server-state.ts';

export interface PickRequest {
  /** Client address (after PROXY protocol), for source hashing. */
  sourceIp: string;
  /** Request path with query, for uri hashing; "" in TCP mode. */
  uri: string;
  /** Header lookup by lower-case name, for hdr() hashing; absent in TCP mode. */
  header?: (name: string) => string | undefined;
  /** A deterministic random source in [0,1); tests pass a seeded one. */
  random: () => number;
}

export interface BalancePolicy {
  readonly name: string;
  /** The eligible servers changed (membership or weight). */
  update(servers: readonly ServerState[]): void;
  /** Choose a server; skip those in `exclude` (already tried for this request). undefined when none. */
  pick(req: PickRequest, exclude?: ReadonlySet<ServerState>): ServerState | undefined;
  /** Optional: the pool calls this right after it changes `server.active`, so load-aware policies
   *  (leastconn, first) keep an index up to date instead of scanning every server per pick. */
  loadChanged?(server: ServerState): void;
}
