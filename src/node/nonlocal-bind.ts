// Frontends bind the VIP before this node holds it (the backup must be ready the moment it
// becomes master). Linux allows that only with ip_nonlocal_bind; keepalived setups set it by
// hand, and forgetting it is the classic "backup took the VIP but serves nothing" failure.
// A node that runs VRRP and binds one of its virtual addresses turns it on itself, and says so.
import { readFile, writeFile } from 'node:fs/promises';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';

const SYSCTL = { 4: '/proc/sys/net/ipv4/ip_nonlocal_bind', 6: '/proc/sys/net/ipv6/ip_nonlocal_bind' } as const;

/** Address families of frontend binds that name one of the node's virtual addresses. */
export function familiesBindingVips(config: Config): Set<4 | 6> {
  const vips = new Map<string, 4 | 6>();
  for (const inst of config.vrrp?.instances ?? []) {
    for (const v of inst.virtualIpAddresses) vips.set(v.address, v.family);
    const f = inst.floatingIp;
    if (f) vips.set(f.ip, f.ip.includes(':') ? 6 : 4);
  }
  const families = new Set<4 | 6>();
  for (const fe of config.frontends) for (const b of fe.bind) {
    const family = vips.get(b.host);
    if (family !== undefined) families.add(family);
  }
  return families;
}

export async function enableNonlocalBind(config: Config, log: Logger): Promise<void> {
  for (const family of familiesBindingVips(config)) {
    const path = SYSCTL[family];
    try {
      if ((await readFile(path, 'utf8')).trim() === '1') continue;
      await writeFile(path, '1\n');
      log.info({ sysctl: path }, 'enabled non-local bind so frontends can listen on the virtual address before holding it');
    } catch (err) {
      log.warn({ sysctl: path, err: (err as Error).message }, `cannot enable ${path}: frontends on a virtual address will fail to listen until this node holds it`);
    }
  }
}
