// A `mode: tcp` frontend: accept, (optionally) read the PROXY header, (with tls) terminate TLS,
// take a server from the backend's pool, connect with retries, (optionally) send a PROXY header,
// then relay bytes both ways until both sides are done. One access-log line per connection.
// With tls the servers get the plain bytes (TLS offload); the relay is then the JS one, as the C
// relay splices descriptors and the TLS record layer lives in node.
//
// Listeners use reusePort so several worker processes can bind the same address and let the
// kernel spread connections. Sockets are accepted paused (pauseOnConnect) so no client byte is
// read before the server connection exists: the kernel's receive buffer holds them meanwhile.

import net from 'node:net';
import tls from 'node:tls';
import { TlsContexts } from '../tls/tls-contexts.ts';
import { acceptTls, type TlsAcceptOptions } from '../tls/tls-accept.ts';
import { tlsFacts } from '../tls/tls-facts.ts';
import type { TicketKeyStore } from '../tls/ticket-keys.ts';
import { CertificateDirFollower } from '../tls/certificate-watch.ts';
import { accessTls, type AccessTls } from '../access-log.ts';
import type { BackendConfig, FrontendConfig, ServerConfig } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import type { AcquireFailure, BackendPool, Outcome } from '../../pool/backend-pool.ts';
import type { ServerState } from '../../pool/server-state.ts';
import type { PickRequest } from '../../balance/policy.ts';
import { ACCEPT_PROXY_TIMEOUT_MS, readProxyHeader, type ClientAddress, type ProxyHeaderOutcome } from '../accept-proxy.ts';
import { retryStep, retryCounter, triedWith } from '../retry-policy.ts';
import { encodeProxyV1, encodeProxyV2 } from './proxy-protocol.ts';
import { TcpRelay, type RelayOptions, type RelayResult } from './tcp-relay.ts';
import { NativeTcpRelay, type Relay } from './native-tcp-relay.ts';
import { spreadConnections } from '../reuseport-spread.ts';
import { TrafficStats, type TrafficCounters } from '../traffic-stats.ts';

export interface TcpFrontendDeps {
  pools: Map<string, BackendPool>;
  backends: Map<string, BackendConfig>;
  log: Logger;
  /** Access log (one line per connection); defaults to `log`. */
  accessLog?: Logger;
  /** Processes listening on the same ports (global.workers); default 1. */
  workers?: number;
  /** Random source for the balancing policy (tests pass a seeded one). */
  random?: () => number;
  /** How long an accept_proxy bind waits for the PROXY header. */
  proxyHeaderTimeoutMs?: number;
  /**
   * Who moves the bytes once the server is connected: 'native' (default) hands both
   * connections to C, no JavaScript per chunk; 'js' keeps them in Node streams (TcpRelay).
   */
  relay?: 'native' | 'js';
  /** The process's traffic counters; a set of its own when absent (tests). */
  traffic?: TrafficStats;
  /** The process's session ticket keys (tls frontends). */
  ticketKeys?: TicketKeyStore;
  /** The config file, for file:line in problems of a watched crt_dir. */
  configSource?: string;
}

/** The access-log record of one TCP connection. */
export interface TcpAccessRecord {
  client: string;
  frontend: string;
  backend: string;
  server: string;
  /** Connect attempts made (1 = no retry). */
  attempts: number;
  connectMs: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  termination: string;
  firstFin?: string;
  error?: string;
  /** tls frontends: what the client's handshake settled. */
  tls?: AccessTls;
}

type SessionState = 'header' | 'acquire' | 'connect' | 'relay' | 'done';

