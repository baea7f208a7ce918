// The node's VRRP instances, and the in-process trackers that tie them to the proxy: a tracked
// backend is failing while it has no usable server, a tracked frontend while it cannot listen.
// Pools are rebuilt on reload, so the trackers read them through the node, by name.
import { EventEmitter } from 'node:events';
import type { VrrpConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { BackendPool } from '../pool/backend-pool.ts';
import type { TrackSource } from '../vrrp/instance.ts';
import { VrrpClaimLink } from './vrrp-claim-link.ts';
import type { ListenError } from './proxy-runtime.ts';
import { transitionReason } from '../vrrp/transition-reason.ts';
import { LastWordKeeper } from './last-word-keeper.ts';

class ProxySignal extends EventEmitter implements TrackSource {
  readonly name: string;
  private readonly read: () => boolean;
  ok: boolean;

  constructor(name: string, read: () => boolean) {
    super();
    this.name = name;
    this.read = read;
    this.ok = read();
  }

  refresh(): void {
    const ok = this.read();
    if (ok !== this.ok) {
      this.ok = ok;
      this.emit('change', ok);
    }
  }
}

export interface VrrpGroupDeps {
  log: Logger;
  pools: ReadonlyMap<string, BackendPool>;
  listenErrors: () => readonly ListenError[];
  /** Each state transition, in words with its reason (the node's event timeline). */
  onTransition?: (text: string) => void;
  /** Start the last-word keeper (default true). */
  lastWord?: boolean;
}

export class VrrpGroup {
  private readonly instances: VrrpClaimLink[] = [];
  private readonly backendSignals = new Map<string, ProxySignal>();
  private readonly frontendSignals = new Map<string, ProxySignal>();
  /** Sends each master's priority 0 if this process dies (last-word-keeper.ts); off in unit tests. */
  private readonly keeper: LastWordKeeper | undefined;

  constructor(config: VrrpConfig, deps: VrrpGroupDeps) {
    this.keeper = deps.lastWord === false ? undefined : new LastWordKeeper(deps.log.child({ component: 'last-word' }));
    for (const inst of config.instances) {
      const backends: Record<string, TrackSource> = {};
      for (const name of Object.keys(inst.track.backends)) {
        let s = this.backendSignals.get(name);
        if (!s) {
          s = new ProxySignal(`backend ${name}`, () => deps.pools.get(name)?.hasUsable() ?? false);
          this.backendSignals.set(name, s);
        }
        backends[name] = s;
      }
      const frontends: Record<string, TrackSource> = {};
      for (const name of Object.keys(inst.track.frontends)) {
        let s = this.frontendSignals.get(name);
        if (!s) {
          s = new ProxySignal(`frontend ${name}`, () => !deps.listenErrors().some((e) => e.frontend === name));
          this.frontendSignals.set(name, s);
        }
        frontends[name] = s;
      }
      const instance = new VrrpClaimLink({ config: inst, scripts: config.scripts, log: deps.log, backends, frontends });
      // Each transition changes what a death would have to say (master: priority 0; else nothing).
      instance.on('state', () => this.keeper?.tell(inst.name, instance.lastWord(), inst.virtualIpAddresses));
      const onTransition = deps.onTransition;
      if (onTransition) instance.on('state', (c) => onTransition(transitionReason(inst.name, c, instance.status().failingTrackers)));
      this.instances.push(instance);
    }
  }

  async start(): Promise<void> {
    this.keeper?.start();
    await Promise.all(this.instances.map((i) => i.start()));
  }

  backendsChanged(): void {
    for (const s of this.backendSignals.values()) s.refresh();
  }

  frontendsChanged(): void {
    for (const s of this.frontendSignals.values()) s.refresh();
  }

  /** Planned handover: each master steps down without dropping a request. */
  async handover(): Promise<string> {
    const masters = this.instances.filter((i) => i.status().keepalivedState === 'MASTER');
    await Promise.all(masters.map((i) => i.handover()));
    return masters.length === 0 ? 'not master of any instance' : `handed over: ${masters.map((i) => i.status().instance).join(', ')}`;
  }

  /** Master of at least one instance: the VIP (and so an ACME CA's challenge) reaches this node. */
  isMaster(): boolean {
    return this.instances.some((i) => i.status().keepalivedState === 'MASTER');
  }

  status(): unknown[] {
    return this.instances.map((i) => i.status());
  }

  async stop(): Promise<void> {
    // A planned stop steps down itself (priority 0 from each master): nothing left to say.
    this.keeper?.stop();
    await Promise.all(this.instances.map((i) => i.stop()));
  }
}
