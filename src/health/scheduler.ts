// Runs active checks: one timer chain per server, never two checks of a server in flight. The
// interval follows HAProxy: `interval` while fully up, `fastinter` while the counter is between
// up and down, `downinter` while fully down. First checks are spread over one interval and every
// later delay gets a little jitter, so many servers never get checked in lockstep.
// Verdict changes go to `onTransition`; the counter itself is the pure rise-fall.ts.

import type { HealthConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { CheckResult, CheckTarget } from './check-result.ts';
import { httpCheck } from './http-check.ts';
import { tcpCheck } from './tcp-check.ts';
import { grpcCheck } from './grpc-check.ts';
import { force, initialRiseFall, intervalFor, isUp, onError, phase, step, type InitState, type OnError, type Phase, type RiseFall } from './rise-fall.ts';

export type CheckRunner = (target: CheckTarget, health: HealthConfig, signal: AbortSignal) => Promise<CheckResult>;
export type TransitionCallback = (backend: string, server: string, up: boolean, reason: string) => void;

export interface ScheduledCheck {
  backend: string;
  server: string;
  target: CheckTarget;
  health: HealthConfig;
  /** Default 'up' (HAProxy's default init-state). */
  init?: InitState;
}

export interface CheckStatus {
  backend: string;
  server: string;
  up: boolean;
  phase: Phase;
  /** HAProxy-style counter: 0 .. rise+fall-1. */
  health: number;
  rise: number;
  fall: number;
  checks: number;
  last?: { ok: boolean; reason: string; durationMs: number; at: number };
}

export interface SchedulerOptions {
  onTransition: TransitionCallback;
  log: Logger;
  run?: CheckRunner;
  random?: () => number;
  /** Wall clock for `last.at` (ms since epoch). */
  now?: () => number;
  /** +/- fraction of each interval added at random. Default 0.05. */
  jitter?: number;
}

/** The checker for a health config: HTTP or gRPC when configured, TCP connect otherwise. */
export const defaultRunner: CheckRunner = (target, health, signal) => {
  if (health.type === 'grpc') return grpcCheck(target, health.grpc?.service ?? '', health.timeout, signal);
  const http = health.type === 'http' ? health.http : undefined;
  if (http === undefined) return tcpCheck(target, health.timeout, signal);
  return httpCheck(
    target,
    { method: http.method, path: http.path, host: http.host, expectStatus: http.expectStatus, expectBody: http.expectBody, timeout: health.timeout },
    signal,
  );
};

interface Entry {
  check: ScheduledCheck;
  state: RiseFall;
  checks: number;
  last: CheckStatus['last'];
  timer: ReturnType<typeof setTimeout> | undefined;
  inflight: AbortController | undefined;
}

export class HealthScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: SchedulerOptions;
  private readonly run: CheckRunner;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly jitter: number;
  private running = false;

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
    this.run = opts.run ?? defaultRunner;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.jitter = opts.jitter ?? 0.05;
  }

  add(check: ScheduledCheck): void {
    const key = keyOf(check.backend, check.server);
    if (this.entries.has(key)) throw new Error(`health: ${key} is already scheduled`);
    const h = check.health;
    const entry: Entry = {
      check,
      state: initialRiseFall(h.rise, h.fall, check.init ?? 'up'),
      checks: 0,
      last: undefined,
      timer: undefined,
      inflight: undefined,
    };
    this.entries.set(key, entry);
    if (this.running) this.schedule(entry, this.random() * h.interval);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const e of this.entries.values()) this.schedule(e, this.random() * e.check.health.interval);
  }

  stop(): void {
    this.running = false;
    for (const e of this.entries.values()) {
      if (e.timer !== undefined) clearTimeout(e.timer);
      e.timer = undefined;
      e.inflight?.abort();
      e.inflight = undefined;
    }
  }

  /** Set a verdict from outside (passive mark-down): fully up or down, checks go on from there. */
  force(backend: string, server: string, up: boolean, reason: string): void {
    const e = this.entries.get(keyOf(backend, server));
    if (e === undefined || isUp(e.state) === up) return;
    e.state = force(e.state, up);
    this.opts.log.info({ backend, server, up, reason }, `health check for ${backend}/${server} forced ${up ? 'UP' : 'DOWN'}: ${reason}`);
    // Re-arm at the new phase's interval (downinter is usually the one that matters here).
    if (this.running && e.timer !== undefined) {
      clearTimeout(e.timer);
      this.schedule(e, this.delay(e));
    }
  }

  /**
   * A server reached its passive error-limit: apply `on-error` to its counter and check it again
   * within fastinter, so live-traffic evidence is confirmed without waiting a full interval.
   */
  passiveError(backend: string, server: string, mode: OnError, reason: string): void {
    const e = this.entries.get(keyOf(backend, server));
    if (e === undefined) return;
    const r = onError(e.state, mode);
    e.state = r.state;
    this.opts.log.info({ backend, server, mode, reason, health: r.state.health }, `health check for ${backend}/${server}: on-error ${mode}: ${reason}`);
    if (r.changed) this.opts.onTransition(backend, server, r.up, `${reason} (on-error ${mode})`);
    // A check in flight answers soon enough; otherwise bring the next one forward.
    if (this.running && e.timer !== undefined) {
      clearTimeout(e.timer);
      this.schedule(e, e.check.health.fastinter);
    }
  }

  status(): CheckStatus[] {
    const out: CheckStatus[] = [];
    for (const e of this.entries.values()) {
      out.push({
        backend: e.check.backend,
        server: e.check.server,
        up: e.state.health >= e.state.rise,
        phase: phase(e.state),
        health: e.state.health,
        rise: e.state.rise,
        fall: e.state.fall,
        checks: e.checks,
        last: e.last,
      });
    }
    return out;
  }

  private delay(e: Entry): number {
    const base = intervalFor(e.state, e.check.health);
    return Math.max(1, base * (1 + this.jitter * (2 * this.random() - 1)));
  }

  private schedule(e: Entry, ms: number): void {
    e.timer = setTimeout(() => {
      e.timer = undefined;
      void this.runOne(e);
    }, ms);
  }

  private async runOne(e: Entry): Promise<void> {
    const ac = new AbortController();
    e.inflight = ac;
    let result: CheckResult;
    try {
      result = await this.run(e.check.target, e.check.health, ac.signal);
    } catch (err) {
      result = { ok: false, reason: `check failed: ${err instanceof Error ? err.message : String(err)}`, durationMs: 0 };
    }
    if (e.inflight !== ac || !this.running) return; // stopped (or restarted) meanwhile
    e.inflight = undefined;
    this.apply(e, result);
    this.schedule(e, this.delay(e));
  }

  private apply(e: Entry, result: CheckResult): void {
    const { backend, server } = e.check;
    e.checks++;
    e.last = { ok: result.ok, reason: result.reason, durationMs: Math.round(result.durationMs), at: this.now() };
    const before = e.state.health;
    const r = step(e.state, result.ok);
    e.state = r.state;
    const log = this.opts.log;
    if (r.state.health !== before) {
      const s = r.state;
      const counter = r.up ? `${s.health - s.rise + 1}/${s.fall} UP` : `${s.health}/${s.rise} DOWN`;
      const fields = { backend, server, ok: result.ok, reason: result.reason, durationMs: e.last.durationMs, health: s.health };
      const msg = `health check for ${backend}/${server} ${result.ok ? 'succeeded' : 'failed'}: ${result.reason}, ${e.last.durationMs}ms, status ${counter}`;
      if (r.changed) log.info(fields, msg);
      else log.debug(fields, msg);
    }
    if (r.changed) this.opts.onTransition(backend, server, r.up, result.reason);
  }
}

function keyOf(backend: string, server: string): string {
  return `${backend}/${server}`;
}
