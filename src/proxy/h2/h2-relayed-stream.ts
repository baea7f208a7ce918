// A client stream routed to a `proto: h2` backend (gRPC): its headers are forwarded the way an
// HTTP/1.1 request's are (X-Forwarded-*, Forwarded, the frontend's http-request ops, client
// certificate headers: buildRequestHead decides them, so both paths agree), the stream is relayed
// by relayH2Stream, and when it ends the same traffic counters and access log line an HTTP/1.1
// exchange writes are written for it, with the body bytes the relay counted.
import type http2 from 'node:http2';
import type { BackendPool } from '../../pool/backend-pool.ts';
import type { ByteStream } from '../byte-stream.ts';
import type { FrontendRuntime } from '../http1/http-exchange.ts';
import { buildRequestHead } from '../http1/request-head.ts';
import { clientIp, clientPort } from '../client-address.ts';
import { tlsFacts } from '../tls/tls-facts.ts';
import { accessTls, span, type AccessEntry, type Termination } from '../access-log.ts';
import { relayH2Stream, type H2RelayResult } from './h2-stream-relay.ts';
import type { UpstreamH2Pool } from './upstream-h2-pool.ts';
import { h1RawHeaders } from './h2-exchange.ts';

/** Headers of the HTTP/1.1 head that are framing or carried by pseudo-headers in HTTP/2. */
const NOT_H2 = new Set(['host', 'transfer-encoding', 'connection']);

/** Relays `stream`; resolves once it is over and counted. rt.exchangeDone is called exactly
 *  once, also when this rejects. */
export async function relayRoutedStream(
  rt: FrontendRuntime,
  upstream: UpstreamH2Pool,
  pool: BackendPool,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: string[],
  socket: ByteStream,
): Promise<void> {
  try {
    await relayAndLog(rt, upstream, pool, stream, headers, rawHeaders, socket);
  } finally {
    rt.exchangeDone();
  }
}

async function relayAndLog(
  rt: FrontendRuntime,
  upstream: UpstreamH2Pool,
  pool: BackendPool,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: string[],
  socket: ByteStream,
): Promise<void> {
  const t0 = performance.now();
  const ip = clientIp(socket);
  const method = String(headers[':method'] ?? 'GET');
  const url = String(headers[':path'] ?? '/');
  const authority = typeof headers[':authority'] === 'string' ? headers[':authority'] : undefined;
  const up = upstreamHeaders(rt, headers, rawHeaders, authority, ip, socket, !stream.endAfterHeaders);
  const backend = rt.traffic.backend(pool.name);
  backend.connect();
  const r: H2RelayResult = await relayH2Stream(stream, up, pool, { upstream, log: rt.log }, { sourceIp: ip });
  const seconds = (performance.now() - t0) / 1000;
  const status = r.status;
  for (const c of [rt.counters, backend, r.server === undefined ? undefined : rt.traffic.server(pool.name, r.server)]) {
    if (c === undefined) continue;
    c.response(status);
    c.bytesIn += r.bytesIn;
    c.bytesOut += r.bytesOut;
    if (status > 0) c.observe(seconds);
  }
  backend.disconnect();
  backend.retries += r.retries;
  const log = rt.accessLog;
  if (log === undefined || !log.enabled) return;
  const entry: AccessEntry = {
    client: `${ip}:${clientPort(socket)}`,
    frontend: rt.name,
    backend: pool.name,
    server: r.server,
    method,
    url,
    status,
    Tq: -1,
    Tc: -1,
    Tr: -1,
    Tt: span(t0, performance.now()),
    // body bytes (DATA payloads), as the HTTP/1.1 exchange counts them
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    retries: r.retries,
    termination: termination(r),
    proto: 'h2',
  };
  if (r.grpcStatus !== undefined) entry.grpcStatus = r.grpcStatus;
  if (r.resetCode !== undefined) entry.resetCode = r.resetCode;
  const tls = accessTls(tlsFacts(socket));
  if (tls !== undefined) entry.tls = tls;
  log.write(entry);
}

function termination(r: H2RelayResult): Termination {
  if (r.error !== undefined) return r.error as Termination;
  if (r.resetCode !== undefined && r.status === 0) return 'client-abort';
  return 'ok';
}

/** The request headers for the server: the client's, rewritten as an HTTP/1.1 request of the
 *  same frontend would be, with the pseudo-headers kept. */
function upstreamHeaders(
  rt: FrontendRuntime,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: string[],
  authority: string | undefined,
  ip: string,
  socket: ByteStream,
  hasBody: boolean,
): http2.IncomingHttpHeaders {
  const raw = h1RawHeaders(rawHeaders, authority, hasBody);
  const h = buildRequestHead({ method: 'GET', url: '/', rawHeaders: raw, clientIp: ip, proto: rt.proto, upgrade: false, tls: tlsFacts(socket) }, rt.forwarding);
  const out: http2.IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (k.startsWith(':')) out[k] = v;
  // te: trailers is what gRPC needs and HTTP/2 allows (buildRequestHead drops te as hop-by-hop)
  if (headers.te === 'trailers') out.te = 'trailers';
  if (!h.ok) return { ...headers };
  const lines = h.head.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'host') {
      // a header op may have rewritten Host: it is :authority in HTTP/2
      if (value !== '') out[':authority'] = value;
      continue;
    }
    if (NOT_H2.has(name)) continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
