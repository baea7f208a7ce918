// One backend's servers and their runtime state: which can take traffic (health, admin state,
// weight, backup fallback), how many connections each carries, and a FIFO queue for requests
// that arrive while every eligible server is at maxconn. The balancing policy only ever sees
// the eligible set; it is rebuilt when membership or weights change, never per request.
//
// Passive health: `passive.errorLimit` consecutive failed outcomes (connect error, server error,
// timeout) mark a server down, like HAProxy's `observe layer4` + `on-error mark-down`. An active
// checker, when the server has one, brings it back after `rise` good checks (CheckerSet forces
// its counter down when it sees the passive event). A server without active checks is retried
// after a pause (health.downinter when the backend has health config, else 10 s): HAProxy needs
// `check` for on-error, so it has no equivalent; retrying beats leaving the server down forever,
// and if it still fails it goes down again after errorLimit more errors. `observe layer4` counts
// only failed connects; a failed exchange neither counts nor resets the count (HAProxy ignores
// layer7 events under layer4).

import { StickTable } from './stick-table.ts';
import { backendTls, type BackendTls } from './backend-tls.ts';
import { EventEmitter } from 'node:events';
import type { BackendConfig, OnError } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { BalancePolicy, PickRequest } from '../balance/policy.ts';
import { createPolicy } from '../balance/create-policy.ts';
import { isUsable, type AdminState, type ServerState } from './server-state.ts';

export type Outcome = 'ok' | 'connect-error' | 'server-error' | 'timeout';
export type AcquireFailure = 'no-server' | 'queue-timeout' | 'queue-full';

export type BackendPoolEvents = {
  'server-state': [server: ServerState, reason: string];
  'usable-changed': [usable: boolean];
  /** error-limit reached under an on-error mode the active checker carries out. */
  'passive-error': [server: ServerState, mode: OnError, reason: string];
};

export interface BackendPoolTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface BackendPoolOptions {
  log: Logger;
  /** Kept for callers that build PickRequests from the pool; policies use req.random. */
  random?: () => number;
  /** Pause before a passively-downed server without active checks is tried again. */
  passiveRetryMs?: number;
  /** Inject timers (tests). Default: global setTimeout/clearTimeout, unref'd. */
  timers?: BackendPoolTimers;
}

/** Passive retry pause when the backend has no health section to take downinter from. */
export const DEFAULT_PASSIVE_RETRY_MS = 10_000;
/** Hard cap on queued requests per backend when servers set no maxqueue (HAProxy: unlimited). */
export const MAX_QUEUE = 10_000;

const ADMIN_STATES: readonly AdminState[] = ['ready', 'drain', 'maint'];

interface Waiter {
  req: PickRequest;
  exclude: ReadonlySet<ServerState> | undefined;
  resolve: (result: ServerState | AcquireFailure) => void;
  timer: unknown;
  done: boolean;
}

const realTimers: BackendPoolTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

function isFull(s: ServerState): boolean {
  return s.maxconn !== undefined && s.active >= s.maxconn;
}

export class BackendPool extends EventEmitter<BackendPoolEvents> {
  readonly name: string;
  readonly config: BackendConfig;
  readonly servers: readonly ServerState[];
  readonly random: () => number;
  /** TLS to the servers (backend `tls:`), shared by traffic and health checks. */
  readonly tls: BackendTls | undefined;
  private readonly log: Logger;
  private readonly policy: BalancePolicy;
  private readonly timers: BackendPoolTimers;
  private readonly byName = new Map<string, ServerState>();
  /** Consecutive failed outcomes per server index (passive health). */
  private readonly errors: Int32Array;
  /** Passive retry timers per server index (servers without active checks). */
  private readonly retryTimers: unknown[];
  private readonly passiveRetryMs: number;
  private eligible: ServerState[] = [];
  private eligibleWeights: number[] = [];
  private usable = false;
  private queue: Waiter[] = [];
  private queueHead = 0;
  private queued = 0;
  private queueLimit = 0;
  private closed = false;
  private lastUsableEmitted = false;
  /** `stick: source`: client address -> server it was sent to. */
  private readonly stick: StickTable | undefined;

