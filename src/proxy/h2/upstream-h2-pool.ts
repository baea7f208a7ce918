// HTTP/2 sessions from halb to the servers of `proto: h2` backends: h2c (prior knowledge), or h2
// over TLS (ALPN h2) with the backend's tls. A few sessions per server carry every stream to it;
// a stream goes to the first session with room under the server's SETTINGS_MAX_CONCURRENT_STREAMS,
// a new session opens when all are full (up to maxSessionsPerServer), and beyond that requests
// wait for a stream to end. A session that fails, closes or is sent GOAWAY takes no new streams
// (the next request opens another: reconnect is lazy); one left without streams is closed after
// the idle timeout. node's http2 (nghttp2) does the framing, HPACK and flow control.
//
// A caller learns whether its server could be reached at all: a connect failure (refused, TLS
// verification, timeout) comes back as `connectError`, so the relay can redispatch it like the
// HTTP/1.1 exchange does, knowing nothing was sent.
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ServerState } from '../../pool/server-state.ts';
import type { BackendTls } from '../../pool/backend-tls.ts';

/** Streams a session is assumed to take until the server's SETTINGS say (RFC 9113 6.5.2 asks
 *  servers for at least 100). */
const DEFAULT_MAX_STREAMS = 100;

export interface H2PoolOptions {
  /** Sessions opened to one server at most; default 4. */
  maxSessionsPerServer?: number;
  /** A session without streams for this long is closed; default 30 s. */
  idleTimeoutMs?: number;
}

export interface H2StreamRequest {
  headers: http2.OutgoingHttpHeaders;
  /** Waiting for the TCP + TLS + h2 preface to complete; 0 = no limit. */
  connectTimeout: number;
  /** The request has no body (END_STREAM on its HEADERS). */
  endStream?: boolean;
}

export type H2StreamResult =
  | { stream: http2.ClientHttp2Stream; connectError?: undefined }
  | { stream?: undefined; connectError: Error };

interface Waiter {
  req: H2StreamRequest;
  cb: (r: H2StreamResult) => void;
}

class SessionEntry {
  readonly session: http2.ClientHttp2Session;
  readonly owner: ServerSessions;
  connected = false;
  /** GOAWAY, error or close: no new streams. */
  retired = false;
  active = 0;
  idleTimer: NodeJS.Timeout | undefined;
  /** Streams waiting for this session to connect. */
  readonly pending: Waiter[] = [];

  constructor(session: http2.ClientHttp2Session, owner: ServerSessions) {
    this.session = session;
    this.owner = owner;
  }

  get maxStreams(): number {
    const m = this.connected ? this.session.remoteSettings.maxConcurrentStreams : undefined;
    // node reports the protocol's "unlimited" as 2^32-1
    return m === undefined || m === 0xffffffff ? DEFAULT_MAX_STREAMS : m;
  }

  hasRoom(): boolean {
    return !this.retired && this.active + this.pending.length < this.maxStreams;
  }
}

interface ServerSessions {
  sessions: SessionEntry[];
  /** Requests waiting for a stream slot: every session full and no more may open. */
  waiting: Waiter[];
}

export class UpstreamH2Pool {
  private readonly byServer = new Map<ServerState, ServerSessions>();
  private readonly maxSessions: number;
  private readonly idleMs: number;
  private closed = false;

  constructor(opts: H2PoolOptions = {}) {
    this.maxSessions = opts.maxSessionsPerServer ?? 4;
    this.idleMs = opts.idleTimeoutMs ?? 30_000;
  }

  /** Open sessions (connecting or connected, not retired), for stats and tests. */
  sessionCount(server?: ServerState): number {
    let n = 0;
    for (const [s, ss] of this.byServer) if (server === undefined || s === server) n += ss.sessions.filter((e) => !e.retired).length;
    return n;
  }

  /** A stream to `server` for `req`, or the connect error that kept it from the server. */
  request(server: ServerState, secure: BackendTls | undefined, req: H2StreamRequest, cb: (r: H2StreamResult) => void): void {
    if (this.closed) {
      cb({ connectError: new Error('upstream h2 pool closed') });
      return;
    }
    let ss = this.byServer.get(server);
    if (ss === undefined) this.byServer.set(server, (ss = { sessions: [], waiting: [] }));
    const w: Waiter = { req, cb };
    const room = ss.sessions.find((e) => e.hasRoom());
    if (room !== undefined) return this.place(room, w);
    if (ss.sessions.filter((e) => !e.retired).length < this.maxSessions) return this.place(this.open(server, secure, ss, req.connectTimeout), w);
    ss.waiting.push(w);
  }

