// A raw HTTP/2 client over a plain socket (h2c prior knowledge) for what node's http2 client will
// not send: floods of RST_STREAM, CONTINUATION, PING and SETTINGS frames, and header blocks that
// decode far larger than they are (HPACK). Frames are built by hand (RFC 9113 §4.1); the header
// blocks use HPACK literals without Huffman (RFC 7541 §6.2) and indexed fields, so no encoder is
// needed. It records the GOAWAY (and RST_STREAM / HEADERS) frames the server sends back.
import net from 'node:net';

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 1, ACK: 1, END_HEADERS: 4 } as const;
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** HPACK: a literal field without indexing, new name (no Huffman; lengths < 127 or longer with the 7-bit prefix integer). */
export function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
}

/** HPACK: a literal field with incremental indexing, new name: it enters the dynamic table. */
export function indexedLiteral(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]);
}

/** HPACK: an indexed field (static table 1..61, dynamic table from 62). */
export function indexed(i: number): Buffer {
  return hpackInt(i, 7, 0x80);
}

function hpackString(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(b.length, 7, 0x00), b]);
}

function hpackInt(n: number, prefixBits: number, firstByteFlags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (n < max) return Buffer.from([firstByteFlags | n]);
  const out = [firstByteFlags | max];
  n -= max;
  while (n >= 128) {
    out.push((n % 128) + 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A GET request's header block: :method GET, :scheme http, :path, :authority. */
export function getBlock(path = '/', authority = 'localhost'): Buffer {
  // static table: 2 = :method GET, 6 = :scheme http
  return Buffer.concat([indexed(2), indexed(6), literal(':path', path), literal(':authority', authority)]);
}

export function settings(entries: [number, number][] = []): Buffer {
  const p = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, p);
}

export function rstStream(stream: number, code = 8): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, stream, p);
}

export function ping(data = 0): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(data >>> 0, 4);
  return frame(FRAME.PING, 0, 0, p);
}

export interface ReceivedFrame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

export interface GoAway {
  lastStream: number;
  code: number;
}

/** A connection that has sent the preface and an empty SETTINGS, and parses what comes back. */
export class RawH2Client {
  readonly socket: net.Socket;
  readonly frames: ReceivedFrame[] = [];
  private buf = Buffer.alloc(0);
  /** Resolves when the server closes the connection (or after `timeoutMs` of closed()). */
  private readonly closedP: Promise<void>;
  /** Whether the client reads what the server sends (a ping flood that never reads differs). */
  private reading = true;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => {
      // a reset by the server after its GOAWAY: 'close' follows
    });
    this.closedP = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawH2Client> {
    const socket = net.connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawH2Client(socket);
    c.send(Buffer.concat([PREFACE, settings()]));
    return c;
  }

  send(data: Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(data);
  }

  /** Stop reading (the kernel buffers fill and the server's writes back up). */
  stopReading(): void {
    this.reading = false;
    this.socket.pause();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      const f: ReceivedFrame = { type: this.buf[3]!, flags: this.buf[4]!, stream: this.buf.readUInt32BE(5) & 0x7fffffff, payload: this.buf.subarray(9, 9 + len) };
      this.buf = this.buf.subarray(9 + len);
      this.frames.push(f);
      // ACK the server's SETTINGS as a real client would
      if (f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0 && this.reading) this.send(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    }
  }

  goaway(): GoAway | undefined {
    const f = this.frames.find((x) => x.type === FRAME.GOAWAY);
    return f === undefined ? undefined : { lastStream: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) };
  }

  /** Waits until the server closed the connection; false if it did not within timeoutMs. */
  async closed(timeoutMs = 5000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.closedP.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
    clearTimeout(timer);
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** HTTP/2 error codes (RFC 9113 §7) the tests assert. */
export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, FRAME_SIZE_ERROR: 6, REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9, ENHANCE_YOUR_CALM: 11 } as const;
