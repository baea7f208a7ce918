// The FRR programs a node with `bgp:` runs: found before anything starts, so a host without FRR
// gets "install frr" from `halb validate` and `halb run`, not a daemon that dies later.

import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { BgpConfig } from '../config/types.ts';

/** zebra carries BFD's and the kernel's news to bgpd; bfdd only when a neighbor uses BFD. */
export function frrPrograms(bgp: BgpConfig): { name: string; path: string }[] {
  const daemons = ['zebra', 'bgpd', ...(bgp.neighbors.some((n) => n.bfd) ? ['bfdd'] : [])];
  return [...daemons.map((d) => ({ name: d, path: join(bgp.frrDir, d) })), { name: 'vtysh', path: VTYSH }];
}

export const VTYSH = '/usr/bin/vtysh';

/** Programs that are missing or not executable, with the reason. */
export function missingFrrPrograms(bgp: BgpConfig, canRun: (path: string) => boolean = executable): string[] {
  return frrPrograms(bgp)
    .filter((p) => !canRun(p.path))
    .map((p) => `${p.path} (${p.name})`);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