  constructor(config: BackendConfig, opts: BackendPoolOptions) {
    super();
    this.name = config.name;
    this.config = config;
    this.log = opts.log.child({ backend: config.name });
    this.random = opts.random ?? Math.random;
    this.timers = opts.timers ?? realTimers;
    this.passiveRetryMs = opts.passiveRetryMs ?? config.health?.downinter ?? DEFAULT_PASSIVE_RETRY_MS;
    this.policy = createPolicy(config.balance);
    this.tls = config.tls === undefined ? undefined : backendTls(config.tls, config.proto === 'h2' ? ['h2'] : undefined);
    this.stick = config.stickSource ? new StickTable() : undefined;
    const servers: ServerState[] = [];
    config.servers.forEach((sc, index) => {
      if (this.byName.has(sc.name)) throw new Error(`backend ${config.name}: duplicate server name ${JSON.stringify(sc.name)}`);
      const s: ServerState = {
        backend: config.name,
        name: sc.name,
        host: sc.host,
        port: sc.port,
        weight: sc.weight,
        backup: sc.backup,
        // HAProxy's default init-state "up": servers take traffic at once; a failing check
        // takes them out after a single failure (see health/rise-fall.ts).
        up: true,
        admin: sc.disabled ? 'maint' : sc.drain ? 'drain' : 'ready',
        active: 0,
        requests: 0,
        failures: 0,
        wentDown: 0,
        wentUp: 0,
        maxconn: sc.maxconn,
        index,
      };
      servers.push(s);
      this.byName.set(sc.name, s);
    });
    this.servers = servers;
    this.errors = new Int32Array(servers.length);
    this.retryTimers = new Array<unknown>(servers.length).fill(undefined);
    this.recompute();
    this.lastUsableEmitted = this.usable;
  }

  /** The policy's name, e.g. "roundrobin" or "hdr(x-user)". */
  get algorithm(): string {
    return this.policy.name;
  }

  /** Requests waiting for a slot now. */
  get queueLength(): number {
    return this.queued;
  }

  /** The servers the policy chooses from now (usable normals, else usable backups). */
  get eligibleServers(): readonly ServerState[] {
    return this.eligible;
  }

  server(name: string): ServerState | undefined {
    return this.byName.get(name);
  }

  acquire(
    req: PickRequest,
    exclude?: ReadonlySet<ServerState>,
  ): ServerState | AcquireFailure | Promise<ServerState | AcquireFailure> {
    const stick = this.stick;
    if (stick !== undefined) {
      // A retry (exclude given) means the remembered server just failed: pick afresh.
      if (exclude === undefined) {
        const name = stick.lookup(req.sourceIp, performance.now());
        if (name !== undefined) {
          const held = this.acquireNamed(name);
          if (held !== undefined) {
            stick.record(req.sourceIp, name, performance.now());
            return held;
          }
        }
      }
      const r = this.pick(req, exclude);
      if (typeof r === 'object' && !(r instanceof Promise)) stick.record(req.sourceIp, r.name, performance.now());
      else if (r instanceof Promise) {
        return r.then((v) => {
          if (typeof v === 'object') stick.record(req.sourceIp, v.name, performance.now());
          return v;
        });
      }
      return r;
    }
    return this.pick(req, exclude);
  }

  private pick(
    req: PickRequest,
    exclude?: ReadonlySet<ServerState>,
  ): ServerState | AcquireFailure | Promise<ServerState | AcquireFailure> {
    const s = this.tryPick(req, exclude);
    if (s !== undefined) {
      this.take(s);
      return s;
    }
    if (this.eligible.length === 0 || this.closed || !this.anyFullCandidate(exclude)) return 'no-server';
    if (this.queued >= this.queueLimit) return 'queue-full';
    const timeout = this.config.timeouts.queue;
    if (!(timeout > 0)) return 'queue-timeout';
    return new Promise<ServerState | AcquireFailure>((resolve) => {
      const w: Waiter = { req, exclude, resolve, timer: undefined, done: false };
      w.timer = this.timers.setTimeout(() => this.expire(w), timeout);
      this.queue.push(w);
      this.queued++;
    });
  }

  acquireNamed(name: string): ServerState | undefined {
    const s = this.byName.get(name);
    // Persistence may use a draining (or weight 0) server; never a down or maintenance one.
    if (s === undefined || !s.up || s.admin === 'maint' || isFull(s)) return undefined;
    this.take(s);
    return s;
  }

