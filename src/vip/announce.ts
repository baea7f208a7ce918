// Tell the link that a VIP now lives here: `repeat` gratuitous ARPs (IPv4) or unsolicited
// neighbour advertisements (IPv6), `intervalMs` apart. keepalived's defaults, which the
// caller schedules: a burst of garp_master_repeat=5 on becoming MASTER, a second burst after
// garp_master_delay=5s, garp_interval/gna_interval=0 within a burst, garp_master_refresh=0
// (no periodic refresh; when set, refresh bursts are garp_master_refresh_repeat=1).

import { isIPv4, isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VirtualAddress } from '../config/types.ts';
import { interfaceInfo } from '../host/interface-info.ts';
import { buildGarpFrame, GarpSender } from './garp.ts';
import { buildNeighbourAdvert, ipv6Forwarding, NeighbourAdvertSender } from './neighbour-advert.ts';

export interface AnnounceOptions {
  /** How many messages; keepalived's garp_master_repeat default is 5. */
  repeat: number;
  /** Gap between messages; keepalived's garp_interval / gna_interval default is 0. */
  intervalMs: number;
  /** Stop early (we stopped being MASTER). The promise then resolves with what was sent. */
  signal?: AbortSignal;
}

export const KEEPALIVED_GARP_DEFAULTS = {
  masterDelayMs: 5000,
  masterRepeat: 5,
  masterRefreshMs: 0,
  masterRefreshRepeat: 1,
  intervalMs: 0,
} as const;

/**
 * Announce `vip` (an address, or a VirtualAddress whose device wins over `iface`) on `iface`.
 * Resolves with the number of messages sent. Rejects when the interface is missing, has no
 * MAC, or the kernel refuses to send (errno error: ENETDOWN, EPERM, ...).
 */
export async function announce(vip: VirtualAddress | string, iface: string, opts: AnnounceOptions): Promise<number> {
  const address = typeof vip === 'string' ? vip : vip.address;
  const device = typeof vip === 'string' ? iface : (vip.device ?? iface);
  if (!Number.isInteger(opts.repeat) || opts.repeat < 0) throw new RangeError(`announce: repeat must be a whole number >= 0, got ${opts.repeat}`);
  if (!(opts.intervalMs >= 0)) throw new RangeError(`announce: intervalMs must be >= 0, got ${opts.intervalMs}`);
  const info = interfaceInfo(device);
  if (info.mac === '') throw new Error(`announce: interface "${device}" has no Ethernet address`);

  let sendOne: () => void;
  let closeSender: () => void;
  if (isIPv4(address)) {
    const frame = buildGarpFrame(info.mac, address);
    const sender = new GarpSender();
    sendOne = () => void sender.send(info.index, frame);
    closeSender = () => sender.close();
  } else if (isIPv6(address)) {
    const message = buildNeighbourAdvert(address, info.mac, { router: ipv6Forwarding(device) });
    const sender = new NeighbourAdvertSender(info.index);
    sendOne = () => void sender.send(message, address);
    closeSender = () => sender.close();
  } else {
    throw new TypeError(`announce: "${address}" is not an IP address`);
  }

  let sent = 0;
  try {
    for (let i = 0; i < opts.repeat; i++) {
      if (opts.signal?.aborted) break;
      if (i > 0 && opts.intervalMs > 0) {
        try {
          await sleep(opts.intervalMs, undefined, { signal: opts.signal });
        } catch {
          break; // aborted
        }
      }
      sendOne();
      sent++;
    }
  } finally {
    closeSender();
  }
  return sent;
}
