// Keep-alive connections from halb to servers, pooled per server (LIFO, so few stay warm). One
// socket, one response parser and one set of listeners per connection for its whole life; the
// request being served is the connection's `user`, so no per-request closures are created.
import net from 'node:net';
import type tls from 'node:tls';
import type { ServerState } from '../pool/server-state.ts';
import type { BackendTls } from '../pool/backend-tls.ts';
import { NativeSocket } from './native/native-socket.ts';
import type { ByteStream } from './byte-stream.ts';
import { ResponseParser, type ResponseSink } from './http1/response-parser.ts';
import { setListeners, type ListenerSet } from './socket-listeners.ts';
import { holdWrites } from './native/write-batch.ts';

/** What a connection reports to the request using it. */
export interface UpstreamUser extends ResponseSink {
  onUpstreamConnect(conn: UpstreamConnection): void;
  onUpstreamDrain(conn: UpstreamConnection): void;
  /** Bytes that the parser rejected. */
  onUpstreamBadResponse(conn: UpstreamConnection, reason: string): void;
  /** The socket timed out (connect phase, or idle while serving). */
  onUpstreamTimeout(conn: UpstreamConnection): void;
  /** The C side sent a response to the client itself (see writeRequestHead): its head, with the
   *  body still coming (`done` false), or all of it. */
  onForwarded(conn: UpstreamConnection, done: boolean, status: number, bodyBytes: number, keepAlive: boolean): void;
  /** The socket closed while this user still held it (or waited behind the user holding it). */
  onUpstreamClose(conn: UpstreamConnection, err: Error | undefined): void;
  /** After response bytes were handed over: true when no view of them is kept anywhere, so the
   *  memory they were read into can take the next read. */
  readReleased(): boolean;
}

/** Idle sockets kept per server. */
export const MAX_IDLE_PER_SERVER = 512;
/** Idle sockets are closed before servers usually close theirs (node's default is 5 s), which keeps
 *  the race of reusing a socket the server is closing rare. */
export const IDLE_TIMEOUT_MS = 4000;
const IDLE_SWEEP_MS = 500;
/** Sweeps an idle socket survives: it is closed after (IDLE_TIMEOUT_MS - IDLE_SWEEP_MS, IDLE_TIMEOUT_MS]. */
const IDLE_SWEEPS = IDLE_TIMEOUT_MS / IDLE_SWEEP_MS;
/** Reads go to a per-connection buffer (net's `onread`) instead of a fresh allocation per read:
 *  the same memory again when the user released the bytes (big bodies written through at once),
 *  else the unused tail of the buffer while at least READ_MIN is left, else a new one. Bytes still
 *  referenced are never overwritten. Saves the allocation and the stream machinery per read, and
 *  the major GCs that 64 KiB of external memory per read brings on. */
const READ_BUF = 64 * 1024;
const READ_MIN = 16 * 1024;

/** Answers bigger than this pause pipelining to their server (see UpstreamConnections.answered). */
const PIPELINE_MAX_BODY = 16 * 1024;

const kConn = Symbol('halb.upstream');
type TaggedSocket = ByteStream & { [kConn]: UpstreamConnection };

export class UpstreamConnection {
  /** node's socket while connecting (and if the C layer cannot take it over), then a NativeSocket;
   *  over TLS node's TLSSocket for the whole life (the C layer speaks plain TCP only). */
  socket: ByteStream;
  readonly parser = new ResponseParser();
  readonly server: ServerState;
  readonly host: string;
  readonly port: number;
  user: UpstreamUser | undefined;
  /** Requests written after the user's on this connection (pipelining), oldest first: each
   *  becomes the user in turn when the response before it is complete. */
  private followers: { user: UpstreamUser; headRequest: boolean }[] | undefined;
  connected = false;
  /** Served at least one request before: a failure without response bytes may be a stale close. */
  reused = false;
  error: Error | undefined;
  /** The pool's sweep count when parked; the sweep closes connections idle too long. */
  idleSince = 0;
  /** The socket's inactivity timeout now, so an unchanged value costs no timer re-arm. */
  private timeoutMs = -1;
  private readonly owner: UpstreamConnections;
  private readBuf: Buffer | undefined;
  /** Bytes at the start of readBuf that are (or may be) still referenced. */
  private readKept = 0;
  /** Reads land in NativeSocket's shared buffer (see shareReads). */
  private sharedReads = false;

