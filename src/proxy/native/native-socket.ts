// A connected TCP socket driven by @halb/netio's C connection layer instead of net.Socket: the
// part of net.Socket's interface the HTTP path uses (data/end/drain/timeout/error/close events,
// write/end/destroy/pause/resume/setTimeout), without the stream machinery a small request
// otherwise spends most of its JavaScript time in.
//
// Two differences from net.Socket the users must know:
// - A 'data' chunk is a view of a read buffer that the next read overwrites: copy what must
//   outlive the listener (the connection's own buffer from setReadBuffer() is the caller's
//   to manage).
// - write() copies (or sends at once), so the caller may reuse a written Buffer immediately.
//   Writes are sent after the current loop turn's I/O, all of them in one send.

import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  connDestroy,
  connDetach,
  connEnd,
  connForward,
  connForwardClose,
  connInit,
  connOpen,
  connOpenTls,
  connPause,
  connPending,
  connRef,
  connSetReadBuffer,
  connSetTimeout,
  connTlsFacts,
  connWrite,
  tlsInit,
  type ConnHandle,
  type TlsContextHandle,
} from '#netio';
import type { ByteStream } from '../byte-stream.ts';

const SHARED_READ_BYTES = 64 * 1024;
const DEFAULT_HIGH_WATER = 64 * 1024;

let shared: Buffer | undefined;

function ensureInit(): void {
  if (shared !== undefined) return;
  shared = Buffer.allocUnsafeSlow(SHARED_READ_BYTES);
  connInit(shared, onRead, onEnd, onDrain, onTimeout, onClose, onForward);
  tlsInit(onSecure);
}

function onSecure(this: NativeSocket): void {
  this.secured();
}

function onRead(this: NativeSocket, nread: number): void {
  this.delivered(nread);
}
function onEnd(this: NativeSocket): void {
  this.ended();
}
function onDrain(this: NativeSocket): void {
  this.emit('drain');
}
function onTimeout(this: NativeSocket): void {
  this.emit('timeout');
}
function onClose(this: NativeSocket, code: string | undefined, syscall: string | undefined): void {
  this.closed(code, syscall);
}

function onForward(this: NativeSocket, done: boolean, status: number, bodyBytes: number, keepAlive: boolean): void {
  this.forwardHandler?.(done, status, bodyBytes, keepAlive);
}

/** Hears what became of a response forwarded by the C side (see forwardResponse). */
export type ForwardHandler = (this: NativeSocket, done: boolean, status: number, bodyBytes: number, keepAlive: boolean) => void;

interface Internals {
  _handle?: { fd?: number } | null;
}

export interface AdoptOptions {
  /** false (node's default): a FIN from the peer ends our side too once queued bytes are out. */
  allowHalfOpen?: boolean;
  /** write() returns false once this many bytes wait to be sent. */
  highWater?: number;
}

export class NativeSocket extends EventEmitter implements ByteStream {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** destroy() was called or the connection closed: no more I/O. */
  destroyed = false;
  /** 'end' was emitted (the peer sent FIN). */
  readableEnded = false;
  /** end() was called. */
  writableEnded = false;
  bytesRead = 0;
  bytesWritten = 0;
  private h: ConnHandle | undefined;
  private readBuf: Buffer;
  /** Takes the reads instead of 'data' listeners: one direct call per read, no emit. */
  private reader: ((this: NativeSocket, chunk: Buffer) => void) | undefined;
  private paused = false;
  /** @internal */
  forwardHandler: ForwardHandler | undefined;
  private readonly highWater: number;
  private readonly allowHalfOpen: boolean;

  /** A TLS connection (adoptTls): the handshake is done. */
  secure = false;
  /** A TLS connection: written bytes are plaintext, and detach() is not possible. */
  readonly tls: boolean;

  private constructor(from: net.Socket, fd: number, opts: AdoptOptions, tls?: { context: TlsContextHandle; clientHello: Buffer }) {
    super();
    ensureInit();
    this.remoteAddress = from.remoteAddress;
    this.remotePort = from.remotePort;
    this.localAddress = from.localAddress;
    this.localPort = from.localPort;
    this.highWater = opts.highWater ?? DEFAULT_HIGH_WATER;
    this.allowHalfOpen = opts.allowHalfOpen ?? false;
    this.readBuf = shared!;
    this.tls = tls !== undefined;
    this.h = tls === undefined ? connOpen(fd, this, this.allowHalfOpen, this.highWater) : connOpenTls(fd, this, this.allowHalfOpen, this.highWater, tls.context, tls.clientHello);
  }

