// One client HTTP/2 stream relayed to a server of a `proto: h2` backend over the upstream h2 pool
// (upstream-h2-pool.ts): the backend's balancer picks the server, request headers and body go
// up, response headers, DATA and trailers come down, both bodies streaming with backpressure
// (pipe). This is what gRPC needs end to end: grpc-status lives in the trailers, so the client
// stream answers with waitForTrailers and sends the server's trailers when its last DATA is out;
// a trailers-only answer (an error, END_STREAM on the HEADERS) goes down the same way.
//
// RST_STREAM crosses both ways with its code: the server resetting the stream resets the
// client's, the client resetting (or leaving) resets the server's. A server that cannot be
// reached (refused, TLS verification, connect timeout) is retried or redispatched as the
// backend's retries/redispatch say (proxy/retry-policy.ts): nothing was sent to it, and the
// client's body is only read once a server stream exists. Once the server has the request,
// a failure is the client's answer (502/504 before response headers, a reset after).
//
// The frontend calls relayH2Stream for each stream routed to a `proto: h2` backend; its
// headers, routing and logs stay the frontend's (extraHeaders carries what it adds, such as
// x-forwarded-for).
import http2 from 'node:http2';
import type { BackendPool, AcquireFailure, Outcome } from '../../pool/backend-pool.ts';
import type { ServerState } from '../../pool/server-state.ts';
import type { Logger } from '../../log/logger.ts';
import { retryStep, triedWith } from '../retry-policy.ts';
import type { UpstreamH2Pool, H2StreamResult } from './upstream-h2-pool.ts';

const {
  NGHTTP2_NO_ERROR,
  NGHTTP2_CANCEL,
  NGHTTP2_FLAG_END_STREAM,
} = http2.constants;

/** Hop-by-hop headers HTTP/2 forbids (RFC 9113 8.2.2); node refuses to send them. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host']);

export interface H2RelayRuntime {
  upstream: UpstreamH2Pool;
  log: Logger;
}

export interface H2RelayOptions {
  /** The client's address, for `balance: source` and logs. */
  sourceIp?: string;
  /** Headers the frontend adds or replaces on the way up (x-forwarded-for, forwarded, ...). */
  extraHeaders?: http2.OutgoingHttpHeaders;
}

export interface H2RelayResult {
  /** The server that answered (or the last one tried). */
  server: string | undefined;
  /** :status sent to the client; 0 when the stream was reset before any. */
  status: number;
  /** grpc-status of the answer (trailers or trailers-only headers), when it had one. */
  grpcStatus: string | undefined;
  /** RST_STREAM code that ended the client's stream, when it was reset. */
  resetCode: number | undefined;
  /** Retries and redispatches made for connect failures. */
  retries: number;
  /** Why halb answered itself, if it did: no-server, connect-error, server-timeout, server-error. */
  error: string | undefined;
  /** Request body bytes (DATA payloads) relayed from the client to the server. */
  bytesIn: number;
  /** Response body bytes (DATA payloads) relayed from the server to the client. */
  bytesOut: number;
}

/**
 * Relays `client` (a stream the h2 frontend accepted, with its request `headers`) to a server of
 * `pool`. Resolves when the client stream has closed, with what happened.
 */
export function relayH2Stream(client: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, pool: BackendPool, rt: H2RelayRuntime, opts: H2RelayOptions = {}): Promise<H2RelayResult> {
  return new Promise((resolve) => new Relay(client, headers, pool, rt, opts, resolve).start());
}

class Relay {
  private readonly result: H2RelayResult = { server: undefined, status: 0, grpcStatus: undefined, resetCode: undefined, retries: 0, error: undefined, bytesIn: 0, bytesOut: 0 };
  private readonly upHeaders: http2.OutgoingHttpHeaders;
  private tried: Set<ServerState> | undefined;
  private server: ServerState | undefined;
  private up: http2.ClientHttp2Stream | undefined;
  private trailers: http2.OutgoingHttpHeaders | undefined;
  private outcome: Outcome = 'ok';
  private readonly client: http2.ServerHttp2Stream;
  private readonly headers: http2.IncomingHttpHeaders;
  private readonly pool: BackendPool;
  private readonly rt: H2RelayRuntime;
  private readonly opts: H2RelayOptions;

  constructor(
    client: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    pool: BackendPool,
    rt: H2RelayRuntime,
    opts: H2RelayOptions,
    done: (r: H2RelayResult) => void,
  ) {
    this.client = client;
    this.headers = headers;
    this.pool = pool;
    this.rt = rt;
    this.opts = opts;
    this.upHeaders = requestHeaders(headers, opts.extraHeaders);
    client.on('error', () => {
      // a client stream error ends in 'close', handled there
    });
    client.once('close', () => {
      const code = client.rstCode;
      if (code !== undefined && code !== NGHTTP2_NO_ERROR) this.result.resetCode = code;
      const up = this.up;
      // the client left or reset before the server's stream ended: the server hears of it
      if (up !== undefined && !up.closed && !up.destroyed) up.close(code !== undefined && code !== NGHTTP2_NO_ERROR ? code : NGHTTP2_CANCEL);
      done(this.result);
    });
  }

  start(): void {
    this.acquire();
  }

  private gone(): boolean {
    return this.client.closed || this.client.destroyed;
  }

