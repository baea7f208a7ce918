// Keeping connections through ECMP changes (issue 14 point 3), the kernel half, pure.
//
// When the routers' next-hop set changes, hash-threshold ECMP moves a share of every node's flows
// to another node. That node has no socket for them and would answer with RST. With these rules
// it does not: a TCP segment for a VIP that opens no connection (no SYN) and belongs to no
// connection conntrack saw start here is copied to every peer node on the shared link and
// dropped here. The one peer that owns the connection delivers it to its socket and answers the
// client directly; every other peer drops its copy the same way, silently.
//
// Copies are marked by their TTL: they are sent with TTL 2, the dup takes one off, so they arrive
// with TTL 1, which no router-forwarded segment of a live client has (a router would not forward
// it on). A copy is never copied again: at most one hop, no loops. A copy nobody owns (the owner
// died with its connections) is dropped everywhere, which the client sees as a timeout, not a
// reset: only connections of a node that died are lost.
//
// The rules go in before the VIPs are put on lo, so conntrack sees each of our connections from
// its SYN.

import { removeTableScript } from '../vip/nft-run.ts';

export interface FlowForwardPeer {
  address: string;
  /** The interface the peer is reached on directly (no gateway). */
  device: string;
}

export interface FlowForwardRulesetOptions {
  table: string;
  family: 'ip' | 'ip6';
  /** The announced VIPs of that family. */
  vips: readonly string[];
  /** The other nodes of that family (this node's own address left out). */
  peers: readonly FlowForwardPeer[];
}

export const HANDED_ON = 'handed_on';
export const COPIES_DROPPED = 'copies_dropped';

export function flowForwardTableName(family: 'ip' | 'ip6'): string {
  return family === 'ip' ? 'halb_ecmp' : 'halb_ecmp6';
}

/** The whole table, replacing any earlier one in the same transaction, as one `nft -f` script. */
export function flowForwardRuleset(o: FlowForwardRulesetOptions): string {
  const type = o.family === 'ip' ? 'ipv4_addr' : 'ipv6_addr';
  const ttl = o.family === 'ip' ? 'ip ttl' : 'ip6 hoplimit';
  const stray = `${o.family} daddr @vips ct state new,invalid tcp flags & syn == 0`;
  const dups = o.peers.map((p) => `dup to ${p.address} device ${JSON.stringify(p.device)}`).join(' ');
  return [
    ...removeTableScript(o.table, o.family),
    `table ${o.family} ${o.table} {`,
    `  counter ${HANDED_ON} {}`,
    `  counter ${COPIES_DROPPED} {}`,
    `  set vips { type ${type}; ${o.vips.length > 0 ? `elements = { ${o.vips.join(', ')} }; ` : ''}}`,
    // After conntrack (priority -200), before the routing decision.
    '  chain prerouting {',
    '    type filter hook prerouting priority mangle; policy accept;',
    `    ${stray} ${ttl} 1 counter name ${JSON.stringify(COPIES_DROPPED)} drop`,
    ...(o.peers.length > 0 ? [`    ${stray} counter name ${JSON.stringify(HANDED_ON)} ${ttl} set 2 ${dups} drop`] : []),
    '  }',
    '}',
    '',
  ].join('\n');
}

export interface ForwardCounts {
  /** Segments of other nodes' connections this node passed to its peers. */
  handedOn: number;
  /** Copies from peers for connections this node does not own either. */
  copiesDropped: number;
}

/** The two counters from `nft -j list counters table <family> <table>`; undefined if absent. */
export function parseForwardCounters(json: string): ForwardCounts | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return undefined;
  }
  const items = (doc as { nftables?: unknown[] }).nftables;
  if (!Array.isArray(items)) return undefined;
  const packets = new Map<string, number>();
  for (const it of items) {
    const c = (it as { counter?: { name?: unknown; packets?: unknown } }).counter;
    if (c && typeof c.name === 'string' && typeof c.packets === 'number') packets.set(c.name, c.packets);
  }
  const handedOn = packets.get(HANDED_ON);
  const copiesDropped = packets.get(COPIES_DROPPED);
  return handedOn === undefined || copiesDropped === undefined ? undefined : { handedOn, copiesDropped };
}
