// One HTTP request through the proxy: route, take a server slot, borrow or open a keep-alive
// connection, send the head and stream the body, relay the response, retry what may be retried,
// answer 502/503/504 when it must, give the slot back exactly once and write the access log line.
// Event listeners are module-level functions finding the exchange through a symbol on the emitter,
// so no closures are allocated per request.
import type { IncomingHttpHeaders } from 'node:http';
import type { NativeSocket } from '../native/native-socket.ts';
import type { ByteStream } from '../byte-stream.ts';
import type { Logger } from '../../log/logger.ts';
import type { BackendPool, AcquireFailure, Outcome } from '../../pool/backend-pool.ts';
import type { ServerState } from '../../pool/server-state.ts';
import type { PickRequest } from '../../balance/policy.ts';
import type { RouteTable, RouteInput } from '../route-table.ts';
import { applyHeaderOps, type CompiledHeaderOp } from './header-ops.ts';
import { tlsFacts } from '../tls/tls-facts.ts';
import { buildRequestHead, type ForwardingOptions, type RequestHead } from './request-head.ts';
import type { ResponseSink } from './response-parser.ts';
import type { UpstreamConnection, UpstreamConnections, UpstreamUser } from '../upstream-connections.ts';
import { retryStep, retryCounter, triedWith } from '../retry-policy.ts';
import { readCookie, persistenceCookie } from './cookie-persistence.ts';
import { accessTls, span, type AccessEntry, type AccessLog, type Termination } from '../access-log.ts';
import { sendError } from './error-responses.ts';
import { clientIp, clientPort } from '../client-address.ts';
import { holdWrites } from '../native/write-batch.ts';
import type { TrafficCounters, TrafficStats } from '../traffic-stats.ts';
import { choosePeerFallback, PEER_MARK_HEADER } from '../../pool/peer-fallback.ts';

/** connect() errors that mean the kernel has no route to the server (see UpstreamConnections.routeLost). */
const NO_ROUTE = new Set(['EINVAL', 'ENETUNREACH', 'EHOSTUNREACH']);

/** What a frontend shares with its exchanges; swapped as a whole on reload. */
export interface FrontendRuntime {
  name: string;
  routes: RouteTable;
  forwarding: ForwardingOptions;
  responseOps: readonly CompiledHeaderOp[];
  pools: ReadonlyMap<string, BackendPool>;
  /** Stand-in servers for the peer node, by backend (peer_fallback; proxy/http1/peer-forward.ts). */
  peers: ReadonlyMap<string, ServerState>;
  /** The value of the peer mark this node adds. */
  peerMark: string;
  upstream: UpstreamConnections;
  log: Logger;
  accessLog: AccessLog | undefined;
  /** Called once per exchange when it is over (graceful shutdown counts these). */
  exchangeDone(): void;
  /** This process's traffic counters; `counters` is this frontend's, looked up once. */
  traffic: TrafficStats;
  counters: TrafficCounters;
  /** What the client spoke, for X-Forwarded-Proto and Forwarded: http or https (a TLS frontend). */
  proto: 'http' | 'https';
}

