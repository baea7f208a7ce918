// Common ground of the fake cloud APIs (fake-digitalocean.ts, fake-hetzner.ts): an HTTP
// server on loopback, a log of requests, and faults queued per route that the next matching
// request gets instead of the normal answer (each fault is used once).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** Answer with this status and the provider's error body; headers as given. */
  | { status: number; code?: string; message?: string; headers?: Record<string, string> }
  /** Never answer (the client's per-request timeout must fire). */
  | { hang: true };

export interface RecordedRequest {
  method: string;
  path: string;
  route: string;
  body: unknown;
  authorization: string | undefined;
  remoteAddress: string | undefined;
}

export interface Reply {
  status: number;
  body: unknown;
  /** Plain text instead of JSON (metadata services). */
  text?: string;
  headers?: Record<string, string>;
}

export type RouteHandler = (req: RecordedRequest) => Reply | Promise<Reply>;

/** Turns a fault into the provider's error body. */
export type ErrorBody = (status: number, code: string | undefined, message: string | undefined) => unknown;

export class FakeCloudServer {
  readonly requests: RecordedRequest[] = [];
  private readonly faults = new Map<string, Fault[]>();
  private readonly server: Server;
  private readonly route: (method: string, path: string) => string;
  private readonly handle: RouteHandler;
  private readonly errorBody: ErrorBody;
  url = '';

  constructor(route: (method: string, path: string) => string, handle: RouteHandler, errorBody: ErrorBody) {
    this.route = route;
    this.handle = handle;
    this.errorBody = errorBody;
    this.server = createServer((req, res) => void this.onRequest(req, res));
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    this.url = `http://${h}:${a.port}`;
    return this.url;
  }

  /** Queue faults for a route name (see the fake's route names) or '*' for any request. */
  inject(route: string, ...faults: Fault[]): void {
    const q = this.faults.get(route) ?? [];
    q.push(...faults);
    this.faults.set(route, q);
  }

  count(route: string): number {
    return this.requests.filter((r) => r.route === route).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const path = req.url ?? '/';
    const route = this.route(req.method ?? 'GET', path);
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      route,
      body,
      authorization: req.headers.authorization,
      remoteAddress: req.socket.remoteAddress,
    };
    this.requests.push(rec);
    const fault = this.faults.get(route)?.shift() ?? this.faults.get('*')?.shift();
    if (fault && 'hang' in fault) return; // leave the socket open; close() destroys it
    let reply: Reply;
    if (fault) {
      reply = { status: fault.status, body: this.errorBody(fault.status, fault.code, fault.message), ...(fault.headers ? { headers: fault.headers } : {}) };
    } else {
      try {
        reply = await this.handle(rec);
      } catch (err) {
        reply = { status: 500, body: this.errorBody(500, undefined, String(err)) };
      }
    }
    const headers: Record<string, string> = { ...reply.headers };
    let payload: string;
    if (reply.text !== undefined) {
      headers['content-type'] = 'text/plain; charset=utf-8';
      payload = reply.text;
    } else {
      headers['content-type'] = 'application/json; charset=utf-8';
      payload = JSON.stringify(reply.body);
    }
    res.writeHead(reply.status, headers);
    res.end(payload);
  }
}
