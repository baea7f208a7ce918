// A halb node built from one Config: the proxy (in this process, or in N workers sharing each
// port with SO_REUSEPORT), health checks (once per node, here), VRRP instances and the admin API.
// This is the one place where the proxy and the failover halves meet: a backend with no usable
// server, or a frontend that cannot listen, lowers the VRRP priority through a tracker.
import type { Config } from './config/types.ts';
import type { Logger } from './log/logger.ts';
import type { LoadResult } from './config/load.ts';
import { formatConfigError } from './config/errors.ts';
import { CheckerSet } from './health/checker-set.ts';
import type { CheckStatus } from './health/scheduler.ts';
import { ProxyRuntime, type ListenError } from './node/proxy-runtime.ts';
import { WorkerSet } from './node/worker-set.ts';
import { TicketKeyRotation } from './node/ticket-key-rotation.ts';
import { encodeKeys } from './proxy/tls/ticket-keys.ts';
import { workerCount } from './node/worker-count.ts';
import { AdminServer } from './admin/admin-server.ts';
import { NodeMetrics } from './admin/metrics.ts';
import type { TrafficSnapshot } from './proxy/traffic-stats.ts';
import type { VrrpGroup } from './node/vrrp-group.ts';
import type { BgpSpeaker, BgpStatus } from './bgp/bgp-speaker.ts';
import { hostname } from 'node:os';
import { rm } from 'node:fs/promises';
import type { AdminState } from './pool/server-state.ts';
import { enableNonlocalBind } from './node/nonlocal-bind.ts';
import { sampleOf, TrafficSampler } from './admin/traffic-sampler.ts';
import { NodeHistory, type HealthTransition, type NodeEvent } from './admin/node-history.ts';
import { AcmeManager, type AcmeStatus } from './acme/acme-manager.ts';
import { HandoverChannel, type HandoverCounters } from './acme/handover-channel.ts';
import { handoverKey } from './acme/handover-message.ts';
import { readHmacKeyFile } from './vrrp/hmac-key-file.ts';
import type { LoadedCertificate } from './proxy/tls/certificate-store.ts';

export interface NodeOptions {
  log: Logger;
  /** Re-reads the config for a reload (SIGHUP, `halb reload`). */
  load: () => Promise<LoadResult>;
}

export class HalbNode {
  private config: Config;
  private readonly log: Logger;
  private readonly load: () => Promise<LoadResult>;
  /** Pools of the running config. With workers these are the health authority; without, they serve. */
  private readonly runtime: ProxyRuntime;
  private workers: WorkerSet | undefined;
  private checkers: CheckerSet | undefined;
  private admin: AdminServer | undefined;
  private readonly metrics: NodeMetrics;
  private vrrp: VrrpGroup | undefined;
  private bgp: BgpSpeaker | undefined;
  private acme: AcmeManager | undefined;
  private handoverChannel: HandoverChannel | undefined;
  private bgpRunDir: string | undefined;
  private generation = 0;
  private stopping: Promise<void> | undefined;
  private reloading: Promise<unknown> = Promise.resolve();
  private readonly detachPools: (() => void)[] = [];
  /** Health history per server and the event timeline the dashboard shows. */
  private readonly history = new NodeHistory();
  /** The last ten minutes of traffic, one sample a second, for the dashboard's charts. */
  private readonly traffic = new TrafficSampler(600);
  private sampling: NodeJS.Timeout | undefined;
  /** TLS session ticket keys, made here and given to every serving process. */
  private readonly ticketKeys: TicketKeyRotation;

  private constructor(config: Config, opts: NodeOptions) {
    this.config = config;
    this.log = opts.log;
    this.load = opts.load;
    const workers = workerCount(config);
    this.runtime = new ProxyRuntime({ log: opts.log, serve: workers === 1 });
    this.ticketKeys = new TicketKeyRotation(config.global.ticketKeyRotation, (keys) => {
      this.runtime.ticketKeys.set(keys);
      this.workers?.setTicketKeys(encodeKeys(keys));
    });
    this.metrics = new NodeMetrics(() => this.status(), () => this.trafficTotals());
  }

  static async start(config: Config, opts: NodeOptions): Promise<HalbNode> {
    const node = new HalbNode(config, opts);
    try {
      await node.startParts();
    } catch (err) {
      await node.stop(0);
      throw err;
    }
    return node;
  }

