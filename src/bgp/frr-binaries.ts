// The programs a node with `bgp:` runs (FRR's, and nft for `peers`): found before anything starts,
// so a host without them gets "install frr" from `halb validate` and `halb run`, not a daemon
// that dies later.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
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

/** `peers` needs nft (the flow hand-off rules): undefined when it is on PATH, else the problem. */
export function missingNft(bgp: BgpConfig, path = process.env['PATH'] ?? '', canRun: (path: string) => boolean = executable): string | undefined {
  if (bgp.peers.length === 0) return undefined;
  if (path.split(delimiter).some((d) => d !== '' && canRun(join(d, 'nft')))) return undefined;
  return 'bgp.peers needs nftables: nft not found on PATH; install it (apt-get install nftables)';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
