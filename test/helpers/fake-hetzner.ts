// A fake Hetzner Cloud API (floating IPs, actions) plus server metadata, following
// https://docs.hetzner.cloud/reference/cloud (Floating IPs, Floating IP Actions, Actions, Errors,
// Server Metadata).
//
// Routes (names usable with inject()):
//   'list'      GET  /v1/floating_ips?page=&per_page=
//   'get-fip'   GET  /v1/floating_ips/{id}
//   'assign'    POST /v1/floating_ips/{id}/actions/assign   {server}
//   'unassign'  POST /v1/floating_ips/{id}/actions/unassign
//   'poll'      GET  /v1/actions/{id}  and  GET /v1/floating_ips/actions/{id}
//   'metadata'  GET  /hetzner/v1/metadata/instance-id          (plain text)
// An action succeeds after `actionPolls` polls (0: at once, Infinity: never). While one runs
// on a floating IP another gets 423 locked, as the API documents for concurrent actions.

import { FakeCloudServer, type Fault, type RecordedRequest, type Reply } from './fake-cloud-server.ts';

export type { Fault };

export interface FakeHetznerOptions {
  token: string;
  /** Floating IPs: id -> { ip, server holding it or null }. */
  floatingIps: Record<number, { ip: string; server: number | null }>;
  metadataServerId?: number;
  onAssign?: (ip: string, serverId: number) => void | Promise<void>;
  actionPolls?: number;
  /** Largest page the list endpoint returns (to exercise pagination). */
  pageSize?: number;
}

interface FakeAction {
  id: number;
  fipId: number;
  command: 'assign_floating_ip' | 'unassign_floating_ip';
  server: number | null;
  status: 'running' | 'success' | 'error';
  polls: number;
}

export function hetznerErrorBody(status: number, code?: string, message?: string): unknown {
  const codes: Record<number, string> = {
    400: 'invalid_input',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    409: 'conflict',
    422: 'unprocessable_entity',
    423: 'locked',
    429: 'rate_limit_exceeded',
    500: 'service_error',
    503: 'unavailable',
  };
  return { error: { code: code ?? codes[status] ?? 'service_error', message: message ?? `error ${status}`, details: {} } };
}

function route(method: string, path: string): string {
  const p = path.split('?')[0] ?? path;
  if (p === '/hetzner/v1/metadata/instance-id') return 'metadata';
  if (p === '/v1/floating_ips' && method === 'GET') return 'list';
  if (/^\/v1\/floating_ips\/\d+$/.test(p) && method === 'GET') return 'get-fip';
  if (/^\/v1\/floating_ips\/\d+\/actions\/assign$/.test(p) && method === 'POST') return 'assign';
  if (/^\/v1\/floating_ips\/\d+\/actions\/unassign$/.test(p) && method === 'POST') return 'unassign';
  if (/^\/v1\/(floating_ips\/)?actions\/\d+$/.test(p) && method === 'GET') return 'poll';
  return 'other';
}

export class FakeHetzner {
  readonly server: FakeCloudServer;
  readonly fips: Map<number, { ip: string; server: number | null }>;
  readonly actions = new Map<number, FakeAction>();
  actionPolls: number;
  failActions = false;
  private nextActionId = 500;
  private readonly opts: FakeHetznerOptions;

  constructor(opts: FakeHetznerOptions) {
    this.opts = opts;
    this.fips = new Map(Object.entries(opts.floatingIps).map(([k, v]) => [Number(k), { ...v }]));
    this.actionPolls = opts.actionPolls ?? 1;
    this.server = new FakeCloudServer(route, (r) => this.handle(r), hetznerErrorBody);
  }

