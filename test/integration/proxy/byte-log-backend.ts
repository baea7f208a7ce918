// A backend server for parser tests that records every byte it receives, per connection, and
// parses it only as far as it must to answer: each complete request (head, then a body framed by
// Content-Length or chunked coding) gets `200` with `X-Backend: <n>` and no body, so a client can
// tell the server's answers from the proxy's own. Requests with Upgrade get a 101 when `upgrade`
// is 'switch' (then the connection echoes), else the same 200: a refused upgrade.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  /** Connection number, from 1. */
  conn: number;
  /** Request line as received. */
  line: string;
  /** [name, value, ...] as received. */
  headers: string[];
  body: Buffer;
  /** Last X-Forwarded-For element: the client halb saw. */
  client: string | undefined;
  /** The value of X-Backend in the answer. */
  n: number;
}

export interface ConnectionLog {
  conn: number;
  bytes: Buffer;
  /** The bytes stopped parsing as HTTP (a proxy sent something this server cannot frame). */
  broken: string | undefined;
}

export interface ByteLogBackend {
  port: number;
  connections: ConnectionLog[];
  requests: ReceivedRequest[];
  /** Bytes received over all connections. */
  readonly bytes: number;
  close(): Promise<void>;
}

export function header(r: ReceivedRequest, lower: string): string | undefined {
  for (let i = 0; i < r.headers.length; i += 2) if (r.headers[i]!.toLowerCase() === lower) return r.headers[i + 1];
  return undefined;
}

export async function startByteLogBackend(opts: { upgrade?: 'switch' | 'refuse'; host?: string } = {}): Promise<ByteLogBackend> {
  const connections: ConnectionLog[] = [];
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let total = 0;
  let n = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    const log: ConnectionLog = { conn: connections.length + 1, bytes: Buffer.alloc(0), broken: undefined };
    connections.push(log);
    let pending = Buffer.alloc(0);
    let echo = false;
    s.on('data', (d: Buffer) => {
      total += d.length;
      log.bytes = Buffer.concat([log.bytes, d]);
      if (echo) {
        s.write(d);
        return;
      }
      if (log.broken !== undefined) return;
      pending = Buffer.concat([pending, d]);
      for (;;) {
        const r = takeRequest(pending);
        if (r === undefined) return;
        if (typeof r === 'string') {
          log.broken = r;
          return;
        }
        pending = pending.subarray(r.used);
        const req: ReceivedRequest = { conn: log.conn, line: r.line, headers: r.headers, body: r.body, client: undefined, n: ++n };
        const xff = header(req, 'x-forwarded-for');
        req.client = xff?.split(',').pop()!.trim();
        requests.push(req);
        if (header(req, 'upgrade') !== undefined && opts.upgrade === 'switch') {
          s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${header(req, 'upgrade')!}\r\nConnection: Upgrade\r\nX-Backend: ${req.n}\r\n\r\n`);
          echo = true;
          if (pending.length > 0) s.write(pending);
          return;
        }
        s.write(`HTTP/1.1 200 OK\r\nX-Backend: ${req.n}\r\nContent-Length: 0\r\n\r\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, opts.host ?? '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    requests,
    get bytes() {
      return total;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Taken {
  line: string;
  headers: string[];
  body: Buffer;
  used: number;
}

/** One complete request from the front of `buf`; undefined: incomplete; a string: unparseable. */
function takeRequest(buf: Buffer): Taken | string | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > 1 << 20 ? 'head too long' : undefined;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const headers: string[] = [];
  let length = 0;
  let chunked = false;
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c <= 0) return `header line without a name: ${JSON.stringify(l)}`;
    const name = l.slice(0, c);
    const value = l.slice(c + 1).trim();
    headers.push(name, value);
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      if (!/^[0-9]+$/.test(value)) return `bad Content-Length ${JSON.stringify(value)}`;
      length = Number(value);
    } else if (lower === 'transfer-encoding') {
      if (value.toLowerCase() !== 'chunked') return `transfer coding ${JSON.stringify(value)}`;
      chunked = true;
    }
  }
  let off = end + 4;
  if (!chunked) {
    if (buf.length < off + length) return undefined;
    return { line: lines[0]!, headers, body: buf.subarray(off, off + length), used: off + length };
  }
  const parts: Buffer[] = [];
  for (;;) {
    const nl = buf.indexOf('\r\n', off);
    if (nl < 0) return undefined;
    const hex = buf.toString('latin1', off, nl).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) return `bad chunk size ${JSON.stringify(hex)}`;
    const size = parseInt(hex, 16);
    off = nl + 2;
    if (size === 0) {
      // trailers, up to the empty line
      for (;;) {
        const t = buf.indexOf('\r\n', off);
        if (t < 0) return undefined;
        const empty = t === off;
        off = t + 2;
        if (empty) return { line: lines[0]!, headers, body: Buffer.concat(parts), used: off };
      }
    }
    if (buf.length < off + size + 2) return undefined;
    parts.push(buf.subarray(off, off + size));
    off += size + 2;
  }
}