export class TcpFrontend {
  /** Replaced by a reload (same binds); sessions read it when they need it. */
  config: FrontendConfig;
  private readonly deps: TcpFrontendDeps;
  private readonly log: Logger;
  private readonly access: Logger;
  private readonly random: () => number;
  private readonly servers: net.Server[] = [];
  private readonly sessions = new Set<TcpSession>();
  private drained: (() => void) | undefined;
  readonly traffic: TrafficStats;
  /** This frontend's traffic counters (TCP sessions count as connections, not requests). */
  readonly counters: TrafficCounters;
  /** TLS offload (config.tls): holds what the TLS sockets share; never listens. */
  private readonly tlsServer: tls.Server | undefined;
  private tlsContexts: TlsContexts | undefined;
  /** tls.crt_dir, watched while this frontend serves it. */
  private certWatch: CertificateDirFollower | undefined;
  private closing = false;

  constructor(cfg: FrontendConfig, deps: TcpFrontendDeps) {
    if (cfg.mode !== 'tcp') throw new Error(`frontend ${cfg.name}: TcpFrontend needs mode tcp, got ${cfg.mode}`);
    this.config = cfg;
    this.deps = deps;
    this.log = deps.log.child({ frontend: cfg.name });
    this.access = deps.accessLog ?? deps.log;
    this.random = deps.random ?? Math.random;
    this.traffic = deps.traffic ?? new TrafficStats();
    this.counters = this.traffic.frontend(cfg.name);
    if (cfg.tls !== undefined) {
      this.tlsContexts = new TlsContexts(cfg.tls, cfg.name, deps.ticketKeys);
      this.tlsServer = tls.createServer();
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const frontend = this;
      this.certWatch = new CertificateDirFollower({
        // read live: a reload swaps the config the next change is read with
        get name() {
          return frontend.config.name;
        },
        get tls() {
          return frontend.closing ? undefined : frontend.config.tls;
        },
        configSource: deps.configSource,
        log: this.log,
        install: (set) => {
          this.tlsContexts = new TlsContexts(this.config.tls as NonNullable<FrontendConfig['tls']>, this.config.name, this.deps.ticketKeys, set);
        },
      });
      this.certWatch.update(cfg.tls.crtDir);
    }
  }

