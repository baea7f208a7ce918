// keepalived's vrrp_script: run a command every interval; exit 0 is success. A run that outlives
// its timeout is killed and counts as a failure. rise/fall debounce the result.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ScriptTrackerConfig } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import { splitCommand } from '../../host/split-command.ts';
import { RiseFallCounter } from './rise-fall-counter.ts';

export class ScriptTracker extends EventEmitter {
  readonly config: ScriptTrackerConfig;
  private readonly counter: RiseFallCounter;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  constructor(config: ScriptTrackerConfig, log: Logger) {
    super();
    this.config = config;
    this.counter = new RiseFallCounter(config.rise, config.fall);
    this.log = log.child({ tracker: `script ${config.name}` });
  }

  /** undefined until the first run finishes. */
  get ok(): boolean | undefined {
    return this.counter.ok;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    const { success, detail } = await this.runOnce();
    this.running = false;
    if (this.stopped) return;
    if (this.counter.record(success)) {
      this.log.info({ ok: success, detail }, `script ${this.config.name} is now ${success ? 'ok' : 'failing'}`);
      this.emit('change', success);
    }
    this.timer = setTimeout(() => void this.tick(), this.config.interval);
    this.timer.unref();
  }

  runOnce(): Promise<{ success: boolean; detail: string }> {
    return new Promise((resolve) => {
      let argv: string[];
      try {
        argv = splitCommand(this.config.script);
      } catch (err) {
        resolve({ success: false, detail: (err as Error).message });
        return;
      }
      const [cmd, ...args] = argv;
      if (!cmd) {
        resolve({ success: false, detail: 'empty script' });
        return;
      }
      // Its own process group, so a timeout also ends what the script started (sh -c children).
      const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, this.config.timeout);
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve({ success: false, detail: `cannot run: ${err.message}` });
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) resolve({ success: false, detail: `timed out after ${this.config.timeout}ms` });
        else resolve({ success: code === 0, detail: signal ? `killed by ${signal}` : `exit ${code}` });
      });
    });
  }
}