  constructor(owner: UpstreamConnections, server: ServerState, user: UpstreamUser, connectTimeout: number, secure?: BackendTls) {
    this.owner = owner;
    this.server = server;
    this.host = server.host;
    this.port = server.port;
    this.user = user;
    // one closure per connection, for its whole life
    const onread = { buffer: () => this.nextReadBuffer(), callback: onRead };
    let s: net.Socket & TaggedSocket;
    if (secure === undefined) {
      s = net.connect({ host: server.host, port: server.port, noDelay: true, onread }) as net.Socket & TaggedSocket;
      s.on('connect', onConnect);
    } else {
      // connected means handshaken (and the certificate verified): a failed verification is a
      // failed connect, which the exchange retries elsewhere
      // tls.connect takes net's onread too (node's types leave it out)
      const extra: tls.ConnectionOptions & { onread: net.OnReadOpts } = { onread };
      s = secure.connect(server.host, server.port, extra) as tls.TLSSocket & TaggedSocket;
      s.setNoDelay(true);
      s.on('secureConnect', onSecureConnect);
    }
    s[kConn] = this;
    this.socket = s;
    if (connectTimeout > 0) this.setTimeout(connectTimeout);
    setListeners(s, LISTENERS, true);
    owner.open++;
  }

  /** socket.setTimeout only when the value changes: re-arming node's timer per request is not free,
   *  and socket activity refreshes it anyway. */
  setTimeout(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  /** Sends a request head. With `forwardTo`, a response of the common shape goes from the C side
   *  straight to that client socket (ending with `Connection: close` when `close`) and the user
   *  hears of it through onForwarded; any other response comes through the parser as usual. */
  writeRequestHead(head: string | Buffer, forwardTo: NativeSocket | undefined, headRequest: boolean, close: boolean): void {
    const s = this.socket;
    if (forwardTo !== undefined) {
      const n = s.native;
      if (n !== undefined) {
        n.forwardResponse(head, forwardTo, headRequest, close);
        return;
      }
    }
    holdWrites(s);
    s.write(head, 'latin1');
  }

  /**
   * Pipelining: sends the request behind those written to this connection in this turn, and the
   * response (which the C side forwards to `forwardTo`) to `user` once those before it are done.
   * False when the request cannot go here; nothing was written then.
   */
  appendRequest(user: UpstreamUser, head: string | Buffer, forwardTo: NativeSocket, headRequest: boolean, close: boolean, depth: number): boolean {
    const n = this.socket.native;
    if (this.user === undefined || n === undefined || !n.appendForward(head, forwardTo, headRequest, close, depth)) return false;
    (this.followers ??= []).push({ user, headRequest });
    return true;
  }

  /** A request waiting behind the user no longer wants its response (its client left): the
   *  response is read and dropped when it comes. False when `user` is not waiting here. */
  abandon(user: UpstreamUser): boolean {
    const f = this.followers;
    if (f === undefined) return false;
    for (const x of f) {
      if (x.user !== user) continue;
      x.user = abandoned(this);
      return true;
    }
    return false;
  }

  /** @internal the requests waiting behind the user, which the connection no longer serves */
  takeFollowers(): UpstreamUser[] | undefined {
    const f = this.followers;
    if (f === undefined || f.length === 0) return undefined;
    this.followers = undefined;
    return f.map((x) => x.user);
  }

  /** @internal the C side forwarded a response (see writeRequestHead) */
  forwarded(done: boolean, status: number, bodyBytes: number, keepAlive: boolean): void {
    this.parser.forwarded(done, keepAlive);
    this.user?.onForwarded(this, done, status, bodyBytes, keepAlive);
  }

  /** The user's response is over: the next pipelined request's turn, or the connection goes back
   *  to the pool when the exchange left it clean, closed otherwise. */
  done(reusable: boolean): void {
    this.user = undefined;
    const s = this.socket;
    const f = this.followers;
    if (f !== undefined && f.length > 0) {
      // not reusable: the requests behind hear of the close and are sent again elsewhere
      if (!reusable || s.destroyed) {
        s.destroy();
        return;
      }
      const next = f.shift()!;
      this.user = next.user;
      // the C side forwards it; the parser is ready for a response it hands over instead
      this.parser.reset(next.user, next.headRequest, true);
      if (s.isPaused()) s.resume();
      return;
    }
    if (!reusable || s.destroyed || !this.owner.park(this)) {
      s.destroy();
      return;
    }
    // paused for client backpressure by the response that just ended: the next user must read
    if (s.isPaused()) s.resume();
  }

  destroy(): void {
    this.user = undefined;
    this.socket.destroy();
  }

  private nextReadBuffer(): Buffer {
    const cur = this.readBuf;
    const kept = this.readKept;
    this.readKept = 0;
    if (cur !== undefined && kept === 0) return cur;
    this.readBuf = cur !== undefined && cur.length - kept >= READ_MIN ? cur.subarray(kept) : Buffer.allocUnsafeSlow(READ_BUF);
    return this.readBuf;
  }

  /** @internal `chunk` arrived at the start of this.readBuf */
  read(chunk: Buffer): void {
    const u = this.user;
    if (u === undefined) {
      // bytes from a server on an idle connection: nothing can use them safely
      this.socket.destroy();
      return;
    }
    this.readKept = chunk.length;
    const err = this.parser.execute(chunk);
    if (err !== undefined) {
      // after the response ended (bytes beyond it): the connection may not be reused
      if (this.user === undefined) this.socket.destroy();
      else this.user.onUpstreamBadResponse(this, err);
    }
    if (u.readReleased()) this.readKept = 0;
  }

  /** @internal connected: the C connection layer takes the socket over when it can */
  connectedNow(s: net.Socket): void {
    this.connected = true;
    s.off('connect', onConnect);
    const adopted = NativeSocket.adopt(s, { allowHalfOpen: true, highWater: 64 * 1024 });
    // else node's socket stays, reading through onread as set up
    if (adopted !== undefined) {
      // the closed node socket's events must not reach us
      setListeners(s, LISTENERS, false);
      const n = adopted.socket as NativeSocket & TaggedSocket;
      n[kConn] = this;
      this.socket = n;
      // reads start in the shared buffer; shareReads(false) gives the connection its own
      this.sharedReads = true;
      n.setReader(onNativeData);
      n.setForwardHandler(onNativeForward);
      setListeners(n, LISTENERS, true);
      const ms = this.timeoutMs;
      this.timeoutMs = -1;
      if (ms >= 0) this.setTimeout(ms);
    }
    this.user?.onUpstreamConnect(this);
  }

  /** @internal the TLS handshake is done: the connection stays on node's TLSSocket */
  securedNow(): void {
    this.connected = true;
    this.user?.onUpstreamConnect(this);
  }

  /**
   * Per exchange: with a user whose client copies every write, reads land in the shared buffer
   * (one buffer, hot in cache, for every connection) instead of this connection's own, which is
   * then let go.
   */
  shareReads(on: boolean): void {
    if (on === this.sharedReads) return;
    const n = this.socket.native;
    if (n === undefined) return;
    this.sharedReads = on;
    if (on) {
      this.readBuf = undefined;
      this.readKept = 0;
    }
    n.setReadBuffer(on ? undefined : this.nextReadBuffer());
  }

  /** @internal a read on `n` (this connection's socket): `chunk` is a view of the buffer set with
   *  setReadBuffer */
  nativeRead(n: NativeSocket, chunk: Buffer): void {
    if (this.sharedReads) {
      this.read(chunk);
      this.readKept = 0;
      return;
    }
    const cur = this.readBuf;
    this.read(chunk);
    if (n.destroyed) return;
    const next = this.nextReadBuffer();
    if (next !== cur) n.setReadBuffer(next);
  }

  /** @internal the socket closed */
  closedNow(): void {
    this.owner.closed(this);
  }
}

function conn(s: ByteStream): UpstreamConnection {
  return (s as TaggedSocket)[kConn];
}

function onConnect(this: net.Socket): void {
  conn(this).connectedNow(this);
}

function onSecureConnect(this: tls.TLSSocket): void {
  this.off('secureConnect', onSecureConnect);
  conn(this).securedNow();
}

function onNativeData(this: NativeSocket, chunk: Buffer): void {
  conn(this).nativeRead(this, chunk);
}

function onNativeForward(this: NativeSocket, done: boolean, status: number, bodyBytes: number, keepAlive: boolean): void {
  conn(this).forwarded(done, status, bodyBytes, keepAlive);
}

function onRead(this: net.Socket, nread: number, buf: Uint8Array): boolean {
  // buf is the Buffer nextReadBuffer() handed out
  conn(this).read((buf as Buffer).subarray(0, nread));
  return true;
}

function onEnd(this: ByteStream): void {
  const c = conn(this);
  if (c.user !== undefined) {
    const err = c.parser.finish();
    // finish() may have completed a close-delimited body, which detaches the user
    if (err !== undefined && c.user !== undefined) c.error ??= new Error(err);
  }
  this.destroy();
}

function onError(this: ByteStream, err: Error): void {
  conn(this).error ??= err;
}

function onClose(this: ByteStream): void {
  const c = conn(this);
  c.closedNow();
  const u = c.user;
  c.user = undefined;
  const waiting = c.takeFollowers();
  u?.onUpstreamClose(c, c.error);
  if (waiting !== undefined) for (const w of waiting) w.onUpstreamClose(c, c.error);
}

/** Stands in for a pipelined request whose client left: takes its response and moves on. */
function abandoned(c: UpstreamConnection): UpstreamUser {
  const destroy = (): void => c.destroy();
  return {
    onUpstreamConnect() {},
    onUpstreamDrain() {},
    onUpstreamBadResponse: destroy,
    onUpstreamTimeout: destroy,
    onForwarded(_conn, done, _status, _bodyBytes, keepAlive) {
      if (done) c.done(keepAlive);
    },
    onUpstreamClose() {},
    readReleased: () => true,
    onResponseHead() {},
    onResponseData() {},
    onResponseEnd() {
      c.done(c.parser.reusable);
    },
  };
}

function onTimeout(this: ByteStream): void {
  const c = conn(this);
  if (c.user === undefined) this.destroy();
  else c.user.onUpstreamTimeout(c);
}

function onDrain(this: ByteStream): void {
  const c = conn(this);
  c.user?.onUpstreamDrain(c);
}

const LISTENERS: ListenerSet = [
  ['end', onEnd],
  ['error', onError],
  ['close', onClose],
  ['timeout', onTimeout],
  ['drain', onDrain],
];

export class UpstreamConnections {
  /** Sockets open now (busy and idle), for stats and tests. */
  open = 0;
  private readonly idle = new Map<ServerState, UpstreamConnection[]>();
  /** Every open connection by server (busy and idle), so a lost route can end them all. */
  private readonly live = new Map<ServerState, Set<UpstreamConnection>>();
  /** Per server, the connection the last pipelinable request went to (see appendRequest). */
  private readonly pipelineTail = new WeakMap<ServerState, UpstreamConnection>();
  /** Servers whose responses pipelining could not follow: requests to them go one by one. */
  private readonly unpipelinable = new WeakSet<ServerState>();
  /** Servers whose last answer was big: requests to them are not pipelined until one is small. */
  private readonly answeringBig = new WeakSet<ServerState>();
  private sweeper: NodeJS.Timeout | undefined;

