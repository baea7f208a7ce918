// The serving side of a node for one config at a time: a pool per backend and a frontend per
// frontend. `apply` swaps a new config in place: pools are rebuilt and take the old runtime state
// by name, frontends keep their listening sockets when their binds are unchanged, so a reload
// closes no connection and fails no request. Removed servers drain: requests already on them
// finish on the old pool objects, new requests only see the new pools.
import { hostname } from 'node:os';
import { workerCount } from './worker-count.ts';
import type { BackendConfig, Config, FrontendConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { BackendPool } from '../pool/backend-pool.ts';
import { restorePools, snapshotPools, type PoolSnapshot } from '../pool/state-transfer.ts';
import { HttpFrontend } from '../proxy/http1/http-frontend.ts';
import { TcpFrontend } from '../proxy/tcp/tcp-frontend.ts';
import { AccessLog } from '../proxy/access-log.ts';
import { TrafficStats } from '../proxy/traffic-stats.ts';
import { TicketKeyStore } from '../proxy/tls/ticket-keys.ts';
import { AcmeChallenges } from '../proxy/http1/acme-challenge.ts';
import { AcmeTlsChallenges } from '../proxy/tls/acme-tls-challenge.ts';

type Frontend = HttpFrontend | TcpFrontend;

export interface ListenError {
  frontend: string;
  bind: string;
  error: string;
}

export interface ProxyRuntimeOptions {
  log: Logger;
  /** false in a multi-worker primary: it keeps pools (health authority) but serves nothing. */
  serve: boolean;
}

/** Old pools are closed once requests queued on them can no longer be waiting. */
const OLD_POOL_LINGER_MS = 60_000;

export class ProxyRuntime {
  /** Mutated in place on reload: frontends hold these maps and see new pools at once. */
  readonly pools = new Map<string, BackendPool>();
  readonly backends = new Map<string, BackendConfig>();
  private readonly frontends = new Map<string, { cfg: FrontendConfig; fe: Frontend }>();
  private readonly log: Logger;
  private readonly serve: boolean;
  private accessLog: AccessLog;
  private config: Config | undefined;
  private readonly lingering = new Set<NodeJS.Timeout>();
  /** This process's traffic counters: outlive reloads, so totals never go back. */
  readonly traffic = new TrafficStats();
  /** Session ticket keys of the TLS frontends, set by the primary (the same in every worker). */
  readonly ticketKeys = new TicketKeyStore();
  /** ACME HTTP-01 tokens, set by the primary's orders (directly, or through a worker message). */
  readonly challenges = new AcmeChallenges();
  readonly tlsChallenges = new AcmeTlsChallenges();
  listenErrors: ListenError[] = [];

  constructor(opts: ProxyRuntimeOptions) {
    this.log = opts.log;
    this.serve = opts.serve;
    this.accessLog = new AccessLog(opts.log, true);
  }

  get current(): Config | undefined {
    return this.config;
  }

  snapshot(): PoolSnapshot {
    return snapshotPools(this.pools.values());
  }

  /**
   * Make `config` the running one. The state of servers carries over from the running pools, or
   * from `snapshot` when given (a worker taking the primary's view). Returns bind failures; the
   * other frontends run regardless, as HAProxy does with `-f` on a partially bindable config
   * would not: the node's VRRP frontend tracker decides what a failed bind means.
   */
  async apply(config: Config, snapshot?: PoolSnapshot): Promise<ListenError[]> {
    const previous = snapshot ?? this.snapshot();
    this.accessLog = new AccessLog(this.log, config.global.log.access);

    const newPools = new Map<string, BackendPool>();
    for (const b of config.backends) newPools.set(b.name, new BackendPool(b, { log: this.log }));
    restorePools(newPools.values(), previous);

    const oldPools = [...this.pools.values()];
    this.pools.clear();
    this.backends.clear();
    for (const [name, pool] of newPools) this.pools.set(name, pool);
    for (const b of config.backends) this.backends.set(b.name, b);
    this.config = config;
    this.retire(oldPools);

    this.listenErrors = this.serve ? await this.applyFrontends(config) : [];
    return this.listenErrors;
  }

  private async applyFrontends(config: Config): Promise<ListenError[]> {
    const errors: ListenError[] = [];
    const wanted = new Map(config.frontends.map((f) => [f.name, f]));
    const closing: Promise<void>[] = [];

    for (const [name, { fe }] of this.frontends) {
      if (!wanted.has(name)) {
        this.frontends.delete(name);
        closing.push(fe.close(config.global.grace));
      }
    }
    for (const cfg of config.frontends) {
      const existing = this.frontends.get(cfg.name);
      if (existing && existing.fe instanceof HttpFrontend && cfg.mode === 'http') {
        const { rebindNeeded } = existing.fe.updateConfig(cfg, this.httpDeps(config));
        if (!rebindNeeded) {
          existing.cfg = cfg;
          continue;
        }
      } else if (existing && existing.fe instanceof TcpFrontend && cfg.mode === 'tcp' && sameBinds(existing.cfg, cfg) && existing.fe.updateConfig(cfg)) {
        existing.cfg = cfg;
        continue;
      }
      // New frontend, or binds that moved: open the new listeners first (reusePort lets both
      // hold a shared port for a moment), then let the old one finish what it has.
      let fe: Frontend | undefined;
      try {
        // building reads a TLS frontend's certificates, which may have changed since validation
        fe = this.build(cfg, config);
        await fe.listen();
      } catch (err) {
        errors.push({ frontend: cfg.name, bind: cfg.bind.map((b) => `${b.host}:${b.port}`).join(','), error: (err as Error).message });
        this.log.error({ frontend: cfg.name, err: (err as Error).message }, 'frontend cannot listen');
        void fe?.close(0);
        continue;
      }
      if (existing) closing.push(existing.fe.close(config.global.grace));
      this.frontends.set(cfg.name, { cfg, fe });
    }
    void Promise.all(closing);
    return errors;
  }

  private httpDeps(config: Config) {
    return {
      pools: this.pools,
      backends: this.backends,
      log: this.log,
      accessLog: this.accessLog,
      maxHeaderBytes: config.global.maxHeaderBytes,
      workers: workerCount(config),
      peer: { node: config.node ?? hostname(), vrrp: config.vrrp?.instances[0] },
      traffic: this.traffic,
      ticketKeys: this.ticketKeys,
      configSource: config.source,
      challenges: this.challenges,
      tlsChallenges: this.tlsChallenges,
    };
  }

  /** A frontend's certificates changed on disk (ACME): swap its contexts as a reload would. */
  refreshCertificates(frontend: string): boolean {
    const fe = this.frontends.get(frontend)?.fe;
    return fe instanceof HttpFrontend ? fe.refreshCertificates() : false;
  }

  /** Per acme frontend: its certificate or the fallback. Empty where this process serves nothing. */
  acmeServing(): Record<string, { serving: 'acme' | 'fallback'; reason?: string }> {
    const out: Record<string, { serving: 'acme' | 'fallback'; reason?: string }> = {};
    for (const [name, { fe }] of this.frontends) {
      const a = fe instanceof HttpFrontend ? fe.acmeServing : undefined;
      if (a !== undefined) out[name] = a;
    }
    return out;
  }

  private build(cfg: FrontendConfig, config: Config): Frontend {
    if (cfg.mode === 'http') return new HttpFrontend(cfg, this.httpDeps(config));
    return new TcpFrontend(cfg, {
      pools: this.pools,
      backends: this.backends,
      log: this.log,
      accessLog: config.global.log.access ? this.log.child({ type: 'access' }) : undefined,
      workers: workerCount(config),
      traffic: this.traffic,
      ticketKeys: this.ticketKeys,
      configSource: config.source,
    });
  }

  private retire(pools: BackendPool[]): void {
    if (pools.length === 0) return;
    const t = setTimeout(() => {
      this.lingering.delete(t);
      for (const p of pools) p.close();
    }, OLD_POOL_LINGER_MS);
    t.unref();
    this.lingering.add(t);
  }

  /** Addresses each frontend actually listens on (port 0 resolved). */
  addresses(): Record<string, { host: string; port: number }[]> {
    const out: Record<string, { host: string; port: number }[]> = {};
    for (const [name, { fe }] of this.frontends) out[name] = fe.addresses().map((a) => ({ host: 'host' in a ? a.host : a.address, port: a.port }));
    return out;
  }

  frontendNames(): string[] {
    return [...this.frontends.keys()];
  }

  /** Requests, tunnels and TCP sessions in flight. */
  active(): number {
    let n = 0;
    for (const { fe } of this.frontends.values()) n += fe instanceof HttpFrontend ? fe.active : fe.connections;
    return n;
  }

  stopAccepting(): void {
    for (const { fe } of this.frontends.values()) fe.stopAccepting();
  }

  /** Graceful stop: in-flight work gets graceMs, idle keep-alive connections are closed. */
  async close(graceMs: number): Promise<void> {
    await Promise.all([...this.frontends.values()].map(({ fe }) => fe.close(graceMs)));
    this.frontends.clear();
    for (const t of this.lingering) clearTimeout(t);
    for (const p of this.pools.values()) p.close();
  }
}

function sameBinds(a: FrontendConfig, b: FrontendConfig): boolean {
  return JSON.stringify(a.bind) === JSON.stringify(b.bind);
}