  private async startParts(): Promise<void> {
    const config = this.config;
    const n = workerCount(config);
    await enableNonlocalBind(config, this.log);
    this.ticketKeys.start();
    let listenErrors = await this.runtime.apply(config);
    if (n > 1) {
      this.workers = new WorkerSet(n, this.log, {
        // A report can arrive after a reload removed the server: then there is nothing to mark.
        onPassiveDown: (backend, server, reason) => {
          const pool = this.runtime.pools.get(backend);
          if (pool?.server(server)) pool.setHealth(server, false, reason);
        },
        onPassiveError: (backend, server, mode, reason) => this.runtime.pools.get(backend)?.reportPassiveError(server, mode, reason),
      });
      const keys = this.runtime.ticketKeys.get();
      if (keys !== undefined) this.workers.setTicketKeys(encodeKeys(keys));
      listenErrors = await this.workers.start(config, () => this.runtime.snapshot(), this.generation);
    }
    this.watchPools();
    this.checkers = new CheckerSet(this.runtime.pools.values(), { log: this.log });
    this.checkers.start();
    if (config.global.admin) {
      this.admin = new AdminServer(config.global.admin, this.adminHandlers(), this.log.child({ component: 'admin' }));
      await this.admin.listen();
    }
    // Frontend trackers must see failed binds from their very first reading.
    this.listenErrors = listenErrors;
    if (config.vrrp && config.vrrp.instances.length > 0) {
      // Loaded only when configured: a proxy-only node never touches raw sockets.
      const { VrrpGroup } = await import('./node/vrrp-group.ts');
      this.vrrp = new VrrpGroup(config.vrrp, {
        log: this.log,
        pools: this.runtime.pools,
        listenErrors: () => this.listenErrors,
        onTransition: (text) => {
          this.history.event('vrrp', text, Date.now());
          // a new master orders what is due; a backup stops ordering at its next plan
          this.acme?.wake();
        },
      });
      await this.vrrp.start();
    }
    await this.startAcme(config);
    if (config.bgp) {
      const { BgpSpeaker } = await import('./bgp/bgp-speaker.ts');
      // One directory per process: several nodes may share a host's /run (namespace labs).
      this.bgpRunDir = `/run/halb/bgp-${process.pid}`;
      this.bgp = new BgpSpeaker({
        bgp: config.bgp,
        hostname: config.node ?? hostname(),
        runDir: this.bgpRunDir,
        log: this.log.child({ component: 'bgp' }),
        signals: () => ({
          listening: new Set(this.config.frontends.filter((f) => !this.listenErrors.some((e) => e.frontend === f.name)).map((f) => f.name)),
          usable: new Set([...this.runtime.pools.values()].filter((p) => p.hasUsable()).map((p) => p.name)),
        }),
      });
      await this.bgp.start();
    }
    this.log.info(
      { source: config.source, frontends: config.frontends.length, backends: config.backends.length, workers: n, vrrp: config.vrrp?.instances.length ?? 0 },
      'halb node started',
    );
    this.traffic.add(sampleOf(this.trafficTotals(), Date.now()));
    this.sampling = setInterval(() => this.traffic.add(sampleOf(this.trafficTotals(), Date.now())), 1000);
    this.sampling.unref();
    this.history.event('start', `started ${config.source}: ${config.frontends.length} frontends, ${config.backends.length} backends, ${n} worker${n === 1 ? '' : 's'}`, Date.now());
  }

  private listenErrors: ListenError[] = [];

  /** ACME renewers for the frontends with tls.acme (at start, or when a reload adds the first). */
  private async startAcme(config: Config): Promise<void> {
    if (this.acme !== undefined) {
      this.acme.update(config.frontends);
      this.acme.wake();
      return;
    }
    if (!AcmeManager.wanted(config.frontends)) return;
    this.acme = new AcmeManager(config.frontends, {
      log: this.log.child({ component: 'acme' }),
      publish: {
        http01: async (token, keyAuthorization) => {
          this.runtime.challenges.set(token, keyAuthorization);
          await this.workers?.setChallenge(token, keyAuthorization);
        },
        tlsAlpn01: async (domain, cert) => {
          this.runtime.tlsChallenges.set(domain, cert);
          await this.workers?.setTlsChallenge(domain, cert);
        },
      },
      installed: (frontend, cert, pem, origin) => {
        this.certificateInstalled(frontend, cert, origin);
        // what came from the CA goes to the peers; what came from a peer is not sent back
        if (origin === 'ca') this.handoverChannel?.offer(frontend, pem);
      },
      mayOrder: () => this.vrrp === undefined || this.vrrp.isMaster(),
    });
    await this.startHandover(config, this.acme);
    this.acme.start();
  }

