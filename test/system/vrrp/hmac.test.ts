// Issue 15.4: two halb nodes with HMAC-SHA256 authentication elect and fail over, and a third
// host injecting replayed, forged and unsigned adverts (test/system/vrrp/vrrp-injector.py, raw
// sockets) does not disturb the election; every injected packet is counted under its reason.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../helpers/netns.ts';
import { VrrpNode, eventually, hasAddress, vrrpYaml } from './vrrp-node-client.ts';

const VIP = '10.77.0.100';
const COUNT = 30;
let lab: Lab;
let dir: string;
const nodes = new Set<VrrpNode>();

before(async () => {
  lab = await Lab.create();
  await lab.host('lb1', { addresses: ['10.77.0.11/24'] });
  await lab.host('lb2', { addresses: ['10.77.0.12/24'] });
  await lab.host('att', { addresses: ['10.77.0.13/24'] });
  dir = mkdtempSync(join(tmpdir(), 'halb-hmac-'));
  writeFileSync(join(dir, 'vrrp.key'), 'f1d2d2f924e986ac86fdf7b36c94bcdf32beec15\n', { mode: 0o600 });
});

after(async () => {
  for (const n of nodes) n.signal('SIGKILL');
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('hmac-sha256: injected replayed/forged/unsigned adverts are dropped and counted; kill -9 still fails over', async () => {
  const auth = `      authentication: { type: hmac-sha256, key_file: ${join(dir, 'vrrp.key')} }`;
  const lb1 = await VrrpNode.start(lab, 'lb1', vrrpYaml({ priority: 101, advertInt: '100ms', extra: auth }));
  nodes.add(lb1);
  const lb2 = await VrrpNode.start(lab, 'lb2', vrrpYaml({ priority: 100, advertInt: '100ms', extra: auth }));
  nodes.add(lb2);
  await lb1.waitState('master', 5000, 0);
  await eventually(async () => (await lb2.status()).counters.advertsReceived > 3, 3000, 'lb2 hears signed adverts');
  assert.equal((await lb2.status()).state, 'backup');

  const r = await lab.exec('att', 'python3', [join(import.meta.dirname, 'vrrp-injector.py'), '10.77.0.11', '10.77.0.13', String(COUNT)], { timeoutMs: 20_000 });
  console.log(r.stdout.trim());
  await new Promise((res) => setTimeout(res, 300));
  const [s1, s2] = [await lb1.status(), await lb2.status()];
  console.log('lb1 drops', JSON.stringify(s1.counters.drops), 'lb2 drops', JSON.stringify(s2.counters.drops));
  assert.equal(s1.state, 'master', 'the election was not disturbed');
  assert.equal(s2.state, 'backup');
  assert.equal(s1.counters.becameMaster, 1);
  assert.equal(s2.counters.becameMaster, 0);
  assert.equal(s2.counters.drops['auth-replayed'], COUNT);
  assert.equal(s2.counters.drops['auth-forged'], COUNT);
  assert.equal(s2.counters.drops['auth-unsigned'], COUNT);
  assert.equal(s1.counters.drops['auth-forged'] ?? 0, 0, 'packets spoofing the address of lb1 never reach it (the kernel drops a local source)');
  assert.equal(s1.counters.drops['auth-unsigned'], COUNT);
  assert.ok(await hasAddress(lab, 'lb1', VIP));

  await lb1.kill9();
  nodes.delete(lb1);
  await lb2.waitState('master', 3000);
  assert.ok(await hasAddress(lab, 'lb2', VIP));
});