  release(server: ServerState, outcome: Outcome): void {
    if (server.active > 0) server.active--;
    server.requests++;
    if (outcome !== 'ok') server.failures++;
    this.policy.loadChanged?.(server);
    // A server of an older pool (acquired before a reload) only gives its slot back.
    if (this.servers[server.index] !== server) return;
    const limit = this.config.passive.errorLimit;
    if (outcome === 'ok') {
      this.errors[server.index] = 0;
    } else if (limit > 0 && counts(this.config.passive.observe, outcome)) {
      const n = ++this.errors[server.index]!;
      if (n >= limit && server.up) this.errorLimitReached(server, n);
    }
    if (this.queued > 0 && !this.closed) this.serveQueue();
  }

  setHealth(serverName: string, up: boolean, reason: string): void {
    const s = this.mustGet(serverName);
    if (s.up === up) return;
    s.up = up;
    if (up) s.wentUp++;
    else s.wentDown++;
    if (up) {
      this.errors[s.index] = 0;
      this.cancelRetry(s);
    }
    this.recompute();
    const fields = { server: s.name, up, reason, active: this.countUp(false), backup: this.countUp(true) };
    if (up) this.log.info(fields, `server ${this.name}/${s.name} is UP: ${reason}`);
    else this.log.warn(fields, `server ${this.name}/${s.name} is DOWN: ${reason}`);
    this.emit('server-state', s, reason);
    this.emitUsable();
  }

  setAdmin(serverName: string, admin: AdminState): void {
    const s = this.mustGet(serverName);
    if (!ADMIN_STATES.includes(admin)) throw new Error(`backend ${this.name}: server ${serverName}: bad admin state ${JSON.stringify(admin)}`);
    if (s.admin === admin) return;
    const reason = `admin state ${s.admin} -> ${admin}`;
    s.admin = admin;
    this.recompute();
    this.log.info({ server: s.name, admin, reason }, `server ${this.name}/${s.name}: ${reason}`);
    this.emit('server-state', s, reason);
    this.emitUsable();
  }

  setWeight(serverName: string, weight: number): void {
    const s = this.mustGet(serverName);
    if (!Number.isInteger(weight) || weight < 0 || weight > 256) {
      throw new RangeError(`backend ${this.name}: server ${serverName}: weight must be an integer 0-256, got ${weight}`);
    }
    if (s.weight === weight) return;
    const reason = `weight ${s.weight} -> ${weight}`;
    s.weight = weight;
    this.recompute();
    this.log.info({ server: s.name, weight, reason }, `server ${this.name}/${s.name}: ${reason}`);
    this.emit('server-state', s, reason);
    this.emitUsable();
  }

  hasUsable(): boolean {
    return this.usable;
  }

  /** Stop timers and answer every queued request with 'no-server' (reload, shutdown). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.servers) this.cancelRetry(s);
    this.failAllWaiters('no-server');
  }

  // ---- internals ----

  private mustGet(name: string): ServerState {
    const s = this.byName.get(name);
    if (s === undefined) throw new Error(`backend ${this.name}: no server named ${JSON.stringify(name)}`);
    return s;
  }

  private take(s: ServerState): void {
    s.active++;
    this.policy.loadChanged?.(s);
  }

  /** A pick that respects maxconn: a full server is excluded and the policy asked again. */
  private tryPick(req: PickRequest, exclude: ReadonlySet<ServerState> | undefined): ServerState | undefined {
    let s = this.policy.pick(req, exclude);
    if (s === undefined || !isFull(s)) return s;
    const ex = new Set<ServerState>(exclude);
    for (let i = 0; i < this.eligible.length; i++) {
      ex.add(s);
      s = this.policy.pick(req, ex);
      if (s === undefined || !isFull(s)) return s;
    }
    return undefined;
  }

  /** Some eligible, non-excluded server is merely full (so waiting can help). */
  private anyFullCandidate(exclude: ReadonlySet<ServerState> | undefined): boolean {
    for (const s of this.eligible) {
      if (isFull(s) && (exclude === undefined || !exclude.has(s))) return true;
    }
    return false;
  }

  private serveQueue(): void {
    const q = this.queue;
    for (let i = this.queueHead; i < q.length && this.queued > 0; i++) {
      const w = q[i]!;
      if (w.done) continue;
      const s = this.tryPick(w.req, w.exclude);
      if (s === undefined) {
        // Nothing free for a waiter without exclusions means nothing is free for anyone.
        if (w.exclude === undefined || w.exclude.size === 0) break;
        continue;
      }
      this.take(s);
      this.finish(w, s);
    }
    this.compactQueue();
  }

