// A master's last word: the priority-0 round it would send on a planned stop, prepared while it
// runs, so that another process can send it if this one dies (kill -9, OOM kill, a crash). The
// backup then takes over after Skew_Time (RFC 5798 §6.4.2, priority 0 received) instead of
// waiting out Master_Down_Interval: for a master at 20 ms adverts, ~12 ms instead of 72 ms.
// On the wire this is exactly what a master stepping down sends (keepalived sends the same on
// its own shutdown). A machine that dies whole says nothing, and the backup's timers decide as
// before. The serving workers hold it (node/worker-main.ts): they outlive their primary by the
// moment it takes them to notice it is gone.

import { send, close } from '#rawsock';
import { interfaceInfo } from '../host/interface-info.ts';
import { openVrrpSocket } from './transport.ts';

/** Plain data (it crosses the IPC channel to the workers as JSON). */
export interface LastWord {
  instance: string;
  family: 4 | 6;
  interface: string;
  /** The advert source address (the v3 checksum covers it). */
  src: string;
  /** One advert per destination, base64. */
  packets: { dst: string; payload: string }[];
}

/** Send it now; returns how many destinations took it. Never throws (the sender is exiting). */
export function sendLastWord(w: LastWord): number {
  let sent = 0;
  let handle: ReturnType<typeof openVrrpSocket> | undefined;
  try {
    const ifindex = interfaceInfo(w.interface).index;
    handle = openVrrpSocket(w.family, w.interface, ifindex);
    for (const p of w.packets) {
      try {
        send(handle, Buffer.from(p.payload, 'base64'), p.dst, w.src, ifindex);
        sent++;
      } catch {
        // one destination refused: the others still hear it
      }
    }
  } catch {
    // no raw socket here (capabilities, interface gone): the backup's timers decide
  } finally {
    if (handle !== undefined) close(handle);
  }
  return sent;
}
