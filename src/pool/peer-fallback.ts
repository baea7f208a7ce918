// The peer fallback (issue 12 point 2): when none of a backend's own servers (normal or backup) is
// usable, a request that reached this node goes to the peer halb node instead of getting 503, so
// clients are served while the VIP is still on its way over. Pure: the decision, where the peer
// is and whether its frontend can be reached there (config/peer-address.ts, which validate also
// uses). proxy/peer-forward.ts and the exchange wire it.

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

export { peerAddress, peerTarget } from '../config/peer-address.ts';
