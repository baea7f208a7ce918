// N serving workers (child processes), each binding every frontend port itself with
// SO_REUSEPORT so the kernel spreads connections with no hand-off through this process.
// Plain fork, not node:cluster: cluster would route every listen through the primary.
// The primary decides health once and pushes it; a worker that dies is replaced with the
// current config and the current server states.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { PoolSnapshot } from '../pool/state-transfer.ts';
import type { ListenError } from './proxy-runtime.ts';
import type { FromWorker, ServerCounters, ToWorker } from './worker-messages.ts';

const STATS_POLL_MS = 1000;

export interface WorkerSetHooks {
  onPassiveDown(backend: string, server: string, reason: string): void;
}

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

export class WorkerSet {
  private readonly count: number;
  private readonly log: Logger;
  private readonly hooks: WorkerSetHooks;
  private readonly workers = new Set<ChildProcess>();
  private current: { config: Config; snapshot: () => PoolSnapshot; generation: number } | undefined;
  private stopping = false;
  /** Each worker's last reported counters; the status and metrics sum them. */
  private readonly latest = new Map<ChildProcess, ServerCounters>();
  private statsTimer: NodeJS.Timeout | undefined;

  constructor(count: number, log: Logger, hooks: WorkerSetHooks) {
    this.count = count;
    this.log = log.child({ component: 'workers' });
    this.hooks = hooks;
  }

  async start(config: Config, snapshot: PoolSnapshot, generation: number): Promise<ListenError[]> {
    this.current = { config, snapshot: () => snapshot, generation };
    const started: Promise<ListenError[]>[] = [];
    for (let i = 0; i < this.count; i++) started.push(this.spawn(config, snapshot, generation));
    const errors = mergeErrors(await Promise.all(started));
    // Counters are polled, not pushed per request: the serving path pays nothing for stats.
    this.statsTimer = setInterval(() => this.broadcast({ t: 'stats-request' }), STATS_POLL_MS);
    this.statsTimer.unref();
    this.broadcast({ t: 'stats-request' });
    return errors;
  }

  /** The primary's pools are the source of truth for state a replacement worker starts from. */
  setSnapshotSource(source: () => PoolSnapshot): void {
    if (this.current) this.current.snapshot = source;
  }

  private spawn(config: Config, snapshot: PoolSnapshot, generation: number): Promise<ListenError[]> {
    const worker = fork(WORKER_ENTRY, [], { execArgv: process.execArgv, env: { ...process.env, HALB_WORKER: '1' }, stdio: 'inherit' });
    this.workers.add(worker);
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'passive-down') this.hooks.onPassiveDown(m.backend, m.server, m.reason);
      else if (m.t === 'stats') this.latest.set(worker, m.servers);
    });
    worker.on('exit', (code, signal) => {
      this.workers.delete(worker);
      this.latest.delete(worker);
      if (this.stopping) return;
      this.log.error({ worker: worker.pid, code, signal }, 'worker died; starting a replacement');
      const cur = this.current;
      if (cur) void this.spawn(cur.config, cur.snapshot(), cur.generation).catch(() => undefined);
    });
    return this.request(worker, { t: 'config', config, snapshot, generation });
  }

  /** Send a config to one worker and wait until it is serving it. */
  private request(worker: ChildProcess, msg: Extract<ToWorker, { t: 'config' }>): Promise<ListenError[]> {
    return new Promise((resolve, reject) => {
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
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.send(msg);
    });
  }

  async apply(config: Config, snapshot: PoolSnapshot, generation: number): Promise<ListenError[]> {
    const prevSnapshot = this.current?.snapshot ?? (() => snapshot);
    this.current = { config, snapshot: prevSnapshot, generation };
    const results = await Promise.all([...this.workers].map((w) => this.request(w, { t: 'config', config, snapshot, generation })));
    return mergeErrors(results);
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

  pids(): number[] {
    return [...this.workers].map((w) => w.pid ?? 0);
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
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