  /**
   * Takes over a connected net.Socket: from here on the C side drives the connection and `from`
   * is closed (without FIN: the descriptor lives on in C). Bytes already read into `from` come
   * back as `buffered`, for the caller to treat as the first data. Undefined when `from` cannot
   * be taken over (no descriptor, closed, writes still queued); keep using it then.
   */
  static adopt(from: net.Socket, opts: AdoptOptions = {}): { socket: NativeSocket; buffered: Buffer | undefined } | undefined {
    const fd = (from as unknown as Internals)._handle?.fd;
    if (typeof fd !== 'number' || fd < 0 || from.destroyed || from.connecting || from.writableLength > 0 || from.readableEnded) return undefined;
    const buffered = from.readableLength > 0 ? ((from.read() as Buffer | null) ?? undefined) : undefined;
    const socket = new NativeSocket(from, fd, opts);
    socket.bytesRead = from.bytesRead;
    socket.bytesWritten = from.bytesWritten;
    from.on('error', ignore);
    from.destroy();
    return { socket, buffered };
  }

  /**
   * Takes over a connected net.Socket whose ClientHello the caller has read (all of it, as
   * `clientHello`; nothing else may have been read): the C side runs the TLS server handshake
   * with `context` and then carries plaintext. 'secure' is emitted once the handshake is done; a
   * failed one closes with an error (code EPROTO, OpenSSL's reason as its syscall). Undefined
   * when `from` cannot be taken over (see adopt).
   */
  static adoptTls(from: net.Socket, context: TlsContextHandle, clientHello: Buffer, opts: AdoptOptions = {}): NativeSocket | undefined {
    const fd = (from as unknown as Internals)._handle?.fd;
    if (typeof fd !== 'number' || fd < 0 || from.destroyed || from.connecting || from.writableLength > 0 || from.readableEnded || from.readableLength > 0) return undefined;
    const socket = new NativeSocket(from, fd, opts, { context, clientHello });
    from.on('error', ignore);
    from.destroy();
    return socket;
  }

  /** A TLS connection's negotiated version, cipher, ALPN and whether it resumed a session. */
  tlsFacts(): { version: string; cipher: string; alpn: string | undefined; resumed: boolean } | undefined {
    if (this.h === undefined || !this.tls) return undefined;
    const f = connTlsFacts(this.h);
    if (f.length === 0) return undefined;
    return { version: f[0], cipher: f[1], alpn: f[2], resumed: f[3] };
  }

  /** ByteStream's door to what only the C layer does: this socket (node's sockets have none). */
  get native(): this {
    return this;
  }

  /** Reads go to `fn` (with this socket as `this`) rather than to 'data' listeners. */
  setReader(fn: ((this: NativeSocket, chunk: Buffer) => void) | undefined): void {
    this.reader = fn;
  }

  /** Where reads land from now on (undefined: back to the shared buffer). */
  setReadBuffer(buf: Buffer | undefined): void {
    if (this.h === undefined) return;
    this.readBuf = buf ?? shared!;
    connSetReadBuffer(this.h, buf);
  }

  write(data: string | Buffer, _encoding?: 'latin1'): boolean {
    if (this.h === undefined || this.destroyed) return false;
    const pending = connWrite(this.h, data);
    if (pending < 0) return false;
    this.bytesWritten += data.length;
    return pending < this.highWater;
  }

  /**
   * Sends a request head to this (server) connection and lets the C side send the response
   * straight to `client` when it has the common shape (see connForward): the handler set with
   * setForwardHandler then hears of it instead of the reader. Returns what write() would.
   */
  forwardResponse(requestHead: string | Buffer, client: NativeSocket, headRequest: boolean, close: boolean): boolean {
    if (this.h === undefined || this.destroyed || client.h === undefined || client.destroyed) return this.write(requestHead);
    const pending = connForward(this.h, client.h, headRequest, close, requestHead);
    if (pending < 0) return false;
    this.bytesWritten += requestHead.length;
    return pending < this.highWater;
  }

  /**
   * Like forwardResponse, but only behind the requests written to this connection in this turn,
   * which then go out in one send (HTTP/1.1 pipelining, see connForward's pipelineDepth). False
   * when the request cannot go there; nothing was written then.
   */
  appendForward(requestHead: string | Buffer, client: NativeSocket, headRequest: boolean, close: boolean, depth: number): boolean {
    if (this.h === undefined || this.destroyed || client.h === undefined || client.destroyed) return false;
    if (connForward(this.h, client.h, headRequest, close, requestHead, depth) < 0) return false;
    this.bytesWritten += requestHead.length;
    return true;
  }

