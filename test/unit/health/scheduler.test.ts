// Scheduler with a scripted runner (no sockets) and short real intervals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { HealthScheduler, type CheckRunner } from '../../../src/health/scheduler.ts';
import type { HealthConfig } from '../../../src/config/types.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const health: HealthConfig = { type: 'tcp', interval: 20, fastinter: 5, downinter: 40, timeout: 50, rise: 2, fall: 2 };

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

test('transitions reach the callback with the check reason; one check in flight per server', async () => {
  let ok = true;
  let inflight = 0;
  let maxInflight = 0;
  const run: CheckRunner = async () => {
    inflight++;
    maxInflight = Math.max(maxInflight, inflight);
    await sleep(2);
    inflight--;
    return ok ? { ok, reason: 'TCP connect ok', durationMs: 1 } : { ok, reason: 'connection refused', durationMs: 1 };
  };
  const transitions: string[] = [];
  const s = new HealthScheduler({ log: silentLogger(), run, onTransition: (b, sv, up, r) => transitions.push(`${b}/${sv} ${up ? 'UP' : 'DOWN'} ${r}`) });
  s.add({ backend: 'web', server: 'a', target: { host: '127.0.0.1', port: 1 }, health, init: 'fully-up' });
  assert.throws(() => s.add({ backend: 'web', server: 'a', target: { host: '127.0.0.1', port: 1 }, health }), /already scheduled/);
  s.start();
  try {
    await until(() => s.status()[0]!.checks >= 2);
    assert.deepEqual(transitions, []);
    ok = false;
    await until(() => transitions.length === 1);
    assert.deepEqual(transitions, ['web/a DOWN connection refused']);
    assert.equal(s.status()[0]!.phase, 'down');
    ok = true;
    await until(() => transitions.length === 2);
    assert.equal(transitions[1], 'web/a UP TCP connect ok');
    assert.equal(maxInflight, 1);
    const st = s.status()[0]!;
    assert.equal(st.up, true);
    assert.equal(st.last?.ok, true);
  } finally {
    s.stop();
  }
  const n = s.status()[0]!.checks;
  await sleep(60);
  assert.equal(s.status()[0]!.checks, n, 'no checks after stop');
});

test('force(down) resets the counter so rise good checks are needed', async () => {
  const results: boolean[] = [];
  const run: CheckRunner = async () => {
    results.push(true);
    return { ok: true, reason: 'ok', durationMs: 0 };
  };
  const transitions: boolean[] = [];
  const s = new HealthScheduler({ log: silentLogger(), run, onTransition: (_b, _s, up) => transitions.push(up) });
  s.add({ backend: 'web', server: 'a', target: { host: '127.0.0.1', port: 1 }, health: { ...health, downinter: 10 } });
  s.start();
  try {
    await until(() => s.status()[0]!.phase === 'up');
    s.force('web', 'a', false, 'passive: 3 consecutive errors');
    assert.equal(s.status()[0]!.health, 0);
    const before = results.length;
    await until(() => transitions.length === 1);
    assert.deepEqual(transitions, [true]);
    assert.ok(results.length - before >= 2, 'needed rise=2 checks');
    s.force('web', 'nope', false, 'x'); // unknown: ignored
  } finally {
    s.stop();
  }
});

test('a throwing runner counts as a failed check', async () => {
  const transitions: string[] = [];
  const s = new HealthScheduler({
    log: silentLogger(),
    run: async () => {
      throw new Error('boom');
    },
    onTransition: (_b, _s, up, r) => transitions.push(`${up} ${r}`),
  });
  s.add({ backend: 'web', server: 'a', target: { host: '127.0.0.1', port: 1 }, health });
  s.start();
  try {
    await until(() => transitions.length === 1);
    assert.deepEqual(transitions, ['false check failed: boom']);
  } finally {
    s.stop();
  }
});
