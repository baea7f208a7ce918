// The real DigitalOcean client against a fake of the documented API on loopback:
// same requests, same parsing; only the base URLs point here, and waits are recorded
// (and shortened) instead of slept in full.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DigitalOceanReservedIp, type DigitalOceanOptions } from '../../../src/vip/digitalocean.ts';
import { ProviderError } from '../../../src/vip/provider.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { FakeDigitalOcean } from '../../helpers/fake-digitalocean.ts';

const IP = '203.0.113.10';
const TOKEN = 'dop_v1_secret_token_value_123';
const ME = 4242;
const OTHER = 1111;

let fake: FakeDigitalOcean;
let sleeps: number[];

function provider(extra: Partial<DigitalOceanOptions> = {}): DigitalOceanReservedIp {
  return new DigitalOceanReservedIp({
    ip: IP,
    tokenEnv: 'DO_TOKEN',
    env: { DO_TOKEN: TOKEN },
    apiBase: fake.url,
    metadataBase: fake.url,
    requestTimeoutMs: 300,
    retry: { maxAttempts: 5, actionPollMs: 10, actionTimeoutMs: 200 },
    sleep: async (ms) => {
      sleeps.push(ms);
      await new Promise((r) => setTimeout(r, Math.min(ms, 5)));
    },
    random: () => 0.5,
    ...extra,
  });
}

before(async () => {
  fake = new FakeDigitalOcean({ token: TOKEN, ips: { [IP]: OTHER }, metadataDropletId: ME });
  await fake.listen();
});
after(() => fake.close());
beforeEach(() => {
  sleeps = [];
  fake.holders.set(IP, OTHER);
  fake.actionPolls = 1;
  fake.failActions = false;
  fake.requests.length = 0;
  for (const a of fake.actions.values()) a.status = 'completed';
});

