// One configured vrrp instance end to end: the router (election on the wire), its trackers
// (priority and FAULT), and what the node does as MASTER: the virtual addresses (L2 VIPs with
// GARP/NA, or a cloud floating IP kept by FloatingIpKeeper) and keepalived's notify hooks.
// World-changing work (add/remove VIPs, hooks) runs one step at a time in a queue, so a fast
// MASTER -> BACKUP -> MASTER flap is applied in order and never interleaved.

import { readHmacKeyFile } from './hmac-key-file.ts';
import { EventEmitter } from 'node:events';
import type { ScriptTrackerConfig, VrrpInstanceConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { createFloatingIpProvider } from '../vip/cloud-provider-factory.ts';
import { HookRunner } from '../vip/exec-hooks.ts';
import type { HookState } from '../vip/exec-hooks.ts';
import { FloatingIpKeeper } from '../vip/floating-ip-keeper.ts';
import { FlowHandoff } from '../vip/flow-handoff.ts';
import type { Handoff } from '../vip/flow-handoff.ts';
import type { AddressProvider } from '../vip/provider.ts';
import { VrrpRouter, realRouterTimers } from './router.ts';
import type { RouterStatus, RouterTimers, RouterTransport, StateChange } from './router.ts';
import type { MachineStateName } from './state-machine.ts';
import { VrrpTransport } from './transport.ts';
import type { VrrpTransportOptions } from './transport.ts';
import { FileTracker } from './track/file-tracker.ts';
import { InterfaceTracker } from './track/interface-tracker.ts';
import { effectivePriority } from './track/priority.ts';
import type { TrackerResult } from './track/priority.ts';
import { ScriptTracker } from './track/script-tracker.ts';
import { VirtualAddresses } from '../vip/virtual-addresses.ts';
import type { AddressTable, AnnounceFn } from '../vip/virtual-addresses.ts';

/** An in-process health signal the node passes in (a backend with a usable server, a listening frontend). */
export interface TrackSource {
  readonly name: string;
  readonly ok: boolean;
  on(event: 'change', listener: (ok: boolean) => void): unknown;
  off?(event: 'change', listener: (ok: boolean) => void): unknown;
}

export interface VrrpInstanceOptions {
  config: VrrpInstanceConfig;
  /** vrrp.scripts: the instance's track.scripts refer to these by name. */
  scripts?: Record<string, ScriptTrackerConfig>;
  log: Logger;
  /** In-process trackers by name, for track.backends / track.frontends. */
  backends?: Record<string, TrackSource>;
  frontends?: Record<string, TrackSource>;
  /** keepalived tracks the instance's own interface (FAULT on link down) unless dont_track_primary. Default true. */
  trackOwnInterface?: boolean;
  /**
   * A master that yields to a master it heard (preemption, handover, split brain) keeps its
   * addresses this long (ms) before removing them. Default 1000. See #releaseAddresses.
   */
  releaseDelay?: number;
  /**
   * With a cloud floating IP, a yielding master keeps its addresses until the provider reports
   * the IP moved (then releaseDelay more), at most this long (ms). Default 30000.
   */
  floatingIpMoveTimeout?: number;
  // Seams for tests:
  /** Default: FlowHandoff (nft) for L2 VIPs, none when addressTable is a test double. */
  handoff?: Handoff;
  floatingIpProvider?: AddressProvider;
  openTransport?: (opts: VrrpTransportOptions) => RouterTransport;
  timers?: RouterTimers;
  addressTable?: AddressTable;
  announce?: AnnounceFn;
}

export type KeepalivedState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface InstanceStatus extends RouterStatus {
  /** keepalived's words for the state (a handing-over master still reads MASTER). */
  keepalivedState: KeepalivedState;
  /** Effective priority from the trackers (what we advertise unless handing over). */
  effectivePriority: number;
  fault: boolean;
  failingTrackers: string[];
  /** The virtual addresses are configured here right now. */
  holdingAddresses: boolean;
  /** The instance's virtual addresses (config), and who holds them as far as this node knows. */
  virtualAddresses: string[];
  vipHolder: 'this node' | string | undefined;
  floatingIp?: ReturnType<FloatingIpKeeper['status']>;
}

export interface VrrpInstanceEvents {
  state: [change: StateChange];
}

interface Tracked {
  result: TrackerResult;
  /** Resolves once the first result is in (interfaces, files); scripts report later. */
  start?(): unknown;
  stop(): void;
}

const KEEPALIVED_STATE: Record<MachineStateName, KeepalivedState> = {
  initialize: 'INIT',
  backup: 'BACKUP',
  master: 'MASTER',
  'master-handing-over': 'MASTER',
  fault: 'FAULT',
};

export class VrrpInstance extends EventEmitter<VrrpInstanceEvents> {
  readonly config: VrrpInstanceConfig;
  readonly #opts: VrrpInstanceOptions;
  readonly #log: Logger;
  readonly #tracked: Tracked[] = [];
  readonly #hooks: HookRunner;
  readonly #vips: VirtualAddresses | undefined;
  readonly #keeper: FloatingIpKeeper | undefined;
  readonly #handoff: Handoff | undefined;
  #router: VrrpRouter | undefined;
  #work: Promise<void> = Promise.resolve();
  #holding = false;
  #effective = { priority: 0, fault: false, failing: [] as string[] };
  #started = false;
  #stopped = false;
  /** A delayed release in progress (#releaseAddresses): ends it (without releasing), and a promise for its end. */
  #lingerEnd: (() => void) | undefined;
  #lingerDone: Promise<void> = Promise.resolve();

  constructor(opts: VrrpInstanceOptions) {
    super();
    this.config = opts.config;
    this.#opts = opts;
    this.#log = opts.log.child({ vrrp: opts.config.name });
    this.#hooks = new HookRunner({ instance: opts.config.name, notify: opts.config.notify, log: this.#log });
    const c = opts.config;
    if (c.virtualIpAddresses.length > 0 || c.virtualRoutes.length > 0) {
      this.#vips = new VirtualAddresses({
        config: c,
        log: this.#log,
        ...(opts.addressTable ? { table: opts.addressTable } : {}),
        ...(opts.announce ? { announce: opts.announce } : {}),
      });
    }
    if (c.floatingIp) {
      const provider = opts.floatingIpProvider ?? createFloatingIpProvider(c.floatingIp, this.#log);
      this.#keeper = new FloatingIpKeeper({
        provider,
        verifyInterval: c.floatingIp.verifyInterval,
        log: this.#log,
        ...(opts.timers ? { timers: opts.timers } : {}),
      });
    }
    // Connections open on a yielding master reach us when its clients follow our GARP; the
    // handoff sends them back to it (L2 only: a floating IP moves by API call, not per client).
    // A test double address table means no real network, so no real nft either.
    if (this.#vips && !this.#keeper) {
      this.#handoff = opts.handoff ?? (opts.addressTable ? undefined : new FlowHandoff({ instance: c.name, vips: c.virtualIpAddresses.map((v) => v.address), iface: c.interface, log: this.#log }));
    }
    this.#buildTrackers();
    this.#effective = effectivePriority(c.priority, this.#tracked.map((t) => t.result));
  }

  get state(): MachineStateName {
    return this.#router?.state ?? 'initialize';
  }

  /**
   * Remove stale VIPs, start the trackers (first results decide the starting priority / FAULT),
   * open the transport and leave Initialize. Throws (clear message) when the interface or the
   * raw socket cannot be opened.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error(`vrrp instance ${this.config.name}: already started`);
    this.#started = true;
    const c = this.config;
    // Before anything is touched: a missing or unsafe key file stops the start, not the election.
    const hmacKey = c.authentication?.type === 'hmac-sha256' ? readHmacKeyFile(c.authentication.keyFile, c.authentication.keyId) : undefined;
    if (this.#vips) {
      const removed = await this.#vips.removeStale().catch((err: unknown) => {
        this.#log.warn({ err: String(err) }, 'could not check for stale virtual addresses');
        return [];
      });
      if (removed.length > 0) this.#log.warn({ removed: removed.map((v) => v.address) }, 'removed stale virtual addresses left by a previous run');
      await this.#handoff?.removeStale();
      await this.#vips.refuseForeign().catch((err: unknown) => {
        throw new Error(`vrrp instance ${c.name}: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    await this.#startTrackers();
    const open = this.#opts.openTransport ?? ((o: VrrpTransportOptions) => this.#openReal(o));
    const transport = open({
      family: c.family,
      interface: c.interface,
      multicast: c.unicast === undefined,
      ...(c.unicast?.source !== undefined ? { sourceAddress: c.unicast.source } : {}),
      ...(c.unicast ? { unicastPeers: c.unicast.peers } : {}),
    });
    const router = new VrrpRouter({
      config: c,
      transport,
      log: this.#log,
      ...(this.#opts.timers ? { timers: this.#opts.timers } : {}),
      ...(hmacKey ? { hmacKey } : {}),
    });
    this.#router = router;
    router.on('state', (change) => this.#onState(change));
    router.on('garp', () => {
      // The machine's send-garp follows become-master in the same step: only then does the
      // delayed second burst (garp_master_delay) apply, not for a split-brain re-announce.
      const afterTransition = this.#justBecameMaster;
      this.#justBecameMaster = false;
      const term = this.#masterTerm;
      this.#enqueue('announce', async () => {
        // Queued behind the address setup: if we yielded meanwhile, the winner has announced
        // already, and a late burst of ours would pull its clients back to a node about to drop
        // the VIP (seen in the chaos trials as two backups taking over at once).
        if (term !== this.#masterTerm) {
          this.#log.info('not announcing: left master before the addresses were in');
          return;
        }
        await this.#vips?.announce(afterTransition);
      });
    });
    router.on('lower-priority', () => this.#keeper?.onLowerPriorityAdvertSeen());
    this.#applyTrackers();
    router.start();
  }

  /** Planned step-down (halb handover, SIGTERM): resolves when the addresses are released. */
  async handover(): Promise<void> {
    const router = this.#router;
    if (!router || this.#stopped) return;
    if (router.state !== 'master') {
      await this.#settled();
      return;
    }
    const done = new Promise<void>((resolve) => {
      const onState = (c: StateChange): void => {
        if (c.to === 'master-handing-over') return;
        this.off('state', onState);
        resolve();
      };
      this.on('state', onState);
    });
    router.handover();
    await done;
    await this.#lingerDone;
    await this.#settled();
  }

  /** Priority 0 if master, release the addresses, notify_stop; close everything. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#cancelLinger(true);
    for (const t of this.#tracked) t.stop();
    const router = this.#router;
    if (router) {
      router.shutdown();
      router.close();
    }
    await this.#settled();
    await this.#handoff?.end();
    await this.#keeper?.stop();
    await this.#hooks.idle();
  }

  status(): InstanceStatus {
    const base: RouterStatus = this.#router?.status() ?? {
      instance: this.config.name,
      vrid: this.config.virtualRouterId,
      version: this.config.version,
      state: 'initialize',
      configuredPriority: this.config.priority,
      priority: this.#effective.priority,
      localAddress: '',
      masterAdverInterval: this.config.advertInt,
      checksumForm: this.config.version === 2 ? 'message-only' : 'pseudo-header',
      counters: { advertsSent: 0, advertsReceived: 0, priorityZeroReceived: 0, priorityZeroSent: 0, sendErrors: 0, becameMaster: 0, transitions: [], dropped: 0, drops: {} },
      peers: [],
    };
    const s: InstanceStatus = {
      ...base,
      keepalivedState: this.#stopped ? 'STOP' : KEEPALIVED_STATE[base.state],
      effectivePriority: this.#effective.priority,
      fault: this.#effective.fault,
      failingTrackers: [...this.#effective.failing],
      holdingAddresses: this.#holding,
      virtualAddresses: this.config.virtualIpAddresses.map((v) => v.address),
      vipHolder: this.#holding ? 'this node' : base.masterAddress,
    };
    if (this.#keeper) s.floatingIp = this.#keeper.status();
    return s;
  }

  // ---- transitions -> the world ----

  #justBecameMaster = false;
  /** Counts entries to and exits from master, so queued work can tell it is stale. */
  #masterTerm = 0;

  #onState(change: StateChange): void {
    this.emit('state', change);
    switch (change.action) {
      case 'become-master':
        // Back to master while still lingering: the addresses never left (acquire is idempotent).
        this.#cancelLinger(false);
        this.#masterTerm++;
        this.#justBecameMaster = true;
        this.#keeper?.onMaster();
        this.#enqueue('take addresses', async () => {
          // Before the VIP is added, so conntrack sees our own connections from their SYN.
          if (change.handoffFrom !== undefined) await this.#handoff?.begin(change.handoffFrom, this.#handoffWindow());
          if (this.#vips) {
            const r = await this.#vips.acquire();
            this.#log.info({ changed: r.changed }, r.detail);
          }
          this.#holding = true;
        });
        this.#hook('MASTER', change.priority);
        return;
      case 'keep-serving':
        return;
      case 'become-backup':
      case 'enter-fault':
      case 'stop': {
        const wasServing = change.from === 'master' || change.from === 'master-handing-over';
        if (wasServing) this.#masterTerm++;
        if (wasServing && this.#handoff) this.#enqueue('end handoff', async () => this.#handoff?.end());
        if (wasServing || this.#holding) {
          this.#keeper?.onBackup();
          const yielded = change.action === 'become-backup' && wasServing && change.master !== undefined;
          this.#releaseAddresses(yielded ? (this.#opts.releaseDelay ?? 1000) : 0);
        }
        const state: HookState = change.action === 'become-backup' ? 'BACKUP' : change.action === 'enter-fault' ? 'FAULT' : 'STOP';
        this.#hook(state, change.priority);
        return;
      }
    }
  }

  /**
   * How long a new master sends other connections' segments to the old one: shorter than the
   * old master's linger (releaseDelay, counted from when it hears our first advert, which goes
   * out before our rule is in), so nothing is sent to a node that no longer has the VIP.
   */
  #handoffWindow(): number {
    return 0.8 * (this.#opts.releaseDelay ?? 1000);
  }

  /**
   * Remove the virtual addresses, now or after `delayMs`. A master that yields to a master it
   * heard lingers: the new master's first advert reaches us before its address is added and its
   * gratuitous ARP reaches the clients, so a client keeps sending to us for a few ms, and
   * requests already in flight here need their connection's address to finish. Removing the
   * VIP at once dropped exactly those (one failed request per handover or preemption at
   * 50 req/s); keeping it briefly, without announcing it, lets the clients move first. Both
   * nodes answer ARP for the VIP meanwhile; clients with a cached entry follow the winner's GARP
   * (and its second burst after garp_master_delay). keepalived removes at once.
   *
   * With a cloud floating IP the traffic does not follow the new master's GARP but its API call:
   * the provider keeps routing the address here until the new master's assign completes, which
   * takes seconds (and retries), not the fixed delay. Removing the address before that refused
   * every request in between, so the linger first waits for the provider to report the address
   * elsewhere (bounded by floatingIpMoveTimeout), then `delayMs` for requests in flight.
   */
  #releaseAddresses(delayMs: number): void {
    this.#cancelLinger(false);
    const release = (): void =>
      this.#enqueue('release addresses', async () => {
        await this.#vips?.release();
        this.#holding = false;
      });
    if (delayMs <= 0 || this.#stopped) {
      release();
      return;
    }
    // Stop our GARP schedule now: a delayed burst must not pull the clients back.
    this.#vips?.stopAnnouncing();
    const timers = this.#opts.timers ?? realRouterTimers;
    const ac = new AbortController();
    let handle: unknown;
    this.#lingerDone = new Promise<void>((resolve) => {
      this.#lingerEnd = () => {
        ac.abort();
        if (handle !== undefined) timers.clearTimeout(handle);
        this.#lingerEnd = undefined;
        resolve();
      };
    });
    const thenRelease = (): void => {
      handle = timers.setTimeout(() => {
        release();
        this.#lingerEnd?.();
      }, delayMs);
    };
    const keeper = this.#keeper;
    if (keeper && this.#vips) {
      const maxMs = this.#opts.floatingIpMoveTimeout ?? 30_000;
      this.#log.info({ maxMs }, 'yielded to a new master: keeping the addresses until the floating IP has moved to it');
      void keeper.whenMovedAway(ac.signal, maxMs).then((moved) => {
        if (ac.signal.aborted) return;
        if (moved) this.#log.info({ delayMs }, 'floating IP moved to the new master; releasing the addresses after the delay');
        else this.#log.warn({ maxMs }, 'floating IP still routed here after the wait; releasing the addresses anyway');
        thenRelease();
      });
      return;
    }
    this.#log.info({ delayMs }, 'yielded to a new master: keeping the virtual addresses briefly so clients move first');
    thenRelease();
  }

  /** End a linger early: `release` true removes the addresses now (stop), false keeps them (master again). */
  #cancelLinger(release: boolean): void {
    if (this.#lingerEnd === undefined) return;
    this.#lingerEnd();
    if (release) {
      this.#enqueue('release addresses', async () => {
        await this.#vips?.release();
        this.#holding = false;
      });
    }
  }

  #hook(state: HookState, priority: number): void {
    // Queued behind the address work, as keepalived runs notify_master after adding the VIPs.
    this.#enqueue(`notify ${state}`, async () => {
      void this.#hooks.transition(state, priority);
    });
  }

  #enqueue(what: string, fn: () => Promise<void>): void {
    this.#work = this.#work.then(fn).catch((err: unknown) => {
      this.#log.error({ err: err instanceof Error ? err.message : String(err) }, `${what} failed`);
    });
  }

  async #settled(): Promise<void> {
    let w: Promise<void>;
    do {
      w = this.#work;
      await w;
    } while (w !== this.#work);
  }

  #openReal(o: VrrpTransportOptions): RouterTransport {
    const t = VrrpTransport.open(o);
    t.on('socket-error', (err) => this.#log.warn({ err: err.message }, 'VRRP socket error'));
    return t;
  }

  // ---- trackers ----

  #buildTrackers(): void {
    const c = this.config;
    const track = c.track;
    const where = `vrrp instance ${c.name}`;
    for (const ref of track.scripts) {
      const sc = this.#opts.scripts?.[ref.name];
      if (!sc) throw new Error(`${where}: track.scripts: no vrrp script named "${ref.name}"`);
      const tracker = new ScriptTracker(sc, this.#log);
      const result: TrackerResult = { name: `script ${ref.name}`, ok: true, weight: ref.weight ?? sc.weight };
      const onChange = (ok: boolean): void => this.#update(result, { ok });
      tracker.on('change', onChange);
      this.#tracked.push({ result, stop: () => tracker.stop(), start: () => tracker.start() });
    }
    const ifaces = [...track.interfaces];
    if ((this.#opts.trackOwnInterface ?? true) && !ifaces.some((i) => i.name === c.interface)) ifaces.push({ name: c.interface, weight: 0 });
    for (const ref of ifaces) {
      const tracker = new InterfaceTracker(ref.name);
      const result: TrackerResult = { name: `interface ${ref.name}`, ok: true, weight: ref.weight };
      tracker.on('change', (ok: boolean) => this.#update(result, { ok }));
      this.#tracked.push({
        result,
        stop: () => tracker.stop(),
        start: async () => {
          await tracker.start();
          result.ok = tracker.ok ?? false;
        },
      });
    }
    for (const ref of track.files) {
      const tracker = new FileTracker(ref.path);
      const result: TrackerResult = { name: `file ${ref.path}`, ok: true, weight: ref.weight, fileValue: 0 };
      tracker.on('change', (v: number) => this.#update(result, { fileValue: v, ok: v === 0 }));
      this.#tracked.push({
        result,
        stop: () => tracker.stop(),
        start: async () => {
          await tracker.start();
          result.fileValue = tracker.value ?? 0;
          result.ok = result.fileValue === 0;
        },
      });
    }
    for (const [kind, refs, sources] of [
      ['backend', track.backends, this.#opts.backends],
      ['frontend', track.frontends, this.#opts.frontends],
    ] as const) {
      for (const [name, ref] of Object.entries(refs)) {
        const src = sources?.[name];
        if (!src) throw new Error(`${where}: track.${kind}s.${name}: the node has no ${kind} "${name}" to track`);
        const result: TrackerResult = { name: `${kind} ${name}`, ok: src.ok, weight: ref.weight };
        const onChange = (ok: boolean): void => this.#update(result, { ok });
        src.on('change', onChange);
        this.#tracked.push({ result, stop: () => src.off?.('change', onChange) });
      }
    }
  }

  async #startTrackers(): Promise<void> {
    await Promise.all(this.#tracked.map((t) => t.start?.()));
  }

  #update(result: TrackerResult, patch: Partial<TrackerResult>): void {
    Object.assign(result, patch);
    this.#applyTrackers();
  }

  #applyTrackers(): void {
    const before = this.#effective;
    this.#effective = effectivePriority(this.config.priority, this.#tracked.map((t) => t.result));
    const e = this.#effective;
    if (e.priority !== before.priority || e.fault !== before.fault) {
      this.#log.info({ priority: e.priority, fault: e.fault, failing: e.failing }, 'tracked priority changed');
    }
    const router = this.#router;
    if (!router || this.#stopped) return;
    router.setPriority(e.priority);
    router.setFault(e.fault);
  }
}
