// The VRRP election as a pure function: step(state, event, now) -> { state, actions }.
// It follows RFC 5798 §6.4 (with RFC 9568's corrections) plus the keepalived behaviours that
// halb users rely on: preempt_delay, re-asserting against a lower-priority master, priority-0
// on shutdown, and a FAULT state driven by trackers. It never reads a clock or touches a socket:
// `now` is injected (ms, monotonic) and the router executes the returned actions in order.
//
// Timers are requested with set-timer/cancel-timer; a set-timer for an armed timer replaces its
// deadline. The router must deliver { type: 'timer', which } once per set-timer that it did not
// cancel; a timer event for a timer the machine does not consider armed is ignored.

import type { VrrpInstanceConfig } from '../config/types.ts';
import { compareIp } from './ip-address.ts';

export type TimerName = 'adver' | 'master-down' | 'handover';

export type MachineStateName = 'initialize' | 'backup' | 'master' | 'master-handing-over' | 'fault';

export interface MachineConfig {
  version: 2 | 3;
  /** Configured priority 1..255; 255 means address owner. */
  priority: number;
  /** Our Advertisement_Interval, ms. */
  advertInt: number;
  preempt: boolean;
  /** keepalived preempt_delay: after startup or leaving FAULT, do not preempt for this long (ms). */
  preemptDelay: number;
  /** Longest a handing-over master keeps serving while waiting for the new master (ms). */
  handoverBound: number;
  /** Our primary address on the VRRP link, for the equal-priority tie-break. */
  primaryAddress: string;
}

export type MachineEvent =
  | { type: 'startup' }
  | { type: 'shutdown' }
  /** A valid advertisement for our VRID; maxAdvertInt in ms (VrrpAdvert.advertIntMs). */
  | { type: 'advert'; from: string; priority: number; maxAdvertInt: number }
  | { type: 'timer'; which: TimerName }
  /** Trackers with weight 0 (or interface down): on enters FAULT, off leaves it. */
  | { type: 'fault'; on: boolean }
  /** Effective priority after trackers (configured priority + weights). */
  | { type: 'priority'; value: number }
  /** Planned step-down: advertise priority 0 but keep serving until the new master is heard. */
  | { type: 'handover' };

export type MachineAction =
  | { type: 'send-advert'; priority: number }
  /**
   * Take the virtual addresses (add VIPs / move the floating IP), run notify_master.
   * handoffFrom: the master we take over from while it is still alive (we preempted it, or it
   * sent priority 0), which keeps its addresses a moment after yielding; see handoffPeer.
   */
  | { type: 'become-master'; handoffFrom?: string }
  /** Release the virtual addresses if held, run notify_backup. */
  | { type: 'become-backup' }
  /** Release the virtual addresses if held, run notify_fault. */
  | { type: 'enter-fault' }
  /** Shut down: release the virtual addresses if held, run notify_stop. */
  | { type: 'stop' }
  /** Handover started: keep the virtual addresses and keep serving. */
  | { type: 'keep-serving' }
  /** Gratuitous ARP (IPv4) / unsolicited neighbour advertisement (IPv6) for the VIPs. */
  | { type: 'send-garp' }
  /** A master with a lower priority (or equal priority, lower address) exists: split brain healing. */
  | { type: 'lower-priority-seen'; from: string; priority: number }
  | { type: 'set-timer'; which: TimerName; at: number }
  | { type: 'cancel-timer'; which: TimerName };

export interface MachineState {
  readonly config: MachineConfig;
  readonly name: MachineStateName;
  /** Effective priority (after trackers), clamped to 1..254, or 255 for the owner. */
  readonly priority: number;
  /** Master_Adver_Interval (ms): learned from the master in Backup with VRRPv3. */
  readonly masterAdverInterval: number;
  /** The master whose adverts we last accepted (Backup), for status and logs. */
  readonly masterAddress?: string;
  readonly masterPriority?: number;
  /** The last advert heard from another router (any priority) while Backup, and when. */
  readonly lastHeard?: { readonly from: string; readonly at: number };
  /** A tracker fault is on (remembered across Initialize). */
  readonly faulted: boolean;
  /** Preempting is allowed from this time on (preempt_delay). */
  readonly preemptNotBefore: number;
  /** Set by handover: behave as nopreempt until we are master again. */
  readonly yielded: boolean;
  /** Deadlines of the armed timers. */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
}

export interface StepResult {
  state: MachineState;
  actions: MachineAction[];
}

