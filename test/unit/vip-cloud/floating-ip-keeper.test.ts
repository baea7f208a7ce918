// The keeper's decisions, driven by a manual clock and a scripted provider.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloatingIpKeeper, type KeeperTimers } from '../../../src/vip/floating-ip-keeper.ts';
import { ProviderError, type AcquireResult, type AddressProvider, type VerifyResult } from '../../../src/vip/provider.ts';
import { silentLogger } from '../../../src/log/logger.ts';

class ManualTimers implements KeeperTimers {
  t = 0;
  private seq = 0;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.due.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.due.delete(h as number);
  }
  now(): number {
    return this.t;
  }
  get pending(): number[] {
    return [...this.due.values()].map((d) => d.at - this.t).sort((a, b) => a - b);
  }
  /** Advance the clock, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    while (true) {
      const next = [...this.due.entries()].filter(([, d]) => d.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.due.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Each call waits for the test to answer it. */
class ScriptedProvider implements AddressProvider {
  readonly name = 'scripted 203.0.113.10';
  acquires: { signal: AbortSignal | undefined; d: Deferred<AcquireResult> }[] = [];
  verifies: Deferred<VerifyResult>[] = [];
  releases = 0;
  acquire(signal?: AbortSignal): Promise<AcquireResult> {
    const d = deferred<AcquireResult>();
    this.acquires.push({ signal, d });
    signal?.addEventListener('abort', () => d.reject(signal.reason));
    return d.promise;
  }
  verify(): Promise<VerifyResult> {
    const d = deferred<VerifyResult>();
    this.verifies.push(d);
    return d.promise;
  }
  async release(): Promise<void> {
    this.releases++;
  }
}

const ok: AcquireResult = { changed: true, attempts: 1, detail: 'assigned' };
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(extra: { releaseOnBackup?: boolean } = {}) {
  const timers = new ManualTimers();
  const provider = new ScriptedProvider();
  const keeper = new FloatingIpKeeper({ provider, verifyInterval: 10_000, log: silentLogger(), timers, reassertMinGap: 5_000, ...extra });
  return { timers, provider, keeper };
}

