// Every process a benchmark starts goes through here, so one place can kill them all:
// each child leads its own process group (detached), and the group is killed, which also
// takes nginx/haproxy workers and halb's worker processes with it.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** True once the process has exited. */
  hasExited(): boolean;
}

const live = new Set<Started>();

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** File that receives stdout and stderr; 'ignore' drops them; 'pipe' keeps them for the caller. */
  output: string | 'ignore' | 'pipe';
}

export function startGroup(name: string, command: string, args: readonly string[], opts: StartOptions): Started {
  let stdio: StdioOptions;
  let fd: number | undefined;
  if (opts.output === 'ignore') stdio = ['ignore', 'ignore', 'ignore'];
  else if (opts.output === 'pipe') stdio = ['ignore', 'pipe', 'pipe'];
  else {
    fd = openSync(opts.output, 'a');
    stdio = ['ignore', fd, fd];
  }
  const child = spawn(command, args, { detached: true, stdio, env: opts.env ?? process.env, cwd: opts.cwd });
  if (fd !== undefined) closeSync(fd);
  if (child.pid === undefined) {
    // spawn failure is reported through 'error'; surface it synchronously for the caller
    throw new Error(`${name}: could not start ${command}`);
  }
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      done = true;
      resolve(`error: ${err.message}`);
    });
  });
  const started: Started = { name, child, pid: child.pid, exited, hasExited: () => done };
  live.add(started);
  void exited.then(() => {
    // the leader is gone, but workers in its group may linger: sweep the group anyway
    killGroupNow(started.pid, 'SIGKILL');
    live.delete(started);
  });
  return started;
}

function killGroupNow(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

/** SIGTERM the group, then SIGKILL it if the leader has not exited within graceMs. */
export async function stopGroup(p: Started, graceMs = 3000): Promise<void> {
  if (!p.hasExited()) {
    killGroupNow(p.pid, 'SIGTERM');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
    if ((await Promise.race([p.exited, timer])) === 'timeout') killGroupNow(p.pid, 'SIGKILL');
    await Promise.race([p.exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }
  killGroupNow(p.pid, 'SIGKILL');
  live.delete(p);
}

/** Synchronous, for exit paths where nothing async can run any more. */
export function killAllNow(): void {
  for (const p of live) killGroupNow(p.pid, 'SIGKILL');
  live.clear();
}

let installed = false;

/** Kill every started group on normal exit, on an uncaught error, and on SIGINT/SIGTERM/SIGHUP. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every process started\n`);
      killAllNow();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? String(err)}\n`);
    killAllNow();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAllNow();
    process.exit(1);
  });
}

/** Run a command to completion with a hard time limit; collects stdout. */
export async function runBounded(
  name: string,
  command: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = startGroup(name, command, args, { output: 'pipe' });
  let stdout = '';
  let stderr = '';
  p.child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  p.child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // 'close' (not 'exit') so every byte of output has been read
  const closed = new Promise<void>((resolve) => p.child.once('close', () => resolve()));
  const timer = setTimeout(() => killGroupNow(p.pid, 'SIGKILL'), timeoutMs);
  const code = await p.exited;
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  clearTimeout(timer);
  live.delete(p);
  return { code, stdout, stderr };
}

let nofile: number | undefined;

/** The hard limit on open files that children can raise themselves to (capped at 65536);
 *  containers without CAP_SYS_RESOURCE cannot go beyond it, so configs are sized from it. */
export function fileLimit(): number {
  if (nofile === undefined) {
    try {
      const v = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
      nofile = v === 'unlimited' ? 65536 : Math.min(65536, Number(v) || 1024);
    } catch {
      nofile = 1024;
    }
  }
  return nofile;
}
