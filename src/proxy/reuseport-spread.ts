// Worker processes sharing a port take its new connections in turn rather than by the kernel's
// hash of the addresses (see native/netio/src/reuseport.h for why).
import type net from 'node:net';
import { reuseportSpread } from '#netio';
import type { Logger } from '../log/logger.ts';

let toldWhyNot = false;

/** Call once `server` listens; `workers` is how many processes listen on the same port. Where
 *  eBPF cannot be loaded (no CAP_BPF), says so once and leaves the kernel's hash. */
export function spreadConnections(server: net.Server, workers: number, log: Logger): void {
  if (workers < 2) return;
  const fd = (server as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  if (fd === undefined || fd < 0) return;
  const why = reuseportSpread(fd, workers);
  if (why === undefined || toldWhyNot) return;
  toldWhyNot = true;
  log.info({ reason: why }, "new connections go to workers by the kernel's hash of their addresses, which can be uneven");
}
