// The classic keepalived notify_master script (examples/cloud-digitalocean-master.sh) runs
// unchanged under HookRunner and moves the Reserved IP on the fake DigitalOcean API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { HookRunner } from '../../../src/vip/exec-hooks.ts';
import { createFloatingIpProvider } from '../../../src/vip/cloud-provider-factory.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { FakeDigitalOcean } from '../../helpers/fake-digitalocean.ts';

const IP = '203.0.113.10';
const TOKEN = 'tok-master-sh';
const script = fileURLToPath(new URL('../../../examples/cloud-digitalocean-master.sh', import.meta.url));
let fake: FakeDigitalOcean;

before(async () => {
  fake = new FakeDigitalOcean({ token: TOKEN, ips: { [IP]: 5 }, metadataDropletId: 77, actionPolls: 0 });
  await fake.listen();
});
after(() => fake.close());

describe('master.sh as notify_master', () => {
  it('assigns the Reserved IP to this droplet and exits 0', async () => {
    const hooks = new HookRunner({
      instance: 'VI_1',
      notify: { master: script, timeout: 20_000 },
      log: silentLogger(),
      env: { PATH: process.env.PATH, DO_API: fake.url, DO_METADATA: fake.url, DO_TOKEN: TOKEN, RESERVED_IP: IP },
    });
    const [res] = await hooks.transition('MASTER', 200);
    assert.equal(res?.exitCode, 0, res?.output);
    assert.equal(fake.holders.get(IP), 77);
    assert.match(res!.output, /reserved IP 203\.0\.113\.10 is on droplet 77/);
    assert.deepEqual(fake.requests.find((r) => r.route === 'action')?.body, { type: 'assign', droplet_id: 77 });
  });

  it('the native provider agrees, with the config defaults\' base URL shapes (/v2-less API, /metadata/v1)', async () => {
    fake.holders.set(IP, 5);
    const p = createFloatingIpProvider(
      { provider: 'digitalocean', ip: IP, tokenEnv: 'T', apiBase: fake.url, metadataBase: `${fake.url}/metadata/v1`, verifyInterval: 1000 },
      silentLogger(),
      { T: TOKEN },
    );
    const r = await p.acquire();
    assert.equal(r.changed, true);
    assert.deepEqual(await p.verify(), { ours: true, holder: 'droplet 77' });
  });
});
