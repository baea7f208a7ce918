// A C-layer TLS connection as a node Duplex, for node's HTTP server: the requests the simple path
// hands on (bodies, Upgrade, anything not of the common shape) go to node's server. A plain
// connection leaves the C layer for that (NativeSocket.detach); a TLS one cannot, since its
// session lives in C, so it stays there and this stream carries its plaintext both ways. Node's
// server reads any Duplex (it does so for TLS sockets); what it calls beyond the stream
// interface (setTimeout, setNoDelay, the addresses) is here.
import { Duplex } from 'node:stream';
import type { NativeSocket } from './native-socket.ts';

export class NativeDuplex extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** What node's TLSSocket says: the request came over TLS. */
  readonly encrypted = true;
  private readonly n: NativeSocket;
  private writeDone: ((err?: Error | null) => void) | undefined;

  constructor(n: NativeSocket) {
    super({ allowHalfOpen: true });
    this.n = n;
    this.remoteAddress = n.remoteAddress;
    this.remotePort = n.remotePort;
    this.localAddress = n.localAddress;
    this.localPort = n.localPort;
    // a read is a view of a buffer the next read overwrites: push a copy
    n.setReader((chunk) => {
      if (!this.push(Buffer.from(chunk))) n.pause();
    });
    n.pause();
    n.on('end', () => this.push(null));
    n.on('drain', () => this.flushed());
    n.on('timeout', () => this.emit('timeout'));
    n.on('error', (err: Error) => this.destroy(err));
    n.on('close', () => {
      this.flushed(new Error('connection closed'));
      if (!this.destroyed) this.destroy();
    });
  }

  get bytesRead(): number {
    return this.n.bytesRead;
  }

  get bytesWritten(): number {
    return this.n.bytesWritten;
  }

  override _read(): void {
    this.n.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.n.destroyed) {
      done(new Error('connection closed'));
      return;
    }
    if (this.n.write(chunk)) done();
    else this.writeDone = done;
  }

  override _final(done: (err?: Error | null) => void): void {
    this.n.end();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.n.destroy();
    done(err);
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    this.n.setTimeout(ms);
    if (onTimeout !== undefined) this.once('timeout', onTimeout);
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  /** Sends what is queued, then closes (what net.Socket's destroySoon does). */
  destroySoon(): void {
    this.end();
    this.once('finish', () => this.destroy());
  }

  private flushed(err?: Error): void {
    const done = this.writeDone;
    this.writeDone = undefined;
    done?.(err);
  }
}
