// Where a backend's peer fallback (backends.<b>.peer_fallback) sends requests: the peer node's real
// address and a frontend port it listens on there. Pure; `halb validate` refuses a config where
// neither can be known (config/load.ts), and the proxy builds its stand-in server from the same
// answers (proxy/peer-forward.ts), so what validate accepts is what runs.

import type { PathItem, Problem } from './checks.ts';
import type { BindConfig, Config, VrrpInstanceConfig } from './types.ts';

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

/**
 * peer_fallback on a backend that cannot reach its peer: no peer address known, or a frontend
 * using the backend that binds only VIPs. The proxy's peer is the first VRRP instance's.
 */
export function peerFallbackProblems(c: Config): Problem[] {
  const out: Problem[] = [];
  const inst = c.vrrp?.instances[0];
  const vips = (inst?.virtualIpAddresses ?? []).map((v) => v.address);
  for (const be of c.backends) {
    if (!be.peerFallback || be.mode !== 'http') continue;
    const at: PathItem[] = ['backends', be.name, 'peer_fallback'];
    if (!inst && be.peerFallbackAddress === undefined) {
      out.push({ path: at, message: 'peer_fallback needs a peer: a vrrp instance with one unicast peer, a nodes: map, or peer_fallback_address' });
      continue;
    }
    const a = peerAddress(be.peerFallbackAddress, inst);
    if (!a.ok) {
      out.push({ path: at, message: a.message });
      continue;
    }
    for (const fe of c.frontends) {
      if (fe.defaultBackend !== be.name && !fe.rules.some((r) => r.backend === be.name)) continue;
      const t = peerTarget(fe.bind, a.address, vips);
      if (!t.ok) out.push({ path: ['frontends', fe.name, 'bind'], message: `backends.${be.name}.peer_fallback: ${t.message}` });
    }
  }
  return out;
}
