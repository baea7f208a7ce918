// Admin API on its own listener (global.admin.listen): status, Prometheus metrics, reload,
// handover and runtime server commands. It knows nothing about how the node does these:
// the node hands in callbacks.
import http from 'node:http';
import type { HostPort } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';

export interface AdminHandlers {
  status(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
  reload(): Promise<{ ok: true; message: string } | { ok: false; errors: string[] }>;
  handover(): Promise<string>;
  /** Runtime server command: drain | ready | maint, and/or weight. Returns an error text or undefined. */
  setServer(backend: string, server: string, change: { admin?: string; weight?: number }): string | undefined;
}

export class AdminServer {
  private server: http.Server;
  private readonly listenOn: HostPort;

  constructor(listenOn: HostPort, handlers: AdminHandlers, log: Logger) {
    this.listenOn = listenOn;
    this.server = http.createServer((req, res) => {
      route(req, handlers).then(
        ({ status, type, body }) => {
          res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
          res.end(body);
        },
        (err: unknown) => {
          log.error({ err, url: req.url }, 'admin request failed');
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error\n');
        },
      );
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.listenOn.port, this.listenOn.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  address(): HostPort {
    const a = this.server.address();
    if (a && typeof a === 'object') return { host: a.address, port: a.port };
    return this.listenOn;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

interface Reply {
  status: number;
  type: string;
  body: string;
}

const json = (status: number, value: unknown): Reply => ({ status, type: 'application/json', body: JSON.stringify(value, null, 2) + '\n' });

async function readBody(req: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function route(req: http.IncomingMessage, h: AdminHandlers): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const method = req.method ?? 'GET';
  if (method === 'GET' && (url.pathname === '/status' || url.pathname === '/')) return json(200, h.status());
  if (method === 'GET' && url.pathname === '/metrics') {
    const m = await h.metrics();
    return { status: 200, type: m.contentType, body: m.body };
  }
  if (method === 'POST' && url.pathname === '/reload') {
    const r = await h.reload();
    return r.ok ? json(200, { ok: true, message: r.message }) : json(422, { ok: false, errors: r.errors });
  }
  if (method === 'POST' && url.pathname === '/handover') return json(200, { ok: true, message: await h.handover() });
  const m = /^\/servers\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (m && (method === 'POST' || method === 'PUT')) {
    let change: { admin?: string; weight?: number };
    try {
      change = JSON.parse((await readBody(req)) || '{}') as typeof change;
    } catch {
      return json(400, { ok: false, error: 'body must be JSON like {"admin":"drain"} or {"weight":10}' });
    }
    const err = h.setServer(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), change);
    return err ? json(400, { ok: false, error: err }) : json(200, { ok: true });
  }
  return json(404, { ok: false, error: `no route ${method} ${url.pathname}` });
}
