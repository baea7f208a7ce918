// Cross-field rules of the bgp: section (RFC 4271 timers, RFC 6793 ASNs, FRR's BFD ranges), and
// whether what it announces is served here. Pure, on the shape-valid input, paths as written.

import { bindServes } from './address.ts';
import type { PathItem, Problem } from './checks.ts';
import type { ParsedBgp, ParsedInput } from './schema.ts';

const AS_TRANS = 23456;

export function bgpProblems(input: ParsedInput, bgp: ParsedBgp, frontendNames: string[], backendNames: string[]): Problem[] {
  const out: Problem[] = [];
  const at = (...p: PathItem[]): PathItem[] => ['bgp', ...p];
  const asn = (n: number, path: PathItem[]): void => {
    if (n === AS_TRANS) out.push({ path, message: 'ASN 23456 is AS_TRANS (RFC 6793), a placeholder for 4-byte ASNs on old speakers: use your real ASN' });
  };
  asn(bgp.asn, at('asn'));
  if (bgp.router_id === '0.0.0.0') out.push({ path: at('router_id'), message: 'router_id 0.0.0.0 is not a valid BGP identifier (RFC 6286): use this node\'s own IPv4 address' });

  const seen = new Map<string, number>();
  bgp.neighbors.forEach((n, i) => {
    const path = at('neighbors', i);
    asn(n.asn, [...path, 'asn']);
    const first = seen.get(n.address);
    if (first !== undefined) out.push({ path: [...path, 'address'], message: `neighbor ${n.address} twice (first at neighbors[${first}])` });
    else seen.set(n.address, i);
    const hold = n.hold_time;
    if (hold !== undefined && (hold % 1000 !== 0 || (hold !== 0 && (hold < 3000 || hold > 65_535_000)))) {
      out.push({ path: [...path, 'hold_time'], message: `hold_time is 0 (no keepalives) or whole seconds 3s..65535s (RFC 4271 §4.2), got ${hold} ms` });
    }
    const ka = n.keepalive;
    if (ka !== undefined) {
      const h = hold ?? 9000;
      if (ka % 1000 !== 0 || ka < 1000 || (h > 0 && ka > h / 3)) {
        out.push({ path: [...path, 'keepalive'], message: `keepalive is whole seconds, at least 1s and at most a third of hold_time (${h / 1000}s), got ${ka} ms` });
      }
    }
  });

  const bfd = bgp.bfd;
  for (const k of ['receive_interval', 'transmit_interval'] as const) {
    const v = bfd?.[k];
    if (v !== undefined && (v < 10 || v > 60_000)) out.push({ path: at('bfd', k), message: `${k} is 10ms..60s (FRR's BFD range), got ${v} ms` });
  }
  if (bfd !== undefined && !bgp.neighbors.some((n) => n.bfd === true)) {
    out.push({ path: at('bfd'), message: 'bfd timers are set but no neighbor has bfd: true' });
  }

  const peerAt = new Map<string, number>();
  bgp.peers?.forEach((p, i) => {
    const first = peerAt.get(p);
    if (first !== undefined) out.push({ path: at('peers', i), message: `peer ${p} twice (first at peers[${first}])` });
    else peerAt.set(p, i);
    if (seen.has(p)) out.push({ path: at('peers', i), message: `${p} is a neighbor (a router): peers are the other halb nodes announcing the same prefixes` });
  });

  const binds = Object.entries(input.frontends ?? {}).flatMap(([name, fe]) => (Array.isArray(fe.bind) ? fe.bind : [fe.bind]).map((b) => ({ name, host: ('address' in b ? b.address : b).host })));
  const announced = new Map<string, number>();
  bgp.announce.forEach((a, i) => {
    const path = at('announce', i);
    const addr = a.prefix.address;
    const first = announced.get(addr);
    if (first !== undefined) out.push({ path: [...path, 'prefix'], message: `${addr} announced twice (first at announce[${first}])` });
    else announced.set(addr, i);
    const served = binds.some((b) => bindServes(b.host, addr, a.prefix.family));
    if (!served) {
      out.push({ path: [...path, 'prefix'], message: `no frontend binds ${addr} (or 0.0.0.0 / ::): the routers would send this node traffic nothing here accepts` });
    }
    a.track?.frontends?.forEach((f, j) => {
      if (!frontendNames.includes(f)) out.push({ path: [...path, 'track', 'frontends', j], message: `unknown frontend "${f}"` });
    });
    a.track?.backends?.forEach((b, j) => {
      if (!backendNames.includes(b)) out.push({ path: [...path, 'track', 'backends', j], message: `unknown backend "${b}"` });
    });
  });
  return out;
}