  /** Closes every session (shutdown): streams on them end, waiting requests fail. */
  close(): void {
    this.closed = true;
    for (const ss of this.byServer.values()) {
      for (const w of ss.waiting.splice(0)) w.cb({ connectError: new Error('upstream h2 pool closed') });
      for (const e of ss.sessions) e.session.destroy();
    }
    this.byServer.clear();
  }

  private place(e: SessionEntry, w: Waiter): void {
    if (!e.connected) {
      e.pending.push(w);
      return;
    }
    this.start(e, w);
  }

  private start(e: SessionEntry, w: Waiter): void {
    if (e.idleTimer !== undefined) {
      clearTimeout(e.idleTimer);
      e.idleTimer = undefined;
    }
    let stream: http2.ClientHttp2Stream;
    try {
      stream = e.session.request(w.req.headers, { endStream: w.req.endStream === true });
    } catch (err) {
      // the session went away between the check and the call: nothing was sent
      w.cb({ connectError: err as Error });
      return;
    }
    e.active++;
    stream.once('close', () => this.streamDone(e));
    w.cb({ stream });
  }

  private streamDone(e: SessionEntry): void {
    e.active--;
    const ss = e.owner;
    // a slot freed: the oldest waiter takes it
    if (!e.retired && ss.waiting.length > 0) {
      this.start(e, ss.waiting.shift()!);
      return;
    }
    this.armIdle(e);
  }

  private armIdle(e: SessionEntry): void {
    if (e.active > 0 || e.retired || e.idleTimer !== undefined) return;
    e.idleTimer = setTimeout(() => {
      e.retired = true;
      e.session.close();
    }, this.idleMs);
    e.idleTimer.unref();
  }

  /** The session opens for a request; that request's connect timeout bounds it. */
  private open(server: ServerState, secure: BackendTls | undefined, ss: ServerSessions, connectTimeout: number): SessionEntry {
    const host = server.host.includes(':') ? `[${server.host}]` : server.host;
    const authority = `${secure === undefined ? 'http' : 'https'}://${host}:${server.port}`;
    // our own socket, so it is set up as halb's HTTP/1.1 upstream sockets are (no Nagle: a
    // small HEADERS frame must not wait for the ACK of the last one); http2 forbids touching it later
    const createConnection = (): Duplex =>
      secure === undefined
        ? net.connect({ host: server.host, port: server.port, noDelay: true })
        : secure.connect(server.host, server.port, { ALPNProtocols: ['h2'] }).setNoDelay(true);
    const session = http2.connect(authority, { createConnection });
    const e = new SessionEntry(session, ss);
    ss.sessions.push(e);
    const connectFailed = (err: Error): void => {
      clearTimeout(timer);
      if (e.retired && e.pending.length === 0) return;
      e.retired = true;
      for (const w of e.pending.splice(0)) w.cb({ connectError: err });
      // the requests that waited for room are not this session's: they try again
      this.retryWaiting(server, secure, ss);
      session.destroy();
    };
    // a connect that hangs (a blackholed server) fails like a refused one
    const timer = connectTimeout > 0 ? setTimeout(() => connectFailed(new Error('connect timeout')), connectTimeout) : undefined;
    session.once('connect', () => {
      clearTimeout(timer);
      e.connected = true;
      for (const w of e.pending.splice(0)) this.start(e, w);
      this.armIdle(e);
    });
    session.on('remoteSettings', () => {
      // the server may allow more than assumed: waiters can go now
      while (ss.waiting.length > 0 && e.hasRoom() && e.connected) this.start(e, ss.waiting.shift()!);
    });
    session.once('goaway', () => {
      e.retired = true;
    });
    session.on('error', (err: Error) => {
      if (!e.connected) connectFailed(err);
      else e.retired = true;
    });
    session.once('close', () => {
      if (!e.connected) connectFailed(new Error('connection closed before the HTTP/2 preface'));
      e.retired = true;
      if (e.idleTimer !== undefined) clearTimeout(e.idleTimer);
      const i = ss.sessions.indexOf(e);
      if (i >= 0) ss.sessions.splice(i, 1);
      this.retryWaiting(server, secure, ss);
    });
    return e;
  }

  /** Requests waiting for room after a session went away: placed again (maybe opening another). */
  private retryWaiting(server: ServerState, secure: BackendTls | undefined, ss: ServerSessions): void {
    if (this.closed) return;
    const again = ss.waiting.splice(0);
    for (const w of again) this.request(server, secure, w.req, w.cb);
  }
}
