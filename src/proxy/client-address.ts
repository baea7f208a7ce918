// The client's address as halb should report it: the PROXY protocol source on accept_proxy binds,
// else the socket's peer. Kept on the socket so every request on a keep-alive connection sees it.
import type { ClientAddress } from './accept-proxy.ts';

/** The part of a ByteStream (or of node's socket before the C layer takes it) this file reads. */
export interface PeerSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

const kClient = Symbol('halb.client');
type Tagged = PeerSocket & { [kClient]?: ClientAddress };

export function setClientAddress(socket: PeerSocket, client: ClientAddress): void {
  (socket as Tagged)[kClient] = client;
}

/** The announced address, if any, moves with the connection to the socket that takes it over. */
export function moveClientAddress(from: PeerSocket, to: PeerSocket): void {
  const c = (from as Tagged)[kClient];
  if (c !== undefined) (to as Tagged)[kClient] = c;
}

export function clientIp(socket: PeerSocket): string {
  return (socket as Tagged)[kClient]?.address ?? socket.remoteAddress ?? '';
}

export function clientPort(socket: PeerSocket): number {
  return (socket as Tagged)[kClient]?.port ?? socket.remotePort ?? 0;
}