  /** Reload with unchanged binds: new sessions use the new config, live ones carry on.
   *  false: a tcp frontend becoming TLS (or back) needs new listeners, as moved binds do. */
  updateConfig(cfg: FrontendConfig): boolean {
    if ((cfg.tls === undefined) !== (this.tlsServer === undefined)) return false;
    if (cfg.tls !== undefined) {
      try {
        this.tlsContexts = new TlsContexts(cfg.tls, cfg.name, this.deps.ticketKeys);
        this.certWatch?.update(cfg.tls.crtDir);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'reloaded certificates cannot serve: the previous ones keep serving');
      }
    }
    this.config = cfg;
    return true;
  }

  /** The TLS handshake of a tls frontend's connection; the session starts once it is done. */
  private acceptTls(raw: net.Socket, addresses: { client: ClientAddress; local: ClientAddress } | undefined): void {
    const opts: TlsAcceptOptions = {
      context: (servername, ticket) => (this.tlsContexts as TlsContexts).contextFor(servername, ticket),
      alpn: this.config.tls?.alpn ?? [],
      verify: this.config.tls?.verify ?? 'none',
      timeoutMs: this.config.timeouts.client,
      server: this.tlsServer as tls.Server,
      secure: (s) => {
        // a graceful stop cut the handshakes under way
        if (!this.handshaking.delete(raw)) {
          s.destroy();
          return;
        }
        const session = new TcpSession(this, s, raw, addresses);
        this.sessions.add(session);
        session.start(false);
      },
      failed: (err) => this.log.debug({ client: raw.remoteAddress, err: err.message }, 'TLS handshake failed'),
    };
    acceptTls(raw, opts);
  }

  /** tls frontends: connections admitted whose handshake is not done yet (counted for maxconn). */
  private readonly handshaking = new Set<net.Socket>();

  /** Connections in progress (header, connect or relay). */
  get connections(): number {
    return this.sessions.size;
  }

  /** Bound addresses, in bind order (useful with port 0). */
  addresses(): net.AddressInfo[] {
    return this.servers.map((s) => s.address() as net.AddressInfo);
  }

  async listen(): Promise<void> {
    for (const bind of this.config.bind) {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
      server.on('connection', (socket: net.Socket) => this.accept(socket, bind.acceptProxy));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: bind.host, port: bind.port, reusePort: true }, () => {
            server.off('error', reject);
            spreadConnections(server, this.deps.workers ?? 1, this.log);
            resolve();
          });
        });
      } catch (err) {
        for (const s of this.servers) s.close();
        this.servers.length = 0;
        throw new Error(`frontend ${this.config.name}: cannot listen on ${bind.host}:${bind.port}: ${(err as Error).message}`, { cause: err });
      }
      server.on('error', (err) => this.log.error({ err }, 'listener error'));
      this.servers.push(server);
    }
    this.log.info({ bind: this.addresses().map((a) => `${a.address}:${a.port}`) }, 'tcp frontend listening');
  }

  /** Stop taking new connections; those in progress continue. */
  stopAccepting(): void {
    for (const s of this.servers) s.close();
  }

  /** Stop accepting, give connections `graceMs` to finish, then cut the rest. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.certWatch?.close();
    this.stopAccepting();
    for (const s of this.handshaking) s.destroy();
    if (this.sessions.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.drained = undefined;
    }
    if (this.sessions.size > 0) {
      this.log.warn({ connections: this.sessions.size }, 'grace period over, closing remaining tcp connections');
      const left = [...this.sessions];
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        for (const s of left) s.abort();
      });
      this.drained = undefined;
    }
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }

  private accept(socket: net.Socket, acceptProxy: boolean): void {
    // Counted here rather than with net.Server.maxConnections: a natively relayed connection
    // has no JS socket left for Node to count.
    const max = this.config.maxconn;
    if (max !== undefined && this.sessions.size + this.handshaking.size >= max) {
      this.log.debug({ maxconn: max, client: socket.remoteAddress }, 'frontend maxconn reached, connection dropped');
      socket.destroy();
      return;
    }
    this.counters.connect();
    if (this.tlsServer !== undefined) {
      this.handshaking.add(socket);
      // closed before its session started (a failed handshake or PROXY header): no session counts it
      socket.once('close', () => {
        if (this.handshaking.delete(socket)) this.counters.disconnect();
      });
      if (!acceptProxy) return this.acceptTls(socket, undefined);
      readProxyHeader(socket, this.headerTimeoutMs, { log: this.log, frontend: this.config.name }).then(
        (h) => (h.ok ? this.acceptTls(socket, { client: h.client, local: h.local }) : socket.destroy()),
        () => socket.destroy(),
      );
      return;
    }
    const session = new TcpSession(this, socket);
    this.sessions.add(session);
    session.start(acceptProxy);
  }

  // ---- used by TcpSession ----

  /** @internal */
  sessionDone(s: TcpSession, rec: TcpAccessRecord): void {
    this.sessions.delete(s);
    this.access.info(rec, 'tcp');
    if (this.sessions.size === 0) this.drained?.();
  }
  /** @internal */
  get relayKind(): 'native' | 'js' {
    return this.deps.relay ?? 'native';
  }
  /** @internal */
  get headerTimeoutMs(): number {
    return this.deps.proxyHeaderTimeoutMs ?? ACCEPT_PROXY_TIMEOUT_MS;
  }
  /** @internal */
  get logger(): Logger {
    return this.log;
  }
  /** @internal */
  get rnd(): () => number {
    return this.random;
  }
  /** @internal */
  pool(): BackendPool | undefined {
    const name = this.config.defaultBackend;
    return name === undefined ? undefined : this.deps.pools.get(name);
  }
  /** @internal */
  serverConfig(backend: string, server: string): ServerConfig | undefined {
    return this.deps.backends.get(backend)?.servers.find((s) => s.name === server);
  }
}