/** Machine config from an instance config; the router knows the primary address. */
export function machineConfig(instance: VrrpInstanceConfig, primaryAddress: string): MachineConfig {
  return {
    version: instance.version,
    priority: instance.priority,
    advertInt: instance.advertInt,
    preempt: instance.preempt,
    preemptDelay: instance.preemptDelay,
    handoverBound: instance.handoverBound,
    primaryAddress,
  };
}

export function createMachine(config: MachineConfig): MachineState {
  return {
    config,
    name: 'initialize',
    priority: clampPriority(config.priority, config.priority),
    masterAdverInterval: config.advertInt,
    faulted: false,
    preemptNotBefore: 0,
    yielded: false,
    timers: {},
  };
}

/**
 * Skew_Time in ms. VRRPv3 (RFC 5798 §6.1): ((256 - Priority) * Master_Adver_Interval) / 256.
 * VRRPv2 (RFC 3768 §6.1): (256 - Priority) / 256 seconds, as keepalived does for v2.
 */
export function skewTime(version: 2 | 3, priority: number, masterAdverInterval: number): number {
  return version === 3 ? ((256 - priority) * masterAdverInterval) / 256 : ((256 - priority) * 1000) / 256;
}

/** Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time (RFC 5798 §6.1). */
export function masterDownInterval(version: 2 | 3, priority: number, masterAdverInterval: number): number {
  return 3 * masterAdverInterval + skewTime(version, priority, masterAdverInterval);
}

function clampPriority(value: number, configured: number): number {
  if (!Number.isFinite(value)) return clampPriority(configured, configured);
  // Trackers move a non-owner within 1..254 (keepalived); only the configured owner is 255.
  return Math.min(Math.max(Math.round(value), 1), configured === 255 ? 255 : 254);
}

/** Mutable scratch for one step; the state snapshots stay immutable for callers. */
class Step {
  state: MachineState;
  readonly actions: MachineAction[] = [];
  readonly now: number;

  constructor(state: MachineState, now: number) {
    this.state = state;
    this.now = now;
  }

  set(patch: Partial<MachineState>): void {
    this.state = { ...this.state, ...patch };
  }

  emit(action: MachineAction): void {
    this.actions.push(action);
  }

  setTimer(which: TimerName, at: number): void {
    this.state = { ...this.state, timers: { ...this.state.timers, [which]: at } };
    this.emit({ type: 'set-timer', which, at });
  }

  cancelTimer(which: TimerName): void {
    if (this.state.timers[which] === undefined) return;
    const timers = { ...this.state.timers };
    delete timers[which];
    this.state = { ...this.state, timers };
    this.emit({ type: 'cancel-timer', which });
  }

  /** A fired timer is no longer armed (no cancel action: the router's timer is already gone). */
  disarm(which: TimerName): void {
    const timers = { ...this.state.timers };
    delete timers[which];
    this.state = { ...this.state, timers };
  }

  cancelAll(): void {
    this.cancelTimer('adver');
    this.cancelTimer('master-down');
    this.cancelTimer('handover');
  }

  masterDown(): number {
    const s = this.state;
    return masterDownInterval(s.config.version, s.priority, s.masterAdverInterval);
  }

  result(): StepResult {
    return { state: this.state, actions: this.actions };
  }
}

export function step(state: MachineState, event: MachineEvent, now: number): StepResult {
  const st = new Step(state, now);
  // Events that mean the same in every state.
  if (event.type === 'priority') {
    const value = clampPriority(event.value, state.config.priority);
    if (value === state.priority) return st.result();
    st.set({ priority: value });
    // keepalived: a master advertises a priority change at once, so a backup that now outranks
    // it starts discarding (and preempting) one interval sooner.
    if (state.name === 'master') sendAdvert(st);
    return st.result();
  }
  switch (state.name) {
    case 'initialize':
      return onInitialize(st, event);
    case 'backup':
      return onBackup(st, event);
    case 'master':
      return onMaster(st, event);
    case 'master-handing-over':
      return onHandingOver(st, event);
    case 'fault':
      return onFault(st, event);
  }
}

function onInitialize(st: Step, event: MachineEvent): StepResult {
  if (event.type === 'fault') {
    st.set({ faulted: event.on });
  } else if (event.type === 'startup') {
    st.set({ preemptNotBefore: st.now + st.state.config.preemptDelay, yielded: false });
    if (st.state.faulted) enterFault(st);
    else initialize(st);
  }
  return st.result();
}

