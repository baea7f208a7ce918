// Upgrade requests (WebSocket and the like): pick a server, open a dedicated connection, send the
// request head, then relay bytes both ways until either side closes or the tunnel idles out.
// The server keeps its slot while the tunnel is open, so leastconn sees long-lived sockets.
import net from 'node:net';
import type { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { BackendPool, AcquireFailure, Outcome } from '../pool/backend-pool.ts';
import type { ServerState } from '../pool/server-state.ts';
import type { PickRequest } from '../balance/policy.ts';
import type { FrontendRuntime } from './http-exchange.ts';
import { buildRequestHead } from './request-head.ts';
import { readCookie } from './cookie-persistence.ts';
import { rawError } from './error-responses.ts';
import { clientIp, clientPort } from './client-address.ts';
import { span, type Termination } from './access-log.ts';

export class UpgradeTunnel implements PickRequest {
  readonly sourceIp: string;
  readonly uri: string;
  readonly random = Math.random;
  private readonly rt: FrontendRuntime;
  private readonly req: IncomingMessage;
  private readonly client: Socket;
  private readonly firstBytes: Buffer;
  private readonly onDone: (t: UpgradeTunnel) => void;
  private pool: BackendPool | undefined;
  private server: ServerState | undefined;
  private serverName: string | undefined;
  private upstream: Socket | undefined;
  private head = '';
  private tried: Set<ServerState> | undefined;
  private retries = 0;
  private finished = false;
  private termination: Termination = 'ok';
  private status = 101;
  private bytesIn = 0;
  private bytesOut = 0;
  private readonly t0 = performance.now();
  private tq = -1;
  private tc = -1;

  constructor(rt: FrontendRuntime, req: IncomingMessage, client: Socket, head: Buffer, onDone: (t: UpgradeTunnel) => void) {
    this.rt = rt;
    this.req = req;
    this.client = client;
    this.firstBytes = head;
    this.onDone = onDone;
    this.sourceIp = clientIp(client);
    this.uri = req.url ?? '/';
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return typeof v === 'string' ? v : v?.[0];
  }

  start(): void {
    this.client.on('error', () => {});
    this.client.on('close', () => this.finish(this.finished ? this.termination : 'client-abort'));
    const backend = this.rt.routes.route({ method: this.req.method ?? 'GET', host: this.req.headers.host, url: this.uri, header: (n) => this.header(n) });
    const pool = backend === undefined ? undefined : this.rt.pools.get(backend);
    if (pool === undefined) return this.reject(503, 'no-backend');
    this.pool = pool;
    const h = buildRequestHead(
      { method: this.req.method ?? 'GET', url: this.uri, rawHeaders: this.req.rawHeaders, clientIp: this.sourceIp, proto: 'http', upgrade: true },
      this.rt.forwarding,
    );
    if (!h.ok) return this.reject(h.status, 'bad-request');
    this.head = h.head;
    const cookie = pool.config.cookie;
    if (cookie !== undefined) {
      const wanted = readCookie(this.header('cookie'), cookie.name);
      const s = wanted === undefined ? undefined : pool.acquireNamed(wanted);
      if (s !== undefined) return this.connect(s);
    }
    this.acquire();
  }

  /** Close both sides now (shutdown). */
  destroy(): void {
    this.termination = 'shutdown';
    this.upstream?.destroy();
    this.client.destroy();
  }

  private acquire(): void {
    const r = this.pool!.acquire(this, this.tried);
    if (r instanceof Promise) r.then((x) => this.acquired(x), () => this.acquired('no-server'));
    else this.acquired(r);
  }

  private acquired(r: ServerState | AcquireFailure): void {
    if (typeof r === 'string') return this.reject(503, this.retries > 0 && r === 'no-server' ? 'connect-error' : r);
    this.connect(r);
  }

  private connect(s: ServerState): void {
    if (this.finished) {
      this.pool!.release(s, 'ok');
      return;
    }
    this.server = s;
    this.serverName = s.name;
    if (this.tq < 0) this.tq = performance.now();
    const up = net.connect({ host: s.host, port: s.port, noDelay: true });
    this.upstream = up;
    const cfg = this.pool!.config;
    up.setTimeout(cfg.timeouts.connect);
    let connected = false;
    up.on('timeout', () => {
      if (!connected) up.destroy(new Error('connect timeout'));
      else {
        this.termination = 'server-timeout';
        up.destroy();
        this.client.destroy();
      }
    });
    up.on('connect', () => {
      connected = true;
      this.tc = performance.now();
      const idle = cfg.timeouts.tunnel;
      up.setTimeout(idle);
      this.client.setTimeout(idle);
      this.client.on('timeout', () => {
        this.termination = 'client-timeout';
        this.client.destroy();
        up.destroy();
      });
      up.write(this.head, 'latin1');
      if (this.firstBytes.length > 0) up.write(this.firstBytes);
      up.on('data', (d: Buffer) => {
        this.bytesOut += d.length;
      });
      this.client.on('data', (d: Buffer) => {
        this.bytesIn += d.length;
      });
      up.pipe(this.client);
      this.client.pipe(up);
    });
    up.on('error', (err) => {
      if (connected) {
        if (this.termination === 'ok') this.termination = 'server-error';
        return;
      }
      this.release('connect-error');
      this.rt.log.warn({ backend: cfg.name, server: s.name, err: err.message }, 'tunnel connect failed');
      if (this.retries < cfg.retries && !this.finished) {
        this.retries++;
        if (cfg.redispatch) (this.tried ??= new Set()).add(s);
        this.acquire();
      } else {
        this.reject(503, 'connect-error');
      }
    });
    up.on('close', () => {
      if (connected) {
        this.client.destroySoon();
        this.finish(this.termination);
      }
    });
  }

  private release(outcome: Outcome): void {
    const s = this.server;
    if (s === undefined) return;
    this.server = undefined;
    this.pool!.release(s, outcome);
  }

  private reject(status: number, termination: Termination): void {
    this.status = status;
    this.termination = termination;
    if (this.client.writable) this.client.end(rawError(status));
    this.client.destroySoon();
    this.finish(termination);
  }

  private finish(termination: Termination): void {
    if (this.finished) {
      this.release('ok');
      return;
    }
    this.finished = true;
    this.termination = termination;
    this.release('ok');
    this.upstream?.destroy();
    this.onDone(this);
    const log = this.rt.accessLog;
    if (log === undefined || !log.enabled) return;
    log.write({
      client: `${this.sourceIp}:${clientPort(this.client)}`,
      frontend: this.rt.name,
      backend: this.pool?.name,
      server: this.serverName,
      method: this.req.method ?? 'GET',
      url: this.uri,
      status: this.status,
      Tq: span(this.t0, this.tq),
      Tc: span(this.tq, this.tc),
      Tr: -1,
      Tt: span(this.t0, performance.now()),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      retries: this.retries,
      termination: this.termination,
    });
  }
}