/** One client connection from accept to close. */
class TcpSession {
  private readonly fe: TcpFrontend;
  private readonly client: net.Socket;
  private readonly started = performance.now();
  private state: SessionState = 'header';
  private clientAddr: ClientAddress;
  private localAddr: ClientAddress;
  private pool: BackendPool | undefined;
  private req: PickRequest | undefined;
  /** The server acquired from the pool and not yet released. */
  private held: ServerState | undefined;
  /** Last server tried, for the log line. */
  private serverName = '';
  private upstream: net.Socket | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private connectStart = 0;
  private connectMs = -1;
  private attempts = 0;
  private tried: Set<ServerState> | undefined;
  private relay: Relay | undefined;
  private backendCounters: TrafficCounters | undefined;
  private serverCounters: TrafficCounters | undefined;
  private aborted = false;
  /** The client socket emitted 'close' before the relay took it over. */
  private clientGone = false;

  /** The client speaks TLS, terminated here (the raw connection is under `client`). */
  readonly viaTls: boolean;

  /** `raw` and `addresses`: a TLS client, its TCP connection and what a PROXY header said. */
  constructor(fe: TcpFrontend, client: net.Socket, raw?: net.Socket, addresses?: { client: ClientAddress; local: ClientAddress }) {
    this.fe = fe;
    this.client = client;
    this.viaTls = raw !== undefined;
    const tcp = raw ?? client;
    this.clientAddr = addresses?.client ?? { address: tcp.remoteAddress ?? '', port: tcp.remotePort ?? 0 };
    this.localAddr = addresses?.local ?? { address: tcp.localAddress ?? '', port: tcp.localPort ?? 0 };
    // Until the relay owns the socket, an error (reset while we connect) just ends the session.
    client.on('error', this.onEarlyClientError);
    client.once('close', this.onEarlyClientClose);
  }

  start(acceptProxy: boolean): void {
    if (!acceptProxy) return this.pickServer();
    readProxyHeader(this.client, this.fe.headerTimeoutMs, { log: this.fe.logger, frontend: this.fe.config.name }).then(this.onHeader, (err: unknown) =>
      this.finish('proxy-header-error', 'ok', String(err)),
    );
  }

  /** Shutdown: cut the connection wherever it is. */
  abort(): void {
    this.aborted = true;
    if (this.relay) return this.relay.stop();
    if (this.state === 'connect' && this.upstream) {
      this.upstream.destroy();
      clearTimeout(this.connectTimer);
    }
    // In 'header' the header read sees the close and resolves; a queued acquire that resolves
    // later gives its server straight back (onQueued).
    if (this.state !== 'header') this.finish('aborted', 'ok');
    else this.client.destroy();
  }

  private readonly onHeader = (h: ProxyHeaderOutcome): void => {
    if (!h.ok) return this.finish(this.aborted ? 'aborted' : 'bad-proxy-header', 'ok', h.reason);
    this.clientAddr = h.client;
    this.localAddr = h.local;
    this.pickServer();
  };

  private pickServer(): void {
    if (this.aborted) return this.finish('aborted', 'ok');
    if (this.clientGone) return this.finish('client-abort', 'ok');
    this.state = 'acquire';
    const pool = this.fe.pool();
    if (!pool) return this.finish('no-backend', 'ok');
    this.pool = pool;
    this.backendCounters = this.fe.traffic.backend(pool.name);
    this.backendCounters.connect();
    this.req = { sourceIp: this.clientAddr.address, uri: '', random: this.fe.rnd };
    this.handleAcquire(pool.acquire(this.req));
  }

  private handleAcquire(r: ServerState | AcquireFailure | Promise<ServerState | AcquireFailure>): void {
    if (typeof r === 'string') return this.finish(r, 'ok');
    if (r instanceof Promise) {
      r.then(this.onQueued, (err: unknown) => this.finish('no-server', 'ok', String(err)));
      return;
    }
    this.connect(r);
  }

