// Upgrade requests (WebSocket and the like): pick a server, open a dedicated connection, send the
// request head and wait for the answer. A 101 makes a tunnel: bytes relayed both ways until either
// side closes or it idles out. Any other answer is relayed as a response and the client goes back
// to HTTP parsing, so what it sent behind the upgrade request is routed as requests.
// The server keeps its slot while the tunnel is open, so leastconn sees long-lived sockets.
// The client is an HTTP/1.1 connection or an HTTP/2 stream (RFC 8441): upgrade-client.ts.
import net from 'node:net';
import type { Socket } from 'node:net';
import type { BackendPool, AcquireFailure, Outcome } from '../../pool/backend-pool.ts';
import type { ServerState } from '../../pool/server-state.ts';
import type { PickRequest } from '../../balance/policy.ts';
import type { FrontendRuntime } from './http-exchange.ts';
import { tlsFacts } from '../tls/tls-facts.ts';
import { buildRequestHead } from './request-head.ts';
import { retryStep, triedWith } from '../retry-policy.ts';
import { readCookie } from './cookie-persistence.ts';
import { clientIp, clientPort } from '../client-address.ts';
import { accessTls, span, type Termination } from '../access-log.ts';
import { ResponseParser } from './response-parser.ts';
import type { ByteStream } from '../byte-stream.ts';
import type { RefusedSink, TunnelStream, UpgradeClient } from './upgrade-client.ts';

const STATUS = /^HTTP\/1\.[01] ([0-9]{3})/;
const MAX_ANSWER_HEAD = 65536;

function ignoreError(): void {
  // 'close' follows and ends the tunnel
}

export class UpgradeTunnel implements PickRequest {
  readonly sourceIp: string;
  readonly uri: string;
  readonly random = Math.random;
  private readonly rt: FrontendRuntime;
  private readonly req: UpgradeClient;
  private readonly client: TunnelStream;
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
  /** The server's answer so far, while its head is incomplete. */
  private answered: Buffer | undefined;
  /** Set when the server refused the upgrade: its answer goes through this to the client. */
  private relay: RefusedSink | undefined;
  private readonly parser = new ResponseParser();
  private handedBack = false;

  constructor(rt: FrontendRuntime, client: UpgradeClient, onDone: (t: UpgradeTunnel) => void) {
    this.rt = rt;
    this.req = client;
    this.client = client.stream;
    this.firstBytes = client.unread;
    this.onDone = onDone;
    this.sourceIp = clientIp(client.connection);
    this.uri = client.url;
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return typeof v === 'string' ? v : v?.[0];
  }

  /** The client side closed: an abort, unless halb closed it and said why (a tunnel timeout). */
  private readonly onClientClose = (): void => this.finish(this.finished || this.termination !== 'ok' ? this.termination : 'client-abort');

