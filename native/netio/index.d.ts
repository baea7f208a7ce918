// Socket I/O in C for halb. Linux only.

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
export function relayStart(
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
export function relayAbort(handle: RelayHandle): void;

/** Opaque handle of a connection driven by the C side. Invalid after 'close' or detach. */
export interface ConnHandle {
  readonly __connHandle: never;
}

/**
 * Once per process (per thread): the Buffer reads land in unless a connection has its own, and
 * the event functions, each called with the connection's owner object as `this`.
 */
export function connInit<Owner extends object>(
  sharedReadBuffer: Buffer,
  onRead: (this: Owner, nread: number) => void,
  onEnd: (this: Owner) => void,
  onDrain: (this: Owner) => void,
  onTimeout: (this: Owner) => void,
  onClose: (this: Owner, errorCode: string | undefined, errorSyscall: string | undefined) => void,
  onForward: (this: Owner, done: boolean, status: number, bodyBytes: number, keepAlive: boolean) => void,
): void;
/** Takes over a connected socket by descriptor (duplicated: close the original right after).
 *  `owner` is `this` for the callbacks given to connInit. */
export function connOpen(fd: number, owner: object, allowHalfOpen: boolean, highWater: number): ConnHandle;
/** Where reads land from now on; undefined = the shared buffer. */
/** An OpenSSL SSL_CTX made by tlsContext (freed when no JS value and no connection holds it). */
export interface TlsContextHandle {
  readonly __tlsContext: unique symbol;
}

/** Called (with the connection's owner as `this`) when a connOpenTls connection's handshake is
 *  done; once per process. */
export function tlsInit(onSecure: (this: never) => void): void;

/**
 * A server-side TLS context: certificate chains (PEM, leaf first) with their keys (several key
 * types side by side: the client's signature algorithms pick), the lowest version, the TLS 1.2
 * cipher list and TLS 1.3 suites (OpenSSL syntax; '' leaves that part empty / the default), the
 * session id context, node's 48-byte ticket key (undefined: OpenSSL's own random one) and the
 * ALPN protocols in wire format. Throws (code ERR_HALB_TLS) with OpenSSL's reason.
 */
export function tlsContext(
  chains: string[],
  keys: string[],
  minVersion: 'TLSv1.2' | 'TLSv1.3',
  cipherList: string,
  cipherSuites: string,
  sessionIdContext: string,
  ticketKey: Buffer | undefined,
  alpn: Buffer,
  /** false: no session tickets, hence no resumption; default true */
  tickets?: boolean,
): TlsContextHandle;

/** connOpen for a TLS server connection whose ClientHello JS read already (given as clientHello);
 *  reads deliver plaintext after the handshake; a failed handshake closes with EPROTO and
 *  OpenSSL's reason as the syscall. */
export function connOpenTls(fd: number, owner: object, allowHalfOpen: boolean, highWater: number, context: TlsContextHandle, clientHello: Buffer): ConnHandle;

/** [version, cipher (IANA name), ALPN protocol | undefined, resumed]; [] when not TLS or closed. */
export function connTlsFacts(h: ConnHandle): [string, string, string | undefined, boolean] | [];

export function connSetReadBuffer(h: ConnHandle, buf: Buffer | undefined): void;
/** Queues bytes (sent after this loop turn's I/O, or at once when big). Returns the bytes now
 *  waiting, or -1 when the connection is ending or closed. */
export function connWrite(h: ConnHandle, data: Buffer | string): number;
export function connPending(h: ConnHandle): number;
export function connPause(h: ConnHandle, paused: boolean): void;
/** FIN once the queued bytes are out. */
export function connEnd(h: ConnHandle): void;
/** Closes now ('close' follows); reset sends RST. */
export function connDestroy(h: ConnHandle, reset: boolean): void;
export function connSetTimeout(h: ConnHandle, ms: number): void;
/** Stops driving the socket and gives its descriptor back, with bytes not yet sent. */
export function connDetach(h: ConnHandle): { fd: number; unsent: Buffer | undefined };
/** Whether the connection keeps the event loop alive (default true). */
export function connRef(h: ConnHandle, on: boolean): void;
/**
 * Writes `requestHead` to the server connection and sends the response it answers with straight
 * to the client connection when that response has the common shape (HTTP/1.1, a final status,
 * framed by Content-Length or bodiless, head in one read): hop-by-hop lines cut out, and
 * `Connection: close` added when `close`. onForward on the server's owner reports it: done=false
 * once the head went out and the body is still coming, done=true when it is complete (bodyBytes:
 * the body bytes sent; keepAlive: the server allows reuse). A response of another shape arrives
 * through onRead as usual. Returns the bytes waiting to be sent to the server, -1 when closed.
 * With `pipelineDepth`, the request is only written behind those written to the server in this
 * turn (still unsent, fewer than pipelineDepth, their responses forwarded by the C side), whose
 * responses come first; -2 when it cannot go there (nothing written).
 */
export function connForward(
  server: ConnHandle,
  client: ConnHandle,
  headRequest: boolean,
  close: boolean,
  requestHead: string | Buffer,
  pipelineDepth?: number,
): number;

/** The response being forwarded to this client connection (connForward) gets `Connection: close`
 *  added, unless its head went out already. */
export function connForwardClose(client: ConnHandle): void;

/** The C scan of a response head alone (tests hold it against the JS parser's raw scan). */
export function scanResponseHead(
  head: Buffer,
  headRequest: boolean,
): { status: number; headEnd: number; contentLength: number; close: boolean; drops: number[] } | undefined;

/**
 * Attaches to the SO_REUSEPORT group of the listening socket `listenFd` a program that hands its
 * new connections to the group's first `workers` sockets in turn, instead of the kernel's hash
 * of the addresses. Returns undefined, or why it could not (loading eBPF needs CAP_BPF or root).
 */
export function reuseportSpread(listenFd: number, workers: number): string | undefined;