  private readonly onQueued = (r: ServerState | AcquireFailure): void => {
    if (this.aborted || this.state === 'done') {
      if (typeof r !== 'string') this.pool!.release(r, 'ok');
      return this.finish('aborted', 'ok');
    }
    this.handleAcquire(r);
  };

  private connect(server: ServerState): void {
    this.state = 'connect';
    this.held = server;
    this.serverName = server.name;
    this.serverCounters = this.fe.traffic.server(this.pool!.name, server.name);
    this.serverCounters.connect();
    this.attempts++;
    this.connectStart = performance.now();
    const up = net.connect({ host: server.host, port: server.port, allowHalfOpen: true, noDelay: true });
    this.upstream = up;
    up.once('connect', this.onConnect);
    up.once('error', this.onConnectError);
    const ms = this.pool!.config.timeouts.connect;
    if (ms > 0) this.connectTimer = setTimeout(this.onConnectTimeout, ms);
  }

  private readonly onConnect = (): void => {
    clearTimeout(this.connectTimer);
    const up = this.upstream!;
    up.off('error', this.onConnectError);
    this.connectMs = performance.now() - this.connectStart;
    if (this.aborted || this.clientGone) {
      up.destroy();
      return this.finish(this.aborted ? 'aborted' : 'client-abort', 'ok');
    }
    this.state = 'relay';
    const server = this.held!;
    const sc = this.fe.serverConfig(server.backend, server.name);
    // Written before any client byte, in one write, as the spec asks (section 2).
    const preamble = sc?.sendProxy ? (sc.sendProxy === 'v2' ? encodeProxyV2(this.clientAddr, this.localAddr) : encodeProxyV1(this.clientAddr, this.localAddr)) : undefined;
    this.client.off('error', this.onEarlyClientError);
    this.client.off('close', this.onEarlyClientClose);
    const fe = this.fe.config.timeouts;
    const be = this.pool!.config.timeouts;
    // HAProxy: once a tunnel is established, "timeout tunnel" supersedes client and server.
    const opts: RelayOptions = { clientIdleMs: fe.tunnel > 0 ? fe.tunnel : fe.client, serverIdleMs: be.tunnel > 0 ? be.tunnel : be.server };
    if (this.fe.relayKind === 'native' && !this.viaTls) {
      this.relay = new NativeTcpRelay(this.client, up, opts, this.onRelayDone, preamble);
    } else {
      if (preamble) up.write(preamble);
      this.relay = new TcpRelay(this.client, up, opts, this.onRelayDone);
    }
    this.relay.start();
  };

  private readonly onConnectError = (err: Error): void => this.connectFailed(err.message);
  private readonly onConnectTimeout = (): void => this.connectFailed(`connect timeout after ${this.pool!.config.timeouts.connect} ms`);

  private connectFailed(reason: string): void {
    clearTimeout(this.connectTimer);
    const up = this.upstream!;
    up.off('connect', this.onConnect);
    up.off('error', this.onConnectError);
    up.on('error', ignore); // a late error from the destroyed attempt
    up.destroy();
    this.upstream = undefined;
    const pool = this.pool!;
    const server = this.held!;
    pool.release(server, 'connect-error');
    this.serverCounters!.disconnect();
    this.held = undefined;
    const backend = pool.config;
    const step = retryStep(backend, this.attempts - 1, !this.aborted && !this.client.destroyed);
    if (step === 'give-up') {
      return this.finish(this.aborted ? 'aborted' : 'connect-error', 'ok', `${server.name}: ${reason}`);
    }
    const field = retryCounter(step);
    this.backendCounters![field]++;
    this.serverCounters![field]++;
    this.fe.logger.debug({ server: server.name, attempt: this.attempts, reason }, 'tcp connect failed, retrying');
    if (step === 'redispatch') {
      this.tried = triedWith(this.tried, server);
      let r = pool.acquire(this.req!, this.tried);
      // Every server tried: start over rather than give up while retries remain.
      if (r === 'no-server') r = pool.acquire(this.req!);
      return this.handleAcquire(r);
    }
    const again = pool.acquireNamed(server.name);
    if (!again) return this.finish('connect-error', 'ok', `${server.name}: ${reason}; not usable for a retry`);
    this.connect(again);
  }

