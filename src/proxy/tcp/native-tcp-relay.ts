// TCP-mode relay that hands both connections to C (@halb/netio): after the hand-over no
// JavaScript runs per chunk, only once when the connection ends. Same contract as TcpRelay
// (start/stop, one onDone with the same RelayResult), so the session code does not care which
// one it has; TcpRelay remains the path when a socket cannot be handed over (no descriptor,
// bytes still queued in a JS write buffer, already closed).

import type { Socket } from 'node:net';
import { relayAbort as nativeAbort, relayStart as nativeStart, type RelayHandle } from '#netio';
import { TcpRelay, type RelayOptions, type RelayResult, type RelayTermination } from './tcp-relay.ts';

/** Index order of the C side's termination codes. */
const TERMINATIONS: readonly RelayTermination[] = ['closed', 'client-reset', 'server-reset', 'client-idle-timeout', 'server-idle-timeout', 'aborted'];
const SIDES = ['client', 'server'] as const;

/** What both relays offer the session. */
export interface Relay {
  start(): void;
  stop(): void;
}

interface SocketInternals {
  _handle?: { fd?: number } | null;
  _readableState?: { ended?: boolean };
}

function descriptor(s: Socket): number {
  const fd = (s as unknown as SocketInternals)._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/** The FIN was read into the stream (maybe not yet emitted as 'end'). */
function finRead(s: Socket): boolean {
  return s.readableEnded || (s as unknown as SocketInternals)._readableState?.ended === true;
}

export class NativeTcpRelay implements Relay {
  private readonly client: Socket;
  private readonly server: Socket;
  private readonly opts: RelayOptions;
  private readonly onDone: (r: RelayResult) => void;
  private readonly preamble: Buffer | undefined;
  private handle: RelayHandle | undefined;
  private fallback: TcpRelay | undefined;
  private stopped = false;

  /** `preamble` is written to the server before anything else (a PROXY protocol header). */
  constructor(client: Socket, server: Socket, opts: RelayOptions, onDone: (r: RelayResult) => void, preamble?: Buffer) {
    this.client = client;
    this.server = server;
    this.opts = opts;
    this.onDone = onDone;
    this.preamble = preamble;
  }

  start(): void {
    const c = this.client;
    const s = this.server;
    const cfd = descriptor(c);
    const sfd = descriptor(s);
    if (cfd < 0 || sfd < 0 || c.destroyed || s.destroyed || c.writableLength > 0 || s.writableLength > 0) return this.startFallback();
    // Bytes already read into the JS streams (after a PROXY header, or a server that spoke
    // first) go out before anything the C side reads.
    const fromClient = c.readableLength > 0 ? (c.read() as Buffer | null) : null;
    const fromServer = s.readableLength > 0 ? (s.read() as Buffer | null) : null;
    const toServer = this.preamble && fromClient ? Buffer.concat([this.preamble, fromClient]) : (this.preamble ?? fromClient ?? undefined);
    const base = { clientIn: c.bytesRead, clientOut: c.bytesWritten, serverIn: s.bytesRead };
    this.handle = nativeStart(cfd, sfd, this.opts.clientIdleMs, this.opts.serverIdleMs, toServer, fromServer ?? undefined, finRead(c), finRead(s), (t, fin, cin, cout, sin, _sout, errSide, code, syscall) => {
      this.handle = undefined;
      this.onDone({
        termination: TERMINATIONS[t] ?? 'aborted',
        firstFin: fin === 0 ? 'client' : fin === 1 ? 'server' : '',
        clientBytesIn: base.clientIn + cin,
        clientBytesOut: base.clientOut + cout,
        serverBytesIn: base.serverIn + sin,
        error: errSide < 0 ? undefined : `${SIDES[errSide]}: ${syscall} ${code}`,
      });
    });
    // The C side holds duplicates: closing ours leaves the connections open (no FIN, no RST)
    // and takes the descriptors out of libuv's poll set.
    c.on('error', ignore);
    s.on('error', ignore);
    c.destroy();
    s.destroy();
    if (this.stopped) nativeAbort(this.handle);
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) nativeAbort(this.handle);
    else this.fallback?.stop();
  }

  private startFallback(): void {
    if (this.preamble) this.server.write(this.preamble);
    this.fallback = new TcpRelay(this.client, this.server, this.opts, this.onDone);
    this.fallback.start();
    if (this.stopped) this.fallback.stop();
  }
}

function ignore(): void {}
