// The classic keepalived master duty: put the virtual_ipaddress list (and virtual_routes) on
// the interfaces, announce them with gratuitous ARP / unsolicited NA on keepalived's schedule,
// and take them off again when leaving MASTER. An AddressProvider, so the instance treats it
// like a cloud floating IP. Every operation is idempotent (linux-address.ts), which is what
// makes "remove stale copies at startup" and repeated transitions safe.

import type { VirtualAddress, VirtualRoute, VrrpInstanceConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { announce as realAnnounce } from './announce.ts';
import type { AnnounceOptions } from './announce.ts';
import { LinuxAddresses } from './linux-address.ts';
import type { AcquireResult, AddressProvider, VerifyResult } from './provider.ts';

/** The part of LinuxAddresses used here (a test double implements just this). */
export type AddressTable = Pick<LinuxAddresses, 'add' | 'remove' | 'has' | 'removeStale' | 'addRoute' | 'removeRoute'> &
  Partial<Pick<LinuxAddresses, 'foreignCopies'>>;
export type AnnounceFn = (vip: VirtualAddress, iface: string, opts: AnnounceOptions) => Promise<number>;

export interface VirtualAddressesOptions {
  config: VrrpInstanceConfig;
  log: Logger;
  table?: AddressTable;
  announce?: AnnounceFn;
}

export class VirtualAddresses implements AddressProvider {
  readonly name: string;
  readonly #vips: readonly VirtualAddress[];
  readonly #routes: readonly VirtualRoute[];
  readonly #iface: string;
  readonly #garp: VrrpInstanceConfig['garp'];
  readonly #log: Logger;
  readonly #table: AddressTable;
  readonly #announce: AnnounceFn;
  #delayed: NodeJS.Timeout | undefined;
  #refresh: NodeJS.Timeout | undefined;
  #bursts: AbortController | undefined;
  /** Messages sent so far, for status and tests. */
  announcements = 0;

  constructor(opts: VirtualAddressesOptions) {
    const c = opts.config;
    this.#vips = c.virtualIpAddresses;
    this.#routes = c.virtualRoutes;
    this.#iface = c.interface;
    this.#garp = c.garp;
    this.#log = opts.log;
    this.#table = opts.table ?? new LinuxAddresses();
    this.#announce = opts.announce ?? realAnnounce;
    this.name = `l2 ${this.#vips.map((v) => `${v.address}/${v.prefix} dev ${v.device ?? c.interface}`).join(', ')}`;
  }

  get empty(): boolean {
    return this.#vips.length === 0 && this.#routes.length === 0;
  }

  /** Add every VIP, then the routes (a route via a VIP's subnet needs the address first). */
  async acquire(): Promise<AcquireResult> {
    let changed = false;
    let attempts = 0;
    for (const vip of this.#vips) {
      attempts++;
      if ((await this.#table.add(vip, this.#iface)) === 'added') changed = true;
    }
    for (const route of this.#routes) {
      attempts++;
      if ((await this.#table.addRoute(route, this.#iface)) === 'added') changed = true;
    }
    return { changed, attempts, detail: `${changed ? 'added' : 'already had'} ${this.name}` };
  }

  async release(): Promise<void> {
    this.stopAnnouncing();
    for (const route of this.#routes) await this.#table.removeRoute(route, this.#iface).catch((err: unknown) => this.#warn('remove route', err));
    for (const vip of this.#vips) await this.#table.remove(vip, this.#iface).catch((err: unknown) => this.#warn('remove VIP', err));
  }

  async verify(): Promise<VerifyResult> {
    for (const vip of this.#vips) if (!(await this.#table.has(vip, this.#iface))) return { ours: false, holder: 'not configured here' };
    return { ours: true, holder: 'this node' };
  }

  /**
   * An address equal to a VIP that halb did not add (127.0.0.1/32 with 127.0.0.1/8 on lo): taking
   * it over and later releasing it would remove the host's own address. Throws naming both.
   */
  async refuseForeign(): Promise<void> {
    const foreign = (await this.#table.foreignCopies?.(this.#vips, this.#iface)) ?? [];
    if (foreign.length === 0) return;
    const list = foreign.map((f) => `${f.vip.address} is already on ${f.held.device} as ${f.held.address}/${f.held.prefix}${f.held.label ? ` (label ${f.held.label})` : ''}`);
    throw new Error(`virtual_ipaddress: ${list.join('; ')}; halb did not add it and will not take it over or remove it: use an address the host does not have`);
  }

  /** Startup: nobody is master yet, so copies left by a crashed run must go (with any prefix). */
  async removeStale(): Promise<VirtualAddress[]> {
    for (const route of this.#routes) await this.#table.removeRoute(route, this.#iface).catch(() => 'absent');
    return this.#table.removeStale(this.#vips, this.#iface);
  }

  /**
   * keepalived's schedule: a burst of garp_master_repeat now; after a transition to MASTER also
   * a second burst garp_master_delay later, and one message per VIP every garp_master_refresh.
   */
  announce(afterTransition: boolean): void {
    void this.#burst(this.#garp.masterRepeat);
    if (!afterTransition) return;
    if (this.#delayed) clearTimeout(this.#delayed);
    if (this.#garp.masterDelay > 0) {
      this.#delayed = setTimeout(() => {
        this.#delayed = undefined;
        void this.#burst(this.#garp.masterRepeat);
      }, this.#garp.masterDelay);
      this.#delayed.unref();
    }
    if (this.#garp.masterRefresh > 0 && !this.#refresh) {
      this.#refresh = setInterval(() => void this.#burst(1), this.#garp.masterRefresh);
      this.#refresh.unref();
    }
  }

  stopAnnouncing(): void {
    if (this.#delayed) clearTimeout(this.#delayed);
    if (this.#refresh) clearInterval(this.#refresh);
    this.#delayed = undefined;
    this.#refresh = undefined;
    this.#bursts?.abort();
    this.#bursts = undefined;
  }

  async #burst(repeat: number): Promise<void> {
    this.#bursts ??= new AbortController();
    const signal = this.#bursts.signal;
    await Promise.all(
      this.#vips.map(async (vip) => {
        try {
          this.announcements += await this.#announce(vip, this.#iface, { repeat, intervalMs: this.#garp.interval, signal });
        } catch (err) {
          this.#warn(`announce ${vip.address}`, err);
        }
      }),
    );
  }

  #warn(what: string, err: unknown): void {
    this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, `${what} failed`);
  }
}