  get url(): string {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  inject(routeName: string, ...faults: Fault[]): void {
    this.server.inject(routeName, ...faults);
  }

  count(routeName: string): number {
    return this.server.count(routeName);
  }

  listen(port = 0, host = '127.0.0.1'): Promise<string> {
    return this.server.listen(port, host);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private fipJson(id: number): unknown {
    const f = this.fips.get(id)!;
    return {
      id,
      name: `fip-${id}`,
      description: null,
      ip: f.ip,
      type: f.ip.includes(':') ? 'ipv6' : 'ipv4',
      server: f.server,
      dns_ptr: [],
      home_location: { id: 1, name: 'fsn1' },
      blocked: false,
      protection: { delete: false },
      labels: {},
      created: '2026-01-01T00:00:00+00:00',
    };
  }

  private actionJson(a: FakeAction): unknown {
    return {
      id: a.id,
      command: a.command,
      status: a.status,
      progress: a.status === 'running' ? 50 : 100,
      started: new Date().toISOString(),
      finished: a.status === 'running' ? null : new Date().toISOString(),
      resources: [
        { id: a.fipId, type: 'floating_ip' },
        ...(a.server !== null ? [{ id: a.server, type: 'server' }] : []),
      ],
      error: a.status === 'error' ? { code: 'action_failed', message: 'Action failed' } : null,
    };
  }

  private async complete(a: FakeAction): Promise<void> {
    if (this.failActions) {
      a.status = 'error';
      return;
    }
    const f = this.fips.get(a.fipId)!;
    try {
      if (a.server !== null) await this.opts.onAssign?.(f.ip, a.server);
      f.server = a.server;
      a.status = 'success';
    } catch {
      a.status = 'error';
    }
  }

  private async handle(r: RecordedRequest): Promise<Reply> {
    const rl = { 'ratelimit-limit': '3600', 'ratelimit-remaining': '3599', 'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1) };
    if (r.route === 'metadata') {
      const id = this.opts.metadataServerId;
      return id === undefined ? { status: 404, body: null, text: 'not found' } : { status: 200, body: null, text: String(id) };
    }
    if (r.authorization !== `Bearer ${this.opts.token}`) {
      return { status: 401, body: hetznerErrorBody(401, 'unauthorized', 'unable to authenticate'), headers: rl };
    }
    const url = new URL(r.path, 'http://x');
    const parts = url.pathname.split('/');
    const notFound: Reply = { status: 404, body: hetznerErrorBody(404, 'not_found', 'Floating IP not found'), headers: rl };
    if (r.route === 'list') {
      // per_page as asked, up to the server's maximum (the API's is 50).
      const size = Math.min(Number(url.searchParams.get('per_page') ?? '25'), this.opts.pageSize ?? 50);
      const page = Number(url.searchParams.get('page') ?? '1');
      const all = [...this.fips.keys()].sort((a, b) => a - b);
      const slice = all.slice((page - 1) * size, page * size);
      const last = Math.max(1, Math.ceil(all.length / size));
      return {
        status: 200,
        body: {
          floating_ips: slice.map((id) => this.fipJson(id)),
          meta: { pagination: { page, per_page: size, previous_page: page > 1 ? page - 1 : null, next_page: page < last ? page + 1 : null, last_page: last, total_entries: all.length } },
        },
        headers: rl,
      };
    }
    if (r.route === 'poll') {
      const a = this.actions.get(Number(parts[parts.length - 1]));
      if (!a) return { status: 404, body: hetznerErrorBody(404, 'not_found', 'action not found'), headers: rl };
      if (a.status === 'running') {
        a.polls++;
        if (a.polls >= this.actionPolls) await this.complete(a);
      }
      return { status: 200, body: { action: this.actionJson(a) }, headers: rl };
    }
    const id = Number(parts[3]);
    if (!this.fips.has(id)) return notFound;
    if (r.route === 'get-fip') return { status: 200, body: { floating_ip: this.fipJson(id) }, headers: rl };
    if (r.route === 'assign' || r.route === 'unassign') {
      const server = r.route === 'assign' ? (r.body as { server?: unknown } | undefined)?.server : null;
      if (r.route === 'assign' && (typeof server !== 'number' || !Number.isSafeInteger(server) || server <= 0)) {
        return { status: 400, body: hetznerErrorBody(400, 'invalid_input', 'invalid input in field server'), headers: rl };
      }
      if ([...this.actions.values()].some((a) => a.fipId === id && a.status === 'running')) {
        return { status: 423, body: hetznerErrorBody(423, 'locked', 'Floating IP is locked'), headers: rl };
      }
      const a: FakeAction = {
        id: this.nextActionId++,
        fipId: id,
        command: r.route === 'assign' ? 'assign_floating_ip' : 'unassign_floating_ip',
        server: (server as number | null) ?? null,
        status: 'running',
        polls: 0,
      };
      this.actions.set(a.id, a);
      if (this.actionPolls <= 0) await this.complete(a);
      return { status: 201, body: { action: this.actionJson(a) }, headers: rl };
    }
    return notFound;
  }
}

export async function startFakeHetzner(opts: FakeHetznerOptions, port = 0, host = '127.0.0.1'): Promise<FakeHetzner> {
  const f = new FakeHetzner(opts);
  await f.listen(port, host);
  return f;
}
