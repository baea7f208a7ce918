// One VRRP virtual router at run time: the thin I/O shell around the pure state machine.
// It owns the transport and real timers, turns received bytes into machine events (dropping
// and counting what must not reach the election), runs step(), and executes the returned
// actions in order: adverts go out here; everything a master does to the world (VIPs, GARP,
// hooks) is announced as events, passed on by instance.ts to the node's address claim.

import { EventEmitter } from 'node:events';
import type { VrrpInstanceConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { RouterCounters } from './counters.ts';
import { transitionCause } from './transition-reason.ts';
import type { DropReason, RouterCountersSnapshot, TransportDropReason } from './counters.ts';
import { compareIp, normaliseIp } from './ip-address.ts';
import { checkAuth, decodeAdvert, encodeAdvert, passwordAuthData, AUTH_NONE, AUTH_PASS } from './packet.ts';
import type { AdvertFields, ChecksumForm, VrrpAdvert } from './packet.ts';
import { nextSequence, signAdvert, verifyTrailer, vrrpMessageLength } from './hmac-trailer.ts';
import type { AdvertSequence, HmacKey } from './hmac-trailer.ts';
import { createMachine, machineConfig, step } from './state-machine.ts';
import { PeerTable } from './peer-table.ts';
import type { PeerView } from './peer-table.ts';
import type { AdvertPacer, AdvertRound } from './advert-pacer.ts';
import type { MachineAction, MachineEvent, MachineState, MachineStateName, TimerName } from './state-machine.ts';

/** What the router needs from a transport; VrrpTransport (transport.ts) is the real one. */
export interface RouterTransport {
  /** Our source address: the tie-break address and the v3 checksum pseudo-header source. */
  readonly localAddress: string;
  /** The multicast group, or every unicast peer. */
  readonly destinations: readonly string[];
  readonly multicast: boolean;
  /** Returns false when the kernel refused (the router counts it; never throws). */
  sendTo(payload: Buffer, dst: string): boolean;
  on(event: 'packet', listener: (pkt: RouterPacket) => void): unknown;
  off(event: 'packet', listener: (pkt: RouterPacket) => void): unknown;
  close(): void;
  /** The transport's own drops (transport.ts: ttl, interface, peer, malformed). */
  readonly drops?: Readonly<Record<string, number>>;
  /** A sender thread for a master's periodic adverts (advert-pacer.ts); absent: sent from here. */
  pacer?(): AdvertPacer | undefined;
  /** Deliver packets already queued on the socket now (before a timeout is judged). */
  drain?(): number;
}

export interface RouterPacket {
  payload: Buffer;
  src: string;
  dst: string;
  ttl: number;
  ifindex?: number;
}

/** Clock and timers, injected so unit tests drive time by hand. now() is monotonic ms. */
export interface RouterTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realRouterTimers: RouterTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type StateAction = 'become-master' | 'become-backup' | 'enter-fault' | 'stop' | 'keep-serving';

export interface StateChange {
  from: MachineStateName;
  to: MachineStateName;
  /** The machine action that announced it; become-backup also comes at startup (keepalived runs notify_backup then). */
  action: StateAction;
  /** Effective priority at the time. */
  priority: number;
  /** The master we now follow (Backup after hearing one). */
  master?: string;
  /** become-master: the live master we take over from (it keeps its addresses a moment). */
  handoffFrom?: string;
}

export interface RouterStatus {
  instance: string;
  vrid: number;
  version: 2 | 3;
  state: MachineStateName;
  configuredPriority: number;
  /** After trackers (what we advertise). */
  priority: number;
  localAddress: string;
  masterAddress?: string;
  masterPriority?: number;
  /** Master_Adver_Interval, ms (learned from the master in v3 Backup). */
  masterAdverInterval: number;
  /** Checksum form our v3 adverts use (adopted from a peer that uses a non-standard one). */
  checksumForm: ChecksumForm;
  counters: RouterCountersSnapshot;
  /** Every peer heard (accepted adverts only), as its adverts show it. */
  peers: PeerView[];
  /** The advert sender thread, when one sends our periodic adverts. */
  advertPacer?: { realtime: boolean; maxLateMs: number; queued: number };
}

export interface VrrpRouterEvents {
  state: [change: StateChange];
  /** A master should (re-)announce its virtual addresses now: GARP / unsolicited NA. */
  garp: [];
  /** A master heard a lower-priority master (split brain healing, cloud re-assert). */
  'lower-priority': [info: { from: string; priority: number }];
  /** A backup now follows this master (heard first, or another one than before). */
  following: [master: string];
}

export interface VrrpRouterOptions {
  config: VrrpInstanceConfig;
  transport: RouterTransport;
  log: Logger;
  timers?: RouterTimers;
  /** A drop reason is logged at warn at most this often (then debug). Default 60 s. */
  dropLogInterval?: number;
  /** The secret of `authentication: { type: hmac-sha256 }` (hmac-key-file.ts reads it); required then. */
  hmacKey?: HmacKey;
  /**
   * First epoch of our HMAC sequence: unix seconds at start, so a restarted sender's adverts sort
   * after everything it sent before (docs/vrrp-hmac.md). Tests inject it.
   */
  hmacEpoch?: number;
  /** Send periodic adverts from the transport's sender thread when it has one. Default true. */
  pacedAdverts?: boolean;
}

/**
 * How far ahead the sender thread is fed: enough rounds to ride out an event-loop stall of
 * 500 ms (or three intervals), no more, so a node whose JS side hangs goes silent and its backup
 * takes over as from a dead master.
 */
export function pacedRounds(advertIntMs: number): number {
  return Math.min(128, Math.max(3, Math.ceil(Math.max(500, 3 * advertIntMs) / advertIntMs)));
}

const STATE_ACTIONS: ReadonlySet<MachineAction['type']> = new Set(['become-master', 'become-backup', 'enter-fault', 'stop', 'keep-serving']);

const TRANSPORT_DROPS: Record<string, TransportDropReason> = {
  ttl: 'wire-ttl',
  interface: 'wrong-interface',
  peer: 'wire-not-a-peer',
  malformed: 'malformed-ip',
};

export class VrrpRouter extends EventEmitter<VrrpRouterEvents> {
  readonly config: VrrpInstanceConfig;
  readonly counters = new RouterCounters();
  readonly #peerTable = new PeerTable();
  readonly #transport: RouterTransport;
  readonly #log: Logger;
  readonly #timers: RouterTimers;
  readonly #dropLogInterval: number;
  readonly #lastDropLog = new Map<DropReason, number>();
  readonly #armed = new Map<TimerName, unknown>();
  readonly #queue: MachineEvent[] = [];
  readonly #addresses: string[];
  readonly #addressSet: ReadonlySet<string>;
  readonly #peers: ReadonlySet<string> | undefined;
  readonly #authData: Buffer | undefined;
  readonly #pass: { type: 'PASS'; password: string } | undefined;
  readonly #hmacKey: HmacKey | undefined;
  #hmacNext: AdvertSequence;
  /** Newest HMAC sequence accepted per sender address (only authentic senders get an entry). */
  readonly #hmacLast = new Map<string, AdvertSequence>();
  #machine: MachineState;
  #busy = false;
  #closed = false;
  /** The master this backup follows, as last reported by the following event. */
  #following: string | undefined;
  readonly #pacer: AdvertPacer | undefined;
  /** In an Adver_Timer expiry: the thread sent this round; we only feed it. */
  #inAdverTick = false;
  /** What to feed the thread after this step: the priority, and whether we sent one just now. */
  #paceRequest: { priority: number; sentNow: boolean } | undefined;
  #pacing = false;
  #pacerSent = 0;
  #pacerErrors = 0;
  #checksumForm: ChecksumForm;
  readonly #onPacket = (pkt: RouterPacket): void => this.#receive(pkt);

  constructor(opts: VrrpRouterOptions) {
    super();
    const { config } = opts;
    this.config = config;
    this.#transport = opts.transport;
    this.#log = opts.log.child({ vrid: config.virtualRouterId });
    this.#timers = opts.timers ?? realRouterTimers;
    this.#dropLogInterval = opts.dropLogInterval ?? 60_000;
    // Adverts carry the instance's addresses of its own family, in config order (as keepalived).
    this.#addresses = config.virtualIpAddresses
      .filter((v) => v.family === config.family)
      .map((v) => normaliseIp(v.address) ?? v.address);
    this.#addressSet = new Set(this.#addresses);
    this.#peers = config.unicast ? new Set(config.unicast.peers.map((p) => normaliseIp(p) ?? p)) : undefined;
    const auth = config.authentication;
    this.#pass = auth?.type === 'PASS' ? auth : undefined;
    this.#authData = config.version === 2 && this.#pass ? passwordAuthData(this.#pass.password) : undefined;
    if (auth?.type === 'hmac-sha256') {
      if (!opts.hmacKey) throw new Error(`vrrp instance ${config.name}: authentication hmac-sha256 needs its key (hmacKey)`);
      this.#hmacKey = opts.hmacKey;
    }
    this.#hmacNext = { epoch: opts.hmacEpoch ?? Math.floor(Date.now() / 1000), counter: 0 };
    this.#checksumForm = config.version === 2 ? 'message-only' : 'pseudo-header';
    this.#machine = createMachine(machineConfig(config, this.#transport.localAddress));
    this.#transport.on('packet', this.#onPacket);
    this.#pacer = opts.pacedAdverts === false ? undefined : this.#transport.pacer?.();
  }

  get state(): MachineStateName {
    return this.#machine.name;
  }

  /** The machine's current snapshot (immutable). */
  get machine(): MachineState {
    return this.#machine;
  }

  get localAddress(): string {
    return this.#transport.localAddress;
  }

  /** §6.4.1: leave Initialize (Backup, or Master at once for the owner; Fault if a tracker says so). */
  start(): void {
    this.#dispatch({ type: 'startup' });
  }

  /** Effective priority from the trackers. */
  setPriority(value: number): void {
    this.#dispatch({ type: 'priority', value });
  }

  /** A weight-0 tracker failed (true) or recovered (false). */
  setFault(on: boolean): void {
    this.#dispatch({ type: 'fault', on });
  }

  /** Planned step-down: priority 0 adverts, keep serving until the new master is heard. */
  handover(): void {
    this.#dispatch({ type: 'handover' });
  }

  /** Shutdown event (priority 0 if master). The router stays open: call close() after. */
  shutdown(): void {
    this.#dispatch({ type: 'shutdown' });
  }

  /** Stop timers and close the transport. Idempotent; no events after it returns. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const h of this.#armed.values()) this.#timers.clearTimeout(h);
    this.#armed.clear();
    this.#queue.length = 0;
    this.#pacer?.stop();
    this.#transport.off('packet', this.#onPacket);
    this.#transport.close();
  }

  status(): RouterStatus {
    this.#syncPacerCounters();
    const m = this.#machine;
    const transportDrops: Partial<Record<TransportDropReason, number>> = {};
    for (const [k, n] of Object.entries(this.#transport.drops ?? {})) {
      const reason = TRANSPORT_DROPS[k];
      if (reason) transportDrops[reason] = n;
    }
    const s: RouterStatus = {
      instance: this.config.name,
      vrid: this.config.virtualRouterId,
      version: this.config.version,
      state: m.name,
      configuredPriority: this.config.priority,
      priority: m.priority,
      localAddress: this.#transport.localAddress,
      masterAdverInterval: m.masterAdverInterval,
      checksumForm: this.#checksumForm,
      counters: this.counters.snapshot(transportDrops),
      peers: this.#peerTable.view(this.#timers.now()),
    };
    if (this.#pacer) {
      const ps = this.#pacer.stats();
      s.advertPacer = { realtime: ps.realtime, maxLateMs: ps.maxLateMs, queued: ps.queued };
    }
    if (m.masterAddress !== undefined) s.masterAddress = m.masterAddress;
    if (m.masterPriority !== undefined) s.masterPriority = m.masterPriority;
    return s;
  }

  // ---- events in ----

  #dispatch(event: MachineEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    // A listener reacting to an emitted state change may call back in (setPriority, handover):
    // queue it so actions of one step are never interleaved with another's.
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let ev = this.#queue.shift(); ev !== undefined && !this.#closed; ev = this.#queue.shift()) {
        const from = this.#machine.name;
        const result = step(this.#machine, ev, this.#timers.now());
        this.#machine = result.state;
        for (const action of result.actions) this.#execute(action, from);
        this.#pace();
        this.#reportFollowing();
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Once per master a backup starts to follow (the address layer arms its hand-off to it). */
  #reportFollowing(): void {
    const m = this.#machine;
    const following = m.name === 'backup' ? m.masterAddress : undefined;
    if (following === this.#following) return;
    this.#following = following;
    if (following !== undefined) this.emit('following', following);
  }

  #receive(pkt: RouterPacket): void {
    if (this.#closed) return;
    const family = this.config.family;
    // Signed adverts carry a trailer after the VRRP message; the codec judges the message alone.
    let message = pkt.payload;
    if (this.#hmacKey) {
      const len = vrrpMessageLength(pkt.payload, family);
      if (len !== undefined && len <= pkt.payload.length) message = pkt.payload.subarray(0, len);
    }
    const res = decodeAdvert(message, { src: pkt.src, dst: pkt.dst, family, ttl: pkt.ttl });
    if (!res.ok) {
      this.#drop(res.reason, pkt.src, `${res.field}: ${res.detail}`);
      return;
    }
    const adv = res.advert;
    const reason = this.#check(adv, pkt);
    if (reason) {
      this.#drop(reason[0], pkt.src, reason[1]);
      return;
    }
    if (this.#hmacKey) {
      const src = normaliseIp(pkt.src) ?? pkt.src;
      const v = verifyTrailer(pkt.payload, message.length, src, family, this.#hmacKey, this.#hmacLast.get(src));
      if (!v.ok) {
        this.#drop(v.reason, pkt.src, v.detail);
        return;
      }
      this.#hmacLast.set(src, v.sequence);
    }
    this.counters.advertsReceived++;
    this.#peerTable.observe(normaliseIp(pkt.src) ?? pkt.src, adv.priority, adv.advertIntMs, this.#timers.now());
    if (adv.priority === 0) this.counters.priorityZeroReceived++;
    this.#followChecksumForm(adv, pkt.src);
    this.#dispatch({ type: 'advert', from: pkt.src, priority: adv.priority, maxAdvertInt: adv.advertIntMs });
  }

  /** The checks that need our configuration (the codec already checked the packet itself). */
  #check(adv: VrrpAdvert, pkt: RouterPacket): [DropReason, string] | undefined {
    const c = this.config;
    // keepalived checks the version first; we check the VRID first so another instance on the
    // link (any version) reads as "not ours" rather than as a version problem of ours.
    if (adv.vrid !== c.virtualRouterId) return ['unknown-vrid', `VRID ${adv.vrid}, ours is ${c.virtualRouterId}`];
    if (adv.version !== c.version) return ['version-mismatch', `VRRPv${adv.version} advert, instance runs v${c.version}`];
    const auth = checkAuth(adv, this.#pass);
    if (auth) return [auth.reason, auth.detail];
    if (adv.version === 2 && adv.advertIntMs !== c.advertInt) {
      // RFC 3768 §7.1 MUST; keepalived drops too ("advertisement interval mismatch").
      return ['interval-mismatch', `advert_int ${adv.advertIntMs} ms, ours ${c.advertInt} ms`];
    }
    const src = normaliseIp(pkt.src) ?? pkt.src;
    if (compareIp(src, this.#transport.localAddress) === 0) return ['own-advert', 'our own advert came back'];
    if (this.#peers && !this.#peers.has(src)) return ['not-a-peer', `${src} is not a configured unicast peer`];
    // keepalived (vrrp_in_chk) drops an advert whose address list differs from virtual_ipaddress
    // (addr_list_err) unless vrrp_skip_check_adv_addr; two nodes that disagree on the VIPs
    // then both become master, which the counter and the log make visible.
    if (!this.#sameAddresses(adv.addresses)) {
      return ['address-mismatch', `advert lists [${adv.addresses.join(', ')}], ours [${this.#addresses.join(', ')}]`];
    }
    return undefined;
  }

  #sameAddresses(theirs: readonly string[]): boolean {
    if (theirs.length !== this.#addresses.length) return false;
    for (const a of theirs) if (!this.#addressSet.has(a)) return false;
    return true;
  }

  /**
   * VRRPv3 over IPv4: a peer that checksums without the pseudo-header (RFC 9568 §5.2.8 notes such
   * senders) or with the multicast group as destination (keepalived < 1.3.6 unicast) may reject
   * ours; answer in its form, as keepalived's unicast_checksum_compat "auto" does.
   */
  #followChecksumForm(adv: VrrpAdvert, from: string): void {
    if (adv.version !== 3 || adv.checksumForm === this.#checksumForm) return;
    this.#log.info({ from, form: adv.checksumForm, was: this.#checksumForm }, 'peer uses another VRRPv3 checksum form; sending in its form');
    this.#checksumForm = adv.checksumForm;
  }

  #drop(reason: DropReason, src: string, detail: string): void {
    this.counters.drop(reason);
    const now = this.#timers.now();
    const last = this.#lastDropLog.get(reason);
    if (last === undefined || now - last >= this.#dropLogInterval) {
      this.#lastDropLog.set(reason, now);
      this.#log.warn({ reason, src, detail, count: this.counters.drops(reason) }, `dropped VRRP packet: ${reason}`);
    } else {
      this.#log.debug({ reason, src, detail }, `dropped VRRP packet: ${reason}`);
    }
  }

  // ---- actions out ----

  #execute(action: MachineAction, from: MachineStateName): void {
    switch (action.type) {
      case 'send-advert':
        this.#sendAdvert(action.priority);
        return;
      case 'set-timer':
        this.#arm(action.which, action.at);
        return;
      case 'cancel-timer': {
        const h = this.#armed.get(action.which);
        if (h !== undefined) this.#timers.clearTimeout(h);
        this.#armed.delete(action.which);
        return;
      }
      case 'send-garp':
        this.emit('garp');
        return;
      case 'lower-priority-seen':
        this.#log.info({ from: action.from, priority: action.priority }, 'lower-priority master seen; re-asserting');
        this.emit('lower-priority', { from: action.from, priority: action.priority });
        return;
      default:
        if (STATE_ACTIONS.has(action.type)) this.#announce(action.type as StateAction, from, action.type === 'become-master' ? action.handoffFrom : undefined);
    }
  }

  #announce(action: StateAction, from: MachineStateName, handoffFrom: string | undefined): void {
    const m = this.#machine;
    if (action === 'become-master') this.counters.becameMaster++;
    if (action === 'become-backup' && from === 'master' && m.masterAddress !== undefined) {
      // Yielding to a better master (split brain healing, preemption): one last advert at our
      // priority. The winner sees a lower-priority master and re-sends GARP/NA at once (halb and
      // keepalived both do), so clients that followed our announcements during the split move
      // back. Without it the winner never learns there was a split if its advert came first.
      this.#sendAdvert(m.priority);
    }
    const change: StateChange = { from, to: m.name, action, priority: m.priority };
    if (m.masterAddress !== undefined) change.master = m.masterAddress;
    if (handoffFrom !== undefined) change.handoffFrom = handoffFrom;
    this.counters.transition(m.name, transitionCause(change));
    this.#log.info({ from, to: m.name, priority: m.priority, master: m.masterAddress, handoffFrom }, `VRRP ${from} -> ${m.name}`);
    this.emit('state', change);
  }

  #arm(which: TimerName, at: number): void {
    const old = this.#armed.get(which);
    if (old !== undefined) this.#timers.clearTimeout(old);
    const delay = Math.max(0, at - this.#timers.now());
    const handle = this.#timers.setTimeout(() => {
      if (this.#armed.get(which) !== handle) return;
      if (which === 'master-down' && this.#transport.drain) {
        // After a starved loop libuv runs timers before it polls sockets: an advert that came
        // in time is still queued. Read it first, or a busy backup takes over from a live master.
        this.#transport.drain();
        if (this.#armed.get(which) !== handle || this.#closed) return;
      }
      this.#armed.delete(which);
      this.#inAdverTick = which === 'adver' && this.#pacing;
      try {
        this.#dispatch({ type: 'timer', which });
      } finally {
        this.#inAdverTick = false;
      }
    }, delay);
    this.#armed.set(which, handle);
  }

  #sendAdvert(priority: number): void {
    const pacer = this.#pacer;
    if (pacer) {
      // A periodic round: the thread sent it on time; only refill its queue (#pace).
      const sentNow = !this.#inAdverTick;
      this.#paceRequest = { priority, sentNow: sentNow || (this.#paceRequest?.sentNow ?? false) };
      if (!sentNow) return;
      // Rounds the thread still holds carry older HMAC numbers than this one: never after it.
      if (this.#pacing) pacer.stop();
    }
    for (const [payload, dst] of this.#encodeRound(priority)) {
      if (this.#transport.sendTo(payload, dst)) {
        this.counters.advertsSent++;
        if (priority === 0) this.counters.priorityZeroSent++;
      } else {
        this.counters.sendErrors++;
      }
    }
  }

  /**
   * After each machine step: a master (or one handing over) feeds the thread the coming rounds
   * at its current priority, the first one interval after an advert sent just now, else keeping
   * the thread's phase; any other state empties it.
   */
  #pace(): void {
    const pacer = this.#pacer;
    if (!pacer) return;
    const st = this.#machine.name;
    const req = this.#paceRequest;
    this.#paceRequest = undefined;
    if (st !== 'master' && st !== 'master-handing-over') {
      if (this.#pacing) {
        pacer.stop();
        this.#pacing = false;
        this.#syncPacerCounters();
      }
      return;
    }
    if (!req) return;
    const interval = this.config.advertInt;
    const rounds: AdvertRound[] = [];
    for (let i = pacedRounds(interval); i > 0; i--) rounds.push(this.#encodeRound(req.priority));
    this.#syncPacerCounters();
    pacer.schedule(rounds, interval, req.sentNow ? interval : -1);
    this.#pacing = true;
    this.#pacedPriority = req.priority;
  }

  #pacedPriority = 0;

  /** Adverts the thread sent since we last looked go into the router's counters. */
  #syncPacerCounters(): void {
    if (!this.#pacer) return;
    const st = this.#pacer.stats();
    const sent = st.sent - this.#pacerSent;
    this.counters.advertsSent += sent;
    if (this.#pacedPriority === 0) this.counters.priorityZeroSent += sent;
    this.counters.sendErrors += st.errors - this.#pacerErrors;
    this.#pacerSent = st.sent;
    this.#pacerErrors = st.errors;
  }

  /**
   * The priority-0 round a master would send on stepping down, for another process to send if
   * this one dies (last-word.ts). None when not master, and none with HMAC: every signed advert
   * must number after the last one sent, and a round signed now is stale at the next advert.
   */
  lastWord(): { src: string; packets: [Buffer, string][] } | undefined {
    const st = this.#machine.name;
    if (this.#hmacKey || (st !== 'master' && st !== 'master-handing-over')) return undefined;
    return { src: this.#transport.localAddress, packets: this.#encodeRound(0) };
  }

  /** One advert per destination (v3 checksums cover the destination; HMAC numbers each copy). */
  #encodeRound(priority: number): [Buffer, string][] {
    const c = this.config;
    const fields: AdvertFields = {
      version: c.version,
      vrid: c.virtualRouterId,
      priority,
      advertIntMs: c.advertInt,
      addresses: this.#addresses,
      checksumForm: this.#checksumForm,
    };
    if (c.version === 2) {
      fields.authType = this.#authData ? AUTH_PASS : AUTH_NONE;
      if (this.#authData) fields.authData = this.#authData;
    }
    const src = this.#transport.localAddress;
    const out: [Buffer, string][] = [];
    let message: Buffer | undefined;
    for (const dst of this.#transport.destinations) {
      // The pseudo-header covers the destination: one encoding per unicast peer.
      if (message === undefined || this.#checksumForm === 'pseudo-header') {
        message = encodeAdvert(fields, { src, dst, family: c.family });
      }
      let payload = message;
      if (this.#hmacKey) {
        // Each copy its own sequence number: every receiver sees a strictly increasing series.
        payload = signAdvert(message, this.#hmacKey, this.#hmacNext, src, c.family);
        this.#hmacNext = nextSequence(this.#hmacNext);
      }
      out.push([payload, dst]);
    }
    return out;
  }
}
