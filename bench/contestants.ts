// The proxies under test and how each is configured and started. Configs follow each program's
// own advice for a fast keep-alive proxy, so halb is compared with them at their best.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileLimit, startGroup, stopGroup } from './process-group.ts';
import type { Started } from './process-group.ts';
import { waitHttpReady } from './loopback.ts';
import type { Binaries } from './binaries.ts';
import type { TlsFiles } from './tls-cert.ts';
import { HALB_V8_FLAGS } from '../src/node/v8-flags.ts';

export type Mode = 'http' | 'tcp';
export type Family = 'direct' | 'halb' | 'haproxy' | 'nginx' | 'node-http-proxy';

export interface StartContext {
  mode: Mode;
  /** the port the contestant listens on (ignored by direct) */
  port: number;
  backendPorts: readonly number[];
  /** a fresh directory for this start's config and logs */
  dir: string;
  bin: Binaries;
  /** set in the HTTPS scenarios: terminate TLS on the listener with this certificate */
  tls: TlsFiles | undefined;
  /** the HTTP/2 scenario: offer ALPN h2 (and http/1.1, which the readiness probe speaks) */
  h2: boolean;
  /** serve with session resumption off: no tickets, no session cache */
  fullHandshakes: boolean;
}

export interface Running {
  /** where wrk sends its traffic */
  port: number;
  /** root of the process tree whose CPU is charged to this contestant; undefined for direct */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface Contestant {
  id: string;
  label: string;
  family: Family;
  modes: readonly Mode[];
  /** can terminate TLS, so takes part in the HTTPS scenarios */
  tls: boolean;
  /** serves HTTP/2 to clients, so takes part in the h2 scenario */
  h2?: boolean;
  start(ctx: StartContext): Promise<Running>;
}

/** Whether the contestant takes part in a scenario. */
export function plays(c: Contestant, s: { mode: Mode; tls?: boolean; h2?: unknown }): boolean {
  return c.modes.includes(s.mode) && (s.tls !== true || c.tls) && (s.h2 === undefined || c.h2 === true);
}

/** Thrown when a contestant cannot run at all here; the run goes on without it. */
export class Unavailable extends Error {}

const repoRoot = resolve(import.meta.dirname, '..');
const READY_MS = 15_000;

async function startAndWait(p: Started, ctx: StartContext, what: string, logFile: string): Promise<Running> {
  const port = ctx.port;
  if (!(await waitHttpReady(port, '/', READY_MS, () => !p.hasExited(), ctx.tls !== undefined))) {
    const exited = p.hasExited();
    await stopGroup(p);
    throw new Unavailable(`${what} did not answer on 127.0.0.1:${port} within ${READY_MS / 1000}s${exited ? ' (process exited)' : ''}; log: ${logFile}`);
  }
  return { port, pid: p.pid, stop: () => stopGroup(p) };
}

const direct: Contestant = {
  id: 'direct',
  label: 'direct (1 backend)',
  family: 'direct',
  modes: ['http', 'tcp'],
  // wrk straight to the plain nginx backend would measure no TLS at all
  tls: false,
  start: async (ctx) => ({ port: ctx.backendPorts[0] as number, pid: undefined, stop: async () => {} }),
};

function halbYaml(ctx: StartContext, workers: string, pipeline: number): string {
  const servers = ctx.backendPorts.map((p, i) => `      - { name: web${i + 1}, address: "127.0.0.1:${p}" }`).join('\n');
  return `# written by bench/run.ts
global:
  workers: ${workers}
  # HAProxy here has no log section and nginx has access_log off: same for halb
  log: { access: false, level: warn }
frontends:
  bench:
    bind: ["127.0.0.1:${ctx.port}"]
    mode: ${ctx.mode}
    default_backend: web${ctx.tls ? `
    tls: { crt: ["${ctx.tls.combined}"]${ctx.h2 ? ', alpn: [h2, http/1.1]' : ''}${ctx.fullHandshakes ? ', tickets: false' : ''} }` : ''}
backends:
  web:
    balance: roundrobin
    pipeline: ${pipeline}
    servers:
${servers}
`;
}

/** halb as a user would set it up; `pipeline` > 1 (http only) is the opt-in backend setting. */
function halb(workers: '1' | 'auto', pipeline = 1): Contestant {
  const id = `halb-${workers}${pipeline > 1 ? '-pipeline' : ''}`;
  const label = `halb (${workers === '1' ? '1 worker' : 'workers auto'}${pipeline > 1 ? `, pipeline ${pipeline}` : ''})`;
  return {
    id,
    label,
    family: 'halb',
    modes: pipeline > 1 ? ['http'] : ['http', 'tcp'],
    tls: true,
    h2: pipeline === 1,
    start: async (ctx) => {
      const main = join(repoRoot, 'bin/halb.js');
      if (!existsSync(main)) throw new Unavailable(`${main} does not exist yet`);
      const cfg = join(ctx.dir, 'halb.yaml');
      writeFileSync(cfg, halbYaml(ctx, workers, pipeline));
      const log = join(ctx.dir, 'halb.log');
      // through a shell only to raise the descriptor limit; exec keeps node as the tree's root
      const p = startGroup(
        'halb',
        '/bin/sh',
        // with the V8 flags ./halb and bin/halb.js's shebang start it with
        ['-c', `ulimit -n ${fileLimit()} && exec "$0" "$@"`, process.execPath, ...HALB_V8_FLAGS, main, 'run', '-c', cfg],
        { output: log, cwd: repoRoot },
      );
      return startAndWait(p, ctx, 'halb', log);
    },
  };
}

function haproxyCfg(ctx: StartContext, threads: number): string {
  const servers = ctx.backendPorts.map((p, i) => `    server web${i + 1} 127.0.0.1:${p}`).join('\n');
  const httpOnly = ctx.mode === 'http' ? '    option http-keep-alive\n    http-reuse always\n' : '';
  return `# written by bench/run.ts
global
    nbthread ${threads}
    maxconn ${Math.floor((fileLimit() - 100) / 2)}
${ctx.fullHandshakes ? '    tune.ssl.cachesize 0\n' : ''}defaults
    mode ${ctx.mode}
    timeout connect 5s
    timeout client 30s
    timeout server 30s
${httpOnly}frontend fe
    bind 127.0.0.1:${ctx.port}${ctx.tls ? ` ssl crt ${ctx.tls.combined}${ctx.h2 ? ' alpn h2,http/1.1' : ''}${ctx.fullHandshakes ? ' no-tls-tickets' : ''}` : ''}
    default_backend be
backend be
    balance roundrobin
${servers}
`;
}

function haproxy(threads: 1 | 2): Contestant {
  return {
    id: `haproxy-${threads}`,
    label: `HAProxy (nbthread ${threads})`,
    family: 'haproxy',
    modes: ['http', 'tcp'],
    tls: true,
    h2: true,
    start: async (ctx) => {
      const cfg = join(ctx.dir, 'haproxy.cfg');
      writeFileSync(cfg, haproxyCfg(ctx, threads));
      const log = join(ctx.dir, 'haproxy.log');
      // -db: stay in the foreground, so the process we started is the proxy itself
      const p = startGroup('haproxy', ctx.bin.haproxy, ['-db', '-f', cfg], { output: log });
      return startAndWait(p, ctx, 'haproxy', log);
    },
  };
}

function nginxProxyConf(ctx: StartContext, prefix: string): string {
  const servers = ctx.backendPorts.map((p) => `        server 127.0.0.1:${p};`).join('\n');
  return `# written by bench/run.ts
worker_processes auto;
worker_rlimit_nofile ${fileLimit()};
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections ${Math.floor((fileLimit() - 100) / 2)}; multi_accept on; }
http {
    access_log off;
    keepalive_timeout 120s;
    keepalive_requests 10000000;
    client_body_temp_path ${join(prefix, 'tmp')};
    proxy_temp_path ${join(prefix, 'tmp')};
    fastcgi_temp_path ${join(prefix, 'tmp')};
    uwsgi_temp_path ${join(prefix, 'tmp')};
    scgi_temp_path ${join(prefix, 'tmp')};
    upstream be {
${servers}
        keepalive 64;
        keepalive_requests 10000000;
    }
    server {
        listen 127.0.0.1:${ctx.port}${ctx.tls ? ' ssl' : ''}${ctx.h2 ? ' http2' : ''};${
          ctx.tls ? `
        ssl_certificate ${ctx.tls.cert};
        ssl_certificate_key ${ctx.tls.key};${ctx.fullHandshakes ? `
        ssl_session_tickets off;
        ssl_session_cache off;` : ''}` : ''
        }
        location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # 64 KiB responses stay in memory instead of spilling to a temp file
            proxy_buffer_size 16k;
            proxy_buffers 8 16k;
        }
    }
}
`;
}

const nginxProxy: Contestant = {
  id: 'nginx',
  label: 'nginx (workers auto)',
  family: 'nginx',
  // Debian's nginx has no stream module unless libnginx-mod-stream is installed
  modes: ['http'],
  tls: true,
  h2: true,
  start: async (ctx) => {
    mkdirSync(join(ctx.dir, 'tmp'), { recursive: true });
    const conf = join(ctx.dir, 'nginx.conf');
    writeFileSync(conf, nginxProxyConf(ctx, ctx.dir));
    const log = join(ctx.dir, 'error.log');
    const p = startGroup('nginx-proxy', ctx.bin.nginx, ['-p', ctx.dir, '-c', conf, '-g', 'daemon off;'], {
      output: join(ctx.dir, 'stdout.log'),
    });
    return startAndWait(p, ctx, 'nginx', log);
  },
};

const nodeHttpProxy: Contestant = {
  id: 'node-http-proxy',
  label: 'node-http-proxy',
  family: 'node-http-proxy',
  modes: ['http'],
  tls: false,
  start: async (ctx) => {
    const log = join(ctx.dir, 'node-http-proxy.log');
    const script = join(repoRoot, 'bench/node-http-proxy-server.ts');
    const p = startGroup('node-http-proxy', process.execPath, [script, String(ctx.port), ...ctx.backendPorts.map(String)], {
      output: log,
      cwd: repoRoot,
    });
    return startAndWait(p, ctx, 'node-http-proxy', log);
  },
};

export const contestants: readonly Contestant[] = [
  direct,
  halb('1'),
  halb('auto'),
  halb('1', 16),
  halb('auto', 16),
  haproxy(1),
  haproxy(2),
  nginxProxy,
  nodeHttpProxy,
];
