// Builders and loopback helpers shared by the TCP-mode integration tests.
import net from 'node:net';
import { Writable } from 'node:stream';
import type { BackendConfig, FrontendConfig, ServerConfig, Timeouts } from '../../../src/config/types.ts';
import { createLogger, type Logger } from '../../../src/log/logger.ts';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import { TcpFrontend, type TcpAccessRecord, type TcpFrontendDeps } from '../../../src/proxy/tcp/tcp-frontend.ts';

export function timeouts(over: Partial<Timeouts> = {}): Timeouts {
  return { connect: 2000, client: 10_000, server: 10_000, httpRequest: 10_000, httpKeepAlive: 10_000, queue: 1000, tunnel: 10_000, ...over };
}

export function serverCfg(name: string, port: number, over: Partial<ServerConfig> = {}): ServerConfig {
  return { name, host: '127.0.0.1', port, weight: 1, backup: false, disabled: false, drain: false, check: false, ...over };
}

export function backendCfg(servers: ServerConfig[], over: Partial<BackendConfig> = {}): BackendConfig {
  return {
    name: 'be',
    mode: 'tcp',
    balance: { algorithm: 'roundrobin' },
    passive: { errorLimit: 0 },
    servers,
    retries: 3,
    redispatch: true,
    timeouts: timeouts(),
    stickSource: false,
    pipeline: 1,
    peerFallback: false,
    ...over,
  };
}

export function frontendCfg(over: Partial<FrontendConfig> = {}, acceptProxy = false): FrontendConfig {
  return {
    name: 'fe',
    bind: [{ host: '127.0.0.1', port: 0, acceptProxy }],
    mode: 'tcp',
    defaultBackend: 'be',
    rules: [],
    forwardfor: false,
    forwarded: false,
    requestHeaders: [],
    responseHeaders: [],
    timeouts: timeouts(),
    ...over,
  };
}

/** Collects the JSON lines a logger writes. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly logger: Logger;
  private waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  constructor() {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (const s of chunk.toString().split('\n')) {
          if (!s) continue;
          const l = JSON.parse(s) as Record<string, unknown>;
          this.lines.push(l);
          this.waiters = this.waiters.filter((w) => (w.pred(l) ? (w.resolve(l), false) : true));
        }
        cb();
      },
    });
    this.logger = createLogger({ level: 'debug', format: 'json', destination: sink });
  }
  access(): TcpAccessRecord[] {
    return this.lines.filter((l) => l.msg === 'tcp') as unknown as TcpAccessRecord[];
  }
  /**
   * Resolves with the first line (already seen or future) that matches; rejects after
   * `timeoutMs` naming what was awaited, so a session that never ends fails the test with the
   * log so far instead of hanging it (the listening test server would keep the process alive).
   */
  waitFor(pred: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000, what = 'a matching log line'): Promise<Record<string, unknown>> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms; log so far:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}`));
      }, timeoutMs);
      timer.unref();
      const waiter = {
        pred,
        resolve: (l: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      this.waiters.push(waiter);
    });
  }
  nextAccess(n: number, timeoutMs = 10_000): Promise<TcpAccessRecord> {
    return this.waitFor(() => this.access().length >= n, timeoutMs, `access line #${n}`).then(() => this.access()[n - 1]!);
  }
}

export interface Harness {
  fe: TcpFrontend;
  pool: BackendPool;
  port: number;
  logs: LogCapture;
  close(): Promise<void>;
}

export async function startFrontend(
  be: BackendConfig,
  fe: FrontendConfig = frontendCfg(),
  extra: Partial<TcpFrontendDeps> = {},
): Promise<Harness> {
  const logs = new LogCapture();
  const pool = new BackendPool(be, { log: logs.logger });
  const frontend = new TcpFrontend(fe, {
    pools: new Map([[be.name, pool]]),
    backends: new Map([[be.name, be]]),
    log: logs.logger,
    // relay-js.test.ts runs the relay tests again on the Node-streams relay
    relay: process.env.HALB_TEST_TCP_RELAY === 'js' ? 'js' : 'native',
    ...extra,
  });
  await frontend.listen();
  return {
    fe: frontend,
    pool,
    port: frontend.addresses()[0]!.port,
    logs,
    async close() {
      await frontend.close(200);
      pool.close();
    },
  };
}

/**
 * Polls until `get()` equals `want` (state reached through the event loop, e.g. a connection
 * accepted and queued), instead of a fixed sleep that a loaded machine can outrun.
 */
export async function untilEqual<T>(get: () => T, want: T, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (get() !== want) {
    if (Date.now() > end) throw new Error(`still ${String(get())} (want ${String(want)}) after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A loopback server; `onConn` gets each accepted socket (allowHalfOpen). */
export async function listenServer(onConn: (s: net.Socket) => void): Promise<{ server: net.Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConn(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export { refusedPort } from '../../helpers/refused-port.ts';

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(c));
    c.once('error', reject);
  });
}

/**
 * Everything the socket sends until EOF (or close). Rejects after `timeoutMs` so a peer that
 * never closes fails the test with a message instead of hanging it.
 */
export function readAll(s: net.Socket, timeoutMs = 15_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', () => {});
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`readAll: no EOF within ${timeoutMs} ms (${Buffer.concat(parts).length} bytes so far)`));
    }, timeoutMs);
    timer.unref();
    const fin = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(Buffer.concat(parts));
    };
    s.once('end', fin);
    s.once('close', fin);
  });
}
