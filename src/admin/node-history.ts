// What happened on this node, for the dashboard: a bounded health history per server (each
// up/down transition with the check result that caused it) and one bounded timeline of node
// events (VRRP transitions with their reason, reloads, handovers, server state changes, drains).
// Pure: callers pass the wall-clock time in.
import { BoundedRing } from './bounded-ring.ts';

export interface HealthTransition {
  at: number;
  from: 'up' | 'down';
  to: 'up' | 'down';
  reason: string;
}

export type NodeEventKind = 'vrrp' | 'reload' | 'handover' | 'server' | 'admin' | 'start' | 'acme';

export interface NodeEvent {
  at: number;
  kind: NodeEventKind;
  text: string;
}

export interface HistoryLimits {
  /** Transitions kept per server. */
  perServer: number;
  /** Events kept in the timeline. */
  timeline: number;
}

export class NodeHistory {
  readonly #limits: HistoryLimits;
  readonly #health = new Map<string, BoundedRing<HealthTransition>>();
  readonly #timeline: BoundedRing<NodeEvent>;

  constructor(limits: HistoryLimits = { perServer: 20, timeline: 200 }) {
    this.#limits = limits;
    this.#timeline = new BoundedRing(limits.timeline);
  }

  readonly #lastUp = new Map<string, boolean>();

  /** The health a server has now, without a transition (at start and after a reload). */
  seed(backend: string, server: string, up: boolean): void {
    this.#lastUp.set(`${backend}/${server}`, up);
  }

  /**
   * A server's state event: recorded only when its health differs from the last one known
   * (the pool sends the same event for admin and weight changes, which the caller logs itself).
   */
  health(backend: string, server: string, up: boolean, reason: string, at: number): void {
    const key = `${backend}/${server}`;
    if (this.#lastUp.get(key) === up) return;
    this.#lastUp.set(key, up);
    let ring = this.#health.get(key);
    if (!ring) {
      ring = new BoundedRing(this.#limits.perServer);
      this.#health.set(key, ring);
    }
    ring.push({ at, from: up ? 'down' : 'up', to: up ? 'up' : 'down', reason });
    this.event('server', `${key} ${up ? 'UP' : 'DOWN'}: ${reason}`, at);
  }

  event(kind: NodeEventKind, text: string, at: number): void {
    this.#timeline.push({ at, kind, text });
  }

  /** Oldest first. */
  healthOf(backend: string, server: string): HealthTransition[] {
    return this.#health.get(`${backend}/${server}`)?.items() ?? [];
  }

  /** Oldest first. */
  timeline(): NodeEvent[] {
    return this.#timeline.items();
  }

  /** After a reload: history of servers that no longer exist goes (names that stay keep theirs). */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const k of [...this.#health.keys()]) if (!keys.has(k)) this.#health.delete(k);
    for (const k of [...this.#lastUp.keys()]) if (!keys.has(k)) this.#lastUp.delete(k);
  }
}
