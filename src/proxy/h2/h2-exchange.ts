// One client HTTP/2 stream as the HTTP/1.1 exchange (proxy/http1/http-exchange.ts) sees a request
// and its response, so a stream routed to an HTTP/1.1 backend takes the same path as an HTTP/1.1
// request: routing, balancing, retries, forwarded headers, header ops, access log and stats, over
// the pooled HTTP/1.1 server connections. Node's http2 compat objects (Http2ServerRequest and
// Http2ServerResponse) carry the body both ways with flow control; what differs is translated
// here: pseudo-headers become the request line and Host, a body without content-length is sent
// chunked, and the server's hop-by-hop headers (which HTTP/2 forbids, RFC 9113 §8.2.2) are
// dropped from the response.
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { ByteStream } from '../byte-stream.ts';
import type { ExchangeRequest, ExchangeResponse } from '../http1/http-exchange.ts';

const { NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** Response headers an HTTP/1.1 server may send that have no place in HTTP/2. */
const H1_ONLY = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

export class H2ExchangeRequest implements ExchangeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  /** The connection the stream came on: client address, TLS facts. */
  readonly socket: ByteStream;
  private readonly body: http2.Http2ServerRequest;

  constructor(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], socket: ByteStream) {
    this.body = new http2.Http2ServerRequest(stream, headers, {}, rawHeaders);
    this.method = String(headers[':method'] ?? 'GET');
    this.url = String(headers[':path'] ?? '/');
    this.socket = socket;
    const authority = headers[':authority'];
    this.rawHeaders = h1RawHeaders(rawHeaders, typeof authority === 'string' ? authority : undefined, !stream.endAfterHeaders);
    // node joins repeated cookie fields with "; " (RFC 9113 §8.2.3) and the exchange reads Host
    const h: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':')) h[k] = v as string | string[];
    if (h.host === undefined && typeof authority === 'string') h.host = authority;
    this.headers = h;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node's own listener type
  on(event: string, listener: (...args: any[]) => void): this {
    // the exchange's listeners find it through `this`, which must be this adapter
    this.body.on(event, listener.bind(this));
    return this;
  }

  pause(): this {
    this.body.pause();
    return this;
  }

  resume(): this {
    this.body.resume();
    return this;
  }
}

/** The HTTP/1.1 header list of an h2 request: no pseudo-headers, Host from :authority (RFC 9113
 *  §8.3.1), cookies in one field (RFC 9113 §8.2.3), and chunked framing for a body of unknown length. */
export function h1RawHeaders(raw: readonly string[], authority: string | undefined, hasBody: boolean): string[] {
  const out: string[] = [];
  let host = false;
  let length = false;
  const cookies: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.startsWith(':')) continue;
    const lower = name.toLowerCase();
    if (lower === 'cookie') {
      cookies.push(value);
      continue;
    }
    // transfer-encoding is illegal in HTTP/2; node refuses it already, the framing is decided here
    if (lower === 'transfer-encoding' || lower === 'te') continue;
    if (lower === 'host') host = true;
    else if (lower === 'content-length') length = true;
    out.push(name, value);
  }
  if (!host && authority !== undefined) out.unshift('host', authority);
  if (cookies.length > 0) out.push('cookie', cookies.join('; '));
  if (hasBody && !length) out.push('transfer-encoding', 'chunked');
  return out;
}

export class H2ExchangeResponse implements ExchangeResponse {
  /** A stream is not a connection: there is nothing to keep alive or close. */
  shouldKeepAlive = true;
  private readonly res: http2.Http2ServerResponse;
  private readonly stream: http2.ServerHttp2Stream;

  constructor(stream: http2.ServerHttp2Stream) {
    this.stream = stream;
    this.res = new http2.Http2ServerResponse(stream);
  }

  get statusCode(): number {
    return this.res.statusCode;
  }

  set statusCode(v: number) {
    this.res.statusCode = v;
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node's own listener type
  on(event: string, listener: (...args: any[]) => void): this {
    // the exchange's listeners find it through `this`, which must be this adapter
    this.res.on(event, listener.bind(this));
    return this;
  }

  writeHead(status: number, _reason: string | undefined, headers: string[]): this {
    // HTTP/2 has no reason phrase
    this.res.writeHead(status, h2ResponseHeaders(headers));
    return this;
  }

  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  end(data?: string): this {
    if (data === undefined) this.res.end();
    else this.res.end(data);
    return this;
  }

  /** The response cannot be completed (the server failed mid-body): the stream is reset, as
   *  HAProxy does, so the client does not take a truncated body for a whole one. */
  destroy(): this {
    if (!this.stream.closed && !this.stream.destroyed) this.stream.close(NGHTTP2_INTERNAL_ERROR);
    return this;
  }
}

/** An HTTP/1.1 response header list as HTTP/2 headers: lower-case names, repeated ones as arrays. */
export function h2ResponseHeaders(list: readonly string[]): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  const connectionNamed = new Set<string>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    if (list[i]!.toLowerCase() === 'connection') for (const t of list[i + 1]!.split(',')) connectionNamed.add(t.trim().toLowerCase());
  }
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i]!.toLowerCase();
    if (H1_ONLY.has(name) || connectionNamed.has(name)) continue;
    const value = list[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  return out;
}
