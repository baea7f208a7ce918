// TCP byte relay for halb. Linux only.

/** Opaque handle of a running relay. */
export interface RelayHandle {
  readonly __relayHandle: never;
}

/** How the relay ended: index into ['closed', 'client-reset', 'server-reset', 'client-idle-timeout', 'server-idle-timeout', 'aborted']. */
export type RelayDoneCallback = (
  termination: number,
  /** -1 neither side sent FIN, 0 the client did first, 1 the server */
  firstFin: number,
  clientBytesIn: number,
  clientBytesOut: number,
  serverBytesIn: number,
  serverBytesOut: number,
  /** -1 no socket error, 0 the client's socket failed, 1 the server's */
  errorSide: number,
  /** e.g. "ECONNRESET" */
  errorCode: string | undefined,
  /** "read", "write", "shutdown" */
  errorSyscall: string | undefined,
) => void;

/**
 * Takes over two connected TCP sockets by descriptor (they are duplicated: close the originals
 * right after) and relays bytes both ways until both directions have ended, a side fails, an
 * idle timeout passes or abort() is called. `toServer` / `toClient` are written first; a true
 * `clientEof` / `serverEof` means that side's FIN was already read. `onDone` runs once,
 * asynchronously, after both connections are closed.
 */
export function start(
  clientFd: number,
  serverFd: number,
  clientIdleMs: number,
  serverIdleMs: number,
  toServer: Buffer | undefined,
  toClient: Buffer | undefined,
  clientEof: boolean,
  serverEof: boolean,
  onDone: RelayDoneCallback,
): RelayHandle;

/** Ends a running relay now (both connections closed, termination 'aborted'); no-op once ended. */
export function abort(handle: RelayHandle): void;
