// Admin API on its own listener (global.admin.listen): status, Prometheus metrics, reload,
// handover and runtime server commands. It knows nothing about how the node does these:
// the node hands in callbacks.
import http from 'node:http';
import type { HostPort } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { DASHBOARD_HTML, DASHBOARD_HEADERS } from './dashboard-page.ts';
import { parseServerChange, type ServerChange } from './server-change.ts';

export interface AdminHandlers {
  status(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
  reload(): Promise<{ ok: true; message: string } | { ok: false; errors: string[] }>;
  handover(): Promise<string>;
  /** Runtime server command: drain | ready | maint, and/or weight. Returns an error text or undefined. */
  setServer(backend: string, server: string, change: ServerChange): string | undefined;
}

export class AdminServer {
  private server: http.Server;
  private readonly listenOn: HostPort;
  private readonly log: Logger;

  constructor(listenOn: HostPort, handlers: AdminHandlers, log: Logger) {
    this.listenOn = listenOn;
    this.log = log;
    this.server = http.createServer((req, res) => {
      route(req, handlers).then(
        ({ status, type, body, headers }) => {
          res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
          res.end(body);
        },
        (err: unknown) => {
          if (err instanceof BodyTooLarge) {
            res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
            res.end(`${err.message}\n`);
            return;
          }
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
        // Accept errors later on (EMFILE under load) are logged, never fatal.
        this.server.on('error', (err) => this.log.error({ err: err.message }, 'admin listener error'));
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
  headers?: Record<string, string>;
}

const json = (status: number, value: unknown): Reply => ({ status, type: 'application/json', body: JSON.stringify(value, null, 2) + '\n' });

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge(`request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function route(req: http.IncomingMessage, h: AdminHandlers): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const method = req.method ?? 'GET';
  if (method === 'GET' && (url.pathname === '/dashboard' || (url.pathname === '/' && wantsHtml(req)))) {
    return { status: 200, type: 'text/html; charset=utf-8', body: DASHBOARD_HTML, headers: url.pathname === '/' ? { ...DASHBOARD_HEADERS, vary: 'accept' } : DASHBOARD_HEADERS };
  }
  if (method === 'GET' && url.pathname === '/') return { ...json(200, h.status()), headers: { vary: 'accept' } };
  if (method === 'GET' && url.pathname === '/status') return json(200, h.status());
  if (method === 'GET' && url.pathname === '/metrics') {
    const m = await h.metrics();
    return { status: 200, type: m.contentType, body: m.body };
  }
  if (method === 'POST' || method === 'PUT') {
    // Tools (curl, halb) send no Origin; a browser always does on a cross-site POST. Refusing a
    // foreign Origin keeps a web page the operator happens to visit from draining servers.
    const refusal = foreignOrigin(req);
    if (refusal) return json(403, { ok: false, error: refusal });
  }
  if (method === 'POST' && url.pathname === '/reload') {
    const r = await h.reload();
    return r.ok ? json(200, { ok: true, message: r.message }) : json(422, { ok: false, errors: r.errors });
  }
  if (method === 'POST' && url.pathname === '/handover') return json(200, { ok: true, message: await h.handover() });
  const m = /^\/servers\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (m && (method === 'POST' || method === 'PUT')) {
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)) || '{}');
    } catch {
      return json(400, { ok: false, error: 'body must be JSON like {"admin":"drain"} or {"weight":10}' });
    }
    const change = parseServerChange(body);
    if (typeof change === 'string') return json(400, { ok: false, error: change });
    let backend: string;
    let server: string;
    try {
      backend = decodeURIComponent(m[1]!);
      server = decodeURIComponent(m[2]!);
    } catch {
      return json(400, { ok: false, error: `bad percent-encoding in ${url.pathname}` });
    }
    const err = h.setServer(backend, server, change);
    return err ? json(400, { ok: false, error: err }) : json(200, { ok: true, backend, server, ...change });
  }
  return json(404, { ok: false, error: `no route ${method} ${url.pathname}` });
}

/** A browser asking for a page (Accept: text/html) gets the dashboard at /; curl gets JSON. */
function wantsHtml(req: http.IncomingMessage): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && accept.includes('text/html');
}

function foreignOrigin(req: http.IncomingMessage): string | undefined {
  // Fetch metadata: browsers send it on every request, so a cross-site form or fetch is refused
  // even where Origin is stripped (some redirects) or spoofed to match by a DNS-rebinding host name.
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `${String(site)} request refused (Sec-Fetch-Site): use the dashboard served by this admin API, or a tool that sends no Origin`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `origin ${JSON.stringify(origin)} is not a URL`;
  }
  if (host !== req.headers.host) return `cross-origin request from ${origin} refused: use the dashboard served by this admin API, or a tool that sends no Origin`;
  return undefined;
}