  /** An idle connection to `server`, or undefined. The caller then owns it. */
  take(server: ServerState, user: UpstreamUser): UpstreamConnection | undefined {
    const list = this.idle.get(server);
    if (list === undefined) return undefined;
    while (list.length > 0) {
      const c = list.pop()!;
      if (c.socket.destroyed || c.host !== server.host || c.port !== server.port) {
        c.socket.destroy();
        continue;
      }
      c.user = user;
      c.reused = true;
      return c;
    }
    return undefined;
  }

  /** The connection the next pipelined request to `server` may go behind, if any. */
  pipelineTarget(server: ServerState): UpstreamConnection | undefined {
    return this.unpipelinable.has(server) || this.answeringBig.has(server) ? undefined : this.pipelineTail.get(server);
  }

  /**
   * A response of `bodyBytes` came from `server` (pipelining backends only). Big answers are not
   * worth pipelining (the request's share of the cost is small next to the body's) and hold up the
   * answers behind them, whose clients then wait on the first client's reading: measured with
   * 64 KiB bodies, p99 went from 5 to 43 ms. So pipelining to a server pauses while its answers
   * are big.
   */
  answered(server: ServerState, bodyBytes: number): void {
    if (bodyBytes > PIPELINE_MAX_BODY) this.answeringBig.add(server);
    else this.answeringBig.delete(server);
  }

