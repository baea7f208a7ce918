// A master's periodic adverts through a sender thread (advert-pacer.ts): the router sends
// adverts that must go now (becoming master, a priority change, priority 0) itself and feeds the
// thread the coming rounds; at an Adver_Timer expiry it only refills the queue. The double below
// plays the thread on the test clock: it sends each queued round at its due time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpRouter, pacedRounds } from '../../../src/vrrp/router.ts';
import type { AdvertPacer, AdvertRound, PacerStats } from '../../../src/vrrp/advert-pacer.ts';
import { decodeAdvert } from '../../../src/vrrp/packet.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { FakeClock, FakeTransport, instanceConfig } from './fake-world.ts';

class ClockPacer implements AdvertPacer {
  readonly schedules: { rounds: number; firstDueMs: number; at: number }[] = [];
  stops = 0;
  #clock: FakeClock;
  #transport: FakeTransport;
  #timer: unknown;
  #rounds: AdvertRound[] = [];
  #interval = 0;
  #due = 0;
  #sent = 0;

  constructor(clock: FakeClock, transport: FakeTransport) {
    this.#clock = clock;
    this.#transport = transport;
  }

  schedule(rounds: readonly AdvertRound[], intervalMs: number, firstDueMs: number): void {
    this.schedules.push({ rounds: rounds.length, firstDueMs, at: this.#clock.now() });
    const keep = firstDueMs < 0 && this.#rounds.length > 0;
    this.#rounds = [...rounds];
    this.#interval = intervalMs;
    if (!keep) this.#due = this.#clock.now() + Math.max(0, firstDueMs);
    this.#arm();
  }

  stop(): void {
    this.stops++;
    this.#rounds = [];
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
  }

  stats(): PacerStats {
    return { sent: this.#sent, errors: 0, maxLateMs: 0, queued: this.#rounds.length, realtime: false };
  }

  close(): void {
    this.stop();
  }

  #arm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    if (this.#rounds.length === 0) return;
    this.#timer = this.#clock.setTimeout(() => {
      const round = this.#rounds.shift()!;
      for (const [payload, dst] of round) {
        this.#transport.sendTo(payload, dst);
        this.#sent++;
      }
      this.#due += this.#interval;
      this.#arm();
    }, Math.max(0, this.#due - this.#clock.now()));
  }
}

function setup(patch: Parameters<typeof instanceConfig>[0] = {}, hmac = false) {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  const pacer = new ClockPacer(clock, transport);
  let drained: (() => void) | undefined;
  Object.assign(transport, { pacer: () => pacer, drain: () => (drained?.(), 0) });
  const config = instanceConfig({ advertInt: 20, ...patch, ...(hmac ? { authentication: { type: 'hmac-sha256' as const, keyFile: '/unused', keyId: 1 } } : {}) });
  const router = new VrrpRouter({
    config,
    transport,
    log: silentLogger(),
    timers: clock,
    ...(hmac ? { hmacKey: { id: 1, secret: Buffer.alloc(32, 7) }, hmacEpoch: 900 } : {}),
  });
  return { clock, transport, pacer, router, onDrain: (fn: () => void) => (drained = fn) };
}

const priorities = (t: FakeTransport) =>
  t.sent.map((s) => {
    const r = decodeAdvert(s.payload.subarray(0, 8 + 4), { src: t.localAddress, dst: s.dst, family: 4 });
    return r.ok ? r.advert.priority : -1;
  });

test('the feed covers 500 ms of stall, at least three rounds, at most 128', () => {
  assert.equal(pacedRounds(20), 25);
  assert.equal(pacedRounds(100), 5);
  assert.equal(pacedRounds(1000), 3);
  assert.equal(pacedRounds(3), 128);
});

test('as master the thread sends one advert per interval; Adver_Timer expiries only refill it', () => {
  const { clock, transport, pacer, router } = setup();
  router.start();
  clock.advance(masterDownInterval(3, 100, 20));
  assert.equal(router.state, 'master');
  const becameAt = transport.sent[0]!.at;
  assert.equal(pacer.schedules[0]!.firstDueMs, 20, 'first paced round one interval after the advert sent at once');
  clock.advance(400);
  const times = transport.sent.map((s) => s.at - becameAt);
  assert.deepEqual(times.slice(0, 21), Array.from({ length: 21 }, (_, i) => i * 20), 'every 20 ms, no doubles, no gaps');
  assert.ok(pacer.schedules.length >= 20, 'refilled at every tick');
  assert.ok(pacer.schedules.slice(1).every((s) => s.firstDueMs === -1 && s.rounds === 25), 'refills keep the phase');
  assert.equal(router.status().counters.advertsSent, transport.sent.length, 'thread sends are counted');
  router.close();
});

test('a priority change goes out at once and restarts the phase; leaving master empties the thread', () => {
  const { clock, transport, pacer, router } = setup();
  router.start();
  clock.advance(masterDownInterval(3, 100, 20));
  clock.advance(50);
  const before = transport.sent.length;
  router.setPriority(60);
  assert.equal(transport.sent.length, before + 1, 'sent synchronously');
  assert.equal(priorities(transport).at(-1), 60);
  assert.equal(pacer.schedules.at(-1)!.firstDueMs, 20);
  clock.advance(100);
  assert.ok(priorities(transport).slice(before).every((p) => p === 60));
  transport.advert('10.0.0.9', { priority: 200, advertIntMs: 20 });
  assert.equal(router.state, 'backup');
  const n = transport.sent.length;
  assert.ok(pacer.stops >= 1);
  clock.advance(50);
  assert.equal(transport.sent.length, n, 'nothing more once backup');
  router.close();
});

test('hmac: the wire order of sequence numbers only grows across refills and immediate sends', () => {
  const { clock, transport, router } = setup({}, true);
  router.start();
  clock.advance(masterDownInterval(3, 100, 20));
  clock.advance(90);
  router.setPriority(70);
  clock.advance(90);
  const seqs = transport.sent.map((s) => s.payload.readUInt32BE(s.payload.length - 28 + 8));
  assert.ok(seqs.length > 8);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `sequence ${seqs[i]} after ${seqs[i - 1]} (#${i})`);
  router.close();
});

test('a backup reads queued adverts before its Master_Down timer decides the master is gone', () => {
  const { clock, transport, router, onDrain } = setup();
  router.start();
  transport.advert('10.0.0.9', { priority: 200, advertIntMs: 20 });
  // The loop was starved: the master's next advert sits in the socket when the timer fires.
  onDrain(() => transport.advert('10.0.0.9', { priority: 200, advertIntMs: 20 }));
  clock.advance(masterDownInterval(3, 100, 20) + 1);
  assert.equal(router.state, 'backup', 'the drained advert re-armed the timer');
  onDrain(() => undefined);
  clock.advance(masterDownInterval(3, 100, 20) + 1);
  assert.equal(router.state, 'master', 'a really silent master is still replaced');
  router.close();
});
