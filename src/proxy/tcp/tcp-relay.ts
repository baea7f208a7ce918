// Byte relay between an accepted client socket and a connected server socket (TCP mode, and
// usable for any tunnel). Both sockets must be created with allowHalfOpen: true so a FIN travels
// one way (client end() -> server sees EOF) while the other direction keeps flowing.
//
// Forwarding is a 'data' listener per side writing to the other, pause() on a full write and
// resume() on 'drain', end() on 'end': what Readable.pipe() does, minus its per-chunk bookkeeping
// (no copies either way; Node has no splice(2)). Byte counts come from bytesRead/bytesWritten at
// the end, so nothing is counted per chunk.

import type { Socket } from 'node:net';
import { holdWrites } from '../native/write-batch.ts';

/** How the relay ended, for the access log (HAProxy's termination state, spelled out). */
export type RelayTermination =
  | 'closed' // both directions finished with FIN
  | 'client-reset'
  | 'server-reset'
  | 'client-idle-timeout'
  | 'server-idle-timeout'
  | 'aborted'; // stop() (shutdown after the grace period)

export interface RelayResult {
  termination: RelayTermination;
  /** Which side sent FIN first ('' when neither did). */
  firstFin: 'client' | 'server' | '';
  /** Bytes read from the client / written to it. */
  clientBytesIn: number;
  clientBytesOut: number;
  /** Bytes the server sent us. */
  serverBytesIn: number;
  /** Error message when a socket failed. */
  error?: string;
}

export interface RelayOptions {
  /** Idle timeout on the client socket (no bytes either way); 0 disables. */
  clientIdleMs: number;
  /** Idle timeout on the server socket; 0 disables. */
  serverIdleMs: number;
}

/**
 * One relayed connection. Call start() once both sockets are ready (server connected); `onDone`
 * fires exactly once, after both sockets have closed.
 */
export class TcpRelay {
  readonly client: Socket;
  readonly server: Socket;
  private readonly onDone: (r: RelayResult) => void;
  private termination: RelayTermination | undefined;
  private firstFin: 'client' | 'server' | '' = '';
  private error: string | undefined;
  private clientClosed = false;
  private serverClosed = false;
  private finished = false;

  constructor(client: Socket, server: Socket, opts: RelayOptions, onDone: (r: RelayResult) => void) {
    this.client = client;
    this.server = server;
    this.onDone = onDone;
    client.on('error', this.onClientError);
    server.on('error', this.onServerError);
    client.once('end', this.onClientEnd);
    server.once('end', this.onServerEnd);
    client.once('close', this.onClientClose);
    server.once('close', this.onServerClose);
    if (opts.clientIdleMs > 0) {
      client.setTimeout(opts.clientIdleMs);
      client.on('timeout', this.onClientTimeout);
    }
    if (opts.serverIdleMs > 0) {
      server.setTimeout(opts.serverIdleMs);
      server.on('timeout', this.onServerTimeout);
    }
  }

  start(): void {
    const c = this.client;
    const s = this.server;
    c.on('data', this.onClientData);
    s.on('data', this.onServerData);
    c.on('drain', this.onClientDrain);
    s.on('drain', this.onServerDrain);
    // pauseOnConnect / a paused socket: flowing from here on
    c.resume();
    s.resume();
    // a FIN already consumed before the relay existed (e.g. right after a PROXY header)
    if (c.readableEnded) this.onClientEnd();
    if (s.readableEnded) this.onServerEnd();
    // A socket may have closed before start() (e.g. the client went away while we connected).
    if (this.client.destroyed) this.kill('client-reset');
    if (this.server.destroyed) this.kill('server-reset');
  }

  /** Tear both sides down now (shutdown after grace). */
  stop(): void {
    this.kill('aborted');
  }

  private kill(t: RelayTermination): void {
    this.termination ??= t;
    this.client.destroy();
    this.server.destroy();
  }

  /** A reset on one side is passed on as a reset (RST), so the other peer knows the stream was cut short rather than complete. */
  private reset(t: 'client-reset' | 'server-reset'): void {
    this.termination ??= t;
    const other = t === 'client-reset' ? this.server : this.client;
    if (!other.destroyed) other.resetAndDestroy();
    this.client.destroy();
    this.server.destroy();
  }

  private readonly onClientError = (err: Error): void => {
    this.error ??= `client: ${err.message}`;
    this.reset('client-reset');
  };
  private readonly onServerError = (err: Error): void => {
    this.error ??= `server: ${err.message}`;
    this.reset('server-reset');
  };
  private readonly onClientData = (chunk: Buffer): void => {
    holdWrites(this.server);
    if (!this.server.write(chunk)) this.client.pause();
  };
  private readonly onServerData = (chunk: Buffer): void => {
    holdWrites(this.client);
    if (!this.client.write(chunk)) this.server.pause();
  };
  // the side that was written to can take more: let the other read again
  private readonly onClientDrain = (): void => {
    this.server.resume();
  };
  private readonly onServerDrain = (): void => {
    this.client.resume();
  };
  // end() passes the FIN on once the writes before it are out: the half-close propagation
  private readonly onClientEnd = (): void => {
    if (this.firstFin === '') this.firstFin = 'client';
    this.server.end();
  };
  private readonly onServerEnd = (): void => {
    if (this.firstFin === '') this.firstFin = 'server';
    this.client.end();
  };
  private readonly onClientTimeout = (): void => this.kill('client-idle-timeout');
  private readonly onServerTimeout = (): void => this.kill('server-idle-timeout');

  private readonly onClientClose = (hadError: boolean): void => {
    this.clientClosed = true;
    // A clean close means both of the client's directions are done, so the server side is at
    // most flushing its last write: leave it. A reset must not leave the server half-open.
    if (hadError || this.termination !== undefined) this.server.destroy();
    this.maybeDone();
  };
  private readonly onServerClose = (hadError: boolean): void => {
    this.serverClosed = true;
    if (hadError || this.termination !== undefined) this.client.destroy();
    this.maybeDone();
  };

  private maybeDone(): void {
    if (!this.clientClosed || !this.serverClosed || this.finished) return;
    this.finished = true;
    this.onDone({
      termination: this.termination ?? 'closed',
      firstFin: this.firstFin,
      clientBytesIn: this.client.bytesRead,
      clientBytesOut: this.client.bytesWritten,
      serverBytesIn: this.server.bytesRead,
      error: this.error,
    });
  }
}