  /** `c` just took a request that others may follow. */
  setPipelineTarget(server: ServerState, c: UpstreamConnection): void {
    if (!this.unpipelinable.has(server)) this.pipelineTail.set(server, c);
  }

  /** The server answered in a way pipelining cannot follow; true the first time. */
  stopPipelining(server: ServerState): boolean {
    if (this.unpipelinable.has(server)) return false;
    this.unpipelinable.add(server);
    this.pipelineTail.delete(server);
    return true;
  }

  /** A new connection to `server`; over TLS with `secure` (the backend pool's tls). */
  connect(server: ServerState, user: UpstreamUser, connectTimeout: number, secure?: BackendTls): UpstreamConnection {
    const c = new UpstreamConnection(this, server, user, connectTimeout, secure);
    let set = this.live.get(server);
    if (set === undefined) this.live.set(server, (set = new Set()));
    set.add(c);
    return c;
  }

  /**
   * A connect to `server` failed with no route (EINVAL from a blackhole route, ENETUNREACH,
   * EHOSTUNREACH): nothing sent on its established connections can arrive either, and TCP would
   * only retransmit silently until the server timeout. End them now: their requests without an
   * answer yet are resent (and fail over, or go to the peer) instead of hanging.
   */
  routeLost(server: ServerState): void {
    const set = this.live.get(server);
    if (set === undefined) return;
    for (const c of [...set]) {
      if (!c.connected) continue;
      c.error ??= new Error('no route to server');
      c.socket.destroy();
    }
  }

