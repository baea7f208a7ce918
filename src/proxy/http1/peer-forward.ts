// The proxy side of the peer fallback: one stand-in server per backend that has peer_fallback on,
// pointing at the peer node's frontend (src/pool/peer-fallback.ts decides when it is used). It
// belongs to no pool, so the balancer never picks it and its slot release is a no-op there.

import type { BackendConfig, BindConfig, VrrpInstanceConfig } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import type { ServerState } from '../../pool/server-state.ts';
import { peerAddress, peerTarget } from '../../pool/peer-fallback.ts';

export interface PeerInfo {
  /** This node's name, sent as the mark's value so the peer's logs say who forwarded. */
  node: string;
  /** The VRRP instance whose unicast peer is the other node, when there is one. */
  vrrp?: Pick<VrrpInstanceConfig, 'unicast' | 'virtualIpAddresses'>;
}

/** Stand-in servers by backend name; a backend whose peer cannot be reached here is warned about and left out. */
export function peerServers(
  backends: ReadonlyMap<string, BackendConfig>,
  binds: readonly BindConfig[],
  peer: PeerInfo | undefined,
  log: Logger,
): Map<string, ServerState> {
  const out = new Map<string, ServerState>();
  for (const [name, be] of backends) {
    if (!be.peerFallback || be.mode !== 'http') continue;
    const a = peerAddress(be.peerFallbackAddress, peer?.vrrp);
    const vips = (peer?.vrrp?.virtualIpAddresses ?? []).map((v) => v.address);
    const t = a.ok ? peerTarget(binds, a.address, vips) : a;
    if (!t.ok) {
      log.warn({ backend: name, field: `backends.${name}.peer_fallback`, reason: t.message }, 'peer fallback off');
      continue;
    }
    out.set(name, {
      backend: name,
      name: `peer:${t.host}`,
      host: t.host,
      port: t.port,
      weight: 1,
      backup: true,
      up: true,
      admin: 'ready',
      active: 0,
      requests: 0,
      failures: 0,
      wentDown: 0,
      wentUp: 0,
      index: -1,
    });
  }
  return out;
}
