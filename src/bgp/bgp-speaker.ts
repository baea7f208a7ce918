// A node's BGP side: its VIPs on lo (so traffic the routers send here is accepted), its FRR, and
// the announce/withdraw loop driven by the same signals as VRRP's trackers. A planned stop
// withdraws every VIP, keeps serving for `drainMs` while the routers move their flows, then stops.
// With `peers`, segments of connections another node owns that the routers move here are passed to
// it (flow-forwarding.ts), so a next-hop change resets none of them.

import { readFileSync } from 'node:fs';
import type { BgpConfig, VirtualAddress } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { LinuxAddresses } from '../vip/linux-address.ts';
import { announceChanges, type AnnounceSignals } from './announce-policy.ts';
import { FlowForwarding, type FlowForwardingStatus } from './flow-forwarding.ts';
import { FrrSupervisor, type NeighborState } from './frr-supervisor.ts';

export interface BgpSpeakerOptions {
  bgp: BgpConfig;
  hostname: string;
  runDir: string;
  log: Logger;
  /** Listening frontends and usable backends, read at every refresh. */
  signals: () => Omit<AnnounceSignals, 'stopping'>;
}

export interface BgpStatus {
  asn: number;
  routerId: string;
  neighbors: NeighborState[];
  prefixes: { prefix: string; announced: boolean; reason: string }[];
  /** The flow hand-off to the other nodes (present with `peers`). */
  handoff?: FlowForwardingStatus;
}

export class BgpSpeaker {
  readonly #o: BgpSpeakerOptions;
  readonly #frr: FrrSupervisor;
  readonly #forwarding: FlowForwarding;
  readonly #addresses = new LinuxAddresses();
  readonly #announced = new Set<string>();
  readonly #reasons = new Map<string, string>();
  #stopping = false;
  #work: Promise<void> = Promise.resolve();
  #neighbors: NeighborState[] = [];
  #poll: NodeJS.Timeout | undefined;

  constructor(o: BgpSpeakerOptions) {
    this.#o = o;
    this.#frr = new FrrSupervisor({ bgp: o.bgp, hostname: o.hostname, runDir: o.runDir, log: o.log });
    this.#forwarding = new FlowForwarding({ vips: o.bgp.announce, peers: o.bgp.peers, log: o.log });
  }

  #vips(): VirtualAddress[] {
    return this.#o.bgp.announce.map((a) => ({ address: a.address, family: a.family, prefix: a.prefixLength, device: 'lo' }));
  }

  async start(): Promise<void> {
    // Before the VIPs: conntrack must see each of our connections from its SYN.
    await this.#forwarding.start();
    for (const v of this.#vips()) await this.#addresses.add(v, 'lo');
    const passwords = new Map<string, string>();
    for (const n of this.#o.bgp.neighbors) if (n.passwordFile !== undefined) passwords.set(n.address, readFileSync(n.passwordFile, 'utf8').trim());
    await this.#frr.start(passwords);
    await this.refresh();
    const poll = async (): Promise<void> => {
      this.#neighbors = await this.#frr.neighbors().catch(() => this.#neighbors);
      await this.#forwarding.refreshCounts();
    };
    await poll();
    this.#poll = setInterval(() => void poll(), 1000);
    this.#poll.unref();
  }

  /** Re-decides every prefix; serialised, so a burst of health events applies in order. */
  refresh(): Promise<void> {
    this.#work = this.#work.then(() => this.#apply()).catch((err: unknown) => this.#o.log.error({ err: (err as Error).message }, 'bgp announce/withdraw failed'));
    return this.#work;
  }

  async #apply(): Promise<void> {
    const c = announceChanges(this.#o.bgp.announce, this.#announced, { ...this.#o.signals(), stopping: this.#stopping });
    for (const [k, v] of c.reasons) this.#reasons.set(k, v);
    for (const a of c.withdraw) {
      await this.#frr.withdraw(a);
      this.#announced.delete(a.address);
      this.#o.log.warn({ prefix: `${a.address}/${a.prefixLength}`, reason: c.reasons.get(a.address) }, 'bgp: withdrawn');
    }
    for (const a of c.announce) {
      await this.#frr.announce(a);
      this.#announced.add(a.address);
      this.#o.log.info({ prefix: `${a.address}/${a.prefixLength}`, reason: c.reasons.get(a.address) }, 'bgp: announced');
    }
  }

  /**
   * Planned stop, first half: withdraw, then serve `drainMs` more (the caller's listeners are still
   * open) while the routers move the flows. The VIPs and the flow hand-off stay until `stop`, so
   * the connections still open here can be closed cleanly, not cut.
   */
  async drain(): Promise<void> {
    this.#stopping = true;
    await this.refresh();
    if (this.#announced.size === 0) await new Promise((r) => setTimeout(r, this.#o.bgp.drainMs));
  }

  async stop(): Promise<void> {
    clearInterval(this.#poll);
    this.#stopping = true;
    await this.#frr.stop();
    for (const v of this.#vips()) await this.#addresses.remove(v, 'lo').catch(() => undefined);
    await this.#forwarding.stop();
  }

  status(): BgpStatus {
    return {
      asn: this.#o.bgp.asn,
      routerId: this.#o.bgp.routerId,
      neighbors: this.#neighbors,
      prefixes: this.#o.bgp.announce.map((a) => ({ prefix: `${a.address}/${a.prefixLength}`, announced: this.#announced.has(a.address), reason: this.#reasons.get(a.address) ?? 'not decided yet' })),
      ...(this.#o.bgp.peers.length > 0 ? { handoff: this.#forwarding.status() } : {}),
    };
  }
}
