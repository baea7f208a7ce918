// Attaching and later detaching one fixed set of socket listeners (a connection that changes
// hands must drop exactly the ones it added). Works for net.Socket and any ByteStream alike.
import type { ByteStream } from './byte-stream.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- node's own listener type
export type ListenerSet = readonly (readonly [event: string, listener: (...args: any[]) => void])[];

export function setListeners(socket: Pick<ByteStream, 'on' | 'off'>, set: ListenerSet, on: boolean): void {
  for (const [event, listener] of set) {
    if (on) socket.on(event, listener);
    else socket.off(event, listener);
  }
}