  private expire(w: Waiter): void {
    if (w.done) return;
    w.timer = undefined;
    this.finish(w, 'queue-timeout');
    this.compactQueue();
  }

  private finish(w: Waiter, result: ServerState | AcquireFailure): void {
    w.done = true;
    this.queued--;
    if (w.timer !== undefined) this.timers.clearTimeout(w.timer);
    w.timer = undefined;
    w.resolve(result);
  }

  private compactQueue(): void {
    const q = this.queue;
    while (this.queueHead < q.length && q[this.queueHead]!.done) this.queueHead++;
    if (this.queueHead === q.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > q.length) {
      this.queue = q.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private failAllWaiters(result: AcquireFailure): void {
    const q = this.queue;
    this.queue = [];
    this.queueHead = 0;
    for (const w of q) if (!w.done) this.finish(w, result);
  }

  private errorLimitReached(s: ServerState, n: number): void {
    const mode = this.config.passive.onError ?? 'mark-down';
    // Without an active check there is nothing to speed up or fail: only mark-down can act.
    if (mode === 'mark-down' || this.config.health === undefined || !this.config.servers[s.index]!.check) {
      this.passiveDown(s, n);
      return;
    }
    // HAProxy starts counting again after acting.
    this.errors[s.index] = 0;
    this.reportPassiveError(s.name, mode, `passive: ${n} consecutive errors`);
  }

  /** An error-limit report for the checker (our own, or a worker's relayed by the primary). */
  reportPassiveError(serverName: string, mode: OnError, reason: string): void {
    const s = this.byName.get(serverName);
    if (s !== undefined) this.emit('passive-error', s, mode, reason);
  }

  private passiveDown(s: ServerState, n: number): void {
    this.setHealth(s.name, false, `passive: ${n} consecutive errors`);
    const sc = this.config.servers[s.index]!;
    const activeChecks = this.config.health !== undefined && sc.check;
    if (activeChecks || this.closed) return;
    this.cancelRetry(s);
    const ms = this.passiveRetryMs;
    this.retryTimers[s.index] = this.timers.setTimeout(() => {
      this.retryTimers[s.index] = undefined;
      if (!this.closed && !s.up) this.setHealth(s.name, true, `passive: retrying after ${ms}ms down`);
    }, ms);
  }

  private cancelRetry(s: ServerState): void {
    const t = this.retryTimers[s.index];
    if (t !== undefined) this.timers.clearTimeout(t);
    this.retryTimers[s.index] = undefined;
  }

  private countUp(backup: boolean): number {
    let n = 0;
    for (const s of this.servers) if (s.backup === backup && isUsable(s)) n++;
    return n;
  }

  /** Recompute the eligible set; rebuild the policy only if membership or a weight changed. */
  private recompute(): void {
    const normal: ServerState[] = [];
    const backup: ServerState[] = [];
    for (const s of this.servers) {
      if (!isUsable(s)) continue;
      (s.backup ? backup : normal).push(s);
    }
    const next = normal.length > 0 ? normal : backup;
    let changed = next.length !== this.eligible.length;
    for (let i = 0; !changed && i < next.length; i++) {
      changed = next[i] !== this.eligible[i] || next[i]!.weight !== this.eligibleWeights[i];
    }
    if (changed) {
      this.eligible = next;
      this.eligibleWeights = next.map((s) => s.weight);
      this.policy.update(next);
    }
    let limit = 0;
    for (const s of next) {
      if (s.maxconn === undefined) continue;
      limit += this.config.servers[s.index]!.maxqueue ?? MAX_QUEUE;
    }
    this.queueLimit = Math.min(limit, MAX_QUEUE);
    this.usable = next.length > 0;
    if (this.queued > 0) {
      if (next.length === 0) this.failAllWaiters('no-server');
      else this.serveQueue();
    }
  }

  private emitUsable(): void {
    if (this.usable === this.lastUsableEmitted) return;
    this.lastUsableEmitted = this.usable;
    this.emit('usable-changed', this.usable);
  }
}

/** Whether a failed outcome counts toward error-limit under the backend's `observe`. */
function counts(observe: 'layer4' | 'layer7' | undefined, outcome: Outcome): boolean {
  if (observe !== 'layer4') return true;
  // A connect timeout arrives as 'connect-error'; 'timeout' is a server slow to answer (layer 7).
  return outcome === 'connect-error';
}
