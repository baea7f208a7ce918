// A process started in a lab namespace whose stdout/stderr are JSON lines (halb's JSON log,
// cloud-service.ts, http-prober.ts): every line kept with its arrival time, and bounded waits for
// a line matching a predicate. The lab kills it on destroy; kill9() ends it earlier.

import { createInterface } from 'node:readline';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Lab } from '../../helpers/netns.ts';

export interface Line {
  /** Arrival time here (ms epoch). halb lines also carry their own `time`. */
  at: number;
  [k: string]: unknown;
}

export class LabProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: Line[] = [];
  readonly exited: Promise<void>;
  #waiters = new Set<() => void>();

  constructor(lab: Lab, host: string, name: string, cmd: string, args: string[], opts: SpawnOptions = {}) {
    this.name = name;
    this.child = lab.spawn(host, cmd, args, opts);
    for (const input of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input }).on('line', (text) => {
        let line: Line;
        try {
          const parsed = JSON.parse(text) as unknown;
          line = parsed !== null && typeof parsed === 'object' ? { ...(parsed as object), at: Date.now() } : { at: Date.now(), msg: text, raw: true };
        } catch {
          line = { at: Date.now(), msg: text, raw: true };
        }
        this.lines.push(line);
        for (const w of this.#waiters) w();
      });
    }
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        for (const w of this.#waiters) w();
        resolve();
      }),
    );
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** First line from index `since` matching `pred`; rejects on timeout or exit, with the last lines. */
  waitFor(pred: (l: Line) => boolean, timeoutMs: number, what: string, since = 0): Promise<Line> {
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        done();
        const tail = this.lines.slice(-12).map((l) => JSON.stringify(l)).join('\n');
        reject(new Error(`${this.name}: ${why} before ${what}; last lines:\n${tail}`));
      };
      const check = (): void => {
        for (let i = since; i < this.lines.length; i++) {
          if (pred(this.lines[i]!)) {
            done();
            resolve(this.lines[i]!);
            return;
          }
        }
        if (!this.alive) fail(`exited (${this.child.exitCode ?? this.child.signalCode})`);
      };
      const timer = setTimeout(() => fail(`nothing within ${timeoutMs} ms`), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.child.kill(sig);
  }

  async kill9(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    this.signal('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
  }
}
