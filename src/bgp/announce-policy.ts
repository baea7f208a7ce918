// Whether this node announces a VIP to its BGP neighbors, and why. Pure: the I/O shell feeds the
// same signals VRRP's trackers read (a frontend listens, a backend has a usable server) and the
// node's lifecycle, and turns the answer into daemon commands.
//
// A VIP is announced only while this node can serve it; a planned stop withdraws first and keeps
// serving until `drainMs` after the withdraw, so the routers move new flows away before the
// listeners close (MetalLB and kube-vip close first, and the flows still hashed here are reset).

import type { BgpAnnounceConfig } from '../config/types.ts';

export interface AnnounceSignals {
  /** Frontends that are listening now (every bind up). */
  listening: ReadonlySet<string>;
  /** Backends with at least one usable server. */
  usable: ReadonlySet<string>;
  /** The node is stopping on purpose (SIGTERM, `halb stop`): withdraw and drain. */
  stopping: boolean;
}

export type AnnounceDecision = { announce: true; reason: string } | { announce: false; reason: string };

export function decideAnnounce(a: BgpAnnounceConfig, s: AnnounceSignals): AnnounceDecision {
  if (s.stopping) return { announce: false, reason: 'planned stop: withdrawn, draining' };
  const down = a.trackFrontends.filter((f) => !s.listening.has(f));
  if (down.length > 0) return { announce: false, reason: `frontend ${down.join(', ')} not listening` };
  if (a.trackFrontends.length === 0) return { announce: false, reason: 'no frontend serves this address' };
  const empty = a.trackBackends.filter((b) => !s.usable.has(b));
  if (empty.length > 0) return { announce: false, reason: `backend ${empty.join(', ')} has no server up` };
  return { announce: true, reason: a.trackBackends.length > 0 ? `serving: ${a.trackFrontends.join(', ')} -> ${a.trackBackends.join(', ')}` : `serving: ${a.trackFrontends.join(', ')}` };
}

/** Announce / withdraw changes from what the daemon has now to what the signals want. */
export function announceChanges(
  prefixes: readonly BgpAnnounceConfig[],
  announced: ReadonlySet<string>,
  s: AnnounceSignals,
): { announce: BgpAnnounceConfig[]; withdraw: BgpAnnounceConfig[]; reasons: Map<string, string> } {
  const announce: BgpAnnounceConfig[] = [];
  const withdraw: BgpAnnounceConfig[] = [];
  const reasons = new Map<string, string>();
  for (const p of prefixes) {
    const d = decideAnnounce(p, s);
    reasons.set(p.address, d.reason);
    const now = announced.has(p.address);
    if (d.announce && !now) announce.push(p);
    else if (!d.announce && now) withdraw.push(p);
  }
  return { announce, withdraw, reasons };
}
