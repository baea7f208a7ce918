// HTTP/2 to clients for one http frontend: TLS connections that negotiated ALPN h2 and, with
// `h2c: true`, plain connections that opened with the HTTP/2 preface (the frontend sniffs it,
// h2c-preface.ts). Framing, HPACK and flow control are node's http2 (nghttp2): a server that never
// listens is handed each connection, and each stream is passed to the frontend, which routes it
// like an HTTP/1.1 request (h2-exchange.ts) or relays it to a `proto: h2` backend
// (h2-relayed-stream.ts).
//
// What guards the process against the known HTTP/2 attacks, and who does it:
// - rapid reset (CVE-2023-44487): streams the client resets before their answer began are
//   counted per connection (reset-budget.ts); over the budget the connection gets GOAWAY
//   ENHANCE_YOUR_CALM and is closed. A stream starts its exchange only after the read that
//   brought it is processed, so a reset in the same read means nothing reaches a server.
// - CONTINUATION floods: nghttp2 caps the CONTINUATION frames of one header block and closes
//   the connection (node sends GOAWAY INTERNAL_ERROR);
// - HPACK bombs and oversized header lists: SETTINGS_MAX_HEADER_LIST_SIZE is announced and the
//   decoded size enforced by node once the client acknowledged it (the stream reset with
//   ENHANCE_YOUR_CALM before any handler; node also caps a list at 128 fields), and measured
//   here before that (431);
// - PING / SETTINGS floods: nghttp2 stops a connection whose unsent ACKs pile up (a client that
//   sends and never reads), node reports a session error and the connection is closed.
// Every such close is counted by reason (closedConnections).
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { H2Limits } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import { clientIp } from '../client-address.ts';
import { ResetBudget, RESET_WINDOW_MS } from './reset-budget.ts';

const { NGHTTP2_NO_ERROR, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** Why halb closed an HTTP/2 client connection (the metric's reason label). */
export type H2CloseReason = 'rapid-reset' | 'flood' | 'continuation-flood' | 'protocol-error' | 'timeout';

export interface H2HostDeps {
  log: Logger;
  /** A client stream, to be served (it may already be closed by the time the frontend looks). */
  stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], socket: Socket): void;
  /** A connection closed by halb for `reason`. */
  closed(reason: H2CloseReason): void;
  /** A session's connection ended (for the frontend's open-connection count). */
  ended(): void;
}

const kBudget = Symbol('halb.h2.resets');
const kSocket = Symbol('halb.h2.socket');
/** Closed by halb's own guard: the error node then emits is not another close to count. */
const kGuarded = Symbol('halb.h2.guarded');
type Session = http2.ServerHttp2Session & { [kBudget]?: ResetBudget; [kSocket]?: Socket; [kGuarded]?: boolean };

export class H2Host {
  private server: http2.Http2Server;
  private limits: H2Limits;
  private timeoutMs: number;
  private readonly deps: H2HostDeps;
  private readonly sessions = new Set<Session>();
  private stopping = false;
  /** The socket being handed to node's server: its session is made while it is emitted. */
  private accepting: Socket | undefined;

  constructor(limits: H2Limits, timeoutMs: number, deps: H2HostDeps) {
    this.limits = limits;
    this.timeoutMs = timeoutMs;
    this.deps = deps;
    this.server = this.build();
  }

  private build(): http2.Http2Server {
    const l = this.limits;
    const server = http2.createServer({
      settings: {
        maxConcurrentStreams: l.maxConcurrentStreams,
        // announced, and enforced by node on the decoded list (an HPACK bomb never gets decoded whole)
        maxHeaderListSize: l.maxHeaderListSize,
        initialWindowSize: l.initialWindowSize,
        enablePush: false,
        // RFC 8441: WebSocket over HTTP/2 (extended CONNECT, h2-websocket.ts)
        enableConnectProtocol: true,
      },
    });
    // the idle timeout of a connection (timeout client, as for HTTP/1.1)
    server.setTimeout(this.timeoutMs);
    server.on('session', this.onSession);
    server.on('stream', this.onStream);
    server.on('timeout', this.onTimeout);
    // errors are the session's: logged and counted in onSession
    server.on('sessionError', () => undefined);
    return server;
  }

  /** Open HTTP/2 client connections. */
  get connections(): number {
    return this.sessions.size;
  }

