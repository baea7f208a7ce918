// Reload: carry runtime state from the old pools to the new ones by backend and server name,
// so a reload never resets health to "all up" nor forgets an operator's drain or weight.
//
// Rules (like HAProxy's server-state-file): health carries over when the server's address is
// unchanged (a new address is a new machine, it starts fresh). Admin state and weight carry
// over only when the config for them did not change; a changed config value wins over the old
// runtime override, because the operator just asked for it.

import type { BackendConfig } from '../config/types.ts';
import type { AdminState } from './server-state.ts';
import type { BackendPool } from './backend-pool.ts';

export interface ServerSnapshot {
  host: string;
  port: number;
  up: boolean;
  admin: AdminState;
  weight: number;
  /** What the config said when the snapshot was taken, to detect config changes. */
  configAdmin: AdminState;
  configWeight: number;
  /** Stats counters continue across a reload (Prometheus counters should not reset). */
  requests: number;
  failures: number;
  wentDown?: number;
  wentUp?: number;
}

/** backend name -> server name -> state. Plain JSON: it can cross worker IPC. */
export type PoolSnapshot = Record<string, Record<string, ServerSnapshot>>;

function configAdmin(cfg: BackendConfig, index: number): AdminState {
  const sc = cfg.servers[index]!;
  return sc.disabled ? 'maint' : sc.drain ? 'drain' : 'ready';
}

export function snapshotPools(pools: Iterable<BackendPool>): PoolSnapshot {
  const out: PoolSnapshot = {};
  for (const pool of pools) {
    const servers: Record<string, ServerSnapshot> = {};
    for (const s of pool.servers) {
      servers[s.name] = {
        host: s.host,
        port: s.port,
        up: s.up,
        admin: s.admin,
        weight: s.weight,
        configAdmin: configAdmin(pool.config, s.index),
        configWeight: pool.config.servers[s.index]!.weight,
        requests: s.requests,
        failures: s.failures,
        wentDown: s.wentDown,
        wentUp: s.wentUp,
      };
    }
    out[pool.name] = servers;
  }
  return out;
}

/** Apply a snapshot to freshly built pools. Returns how many servers took over some state. */
export function restorePools(pools: Iterable<BackendPool>, snapshot: PoolSnapshot): number {
  let restored = 0;
  for (const pool of pools) {
    const old = snapshot[pool.name];
    if (old === undefined) continue;
    for (const s of pool.servers) {
      const prev = Object.hasOwn(old, s.name) ? old[s.name] : undefined;
      if (prev === undefined) continue;
      const sc = pool.config.servers[s.index]!;
      s.requests = prev.requests ?? 0;
      s.failures = prev.failures ?? 0;
      let touched = false;
      if (prev.host === s.host && prev.port === s.port && prev.up !== s.up) {
        pool.setHealth(s.name, prev.up, 'state carried over reload');
        touched = true;
      }
      // After setHealth: carrying a state over is not a transition.
      s.wentDown = prev.wentDown ?? 0;
      s.wentUp = prev.wentUp ?? 0;
      if (prev.configAdmin === configAdmin(pool.config, s.index) && prev.admin !== s.admin) {
        pool.setAdmin(s.name, prev.admin);
        touched = true;
      }
      if (prev.configWeight === sc.weight && prev.weight !== s.weight) {
        pool.setWeight(s.name, prev.weight);
        touched = true;
      }
      if (touched) restored++;
    }
  }
  return restored;
}
