// One vrrp instance as the node runs it: the election (vrrp/instance.ts) and the address claim
// it drives (vip/address-claim.ts). VRRP decides; this file says what each decision means for
// the addresses, so neither side knows the other: become-master claims (handing a live old
// master's connections back to it), becoming backup behind a master we heard yields to it
// (the addresses linger), any other backup, fault or stop releases at once; GARP and
// lower-priority events pass through. Status is the two read side by side.

import { EventEmitter } from 'node:events';
import type { VrrpInstanceConfig } from '../config/types.ts';
import { AddressClaim } from '../vip/address-claim.ts';
import type { AddressClaimOptions, ClaimStatus } from '../vip/address-claim.ts';
import { VrrpInstance } from '../vrrp/instance.ts';
import type { ElectionStatus, VrrpInstanceOptions } from '../vrrp/instance.ts';
import type { StateChange } from '../vrrp/router.ts';
import type { MachineStateName } from '../vrrp/state-machine.ts';
import type { LastWord } from '../vrrp/last-word.ts';

export type VrrpClaimLinkOptions = VrrpInstanceOptions & Omit<AddressClaimOptions, 'config' | 'log'>;

export interface InstanceStatus extends ElectionStatus, ClaimStatus {
  /** The instance's virtual addresses (config), and who holds them as far as this node knows. */
  virtualAddresses: string[];
  vipHolder: 'this node' | string | undefined;
}

export interface VrrpClaimLinkEvents {
  state: [change: StateChange];
}

export class VrrpClaimLink extends EventEmitter<VrrpClaimLinkEvents> {
  readonly config: VrrpInstanceConfig;
  readonly #claim: AddressClaim;
  readonly #vrrp: VrrpInstance;

  constructor(opts: VrrpClaimLinkOptions) {
    super();
    this.config = opts.config;
    const { config, log, backends, frontends, scripts, trackOwnInterface, openTransport, timers, ...claimSeams } = opts;
    // The claim first, as the instance built its addresses before its trackers.
    this.#claim = new AddressClaim({ config, log: log.child({ vrrp: config.name }), ...(timers ? { timers } : {}), ...claimSeams });
    this.#vrrp = new VrrpInstance({
      config,
      log,
      ...(scripts ? { scripts } : {}),
      ...(backends ? { backends } : {}),
      ...(frontends ? { frontends } : {}),
      ...(trackOwnInterface !== undefined ? { trackOwnInterface } : {}),
      ...(openTransport ? { openTransport } : {}),
      ...(timers ? { timers } : {}),
    });
    this.#vrrp.on('state', (change) => this.#onState(change));
    this.#vrrp.on('garp', () => this.#claim.announce());
    this.#vrrp.on('lower-priority', (info) => this.#claim.reassert(info.from));
    this.#vrrp.on('following', (master) => this.#claim.follow(master));
  }

  get state(): MachineStateName {
    return this.#vrrp.state;
  }

  /** Stale VIPs go (after the key file is read), then the election starts. */
  async start(): Promise<void> {
    await this.#vrrp.start(() => this.#claim.start());
  }

  /** Planned step-down (halb handover, SIGTERM): resolves when the addresses are released. */
  async handover(): Promise<void> {
    const r = await this.#vrrp.handover();
    if (r === 'not running') return;
    if (r === 'handed over') await this.#claim.lingerDone();
    await this.#claim.settled();
  }

  /** Priority 0 if master, release the addresses, notify_stop; close everything. Idempotent. */
  async stop(): Promise<void> {
    // The election's 'stop' event (from its shutdown) queues the release and notify_stop
    // before the claim closes, so a linger ends and the STOP hooks run as before the split.
    this.#vrrp.stop();
    await this.#claim.close();
  }

  /** What to send if this process dies while master (vrrp/last-word.ts). */
  lastWord(): LastWord | undefined {
    return this.#vrrp.lastWord();
  }

  status(): InstanceStatus {
    const e = this.#vrrp.status();
    const c = this.#claim.status();
    const s: InstanceStatus = {
      ...e,
      holdingAddresses: c.holdingAddresses,
      virtualAddresses: this.config.virtualIpAddresses.map((v) => v.address),
      vipHolder: c.holdingAddresses ? 'this node' : e.masterAddress,
    };
    if (c.floatingIp) s.floatingIp = c.floatingIp;
    return s;
  }

  #onState(change: StateChange): void {
    this.emit('state', change);
    switch (change.action) {
      case 'become-master':
        this.#claim.claim({ from: change.handoffFrom, priority: change.priority });
        return;
      case 'keep-serving':
        return;
      case 'become-backup':
        if (change.master !== undefined) this.#claim.yieldTo(change.master, change.priority);
        else this.#claim.release(change.priority);
        return;
      case 'enter-fault':
        this.#claim.fault(change.priority);
        return;
      case 'stop':
        this.#claim.stop(change.priority);
        return;
    }
  }
}
