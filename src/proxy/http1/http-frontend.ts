// An HTTP frontend: node's HTTP server (llhttp parses and limits client requests; keep-alive to
// clients) on one or more binds, each request handed to an HttpExchange, Upgrade requests to a
// tunnel. Malformed requests are answered here and never reach a server.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BackendConfig, FrontendConfig } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import type { BackendPool } from '../../pool/backend-pool.ts';
import { RouteTable } from '../route-table.ts';
import { compileHeaderOps } from './header-ops.ts';
import { HttpExchange, type ExchangeResponse, type FrontendRuntime } from './http-exchange.ts';
import { httpsLocation, REDIRECT_TEXT } from './https-redirect.ts';
import { TrafficStats } from '../traffic-stats.ts';
import { UpstreamConnections } from '../upstream-connections.ts';
import type { AccessLog } from '../access-log.ts';
import { rawError, sendError } from './error-responses.ts';
import { checkRequest, validHost } from './request-checks.ts';
import { readProxyHeader, ACCEPT_PROXY_TIMEOUT_MS } from '../accept-proxy.ts';
import { setClientAddress, clientIp, clientPort, moveClientAddress } from '../client-address.ts';
import { NativeSocket } from '../native/native-socket.ts';
import type { ByteStream } from '../byte-stream.ts';
import { spreadConnections } from '../reuseport-spread.ts';
import { UpgradeTunnel } from './upgrade-tunnel.ts';
import { SocketUpgradeClient } from './upgrade-client.ts';
import { peerServers, type PeerInfo } from './peer-forward.ts';
import { TlsContexts } from '../tls/tls-contexts.ts';
import { acceptTls, type TlsAcceptOptions } from '../tls/tls-accept.ts';
import type { TicketKeyStore } from '../tls/ticket-keys.ts';
import { CertificateDirFollower } from '../tls/certificate-watch.ts';
import type { AcmeChallenges } from './acme-challenge.ts';
import type { AcmeTlsChallenges } from '../tls/acme-tls-challenge.ts';
import { SimpleClientConnection, type SimpleClientHost, type SimpleClientRequest, type SimpleClientResponse } from './simple-client.ts';
import http2 from 'node:http2';
import { DEFAULTS } from '../../config/defaults.ts';
import { H2Host } from '../h2/h2-frontend.ts';
import { H2ExchangeRequest, H2ExchangeResponse } from '../h2/h2-exchange.ts';
import { relayRoutedStream } from '../h2/h2-relayed-stream.ts';
import { H2WebSocketClient } from '../h2/h2-websocket.ts';
import { UpstreamH2Pool } from '../h2/upstream-h2-pool.ts';
import { sniffPreface } from '../h2/h2c-preface.ts';

export interface HttpFrontendDeps {
  pools: ReadonlyMap<string, BackendPool>;
  backends: ReadonlyMap<string, BackendConfig>;
  log: Logger;
  accessLog?: AccessLog;
  /** global.maxHeaderBytes; default 16 KiB. Larger request heads get 431. */
  maxHeaderBytes?: number;
  /** Processes listening on the same ports (global.workers); default 1. */
  workers?: number;
  /** The process's traffic counters; a frontend of its own when absent (tests). */
  traffic?: TrafficStats;
  /** The peer node, for backends with peer_fallback. */
  peer?: PeerInfo;
  /** The process's session ticket keys (the same in every worker); each context's own without. */
  ticketKeys?: TicketKeyStore;
  /** The config file (Config.source), for file:line in certificate problems found later. */
  configSource?: string;
  /** ACME HTTP-01 tokens this process answers (plain frontends only). */
  challenges?: AcmeChallenges;
  /** ACME TLS-ALPN-01 certificates this process answers with (TLS frontends with acme). */
  tlsChallenges?: AcmeTlsChallenges;
}

const { NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** The frontend speaks HTTP/2: ALPN h2 on TLS, or h2c on plain binds. */
function speaksH2(cfg: FrontendConfig): boolean {
  return cfg.tls !== undefined ? cfg.tls.alpn.includes('h2') : cfg.h2c === true;
}

interface ErrorSinkWithHead {
  writeHead(status: number, reason: string, headers: string[]): unknown;
  end(data?: string): unknown;
}

/** How often node checks header timeouts (it checks on an interval, not per connection). */
function checkInterval(httpRequestMs: number): number {
  return Math.max(100, Math.min(1000, Math.floor(httpRequestMs / 4)));
}

export class HttpFrontend {
  private cfg: FrontendConfig;
  private deps: HttpFrontendDeps;
  private readonly log: Logger;
  private runtime: FrontendRuntime;
  private readonly server: http.Server;
  private readonly listeners: net.Server[] = [];
  readonly upstream = new UpstreamConnections();
  private inflight = 0;
  private readonly tunnels = new Set<UpgradeTunnel>();
  private idleWaiter: (() => void) | undefined;
  /** Connections served without node's HTTP server (see simple-client.ts). */
  private readonly simple = new Set<SimpleClientConnection>();
  /** Connections handed to node's HTTP server, open now. */
  private nodeClients = 0;
  /** node's own connection handler; connections reach it only when handed off. */
  private readonly nodeConnection: (socket: Socket) => void;
  private simpleHost: SimpleClientHost;
  private stopping = false;
  /** node-parsed connections whose last request so far ends them. */
  private readonly closing = new WeakSet<Socket>();
  /** Connections whose parser failed, their error answer given or waiting its turn. */
  private readonly erroring = new WeakSet<Socket>();
  /** TLS termination (cfg.tls): raw connections of every bind go through it, and the TLS socket
   *  it hands over takes the node path (the C layer does not speak TLS). */
  private readonly tls: tls.Server | undefined;
  private tlsContexts: TlsContexts | undefined;
  private tlsAccept: TlsAcceptOptions | undefined;
  /** tls.crt_dir, watched while this frontend serves it. */
  private certWatch: CertificateDirFollower | undefined;
  /** HTTP/2 client connections (speaksH2), and the sessions to `proto: h2` backends' servers. */
  private h2: H2Host | undefined;
  private h2Upstream: UpstreamH2Pool | undefined;

  constructor(cfg: FrontendConfig, deps: HttpFrontendDeps) {
    if (cfg.mode !== 'http') throw new Error(`frontend ${cfg.name}: HttpFrontend needs mode http, got ${cfg.mode}`);
    this.cfg = cfg;
    this.deps = deps;
    this.log = deps.log.child({ frontend: cfg.name });
    this.runtime = this.buildRuntime(cfg, deps);
    const t = cfg.timeouts;
    this.server = http.createServer({
      maxHeaderSize: deps.maxHeaderBytes ?? 16384,
      // the whole-request timer would cut long uploads; HAProxy's http-request covers the head only
      requestTimeout: 0,
      headersTimeout: t.httpRequest,
      keepAliveTimeout: t.httpKeepAlive,
      connectionsCheckingInterval: checkInterval(t.httpRequest),
      // checked in request-checks.ts instead: node's own 400 would leave the requests pipelined
      // behind it to be processed
      requireHostHeader: false,
      joinDuplicateHeaders: false,
      noDelay: true,
      highWaterMark: 64 * 1024,
    });
    this.server.timeout = t.client;
    this.server.on('request', this.onRequest);
    this.server.on('upgrade', this.onUpgrade);
    this.server.on('connect', this.onConnect);
    this.server.on('clientError', this.onClientError);
    this.server.on('timeout', onClientTimeout);
    // Every connection starts on the simple path; node's handler gets the ones that leave it.
    this.nodeConnection = this.server.listeners('connection')[0] as (socket: Socket) => void;
    this.server.removeAllListeners('connection');
    this.server.on('connection', this.onConnection);
    this.simpleHost = this.buildSimpleHost(cfg, deps);
    if (cfg.tls !== undefined) {
      this.tlsContexts = new TlsContexts(cfg.tls, cfg.name, this.deps.ticketKeys);
      // never listens: it holds what the TLS sockets share (session ticket keys)
      this.tls = tls.createServer();
      this.tlsAccept = this.buildTlsAccept(cfg, this.tls);
      this.watchCertificates(cfg);
    }
    this.setupH2(cfg);
  }

  /** Starts (or retunes) the HTTP/2 side when the config has the frontend speak it. */
  private setupH2(cfg: FrontendConfig): void {
    if (!speaksH2(cfg)) return;
    const limits = cfg.h2 ?? DEFAULTS.h2;
    if (this.h2 !== undefined) {
      this.h2.update(limits, cfg.timeouts.client);
      return;
    }
    this.h2 = new H2Host(limits, cfg.timeouts.client, {
      log: this.log,
      stream: this.serveH2Stream,
      closed: (reason) => this.runtime.counters.h2ClosedBy(reason),
      ended: () => this.countOpen(),
    });
  }

  /** (Re)starts watching tls.crt_dir when it is set and differs from the one watched. */
  private watchCertificates(cfg: FrontendConfig): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const frontend = this;
    this.certWatch ??= new CertificateDirFollower({
      // read live: a reload swaps the config the next change is read with
      get name() {
        return frontend.cfg.name;
      },
      get tls() {
        return frontend.stopping ? undefined : frontend.cfg.tls;
      },
      get configSource() {
        return frontend.deps.configSource;
      },
      log: this.log,
      install: (set) => {
        const t = this.cfg.tls as NonNullable<FrontendConfig['tls']>;
        this.tlsContexts = new TlsContexts(t, this.cfg.name, this.deps.ticketKeys, set);
      },
    });
    this.certWatch.update(this.stopping ? undefined : cfg.tls?.crtDir);
  }

  private buildSimpleHost(cfg: FrontendConfig, deps: HttpFrontendDeps): SimpleClientHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const frontend = this;
    return {
      maxHeaderBytes: deps.maxHeaderBytes ?? 16384,
      clientTimeoutMs: cfg.timeouts.client,
      keepAliveTimeoutMs: cfg.timeouts.httpKeepAlive,
      serve: this.serveSimple,
      handoff: this.handoff,
      closed: this.simpleClosed,
      // read live: connections keep the host object they started with across reloads
      get stopping(): boolean {
        return frontend.stopping;
      },
    };
  }

  /**
   * maxconn is counted here, not by net.Server: a socket the C layer took over is closed on
   * node's side at once, so node's own count would let any number through. False: full, and the
   * socket is gone.
   */
  private admit(socket: { destroy(): unknown }): boolean {
    const max = this.cfg.maxconn;
    if (max !== undefined && this.openConnections >= max) {
      this.log.debug({ maxconn: max }, 'frontend maxconn reached, connection dropped');
      socket.destroy();
      return false;
    }
    this.runtime.counters.connectionsTotal++;
    return true;
  }

  private get openConnections(): number {
    return this.simple.size + this.nodeClients + (this.h2?.connections ?? 0);
  }

  private readonly onConnection = (socket: Socket): void => {
    if (!this.admit(socket)) return;
    if (this.h2 !== undefined && this.cfg.h2c === true && this.cfg.tls === undefined) this.sniffH2c(socket);
    else this.serveHttp1(socket);
  };

  /** h2c with prior knowledge: the first bytes say HTTP/2 (the preface) or HTTP/1.1; they are put
   *  back for whichever reads the connection. */
  private sniffH2c(socket: Socket): void {
    let buf: Buffer | undefined;
    const timer = setTimeout(() => socket.destroy(), this.cfg.timeouts.httpRequest);
    const onClose = (): void => clearTimeout(timer);
    const onData = (d: Buffer): void => {
      buf = buf === undefined ? d : Buffer.concat([buf, d]);
      const verdict = sniffPreface(buf);
      if (verdict === 'more') return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      socket.pause();
      socket.unshift(buf);
      if (verdict === 'h1' || this.h2 === undefined) {
        this.serveHttp1(socket);
        return;
      }
      this.h2.accept(socket);
      this.countOpen();
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.on('error', onClose);
  }

  private serveHttp1(socket: Socket): void {
    // The C connection layer takes the socket over (allowHalfOpen: a client's FIN still gets the
    // answer to what it sent, as with HAProxy); node's socket stays when it cannot.
    const adopted = NativeSocket.adopt(socket, { allowHalfOpen: true, highWater: 64 * 1024 });
    if (adopted === undefined) {
      this.simple.add(new SimpleClientConnection(socket, this.simpleHost));
      this.countOpen();
      // paused when h2c sniffing read its first bytes (a no-op otherwise)
      socket.resume();
      return;
    }
    moveClientAddress(socket, adopted.socket);
    const conn = new SimpleClientConnection(adopted.socket, this.simpleHost);
    this.simple.add(conn);
    this.countOpen();
    if (adopted.buffered !== undefined) conn.data(adopted.buffered);
  }

  private buildTlsAccept(cfg: FrontendConfig, server: tls.Server): TlsAcceptOptions {
    return {
      // read live: a reload swaps tlsContexts, and the next handshake sees the new certificates
      context: (servername, ticket) => (this.tlsContexts as TlsContexts).contextFor(servername, ticket),
      alpn: cfg.tls?.alpn ?? ['http/1.1'],
      verify: cfg.tls?.verify ?? 'none',
      timeoutMs: cfg.timeouts.client,
      server,
      secure: this.onSecureConnection,
      failed: this.onTlsClientError,
      nativeContext: (servername, ticket) => (this.tlsContexts as TlsContexts).nativeFor(servername, ticket),
      secureNative: this.onSecureNative,
      ...(cfg.tls?.acme?.challenge === 'tls-alpn-01' && this.deps.tlsChallenges !== undefined
        ? {
            acmeTls: (name: string | undefined) => this.deps.tlsChallenges?.contextFor(name),
            acmeTlsAnswered: (name: string | undefined) => this.log.info({ servername: name }, 'ACME tls-alpn-01 challenge answered'),
          }
        : {}),
    };
  }

  /** A raw connection of a TLS bind: handed on once its handshake is done. */
  private readonly onTlsConnection = (socket: Socket): void => {
    acceptTls(socket, this.tlsAccept as TlsAcceptOptions);
  };

  private readonly onSecureConnection = (socket: tls.TLSSocket): void => {
    // a handshake that was under way when a graceful stop began
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (!this.admit(socket)) return;
    // the PROXY header's client address was set on the raw socket under the TLS one
    const raw = (socket as tls.TLSSocket & { _parent?: Socket | null })._parent;
    if (raw) moveClientAddress(raw, socket);
    socket.setNoDelay(true);
    if (socket.alpnProtocol === 'h2' && this.h2 !== undefined) {
      this.h2.accept(socket);
      this.countOpen();
      return;
    }
    this.simple.add(new SimpleClientConnection(socket, this.simpleHost));
    this.countOpen();
  };

  /** A connection whose TLS handshake the C layer did: the plain HTTP/1.1 path, as it is. */
  private readonly onSecureNative = (socket: NativeSocket): void => {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (!this.admit(socket)) return;
    this.simple.add(new SimpleClientConnection(socket, this.simpleHost));
    this.countOpen();
  };

  /**
   * One HTTP/2 stream: the checks, ACME answers and redirect of an HTTP/1.1 request, then routed;
   * to a `proto: h2` backend it is relayed as a stream (gRPC), to any other it becomes an
   * HttpExchange over pooled HTTP/1.1 server connections (h2-exchange.ts adapts it).
   */
  private readonly serveH2Stream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], socket: Socket): void => {
    const method = String(headers[':method'] ?? 'GET');
    const authority = headers[':authority'];
    const host = typeof headers.host === 'string' ? headers.host : typeof authority === 'string' ? authority : undefined;
    // plain CONNECT asks for a forward proxy, which halb is not; of the extended CONNECT
    // protocols (RFC 8441) it speaks websocket
    const protocol = headers[':protocol'];
    if (method === 'CONNECT' && protocol !== 'websocket') {
      this.refused(socket, 501, protocol === undefined ? 'method CONNECT not supported' : `CONNECT :protocol ${String(protocol)} not supported`);
      sendError(new H2ExchangeResponse(stream), 501, false);
      return;
    }
    if (host === undefined || !validHost(host)) {
      this.refused(socket, 400, 'invalid or missing :authority / Host');
      sendError(new H2ExchangeResponse(stream), 400, false);
      return;
    }
    if (method === 'CONNECT') {
      this.serveH2WebSocket(stream, headers, rawHeaders, socket, host);
      return;
    }
    const url = String(headers[':path'] ?? '/');
    const rt = this.runtime;
    const backend = rt.routes.route({
      method,
      host,
      url,
      header: (name) => {
        const v = headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      },
    });
    const pool = backend === undefined ? undefined : rt.pools.get(backend);
    if (pool?.config.proto === 'h2' && this.cfg.redirect === undefined) {
      this.inflight++;
      this.h2Upstream ??= new UpstreamH2Pool();
      relayRoutedStream(rt, this.h2Upstream, pool, stream, headers, rawHeaders, socket).catch((err: unknown) => {
        this.log.error({ err, backend: pool.name }, 'h2 stream relay failed');
        if (!stream.destroyed) stream.close(NGHTTP2_INTERNAL_ERROR);
      });
      return;
    }
    const req = new H2ExchangeRequest(stream, headers, rawHeaders, socket);
    const res = new H2ExchangeResponse(stream);
    if (this.answerChallenge(method, url, res)) return;
    if (this.cfg.redirect !== undefined) {
      this.redirect(req, res, host);
      return;
    }
    this.inflight++;
    new HttpExchange(rt, req, res, host).start();
  };

  /** An extended CONNECT for websocket: the HTTP/1.1 upgrade path's tunnel, its client side
   *  an HTTP/2 stream (h2-websocket.ts). */
  private serveH2WebSocket(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], socket: Socket, host: string): void {
    const client = new H2WebSocketClient(stream, headers, rawHeaders, socket);
    const refusal = checkRequest({ method: client.method, url: client.url, httpVersionMajor: 1, httpVersionMinor: 1, rawHeaders: client.rawHeaders }, true);
    if (refusal !== undefined) {
      this.refused(socket, refusal.status, refusal.reason);
      sendError(new H2ExchangeResponse(stream), refusal.status, false);
      return;
    }
    if (this.cfg.redirect !== undefined) {
      this.redirect(new H2ExchangeRequest(stream, headers, rawHeaders, socket), new H2ExchangeResponse(stream), host);
      return;
    }
    const t = new UpgradeTunnel(this.runtime, client, this.tunnelDone);
    this.tunnels.add(t);
    t.start();
  }

  private readonly onTlsClientError = (err: NodeJS.ErrnoException, socket: Socket): void => {
    this.log.debug({ client: clientIp(socket), code: err.code, err: err.message }, 'TLS handshake failed');
  };

  private readonly serveSimple = (req: SimpleClientRequest, res: SimpleClientResponse, host: string): void => {
    // the simple shape is origin-form HTTP/1.1 without Upgrade: of checkRequest only Host applies
    if (!validHost(host)) {
      this.refused(req.socket, 400, 'invalid Host header');
      sendError(res, 400, true);
      return;
    }
    if (this.answerChallenge(req.method, req.url, res)) return;
    if (this.cfg.redirect !== undefined) {
      this.redirect(req, res, host);
      return;
    }
    this.inflight++;
    new HttpExchange(this.runtime, req, res, host).start();
  };

  /** `redirect: https`: the request is answered here, and never reaches a server. */
  private redirect(req: { method?: string | undefined; url?: string | undefined; socket: ByteStream }, res: ExchangeResponse, host: string | undefined): void {
    const r = this.cfg.redirect as NonNullable<FrontendConfig['redirect']>;
    const location = httpsLocation(host, req.url ?? '/', r.port);
    if (location === undefined) {
      this.refused(req.socket, 400, 'no usable Host to redirect to');
      sendError(res, 400, true);
      return;
    }
    res.writeHead(r.code, REDIRECT_TEXT[r.code] ?? 'Redirect', ['Location', location, 'Content-Length', '0']);
    res.end();
    const log = this.runtime.accessLog;
    if (log?.enabled === true) {
      const s = req.socket;
      log.write({
        client: `${clientIp(s)}:${clientPort(s)}`,
        frontend: this.cfg.name,
        backend: undefined,
        server: undefined,
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        status: r.code,
        Tq: -1,
        Tc: -1,
        Tr: -1,
        Tt: 0,
        bytesIn: 0,
        bytesOut: 0,
        retries: 0,
        termination: 'ok',
      });
    }
  }

  /** An ACME HTTP-01 request is answered here, never forwarded (acme-challenge.ts). */
  private answerChallenge(method: string, url: string, res: ErrorSinkWithHead): boolean {
    if (this.tls !== undefined || this.deps.challenges === undefined) return false;
    const a = this.deps.challenges.answer(method, url);
    if (a === undefined) return false;
    this.log.info({ url, status: a.status }, 'ACME http-01 challenge answered');
    res.writeHead(a.status, a.status === 200 ? 'OK' : 'Not Found', ['Content-Type', 'text/plain', 'Content-Length', String(Buffer.byteLength(a.body)), 'Cache-Control', 'no-store']);
    res.end(method === 'HEAD' ? undefined : a.body);
    return true;
  }

  private readonly handoff = (socket: Socket, unread: Buffer): void => {
    this.nodeClients++;
    this.countOpen();
    socket.once('close', this.nodeClientClosed);
    socket.unshift(unread);
    this.nodeConnection.call(this.server, socket);
    socket.resume();
  };

  private readonly nodeClientClosed = (): void => {
    this.nodeClients--;
    this.countOpen();
  };

  private readonly simpleClosed = (c: SimpleClientConnection): void => {
    this.simple.delete(c);
    this.countOpen();
  };

  /** Set, not stepped: a connection handed from the simple path to node's counts once. */
  private countOpen(): void {
    this.runtime.counters.connectionsCurrent = this.openConnections;
  }

  get name(): string {
    return this.cfg.name;
  }

  /** Requests and tunnels in flight. */
  get active(): number {
    return this.inflight + this.tunnels.size;
  }

  /** Local addresses actually bound (port 0 resolved), in bind order. */
  addresses(): { host: string; port: number }[] {
    return this.listeners.map((l) => {
      const a = l.address() as net.AddressInfo;
      return { host: a.address, port: a.port };
    });
  }

  async listen(): Promise<void> {
    for (const b of this.cfg.bind) {
      const l = b.acceptProxy
        ? net.createServer({ noDelay: true }, this.onProxiedConnection)
        : this.tls !== undefined
          ? net.createServer({ noDelay: true }, this.onTlsConnection)
          : this.server;
      // node's http.Server is a net.Server: the first plain bind uses it directly; others feed it
      const srv = l === this.server && this.listeners.includes(this.server) ? net.createServer({ noDelay: true }, this.onPlainConnection) : l;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(new Error(`frontend ${this.cfg.name}: cannot listen on ${b.host}:${b.port}: ${err.message}`, { cause: err }));
        srv.once('error', onError);
        srv.listen({ host: b.host, port: b.port, reusePort: true, backlog: 4096 }, () => {
          srv.off('error', onError);
          spreadConnections(srv, this.deps.workers ?? 1, this.log);
          // Accept errors once listening (EMFILE under load) are logged, never fatal.
          srv.on('error', (err) => this.log.error({ bind: `${b.host}:${b.port}`, err: err.message }, 'listener error'));
          resolve();
        });
      });
      this.listeners.push(srv);
      this.log.info({ bind: `${b.host}:${(srv.address() as net.AddressInfo).port}`, acceptProxy: b.acceptProxy, tls: this.tls !== undefined }, 'listening');
    }
  }

  /** Stop taking new connections; connections already open are served on. */
  stopAccepting(): void {
    for (const l of this.listeners) if (l.listening) l.close();
  }

  /** Graceful stop: no new connections, idle keep-alive ones closed, in-flight work gets graceMs. */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    this.certWatch?.close();
    this.stopAccepting();
    // GOAWAY to HTTP/2 clients now; their open streams finish within the same grace
    const h2Closed = this.h2?.close(graceMs);
    this.server.closeIdleConnections();
    for (const c of this.simple) {
      if (c.busy) c.stopRequested();
      else c.destroy();
    }
    if (this.active > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idleWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.idleWaiter = undefined;
    this.server.closeAllConnections();
    for (const c of this.simple) {
      if (c.busy) c.destroy();
      else c.finish();
    }
    for (const t of this.tunnels) t.destroy();
    await h2Closed;
    this.h2Upstream?.close();
    this.upstream.closeIdle();
  }

  /**
   * Re-read this frontend's certificates (an ACME certificate arrived): the same swap a reload
   * does, so new handshakes get it and open connections keep theirs. False when they cannot
   * serve; the previous ones then keep serving.
   */
  refreshCertificates(): boolean {
    if (this.cfg.tls === undefined || this.tls === undefined) return false;
    try {
      this.tlsContexts = new TlsContexts(this.cfg.tls);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'new certificates cannot serve: the previous ones keep serving');
      return false;
    }
    const c = this.tlsContexts.certificates[0];
    this.log.info({ acme: this.tlsContexts.acme?.serving, fingerprint256: c?.fingerprint256, notAfter: c?.notAfter.toISOString() }, 'certificates refreshed');
    return true;
  }

  /** What this frontend serves with acme: its certificate, or the fallback while none is held. */
  get acmeServing(): { serving: 'acme' | 'fallback'; reason?: string } | undefined {
    return this.tlsContexts?.acme;
  }

  /** Apply a reloaded config. Binds cannot move in place: returns true when they differ and the
   *  caller must build a new frontend for them. */
  updateConfig(cfg: FrontendConfig, deps?: Partial<HttpFrontendDeps>): { rebindNeeded: boolean } {
    // a plain frontend becoming TLS (or back) is a new listener, as moved binds are
    const rebindNeeded = JSON.stringify(cfg.bind) !== JSON.stringify(this.cfg.bind) || (cfg.tls === undefined) !== (this.tls === undefined);
    if (!rebindNeeded && cfg.tls !== undefined && this.tls !== undefined) {
      // Built before anything changes: certificates that cannot serve leave the old ones serving
      // (the config loader refuses them first; this holds if a file changed since).
      try {
        this.tlsContexts = new TlsContexts(cfg.tls, cfg.name, this.deps.ticketKeys);
        this.tlsAccept = this.buildTlsAccept(cfg, this.tls);
        this.watchCertificates(cfg);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'reloaded certificates cannot serve: the previous ones keep serving');
      }
    }
    this.cfg = cfg;
    this.deps = { ...this.deps, ...deps };
    this.runtime = this.buildRuntime(cfg, this.deps);
    this.setupH2(cfg);
    this.simpleHost = this.buildSimpleHost(cfg, this.deps);
    const t = cfg.timeouts;
    this.server.headersTimeout = t.httpRequest;
    this.server.keepAliveTimeout = t.httpKeepAlive;
    this.server.timeout = t.client;
    return { rebindNeeded };
  }

  private buildRuntime(cfg: FrontendConfig, deps: HttpFrontendDeps): FrontendRuntime {
    for (const r of cfg.rules) {
      if (!deps.pools.has(r.backend)) this.log.warn({ where: r.where, backend: r.backend }, 'rule names a backend that has no pool');
    }
    const traffic = deps.traffic ?? (this.runtime as FrontendRuntime | undefined)?.traffic ?? new TrafficStats();
    return {
      name: cfg.name,
      routes: RouteTable.fromFrontend(cfg),
      forwarding: {
        forwardfor: cfg.forwardfor,
        forwarded: cfg.forwarded,
        requestOps: compileHeaderOps(cfg.requestHeaders),
        clientCert: cfg.tls !== undefined && cfg.tls.verify !== 'none' ? cfg.tls.clientCertHeader : undefined,
      },
      // HSTS after the user's ops: a TLS frontend's policy is not undone by a rewrite
      responseOps: [
        ...compileHeaderOps(cfg.responseHeaders),
        ...(cfg.hsts === undefined ? [] : [{ action: 'set' as const, name: 'Strict-Transport-Security', lower: 'strict-transport-security', value: cfg.hsts }]),
      ],
      pools: deps.pools,
      peers: peerServers(deps.backends, cfg.bind, deps.peer, this.log),
      peerMark: deps.peer?.node ?? 'halb',
      upstream: this.upstream,
      log: this.log,
      accessLog: deps.accessLog,
      exchangeDone: this.exchangeDone,
      traffic,
      counters: traffic.frontend(cfg.name),
      proto: cfg.tls === undefined ? 'http' : 'https',
    };
  }

  private readonly exchangeDone = (): void => {
    this.inflight--;
    if (this.idleWaiter !== undefined && this.active === 0) this.idleWaiter();
  };

  private readonly onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const socket = req.socket;
    if (this.closing.has(socket)) {
      // RFC 9112 §9.6: requests pipelined behind a response that closes are not processed (node
      // parses them all the same; without this a request behind a refused one reached a server)
      req.resume();
      return;
    }
    const refusal = checkRequest(req);
    if (refusal !== undefined) {
      this.refused(socket, refusal.status, refusal.reason);
      req.resume();
      sendError(res, refusal.status, true);
    } else if (this.answerChallenge(req.method ?? 'GET', req.url ?? '/', res)) {
      req.resume();
    } else if (this.cfg.redirect !== undefined) {
      req.resume();
      this.redirect(req, res, req.headers.host);
    } else {
      this.inflight++;
      new HttpExchange(this.runtime, req, res, req.headers.host).start();
    }
    // known by now: the client asked to close, or halb refused the request (which closes)
    if (!res.shouldKeepAlive) this.closing.add(socket);
  };

  private readonly onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const s = socket as Socket;
    const refusal = checkRequest(req, true);
    if (refusal !== undefined) {
      this.refused(s, refusal.status, refusal.reason);
      this.erroring.add(s);
      this.closing.add(s);
      this.answerError(s, refusal.status);
      return;
    }
    if (this.cfg.redirect !== undefined) {
      const location = httpsLocation(req.headers.host, req.url ?? '/', this.cfg.redirect.port);
      const code = this.cfg.redirect.code;
      afterResponses(s, () => {
        s.end(location === undefined ? rawError(400) : `HTTP/1.1 ${code} ${REDIRECT_TEXT[code] ?? 'Redirect'}\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        s.destroySoon();
      });
      return;
    }
    // node reports an upgrade as soon as it parses it, also behind requests still being answered
    // (pipelining): the tunnel starts, and writes to the client, once their responses are out
    afterResponses(s, () => {
      if (s.destroyed) return;
      const t = new UpgradeTunnel(this.runtime, new SocketUpgradeClient(req, s, head, this.resumeHttp), this.tunnelDone);
      this.tunnels.add(t);
      t.start();
    });
  };

  /** CONNECT asks for a forward proxy, which halb is not (node would close without an answer). */
  private readonly onConnect = (req: http.IncomingMessage, socket: Duplex): void => {
    this.refused(socket as Socket, 501, `method ${req.method ?? 'CONNECT'} not supported`);
    socket.end(rawError(501));
    (socket as Socket).destroySoon();
  };

  private refused(socket: ByteStream, status: number, reason: string): void {
    this.log.info({ client: clientIp(socket), reason, status }, 'client request rejected');
  }

  /** A server refused an upgrade: the connection stays HTTP, and what the client sent after the
   *  upgrade request is parsed and routed as requests again (never tunnelled unparsed). */
  private readonly resumeHttp = (socket: Socket, unread: Buffer): void => {
    if (unread.length === 0 && socket.readableLength === 0) {
      // Idle: node's parser would start its head timer now and answer 408 to a client that is
      // merely keeping the connection; it starts with the next bytes, as after any response.
      this.idleUntilData(socket);
      return;
    }
    if (unread.length > 0) socket.unshift(unread);
    this.nodeConnection.call(this.server, socket);
    socket.resume();
  };

  private idleUntilData(socket: Socket): void {
    const onData = (d: Buffer): void => {
      socket.pause();
      socket.off('data', onData);
      socket.off('timeout', onIdle);
      socket.off('end', onIdle);
      socket.setTimeout(0);
      this.resumeHttp(socket, d);
    };
    const onIdle = (): void => {
      socket.destroy();
    };
    socket.on('data', onData);
    socket.once('timeout', onIdle);
    socket.once('end', onIdle);
    socket.setTimeout(this.cfg.timeouts.httpKeepAlive);
    socket.resume();
  }

  private readonly tunnelDone = (t: UpgradeTunnel): void => {
    this.tunnels.delete(t);
    if (this.idleWaiter !== undefined && this.active === 0) this.idleWaiter();
  };

  private readonly onClientError = (err: NodeJS.ErrnoException, socket: Duplex): void => {
    const code = err.code ?? '';
    const status =
      code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT' ? 408 : code === 'ECONNRESET' ? 0 : 400;
    const s = socket as Socket;
    if (status !== 0) {
      this.log.info({ client: clientIp(s), code, reason: (err as { reason?: string }).reason ?? err.message, status }, 'client request rejected');
    }
    if (status === 0 || !s.writable) {
      s.destroy();
      return;
    }
    // llhttp stays in error and reports again on every later read: one answer is enough
    if (this.erroring.has(s)) return;
    this.erroring.add(s);
    this.closing.add(s);
    this.answerError(s, status);
  };

  /** The error answer for a connection whose parser failed, in its place among the responses. */
  private answerError(s: Socket, status: number): void {
    // the response before said close: node ends the socket once it is written
    if (!s.writable) return;
    const res = pendingResponse(s);
    if (res !== undefined && res.req?.complete !== false) {
      // Responses owed to complete requests before the bad bytes (pipelining) go first, as with
      // HAProxy; node hands the socket to the next one as each finishes.
      res.once('finish', () => this.answerError(s, status));
      res.once('close', () => {
        if (!res.writableFinished) s.destroy();
      });
      return;
    }
    if (res?.headersSent === true) {
      // the request's own body failed after its response began: nothing can follow it
      s.destroy();
      return;
    }
    // A request whose body fails to parse (a bad chunk size) was already sent on to a server:
    // while no response head went to the client, it still gets its 400, as HAProxy answers;
    // closing the socket then ends the exchange and its server connection.
    s.end(rawError(status));
    s.destroySoon();
  }

  private readonly onPlainConnection = (socket: Socket): void => {
    this.server.emit('connection', socket);
  };

  private readonly onProxiedConnection = (socket: Socket): void => {
    readProxyHeader(socket, ACCEPT_PROXY_TIMEOUT_MS, { log: this.log }).then(
      (hdr) => {
        if (!hdr.ok) return;
        setClientAddress(socket, hdr.client);
        if (this.tls !== undefined) {
          this.onTlsConnection(socket);
          return;
        }
        this.server.emit('connection', socket);
        socket.resume();
      },
      (err: unknown) => {
        this.log.warn({ err }, 'PROXY header read failed');
        socket.destroy();
      },
    );
  };
}

/** What answerError reads of the ServerResponse node has on a socket. */
interface PendingResponse {
  headersSent: boolean;
  writableFinished: boolean;
  req?: { complete: boolean };
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

function pendingResponse(s: Socket): PendingResponse | undefined {
  // (node keeps null there between requests)
  return (s as Socket & { _httpMessage?: PendingResponse | null })._httpMessage ?? undefined;
}

/** Runs `then` once node has no response in progress on `s` (each finishing hands the socket to
 *  the next queued one); a response that ends without finishing ends the connection. */
function afterResponses(s: Socket, then: () => void): void {
  const res = pendingResponse(s);
  if (res === undefined) {
    then();
    return;
  }
  res.once('finish', () => afterResponses(s, then));
  res.once('close', () => {
    if (!res.writableFinished) s.destroy();
  });
}

function onClientTimeout(socket: Socket): void {
  // timeout client: an idle client connection is closed (node would do the same with no listener)
  socket.destroy();
}
