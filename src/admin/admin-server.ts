// Admin API: status, traffic series, Prometheus metrics, dashboard, reload, handover and runtime server commands,
// on a unix socket (trusted by its file mode) and/or a TCP listener (bearer token or mTLS for
// every state-changing call; read-only views open only with read_only_open). It knows nothing
// about how the node does these: the node hands in callbacks. Who may do what is decided in
// access.ts; this file gathers the facts and keeps the secrets.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AdminConfig, HostPort } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { dashboardPage, type DashboardPage } from './dashboard-page.ts';
import { parseServerChange, type ServerChange } from './server-change.ts';
import { decideAccess, type AccessFacts, type AdminChannel } from './access.ts';
import { newCsrfToken, readAdminToken, sameSecret } from './admin-token.ts';
import { listenUnixSocket, removeUnixSocket } from './admin-socket.ts';

export interface AdminHandlers {
  status(): unknown;
  /** The dashboard's traffic series (traffic-sampler.ts) and the node's totals (proxy/traffic-stats.ts). */
  traffic(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
  reload(): Promise<{ ok: true; message: string } | { ok: false; errors: string[] }>;
  handover(): Promise<string>;
  /** Runtime server command: drain | ready | maint, and/or weight. Returns an error text or undefined. */
  setServer(backend: string, server: string, change: ServerChange): string | undefined;
}

export class AdminServer {
  private readonly config: AdminConfig;
  private readonly log: Logger;
  private readonly handlers: AdminHandlers;
  private readonly token: Buffer | undefined;
  private readonly csrf = newCsrfToken();
  private readonly page: DashboardPage;
  private tcp: http.Server | undefined;
  private unix: http.Server | undefined;
  private unixIno: number | undefined;

  /** Reads the token and TLS files now, so a bad one stops the start with its reason. */
  constructor(config: AdminConfig, handlers: AdminHandlers, log: Logger) {
    this.config = config;
    this.handlers = handlers;
    this.log = log;
    this.page = dashboardPage(this.csrf);
    this.token = config.listen && config.token ? readAdminToken(config.token) : undefined;
    if (config.socket) this.unix = http.createServer(this.handler({ kind: 'socket' }));
    if (config.listen) {
      const channel: AdminChannel = { kind: 'tcp', token: this.token !== undefined, mtls: config.tls?.caFile !== undefined, readOnlyOpen: config.readOnlyOpen };
      const t = config.tls;
      this.tcp = t
        ? https.createServer(
            {
              cert: readTlsFile('cert_file', t.certFile),
              key: readTlsFile('key_file', t.keyFile),
              ...(t.caFile !== undefined ? { ca: readTlsFile('ca_file', t.caFile), requestCert: true, rejectUnauthorized: t.verify === 'required' } : {}),
            },
            this.handler(channel),
          )
        : http.createServer(this.handler(channel));
    }
  }

  private handler(channel: AdminChannel): http.RequestListener {
    return (req, res) => {
      const refused = decideAccess(channel, this.facts(req));
      const reply = refused.allow
        ? route(req, this.handlers, this.page)
        : Promise.resolve({ ...json(refused.status, { ok: false, error: refused.error }), headers: refused.status === 401 && channel.kind === 'tcp' && channel.token ? { 'www-authenticate': 'Bearer realm="halb admin"' } : {} });
      if (!refused.allow) this.log.warn({ method: req.method, url: req.url, status: refused.status, reason: refused.error }, 'admin request refused');
      reply.then(
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
          this.log.error({ err, url: req.url }, 'admin request failed');
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error\n');
        },
      );
    };
  }

  /** What access.ts decides on. The secrets are compared here, in constant time, and go no further. */
  private facts(req: http.IncomingMessage): AccessFacts {
    const method = req.method ?? 'GET';
    const auth = req.headers.authorization;
    const bearer = /^Bearer +(\S+) *$/i.exec(auth ?? '');
    const csrf = req.headers['x-halb-csrf'];
    const sock = req.socket as net.Socket & Partial<tls.TLSSocket>;
    let clientCert: AccessFacts['clientCert'] = 'none';
    if (typeof sock.getPeerCertificate === 'function') {
      if (sock.authorized === true) clientCert = 'verified';
      else if (Object.keys(sock.getPeerCertificate() ?? {}).length > 0) clientCert = 'unverified';
    }
    return {
      stateChanging: method === 'POST' || method === 'PUT',
      bearer: auth === undefined ? 'none' : bearer && this.token && sameSecret(bearer[1]!, this.token) ? 'valid' : 'invalid',
      clientCert,
      browser: ['origin', 'referer', 'sec-fetch-site', 'sec-fetch-mode'].some((h) => req.headers[h] !== undefined),
      csrf: typeof csrf !== 'string' ? 'none' : sameSecret(csrf, Buffer.from(this.csrf)) ? 'valid' : 'invalid',
      foreign: foreignOrigin(req),
    };
  }

  async listen(): Promise<void> {
    if (this.unix && this.config.socket) {
      this.unixIno = await listenUnixSocket(this.unix, this.config.socket);
      this.afterListen(this.unix);
    }
    const tcp = this.tcp;
    const at = this.config.listen;
    if (tcp && at) {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(at.port, at.host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      this.afterListen(tcp);
    }
  }

  private afterListen(server: http.Server): void {
    // Accept errors later on (EMFILE under load) are logged, never fatal.
    server.on('error', (err) => this.log.error({ err: err.message }, 'admin listener error'));
    // A failed TLS handshake (no or wrong client certificate) is a refusal worth seeing.
    server.on('tlsClientError', (err: Error) => this.log.warn({ reason: err.message }, 'admin TLS handshake refused'));
  }

  /** The TCP listener's address (tests use port 0). */
  address(): HostPort | undefined {
    const a = this.tcp?.address();
    if (a && typeof a === 'object') return { host: a.address, port: a.port };
    return this.config.listen;
  }

  socketPath(): string | undefined {
    return this.config.socket?.path;
  }

  async close(): Promise<void> {
    const closing = [this.tcp, this.unix].filter((s): s is http.Server => s !== undefined && s.listening);
    await Promise.all(
      closing.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
    if (this.config.socket && this.unixIno !== undefined) removeUnixSocket(this.config.socket.path, this.unixIno);
  }
}

function readTlsFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`admin.tls.${key} ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
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

async function route(req: http.IncomingMessage, h: AdminHandlers, page: DashboardPage): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const method = req.method ?? 'GET';
  if (method === 'GET' && (url.pathname === '/dashboard' || (url.pathname === '/' && wantsHtml(req)))) {
    return { status: 200, type: 'text/html; charset=utf-8', body: page.html, headers: url.pathname === '/' ? { ...page.headers, vary: 'accept' } : page.headers };
  }
  if (method === 'GET' && url.pathname === '/') return { ...json(200, h.status()), headers: { vary: 'accept' } };
  if (method === 'GET' && url.pathname === '/status') return json(200, h.status());
  if (method === 'GET' && url.pathname === '/traffic') return json(200, h.traffic());
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

/**
 * Tools (curl, halb) send no Origin; a browser always does on a cross-site POST. Refusing a
 * foreign Origin keeps a web page the operator happens to visit from draining servers.
 */
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