/** The client's request: node's IncomingMessage, or a SimpleClientRequest (no body). */
export interface ExchangeRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: ByteStream;
  /** The head as the client sent it, when it can be forwarded byte for byte; optional. */
  plainHead?(): Buffer | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node's own listener type
  on(event: string, listener: (...args: any[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** The answer to the client: node's ServerResponse, or a SimpleClientResponse writing raw bytes. */
export interface ExchangeResponse {
  statusCode: number;
  readonly headersSent: boolean;
  shouldKeepAlive: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node's own listener type
  on(event: string, listener: (...args: any[]) => void): unknown;
  writeHead(status: number, reason: string, headers: string[]): unknown;
  /** The client socket the C side may send the server's response to directly (see
   *  UpstreamConnection.writeRequestHead); decides shouldKeepAlive for it. Optional. */
  forwardTarget?(): NativeSocket | undefined;
  /** The C side sent a response head with this status to the client. */
  forwardedHead?(status: number): void;
  /** The server's head forwarded as bytes (framed by Content-Length or bodiless); optional. */
  writeRawHead?(status: number, head: Buffer, bodyIncluded: number): void;
  /** True when nothing written so far is still queued in node (so no written chunk is referenced);
   *  optional, absent means "maybe queued". */
  flushed?(): boolean;
  /** Every write is copied or sent before write() returns (C-layer clients): the bytes the
   *  server's response was read into can be overwritten as soon as they are handed over. */
  readonly copiesWrites?: boolean;
  write(chunk: Buffer): boolean;
  end(data?: string): unknown;
  destroy(): unknown;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

const kEx = Symbol('halb.exchange');
type Tagged<T> = T & { [kEx]: HttpExchange };

export class HttpExchange implements UpstreamUser, ResponseSink, RouteInput, PickRequest {
  // RouteInput / PickRequest
  readonly method: string;
  readonly url: string;
  readonly host: string | undefined;
  readonly sourceIp: string;
  readonly uri: string;
  readonly random = Math.random;

  private readonly rt: FrontendRuntime;
  private readonly req: ExchangeRequest;
  private readonly res: ExchangeResponse;
  private pool: BackendPool | undefined;
  /** The acquired server slot; undefined once released. */
  private server: ServerState | undefined;
  private serverName: string | undefined;
  private conn: UpstreamConnection | undefined;
  /** What goes to the server: built by buildRequestHead, or the client's own bytes (plainHead). */
  private head: (Omit<RequestHead, 'head'> & { head: string | Buffer }) | undefined;
  private tried: Set<ServerState> | undefined;
  private retries = 0;
  private staleRetried = false;
  /** The request went behind another on its connection (pipelining). */
  private pipelined = false;
  private persisted = false;
  /** Sent to the peer node: never again to anyone else. */
  private viaPeer = false;
  private bodyStarted = false;
  private bodySent = false;
  private responseStarted = false;
  private resDrainHooked = false;
  private finished = false;
  private termination: Termination = 'ok';
  private bytesIn = 0;
  private bytesOut = 0;
  /** Status sent to the client (0: none yet). */
  private status = 0;
  private backendCounters: TrafficCounters | undefined;
  private serverCounters: TrafficCounters | undefined;
  /** tq and tc are only read for the access log; t0 and tr always (response-time histogram). */
  private readonly timed: boolean;
  private readonly t0: number;
  private tq = -1;
  private tc = -1;
  private tr = -1;

  constructor(rt: FrontendRuntime, req: ExchangeRequest, res: ExchangeResponse, host: string | undefined) {
    this.rt = rt;
    this.req = req;
    this.res = res;
    this.timed = rt.accessLog?.enabled === true;
    // t0 and tr are always read: the response-time histogram needs them.
    this.t0 = performance.now();
    this.method = req.method ?? 'GET';
    this.url = req.url ?? '/';
    this.uri = this.url;
    this.host = host;
    this.sourceIp = clientIp(req.socket);
  }

  private clock(): number {
    return this.timed ? performance.now() : 0;
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return typeof v === 'string' ? v : v === undefined ? undefined : v[0];
  }

  start(): void {
    (this.res as Tagged<ExchangeResponse>)[kEx] = this;
    this.res.on('close', onResClose);
    const backend = this.rt.routes.route(this);
    const pool = backend === undefined ? undefined : this.rt.pools.get(backend);
    if (pool === undefined) {
      this.rt.log.warn({ frontend: this.rt.name, backend, url: this.url }, 'no backend for request');
      this.fail(503, 'no-backend');
      return;
    }
    if (pool.config.proto === 'h2') {
      // its servers speak HTTP/2 only (gRPC): an HTTP/1.1 request has no stream to become
      this.rt.log.warn({ frontend: this.rt.name, backend: pool.name, url: this.url }, 'HTTP/1.1 request routed to a proto h2 backend: answered 502 (send it over HTTP/2)');
      this.fail(502, 'proto-mismatch');
      return;
    }
    this.pool = pool;
    this.backendCounters = this.rt.traffic.backend(pool.name);
    this.backendCounters.connect();
    const fw = this.rt.forwarding;
    // nothing to add, rewrite or remove: the client's bytes go as they came
    const plain = !fw.forwardfor && !fw.forwarded && fw.requestOps.length === 0 && fw.clientCert === undefined ? this.req.plainHead?.() : undefined;
    const h =
      plain !== undefined
        ? { ok: true as const, head: plain, framing: 'none' as const, contentLength: 0, host: this.host }
        : buildRequestHead(
            { method: this.method, url: this.url, rawHeaders: this.req.rawHeaders, clientIp: this.sourceIp, proto: this.rt.proto, upgrade: false, tls: tlsFacts(this.req.socket) },
            fw,
          );
    if (!h.ok) {
      this.rt.log.info({ frontend: this.rt.name, client: this.sourceIp, reason: h.reason }, 'request rejected');
      this.fail(h.status, 'bad-request', true);
      return;
    }
    this.head = h;
    const cookie = pool.config.cookie;
    if (cookie !== undefined) {
      const wanted = readCookie(this.header('cookie'), cookie.name);
      if (wanted !== undefined) {
        const s = pool.acquireNamed(wanted);
        if (s !== undefined) {
          this.persisted = true;
          this.useServer(s);
          return;
        }
      }
    }
    this.acquire(this.tried);
  }

  private acquire(exclude: ReadonlySet<ServerState> | undefined): void {
    const r = this.pool!.acquire(this, exclude);
    if (r instanceof Promise) {
      r.then(
        (x) => this.acquired(x),
        (err: unknown) => {
          this.rt.log.error({ err }, 'backend pool acquire failed');
          this.acquired('no-server');
        },
      );
    } else {
      this.acquired(r);
    }
  }

  private acquired(r: ServerState | AcquireFailure): void {
    if (typeof r === 'string') {
      if (this.finished) return;
      if (r === 'no-server' && this.tried !== undefined && this.tried.size > 0) {
        // every other server was tried: retry the last one rather than give up early
        const last = this.pool!.acquireNamed(this.serverName!);
        if (last !== undefined) {
          this.useServer(last);
          return;
        }
      }
      if (r === 'no-server' && this.toPeer(false)) return;
      const lastWasConnect = this.retries > 0;
      if (r !== 'no-server' || !lastWasConnect) {
        this.rt.log.warn({ frontend: this.rt.name, backend: this.pool!.name, reason: r }, 'no server available');
      }
      this.fail(503, lastWasConnect && r === 'no-server' ? 'connect-error' : r);
      return;
    }
    this.useServer(r);
  }

  /** No own server: hand the request to the peer node, marked, when peer-fallback.ts says so.
   *  `exhausted`: the retries all failed to connect, so none counts as usable for this request. */
  private toPeer(exhausted: boolean): boolean {
    const peer = this.rt.peers.get(this.pool!.name);
    if (peer === undefined || this.viaPeer || this.bodyStarted) return false;
    // A server this request already failed to connect to is not usable for it, even while
    // health has not marked it down yet (the last of three cut servers, seen in CI as a 503).
    const tried = this.tried;
    const usable = exhausted ? 0 : tried === undefined ? this.pool!.eligibleServers.length : this.pool!.eligibleServers.filter((s) => !tried.has(s)).length;
    const choice = choosePeerFallback({
      usableServers: usable,
      enabled: true,
      peerUp: peer.up,
      marked: this.header(PEER_MARK_HEADER) !== undefined,
    });
    if (choice !== 'peer') return false;
    const fw = this.rt.forwarding;
    const h = buildRequestHead(
      { method: this.method, url: this.url, rawHeaders: this.req.rawHeaders, clientIp: this.sourceIp, proto: this.rt.proto, upgrade: false, tls: tlsFacts(this.req.socket) },
      { ...fw, requestOps: [...fw.requestOps, { action: 'set', name: 'X-Halb-Peer', lower: PEER_MARK_HEADER, value: this.rt.peerMark }] },
    );
    if (!h.ok) return false;
    this.head = h;
    this.viaPeer = true;
    this.useServer(peer);
    return true;
  }

  private useServer(s: ServerState): void {
    if (this.finished) {
      // the client left while the request waited for a slot
      this.pool!.release(s, 'ok');
      return;
    }
    this.server = s;
    this.serverName = s.name;
    this.serverCounters = this.rt.traffic.server(this.pool!.name, s.name);
    this.serverCounters.connect();
    if (this.tq < 0) this.tq = this.clock();
    const up = this.rt.upstream;
    if (this.pipelinable && this.appendTo(up.pipelineTarget(s))) return;
    const idle = this.staleRetried ? undefined : up.take(s, this);
    if (idle !== undefined) {
      this.conn = idle;
      if (this.tc < 0) this.tc = this.tq;
      this.sendHead(idle);
    } else {
      this.conn = up.connect(s, this, this.pool!.config.timeouts.connect, this.pool!.tls);
    }
  }

  /** Pipelining: the request behind those just written to `conn`, if both allow it. */
  private appendTo(conn: UpstreamConnection | undefined): boolean {
    if (conn === undefined) return false;
    const forwardTo = this.forwardTarget(this.rawResponse());
    if (forwardTo === undefined) return false;
    if (!conn.appendRequest(this, this.head!.head, forwardTo, this.method === 'HEAD', !this.res.shouldKeepAlive, this.pool!.config.pipeline)) return false;
    this.conn = conn;
    this.pipelined = true;
    if (this.tc < 0) this.tc = this.tq;
    this.bodySent = true;
    return true;
  }

  /** May go behind another request on a connection, or have others go behind it: the backend
   *  pipelines, and the request may be sent again (a pipelined request may have to be, when the
   *  server closes before answering it) and is not a retry. With a forward target, it also has no
   *  body. */
  private get pipelinable(): boolean {
    return this.pool!.config.pipeline > 1 && !this.staleRetried && (this.method === 'GET' || this.method === 'HEAD');
  }

  /** Heads no rule rewrites and no cookie is added to are forwarded as the server sent them. */
  private rawResponse(): boolean {
    const cookie = this.pool!.config.cookie;
    return this.res.writeRawHead !== undefined && this.rt.responseOps.length === 0 && (cookie === undefined || this.persisted);
  }

  /** ... and when both sockets are the C layer's, without passing through JavaScript at all. */
  private forwardTarget(raw: boolean): NativeSocket | undefined {
    return raw && this.head!.framing === 'none' ? this.res.forwardTarget?.() : undefined;
  }

  onUpstreamConnect(conn: UpstreamConnection): void {
    this.tc = this.clock();
    this.sendHead(conn);
  }

  private sendHead(conn: UpstreamConnection): void {
    const raw = this.rawResponse();
    const headRequest = this.method === 'HEAD';
    conn.parser.reset(this, headRequest, raw);
    conn.shareReads(this.res.copiesWrites === true);
    conn.setTimeout(this.pool!.config.timeouts.server);
    const forwardTo = this.forwardTarget(raw);
    conn.writeRequestHead(this.head!.head, forwardTo, headRequest, !this.res.shouldKeepAlive);
    if (forwardTo !== undefined && this.pipelinable) this.rt.upstream.setPipelineTarget(conn.server, conn);
    if (this.head!.framing === 'none') {
      this.bodySent = true;
    } else if (!this.bodyStarted) {
      this.bodyStarted = true;
      const req = this.req as Tagged<ExchangeRequest>;
      req[kEx] = this;
      req.on('data', onReqData);
      req.on('end', onReqEnd);
    } else {
      // a retry can only happen before body bytes went out (see mayResend), so this is unreachable
      conn.destroy();
    }
  }

  /** @internal request body bytes from the client */
  reqData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    const conn = this.conn;
    if (conn === undefined || conn.socket.destroyed) return;
    const s = conn.socket;
    let ok: boolean;
    if (this.head!.framing === 'chunked') {
      s.cork();
      s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      s.write(chunk);
      ok = s.write('\r\n', 'latin1');
      s.uncork();
    } else {
      ok = s.write(chunk);
    }
    if (!ok) this.req.pause();
  }

  /** @internal */
  reqEnd(): void {
    this.bodySent = true;
    const conn = this.conn;
    if (conn === undefined || conn.socket.destroyed) return;
    if (this.head!.framing === 'chunked') conn.socket.write('0\r\n\r\n', 'latin1');
  }

  readReleased(): boolean {
    return this.res.flushed?.() === true;
  }

  onUpstreamDrain(): void {
    if (this.bodyStarted && !this.bodySent) this.req.resume();
  }

  onResponseHead(status: number, reason: string, headers: string[], _contentLength: number, _keepAlive: boolean): void {
    this.tr = performance.now();
    this.status = status;
    this.responseStarted = true;
    const cookie = this.pool!.config.cookie;
    if (cookie !== undefined && !this.persisted) headers.push('Set-Cookie', persistenceCookie(cookie, this.serverName!));
    const ops = this.rt.responseOps;
    if (ops.length > 0) applyHeaderOps(ops, headers);
    holdWrites(this.req.socket);
    try {
      this.res.writeHead(status, reason, headers);
    } catch (err) {
      // node refuses some values the parser let through (e.g. a status it does not accept)
      this.rt.log.warn({ err, server: this.serverName }, 'response head refused');
      this.responseStarted = false;
      this.conn?.destroy();
      this.conn = undefined;
      this.releaseServer('server-error');
      this.fail(502, 'bad-response');
    }
  }

  onResponseRawHead(status: number, head: Buffer, _contentLength: number, _keepAlive: boolean, bodyIncluded: number): void {
    this.bytesOut += bodyIncluded;
    this.tr = performance.now();
    this.status = status;
    this.responseStarted = true;
    holdWrites(this.req.socket);
    this.res.writeRawHead!(status, head, bodyIncluded);
  }

  onForwarded(_conn: UpstreamConnection, done: boolean, status: number, bodyBytes: number): void {
    if (!this.responseStarted) {
      this.tr = performance.now();
      this.status = status;
      this.responseStarted = true;
      this.res.forwardedHead!(status);
    }
    if (!done) return;
    this.bytesOut += bodyBytes;
    if (this.pool!.config.pipeline > 1) this.rt.upstream.answered(this.server!, bodyBytes);
    this.onResponseEnd();
  }

  onResponseData(chunk: Buffer): void {
    if (this.finished) return;
    this.bytesOut += chunk.length;
    if (!this.res.write(chunk)) {
      this.conn?.socket.pause();
      if (!this.resDrainHooked) {
        this.resDrainHooked = true;
        this.res.on('drain', onResDrain);
      }
    }
  }

  /** @internal the client can take more response bytes */
  resDrain(): void {
    this.conn?.socket.resume();
  }

  onResponseEnd(): void {
    const conn = this.conn;
    this.conn = undefined;
    if (conn !== undefined) conn.done(conn.parser.reusable && this.bodySent);
    if (!this.bodySent && this.bodyStarted) this.req.resume(); // the rest of the body is dropped
    this.releaseServer('ok');
    if (!this.finished) this.res.end();
    this.complete();
  }

  onUpstreamBadResponse(conn: UpstreamConnection, reason: string): void {
    conn.destroy();
    this.conn = undefined;
    this.rt.log.warn({ frontend: this.rt.name, backend: this.pool!.name, server: this.serverName, reason }, 'bad response from server');
    this.releaseServer('server-error');
    if (!this.responseStarted) this.fail(502, 'bad-response');
    else this.abortClient('bad-response');
  }

  onUpstreamTimeout(conn: UpstreamConnection): void {
    conn.destroy();
    this.conn = undefined;
    if (!conn.connected) {
      this.connectFailed(new Error('connect timeout'));
      return;
    }
    this.rt.log.warn({ frontend: this.rt.name, backend: this.pool!.name, server: this.serverName }, 'server timeout');
    this.releaseServer('timeout');
    if (!this.responseStarted) this.fail(504, 'server-timeout');
    else this.abortClient('server-timeout');
  }

  onUpstreamClose(conn: UpstreamConnection, err: Error | undefined): void {
    this.conn = undefined;
    if (!conn.connected) {
      this.connectFailed(err);
      return;
    }
    // the C side could not follow the server's answers to pipelined requests (see forward.c)
    const unfollowed = (err as NodeJS.ErrnoException | undefined)?.syscall === 'pipeline';
    if (unfollowed && this.rt.upstream.stopPipelining(conn.server)) {
      this.rt.log.warn(
        { frontend: this.rt.name, backend: this.pool!.name, server: this.serverName },
        'server answered pipelined requests in a shape halb cannot follow: requests to it go one at a time from now on',
      );
    }
    if (!this.responseStarted) {
      const resendable = this.mayResend();
      if ((conn.reused || this.pipelined || unfollowed) && !this.staleRetried && resendable) {
        // a pooled connection the server closed just as it was reused, or one closed before it
        // answered the requests pipelined on it: same server, new socket
        this.staleRetried = true;
        this.useServer(this.server!);
        return;
      }
      const step = retryStep(this.pool!.config, this.retries, resendable);
      this.rt.log.warn(
        { frontend: this.rt.name, backend: this.pool!.name, server: this.serverName, err: err?.message, retry: step !== 'give-up' },
        'server closed before responding',
      );
      if (step !== 'give-up') {
        this.retryElsewhere('server-error', step);
        return;
      }
      this.releaseServer('server-error');
      this.fail(502, 'server-error');
      return;
    }
    this.rt.log.warn({ frontend: this.rt.name, backend: this.pool!.name, server: this.serverName, err: err?.message }, 'server closed mid-response');
    this.releaseServer('server-error');
    this.abortClient('server-error');
  }

  /** Request bytes may be sent again: idempotent method and no body bytes consumed. */
  private mayResend(): boolean {
    return IDEMPOTENT.has(this.method) && this.head!.framing === 'none';
  }

  private connectFailed(err: Error | undefined): void {
    const pool = this.pool!;
    if (this.server !== undefined && NO_ROUTE.has((err as NodeJS.ErrnoException | undefined)?.code ?? '')) this.rt.upstream.routeLost(this.server);
    const step = retryStep(pool.config, this.retries, !this.finished);
    this.rt.log.warn(
      { frontend: this.rt.name, backend: pool.name, server: this.serverName, err: err?.message, retry: step !== 'give-up' },
      'connect to server failed',
    );
    if (step === 'give-up') {
      this.releaseServer('connect-error');
      // every try failed to connect: for this request no own server is usable, whatever health says yet
      if (!this.finished && this.toPeer(true)) return;
      this.fail(503, 'connect-error');
      return;
    }
    this.retryElsewhere('connect-error', step);
  }

  private retryElsewhere(outcome: Outcome, step: 'same-server' | 'redispatch'): void {
    const s = this.server!;
    this.releaseServer(outcome);
    this.retries++;
    this.staleRetried = false;
    const counter = retryCounter(step);
    this.backendCounters![counter]++;
    this.serverCounters![counter]++;
    if (step === 'redispatch') {
      this.tried = triedWith(this.tried, s);
      this.acquire(this.tried);
    } else {
      const same = this.pool!.acquireNamed(s.name);
      if (same !== undefined) this.useServer(same);
      else this.acquire(undefined);
    }
  }

  private releaseServer(outcome: Outcome): void {
    const s = this.server;
    if (s === undefined) return;
    this.server = undefined;
    this.serverCounters!.disconnect();
    // the peer stand-in belongs to no pool (its policy must not count it)
    if (s.index >= 0) this.pool!.release(s, outcome);
  }

  private fail(status: number, termination: Termination, close = false): void {
    this.termination = termination;
    if (!this.finished) {
      this.status = status;
      sendError(this.res, status, close);
    }
    this.complete();
  }

  private abortClient(termination: Termination): void {
    this.termination = termination;
    this.res.destroy();
    this.complete();
  }

  /** @internal the client's response stream closed (finished, or the client went away) */
  resClosed(): void {
    if (this.finished) return;
    this.termination = 'client-abort';
    const conn = this.conn;
    this.conn = undefined;
    // a request waiting behind others leaves them be; its response is dropped when it comes
    if (conn !== undefined && !conn.abandon(this)) conn.destroy();
    this.releaseServer('ok');
    this.complete();
  }

  /** Adds this exchange to its frontend's, backend's and last server's counters. */
  private count(): void {
    const seconds = this.tr >= 0 ? (this.tr - this.t0) / 1000 : -1;
    const fc = this.rt.counters;
    add(fc, this.status, this.bytesIn, this.bytesOut, seconds);
    const bc = this.backendCounters;
    if (bc === undefined) return;
    bc.disconnect();
    add(bc, this.status, this.bytesIn, this.bytesOut, seconds);
    const sc = this.serverCounters;
    if (sc !== undefined) add(sc, this.status, this.bytesIn, this.bytesOut, seconds);
  }

  private complete(): void {
    if (this.finished) return;
    this.finished = true;
    this.releaseServer('ok');
    this.rt.exchangeDone();
    this.count();
    const log = this.rt.accessLog;
    if (log === undefined || !log.enabled) return;
    const now = performance.now();
    const t0 = this.t0;
    const entry: AccessEntry = {
      client: `${this.sourceIp}:${clientPort(this.req.socket)}`,
      frontend: this.rt.name,
      backend: this.pool?.name,
      server: this.serverName,
      method: this.method,
      url: this.url,
      status: this.res.statusCode,
      Tq: span(t0, this.tq),
      Tc: span(this.tq, this.tc),
      Tr: span(this.tc, this.tr),
      Tt: span(t0, now),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      retries: this.retries,
      termination: this.termination,
    };
    const tls = accessTls(tlsFacts(this.req.socket));
    if (tls !== undefined) entry.tls = tls;
    log.write(entry);
  }
}

function onReqData(this: ExchangeRequest, chunk: Buffer): void {
  (this as Tagged<ExchangeRequest>)[kEx].reqData(chunk);
}

function onReqEnd(this: ExchangeRequest): void {
  (this as Tagged<ExchangeRequest>)[kEx].reqEnd();
}

function onResDrain(this: ExchangeResponse): void {
  (this as Tagged<ExchangeResponse>)[kEx].resDrain();
}

function onResClose(this: ExchangeResponse): void {
  (this as Tagged<ExchangeResponse>)[kEx].resClosed();
}

function add(c: TrafficCounters, status: number, bytesIn: number, bytesOut: number, seconds: number): void {
  c.response(status);
  c.bytesIn += bytesIn;
  c.bytesOut += bytesOut;
  if (seconds >= 0) c.observe(seconds);
}
