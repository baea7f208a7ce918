// A fake DigitalOcean API v2 (reserved IPs) plus droplet metadata service, for tests and for
// the system test's "cloud" namespace. Shapes follow the documented API
// (https://docs.digitalocean.com/reference/api/digitalocean/#tag/Reserved-IP-Actions,
//  https://docs.digitalocean.com/reference/api/metadata/droplet-properties/).
//
// Routes (names usable with inject()):
//   'get-ip'    GET  /v2/reserved_ips/{ip}
//   'action'    POST /v2/reserved_ips/{ip}/actions            {type: assign|unassign, droplet_id}
//   'poll'      GET  /v2/reserved_ips/{ip}/actions/{id}  and  GET /v2/actions/{id}
//   'metadata'  GET  /metadata/v1/id                          (plain text droplet id)
//
// An assign action completes after `actionPolls` polls of it (0: at once, Infinity: never);
// the address changes holder, and onAssign runs, when it completes. While an action runs the
// address is `locked` and another assign gets 422 "pending event", as the real API does.
//
// Standalone (system tests):
//   node test/helpers/fake-digitalocean.ts --host 10.9.0.1 --port 8080 --token T \
//     --ip 203.0.113.10[=DROPLET] --droplet 1001=10.9.0.11 --droplet 1002=10.9.0.12 \
//     [--action-polls 0] [--on-assign 'sh command']
//   --droplet ID=ADDR: metadata requests from ADDR get ID. --on-assign runs `sh -c CMD` with
//   env IP and DROPLET_ID set (and also as $1 $2). Prints "listening URL" on stdout.

import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { FakeCloudServer, type Fault, type RecordedRequest, type Reply } from './fake-cloud-server.ts';

export type { Fault };

export interface FakeDigitalOceanOptions {
  token: string;
  /** Reserved IPs and who holds each (null: unassigned). */
  ips: Record<string, number | null>;
  /** Droplet id the metadata service reports, fixed or by the caller's source address. */
  metadataDropletId?: number | ((remoteAddress: string | undefined) => number | undefined);
  /** Called when an assign action completes. Errors make the action "errored". */
  onAssign?: (ip: string, dropletId: number) => void | Promise<void>;
  actionPolls?: number;
}

interface FakeAction {
  id: number;
  ip: string;
  type: 'assign_ip' | 'unassign_ip';
  dropletId: number | null;
  status: 'in-progress' | 'completed' | 'errored';
  polls: number;
  startedAt: string;
  completedAt: string | null;
}

const ERROR_IDS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
  500: 'server_error',
  502: 'server_error',
  503: 'service_unavailable',
};

export function doErrorBody(status: number, code?: string, message?: string): unknown {
  return { id: code ?? ERROR_IDS[status] ?? 'error', message: message ?? `error ${status}` };
}

function route(method: string, path: string): string {
  const p = path.split('?')[0] ?? path;
  if (p === '/metadata/v1/id') return 'metadata';
  if (/^\/v2\/reserved_ips\/[^/]+$/.test(p)) return method === 'GET' ? 'get-ip' : 'other';
  if (/^\/v2\/reserved_ips\/[^/]+\/actions$/.test(p)) return method === 'POST' ? 'action' : 'other';
  if (/^\/v2\/reserved_ips\/[^/]+\/actions\/\d+$/.test(p) || /^\/v2\/actions\/\d+$/.test(p)) return 'poll';
  return 'other';
}

export class FakeDigitalOcean {
  readonly server: FakeCloudServer;
  readonly holders: Map<string, number | null>;
  readonly actions = new Map<number, FakeAction>();
  actionPolls: number;
  /** Make actions end as "errored" instead of completing. */
  failActions = false;
  private nextActionId = 1000;
  private readonly opts: FakeDigitalOceanOptions;

