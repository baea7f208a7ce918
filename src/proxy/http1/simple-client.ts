// A client connection served without node's HTTP server while its requests have the simple shape
// (see simple-request.ts): the head is parsed here, the response head and body are written to the
// socket as raw bytes. The first request of another shape (a body, Upgrade, Expect, HTTP/1.0, a
// head split across reads, anything malformed) hands the connection, with its unread bytes, to
// node's server for good, so llhttp's checks and node's timeouts apply to it as before.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { moveClientAddress } from '../client-address.ts';
import type { ByteStream } from '../byte-stream.ts';
import { parseSimpleRequest, type SimpleRequest } from './simple-request.ts';
import { setListeners, type ListenerSet } from '../socket-listeners.ts';
import type { ExchangeRequest, ExchangeResponse } from './http-exchange.ts';
import type { NativeSocket } from '../native/native-socket.ts';
import { holdWrites, releaseWrites } from '../native/write-batch.ts';
import { NativeDuplex } from '../native/native-duplex.ts';
import { moveTlsFacts } from '../tls/tls-facts.ts';

export interface SimpleClientHost {
  maxHeaderBytes: number;
  /** Inactivity limits: while a request is served, and between requests. */
  clientTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Start serving one request. */
  serve(req: SimpleClientRequest, res: SimpleClientResponse, host: string): void;
  /** Give the socket to node's server; `unread` holds bytes read but not consumed. */
  handoff(socket: Socket, unread: Buffer): void;
  closed(conn: SimpleClientConnection): void;
  /** Graceful stop under way: finish the request in progress with `Connection: close`. */
  stopping: boolean;
}

const kConn = Symbol('halb.simple');
/** Body chunks at least this big are sent at once rather than held to the end of the turn. */
const BIG_CHUNK = 16 * 1024;
type Tagged = ByteStream & { [kConn]: SimpleClientConnection };

export class SimpleClientConnection {
  /** Taken over by the C connection layer, or node's own socket when that failed. */
  readonly socket: ByteStream;
  private readonly host: SimpleClientHost;
  /** The response being written, if a request is in progress. */
  private current: SimpleClientResponse | undefined;
  private unread: Buffer | undefined;
  /** One inactivity timer for both phases, at the shorter limit, so a request re-arms nothing:
   *  when it fires and the phase's own limit is longer, it is extended once by that full limit
   *  (a connection may so live up to the shorter limit longer than asked, never shorter). */
  private readonly baseTimeoutMs: number;
  private extended = false;
  /** The client sent FIN: answer what is in progress (pipelined requests too), then close. */
  private peerEnded = false;
  /** We ended the connection: later bytes are not requests. */
  private ending = false;
  /** 'data' chunks are views of a buffer the next read overwrites (the C layer's): copy to keep. */
  private readonly ephemeralReads: boolean;

