// The primary's side of the last-word keeper (last-word-main.ts): starts it, and keeps it told
// what each instance would say if the primary died now.

import { fork, type ChildProcess } from 'node:child_process';
import type { VirtualAddress } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { LastWord } from '../vrrp/last-word.ts';
import { siblingModule } from './sibling-module.ts';

export type ToKeeper = { t: 'word'; instance: string; word?: LastWord; addresses: VirtualAddress[] } | { t: 'quit' };

const KEEPER_ENTRY = siblingModule(import.meta.url, 'last-word-main');

export class LastWordKeeper {
  readonly #log: Logger;
  #child: ChildProcess | undefined;
  /** What was last sent per instance (skips repeats: the state events come often). */
  readonly #sent = new Map<string, string>();

  constructor(log: Logger) {
    this.#log = log;
  }

  start(): void {
    // Small: it only waits. Its own process so that it outlives the primary's death.
    const child = fork(KEEPER_ENTRY, [], { execArgv: ['--max-old-space-size=16'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('error', (err) => this.#log.warn({ err: err.message }, 'last-word keeper failed: a kill -9 of this process is detected by the backup timers only'));
    child.on('exit', (code, signal) => {
      if (this.#child === child) {
        this.#child = undefined;
        this.#log.warn({ code, signal }, 'last-word keeper exited');
      }
    });
    // It must not keep the primary alive, nor die with the primary's signals.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.#child = child;
  }

  tell(instance: string, word: LastWord | undefined, addresses: VirtualAddress[]): void {
    const key = word ? JSON.stringify(word.packets) : '';
    if (this.#sent.get(instance) === key) return;
    this.#sent.set(instance, key);
    const msg: ToKeeper = { t: 'word', instance, addresses, ...(word ? { word } : {}) };
    if (this.#child?.connected) this.#child.send(msg);
  }

  /** Planned stop: the primary stepped down itself; the keeper forgets every word and exits. */
  stop(): void {
    const child = this.#child;
    this.#child = undefined;
    if (child?.connected) child.send({ t: 'quit' } satisfies ToKeeper);
  }
}
