// The real Hetzner client against a fake of the documented API on loopback.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HetznerFloatingIp, type HetznerOptions } from '../../../src/vip/hetzner.ts';
import { ProviderError } from '../../../src/vip/provider.ts';
import { FakeHetzner } from '../../helpers/fake-hetzner.ts';

const IP = '198.51.100.5';
const TOKEN = 'hcloud-secret-token-abcdef';
const FIP = 30; // the last of 30 floating IPs: on page 2 when pages hold 25
const ME = 9001;
const OTHER = 9002;

let fake: FakeHetzner;
let sleeps: number[];

function provider(extra: Partial<HetznerOptions> = {}): HetznerFloatingIp {
  return new HetznerFloatingIp({
    ip: IP,
    tokenEnv: 'HCLOUD_TOKEN',
    env: { HCLOUD_TOKEN: TOKEN },
    apiBase: `${fake.url}/v1`,
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
  const fips: Record<number, { ip: string; server: number | null }> = {};
  for (let i = 1; i <= 30; i++) fips[i + 100] = { ip: `192.0.2.${i}`, server: null };
  fips[FIP + 100] = { ip: IP, server: OTHER };
  fake = new FakeHetzner({ token: TOKEN, floatingIps: fips, metadataServerId: ME, pageSize: 25 });
  await fake.listen();
});
after(() => fake.close());
beforeEach(() => {
  sleeps = [];
  fake.fips.get(FIP + 100)!.server = OTHER;
  fake.actionPolls = 1;
  fake.failActions = false;
  fake.requests.length = 0;
  for (const a of fake.actions.values()) a.status = 'success';
});

describe('Hetzner floating IP', () => {
  it('finds the floating IP by address across pages, assigns to the metadata server id, polls the action', async () => {
    fake.actionPolls = 2;
    const res = await provider().acquire();
    assert.equal(res.changed, true);
    assert.equal(fake.fips.get(FIP + 100)!.server, ME);
    assert.equal(fake.count('list'), 2);
    assert.deepEqual(fake.requests.find((r) => r.route === 'assign')?.body, { server: ME });
    assert.equal(fake.requests.find((r) => r.route === 'assign')?.path, `/v1/floating_ips/${FIP + 100}/actions/assign`);
    assert.equal(fake.count('poll'), 2);
  });

  it('with floating_ip_id and server id configured it asks neither the list nor metadata', async () => {
    const res = await provider({ floatingIpId: FIP + 100, serverId: 4444 }).acquire();
    assert.equal(res.changed, true);
    assert.equal(fake.count('list'), 0);
    assert.equal(fake.count('metadata'), 0);
    assert.equal(fake.fips.get(FIP + 100)!.server, 4444);
  });

  it('already here: no assign', async () => {
    fake.fips.get(FIP + 100)!.server = ME;
    const res = await provider().acquire();
    assert.equal(res.changed, false);
    assert.equal(fake.count('assign'), 0);
  });

  it('401 is fatal and not retried', async () => {
    await assert.rejects(provider({ env: { HCLOUD_TOKEN: 'nope-nope' } }).acquire(), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.fatal, true);
      assert.equal(err.code, 'unauthorized');
      return true;
    });
    assert.equal(fake.requests.length, 1);
  });

  it('an address not in the project is fatal with a hint', async () => {
    await assert.rejects(provider({ ip: '203.0.113.250' }).acquire(), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.fatal, true);
      assert.match(err.message, /no floating IP with address 203\.0\.113\.250.*floating_ip_id/);
      return true;
    });
  });

  it('404 on a configured id is fatal', async () => {
    await assert.rejects(provider({ floatingIpId: 99999 }).acquire(), (err: unknown) => err instanceof ProviderError && err.fatal && err.status === 404);
  });

  it('423 locked, 429 with RateLimit-Reset, and 5xx are retried', async () => {
    const reset = String(Math.floor(Date.now() / 1000) + 3);
    fake.inject('assign', { status: 423 }, { status: 429, headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': reset } });
    fake.inject('get-fip', { status: 503 });
    const res = await provider({ floatingIpId: FIP + 100 }).acquire();
    assert.equal(res.changed, true);
    assert.equal(fake.count('assign'), 3);
    assert.ok(sleeps.some((ms) => ms > 1500 && ms <= 3000), `a wait from RateLimit-Reset in ${JSON.stringify(sleeps)}`);
  });

  it('422 floating_ip_assigned: re-checks the address', async () => {
    fake.inject('assign', { status: 422, code: 'floating_ip_assigned', message: 'The Floating IP is already assigned' });
    const res = await provider({
      floatingIpId: FIP + 100,
      sleep: async (ms) => {
        sleeps.push(ms);
        fake.fips.get(FIP + 100)!.server = ME;
      },
    }).acquire();
    assert.equal(res.changed, false);
    assert.equal(fake.count('assign'), 1);
  });

  it('a request never answered times out and is retried', async () => {
    fake.inject('get-fip', { hang: true });
    const res = await provider({ floatingIpId: FIP + 100 }).acquire();
    assert.equal(res.changed, true);
  });

  it('an action stuck in running is given up within its bound', async () => {
    fake.actionPolls = Infinity;
    await assert.rejects(provider({ floatingIpId: FIP + 100, retry: { maxAttempts: 2, actionPollMs: 25, actionTimeoutMs: 100 } }).acquire(), ProviderError);
    // attempt 1: 4 polls; attempt 2: assign answers 423 locked
    assert.equal(fake.count('poll'), 4);
    assert.equal(fake.count('assign'), 2);
    assert.equal(fake.fips.get(FIP + 100)!.server, OTHER);
  });

  it('an action that ends in error is retried', async () => {
    fake.failActions = true;
    const res = await provider({
      floatingIpId: FIP + 100,
      sleep: async (ms) => {
        sleeps.push(ms);
        if (fake.count('poll') >= 1) fake.failActions = false;
      },
    }).acquire();
    assert.equal(res.changed, true);
    assert.equal(fake.count('assign'), 2);
  });

  it('verify and release', async () => {
    const p = provider();
    assert.deepEqual(await p.verify(), { ours: false, holder: `server ${OTHER}` });
    await p.release();
    assert.equal(fake.count('unassign'), 0);
    fake.fips.get(FIP + 100)!.server = ME;
    assert.deepEqual(await p.verify(), { ours: true, holder: `server ${ME}` });
    fake.actionPolls = 0;
    await p.release();
    assert.equal(fake.fips.get(FIP + 100)!.server, null);
    fake.inject('get-fip', { status: 500 });
    await assert.rejects(p.verify(), (err: unknown) => err instanceof ProviderError && !err.fatal);
  });
});