  private acquire(): void {
    if (this.gone()) return;
    const pick = {
      sourceIp: this.opts.sourceIp ?? '',
      uri: String(this.headers[':path'] ?? ''),
      header: (name: string) => {
        const v = this.headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      },
      random: this.pool.random,
    };
    let r = this.pool.acquire(pick, this.tried);
    // every server tried: as the HTTP/1.1 exchange, any usable server rather than none
    if (r === 'no-server' && this.tried !== undefined) r = this.pool.acquire(pick);
    if (r instanceof Promise) r.then((x) => this.acquired(x), () => this.acquired('no-server'));
    else this.acquired(r);
  }

  private acquired(r: ServerState | AcquireFailure): void {
    if (typeof r === 'string') {
      this.rt.log.warn({ backend: this.pool.name, reason: r }, 'no server available');
      this.answer(503, this.result.retries > 0 && r === 'no-server' ? 'connect-error' : r);
      return;
    }
    if (this.gone()) {
      this.pool.release(r, 'ok');
      return;
    }
    this.server = r;
    this.result.server = r.name;
    this.rt.upstream.request(
      r,
      this.pool.tls,
      { headers: this.upHeaders, connectTimeout: this.pool.config.timeouts.connect, endStream: this.client.endAfterHeaders },
      (res) => this.streamed(r, res),
    );
  }

  private streamed(server: ServerState, res: H2StreamResult): void {
    if (res.connectError !== undefined) {
      this.pool.release(server, 'connect-error');
      const step = retryStep(this.pool.config, this.result.retries, !this.gone());
      this.rt.log.warn({ backend: this.pool.name, server: server.name, err: res.connectError.message, retry: step !== 'give-up' }, 'connect to server failed');
      if (step === 'give-up') {
        this.answer(503, 'connect-error');
        return;
      }
      this.result.retries++;
      this.tried = step === 'redispatch' ? triedWith(this.tried, server) : undefined;
      this.acquire();
      return;
    }
    const up = res.stream;
    if (this.gone()) {
      up.close(NGHTTP2_CANCEL);
      this.pool.release(server, 'ok');
      return;
    }
    this.wire(server, up);
  }

  private wire(server: ServerState, up: http2.ClientHttp2Stream): void {
    this.up = up;
    const client = this.client;
    up.setTimeout(this.pool.config.timeouts.server);
    up.on('timeout', () => {
      this.outcome = 'timeout';
      this.rt.log.warn({ backend: this.pool.name, server: server.name }, 'server timeout');
      if (!client.headersSent) this.answer(504, 'server-timeout');
      up.close(NGHTTP2_CANCEL);
    });
    up.on('error', (err: Error) => {
      if (this.outcome === 'ok') this.outcome = 'server-error';
      this.rt.log.debug({ backend: this.pool.name, server: server.name, err: err.message }, 'server stream error');
    });
    up.on('response', (h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number) => {
      if (this.gone()) return;
      const status = Number(h[':status']);
      this.result.status = status;
      const grpc = h['grpc-status'];
      if (typeof grpc === 'string') this.result.grpcStatus = grpc;
      const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
      // a trailers-only answer ends with its headers; any other waits for the server's trailers
      client.respond(responseHeaders(h), endStream ? { endStream: true } : { waitForTrailers: true });
      if (!endStream) {
        up.on('data', (chunk: Buffer) => (this.result.bytesOut += chunk.length));
        up.pipe(client);
      }
    });
    up.on('trailers', (t: http2.IncomingHttpHeaders) => {
      this.trailers = responseHeaders(t, true);
      const grpc = t['grpc-status'];
      if (typeof grpc === 'string') this.result.grpcStatus = grpc;
    });
    client.once('wantTrailers', () => {
      if (!this.gone()) client.sendTrailers(this.trailers ?? {});
    });
    up.once('close', () => {
      this.pool.release(server, this.outcome);
      const code = up.rstCode;
      if (this.gone()) return;
      if (code !== undefined && code !== NGHTTP2_NO_ERROR) {
        // the server reset its stream (or its session died): the client's is reset the same way
        if (!client.headersSent && this.outcome === 'ok') this.outcome = 'server-error';
        client.close(code);
      } else if (!client.headersSent) {
        this.answer(502, 'server-error');
      }
    });
    if (!client.endAfterHeaders) {
      client.on('data', (chunk: Buffer) => (this.result.bytesIn += chunk.length));
      client.pipe(up);
    }
  }

  /** halb answers the client itself: no server, or none that could answer. */
  private answer(status: number, error: string): void {
    this.result.error = error;
    if (this.gone() || this.client.headersSent) return;
    this.result.status = status;
    this.client.respond({ ':status': status, 'content-type': 'text/plain' });
    this.client.end(`${status === 503 ? 'no server available' : status === 504 ? 'server timeout' : 'bad gateway'}\n`);
    // the client's body (if any) is not wanted any more
    this.client.resume();
  }
}

function requestHeaders(h: http2.IncomingHttpHeaders, extra: http2.OutgoingHttpHeaders | undefined): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || CONNECTION_HEADERS.has(k)) continue;
    // te is allowed in HTTP/2 only as "trailers" (gRPC sends it)
    if (k === 'te' && v !== 'trailers') continue;
    out[k] = v;
  }
  if (out[':authority'] === undefined && typeof h.host === 'string') out[':authority'] = h.host;
  if (extra !== undefined) Object.assign(out, extra);
  return out;
}

function responseHeaders(h: http2.IncomingHttpHeaders, trailers = false): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || CONNECTION_HEADERS.has(k)) continue;
    // trailers carry no pseudo-headers
    if (trailers && k.startsWith(':')) continue;
    out[k] = v;
  }
  return out;
}