  constructor(opts: FakeDigitalOceanOptions) {
    this.opts = opts;
    this.holders = new Map(Object.entries(opts.ips));
    this.actionPolls = opts.actionPolls ?? 1;
    this.server = new FakeCloudServer(route, (r) => this.handle(r), doErrorBody);
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

  private reservedIp(ip: string): unknown {
    const holder = this.holders.get(ip) ?? null;
    const locked = [...this.actions.values()].some((a) => a.ip === ip && a.status === 'in-progress');
    return {
      ip,
      droplet: holder === null ? null : { id: holder, name: `droplet-${holder}`, status: 'active' },
      region: { name: 'Frankfurt 1', slug: 'fra1', available: true },
      locked,
      project_id: '746c6152-2fa2-11ed-92d3-27aaa54e4988',
    };
  }

  private actionJson(a: FakeAction): unknown {
    return {
      id: a.id,
      status: a.status,
      type: a.type,
      started_at: a.startedAt,
      completed_at: a.completedAt,
      resource_id: ipToInt(a.ip),
      resource_type: 'reserved_ip',
      region_slug: 'fra1',
    };
  }

  private async complete(a: FakeAction): Promise<void> {
    if (this.failActions) {
      a.status = 'errored';
    } else {
      try {
        if (a.type === 'assign_ip' && a.dropletId !== null) await this.opts.onAssign?.(a.ip, a.dropletId);
        this.holders.set(a.ip, a.dropletId);
        a.status = 'completed';
      } catch {
        a.status = 'errored';
      }
    }
    a.completedAt = new Date().toISOString();
  }

  private async handle(r: RecordedRequest): Promise<Reply> {
    const rl = { 'ratelimit-limit': '5000', 'ratelimit-remaining': '4999', 'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 60) };
    if (r.route === 'metadata') {
      const m = this.opts.metadataDropletId;
      const id = typeof m === 'function' ? m(r.remoteAddress) : m;
      if (id === undefined) return { status: 404, body: null, text: 'not found' };
      return { status: 200, body: null, text: String(id) };
    }
    if (r.authorization !== `Bearer ${this.opts.token}`) {
      return { status: 401, body: doErrorBody(401, 'unauthorized', 'Unable to authenticate you'), headers: rl };
    }
    const notFound: Reply = { status: 404, body: doErrorBody(404, 'not_found', 'The resource you were accessing could not be found.'), headers: rl };
    const parts = (r.path.split('?')[0] ?? '').split('/');
    if (r.route === 'poll') {
      const id = Number(parts[parts.length - 1]);
      const a = this.actions.get(id);
      if (!a) return notFound;
      if (a.status === 'in-progress') {
        a.polls++;
        if (a.polls >= this.actionPolls) await this.complete(a);
      }
      return { status: 200, body: { action: this.actionJson(a) }, headers: rl };
    }
    const ip = decodeURIComponent(parts[3] ?? '');
    if (!this.holders.has(ip)) return notFound;
    if (r.route === 'get-ip') return { status: 200, body: { reserved_ip: this.reservedIp(ip) }, headers: rl };
    if (r.route === 'action') {
      const b = r.body as { type?: unknown; droplet_id?: unknown } | undefined;
      if (b?.type !== 'assign' && b?.type !== 'unassign') {
        return { status: 422, body: doErrorBody(422, 'unprocessable_entity', 'type is not a valid action type'), headers: rl };
      }
      if (b.type === 'assign' && (typeof b.droplet_id !== 'number' || !Number.isSafeInteger(b.droplet_id) || b.droplet_id <= 0)) {
        return { status: 422, body: doErrorBody(422, 'unprocessable_entity', 'droplet_id is invalid'), headers: rl };
      }
      if ([...this.actions.values()].some((a) => a.ip === ip && a.status === 'in-progress')) {
        return { status: 422, body: doErrorBody(422, 'unprocessable_entity', 'Reserved IP has a pending event.'), headers: rl };
      }
      const a: FakeAction = {
        id: this.nextActionId++,
        ip,
        type: b.type === 'assign' ? 'assign_ip' : 'unassign_ip',
        dropletId: b.type === 'assign' ? (b.droplet_id as number) : null,
        status: 'in-progress',
        polls: 0,
        startedAt: new Date().toISOString(),
        completedAt: null,
      };
      this.actions.set(a.id, a);
      if (this.actionPolls <= 0) await this.complete(a);
      return { status: 201, body: { action: this.actionJson(a) }, headers: rl };
    }
    return notFound;
  }
}

function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return p.length === 4 ? (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) : 0;
}

export async function startFakeDigitalOcean(opts: FakeDigitalOceanOptions, port = 0, host = '127.0.0.1'): Promise<FakeDigitalOcean> {
  const f = new FakeDigitalOcean(opts);
  await f.listen(port, host);
  return f;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      token: { type: 'string' },
      ip: { type: 'string', multiple: true, default: [] },
      droplet: { type: 'string', multiple: true, default: [] },
      'action-polls': { type: 'string', default: '0' },
      'on-assign': { type: 'string' },
    },
  });
  if (!values.token) throw new Error('--token is required');
  const ips: Record<string, number | null> = {};
  for (const spec of values.ip) {
    const [ip, holder] = spec.split('=');
    ips[ip!] = holder ? Number(holder) : null;
  }
  const byAddr = new Map<string, number>();
  for (const spec of values.droplet) {
    const [id, addr] = spec.split('=');
    byAddr.set(addr!, Number(id));
  }
  const cmd = values['on-assign'];
  const fake = await startFakeDigitalOcean(
    {
      token: values.token,
      ips,
      metadataDropletId: (addr) => byAddr.get((addr ?? '').replace(/^::ffff:/, '')),
      actionPolls: Number(values['action-polls']),
      ...(cmd
        ? {
            onAssign: (ip: string, dropletId: number) =>
              new Promise<void>((resolve, reject) => {
                const child = spawn('sh', ['-c', cmd, 'on-assign', ip, String(dropletId)], {
                  env: { ...process.env, IP: ip, DROPLET_ID: String(dropletId) },
                  stdio: 'inherit',
                });
                child.on('error', reject);
                child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`on-assign exited ${code}`))));
              }),
          }
        : {}),
    },
    Number(values.port),
    values.host,
  );
  process.stdout.write(`listening ${fake.url}\n`);
  const stop = (): void => void fake.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`fake-digitalocean: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
