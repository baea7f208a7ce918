// The IPv6 segment shared by the vrrp-ipv6 system tests: lb1, lb2 (fixed MACs, so neighbour
// entries can be checked against them) and a client, on fd77::/64 only. VRRPv3 runs between
// the link-local addresses the kernel derives; the VIP is fd77::100/64.

import type { Lab } from '../../helpers/netns.ts';
import { isLinkLocal6 } from '../../../src/host/interface-info.ts';
import { hasAddress } from '../vrrp/vrrp-node-client.ts';

export const VIP6 = 'fd77::100';
export const VIP6_CIDR = `${VIP6}/64`;
export const VRID6 = 61;
export const MACS: Record<string, string> = {
  lb1: '02:77:00:00:06:11',
  lb2: '02:77:00:00:06:12',
  client: '02:77:00:00:06:50',
};
export const GLOBALS: Record<string, string> = { lb1: 'fd77::11', lb2: 'fd77::12', client: 'fd77::50' };

/** lb1, lb2 and client on one bridge, IPv6 only. */
export async function ipv6Hosts(lab: Lab): Promise<void> {
  for (const h of ['lb1', 'lb2', 'client']) {
    await lab.host(h, { addresses: [`${GLOBALS[h]}/64`], mac: MACS[h]! });
  }
}

/** The kernel's link-local address on the host's eth0 (RFC 5798 5.1.2.1: the VRRP source). */
export async function linkLocal(lab: Lab, host: string): Promise<string> {
  const r = await lab.exec(host, 'ip', ['-j', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
  const links = JSON.parse(r.stdout) as { addr_info?: { local?: string; tentative?: boolean }[] }[];
  const a = links.flatMap((l) => l.addr_info ?? []).find((x) => x.local && isLinkLocal6(x.local) && !x.tentative);
  if (!a?.local) throw new Error(`${host}: no usable link-local address on eth0`);
  return a.local;
}

/** The MAC `host` has for `address` in its neighbour table (undefined when none / failed). */
export async function neighbourMac(lab: Lab, host: string, address: string): Promise<string | undefined> {
  const r = await lab.exec(host, 'ip', ['-j', '-6', 'neigh', 'show', address, 'dev', 'eth0']);
  const rows = JSON.parse(r.stdout || '[]') as { dst: string; lladdr?: string; state?: string[] }[];
  return rows.find((x) => x.dst === address)?.lladdr;
}

/**
 * Whether `host` reaches `address` now: a TCP connect to a closed port (9) must come back
 * refused (a RST from whoever owns the address). There is no ping in this image; this also
 * makes the kernel resolve the neighbour, which is what the NA tests need first.
 */
export async function reaches(lab: Lab, host: string, address: string): Promise<boolean> {
  const js = `const s=require('net').connect({port:9,host:${JSON.stringify(address)}});s.setTimeout(1500,()=>process.exit(3));s.on('connect',()=>process.exit(0));s.on('error',(e)=>process.exit(e.code==='ECONNREFUSED'?0:4));`;
  const r = await lab.exec(host, process.execPath, ['-e', js], { check: false, timeoutMs: 5000 });
  return r.code === 0;
}

/** Which of lb1/lb2 hold the VIP now. */
export async function vip6Holders(lab: Lab): Promise<string[]> {
  const out: string[] = [];
  for (const h of ['lb1', 'lb2']) if (await hasAddress(lab, h, VIP6)) out.push(h);
  return out;
}

/** Remove the VIP everywhere (a kill -9 leaves it behind on purpose). */
export async function dropVip6(lab: Lab): Promise<void> {
  for (const h of ['lb1', 'lb2']) await lab.exec(h, 'ip', ['-6', 'addr', 'del', VIP6_CIDR, 'dev', 'eth0'], { check: false });
}

/**
 * A few VRRP packets as the client sees them on the wire (tcpdump -v). Resolves with the
 * text lines once `count` packets were printed or `timeoutMs` passed.
 */
export async function captureVrrp6(lab: Lab, count: number, timeoutMs: number): Promise<string> {
  const r = await lab.exec(
    'client',
    'timeout',
    [String(Math.ceil(timeoutMs / 1000)), 'tcpdump', '-l', '-nn', '-v', '-c', String(count), '-i', 'eth0', 'ip6 and ip6[6] == 112'],
    { check: false, timeoutMs: timeoutMs + 5000 },
  );
  return r.stdout;
}
