// Shared setup for the proxy integration tests: real node:http backends and a halb HttpFrontend
// on 127.0.0.1 ephemeral ports, with configs built the way the config layer normalises them.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { BackendConfig, FrontendConfig, Timeouts } from '../../../src/config/types.ts';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import { HttpFrontend } from '../../../src/proxy/http1/http-frontend.ts';
import { AccessLog } from '../../../src/proxy/access-log.ts';
import { silentLogger, type Logger } from '../../../src/log/logger.ts';

export const TIMEOUTS: Timeouts = {
  connect: 1000,
  client: 30000,
  server: 5000,
  httpRequest: 2000,
  httpKeepAlive: 5000,
  queue: 1000,
  tunnel: 10000,
};

export interface Backend {
  name: string;
  port: number;
  server: http.Server;
  connections: number;
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, b: Backend) => void;

export const echoName: Handler = (req, res, b) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('x-server', b.name);
    res.end(b.name);
  });
};

export async function startBackend(name: string, handler: Handler = echoName): Promise<Backend> {
  const server = http.createServer({ keepAliveTimeout: 10000 });
  const b: Backend = {
    name,
    port: 0,
    server,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => b.connections++);
  server.on('request', (req, res) => {
    b.requests.push(req);
    handler(req, res, b);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.port = (server.address() as AddressInfo).port;
  return b;
}

/** A port nothing listens on (a reserved low port, so no other process can take it meanwhile). */
export { refusedPort as closedPort } from '../../helpers/refused-port.ts';

export function backendConfig(name: string, servers: { name: string; port: number }[], over: Partial<BackendConfig> = {}): BackendConfig {
  return {
    name,
    mode: 'http',
    balance: { algorithm: 'roundrobin' },
    passive: { errorLimit: 0 },
    servers: servers.map((s) => ({
      name: s.name,
      host: '127.0.0.1',
      port: s.port,
      weight: 1,
      backup: false,
      disabled: false,
      drain: false,
      check: false,
    })),
    retries: 3,
    redispatch: true,
    timeouts: { ...TIMEOUTS },
    stickSource: false,
    pipeline: 1,
    peerFallback: false,
    ...over,
  };
}

export function frontendConfig(over: Partial<FrontendConfig> = {}): FrontendConfig {
  return {
    name: 'web',
    bind: [{ host: '127.0.0.1', port: 0, acceptProxy: false }],
    mode: 'http',
    defaultBackend: 'app',
    rules: [],
    forwardfor: true,
    forwarded: false,
    requestHeaders: [],
    responseHeaders: [],
    timeouts: { ...TIMEOUTS },
    ...over,
  };
}

export interface Proxy {
  port: number;
  frontend: HttpFrontend;
  pools: Map<string, BackendPool>;
  close(): Promise<void>;
}

export async function startProxy(fe: FrontendConfig, backends: BackendConfig[], log: Logger = silentLogger(), accessLog?: AccessLog): Promise<Proxy> {
  const pools = new Map<string, BackendPool>();
  for (const b of backends) pools.set(b.name, new BackendPool(b, { log }));
  const frontend = new HttpFrontend(fe, {
    pools,
    backends: new Map(backends.map((b) => [b.name, b])),
    log,
    accessLog: accessLog ?? new AccessLog(log, false),
    maxHeaderBytes: 16384,
  });
  await frontend.listen();
  return {
    port: frontend.addresses()[0]!.port,
    frontend,
    pools,
    close: async () => {
      await frontend.close(0);
      for (const p of pools.values()) p.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agent = new http.Agent({ keepAlive: false });

export function request(port: number, opts: http.RequestOptions & { body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', agent, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw bytes on a fresh connection and collects everything until the proxy closes (or ms). */
/** Sends `bytes` (then FIN with `halfClose`) and collects the reply until the proxy closes. */
export function rawExchange(port: number, bytes: string | Buffer, ms = 2000, halfClose = false): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => (halfClose ? c.end(bytes) : c.write(bytes)));
    let data = '';
    const timer = setTimeout(() => c.destroy(), ms);
    c.on('data', (d) => (data += d.toString('latin1')));
    c.on('error', () => {});
    c.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}
