// The web servers behind every proxy: one nginx master with one worker and three server blocks
// on three loopback ports. Small body at /, 64 KiB at /64k. Access logs off so disk I/O does not
// enter the numbers.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileLimit, startGroup, stopGroup } from './process-group.ts';
import type { Started } from './process-group.ts';
import { freePorts, waitHttpReady } from './loopback.ts';

export interface Backends {
  ports: number[];
  /** the nginx master, root of the backends' process tree */
  pid: number;
  stop(): Promise<void>;
}

export const SMALL_BODY = 'hello from halb bench\n';
export const LARGE_PATH = '/64k';
const LARGE_SIZE = 64 * 1024;

export async function startNginxBackends(nginx: string, dir: string, count = 3): Promise<Backends> {
  // nginx workers run as an unprivileged user when started by root: they must reach the files
  chmodSync(dir, 0o755);
  const prefix = join(dir, 'backends');
  const root = join(prefix, 'html');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, '64k'), Buffer.alloc(LARGE_SIZE, 'x'));
  const ports = await freePorts(count);
  const servers = ports
    .map(
      (port, i) => `
    server {
        listen 127.0.0.1:${port} backlog=4096;
        root ${root};
        location = / { return 200 "${SMALL_BODY.replace('\n', '\\n')}"; }
        location = ${LARGE_PATH} { add_header X-Backend b${i + 1}; }
    }`,
    )
    .join('\n');
  const conf = `
worker_processes 1;
worker_rlimit_nofile ${fileLimit()};
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections ${fileLimit() - 100}; multi_accept on; }
http {
    access_log off;
    default_type text/plain;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 120s;
    keepalive_requests 10000000;
    client_body_temp_path ${join(prefix, 'tmp')};
    proxy_temp_path ${join(prefix, 'tmp')};
    fastcgi_temp_path ${join(prefix, 'tmp')};
    uwsgi_temp_path ${join(prefix, 'tmp')};
    scgi_temp_path ${join(prefix, 'tmp')};
${servers}
}
`;
  const confPath = join(prefix, 'nginx.conf');
  writeFileSync(confPath, conf);
  const p: Started = startGroup('nginx-backends', nginx, ['-p', prefix, '-c', confPath, '-g', 'daemon off;'], {
    output: join(prefix, 'logs', 'stdout.log'),
  });
  for (const port of ports) {
    const ready =
      (await waitHttpReady(port, '/', 10_000, () => !p.hasExited())) &&
      (await waitHttpReady(port, LARGE_PATH, 2_000, () => !p.hasExited()));
    if (!ready) {
      await stopGroup(p);
      throw new Error(`bench: nginx backends did not come up on port ${port}; see ${prefix}/logs/error.log`);
    }
  }
  return { ports, pid: p.pid, stop: () => stopGroup(p) };
}