describe('FloatingIpKeeper', () => {
  it('acquires on MASTER, then verifies every verifyInterval', async () => {
    const { timers, provider, keeper } = setup();
    keeper.onMaster();
    keeper.onMaster(); // repeated: no second acquire
    assert.equal(provider.acquires.length, 1);
    assert.equal(keeper.status().acquiring, true);
    provider.acquires[0]!.d.resolve(ok);
    await flush();
    assert.equal(keeper.status().holding, 'ours');
    assert.deepEqual(timers.pending, [10_000]);
    timers.advance(10_000);
    assert.equal(provider.verifies.length, 1);
    provider.verifies[0]!.resolve({ ours: true, holder: 'droplet 1' });
    await flush();
    assert.deepEqual(timers.pending, [10_000]);
    assert.equal(provider.acquires.length, 1);
  });

  it('re-acquires when a verify finds the address moved away', async () => {
    const { timers, provider, keeper } = setup();
    const moved: string[] = [];
    keeper.on('moved', (h: string) => moved.push(h));
    keeper.onMaster();
    provider.acquires[0]!.d.resolve(ok);
    await flush();
    timers.advance(10_000);
    provider.verifies[0]!.resolve({ ours: false, holder: 'droplet 2' });
    await flush();
    assert.deepEqual(moved, ['droplet 2']);
    assert.equal(provider.acquires.length, 2);
    assert.equal(keeper.status().holding, 'elsewhere');
    provider.acquires[1]!.d.resolve(ok);
    await flush();
    assert.equal(keeper.status().holding, 'ours');
    assert.equal(keeper.status().acquires, 2);
  });

  it('leaving MASTER aborts an acquire in flight and stops verifying', async () => {
    const { timers, provider, keeper } = setup();
    keeper.onMaster();
    const sig = provider.acquires[0]!.signal!;
    keeper.onBackup();
    assert.equal(sig.aborted, true);
    await flush();
    assert.equal(keeper.status().failures, 0, 'an abort is not a failure');
    assert.deepEqual(timers.pending, []);
    timers.advance(100_000);
    assert.equal(provider.verifies.length, 0);
    assert.equal(provider.releases, 0);
  });

  it('a late acquire result after leaving MASTER schedules nothing', async () => {
    const timers = new ManualTimers();
    // A provider that ignores abort (answers anyway).
    let answer!: (r: AcquireResult) => void;
    const provider: AddressProvider = {
      name: 'deaf',
      acquire: () => new Promise((r) => (answer = r)),
      verify: async () => ({ ours: true, holder: 'x' }),
    };
    const keeper = new FloatingIpKeeper({ provider, verifyInterval: 1000, log: silentLogger(), timers });
    keeper.onMaster();
    keeper.onBackup();
    answer(ok);
    await flush();
    assert.deepEqual(timers.pending, []);
    assert.equal(keeper.status().acquires, 0);
  });

  it('releases on BACKUP only when asked to', async () => {
    const { provider, keeper } = setup({ releaseOnBackup: true });
    keeper.onMaster();
    provider.acquires[0]!.d.resolve(ok);
    await flush();
    keeper.onBackup();
    await keeper.settled();
    assert.equal(provider.releases, 1);
  });

  it('retries after a failed acquire; slowly after a fatal one', async () => {
    const { timers, provider, keeper } = setup();
    keeper.onMaster();
    provider.acquires[0]!.d.reject(new ProviderError('p', 'gave up after 10 attempts', { fatal: false }));
    await flush();
    assert.equal(keeper.status().failures, 1);
    assert.match(keeper.status().lastError ?? '', /gave up/);
    assert.deepEqual(timers.pending, [10_000]);
    timers.advance(10_000);
    assert.equal(provider.acquires.length, 2);
    provider.acquires[1]!.d.reject(new ProviderError('p', '401 unauthorized', { fatal: true, status: 401 }));
    await flush();
    assert.deepEqual(timers.pending, [60_000]);
  });

  it('a failed verify is retried at the next interval without re-acquiring', async () => {
    const { timers, provider, keeper } = setup();
    keeper.onMaster();
    provider.acquires[0]!.d.resolve(ok);
    await flush();
    timers.advance(10_000);
    provider.verifies[0]!.reject(new Error('HTTP 503'));
    await flush();
    assert.equal(provider.acquires.length, 1);
    assert.deepEqual(timers.pending, [10_000]);
  });

  it('a lower-priority advert triggers an immediate check, rate-limited', async () => {
    const { timers, provider, keeper } = setup();
    keeper.onLowerPriorityAdvertSeen(); // not master: ignored
    assert.equal(provider.verifies.length, 0);
    keeper.onMaster();
    keeper.onLowerPriorityAdvertSeen(); // acquiring: ignored
    assert.equal(provider.verifies.length, 0);
    provider.acquires[0]!.d.resolve(ok);
    await flush();
    timers.advance(1_000);
    keeper.onLowerPriorityAdvertSeen();
    assert.equal(provider.verifies.length, 1);
    keeper.onLowerPriorityAdvertSeen(); // verifying: ignored
    provider.verifies[0]!.resolve({ ours: false, holder: 'droplet 2' });
    await flush();
    assert.equal(provider.acquires.length, 2);
    provider.acquires[1]!.d.resolve(ok);
    await flush();
    timers.advance(1_000);
    keeper.onLowerPriorityAdvertSeen(); // within 5 s of the last: ignored
    assert.equal(provider.verifies.length, 1);
    timers.advance(4_000);
    keeper.onLowerPriorityAdvertSeen();
    assert.equal(provider.verifies.length, 2);
    assert.equal(keeper.status().reassertions, 2);
  });

  it('stop() aborts work and clears timers', async () => {
    const { timers, provider, keeper } = setup();
    keeper.onMaster();
    const sig = provider.acquires[0]!.signal!;
    await keeper.stop();
    assert.equal(sig.aborted, true);
    assert.deepEqual(timers.pending, []);
  });
});