  /** The authenticated channel that hands certificates to the peers (docs/acme-handover.md). */
  private async startHandover(config: Config, acme: AcmeManager): Promise<void> {
    const cfg = acme.handover();
    if (cfg?.peerKeyFile === undefined) return;
    const instances = config.vrrp?.instances ?? [];
    const peers = cfg.peers ?? [...new Set(instances.flatMap((i) => i.unicast?.peers ?? []))];
    const channel = new HandoverChannel({
      listen: { host: cfg.peerListen ?? instances.find((i) => i.unicast?.source !== undefined)?.unicast?.source ?? '0.0.0.0', port: cfg.peerPort },
      peers: peers.map((host) => ({ host, port: cfg.peerPort })),
      key: handoverKey(readHmacKeyFile(cfg.peerKeyFile, 0, 'acme.peer_key_file').secret),
      node: config.node ?? hostname(),
      log: this.log.child({ component: 'acme-handover' }),
      receive: async (frontend, pem) => {
        await acme.receive(frontend, pem);
      },
      requested: () => {
        void acme.heldPems().then((held) => {
          for (const h of held) channel.offer(h.frontend, h.pem);
        });
      },
    });
    await channel.start();
    this.handoverChannel = channel;
    // a node that restarts holding certificates offers them (a peer that lost its own gets them);
    // one that holds none asks its peers for theirs
    const held = await acme.heldPems();
    for (const h of held) channel.offer(h.frontend, h.pem);
    if (acme.status().some((a) => a.serving === 'fallback')) channel.request();
  }

  /** An ACME certificate is on disk for `frontend`: every serving process swaps its contexts. */
  private certificateInstalled(frontend: string, cert: LoadedCertificate, origin: 'ca' | 'peer'): void {
    this.runtime.refreshCertificates(frontend);
    this.workers?.broadcast({ t: 'tls-refresh', frontend });
    const from = origin === 'ca' ? 'obtained from the CA' : 'received from the peer';
    this.history.event('acme', `${frontend}: certificate for ${cert.names.join(', ')} ${from}, valid until ${cert.notAfter.toISOString()}`, Date.now());
  }

  /** Every frontend address actually bound (tests use port 0). Empty with workers. */
  addresses(): Record<string, { host: string; port: number }[]> {
    return this.runtime.addresses();
  }

  adminAddress(): { host: string; port: number } | undefined {
    return this.admin?.address();
  }

  adminSocket(): string | undefined {
    return this.admin?.socketPath();
  }

  /** Health transitions decided here reach every worker, and VRRP backend trackers see usability. */
  private watchPools(): void {
    for (const off of this.detachPools.splice(0)) off();
    for (const pool of this.runtime.pools.values()) {
      for (const sv of pool.servers) this.history.seed(pool.name, sv.name, sv.up);
      const onState = (s: { name: string; up: boolean }, reason: string): void => {
        this.workers?.broadcast({ t: 'health', backend: pool.name, server: s.name, up: s.up, reason });
        this.history.health(pool.name, s.name, s.up, reason, Date.now());
      };
      const onUsable = (): void => {
        this.vrrp?.backendsChanged();
        void this.bgp?.refresh();
      };
      pool.on('server-state', onState);
      pool.on('usable-changed', onUsable);
      this.detachPools.push(() => {
        pool.off('server-state', onState);
        pool.off('usable-changed', onUsable);
      });
    }
  }

