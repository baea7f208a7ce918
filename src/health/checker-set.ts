// Wires active checks to pools: every server of a backend with a health section (and `check`
// on) gets a scheduled check; verdict changes go to pool.setHealth with their reason. When the
// pool marks a server down for another reason (passive errors), the check counter is forced
// down too, so the server needs `rise` good checks to return, as HAProxy's on-error mark-down.
// The other on-error modes reach the scheduler as 'passive-error' events from the pool.

import type { Logger } from '../log/logger.ts';
import type { OnError } from '../config/types.ts';
import type { BackendPool } from '../pool/backend-pool.ts';
import type { ServerState } from '../pool/server-state.ts';
import { HealthScheduler, type CheckRunner, type CheckStatus } from './scheduler.ts';

export interface CheckerSetOptions {
  log: Logger;
  /** Replace the real TCP/HTTP checks (tests). */
  run?: CheckRunner;
  random?: () => number;
  jitter?: number;
}

export class CheckerSet {
  private readonly scheduler: HealthScheduler;
  private readonly pools = new Map<string, BackendPool>();
  private readonly unlisten: (() => void)[] = [];
  /** Set while our own callback updates a pool, so its echo is not taken as a passive event. */
  private applying = false;

  constructor(pools: Iterable<BackendPool>, opts: CheckerSetOptions) {
    this.scheduler = new HealthScheduler({
      log: opts.log.child({ component: 'health' }),
      run: opts.run,
      random: opts.random,
      jitter: opts.jitter,
      onTransition: (backend, server, up, reason) => {
        const pool = this.pools.get(backend);
        if (pool === undefined) return;
        this.applying = true;
        try {
          pool.setHealth(server, up, reason);
        } finally {
          this.applying = false;
        }
      },
    });
    for (const pool of pools) {
      const health = pool.config.health;
      if (health === undefined) continue;
      this.pools.set(pool.name, pool);
      for (const s of pool.servers) {
        if (!pool.config.servers[s.index]!.check) continue;
        // A server restored as down after a reload must earn its way back with `rise` checks.
        const target = pool.tls === undefined ? { host: s.host, port: s.port } : { host: s.host, port: s.port, tls: pool.tls.options(s.host) };
        this.scheduler.add({ backend: pool.name, server: s.name, target, health, init: s.up ? 'up' : 'fully-down' });
      }
    }
  }

  start(): void {
    for (const pool of this.pools.values()) {
      const onState = (s: ServerState, reason: string): void => {
        if (this.applying || s.up) return;
        this.scheduler.force(pool.name, s.name, false, reason);
      };
      const onPassive = (s: ServerState, mode: OnError, reason: string): void => this.scheduler.passiveError(pool.name, s.name, mode, reason);
      pool.on('server-state', onState);
      pool.on('passive-error', onPassive);
      this.unlisten.push(() => {
        pool.off('server-state', onState);
        pool.off('passive-error', onPassive);
      });
    }
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
    for (const off of this.unlisten) off();
    this.unlisten.length = 0;
  }

  /** Check counters and last results, for the status API. */
  states(): CheckStatus[] {
    return this.scheduler.status();
  }
}