  constructor(socket: ByteStream, host: SimpleClientHost) {
    this.socket = socket;
    this.host = host;
    const n = socket.native;
    this.ephemeralReads = n !== undefined;
    (socket as Tagged)[kConn] = this;
    if (n !== undefined) n.setReader(onData);
    else socket.on('data', onData);
    setListeners(socket, LISTENERS, true);
    const a = host.clientTimeoutMs;
    const b = host.keepAliveTimeoutMs;
    this.baseTimeoutMs = a === 0 ? b : b === 0 ? a : Math.min(a, b);
    socket.setTimeout(this.baseTimeoutMs);
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Graceful stop: the response under way tells the client the connection ends after it. */
  stopRequested(): void {
    this.current?.stopRequested();
  }

  /** @internal */
  get stopping(): boolean {
    return this.host.stopping;
  }

  /** A new phase (request started or answered): back to the common timer if it was extended. */
  private phase(): void {
    if (!this.extended) return;
    this.extended = false;
    this.socket.setTimeout(this.baseTimeoutMs);
  }

  /** @internal the socket was inactive for the timer's span */
  timedOut(): void {
    const limit = this.current !== undefined ? this.host.clientTimeoutMs : this.host.keepAliveTimeoutMs;
    if (this.extended || (limit !== 0 && limit <= this.baseTimeoutMs)) {
      this.socket.destroy();
      return;
    }
    this.extended = true;
    this.socket.setTimeout(limit);
  }

  /** @internal */
  data(chunk: Buffer): void {
    if (this.ending) return;
    const buf = this.unread === undefined ? chunk : Buffer.concat([this.unread, chunk]);
    this.unread = undefined;
    if (this.current !== undefined) {
      // pipelined: hold the bytes until the response in progress is complete
      this.unread = this.keep(buf, chunk);
      this.socket.pause();
      return;
    }
    this.next(buf, chunk);
  }

  /** `buf` as a Buffer that stays valid: a copy when it is the read buffer itself. */
  private keep(buf: Buffer, chunk: Buffer | undefined): Buffer {
    return this.ephemeralReads && buf.buffer === chunk?.buffer ? Buffer.from(buf) : buf;
  }

  /** @internal the client sent FIN */
  peerEnd(): void {
    this.peerEnded = true;
    if (this.current === undefined && this.unread === undefined) this.endNow();
  }

  private endNow(): void {
    this.ending = true;
    this.socket.end();
  }

  private next(buf: Buffer, chunk: Buffer | undefined): void {
    const r = parseSimpleRequest(buf, 0, this.host.maxHeaderBytes);
    if (typeof r === 'string') {
      this.handoff(this.keep(buf, chunk));
      return;
    }
    if (r.end < buf.length) {
      this.unread = this.keep(buf.subarray(r.end), chunk);
      this.socket.pause();
    }
    this.phase();
    const res = new SimpleClientResponse(this, r.method === 'HEAD');
    if (r.close) res.shouldKeepAlive = false;
    this.current = res;
    const req = new SimpleClientRequest(r, this.socket, buf);
    this.host.serve(req, res, r.host);
    req.readBufferGone();
  }

  private handoff(buf: Buffer): void {
    const s = this.socket;
    const n = s.native;
    if (n !== undefined) n.setReader(undefined);
    else s.off('data', onData);
    setListeners(s, LISTENERS, false);
    s.setTimeout(0);
    this.host.closed(this);
    if (n?.tls === true) {
      // its TLS session lives in the C layer: node's server reads it through a stream
      const back = new NativeDuplex(n);
      moveClientAddress(n, back);
      moveTlsFacts(n, back);
      this.host.handoff(back as unknown as Socket, buf);
    } else if (n !== undefined) {
      const back = n.detach();
      moveClientAddress(n, back);
      this.host.handoff(back, buf);
    } else {
      // without a native handle the stream is node's own socket, which node's server takes as it is
      this.host.handoff(s as Socket, buf);
    }
  }

  /** @internal the response was written completely */
  responded(res: SimpleClientResponse): void {
    if (this.current !== res) return;
    this.current = undefined;
    if (!res.shouldKeepAlive) {
      this.endNow();
      return;
    }
    this.phase();
    const u = this.unread;
    if (u !== undefined) {
      this.unread = undefined;
      this.socket.resume();
      this.next(u, undefined);
    } else if (this.peerEnded) {
      this.endNow();
    }
  }

  /** @internal */
  closedNow(): void {
    this.host.closed(this);
    const res = this.current;
    this.current = undefined;
    res?.clientClosed();
  }

  /** @internal */
  drained(): void {
    this.current?.drained();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Closes once what was written is out (graceful stop: the last answer must not be lost). */
  finish(): void {
    this.socket.destroySoon();
  }
}

function conn(s: ByteStream): SimpleClientConnection {
  return (s as Tagged)[kConn];
}

function onData(this: ByteStream, chunk: Buffer): void {
  conn(this).data(chunk);
}

function onEnd(this: ByteStream): void {
  conn(this).peerEnd();
}

function onClose(this: ByteStream): void {
  conn(this).closedNow();
}

function onError(): void {
  // 'close' follows; the exchange learns of it there
}

function onTimeout(this: ByteStream): void {
  conn(this).timedOut();
}

function onDrain(this: ByteStream): void {
  conn(this).drained();
}

const LISTENERS: ListenerSet = [
  ['end', onEnd],
  ['close', onClose],
  ['error', onError],
  ['timeout', onTimeout],
  ['drain', onDrain],
];

export class SimpleClientRequest implements ExchangeRequest {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly socket: ByteStream;
  private hdrs: IncomingHttpHeaders | undefined;
  /** The bytes the head was parsed from (a plain head only), while they are valid. */
  private buf: Buffer | undefined;
  private readonly end: number;

  constructor(r: SimpleRequest, socket: ByteStream, buf: Buffer) {
    this.method = r.method;
    this.url = r.url;
    this.rawHeaders = r.rawHeaders;
    this.socket = socket;
    this.buf = r.plain ? buf : undefined;
    this.end = r.end;
  }

  /** A copy of the head as the client sent it when it has no hop-by-hop header. Only while the
   *  exchange starts: the bytes are in a read buffer that the next read overwrites. */
  plainHead(): Buffer | undefined {
    const b = this.buf;
    if (b === undefined) return undefined;
    const out = Buffer.allocUnsafe(this.end);
    b.copy(out, 0, 0, this.end);
    return out;
  }

  /** @internal serve() returned: the read buffer may be overwritten from now on */
  readBufferGone(): void {
    this.buf = undefined;
  }

  /** Built on first use only (routing on headers, cookies): most requests never ask. */
  get headers(): IncomingHttpHeaders {
    if (this.hdrs !== undefined) return this.hdrs;
    const h: Record<string, string> = {};
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      const v = raw[i + 1]!;
      const old = h[k];
      h[k] = old === undefined ? v : `${old}${k === 'cookie' ? '; ' : ', '}${v}`;
    }
    this.hdrs = h;
    return h;
  }

  // no body: nothing to listen to or pause
  on(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
}

export class SimpleClientResponse implements ExchangeResponse {
  statusCode = 200;
  headersSent = false;
  shouldKeepAlive = true;
  private readonly conn: SimpleClientConnection;
  private readonly noBody: boolean;
  private chunked = false;
  private ended = false;
  private onClose: ((this: SimpleClientResponse) => void) | undefined;
  private onDrain: ((this: SimpleClientResponse) => void) | undefined;

  constructor(conn: SimpleClientConnection, noBody: boolean) {
    this.conn = conn;
    this.noBody = noBody;
  }

  on(event: string, listener: (this: SimpleClientResponse) => void): this {
    if (event === 'close') this.onClose = listener;
    else if (event === 'drain') this.onDrain = listener;
    return this;
  }

  writeHead(status: number, reason: string | undefined, headers: string[]): this {
    this.statusCode = status;
    this.headersSent = true;
    let head = `HTTP/1.1 ${status} ${reason ?? ''}\r\n`;
    let length = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      head += `${name}: ${headers[i + 1]!}\r\n`;
    }
    if (!length && !this.noBody && status !== 204 && status !== 304) {
      this.chunked = true;
      head += 'Transfer-Encoding: chunked\r\n';
    }
    // A stopping frontend tells the client, so it reconnects elsewhere instead of seeing a reset.
    if (this.conn.stopping) this.shouldKeepAlive = false;
    if (!this.shouldKeepAlive) head += 'Connection: close\r\n';
    const s = this.conn.socket;
    holdWrites(s);
    s.write(`${head}\r\n`, 'latin1');
    return this;
  }

  forwardTarget(): NativeSocket | undefined {
    const n = this.conn.socket.native;
    if (n === undefined) return undefined;
    // decided now rather than when the head arrives: the C side adds the header
    if (this.conn.stopping) this.shouldKeepAlive = false;
    return n;
  }

  /** The frontend began a graceful stop while this response was under way. */
  stopRequested(): void {
    if (this.headersSent) return;
    this.shouldKeepAlive = false;
    this.conn.socket.native?.closeAfterForwarded();
  }

  forwardedHead(status: number): void {
    this.statusCode = status;
    this.headersSent = true;
  }

  /** `head` may end with the first `bodyIncluded` bytes of the body. */
  writeRawHead(status: number, head: Buffer, bodyIncluded: number): void {
    this.statusCode = status;
    this.headersSent = true;
    if (this.conn.stopping) this.shouldKeepAlive = false;
    const s = this.conn.socket;
    holdWrites(s);
    if (this.shouldKeepAlive) {
      s.write(head);
    } else {
      const headEnd = head.length - bodyIncluded;
      s.write(head.subarray(0, headEnd - 2));
      s.write('Connection: close\r\n\r\n', 'latin1');
      if (bodyIncluded > 0) s.write(head.subarray(headEnd));
    }
  }

  write(chunk: Buffer): boolean {
    const s = this.conn.socket;
    if (this.noBody || chunk.length === 0) return true;
    if (!this.chunked) {
      const ok = s.write(chunk);
      if (chunk.length >= BIG_CHUNK) releaseWrites(s);
      return ok;
    }
    s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    s.write(chunk);
    return s.write('\r\n', 'latin1');
  }

  end(data?: string): this {
    if (this.ended) return this;
    this.ended = true;
    const s = this.conn.socket;
    if (data !== undefined && data.length > 0 && !this.noBody) {
      if (this.chunked) s.write(`${Buffer.byteLength(data, 'latin1').toString(16)}\r\n${data}\r\n`, 'latin1');
      else s.write(data, 'latin1');
    }
    if (this.chunked) s.write('0\r\n\r\n', 'latin1');
    this.conn.responded(this);
    return this;
  }

  destroy(): this {
    this.conn.destroy();
    return this;
  }

  get copiesWrites(): boolean {
    return this.conn.socket.native !== undefined;
  }

  flushed(): boolean {
    // a socket that copies what it is given never references a written chunk
    return this.copiesWrites || this.conn.socket.writableLength === 0;
  }

  /** @internal */
  clientClosed(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClose?.call(this);
  }

  /** @internal */
  drained(): void {
    this.onDrain?.call(this);
  }
}