  private readonly onEarlyClientError = (): void => {
    // The relay is not running yet; destroying the socket is all there is to do. The state
    // machine notices `client.destroyed` at its next step.
  };

  /**
   * Once the PROXY header reader has read from the socket, a client reset while we wait in the
   * queue or connect closes it for good. The relay waits for both sockets' 'close' events, and
   * this one has already happened: handing it such a socket left the session (and its server
   * slot) open forever, and close() waiting for it. So the session ends here instead.
   */
  private readonly onEarlyClientClose = (): void => {
    this.clientGone = true;
    if (this.state === 'acquire') return this.finish('client-abort', 'ok'); // a later onQueued gives the server back
    if (this.state === 'connect' && this.upstream) {
      this.upstream.off('connect', this.onConnect);
      this.upstream.off('error', this.onConnectError);
      this.upstream.on('error', ignore);
      this.upstream.destroy();
      clearTimeout(this.connectTimer);
      this.finish('client-abort', 'ok');
    }
    // 'header': the header read sees the close and ends the session itself.
  };

  private readonly onRelayDone = (r: RelayResult): void => {
    const outcome: Outcome =
      r.termination === 'server-reset'
        ? 'server-error'
        : r.termination === 'server-idle-timeout' && r.serverBytesIn === 0 && r.clientBytesIn > 0
          ? 'timeout' // the client spoke and the server never answered
          : 'ok';
    this.finishWith(r.termination, outcome, r.error, r.clientBytesIn, r.clientBytesOut, r.firstFin);
  };

  private count(bytesIn: number, bytesOut: number): void {
    const f = this.fe.counters;
    f.disconnect();
    f.bytesIn += bytesIn;
    f.bytesOut += bytesOut;
    const b = this.backendCounters;
    if (b === undefined) return;
    b.disconnect();
    b.bytesIn += bytesIn;
    b.bytesOut += bytesOut;
    const s = this.serverCounters;
    if (s === undefined) return;
    s.bytesIn += bytesIn;
    s.bytesOut += bytesOut;
  }

  /** End before relaying: close the client, release the server if one is held. */
  private finish(termination: string, outcome: Outcome, error?: string): void {
    if (!this.client.destroyed) this.client.destroy();
    this.finishWith(termination, outcome, error, this.client.bytesRead, this.client.bytesWritten, undefined);
  }

  private finishWith(termination: string, outcome: Outcome, error: string | undefined, bytesIn: number, bytesOut: number, firstFin: string | undefined): void {
    if (this.state === 'done') return;
    if (this.held) {
      this.pool!.release(this.held, outcome);
      this.serverCounters!.disconnect();
    }
    this.held = undefined;
    this.state = 'done';
    this.count(bytesIn, bytesOut);
    const rec: TcpAccessRecord = {
      client: `${this.clientAddr.address}:${this.clientAddr.port}`,
      frontend: this.fe.config.name,
      backend: this.pool?.name ?? this.fe.config.defaultBackend ?? '',
      server: this.serverName,
      attempts: this.attempts,
      connectMs: this.connectMs < 0 ? -1 : Math.round(this.connectMs * 1000) / 1000,
      durationMs: Math.round((performance.now() - this.started) * 1000) / 1000,
      bytesIn,
      bytesOut,
      termination,
    };
    if (firstFin) rec.firstFin = firstFin;
    if (error) rec.error = error;
    const t = accessTls(tlsFacts(this.client));
    if (t !== undefined) rec.tls = t;
    this.fe.sessionDone(this, rec);
  }
}

function ignore(): void {}
