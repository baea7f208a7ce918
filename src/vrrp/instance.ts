// One configured vrrp instance's election: the router (election on the wire) and its trackers
// (priority and FAULT). It decides and tells its owner; it does nothing to the world itself.
// Events: 'state' (master/backup/fault/stop, with the live master taken over from in
// handoffFrom, or the master yielded to in master), 'garp' (announce the addresses now) and
// 'lower-priority' (another master is up). node/vrrp-claim-link.ts turns them into an
// address claim (vip/address-claim.ts): the VIPs, GARP/NA, cloud IP, flow hand-off and hooks.

import { readHmacKeyFile } from './hmac-key-file.ts';
import { EventEmitter } from 'node:events';
import type { ScriptTrackerConfig, VrrpInstanceConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { VrrpRouter } from './router.ts';
import type { RouterStatus, RouterTimers, RouterTransport, StateChange } from './router.ts';
import type { MachineStateName } from './state-machine.ts';
import { VrrpTransport } from './transport.ts';
import type { VrrpTransportOptions } from './transport.ts';
import { FileTracker } from './track/file-tracker.ts';
import { InterfaceTracker } from './track/interface-tracker.ts';
import { effectivePriority } from './track/priority.ts';
import type { TrackerResult } from './track/priority.ts';
import { ScriptTracker } from './track/script-tracker.ts';
import type { LastWord } from './last-word.ts';

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
  // Seams for tests:
  openTransport?: (opts: VrrpTransportOptions) => RouterTransport;
  timers?: RouterTimers;
}

export type KeepalivedState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface ElectionStatus extends RouterStatus {
  /** keepalived's words for the state (a handing-over master still reads MASTER). */
  keepalivedState: KeepalivedState;
  /** Effective priority from the trackers (what we advertise unless handing over). */
  effectivePriority: number;
  fault: boolean;
  failingTrackers: string[];
}

export interface VrrpInstanceEvents {
  state: [change: StateChange];
  /** A master should (re-)announce its virtual addresses now: GARP / unsolicited NA. */
  garp: [];
  /** A master heard a lower-priority master (split brain healing, cloud re-assert). */
  'lower-priority': [info: { from: string; priority: number }];
  /** A backup now follows this master (heard first, or another one than before). */
  following: [master: string];
}

/** What handover() found: a master that stepped down, a node that was not master, or none running. */
export type HandoverResult = 'handed over' | 'not master' | 'not running';

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
  #router: VrrpRouter | undefined;
  #effective = { priority: 0, fault: false, failing: [] as string[] };
  #started = false;
  #stopped = false;

  constructor(opts: VrrpInstanceOptions) {
    super();
    this.config = opts.config;
    this.#opts = opts;
    this.#log = opts.log.child({ vrrp: opts.config.name });
    const c = opts.config;
    this.#buildTrackers();
    this.#effective = effectivePriority(c.priority, this.#tracked.map((t) => t.result));
  }

  get state(): MachineStateName {
    return this.#router?.state ?? 'initialize';
  }

  /**
   * Start the trackers (first results decide the starting priority / FAULT), open the
   * transport and leave Initialize. `prepare` runs once the key file is read, before the
   * trackers: the owner readies the world (stale VIPs). Throws (clear message) when the key
   * file, the interface or the raw socket cannot be used.
   */
  async start(prepare?: () => Promise<void>): Promise<void> {
    if (this.#started) throw new Error(`vrrp instance ${this.config.name}: already started`);
    this.#started = true;
    const c = this.config;
    // Before anything is touched: a missing or unsafe key file stops the start, not the election.
    const hmacKey = c.authentication?.type === 'hmac-sha256' ? readHmacKeyFile(c.authentication.keyFile, c.authentication.keyId) : undefined;
    await prepare?.();
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
    router.on('state', (change) => this.emit('state', change));
    router.on('garp', () => this.emit('garp'));
    router.on('lower-priority', (info) => this.emit('lower-priority', info));
    router.on('following', (master) => this.emit('following', master));
    this.#applyTrackers();
    router.start();
  }

  /** Planned step-down (halb handover, SIGTERM): resolves when this node has left master (a new one was heard, or the bound passed). */
  async handover(): Promise<HandoverResult> {
    const router = this.#router;
    if (!router || this.#stopped) return 'not running';
    if (router.state !== 'master') return 'not master';
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
    return 'handed over';
  }

  /** Priority 0 if master (a 'stop' state event), stop the trackers, close the transport. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#tracked) t.stop();
    const router = this.#router;
    if (router) {
      router.shutdown();
      router.close();
    }
  }

  /** What to send if this process dies while master (last-word.ts); undefined otherwise. */
  lastWord(): LastWord | undefined {
    const w = this.#stopped ? undefined : this.#router?.lastWord();
    if (!w) return undefined;
    const c = this.config;
    return { instance: c.name, family: c.family, interface: c.interface, src: w.src, packets: w.packets.map(([payload, dst]) => ({ dst, payload: payload.toString('base64') })) };
  }

  status(): ElectionStatus {
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
    return {
      ...base,
      keepalivedState: this.#stopped ? 'STOP' : KEEPALIVED_STATE[base.state],
      effectivePriority: this.#effective.priority,
      fault: this.#effective.fault,
      failingTrackers: [...this.#effective.failing],
    };
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
