// `halb reload | handover | status | server`: talk to a running node's admin API.
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

type Call = { ok: boolean; text: string } | { error: string };

async function call(adminUrl: string, method: string, path: string, body?: unknown): Promise<Call> {
  let res: Response;
  try {
    res = await fetch(new URL(path, adminUrl), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    return { error: `cannot reach the admin API at ${adminUrl}: ${(err as Error).message}` };
  }
  return { ok: res.ok, text: await res.text() };
}

const line = (t: string): string => (t.endsWith('\n') ? t : t + '\n');

export async function adminClientCommand(command: keyof typeof routes, adminUrl: string, opts: AdminClientOptions = {}): Promise<number> {
  const route = routes[command];
  const r = await call(adminUrl, route.method, route.path);
  if ('error' in r) {
    process.stderr.write(`halb ${command}: ${r.error}\n`);
    return 2;
  }
  if (command === 'status' && r.ok && !opts.json) {
    let status: unknown;
    try {
      status = JSON.parse(r.text);
    } catch {
      process.stderr.write(`halb status: the admin API at ${adminUrl} did not answer JSON:\n${line(r.text)}`);
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

export async function serverCommand(backend: string, server: string, opts: ServerCommandOptions, adminUrl: string): Promise<number> {
  const change = serverChangeFromFlags(opts);
  if (typeof change === 'string') {
    process.stderr.write(`halb server: ${change}\n`);
    return 2;
  }
  const r = await call(adminUrl, 'POST', `/servers/${encodeURIComponent(backend)}/${encodeURIComponent(server)}`, change);
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