/** §6.4.1 Initialize: the owner (priority 255) becomes master at once, everyone else Backup. */
function initialize(st: Step): void {
  st.set({ masterAdverInterval: st.state.config.advertInt, masterAddress: undefined, masterPriority: undefined });
  if (st.state.priority === 255) {
    becomeMaster(st);
  } else {
    st.set({ name: 'backup' });
    st.emit({ type: 'become-backup' });
    st.setTimer('master-down', st.now + st.masterDown());
  }
}

/** §6.4.2 / §6.4.1 transition to Master: send an advert, announce the addresses, arm Adver_Timer. */
function becomeMaster(st: Step): void {
  st.cancelTimer('master-down');
  const from = handoffPeer(st.state, st.now);
  st.set({ name: 'master', yielded: false, masterAddress: undefined, masterPriority: undefined, lastHeard: undefined });
  st.emit(from === undefined ? { type: 'become-master' } : { type: 'become-master', handoffFrom: from });
  st.emit({ type: 'send-advert', priority: st.state.priority });
  st.emit({ type: 'send-garp' });
  st.setTimer('adver', st.now + st.state.config.advertInt);
}

/** §6.4.3 "transition to Backup" after hearing a better master (also ends a handover). */
function becomeBackupFrom(st: Step, from: string | undefined, priority: number | undefined, maxAdvertInt: number | undefined): void {
  st.cancelTimer('adver');
  st.cancelTimer('handover');
  if (maxAdvertInt !== undefined) learnInterval(st, maxAdvertInt);
  st.set({ name: 'backup', masterAddress: from, masterPriority: priority });
  st.emit({ type: 'become-backup' });
  st.setTimer('master-down', st.now + st.masterDown());
}

/**
 * The router we take over from if it is alive: one we heard within the last two advert
 * intervals. A preempted master keeps advertising (at a lower priority) until it hears us, and
 * a leaving one sends priority 0 a Skew_Time before we take over; a dead master was last heard
 * a whole Master_Down_Interval (over three intervals) ago.
 */
export function handoffPeer(s: MachineState, now: number): string | undefined {
  const h = s.lastHeard;
  return h !== undefined && now - h.at < 2 * s.masterAdverInterval ? h.from : undefined;
}

/** VRRPv3 backups adopt the master's interval (§6.4.2, §6.4.3); VRRPv2 has no such field use. */
function learnInterval(st: Step, maxAdvertInt: number): void {
  if (st.state.config.version === 3 && Number.isFinite(maxAdvertInt) && maxAdvertInt > 0) {
    st.set({ masterAdverInterval: maxAdvertInt });
  }
}

function sendAdvert(st: Step): void {
  st.emit({ type: 'send-advert', priority: st.state.priority });
  st.setTimer('adver', st.now + st.state.config.advertInt);
}

function enterFault(st: Step): void {
  const wasServing = st.state.name === 'master' || st.state.name === 'master-handing-over';
  st.cancelAll();
  // Tell the backups now instead of making them wait Master_Down_Interval (as on shutdown).
  if (wasServing) st.emit({ type: 'send-advert', priority: 0 });
  st.set({ name: 'fault', faulted: true, masterAddress: undefined, masterPriority: undefined });
  st.emit({ type: 'enter-fault' });
}

/** §6.4.2 / §6.4.3 Shutdown: a master sends priority 0 so a backup takes over after Skew_Time. */
function shutdown(st: Step): void {
  const wasServing = st.state.name === 'master' || st.state.name === 'master-handing-over';
  st.cancelAll();
  if (wasServing) st.emit({ type: 'send-advert', priority: 0 });
  st.set({ name: 'initialize', masterAddress: undefined, masterPriority: undefined, yielded: false });
  st.emit({ type: 'stop' });
}

function isSelf(st: Step, from: string): boolean {
  return compareIp(from, st.state.config.primaryAddress) === 0;
}

/** §6.4.3: the sender wins if its priority is higher, or equal with a higher primary address. */
function outranksUs(st: Step, from: string, priority: number): boolean {
  if (priority !== st.state.priority) return priority > st.state.priority;
  return compareIp(from, st.state.config.primaryAddress) > 0;
}

