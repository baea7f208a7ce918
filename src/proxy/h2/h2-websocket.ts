// WebSocket over HTTP/2 (RFC 8441): a client stream that sent an extended CONNECT
// (`:method CONNECT`, `:protocol websocket`) becomes an HTTP/1.1 Upgrade request to the server,
// through the same tunnel an HTTP/1.1 upgrade takes (http1/upgrade-tunnel.ts: routing, balancing,
// retries, the server's slot held while open, tunnel timeout, access log). What differs is the
// client side, translated here:
// - the request: GET with `Upgrade: websocket`, `Connection: Upgrade` and a Sec-WebSocket-Key
//   halb makes (HTTP/2 has none, RFC 8441 §5); the client's Sec-WebSocket-Version, -Protocol and
//   -Extensions go through as they are;
// - a 101 is checked (Sec-WebSocket-Accept must match the key) and answered `:status 200` on the
//   stream, with the server's negotiated subprotocol and extensions, then DATA frames carry the
//   WebSocket bytes both ways (piped, so flow control is the backpressure);
// - any other answer is the stream's response, body included;
// - closing: the server closing ends the stream (END_STREAM), the client ending or resetting the
//   stream closes the server connection. Once halb's side of a stream is over (a tunnel the server
//   closed, a refusal, an error answer) and the client's is not, the stream is reset with
//   NO_ERROR after the last DATA went out (RFC 9113 §8.1), as HTTP/1.1 closes the connection:
//   nothing the client sends after that has anywhere to go.
import http2 from 'node:http2';
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledHeaderOp } from '../http1/header-ops.ts';
import { applyHeaderOps } from '../http1/header-ops.ts';
import { STATUS_TEXT } from '../http1/error-responses.ts';
import type { RefusedSink, UpgradeClient } from '../http1/upgrade-client.ts';
import { h1RawHeaders, h2ResponseHeaders } from './h2-exchange.ts';

const { NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Headers of the client's request replaced by the ones halb sends for the upgrade. */
const REPLACED = new Set(['sec-websocket-key', 'upgrade', 'connection', 'content-length']);

/** The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 §4.2.2). */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

export class H2WebSocketClient implements UpgradeClient {
  readonly method = 'GET';
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly connection: Socket;
  readonly stream: http2.ServerHttp2Stream;
  readonly unread = Buffer.alloc(0);
  readonly proto = 'h2';
  private readonly key = randomBytes(16).toString('base64');
  private switchedOk = false;

  /** `socket`: the connection the stream came on. */
  constructor(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], socket: Socket) {
    this.stream = stream;
    this.connection = socket;
    this.url = String(headers[':path'] ?? '/');
    const authority = headers[':authority'];
    const client = h1RawHeaders(rawHeaders, typeof authority === 'string' ? authority : undefined, false);
    const raw: string[] = [];
    for (let i = 0; i + 1 < client.length; i += 2) if (!REPLACED.has(client[i]!.toLowerCase())) raw.push(client[i]!, client[i + 1]!);
    raw.push('Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', this.key);
    this.rawHeaders = raw;
    const h: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') && !REPLACED.has(k)) h[k] = v as string | string[];
    if (h.host === undefined && typeof authority === 'string') h.host = authority;
    h.upgrade = 'websocket';
    h.connection = 'Upgrade';
    h['sec-websocket-key'] = this.key;
    this.headers = h;
  }

  interim(): void {
    // 1xx answers to an upgrade request have no HTTP/2 counterpart worth sending: dropped
  }

  switched(head: Buffer): number | undefined {
    const fields = parseHead(head);
    let accept: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.toLowerCase() === 'sec-websocket-accept') accept = fields[i + 1];
    if (accept !== websocketAccept(this.key) || this.stream.destroyed || this.stream.headersSent) return undefined;
    const out = h2ResponseHeaders(fields);
    delete out['sec-websocket-accept'];
    this.stream.respond({ ...out, ':status': 200 });
    this.switchedOk = true;
    return head.length;
  }

  refusedSink(ops: readonly CompiledHeaderOp[], noBody: boolean, done: () => void): RefusedSink {
    return new H2RefusedSink(this.stream, ops, noBody, done);
  }

  afterRefused(): void {
    // the answer ended the stream; the connection serves its other streams as before
  }

  reject(status: number): void {
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    if (s.headersSent) {
      s.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    s.respond({ ':status': status, 'content-type': 'text/plain' });
    s.end(`${status} ${STATUS_TEXT[status] ?? 'Error'}\n`);
    closeAfterEnd(s);
  }

  endSoon(): void {
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    // after a 200, the server closing is the end of the tunnel; before, the answer never came
    // (or stopped short) and the stream is reset rather than ended as if complete
    if (!this.switchedOk) {
      s.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    s.end();
    closeAfterEnd(s);
  }
}

/** Resets a stream halb ended once what it wrote is out (node waits for 'finish' before it sends
 *  RST_STREAM NO_ERROR on a stream whose writable side is ending), unless the client ended its
 *  side too and the stream closed by itself. */
function closeAfterEnd(s: http2.ServerHttp2Stream): void {
  if (!s.closed && !s.destroyed) s.close(NGHTTP2_NO_ERROR);
}

/** A server's answer other than 101, as the stream's response. */
class H2RefusedSink implements RefusedSink {
  bytesOut = 0;
  private readonly stream: http2.ServerHttp2Stream;
  private readonly ops: readonly CompiledHeaderOp[];
  private readonly noBody: boolean;
  private readonly done: () => void;

  constructor(stream: http2.ServerHttp2Stream, ops: readonly CompiledHeaderOp[], noBody: boolean, done: () => void) {
    this.stream = stream;
    this.ops = ops;
    this.noBody = noBody;
    this.done = done;
  }

  onResponseHead(status: number, _reason: string, headers: string[]): void {
    const hs = this.ops.length > 0 ? applyHeaderOps(this.ops, headers) : headers;
    if (this.stream.destroyed || this.stream.headersSent) return;
    const bodiless = this.noBody || status === 204 || status === 304;
    this.stream.respond({ ...h2ResponseHeaders(hs), ':status': status }, { endStream: bodiless });
  }

  onResponseData(chunk: Buffer): void {
    if (chunk.length === 0 || this.stream.destroyed || !this.stream.writable) return;
    this.bytesOut += chunk.length;
    this.stream.write(chunk);
  }

  onResponseEnd(): void {
    if (!this.stream.destroyed && this.stream.writable) this.stream.end();
    closeAfterEnd(this.stream);
    this.done();
  }
}

/** The header fields of an HTTP/1.1 answer head (status line skipped), [name, value, ...]. */
function parseHead(head: Buffer): string[] {
  const lines = head.toString('latin1').split('\r\n');
  const out: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return out;
}
