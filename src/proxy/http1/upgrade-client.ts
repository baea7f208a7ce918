// The client side of an Upgrade tunnel (upgrade-tunnel.ts): what the tunnel asks of whoever
// asked for the upgrade. Two kinds: an HTTP/1.1 connection that sent `Upgrade:` (here), and an
// HTTP/2 stream that sent an extended CONNECT (RFC 8441, h2/h2-websocket.ts), which gets the
// server's HTTP/1.1 answers translated into HTTP/2 responses on the stream. Routing, balancing,
// retries, the relay and the access log are the tunnel's, the same for both.
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ByteStream } from '../byte-stream.ts';
import type { CompiledHeaderOp } from './header-ops.ts';
import type { ResponseSink } from './response-parser.ts';
import { rawError } from './error-responses.ts';
import { RefusedUpgradeRelay } from './upgrade-refused.ts';

/** Bytes both ways once the server switched, with an inactivity timeout ('timeout' event). */
export type TunnelStream = Duplex & { setTimeout(ms: number): unknown };

/** The sink a refused upgrade's answer goes through, counting the body bytes it passed on. */
export type RefusedSink = ResponseSink & { readonly bytesOut: number };

export interface UpgradeClient {
  /** The request as the server is to get it (HTTP/1.1 form: Host, Upgrade, Connection). */
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  /** The client's connection: its address, its TLS facts. */
  readonly connection: ByteStream;
  /** What is relayed after the switch. */
  readonly stream: TunnelStream;
  /** Bytes the client sent behind the request that halb already read (tunnel data after a 101). */
  readonly unread: Buffer;
  /** 'h2' for an HTTP/2 stream (the access log's proto field). */
  readonly proto: 'h2' | undefined;
  /** An interim answer (1xx) head, as the server sent it. */
  interim(head: Buffer): void;
  /** The server switched protocols; `head` is its 101 answer up to the blank line. Returns the
   *  bytes written to the client for it, or undefined when the answer is not acceptable. */
  switched(head: Buffer): number | undefined;
  /** Where a refused upgrade's answer (anything but 101) goes; `done` once it is complete. */
  refusedSink(ops: readonly CompiledHeaderOp[], noBody: boolean, done: () => void): RefusedSink;
  /** The refused answer went out whole (the tunnel let go of the client): carry on after it. */
  afterRefused(): void;
  /** halb's own answer `status`, then the client side is closed. */
  reject(status: number): void;
  /** Closes the client side once what was written is out (the server side ended). */
  endSoon(): void;
}

/** An HTTP/1.1 client connection that sent an Upgrade request. */
export class SocketUpgradeClient implements UpgradeClient {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly connection: Socket;
  readonly stream: Socket;
  readonly unread: Buffer;
  readonly proto = undefined;
  private readonly req: IncomingMessage;
  private readonly resume: (socket: Socket, unread: Buffer) => void;

  /** `resume`: hands the client back to the HTTP server with bytes it sent and halb read. */
  constructor(req: IncomingMessage, socket: Socket, head: Buffer, resume: (socket: Socket, unread: Buffer) => void) {
    this.req = req;
    this.method = req.method ?? 'GET';
    this.url = req.url ?? '/';
    this.headers = req.headers;
    this.rawHeaders = req.rawHeaders;
    this.connection = socket;
    this.stream = socket;
    this.unread = head;
    this.resume = resume;
  }

  interim(head: Buffer): void {
    this.stream.write(head);
  }

  switched(head: Buffer): number {
    this.stream.write(head);
    return head.length;
  }

  refusedSink(ops: readonly CompiledHeaderOp[], noBody: boolean, done: () => void): RefusedSink {
    return new RefusedUpgradeRelay(this.stream, ops, noBody, done);
  }

  afterRefused(): void {
    // a client that said it closes after this request is not parsed further (RFC 9112 §9.6)
    const connection = this.req.headers.connection;
    const closes = this.req.httpVersionMinor === 0 || /(?:^|,)\s*close\s*(?:,|$)/i.test(typeof connection === 'string' ? connection : '');
    if (closes) this.stream.end();
    else this.resume(this.stream, this.unread);
  }

  reject(status: number): void {
    if (this.stream.writable) this.stream.end(rawError(status));
    this.stream.destroySoon();
  }

  endSoon(): void {
    this.stream.destroySoon();
  }
}
