// What a node does to the world while it holds an instance's addresses, whoever elected it:
// the virtual addresses (L2 VIPs with GARP/NA, or a cloud floating IP kept by
// FloatingIpKeeper), the flow hand-off that keeps a live peer's connections through a planned
// move, and keepalived's notify hooks. VRRP tells it claim / yield / release / fault / stop
// (node/vrrp-claim-link.ts); it knows nothing of adverts or priorities beyond passing the
// priority to the hooks.
// World-changing work (add/remove VIPs, hooks) runs one step at a time in a queue, so a fast
// claim -> release -> claim flap is applied in order and never interleaved.

import type { VrrpInstanceConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { createFloatingIpProvider } from './cloud-provider-factory.ts';
import { HookRunner } from './exec-hooks.ts';
import type { HookState } from './exec-hooks.ts';
import { FloatingIpKeeper } from './floating-ip-keeper.ts';
import type { KeeperTimers } from './floating-ip-keeper.ts';
import { FlowHandoff } from './flow-handoff.ts';
import type { Handoff } from './flow-handoff.ts';
import type { AddressProvider } from './provider.ts';
import { VirtualAddresses } from './virtual-addresses.ts';
import type { AddressTable, AnnounceFn } from './virtual-addresses.ts';

export interface AddressClaimOptions {
  /** The instance whose addresses, floating IP, interface and notify hooks these are. */
  config: VrrpInstanceConfig;
  /** Already bound to the instance (the election's log lines and these share one context). */
  log: Logger;
  /**
   * A claim that yields to a holder it heard (preemption, handover, split brain) keeps its
   * addresses this long (ms) before removing them. Default 1000. See #releaseAddresses.
   */
  releaseDelay?: number;
  /**
   * With a cloud floating IP, a yielding claim keeps its addresses until the provider reports
   * the IP moved (then releaseDelay more), at most this long (ms). Default 30000.
   */
  floatingIpMoveTimeout?: number;
  // Seams for tests:
  /** Default: FlowHandoff (nft) for L2 VIPs, none when addressTable is a test double. */
  handoff?: Handoff;
  floatingIpProvider?: AddressProvider;
  timers?: KeeperTimers;
  addressTable?: AddressTable;
  announce?: AnnounceFn;
}

export interface ClaimStatus {
  /** The virtual addresses are configured here right now. */
  holdingAddresses: boolean;
  floatingIp?: ReturnType<FloatingIpKeeper['status']>;
}

/**
 * After hearing a lower-priority master: its GARP burst follows its VIP by a few ms (more
 * under load), and it keeps the VIP releaseDelay (1 s) after yielding; our second announce
 * falls between the two.
 */
const REANNOUNCE_MS = 250;

/** The linger's timer keeps the process alive until the addresses are gone (no unref). */
const lingerTimers: Pick<KeeperTimers, 'setTimeout' | 'clearTimeout'> = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class AddressClaim {
  readonly #opts: AddressClaimOptions;
  readonly #log: Logger;
  readonly #hooks: HookRunner;
  readonly #vips: VirtualAddresses | undefined;
  readonly #keeper: FloatingIpKeeper | undefined;
  readonly #handoff: Handoff | undefined;
  #work: Promise<void> = Promise.resolve();
  #holding = false;
  /** Claimed and not yet left (the election's master or master-handing-over). */
  #claimed = false;
  #stopped = false;
  /** A delayed release in progress (#releaseAddresses): ends it (without releasing), and a promise for its end. */
  #lingerEnd: (() => void) | undefined;
  #lingerDone: Promise<void> = Promise.resolve();
  #justClaimed = false;
  /** The master the election follows while we do not claim (the hand-off is armed for it). */
  #followed: string | undefined;
  /** Counts claims and their ends, so queued work can tell it is stale. */
  #term = 0;
  /** The second announce after hearing another holder (reassert), pending. */
  #reannounce: unknown;

  constructor(opts: AddressClaimOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    const c = opts.config;
    this.#hooks = new HookRunner({ instance: c.name, notify: c.notify, log: this.#log });
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
    // Connections open on a yielding holder reach us when its clients follow our GARP; the
    // handoff sends them back to it (L2 only: a floating IP moves by API call, not per client).
    // A test double address table means no real network, so no real nft either.
    if (this.#vips && !this.#keeper) {
      this.#handoff = opts.handoff ?? (opts.addressTable ? undefined : new FlowHandoff({ instance: c.name, vips: c.virtualIpAddresses.map((v) => v.address), iface: c.interface, log: this.#log }));
    }
  }

  /**
   * Before the election starts: remove stale VIPs and hand-off rules left by a previous run,
   * and refuse to start when another owner holds a VIP here (clear message).
   */
  async start(): Promise<void> {
    const c = this.#opts.config;
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
  }

  /**
   * Take the addresses (and the floating IP), then run the MASTER hooks. `from`: the live
   * holder we take over from; its other connections are handed back to it for a moment.
   */
  claim(o: { from?: string | undefined; priority: number }): void {
    // Claimed again while still lingering: the addresses never left (acquire is idempotent).
    this.#cancelLinger(false);
    this.#claimed = true;
    this.#term++;
    this.#justClaimed = true;
    this.#keeper?.onMaster();
    const followed = this.#followed;
    this.#followed = undefined;
    // The master we followed stepped down and another backup took over before us (its skew
    // time came first under load): we take over from that one, and the connections are the
    // followed master's and its. The armed rule for the followed master starts the window
    // (no nft before the VIP), the other holder is added after.
    const alsoFrom = o.from !== undefined && followed !== undefined && followed !== o.from ? o.from : undefined;
    this.#enqueue('take addresses', async () => {
      // Before the VIP is added, so conntrack sees our own connections from their SYN (at once
      // when it was armed for this master while we followed it).
      if (o.from !== undefined) await this.#handoff?.begin(alsoFrom !== undefined ? followed! : o.from, this.#handoffWindow());
      if (this.#vips) {
        const r = await this.#vips.acquire();
        this.#log.info({ changed: r.changed }, r.detail);
      }
      this.#holding = true;
      // The master we followed went silent: nobody to hand its connections to. Not awaited:
      // the announce queued next must not wait for nft.
      if (o.from === undefined) void this.#handoff?.end();
      else if (alsoFrom !== undefined) void this.#handoff?.include?.(alsoFrom, this.#handoffWindow());
    });
    this.#hook('MASTER', o.priority);
  }

  /** (Re-)announce the addresses now: GARP / unsolicited NA. */
  announce(): void {
    // The election's send-garp follows become-master in the same step: only then does the
    // delayed second burst (garp_master_delay) apply, not for a split-brain re-announce.
    const afterTransition = this.#justClaimed;
    this.#justClaimed = false;
    const term = this.#term;
    this.#enqueue('announce', async () => {
      // Queued behind the address setup: if we yielded meanwhile, the winner has announced
      // already, and a late burst of ours would pull its clients back to a node about to drop
      // the VIP (seen in the chaos trials as two backups taking over at once).
      if (term !== this.#term) {
        this.#log.info('not announcing: left master before the addresses were in');
        return;
      }
      await this.#vips?.announce(afterTransition);
    });
  }

  /**
   * The election follows `master` (as backup): arm the hand-off to it, so a takeover from it
   * need not wait for nft. While our addresses linger they are armed when released.
   */
  follow(master: string): void {
    if (this.#claimed || this.#stopped || !this.#handoff?.arm) return;
    this.#followed = master;
    if (!this.#holding) this.#enqueue('arm handoff', async () => this.#armFollowed());
  }

  async #armFollowed(): Promise<void> {
    const peer = this.#followed;
    if (peer === undefined || this.#claimed || this.#holding || this.#stopped) return;
    await this.#handoff?.arm?.(peer);
  }

  /**
   * Another node believes it holds the addresses (a lower-priority master): re-check the
   * floating IP. With L2 VIPs it may hold connections (it took over with us, or was the other
   * side of a split): hand them on to it too while it lingers, and announce once more after
   * its own announcements are out, so its clients come back before its VIP goes.
   */
  reassert(from?: string): void {
    this.#keeper?.onLowerPriorityAdvertSeen();
    if (from === undefined || !this.#claimed || !this.#handoff?.include) return;
    const term = this.#term;
    this.#enqueue('hand on to another holder', async () => {
      if (term === this.#term) await this.#handoff?.include?.(from, this.#handoffWindow());
    });
    if (this.#reannounce !== undefined) return;
    const timers = this.#opts.timers ?? lingerTimers;
    this.#reannounce = timers.setTimeout(() => {
      this.#reannounce = undefined;
      if (term !== this.#term || this.#stopped) return;
      this.#enqueue('announce again', async () => {
        if (term === this.#term) this.#vips?.announce(false);
      });
    }, REANNOUNCE_MS);
  }

  /** Give up the claim to a live holder we heard: the addresses linger a moment first. BACKUP hooks. */
  yieldTo(peer: string, priority: number): void {
    this.#leave('BACKUP', priority, peer);
  }

  /** Not (or no longer) the holder, nobody heard to yield to: release now. BACKUP hooks. */
  release(priority: number): void {
    this.#leave('BACKUP', priority, undefined);
  }

  /** This node cannot serve: release now. FAULT hooks. */
  fault(priority: number): void {
    this.#leave('FAULT', priority, undefined);
  }

  /** The election stopped: release now. STOP hooks. close() then ends the rest. */
  stop(priority: number): void {
    this.#leave('STOP', priority, undefined);
  }

  /** Resolves when a linger in progress (yieldTo) has ended. */
  lingerDone(): Promise<void> {
    return this.#lingerDone;
  }

  /** Resolves when the queued world work (addresses, hooks) has run. */
  async settled(): Promise<void> {
    let w: Promise<void>;
    do {
      w = this.#work;
      await w;
    } while (w !== this.#work);
  }

  /** Release at once (a linger ends now), let the queue run, close the hand-off, keeper and hooks. Idempotent. */
  async close(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#cancelLinger(true);
    await this.settled();
    await this.#handoff?.end();
    await this.#handoff?.close?.();
    if (this.#reannounce !== undefined) (this.#opts.timers ?? lingerTimers).clearTimeout(this.#reannounce);
    await this.#keeper?.stop();
    await this.#hooks.idle();
  }

  status(): ClaimStatus {
    const s: ClaimStatus = { holdingAddresses: this.#holding };
    if (this.#keeper) s.floatingIp = this.#keeper.status();
    return s;
  }

  get holding(): boolean {
    return this.#holding;
  }

  #leave(state: HookState, priority: number, yieldedTo: string | undefined): void {
    const wasServing = this.#claimed;
    this.#claimed = false;
    if (wasServing) this.#term++;
    if (wasServing && this.#handoff) this.#enqueue('end handoff', async () => this.#handoff?.end());
    if (wasServing || this.#holding) {
      this.#keeper?.onBackup();
      const yielded = wasServing && yieldedTo !== undefined;
      this.#releaseAddresses(yielded ? (this.#opts.releaseDelay ?? 1000) : 0);
    }
    this.#hook(state, priority);
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
        await this.#armFollowed();
      });
    if (delayMs <= 0 || this.#stopped) {
      release();
      return;
    }
    // Stop our GARP schedule now: a delayed burst must not pull the clients back.
    this.#vips?.stopAnnouncing();
    const timers = this.#opts.timers ?? lingerTimers;
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

  /** End a linger early: `release` true removes the addresses now (stop), false keeps them (claimed again). */
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
}