  start(): void {
    this.client.on('error', ignoreError);
    this.client.on('close', this.onClientClose);
    const backend = this.rt.routes.route({ method: this.req.method, host: this.req.headers.host, url: this.uri, header: (n) => this.header(n) });
    const pool = backend === undefined ? undefined : this.rt.pools.get(backend);
    if (pool === undefined) return this.reject(503, 'no-backend');
    this.pool = pool;
    const h = buildRequestHead(
      { method: this.req.method, url: this.uri, rawHeaders: this.req.rawHeaders, clientIp: this.sourceIp, proto: this.rt.proto, upgrade: true, tls: tlsFacts(this.req.connection) },
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
    const secure = this.pool!.tls;
    const up = secure === undefined ? net.connect({ host: s.host, port: s.port, noDelay: true }) : secure.connect(s.host, s.port);
    up.setNoDelay(true);
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
    // over TLS, connected means handshaken and verified
    up.on(secure === undefined ? 'connect' : 'secureConnect', () => {
      connected = true;
      this.tc = performance.now();
      // until the server agrees to switch, it answers within the server timeout like any request
      up.setTimeout(cfg.timeouts.server);
      up.write(this.head, 'latin1');
      // What the client sent after the request waits for the answer: after a 101 it is tunnel
      // data, after anything else it is the next request and must be parsed as one.
      this.client.pause();
      up.on('data', (d: Buffer) => this.answer(d));
    });
    up.on('error', (err) => {
      if (connected) {
        if (this.termination === 'ok') this.termination = 'server-error';
        return;
      }
      this.release('connect-error');
      this.rt.log.warn({ backend: cfg.name, server: s.name, err: err.message }, 'tunnel connect failed');
      const step = retryStep(cfg, this.retries, !this.finished);
      if (step === 'give-up') {
        this.reject(503, 'connect-error');
        return;
      }
      this.retries++;
      // same-server: the tunnel does not hold on to the server by name, the pool picks again
      if (step === 'redispatch') this.tried = triedWith(this.tried, s);
      this.acquire();
    });
    up.on('close', () => {
      if (!connected || this.handedBack) return;
      if (this.relay !== undefined && this.parser.sink !== undefined) {
        // a refused upgrade's answer framed by the server closing ends here
        const err = this.parser.finish();
        if (err === undefined) return;
        this.rt.log.warn({ backend: cfg.name, server: s.name, reason: err }, 'bad response to an upgrade request');
        this.termination = 'server-error';
      }
      this.req.endSoon();
      this.finish(this.termination);
    });
  }

  /** Bytes from the server: its answer to the upgrade request, then (refused) that answer's body. */
  private answer(d: Buffer): void {
    if (this.handedBack) return;
    if (this.relay !== undefined) {
      const err = this.parser.execute(d);
      if (err !== undefined) this.badAnswer(err);
      return;
    }
    let buf = this.answered === undefined ? d : Buffer.concat([this.answered, d]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
      if (end < 0) {
        if (buf.length > MAX_ANSWER_HEAD) this.badAnswer('response head too long');
        else this.answered = buf;
        return;
      }
      const m = STATUS.exec(buf.toString('latin1', 0, Math.min(end, 16)));
      if (m === null) return this.badAnswer('bad status line');
      const status = Number(m[1]);
      if (status === 101) return this.switchProtocols(buf.subarray(0, end + 4), buf.subarray(end + 4));
      if (status >= 200) return this.refused(status, buf);
      // interim (100 Continue, 103 Early Hints): passed on, the final answer follows
      this.req.interim(buf.subarray(0, end + 4));
      buf = buf.subarray(end + 4);
      this.answered = undefined;
      if (buf.length === 0) return;
    }
  }

  /** `head`: the 101 answer up to its blank line; `rest`: what the server sent behind it. */
  private switchProtocols(head: Buffer, rest: Buffer): void {
    const up = this.upstream!;
    up.removeAllListeners('data');
    this.answered = undefined;
    const written = this.req.switched(head);
    if (written === undefined) return this.badAnswer('unacceptable 101 answer');
    const idle = this.pool!.config.timeouts.tunnel;
    up.setTimeout(idle);
    this.client.setTimeout(idle);
    this.client.on('timeout', () => {
      this.termination = 'client-timeout';
      this.client.destroy();
      up.destroy();
    });
    this.bytesOut += written + rest.length;
    if (rest.length > 0) this.client.write(rest);
    this.bytesIn += this.firstBytes.length;
    if (this.firstBytes.length > 0) up.write(this.firstBytes);
    up.on('data', (d: Buffer) => {
      this.bytesOut += d.length;
    });
    this.client.on('data', (d: Buffer) => {
      this.bytesIn += d.length;
    });
    up.pipe(this.client);
    this.client.pipe(up);
  }

  /** Anything but 101: relay it as an HTTP response, then the client speaks HTTP again. */
  private refused(status: number, answer: Buffer): void {
    this.status = status;
    this.answered = undefined;
    const method = this.req.method;
    this.relay = this.req.refusedSink(this.rt.responseOps, method === 'HEAD', () => this.handBack());
    this.parser.reset(this.relay, method === 'HEAD');
    const err = this.parser.execute(answer);
    if (err !== undefined) this.badAnswer(err);
  }

  private badAnswer(reason: string): void {
    if (this.handedBack || this.finished) return;
    this.rt.log.warn({ backend: this.pool!.name, server: this.serverName, reason }, 'bad response to an upgrade request');
    this.release('server-error');
    if (this.relay === undefined) return this.reject(502, 'bad-response');
    // part of the answer went out already: the client connection cannot be reused
    this.termination = 'bad-response';
    this.client.destroy();
  }

  /** The refused upgrade's answer is complete: give the client back to the HTTP parser. */
  private handBack(): void {
    if (this.handedBack || this.finished) return;
    this.handedBack = true;
    this.bytesOut = this.relay!.bytesOut;
    const c = this.client;
    c.off('close', this.onClientClose);
    c.off('error', ignoreError);
    this.finish('ok');
    this.req.afterRefused();
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
    this.req.reject(status);
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
      client: `${this.sourceIp}:${clientPort(this.req.connection)}`,
      frontend: this.rt.name,
      backend: this.pool?.name,
      server: this.serverName,
      method: this.req.method,
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
      ...tlsField(this.req.connection),
      ...(this.req.proto === undefined ? {} : { proto: this.req.proto }),
    });
  }
}

/** The access log's tls field, present only on TLS connections. */
function tlsField(client: ByteStream): { tls?: ReturnType<typeof accessTls> } {
  const tls = accessTls(tlsFacts(client));
  return tls === undefined ? {} : { tls };
}
