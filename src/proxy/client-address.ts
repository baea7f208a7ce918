// The client's address as halb should report it: the PROXY protocol source on accept_proxy binds,
// else the socket's peer. Kept on the socket so every request on a keep-alive connection sees it.
import type { Socket } from 'node:net';
import type { ClientAddress } from './accept-proxy.ts';

const kClient = Symbol('halb.client');
type Tagged = Socket & { [kClient]?: ClientAddress };

export function setClientAddress(socket: Socket, client: ClientAddress): void {
  (socket as Tagged)[kClient] = client;
}

export function clientIp(socket: Socket): string {
  return (socket as Tagged)[kClient]?.address ?? socket.remoteAddress ?? '';
}

export function clientPort(socket: Socket): number {
  return (socket as Tagged)[kClient]?.port ?? socket.remotePort ?? 0;
}
