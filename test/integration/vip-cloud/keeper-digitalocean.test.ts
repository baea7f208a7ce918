// Keeper + real DigitalOcean client + fake API, real timers: two "nodes" fight over the
// address (split brain); the master's periodic verify takes it back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloatingIpKeeper } from '../../../src/vip/floating-ip-keeper.ts';
import { createFloatingIpProvider } from '../../../src/vip/cloud-provider-factory.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { FakeDigitalOcean } from '../../helpers/fake-digitalocean.ts';
import type { FloatingIpConfig } from '../../../src/config/types.ts';

const IP = '203.0.113.10';
const TOKEN = 'tok-keeper-test';
let fake: FakeDigitalOcean;
const assigned: [string, number][] = [];

before(async () => {
  fake = new FakeDigitalOcean({ token: TOKEN, ips: { [IP]: null }, actionPolls: 0, onAssign: (ip, d) => void assigned.push([ip, d]) });
  await fake.listen();
});
after(() => fake.close());

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('keeper with the DigitalOcean provider', () => {
  it('acquires from config, and takes the address back after it was moved away', async () => {
    const cfg: FloatingIpConfig = { provider: 'digitalocean', ip: IP, tokenEnv: 'DO_TOKEN', dropletId: 11, apiBase: `${fake.url}/v2`, metadataBase: fake.url, verifyInterval: 100 };
    const provider = createFloatingIpProvider(cfg, silentLogger(), { DO_TOKEN: TOKEN });
    assert.equal(provider.name, `digitalocean ${IP}`);
    const keeper = new FloatingIpKeeper({ provider, verifyInterval: cfg.verifyInterval, log: silentLogger() });
    try {
      keeper.onMaster();
      await until(() => keeper.status().acquires === 1, 3000);
      assert.equal(fake.holders.get(IP), 11);
      assert.deepEqual(assigned, [[IP, 11]]);
      // The peer, briefly convinced it is master, takes the address.
      fake.holders.set(IP, 22);
      await until(() => keeper.status().acquires === 2, 3000);
      assert.equal(fake.holders.get(IP), 11);
      assert.ok(fake.count('action') === 2);
      keeper.onBackup();
      const verifies = fake.count('get-ip');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(fake.count('get-ip'), verifies, 'no verifying while BACKUP');
    } finally {
      await keeper.stop();
    }
  });
});
