// N serving workers (child processes), each binding every frontend port itself with
// SO_REUSEPORT so the kernel spreads connections with no hand-off through this process.
// Plain fork, not node:cluster: cluster would route every listen through the primary.
// The primary decides health once and pushes it; a worker that dies is replaced with the
// current config and the current server states.
import { fork, type ChildProcess } from 'node:child_process';
import module from 'node:module';
import type { Config, OnError } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { PoolSnapshot } from '../pool/state-transfer.ts';
import type { ListenError } from './proxy-runtime.ts';
import type { FromWorker, ServerCounters, ToWorker } from './worker-messages.ts';
import { withHalbV8Flags } from './v8-flags.ts';
import type { TicketKeysMessage } from '../proxy/tls/ticket-keys.ts';
import { siblingModule } from './sibling-module.ts';
import { emptyTraffic, mergeTraffic, retireTraffic, type TrafficSnapshot } from '../proxy/traffic-stats.ts';

const STATS_POLL_MS = 1000;
const APPLY_TIMEOUT_MS = 30_000;
const RESPAWN_MIN_MS = 100;
const RESPAWN_MAX_MS = 30_000;
/** A worker that lived this long before dying resets the backoff. */
const RESPAWN_RESET_MS = 60_000;

export interface WorkerSetHooks {
  onPassiveDown(backend: string, server: string, reason: string): void;
  onPassiveError(backend: string, server: string, mode: OnError, reason: string): void;
}

const WORKER_ENTRY = siblingModule(import.meta.url, 'worker-main');

export class WorkerSet {
  private readonly count: number;
  private readonly log: Logger;
  private readonly hooks: WorkerSetHooks;
  private readonly workers = new Set<ChildProcess>();
  private current: { config: Config; snapshot: () => PoolSnapshot; generation: number } | undefined;
  private stopping = false;
  /** Each worker's last reported counters; the status and metrics sum them. */
  private readonly latest = new Map<ChildProcess, ServerCounters>();
  private readonly queues = new Map<ChildProcess, Record<string, number>>();
  /** Each worker's last traffic snapshot, and the totals of workers that exited. */
  private readonly traffic = new Map<ChildProcess, TrafficSnapshot>();
  private retired: TrafficSnapshot = emptyTraffic();
  private statsTimer: NodeJS.Timeout | undefined;
  private readonly respawns = new Set<NodeJS.Timeout>();
  private respawnDelay = RESPAWN_MIN_MS;
  /** The TLS session ticket keys every worker holds; a new worker gets them before its config. */
  private ticketKeys: TicketKeysMessage | undefined;
  private lastRespawn = 0;
  private challengeIds = 0;
  /** ACME challenges in force, by token or domain: given to replacement workers too. */
  private readonly challenges = new Map<string, ToWorker>();

  constructor(count: number, log: Logger, hooks: WorkerSetHooks) {
    this.count = count;
    this.log = log.child({ component: 'workers' });
    this.hooks = hooks;
  }

  /** `snapshot` reads the primary's pools now: a replacement worker starts from current health. */
  async start(config: Config, snapshot: () => PoolSnapshot, generation: number): Promise<ListenError[]> {
    this.current = { config, snapshot, generation };
    const started: Promise<ListenError[]>[] = [];
    for (let i = 0; i < this.count; i++) started.push(this.spawn(config, snapshot(), generation));
    const errors = mergeErrors(await Promise.all(started));
    // Counters are polled, not pushed per request: the serving path pays nothing for stats.
    this.statsTimer = setInterval(() => this.broadcast({ t: 'stats-request' }), STATS_POLL_MS);
    this.statsTimer.unref();
    this.broadcast({ t: 'stats-request' });
    return errors;
  }