describe('DigitalOcean reserved IP', () => {
  it('assigns to the droplet from the metadata service and polls the action to completion', async () => {
    fake.actionPolls = 3;
    const p = provider();
    const res = await p.acquire();
    assert.equal(res.changed, true);
    assert.deepEqual(p.calls.snapshot(), { ok: fake.requests.length, http_4xx: 0, http_5xx: 0, transport: 0, aborted: 0 }, 'every call counted as ok');
    assert.equal(fake.holders.get(IP), ME);
    const post = fake.requests.find((r) => r.route === 'action');
    assert.deepEqual(post?.body, { type: 'assign', droplet_id: ME });
    assert.equal(post?.authorization, `Bearer ${TOKEN}`);
    assert.equal(fake.count('metadata'), 1);
    assert.equal(fake.count('poll'), 3);
    assert.match(res.detail, /completed/);
  });

  it('counts refused and unreachable calls by result', async () => {
    const bad = provider({ env: { DO_TOKEN: 'dop_v1_wrong_token_000' }, dropletId: ME });
    await assert.rejects(bad.acquire(), ProviderError);
    assert.ok(bad.calls.snapshot().http_4xx >= 1, JSON.stringify(bad.calls.snapshot()));
    assert.equal(bad.calls.snapshot().ok, 0);
    const gone = provider({ apiBase: 'http://127.0.0.1:9', dropletId: ME, retry: { maxAttempts: 2, actionPollMs: 10, actionTimeoutMs: 200 } });
    await assert.rejects(gone.verify());
    assert.ok(gone.calls.snapshot().transport >= 1, JSON.stringify(gone.calls.snapshot()));
  });

  it('is done at once when the address is already here (no POST)', async () => {
    fake.holders.set(IP, ME);
    const res = await provider().acquire();
    assert.equal(res.changed, false);
    assert.equal(fake.count('action'), 0);
  });

  it('uses the configured droplet id and never asks the metadata service', async () => {
    const res = await provider({ dropletId: 777 }).acquire();
    assert.equal(res.changed, true);
    assert.equal(fake.holders.get(IP), 777);
    assert.equal(fake.count('metadata'), 0);
  });

  it('fails at once on 401 without retrying, and never shows the token', async () => {
    const p = provider({ env: { DO_TOKEN: 'wrong-token-value' } });
    await assert.rejects(p.acquire(), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.fatal, true);
      assert.equal(err.status, 401);
      assert.match(err.message, /401 unauthorized/);
      assert.doesNotMatch(err.message, /wrong-token-value/);
      return true;
    });
    assert.equal(fake.count('get-ip'), 1);
    assert.deepEqual(sleeps, []);
  });

  it('fails at once on 404 (no such reserved IP)', async () => {
    await assert.rejects(provider({ ip: '198.51.100.99' }).acquire(), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.fatal, true);
      assert.equal(err.status, 404);
      return true;
    });
    assert.equal(fake.count('action'), 0);
  });

  it('on 422 "already assigned" re-checks and finds the address here', async () => {
    fake.inject('action', { status: 422, message: 'The reserved IP is already assigned to this Droplet' });
    // Someone else finished the move meanwhile: the re-check after the 422 sees it ours.
    const origGet = fake.count('get-ip');
    const p = provider({
      sleep: async (ms) => {
        sleeps.push(ms);
        fake.holders.set(IP, ME);
      },
    });
    const res = await p.acquire();
    // Ours, but not by this call's doing: "changed" stays false.
    assert.equal(res.changed, false);
    assert.equal(res.attempts, 2);
    assert.equal(fake.holders.get(IP), ME);
    assert.ok(fake.count('get-ip') >= origGet + 2);
    assert.equal(fake.count('action'), 1);
  });

  it('on 422 "pending event" waits and tries again', async () => {
    fake.inject('action', { status: 422, message: 'Reserved IP has a pending event.' });
    const res = await provider().acquire();
    assert.equal(res.changed, true);
    assert.equal(fake.count('action'), 2);
    assert.equal(fake.holders.get(IP), ME);
  });

  it('honours Retry-After on 429', async () => {
    fake.inject('get-ip', { status: 429, message: 'API Rate limit exceeded.', headers: { 'retry-after': '7', 'ratelimit-remaining': '0' } });
    const res = await provider().acquire();
    assert.equal(res.changed, true);
    assert.equal(sleeps[0], 7000);
  });

  it('retries 5xx with growing jittered backoff, then succeeds', async () => {
    fake.inject('get-ip', { status: 500 }, { status: 503 }, { status: 502 });
    const res = await provider({ retry: { maxAttempts: 5, backoffBaseMs: 1000, backoffMaxMs: 15000, actionPollMs: 10, actionTimeoutMs: 200 } }).acquire();
    assert.equal(res.changed, true);
    assert.equal(res.attempts, 4);
    // random() = 0.5 -> 3/4 of 1000, 2000, 4000 (poll waits of 10 ms follow)
    assert.deepEqual(sleeps.slice(0, 3), [750, 1500, 3000]);
  });

  it('gives up after the attempt bound on persistent 5xx', async () => {
    fake.inject('get-ip', ...Array.from({ length: 5 }, () => ({ status: 500 })));
    await assert.rejects(provider().acquire(), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.fatal, false);
      assert.match(err.message, /after 5 attempts/);
      return true;
    });
    assert.equal(fake.count('get-ip'), 5);
    assert.equal(sleeps.length, 4);
  });

  it('times out a request the server never answers, and retries', async () => {
    fake.inject('get-ip', { hang: true });
    const res = await provider().acquire();
    assert.equal(res.changed, true);
    assert.equal(fake.count('get-ip'), 3); // hung, then before and after the assign
  });

  it('stops waiting on an action that stays in progress, bounded', async () => {
    fake.actionPolls = Infinity;
    // A clock that moves only by the sleeps: with the real one a loaded machine reached the
    // 100 ms deadline after 4 polls.
    let clock = 0;
    const timed = provider({
      retry: { maxAttempts: 2, actionPollMs: 20, actionTimeoutMs: 100 },
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
        await new Promise((r) => setTimeout(r, Math.min(ms, 5)));
      },
    });
    await assert.rejects(timed.acquire(), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.match(err.message, /locked|in progress/);
      return true;
    });
    // 100 ms / 20 ms = 5 polls per action, one action (the second attempt finds it locked).
    assert.equal(fake.count('poll'), 5);
    assert.equal(fake.count('action'), 1);
    assert.equal(fake.holders.get(IP), OTHER);
  });

  it('an errored action is retried', async () => {
    fake.failActions = true;
    const p = provider({
      sleep: async (ms) => {
        sleeps.push(ms);
        if (fake.count('poll') >= 1) fake.failActions = false;
      },
    });
    const res = await p.acquire();
    assert.equal(res.changed, true);
    assert.equal(fake.count('action'), 2);
  });

  it('verify compares the holder with this droplet', async () => {
    const p = provider();
    assert.deepEqual(await p.verify(), { ours: false, holder: `droplet ${OTHER}` });
    fake.holders.set(IP, ME);
    assert.deepEqual(await p.verify(), { ours: true, holder: `droplet ${ME}` });
    fake.holders.set(IP, null);
    assert.deepEqual(await p.verify(), { ours: false, holder: 'nobody' });
  });

  it('release unassigns only when the address is here', async () => {
    const p = provider();
    await p.release();
    assert.equal(fake.count('action'), 0);
    fake.holders.set(IP, ME);
    fake.actionPolls = 0;
    await p.release();
    assert.deepEqual(fake.requests.find((r) => r.route === 'action')?.body, { type: 'unassign' });
    assert.equal(fake.holders.get(IP), null);
  });

  it('abort stops the loop with the signal reason', async () => {
    fake.inject('get-ip', ...Array.from({ length: 5 }, () => ({ status: 500 })));
    const ac = new AbortController();
    const p = provider({
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          ac.abort(new Error('left MASTER'));
          reject(signal.reason);
        }),
    });
    await assert.rejects(p.acquire(ac.signal), /left MASTER/);
    assert.equal(fake.count('action'), 0);
  });

  it('reads the token from a file, and says which file when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'halb-do-'));
    try {
      const file = join(dir, 'token');
      await writeFile(file, `${TOKEN}\n`);
      const res = await provider({ tokenEnv: undefined, tokenFile: file }).acquire();
      assert.equal(res.changed, true);
      await assert.rejects(provider({ tokenEnv: undefined, tokenFile: join(dir, 'missing') }).acquire(), /token_file .*missing: ENOENT/);
      await assert.rejects(provider({ env: {} }).acquire(), /DO_TOKEN \(token_env\) is empty or unset/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never writes the token into log lines', async () => {
    let out = '';
    const dest = new Writable({
      write(chunk, _enc, cb) {
        out += String(chunk);
        cb();
      },
    });
    fake.inject('get-ip', { status: 500, message: `echo ${TOKEN}` }, { status: 429, headers: { 'retry-after': '1' } });
    await provider({ log: createLogger({ destination: dest, level: 'debug' }) }).acquire();
    assert.match(out, /attempt failed/);
    assert.match(out, /\[redacted\]/);
    assert.ok(!out.includes(TOKEN));
  });
});
