// The embedded demo: `halb run --demo` balances three local web servers (which the CLI starts)
// behind 127.0.0.1:8080, with an HTTP health check so stopping one shows a server going down.

import { parseConfigText } from './load.ts';
import { formatConfigError } from './errors.ts';
import type { Config } from './types.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEMO_SOURCE = '<demo>';
export const DEMO_LISTEN_PORT = 8080;
export const DEMO_SERVER_PORTS: readonly number[] = [8081, 8082, 8083];
export const DEMO_ADMIN_PORT = 9100;
/**
 * The demo's admin socket (state changes: `halb server ... --socket` this path); its TCP
 * listener serves status, metrics and the dashboard read-only. Per user, in the temp directory,
 * since /run/halb needs root.
 */
export const DEMO_ADMIN_SOCKET = join(tmpdir(), `halb-demo-${process.getuid?.() ?? 0}.sock`);

export const DEMO_YAML = `# halb demo: one frontend, three web servers on this machine.
global:
  admin: { socket: ${JSON.stringify(DEMO_ADMIN_SOCKET)}, mode: 600, listen: 127.0.0.1:${DEMO_ADMIN_PORT}, read_only_open: true }
  log: { level: info, format: auto }

frontends:
  demo:
    bind: 127.0.0.1:${DEMO_LISTEN_PORT}
    mode: http
    default_backend: web
    forwardfor: true

backends:
  web:
    balance: roundrobin
    health:
      http: { method: GET, path: / }
      interval: 1s
      rise: 2
      fall: 2
    servers:
${DEMO_SERVER_PORTS.map((p, i) => `      - { name: web${i + 1}, address: 127.0.0.1:${p} }`).join('\n')}
`;

/** The demo as a Config; the text is ours, so an invalid demo is a bug and throws. */
export function demoConfig(): Config {
  const r = parseConfigText(DEMO_YAML, DEMO_SOURCE);
  if (!r.ok) throw new Error(`embedded demo config is invalid:\n${r.errors.map(formatConfigError).join('\n')}`);
  return r.config;
}