  /** Serves `socket` (a TLS socket that negotiated h2, or a plain one opening with the preface,
   *  whose first bytes were put back with unshift) as an HTTP/2 connection. */
  accept(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.accepting = socket;
    try {
      this.server.emit('connection', socket);
    } finally {
      this.accepting = undefined;
    }
  }

  /** New limits apply to connections accepted from now on. */
  update(limits: H2Limits, timeoutMs: number): void {
    if (JSON.stringify(limits) === JSON.stringify(this.limits) && timeoutMs === this.timeoutMs) return;
    this.limits = limits;
    this.timeoutMs = timeoutMs;
    this.server = this.build();
  }

  private readonly onSession = (session: Session): void => {
    // session.socket is a proxy that throws once the session let go of the socket
    const socket = this.accepting ?? (session.socket as unknown as Socket);
    session[kSocket] = socket;
    const client = clientIp(socket);
    session[kBudget] = new ResetBudget(this.limits.maxResets, RESET_WINDOW_MS);
    this.sessions.add(session);
    session.on('error', (err: NodeJS.ErrnoException) => {
      if (session[kGuarded] === true) return;
      const reason: H2CloseReason = /flood/i.test(err.message) ? 'flood' : /CONTINUATION/.test(err.message) ? 'continuation-flood' : 'protocol-error';
      this.deps.log.info({ client, reason, err: err.message }, 'HTTP/2 connection closed');
      this.deps.closed(reason);
    });
    session.once('close', () => {
      this.sessions.delete(session);
      this.deps.ended();
    });
    // a stopping frontend tells a connection accepted meanwhile to go away at once
    if (this.stopping) session.close();
  };

  private readonly onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
    const session = stream.session as Session | undefined;
    if (session === undefined) return;
    stream.on('error', () => {
      // a stream error ends in 'close'; what it means is the handler's to log
    });
    stream.once('close', () => {
      if (stream.rstCode === undefined || stream.rstCode === NGHTTP2_NO_ERROR || stream.headersSent) return;
      if (session[kBudget]?.spend(performance.now()) === true && !session.destroyed) this.rapidReset(session);
    });
    // node enforces SETTINGS_MAX_HEADER_LIST_SIZE only once the client acknowledged the SETTINGS
    // carrying it; a request sent before that is measured here (RFC 9113 §6.5.2: 32 per field)
    if (headerListSize(rawHeaders) > this.limits.maxHeaderListSize) {
      this.deps.log.info({ client: clientIp(session[kSocket] as Socket), status: 431, reason: 'header list over h2.max_header_list_size' }, 'client request rejected');
      stream.respond({ ':status': 431, 'content-type': 'text/plain' });
      stream.end('431 Request Header Fields Too Large\n');
      return;
    }
    // After the rest of this read: a reset that came with the stream closes it first (rapid reset
    // sends both in one packet), so no server hears of it.
    setImmediate(() => {
      if (stream.closed || stream.destroyed || session.destroyed) return;
      this.deps.stream(stream, headers, rawHeaders, session[kSocket] as Socket);
    });
  };

  private rapidReset(session: Session): void {
    const socket = session[kSocket] as Socket;
    this.deps.log.warn({ client: clientIp(socket), maxResets: this.limits.maxResets, windowMs: RESET_WINDOW_MS }, 'HTTP/2 client reset too many streams (rapid reset): connection closed');
    this.deps.closed('rapid-reset');
    session[kGuarded] = true;
    // node sends the code in its last GOAWAY only when destroy is given an error with it
    session.destroy(new Error('rapid reset'), NGHTTP2_ENHANCE_YOUR_CALM);
  }

  private readonly onTimeout = (session: Session): void => {
    // an idle connection (no frames for timeout client): GOAWAY, and closed once streams end
    this.deps.closed('timeout');
    session.close();
  };

  /** Graceful stop: GOAWAY (NO_ERROR) to every connection, open streams finish within graceMs,
   *  then what is left is closed. */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const s of this.sessions) s.close();
    if (this.sessions.size > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        const check = (): void => {
          if (this.sessions.size > 0) return;
          clearTimeout(timer);
          resolve();
        };
        for (const s of this.sessions) s.once('close', () => setImmediate(check));
      });
    }
    for (const s of this.sessions) s.destroy();
  }
}

function headerListSize(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) n += raw[i]!.length + raw[i + 1]!.length + 32;
  return n;
}