  private spawn(config: Config, snapshot: PoolSnapshot, generation: number): Promise<ListenError[]> {
    // Workers share the primary's compile cache, so they skip type stripping too (see cli/main.ts).
    const cacheDir = module.getCompileCacheDir?.();
    const env = { ...process.env, HALB_WORKER: '1', ...(cacheDir ? { NODE_COMPILE_CACHE: cacheDir } : {}) };
    const worker = fork(WORKER_ENTRY, [], { execArgv: withHalbV8Flags(process.execArgv), env, stdio: 'inherit' });
    this.workers.add(worker);
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'passive-down') this.hooks.onPassiveDown(m.backend, m.server, m.reason);
      else if (m.t === 'passive-error') this.hooks.onPassiveError(m.backend, m.server, m.mode, m.reason);
      else if (m.t === 'stats') {
        this.latest.set(worker, m.servers);
        this.queues.set(worker, m.queues);
        this.traffic.set(worker, m.traffic);
      }
    });
    worker.on('exit', (code, signal) => {
      this.workers.delete(worker);
      this.latest.delete(worker);
      this.queues.delete(worker);
      // what it served since its last report is lost; what it reported stays counted
      const last = this.traffic.get(worker);
      if (last) this.retired = mergeTraffic(this.retired, retireTraffic(last));
      this.traffic.delete(worker);
      if (this.stopping) return;
      // A worker that keeps dying (a bad host, a crash at startup) must not fork in a tight loop.
      const now = Date.now();
      this.respawnDelay = now - this.lastRespawn > RESPAWN_RESET_MS ? RESPAWN_MIN_MS : Math.min(this.respawnDelay * 2, RESPAWN_MAX_MS);
      this.lastRespawn = now;
      this.log.error({ worker: worker.pid, code, signal, restartInMs: this.respawnDelay }, 'worker died; starting a replacement');
      const t = setTimeout(() => {
        this.respawns.delete(t);
        const cur = this.current;
        if (cur && !this.stopping) {
          this.spawn(cur.config, cur.snapshot(), cur.generation).catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'replacement worker failed to start'));
        }
      }, this.respawnDelay);
      this.respawns.add(t);
    });
    if (this.ticketKeys !== undefined) worker.send({ t: 'ticket-keys', keys: this.ticketKeys } satisfies ToWorker);
    const applied = this.request(worker, { t: 'config', config, snapshot, generation });
    // a replacement started during an ACME order answers its challenges too
    void applied.then(() => {
      for (const m of this.challenges.values()) if (worker.connected) worker.send(m);
    }, () => undefined);
    return applied;
  }

  /** New keys for every worker, and for the ones started later. */
  setTicketKeys(keys: TicketKeysMessage): void {
    this.ticketKeys = keys;
    this.broadcast({ t: 'ticket-keys', keys });
  }

  /** Send a config to one worker and wait (bounded) until it is serving it. */
  private request(worker: ChildProcess, msg: Extract<ToWorker, { t: 'config' }>): Promise<ListenError[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`worker ${worker.pid} did not apply config generation ${msg.generation} within ${APPLY_TIMEOUT_MS}ms`));
      }, APPLY_TIMEOUT_MS);
      const onMessage = (m: FromWorker): void => {
        if (m.t === 'applied' && m.generation === msg.generation) {
          cleanup();
          resolve(m.listenErrors);
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`worker exited with code ${code} before applying the config`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      try {
        worker.send(msg);
      } catch (err) {
        cleanup();
        reject(err as Error);
      }
    });
  }

  async apply(config: Config, snapshot: () => PoolSnapshot, generation: number): Promise<ListenError[]> {
    this.current = { config, snapshot, generation };
    const state = snapshot();
    const results = await Promise.all([...this.workers].map((w) => this.request(w, { t: 'config', config, snapshot: state, generation })));
    return mergeErrors(results);
  }

  /**
   * An ACME challenge token to every worker, resolved once each has it in force: the CA is told
   * to validate only then, whichever worker its request lands on. Bounded: a worker that does not
   * answer (dying) is not waited for past timeoutMs.
   */
  setChallenge(token: string, keyAuthorization: string | undefined): Promise<void> {
    return this.deliverChallenge((id) => (keyAuthorization === undefined ? { t: 'acme-challenge', id, token } : { t: 'acme-challenge', id, token, keyAuthorization }));
  }

  /** The same for a TLS-ALPN-01 certificate. */
  setTlsChallenge(domain: string, cert: { chain: string; key: string } | undefined): Promise<void> {
    return this.deliverChallenge((id) => (cert === undefined ? { t: 'acme-tls-challenge', id, domain } : { t: 'acme-tls-challenge', id, domain, cert }));
  }

  private deliverChallenge(build: (id: number) => ToWorker, timeoutMs = 5000): Promise<void> {
    const id = ++this.challengeIds;
    const msg = build(id);
    const key = msg.t === 'acme-challenge' ? `http ${msg.token}` : msg.t === 'acme-tls-challenge' ? `tls ${msg.domain}` : '';
    const withdrawn = (msg.t === 'acme-challenge' && msg.keyAuthorization === undefined) || (msg.t === 'acme-tls-challenge' && msg.cert === undefined);
    if (withdrawn) this.challenges.delete(key);
    else this.challenges.set(key, msg);
    const waits = [...this.workers]
      .filter((w) => w.connected)
      .map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(done, timeoutMs);
            function done(): void {
              clearTimeout(timer);
              w.off('message', onMessage);
              w.off('exit', done);
              resolve();
            }
            const onMessage = (m: FromWorker): void => {
              if (m.t === 'acme-challenge-set' && m.id === id) done();
            };
            w.on('message', onMessage);
            w.once('exit', done);
            w.send(msg);
          }),
      );
    return Promise.all(waits).then(() => undefined);
  }

  broadcast(msg: ToWorker): void {
    for (const w of this.workers) if (w.connected) w.send(msg);
  }

  /** Sum of the workers' last reported counters (at most STATS_POLL_MS old). */
  counters(): ServerCounters {
    const sum: ServerCounters = {};
    for (const per of this.latest.values()) {
      for (const [backend, servers] of Object.entries(per)) {
        const b = (sum[backend] ??= {});
        for (const [name, c] of Object.entries(servers)) {
          const t = (b[name] ??= { active: 0, requests: 0, failures: 0 });
          t.active += c.active;
          t.requests += c.requests;
          t.failures += c.failures;
        }
      }
    }
    return sum;
  }

  /** Requests waiting for a server slot in the backend, summed over the workers' last reports. */
  queued(backend: string): number {
    let n = 0;
    for (const q of this.queues.values()) n += q[backend] ?? 0;
    return n;
  }

  /** The node's traffic: live workers' last reports (at most STATS_POLL_MS old) plus exited ones. */
  trafficSnapshot(): TrafficSnapshot {
    return mergeTraffic(this.retired, ...this.traffic.values());
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    for (const t of this.respawns) clearTimeout(t);
    const exits = [...this.workers].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.exitCode !== null || w.signalCode !== null) return resolve();
          const kill = setTimeout(() => w.kill('SIGKILL'), graceMs + 5000);
          w.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          w.send({ t: 'stop', graceMs } satisfies ToWorker);
        }),
    );
    await Promise.all(exits);
  }
}

/** A bind fails in every worker alike: report each once. */
function mergeErrors(lists: ListenError[][]): ListenError[] {
  const seen = new Map<string, ListenError>();
  for (const l of lists) for (const e of l) seen.set(`${e.frontend} ${e.bind}`, e);
  return [...seen.values()];
}
