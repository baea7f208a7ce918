// `halb reload | handover | status | server`: talk to a running node's admin API, through its
// unix socket by default (file permissions decide who may), or a TCP listener with --admin URL
// (and --token-file, or --cert-file/--key-file for mTLS).
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { formatStatus } from '../admin/status-table.ts';
import { MAX_WEIGHT, type ServerChange } from '../admin/server-change.ts';

const routes = {
  reload: { method: 'POST', path: '/reload' },
  handover: { method: 'POST', path: '/handover' },
  status: { method: 'GET', path: '/status' },
} as const;

export interface AdminClientOptions {
  /** status: print the raw JSON instead of tables. */
  json?: boolean;
}

/** Where the running node's admin API is: its unix socket (the default) or a TCP URL. */
export interface AdminTarget {
  socket?: string;
  url?: string;
  /** Bearer token for the TCP listener (read from --token-file, never printed). */
  token?: string;
  /** https: the CA that signed the admin listener's certificate, and our client certificate (mTLS). */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface TargetFlags {
  socket?: string;
  admin?: string;
  tokenFile?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** The socket halb talks to when neither --admin nor --socket is given. */
export const DEFAULT_ADMIN_SOCKET = '/run/halb/admin.sock';

/** --admin URL wins over the socket; the files are read here, so a missing one is named. */
export function targetFromFlags(f: TargetFlags, env: NodeJS.ProcessEnv = process.env): AdminTarget | string {
  const read = (flag: string, path: string): Buffer | string => {
    try {
      return readFileSync(path);
    } catch (err) {
      return `${flag} ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
  };
  if (f.admin === undefined) {
    for (const [flag, v] of [['--token-file', f.tokenFile], ['--ca-file', f.caFile], ['--cert-file', f.certFile], ['--key-file', f.keyFile]] as const) {
      if (v !== undefined) return `${flag} is for a TCP admin listener: give --admin URL too (the unix socket needs no credentials)`;
    }
    return { socket: f.socket ?? env.HALB_ADMIN_SOCKET ?? DEFAULT_ADMIN_SOCKET };
  }
  const t: AdminTarget = { url: f.admin };
  if (f.tokenFile !== undefined) {
    const b = read('--token-file', f.tokenFile);
    if (typeof b === 'string') return b;
    t.token = b.toString('utf8').trim();
  }
  for (const [flag, key, path] of [['--ca-file', 'ca', f.caFile], ['--cert-file', 'cert', f.certFile], ['--key-file', 'key', f.keyFile]] as const) {
    if (path === undefined) continue;
    const b = read(flag, path);
    if (typeof b === 'string') return b;
    t[key] = b;
  }
  return t;
}

const describe = (t: AdminTarget): string => (t.url !== undefined ? t.url : `unix socket ${t.socket ?? DEFAULT_ADMIN_SOCKET}`);

export type AdminCall = { ok: boolean; text: string } | { error: string };

/** One admin API request, as the CLI sends it: no browser headers, so no CSRF token is needed. */
export function adminCall(target: AdminTarget, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<AdminCall> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  let req: http.ClientRequest;
  return new Promise((resolve) => {
    const done = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => resolve({ error: `cannot reach the admin API at ${describe(target)}: ${err.message}` }));
    };
    try {
      if (target.url !== undefined) {
        const url = new URL(path, target.url);
        const opts: https.RequestOptions = { method, headers, timeout: timeoutMs };
        if (url.protocol === 'https:') {
          if (target.ca) opts.ca = target.ca;
          if (target.cert) opts.cert = target.cert;
          if (target.key) opts.key = target.key;
          req = https.request(url, opts, done);
        } else req = http.request(url, opts, done);
      } else {
        req = http.request({ socketPath: target.socket ?? DEFAULT_ADMIN_SOCKET, path, method, headers: { ...headers, host: 'halb' }, timeout: timeoutMs }, done);
      }
    } catch (err) {
      resolve({ error: `cannot reach the admin API at ${describe(target)}: ${(err as Error).message}` });
      return;
    }
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'EACCES' ? ' (the socket\'s mode and group decide who may connect: run as its owner or a member of its group)' : err.code === 'ENOENT' ? ' (is halb running with admin.socket there? --socket PATH or --admin URL)' : '';
      resolve({ error: `cannot reach the admin API at ${describe(target)}: ${err.message}${hint}` });
    });
    req.end(payload);
  });
}

const line = (t: string): string => (t.endsWith('\n') ? t : t + '\n');

export async function adminClientCommand(command: keyof typeof routes, target: AdminTarget, opts: AdminClientOptions = {}): Promise<number> {
  const route = routes[command];
  const r = await adminCall(target, route.method, route.path);
  if ('error' in r) {
    process.stderr.write(`halb ${command}: ${r.error}\n`);
    return 2;
  }
  if (command === 'status' && r.ok && !opts.json) {
    let status: unknown;
    try {
      status = JSON.parse(r.text);
    } catch {
      process.stderr.write(`halb status: the admin API at ${describe(target)} did not answer JSON:\n${line(r.text)}`);
      return 1;
    }
    process.stdout.write(formatStatus(status, Date.now()));
    return 0;
  }
  (r.ok ? process.stdout : process.stderr).write(line(r.text));
  return r.ok ? 0 : 1;
}

export interface ServerCommandOptions {
  drain?: boolean;
  ready?: boolean;
  maint?: boolean;
  weight?: string;
}

/** The change the flags ask for, or an error text. Pure, for tests. */
export function serverChangeFromFlags(opts: ServerCommandOptions): ServerChange | string {
  const states = (['drain', 'ready', 'maint'] as const).filter((s) => opts[s] === true);
  if (states.length > 1) return `give one of --drain, --ready, --maint, not ${states.map((s) => `--${s}`).join(' and ')}`;
  const change: ServerChange = {};
  if (states[0] !== undefined) change.admin = states[0];
  if (opts.weight !== undefined) {
    const w = opts.weight.trim();
    if (!/^\d+$/.test(w) || Number(w) > MAX_WEIGHT) return `--weight must be an integer 0-${MAX_WEIGHT}, got ${JSON.stringify(opts.weight)}`;
    change.weight = Number(w);
  }
  if (change.admin === undefined && change.weight === undefined) return 'nothing to change: give --drain, --ready, --maint and/or --weight N';
  return change;
}

export async function serverCommand(backend: string, server: string, opts: ServerCommandOptions, target: AdminTarget): Promise<number> {
  const change = serverChangeFromFlags(opts);
  if (typeof change === 'string') {
    process.stderr.write(`halb server: ${change}\n`);
    return 2;
  }
  const r = await adminCall(target, 'POST', `/servers/${encodeURIComponent(backend)}/${encodeURIComponent(server)}`, change);
  if ('error' in r) {
    process.stderr.write(`halb server: ${r.error}\n`);
    return 2;
  }
  let reply: { error?: string } = {};
  try {
    reply = JSON.parse(r.text) as typeof reply;
  } catch {
    // not JSON: shown as is below
  }
  const what = [change.admin, change.weight !== undefined ? `weight ${change.weight}` : undefined].filter(Boolean).join(', ');
  if (r.ok) {
    process.stdout.write(`${backend}/${server}: ${what}\n`);
    return 0;
  }
  process.stderr.write(`halb server ${backend}/${server}: ${reply.error ?? r.text.trim()}\n`);
  return 1;
}
