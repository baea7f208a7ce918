// Test-side handle on an agent.ts process running inside a lab namespace.

import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../helpers/netns.ts';

export interface AgentEvent {
  ev: string;
  [key: string]: unknown;
}

const AGENT = new URL('./agent.ts', import.meta.url).pathname;

export class Agent {
  readonly events: AgentEvent[] = [];
  readonly #child: ChildProcess;
  #seq = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #waiters = new Set<() => void>();
  #stderr = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { re?: number; ok?: boolean; result?: unknown; message?: string; code?: string } & AgentEvent;
      if (msg.re !== undefined) {
        const p = this.#pending.get(msg.re);
        this.#pending.delete(msg.re);
        if (msg.ok) p?.resolve(msg.result);
        else p?.reject(Object.assign(new Error(`agent: ${msg.message}`), { code: msg.code }));
        return;
      }
      this.events.push(msg);
      for (const w of this.#waiters) w();
    });
    child.once('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`agent exited ${code}: ${this.#stderr}`));
      this.#pending.clear();
    });
  }

  static async start(lab: Lab, host: string): Promise<Agent> {
    const agent = new Agent(lab.spawn(host, process.execPath, [AGENT], { cwd: new URL('../../../', import.meta.url).pathname }));
    // Generous: a node process starting on a machine busy with other tests can take seconds.
    await agent.waitFor((e) => e.ev === 'ready', 30_000);
    return agent;
  }

  /** One request/reply; rejects if the agent does not answer within `timeoutMs`. */
  request<T = Record<string, unknown>>(req: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    const seq = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new Error(`agent: no reply to ${JSON.stringify(req)} within ${timeoutMs} ms; stderr: ${this.#stderr}`));
      }, timeoutMs);
      this.#pending.set(seq, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.stdin!.write(JSON.stringify({ seq, ...req }) + '\n');
    });
  }

  /** Resolves with the first event (already seen or future) matching `pred`. */
  waitFor(pred: (e: AgentEvent) => boolean, timeoutMs = 5000): Promise<AgentEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const e = this.events.find(pred);
        if (e) {
          this.#waiters.delete(check);
          clearTimeout(timer);
          resolve(e);
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`agent: no matching event within ${timeoutMs} ms; stderr: ${this.#stderr}; events: ${JSON.stringify(this.events).slice(0, 2000)}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }
}
