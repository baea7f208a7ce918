// The byte stream the proxy's connection code works with: a client or server connection as the
// HTTP path and the upstream pool see it. Node's net.Socket satisfies it as it is (so does
// tls.TLSSocket, which extends it), and the C layer's NativeSocket implements it; nothing wraps
// a node socket to make it fit, so the HTTP path pays nothing for the abstraction.
//
// It holds exactly what that code calls. What only the C layer can do (send a response from one
// connection to another without JavaScript, reads handed to one callback, no write batching
// needed) is reached through `native`, which is the NativeSocket itself on a C-driven connection
// and undefined on node's sockets: one property load instead of an instanceof, and the one place
// a new transport has to think about. Only these two kinds implement it, so a stream whose
// `native` is undefined is node's own socket: that is how a connection goes back to node's HTTP
// server (simple-client.ts's handoff).
import type { NativeSocket } from './native/native-socket.ts';

export interface ByteStream {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /** No more I/O: destroyed, or closed by either side. */
  readonly destroyed: boolean;
  /** Bytes queued and not yet taken by the kernel. */
  readonly writableLength: number;
  /** The C connection layer's socket when this stream is one, else undefined (node's sockets
   *  have no such property). */
  readonly native?: NativeSocket | undefined;

  /** False once the queue is over the high-water mark: wait for 'drain'. */
  write(data: string | Buffer, encoding?: 'latin1'): boolean;
  /** Sends FIN once what is queued is out. */
  end(): this;
  /** Closes now; queued bytes may be lost. */
  destroy(): this;
  /** Closes once what is queued is out (end, then close). */
  destroySoon(): void;
  pause(): this;
  resume(): this;
  isPaused(): boolean;
  cork(): void;
  uncork(): void;
  /** Inactivity timeout ('timeout' event); 0 disables. */
  setTimeout(ms: number): this;

  // 'data', 'end', 'drain', 'timeout', 'error', 'close'
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node's own listener type
  on(event: string, listener: (...args: any[]) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node's own listener type
  off(event: string, listener: (...args: any[]) => void): this;
}
