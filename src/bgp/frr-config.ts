// FRR's configuration for this node's BGP speaker, and the vtysh commands that announce and
// withdraw a VIP. Pure: text in FRR's own syntax, so an operator reads exactly what halb asked the
// daemon to do (`halb status` shows it; the file sits in the node's runtime directory).
//
// Announcements are `network <prefix> route-map halb-<n>` lines in bgpd's running config: the
// route-map carries the prefix's MED, local-pref and communities, and `no bgp network
// import-check` lets bgpd announce a host route the kernel routing table does not hold (the VIP
// sits on lo). The static config holds no network line: nothing is announced until halb decides.

import type { BgpAnnounceConfig, BgpConfig } from '../config/types.ts';

const PROFILE = 'halb';

/** The route-map of the n-th announced prefix. */
export function routeMapName(index: number): string {
  return `halb-${index}`;
}

/** bgpd + bfdd configuration. `passwords` are the TCP-MD5 secrets by neighbor address. */
export function renderFrrConfig(bgp: BgpConfig, hostname: string, passwords: ReadonlyMap<string, string> = new Map()): string {
  const l: string[] = ['frr defaults datacenter', `hostname ${hostname}`, 'log stdout informational', 'service integrated-vtysh-config', '!'];
  const anyBfd = bgp.neighbors.some((n) => n.bfd);
  if (anyBfd) {
    l.push('bfd', ` profile ${PROFILE}`, `  detect-multiplier ${bgp.bfd.detectMultiplier}`, `  receive-interval ${bgp.bfd.receiveIntervalMs}`, `  transmit-interval ${bgp.bfd.transmitIntervalMs}`, ' exit', 'exit', '!');
  }
  l.push(`router bgp ${bgp.asn}`, ` bgp router-id ${bgp.routerId}`, ' no bgp ebgp-requires-policy', ' no bgp network import-check', ' no bgp default ipv4-unicast');
  for (const n of bgp.neighbors) {
    l.push(` neighbor ${n.address} remote-as ${n.asn}`, ` neighbor ${n.address} timers ${n.keepaliveSeconds} ${n.holdTimeSeconds}`);
    const pw = passwords.get(n.address);
    if (pw !== undefined) l.push(` neighbor ${n.address} password ${pw}`);
    if (n.bfd) l.push(` neighbor ${n.address} bfd profile ${PROFILE}`);
  }
  for (const family of [4, 6] as const) {
    // A family is configured only when something of it is announced (MP-BGP over any session).
    if (!bgp.announce.some((a) => a.family === family)) continue;
    l.push(` address-family ${family === 4 ? 'ipv4' : 'ipv6'} unicast`);
    for (const n of bgp.neighbors) l.push(`  neighbor ${n.address} activate`);
    l.push(' exit-address-family');
  }
  l.push('exit', '!');
  bgp.announce.forEach((a, i) => {
    l.push(`route-map ${routeMapName(i)} permit 10`);
    if (a.med !== undefined) l.push(` set metric ${a.med}`);
    if (a.localPref !== undefined) l.push(` set local-preference ${a.localPref}`);
    if (a.communities.length > 0) l.push(` set community ${a.communities.join(' ')}`);
    l.push('exit', '!');
  });
  l.push('end', '');
  return l.join('\n');
}

function familyBlock(bgp: BgpConfig, a: BgpAnnounceConfig): string[] {
  return ['configure terminal', `router bgp ${bgp.asn}`, `address-family ${a.family === 4 ? 'ipv4' : 'ipv6'} unicast`];
}

/** vtysh -c arguments that announce one prefix. */
export function announceCommands(bgp: BgpConfig, a: BgpAnnounceConfig): string[] {
  const i = bgp.announce.indexOf(a);
  if (i < 0) throw new Error(`${a.address} is not among the configured announcements`);
  return [...familyBlock(bgp, a), `network ${a.address}/${a.prefixLength} route-map ${routeMapName(i)}`];
}

/** vtysh -c arguments that withdraw one prefix. */
export function withdrawCommands(bgp: BgpConfig, a: BgpAnnounceConfig): string[] {
  return [...familyBlock(bgp, a), `no network ${a.address}/${a.prefixLength}`];
}