  /**
   * Re-read and apply the config. A bad config is refused before anything running is touched.
   * Serialised: a reload that arrives during another waits for it.
   */
  reload(): Promise<{ ok: true; message: string } | { ok: false; errors: string[] }> {
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(): Promise<{ ok: true; message: string } | { ok: false; errors: string[] }> {
    const r = await this.load();
    if (!r.ok) {
      const errors = r.errors.map(formatConfigError);
      this.log.error({ errors }, 'reload refused: the new config is invalid; the running config keeps serving');
      this.history.event('reload', `reload refused: ${errors.join('; ')}`, Date.now());
      return { ok: false, errors };
    }
    const next = r.config;
    const refusal = this.unreloadable(next);
    if (refusal) {
      this.log.error({ error: refusal }, 'reload refused');
      this.history.event('reload', `reload refused: ${refusal}`, Date.now());
      return { ok: false, errors: [refusal] };
    }
    this.checkers?.stop();
    try {
      await enableNonlocalBind(next, this.log);
      const listenErrors = await this.runtime.apply(next);
      this.ticketKeys.setInterval(next.global.ticketKeyRotation);
      this.config = next;
      this.generation++;
      this.listenErrors = this.workers ? await this.workers.apply(next, () => this.runtime.snapshot(), this.generation) : listenErrors;
    } finally {
      // Whatever happened, the pools in place keep being checked and watched.
      this.watchPools();
      this.checkers = new CheckerSet(this.runtime.pools.values(), { log: this.log });
      this.checkers.start();
    }
    this.vrrp?.backendsChanged();
    void this.bgp?.refresh();
    this.vrrp?.frontendsChanged();
    await this.startAcme(next);
    const message = `reloaded ${next.source}: ${next.frontends.length} frontends, ${next.backends.length} backends (generation ${this.generation})`;
    this.log.info({ listenErrors: this.listenErrors }, message);
    this.history.keepOnly(new Set([...this.runtime.pools.values()].flatMap((p) => p.servers.map((sv) => `${p.name}/${sv.name}`))));
    this.history.event('reload', message, Date.now());
    return { ok: true, message };
  }

  /** Things a reload cannot change in place; refused with a reason rather than half applied. */
  private unreloadable(next: Config): string | undefined {
    if (workerCount(next) !== workerCount(this.config)) return 'global.workers: changing the number of workers needs a restart';
    const a = JSON.stringify(this.config.global.admin ?? null);
    if (a !== JSON.stringify(next.global.admin ?? null)) return 'global.admin: changing the admin socket or listener needs a restart';
    if (JSON.stringify(this.config.vrrp ?? null) !== JSON.stringify(next.vrrp ?? null)) return 'vrrp: changing VRRP instances needs a restart (run `halb handover` first)';
    return undefined;
  }

  /** Planned handover of every VRRP instance this node is master of. */
  async handover(): Promise<string> {
    if (!this.vrrp) return 'no VRRP instances';
    this.history.event('handover', 'handover requested', Date.now());
    const message = await this.vrrp.handover();
    this.history.event('handover', message, Date.now());
    return message;
  }

  setServer(backend: string, server: string, change: { admin?: string; weight?: number }): string | undefined {
    const pool = this.runtime.pools.get(backend);
    if (!pool) return `no backend "${backend}"`;
    if (!pool.server(server)) return `backend "${backend}" has no server "${server}"`;
    try {
      if (change.admin !== undefined) {
        if (change.admin !== 'ready' && change.admin !== 'drain' && change.admin !== 'maint') return 'admin must be ready, drain or maint';
        pool.setAdmin(server, change.admin as AdminState);
        this.history.event('admin', `${backend}/${server} set ${change.admin}`, Date.now());
        this.workers?.broadcast({ t: 'server', backend, server, admin: change.admin });
      }
      if (change.weight !== undefined) {
        pool.setWeight(server, change.weight);
        this.history.event('admin', `${backend}/${server} weight ${change.weight}`, Date.now());
        this.workers?.broadcast({ t: 'server', backend, server, weight: change.weight });
      }
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  }

  status(): NodeStatus {
    const checks = new Map((this.checkers?.states() ?? []).map((c) => [`${c.backend}/${c.server}`, c]));
    // With workers, this process's pools only decide health; the traffic counts are theirs.
    const counted = this.workers?.counters();
    return {
      source: this.config.source,
      generation: this.generation,
      workers: workerCount(this.config),
      frontends: this.config.frontends.map((f) => ({
        name: f.name,
        mode: f.mode,
        bind: f.bind.map((b) => `${b.host}:${b.port}`),
        listenError: this.listenErrors.find((e) => e.frontend === f.name)?.error,
      })),
      backends: [...this.runtime.pools.values()].map((p) => ({
        name: p.name,
        balance: p.algorithm,
        usable: p.hasUsable(),
        queue: this.workers ? this.workers.queued(p.name) : p.queueLength,
        servers: p.servers.map((s) => {
          const c = checks.get(`${p.name}/${s.name}`);
          const w = counted?.[p.name]?.[s.name];
          return {
            name: s.name,
            address: `${s.host}:${s.port}`,
            up: s.up,
            admin: s.admin,
            weight: s.weight,
            backup: s.backup,
            active: w ? w.active : s.active,
            requests: w ? w.requests : s.requests,
            failures: w ? w.failures : s.failures,
            wentDown: s.wentDown,
            wentUp: s.wentUp,
            lastCheck: c?.last,
            history: this.history.healthOf(p.name, s.name),
          };
        }),
      })),
      vrrp: this.vrrp?.status() ?? [],
      ...(this.acme ? { acme: this.acme.status() } : {}),
      ...(this.handoverChannel ? { acmeHandover: this.handoverChannel.counters } : {}),
      ...(this.bgp ? { bgp: this.bgp.status() } : {}),
      events: this.history.timeline(),
    };
  }

  /** Traffic counters of the whole node (metrics-api: summed over workers, ~1 s old with workers). */
  trafficTotals(): TrafficSnapshot {
    return this.workers ? this.workers.trafficSnapshot() : this.runtime.traffic.snapshot();
  }

  private adminHandlers() {
    return {
      status: () => this.status(),
      traffic: () => ({ intervalMs: 1000, series: this.traffic.series(), totals: this.trafficTotals() }),
      metrics: () => this.metrics.render(),
      reload: () => this.reload(),
      handover: () => this.handover(),
      setServer: (b: string, s: string, c: { admin?: string; weight?: number }) => this.setServer(b, s, c),
    };
  }

  /**
   * Graceful stop: VRRP steps down first (priority 0, so a backup takes over within skew time)
   * while the proxy still serves; then no new connections, in-flight requests get `grace`.
   */
  stop(graceMs = this.config.global.grace): Promise<void> {
    this.stopping ??= this.stopNow(graceMs);
    return this.stopping;
  }

  private async stopNow(graceMs: number): Promise<void> {
    clearInterval(this.sampling);
    this.ticketKeys.stop();
    this.log.info({ graceMs }, 'stopping');
    // A master hands over first (priority 0, keeps the VIP and serves until the new master is
    // heard), so a planned stop fails no request; then the instances close.
    this.acme?.stop();
    await this.handoverChannel?.stop();
    await this.vrrp?.handover();
    await this.vrrp?.stop();
    // BGP: withdraw, keep serving while the routers move the flows.
    await this.bgp?.drain();
    this.checkers?.stop();
    for (const off of this.detachPools.splice(0)) off();
    await Promise.all([this.workers?.stop(graceMs), this.runtime.close(graceMs)]);
    // Only now the VIPs leave lo: the connections still open were closed while they could be.
    await this.bgp?.stop();
    if (this.bgpRunDir) await rm(this.bgpRunDir, { recursive: true, force: true });
    await this.admin?.close();
    this.log.info('stopped');
  }
}

export interface NodeStatus {
  source: string;
  generation: number;
  workers: number;
  frontends: { name: string; mode: string; bind: string[]; listenError?: string }[];
  backends: {
    name: string;
    balance: string;
    usable: boolean;
    queue: number;
    servers: {
      name: string;
      address: string;
      up: boolean;
      admin: string;
      weight: number;
      backup: boolean;
      active: number;
      requests: number;
      failures: number;
      /** Health transitions, decided in this process (the primary) for every worker. */
      wentDown: number;
      wentUp: number;
      lastCheck?: CheckStatus['last'];
      history: HealthTransition[];
    }[];
  }[];
  vrrp: unknown[];
  /** BGP sessions and what is announced, with why (a node with `bgp:`). */
  bgp?: BgpStatus;
  /** Per acme frontend: the certificate held, or the fallback served, and the renewal plan. */
  acme?: AcmeStatus[];
  /** The certificate hand-over to peers: sent, acknowledged, received, refused by reason. */
  acmeHandover?: HandoverCounters;
  /** The node's event timeline, oldest first. */
  events: NodeEvent[];
}