  /** @internal Puts a clean connection on its server's idle list; false when the list is full. */
  park(c: UpstreamConnection): boolean {
    let list = this.idle.get(c.server);
    if (list === undefined) {
      list = [];
      this.idle.set(c.server, list);
    }
    if (list.length >= MAX_IDLE_PER_SERVER) return false;
    // whatever takes it next from the pool (a POST, say) must not be followed by pipelined GETs
    if (this.pipelineTail.get(c.server) === c) this.pipelineTail.delete(c.server);
    // no timer and no clock read per park: a sweep counts time and closes what stayed idle too
    // long (the socket keeps its server timeout, which also closes it if the sweep is late).
    // Parked sockets stay referenced: shutdown closes them (closeIdle), and so does the sweep.
    c.idleSince = this.sweeps;
    list.push(c);
    this.sweeper ??= setInterval(this.sweep, IDLE_SWEEP_MS).unref();
    return true;
  }

  /** Sweeps done so far: the pool's clock for idle sockets. */
  private sweeps = 0;

  private readonly sweep = (): void => {
    const limit = ++this.sweeps - IDLE_SWEEPS;
    let left = 0;
    for (const list of this.idle.values()) {
      // LIFO: the oldest are at the front
      let n = 0;
      while (n < list.length && list[n]!.idleSince <= limit) n++;
      if (n > 0) for (const c of list.splice(0, n)) c.socket.destroy();
      left += list.length;
    }
    if (left === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  };

  /** @internal */
  closed(c: UpstreamConnection): void {
    this.open--;
    const set = this.live.get(c.server);
    if (set !== undefined && set.delete(c) && set.size === 0) this.live.delete(c.server);
    if (this.pipelineTail.get(c.server) === c) this.pipelineTail.delete(c.server);
    const list = this.idle.get(c.server);
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
  }

  idleCount(): number {
    let n = 0;
    for (const l of this.idle.values()) n += l.length;
    return n;
  }

  /** Closes every idle connection (shutdown, reload dropping a server). */
  closeIdle(): void {
    for (const list of this.idle.values()) for (const c of list.splice(0)) c.socket.destroy();
    this.idle.clear();
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
