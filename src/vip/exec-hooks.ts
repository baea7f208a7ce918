// keepalived-compatible notify hooks: notify_master / notify_backup / notify_fault /
// notify_stop, and `notify` for every transition. Semantics follow keepalived.conf(5), 2.2:
// - The command string is split into words by keepalived's quoting rules (whitespace
//   separates; "..." and '...' group and are removed; backslash escapes) and executed
//   directly, not through a shell, so an existing master.sh runs unchanged.
// - notify_<state> gets no extra arguments; `notify` runs AFTER it with four appended:
//   INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority>.
// - A script that runs too long gets SIGTERM (then SIGKILL after a grace period).
// halb adds: hooks of one instance run one at a time, in order, never concurrently (a queue),
// so a slow notify_backup cannot race a following notify_master; exit code and a bounded
// amount of output are logged.

import { spawn } from 'node:child_process';
import type { Logger } from '../log/logger.ts';
import type { Millis, NotifyConfig } from '../config/types.ts';
import { splitCommand } from '../host/split-command.ts';

export type HookKind = 'master' | 'backup' | 'fault' | 'stop' | 'any';
export type HookState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

export interface HookResult {
  kind: HookKind;
  argv: string[];
  /** null when killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  /** stdout and stderr as they arrived, at most maxOutputBytes. */
  output: string;
  truncated: boolean;
  /** Could not start (ENOENT, EACCES...). */
  error?: string;
}

export interface HookRunnerOptions {
  instance: string;
  notify: NotifyConfig;
  log: Logger;
  maxOutputBytes?: number;
  /** After SIGTERM on timeout, SIGKILL follows this much later. */
  killGraceMs?: Millis;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

const STATE_KIND: Record<HookState, HookKind> = { MASTER: 'master', BACKUP: 'backup', FAULT: 'fault', STOP: 'stop' };

export class HookRunner {
  readonly instance: string;
  private notify: NotifyConfig;
  private readonly log: Logger;
  private readonly maxOutput: number;
  private readonly killGraceMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly now: () => number;
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(opts: HookRunnerOptions) {
    this.instance = opts.instance;
    this.notify = opts.notify;
    this.log = opts.log;
    this.maxOutput = opts.maxOutputBytes ?? 4096;
    this.killGraceMs = opts.killGraceMs ?? 2_000;
    this.env = opts.env ?? process.env;
    this.now = opts.now ?? Date.now;
  }

  /** Reload: later hooks use the new commands; queued ones keep theirs. */
  update(notify: NotifyConfig): void {
    this.notify = notify;
  }

  /** Hooks queued or running. */
  get queued(): number {
    return this.pending;
  }

  /**
   * What keepalived does on a transition to `state`: notify_<state>, then notify with its
   * four arguments. Both are queued behind any earlier hooks of this instance.
   */
  transition(state: HookState, priority: number): Promise<HookResult[]> {
    const kind = STATE_KIND[state];
    const runs = [this.run(kind, state, priority), this.run('any', state, priority)];
    return Promise.all(runs).then((rs) => rs.filter((r): r is HookResult => r !== undefined));
  }

  /**
   * Queue one hook. Resolves with its result (never rejects: failures are results), or
   * undefined when that hook is not configured.
   */
  run(kind: HookKind, state: HookState, priority: number): Promise<HookResult | undefined> {
    const command = this.notify[kind];
    if (command === undefined || command.trim() === '') return Promise.resolve(undefined);
    let argv: string[];
    try {
      argv = splitCommand(command);
    } catch (err) {
      const r: HookResult = { kind, argv: [command], exitCode: null, signal: null, timedOut: false, durationMs: 0, output: '', truncated: false, error: (err as Error).message };
      this.report(r);
      return Promise.resolve(r);
    }
    if (kind === 'any') argv.push('INSTANCE', this.instance, state, String(priority));
    const timeout = this.notify.timeout;
    this.pending++;
    const p = this.tail.then(() => this.exec(kind, argv, timeout));
    this.tail = p.finally(() => {
      this.pending--;
    });
    return p;
  }

  /** Resolves when every hook queued so far has finished. */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }

  private exec(kind: HookKind, argv: string[], timeoutMs: number): Promise<HookResult> {
    const started = this.now();
    const [file, ...args] = argv;
    return new Promise<HookResult>((resolve) => {
      let output = '';
      let bytes = 0;
      let truncated = false;
      let timedOut = false;
      let spawnError: string | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      // Own process group, so a timeout kills what the script started too (sh -c 'sleep ...').
      const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.env, detached: true });
      const collect = (chunk: Buffer): void => {
        if (bytes >= this.maxOutput) {
          truncated = true;
          return;
        }
        const take = chunk.subarray(0, this.maxOutput - bytes);
        if (take.length < chunk.length) truncated = true;
        bytes += take.length;
        output += take.toString('utf8');
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const killGroup = (sig: NodeJS.Signals): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, sig);
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), this.killGraceMs);
      }, timeoutMs);
      child.on('error', (err: NodeJS.ErrnoException) => {
        spawnError = `${err.code ?? 'error'}: ${err.message}`;
      });
      // Done when the script exits. A script that starts a daemon leaves our output pipes open in
      // it; waiting for 'close' would stall the instance's hook queue (keepalived does not wait).
      let finished = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (finished) return;
        finished = true;
        child.stdout.destroy();
        child.stderr.destroy();
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        // The script is done; make sure nothing it left behind outlives a timeout.
        if (timedOut) killGroup('SIGKILL');
        const result: HookResult = {
          kind,
          argv,
          exitCode: code,
          signal,
          timedOut,
          durationMs: this.now() - started,
          output,
          truncated,
          ...(spawnError !== undefined ? { error: spawnError } : {}),
        };
        this.report(result);
        resolve(result);
      };
      child.on('close', finish);
      child.on('exit', (code, signal) => {
        // give the pipes a moment to deliver the last output, then finish regardless
        setTimeout(() => finish(code, signal), 100);
      });
    });
  }

  private report(r: HookResult): void {
    const fields = {
      instance: this.instance,
      hook: r.kind === 'any' ? 'notify' : `notify_${r.kind}`,
      argv: r.argv,
      exitCode: r.exitCode,
      signal: r.signal,
      durationMs: r.durationMs,
      output: r.output + (r.truncated ? '…[truncated]' : ''),
    };
    if (r.error !== undefined) this.log.error({ ...fields, err: r.error }, 'notify hook could not start');
    else if (r.timedOut) this.log.error(fields, 'notify hook timed out and was killed');
    else if (r.exitCode !== 0) this.log.warn(fields, 'notify hook failed');
    else this.log.info(fields, 'notify hook ran');
  }
}
