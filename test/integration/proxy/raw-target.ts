// The proxies the raw corpus and the head fuzz are sent through: a real `halb run` process, or
// HAProxy (/usr/sbin/haproxy) for the comparison table, both in front of a byte-logging backend
// with the same routing: /admin goes to a backend whose only server refuses (the "denied" path),
// everything else to the byte-logging server. Short keep-alive and request timeouts, so every
// raw exchange ends with the proxy closing.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startHalb, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { refusedPort } from '../../helpers/refused-port.ts';

export interface Target {
  name: string;
  port: number;
  /** Still running (a crash ends it). */
  alive(): boolean;
  /** Lines halb logged (empty for HAProxy). */
  lines: Record<string, unknown>[];
  /** The first log line matching (log lines come through a pipe, after the answer). */
  waitFor(match: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export const HAPROXY = '/usr/sbin/haproxy';

export async function startHalbTarget(backendPort: number, opts: { httpRequest?: string; keepAlive?: string } = {}): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'halb-raw-'));
  const port = await freePort();
  const denied = await refusedPort();
  const file = join(dir, 'halb.yaml');
  writeFileSync(
    file,
    `global:
  workers: 1
defaults:
  timeouts: { connect: 1s, client: 5s, server: 5s, http-request: ${opts.httpRequest ?? '1s'}, http-keep-alive: ${opts.keepAlive ?? '300ms'} }
frontends:
  web:
    bind: ["127.0.0.1:${port}"]
    mode: http
    forwardfor: true
    default_backend: app
    rules:
      - { path_prefix: /admin, backend: denied }
backends:
  app:
    servers: [{ name: log, address: "127.0.0.1:${backendPort}" }]
  denied:
    retries: 0
    servers: [{ name: nobody, address: "127.0.0.1:${denied}" }]
`,
  );
  const halb: HalbProcess = startHalb(['run', '-c', file]);
  let exited = false;
  void halb.exited.then(() => (exited = true));
  try {
    await halb.waitFor((l) => l.msg === 'listening');
  } catch (err) {
    halb.kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    name: 'halb',
    port,
    alive: () => !exited,
    lines: halb.lines,
    waitFor: (match, timeoutMs) => halb.waitFor(match, timeoutMs),
    stop: async () => {
      halb.kill('SIGKILL');
      await halb.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function haproxyVersion(): string | undefined {
  if (!existsSync(HAPROXY)) return undefined;
  return /version ([^ ]+)/.exec(execFileSync(HAPROXY, ['-v'], { encoding: 'utf8' }))?.[1];
}

export async function startHaproxyTarget(backendPort: number): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'halb-raw-haproxy-'));
  const port = await freePort();
  const denied = await refusedPort();
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(
    file,
    `global
  log stderr format raw local0 notice
defaults
  mode http
  option forwardfor
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  timeout http-request 1s
  timeout http-keep-alive 300ms
frontend web
  bind 127.0.0.1:${port}
  use_backend denied if { path_beg /admin }
  default_backend app
backend app
  server log 127.0.0.1:${backendPort}
backend denied
  retries 0
  server nobody 127.0.0.1:${denied}
`,
  );
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = false;
  child.once('exit', () => (exited = true));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 100 && !(await connects(port)); i++) {
    if (exited) throw new Error(`haproxy exited: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name: 'haproxy',
    port,
    alive: () => !exited,
    lines: [],
    waitFor: () => Promise.reject(new Error('HAProxy logs are not collected')),
    stop: async () => {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface RawReply {
  raw: Buffer;
  /** Status codes of the responses in the reply, in order (1xx included). */
  statuses: number[];
  /** The proxy closed or reset (rather than the guard timer firing). */
  closed: boolean;
}

/** Sends `bytes` on a new connection (parts with a short pause between them) and collects the
 *  reply until the proxy closes, or `guardMs`, or (with `quietMs`) that long after the last byte
 *  of a reply that holds a complete response head. */
export function sendRaw(port: number, bytes: Buffer | Buffer[], opts: { localAddress?: string; guardMs?: number; quietMs?: number } = {}): Promise<RawReply> {
  const parts = Array.isArray(bytes) ? bytes : [bytes];
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let guarded = false;
    const c = net.connect({ port, host: '127.0.0.1', localAddress: opts.localAddress }, () => {
      let i = 0;
      const next = (): void => {
        if (c.destroyed) return;
        c.write(parts[i++]!);
        if (i < parts.length) setTimeout(next, 30);
      };
      next();
    });
    const guard = setTimeout(() => {
      guarded = true;
      c.destroy();
    }, opts.guardMs ?? 4000);
    let quiet: NodeJS.Timeout | undefined;
    c.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opts.quietMs === undefined) return;
      clearTimeout(quiet);
      if (d.includes('\r\n\r\n') || Buffer.concat(chunks).includes('\r\n\r\n')) {
        quiet = setTimeout(() => {
          guarded = true;
          c.destroy();
        }, opts.quietMs);
      }
    });
    c.on('error', () => {});
    c.on('close', () => {
      clearTimeout(guard);
      clearTimeout(quiet);
      const raw = Buffer.concat(chunks);
      resolve({ raw, statuses: statusesOf(raw), closed: !guarded });
    });
  });
}

function statusesOf(raw: Buffer): number[] {
  return [...raw.toString('latin1').matchAll(/HTTP\/1\.[01] ([0-9]{3})/g)].map((m) => Number(m[1]));
}
