// Why a VRRP instance changed state: in words for the event timeline, and as a short label for
// the halb_vrrp_transitions_total{reason} counter. Pure.
import type { StateChange } from './router.ts';

export function transitionReason(instance: string, c: StateChange, failingTrackers: readonly string[]): string {
  const head = `${instance}: ${c.from} -> ${c.to} (priority ${c.priority})`;
  switch (c.action) {
    case 'become-master':
      if (c.handoffFrom !== undefined) return `${head}: took over from ${c.handoffFrom}`;
      return c.from === 'initialize' ? `${head}: address owner, master at start` : `${head}: no advert from a master within Master_Down_Interval`;
    case 'become-backup':
      if (c.from === 'initialize') return `${head}: start as backup`;
      return c.master !== undefined ? `${head}: heard master ${c.master}` : `${head}: stepped down`;
    case 'enter-fault':
      return `${head}: fault${failingTrackers.length ? `: ${failingTrackers.join(', ')}` : ''}`;
    case 'stop':
      return `${head}: stopped`;
    case 'keep-serving':
      return `${head}: handing over, serving until the new master is heard`;
  }
}

/** The label set of halb_vrrp_transitions_total's reason; one per branch of transitionReason. */
export type TransitionCause = 'takeover' | 'address-owner' | 'master-down' | 'start' | 'heard-master' | 'stepped-down' | 'fault' | 'stop' | 'handover';

export function transitionCause(c: StateChange): TransitionCause {
  switch (c.action) {
    case 'become-master':
      if (c.handoffFrom !== undefined) return 'takeover';
      return c.from === 'initialize' ? 'address-owner' : 'master-down';
    case 'become-backup':
      if (c.from === 'initialize') return 'start';
      return c.master !== undefined ? 'heard-master' : 'stepped-down';
    case 'enter-fault':
      return 'fault';
    case 'stop':
      return 'stop';
    case 'keep-serving':
      return 'handover';
  }
}
