// The peer fallback (issue 12 point 2): when none of a backend's own servers (normal or backup) is
// usable, a request that reached this node goes to the peer halb node instead of getting 503, so
// clients are served while the VIP is still on its way over. Pure: the decision, where the peer
// is, and whether its frontend can be reached there. The proxy and node wire it (not built yet).

import type { BindConfig, VrrpInstanceConfig } from '../config/types.ts';

/** The mark a forwarding node adds; a node never forwards a request that carries it. */
export const PEER_MARK_HEADER = 'x-halb-peer';

export type PeerChoice = 'server' | 'peer' | 'refuse';

export interface PeerDecisionInput {
  /** Usable own servers, normal and backup together (the pool's eligible set). */
  usableServers: number;
  /** peer_fallback is on for this backend and a peer address is known. */
  enabled: boolean;
  /** The peer's pool is up as far as we know (its adverts' priority, or a check of its frontend). */
  peerUp: boolean;
  /** The request carries PEER_MARK_HEADER: it already came from a peer. */
  marked: boolean;
}

/**
 * What to do with one request. Own servers always win; the peer only when none is usable. A
 * marked request is never forwarded again, so two nodes with both pools down answer 503 after one
 * hop instead of passing the request back and forth.
 */
export function choosePeerFallback(i: PeerDecisionInput): PeerChoice {
  if (i.usableServers > 0) return 'server';
  if (!i.enabled || i.marked || !i.peerUp) return 'refuse';
  return 'peer';
}

/**
 * The peer's real address for one VRRP instance: an explicit address wins, else the single unicast
 * peer (the pair's other node, also what `nodes:` derives for a unicast pair). Multicast without
 * an explicit address has no known peer: undefined, and the caller reports it.
 */
export function peerAddress(
  explicit: string | undefined,
  instance: Pick<VrrpInstanceConfig, 'unicast'> | undefined,
): { ok: true; address: string } | { ok: false; message: string } {
  if (explicit !== undefined) return { ok: true, address: explicit };
  const peers = instance?.unicast?.peers ?? [];
  if (peers.length === 1) return { ok: true, address: peers[0]! };
  if (peers.length > 1) {
    return { ok: false, message: `several unicast peers (${peers.join(', ')}): set peer_fallback_address to the one to forward to` };
  }
  return { ok: false, message: 'no peer address known (multicast VRRP): set peer_fallback_address' };
}

/**
 * Where on the peer a forwarded request goes: its real address on the frontend's port. The peer
 * runs the same frontend, so this works when the frontend listens on every address (0.0.0.0 / ::)
 * or on each node's own address; a frontend bound to the VIP alone is not reachable on the peer's
 * real address (only the master holds the VIP, and ip_nonlocal_bind still accepts only the VIP),
 * so such a bind is skipped, and a frontend with no other bind is refused with a message.
 */
export function peerTarget(
  binds: readonly BindConfig[],
  peer: string,
  vips: readonly string[],
): { ok: true; host: string; port: number } | { ok: false; message: string } {
  for (const b of binds) {
    if (!vips.includes(b.host)) return { ok: true, host: peer, port: b.port };
  }
  const at = binds.map((b) => `${b.host}:${b.port}`).join(', ');
  return {
    ok: false,
    message: `frontend binds the VIP only (${at}): the peer ${peer} is not reachable there; bind 0.0.0.0 (or the node's own address) on that port for peer_fallback`,
  };
}
