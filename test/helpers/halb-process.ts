// Runs `halb run -c FILE` as a real child process for tests, with its JSON log collected.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';

export const HALB_MAIN = fileURLToPath(new URL('../../bin/halb.js', import.meta.url));

/**
 * A port that was free a moment ago, for a child process to bind. Chosen below the kernel's
 * ephemeral range: halb listens with SO_REUSEPORT, and so does every frontend in the test files
 * running beside this one. A port from listen(0) could be handed to one of them between our
 * close and halb's bind; both would then listen and the kernel would split our connections
 * between them (a request answered by another test's proxy). listen(0) and connect() never
 * hand out ports below the range, so only another explicit pick can collide.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: keep the usual default
  }
  const from = 10_000;
  for (let i = 0; i < 50 && low > from + 100; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (await bindable(host, port)) return port;
  }
  throw new Error(`freePort: no free port found in ${from}-${low - 1} on ${host}`);
}

function bindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export interface HalbProcess {
  child: ChildProcess;
  /** Every log line so far, parsed. */
  lines: Record<string, unknown>[];
  /** Resolves with the first log line matching, or rejects after timeoutMs. */
  waitFor(match: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export function startHalb(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): HalbProcess {
  const child = spawn(process.execPath, [HALB_MAIN, ...args, '--log-format', 'json'], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buf = '';
  const onData = (d: Buffer): void => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text, raw: true };
      }
      lines.push(line);
      for (const w of waiters.slice()) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitFor(match, timeoutMs = 15_000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`halb log line not seen within ${timeoutMs}ms; last lines:\n${lines.slice(-15).map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs);
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`halb exited (code ${code}, signal ${signal}) before the awaited log line; last lines:\n${lines.slice(-15).map((l) => JSON.stringify(l)).join('\n')}`));
        });
      });
    },
  };
}

/** Writes `config` to `file`, runs `halb run -c file`, and resolves once the node has started. */
export async function runHalbWith(file: string, config: string, timeoutMs = 30_000): Promise<HalbProcess> {
  writeFileSync(file, config);
  const halb = startHalb(['run', '-c', file]);
  await halb.waitFor((l) => l.msg === 'halb node started', timeoutMs);
  return halb;
}