  /** On a client socket: the response the C side is forwarding to it gets `Connection: close`,
   *  unless its head went out already. */
  closeAfterForwarded(): void {
    if (this.h !== undefined && !this.destroyed) connForwardClose(this.h);
  }

  setForwardHandler(fn: ForwardHandler | undefined): void {
    this.forwardHandler = fn;
  }

  /** Bytes queued and not yet taken by the kernel. */
  get writableLength(): number {
    return this.h === undefined || this.destroyed ? 0 : connPending(this.h);
  }

  end(data?: string | Buffer): this {
    if (data !== undefined) this.write(data);
    if (this.h !== undefined && !this.destroyed && !this.writableEnded) {
      this.writableEnded = true;
      connEnd(this.h);
    }
    return this;
  }

  destroy(): this {
    if (this.h === undefined || this.destroyed) return this;
    this.destroyed = true;
    connDestroy(this.h, false);
    return this;
  }

  /** Sends what is queued, then closes with FIN: end() hands the queued bytes to the kernel at
   *  once and closing keeps what it took. Unlike net.Socket's, it does not wait for 'finish': a
   *  backlog beyond what the kernel takes now is lost (its one user, a graceful stop after the
   *  last answer, queues far less). */
  destroySoon(): void {
    this.end();
    this.destroy();
  }

  /** Closes with RST instead of FIN. */
  resetAndDestroy(): this {
    if (this.h === undefined || this.destroyed) return this;
    this.destroyed = true;
    connDestroy(this.h, true);
    return this;
  }

  pause(): this {
    if (!this.paused && this.h !== undefined && !this.destroyed) {
      this.paused = true;
      connPause(this.h, true);
    }
    return this;
  }

  resume(): this {
    if (this.paused && this.h !== undefined && !this.destroyed) {
      this.paused = false;
      connPause(this.h, false);
    }
    return this;
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** Writes are batched by the C side already: nothing to hold. */
  cork(): void {}
  uncork(): void {}

  ref(): this {
    if (this.h !== undefined && !this.destroyed) connRef(this.h, true);
    return this;
  }

  /** An unref'd connection does not keep the process alive (idle pooled connections). */
  unref(): this {
    if (this.h !== undefined && !this.destroyed) connRef(this.h, false);
    return this;
  }

  /** Inactivity timeout ('timeout' event); 0 disables. */
  setTimeout(ms: number): this {
    if (this.h !== undefined && !this.destroyed) connSetTimeout(this.h, ms);
    return this;
  }

  /**
   * Gives the connection back to Node as a net.Socket (for node's HTTP server), with any bytes
   * not yet sent written first. This object is dead afterwards and emits nothing more.
   */
  detach(): net.Socket {
    if (this.h === undefined || this.destroyed) throw new Error('NativeSocket.detach: connection is closed');
    if (this.tls) throw new Error('NativeSocket.detach: a TLS connection cannot leave the C layer (use NativeDuplex)');
    const { fd, unsent } = connDetach(this.h);
    this.h = undefined;
    this.destroyed = true;
    const s = new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: this.allowHalfOpen });
    if (unsent !== undefined) s.write(unsent);
    return s;
  }

  /** @internal nread bytes arrived at the start of the read buffer */
  delivered(nread: number): void {
    this.bytesRead += nread;
    const chunk = this.readBuf.subarray(0, nread);
    if (this.reader !== undefined) this.reader(chunk);
    else this.emit('data', chunk);
  }

  /** @internal the TLS handshake is done */
  secured(): void {
    this.secure = true;
    this.emit('secure');
  }

  /** @internal */
  ended(): void {
    this.readableEnded = true;
    if (!this.allowHalfOpen) this.writableEnded = true; // the C side ends ours once the queue is out
    this.emit('end');
  }

  /** @internal */
  closed(code: string | undefined, syscall: string | undefined): void {
    this.h = undefined;
    this.destroyed = true;
    if (code !== undefined) {
      const err = new Error(`${syscall} ${code}`) as NodeJS.ErrnoException;
      err.code = code;
      err.syscall = syscall;
      // unlike net.Socket, no listener is no crash: this runs from a C callback
      if (this.listenerCount('error') > 0) this.emit('error', err);
    }
    this.emit('close', code !== undefined);
  }
}

function ignore(): void {}
