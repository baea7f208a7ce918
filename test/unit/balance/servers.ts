// Test fixtures for policy tests: bare ServerStates and a seeded PRNG.
import type { ServerState } from '../../../src/pool/server-state.ts';
import type { PickRequest } from '../../../src/balance/policy.ts';

export function servers(weights: number[], names?: string[]): ServerState[] {
  return weights.map((weight, index) => ({
    backend: 'b',
    name: names?.[index] ?? `s${index}`,
    host: '127.0.0.1',
    port: 8000 + index,
    weight,
    backup: false,
    up: true,
    admin: 'ready',
    active: 0,
    requests: 0,
    failures: 0,
    wentDown: 0,
    wentUp: 0,
    index,
  }));
}

/** mulberry32: small, seeded, good enough for distribution tests. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function req(over: Partial<PickRequest> = {}): PickRequest {
  return { sourceIp: '10.0.0.1', uri: '/', random: seeded(1), ...over };
}

export function counts(picks: (ServerState | undefined)[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of picks) {
    const k = s === undefined ? '-' : s.name;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}
