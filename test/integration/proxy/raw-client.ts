// A keep-alive client on a raw socket: sends exact bytes and reads replies of known length, so
// tests see the bytes the proxy writes, and can write to many such clients in one tick.
import net from 'node:net';

/** One keep-alive client connection, reading replies of known length. */
export class RawClient {
  private readonly s: net.Socket;
  private data = Buffer.alloc(0);
  closed = false;
  private wake: (() => void) | undefined;

  /** `cleanups`: where the test keeps what to undo after it (the socket is destroyed there). */
  constructor(cleanups: (() => Promise<void>)[], port: number) {
    this.s = net.connect(port, '127.0.0.1');
    this.s.on('data', (d) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake?.();
    });
    this.s.on('error', () => {});
    this.s.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    cleanups.push(async () => void this.s.destroy());
  }

  /** Sends a keep-alive request and returns the next `bytes` bytes (fewer if the proxy closes). */
  async exchange(method: string, path: string, bytes: number): Promise<Buffer> {
    this.send(`${method} ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
    return this.read(bytes);
  }

  destroy(): void {
    this.s.destroy();
  }

  send(bytes: string): void {
    this.s.write(bytes, 'latin1');
  }

  async read(bytes: number, ms = 3000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.data.length < bytes && !this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
    }
    const out = this.data.subarray(0, bytes);
    this.data = this.data.subarray(out.length);
    return out;
  }
}