function onBackup(st: Step, event: MachineEvent): StepResult {
  const s = st.state;
  switch (event.type) {
    case 'timer':
      // §6.4.2: Master_Down_Timer fired -> transition to Master.
      if (event.which === 'master-down' && s.timers['master-down'] !== undefined) {
        st.disarm('master-down');
        becomeMaster(st);
      }
      break;
    case 'advert': {
      if (isSelf(st, event.from)) break;
      st.set({ lastHeard: { from: event.from, at: st.now } });
      if (event.priority === 0) {
        // §6.4.2: the master is leaving: Master_Down_Timer = Skew_Time.
        st.setTimer('master-down', st.now + skewTime(s.config.version, s.priority, s.masterAdverInterval));
        break;
      }
      // §6.4.2: accept when Preempt_Mode is False or the advert's priority >= ours; the owner
      // always preempts (§6.1 Preempt_Mode); keepalived's preempt_delay defers preemption.
      const owner = s.priority === 255;
      const mayPreempt = owner ? !s.yielded : s.config.preempt && !s.yielded && st.now >= s.preemptNotBefore;
      if (!mayPreempt || event.priority >= s.priority) {
        learnInterval(st, event.maxAdvertInt);
        st.set({ masterAddress: event.from, masterPriority: event.priority });
        st.setTimer('master-down', st.now + st.masterDown());
      }
      // Otherwise discard: Master_Down_Timer runs out and we preempt (§6.4.2).
      break;
    }
    case 'fault':
      if (event.on) enterFault(st);
      break;
    case 'shutdown':
      shutdown(st);
      break;
    default:
      break;
  }
  return st.result();
}

function onMaster(st: Step, event: MachineEvent): StepResult {
  const s = st.state;
  switch (event.type) {
    case 'timer':
      // §6.4.3: Adver_Timer fired -> send an advert, reset the timer.
      if (event.which === 'adver' && s.timers.adver !== undefined) {
        st.disarm('adver');
        sendAdvert(st);
      }
      break;
    case 'advert':
      if (isSelf(st, event.from)) break;
      if (event.priority === 0) {
        // §6.4.3: a peer master is leaving; answer at once so backups keep us.
        sendAdvert(st);
      } else if (outranksUs(st, event.from, event.priority)) {
        // §6.4.3: higher priority, or equal with higher address -> Backup, learning its interval.
        becomeBackupFrom(st, event.from, event.priority, event.maxAdvertInt);
      } else {
        // §6.4.3 says discard; keepalived re-advertises and re-announces at once so a split brain
        // heals in one round trip, and the cloud layer re-asserts the floating IP.
        sendAdvert(st);
        st.emit({ type: 'send-garp' });
        st.emit({ type: 'lower-priority-seen', from: event.from, priority: event.priority });
      }
      break;
    case 'handover':
      st.cancelTimer('adver');
      st.set({ name: 'master-handing-over', yielded: true });
      st.emit({ type: 'keep-serving' });
      st.emit({ type: 'send-advert', priority: 0 });
      st.setTimer('adver', st.now + s.config.advertInt);
      st.setTimer('handover', st.now + s.config.handoverBound);
      break;
    case 'fault':
      if (event.on) enterFault(st);
      break;
    case 'shutdown':
      shutdown(st);
      break;
    default:
      break;
  }
  return st.result();
}

function onHandingOver(st: Step, event: MachineEvent): StepResult {
  const s = st.state;
  switch (event.type) {
    case 'timer':
      if (event.which === 'adver' && s.timers.adver !== undefined) {
        // Repeat priority 0 each interval: one lost advert must not stall the handover.
        st.disarm('adver');
        st.emit({ type: 'send-advert', priority: 0 });
        st.setTimer('adver', st.now + s.config.advertInt);
      } else if (event.which === 'handover' && s.timers.handover !== undefined) {
        st.disarm('handover');
        becomeBackupFrom(st, undefined, undefined, undefined);
      }
      break;
    case 'advert':
      // Any other live master (it has taken over, whatever its priority) ends the handover.
      if (!isSelf(st, event.from) && event.priority > 0) {
        becomeBackupFrom(st, event.from, event.priority, event.maxAdvertInt);
      }
      break;
    case 'fault':
      if (event.on) enterFault(st);
      break;
    case 'shutdown':
      shutdown(st);
      break;
    default:
      break;
  }
  return st.result();
}

function onFault(st: Step, event: MachineEvent): StepResult {
  if (event.type === 'fault' && !event.on) {
    // Leaving FAULT is a fresh §6.4.1 Initialize, with preempt_delay counted from now.
    st.set({ faulted: false, preemptNotBefore: st.now + st.state.config.preemptDelay });
    initialize(st);
  } else if (event.type === 'shutdown') {
    st.set({ name: 'initialize' });
    st.emit({ type: 'stop' });
  }
  return st.result();
}
