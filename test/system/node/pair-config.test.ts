// One halb.yaml for the pair: both nodes start from the same file (`--node lb1` / `--node lb2`),
// unicast source and peers derived from nodes.*.address, and elect the master the file intends:
// lb1 (101, the lower address, so the address tie-break would pick lb2 if priorities did not count).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SeedLab, VIP, WEB_ADDR, LB_ADDR } from './seed-lab.ts';
import { eventually } from '../vrrp/vrrp-node-client.ts';
import { parsePairText } from '../../../src/config/load.ts';
import { formatConfigError } from '../../../src/config/errors.ts';

const PAIR_YAML = [
  'global:',
  '  workers: 1',
  '  admin: { listen: "127.0.0.1:9100", read_only_open: true, token_env: HALB_TEST_ADMIN_TOKEN }',
  '  log: { level: info, access: false }',
  '  grace: 2s',
  'frontends:',
  '  web:',
  `    bind: ["${VIP}:80"]`,
  '    mode: http',
  '    default_backend: webservers',
  'backends:',
  '  webservers:',
  '    health:',
  '      http: { method: GET, path: /, expect: { status: "200-399" } }',
  '      interval: 300ms',
  '      timeout: 250ms',
  '    servers:',
  ...Object.entries(WEB_ADDR).map(([name, a]) => `      - { name: ${name}, address: "${a}:80" }`),
  'vrrp:',
  '  instances:',
  '    VI_1:',
  '      interface: eth0',
  '      virtual_router_id: 51',
  '      advert_int: 100ms',
  '      unicast: {}',
  `      virtual_ipaddress: ["${VIP}/24"]`,
  '      track:',
  '        backends: { webservers: { weight: -60 } }',
  'nodes:',
  `  lb1: { address: ${LB_ADDR['lb1']}, vrrp: { VI_1: { state: MASTER, priority: 101 } } }`,
  `  lb2: { address: ${LB_ADDR['lb2']}, vrrp: { VI_1: { state: BACKUP, priority: 100 } } }`,
  '',
].join('\n');

let seed: SeedLab;

before(async () => {
  seed = await SeedLab.create();
});

after(async () => {
  await seed?.destroy();
});

test('two nodes from one file: validate passes, lb1 becomes master over unicast, lb2 backup hears it', async () => {
  const v = parsePairText(PAIR_YAML, 'pair.yaml');
  assert.ok(v.ok, v.ok ? '' : v.errors.map(formatConfigError).join('\n'));
  assert.deepEqual(v.warnings, []);
  try {
    const lb2 = await seed.startLbFile('lb2', PAIR_YAML, ['--node', 'lb2']);
    const lb1 = await seed.startLbFile('lb1', PAIR_YAML, ['--node', 'lb1']);
    await lb1.waitState('master', 10_000, 0);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 5000, 'VIP on lb1 only');
    const client = seed.startClient({ durationMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const records = await client.stop();
    const [s1, s2] = [await lb1.status(), await lb2.status()];
    assert.equal(s1.keepalivedState, 'MASTER');
    assert.equal(s2.keepalivedState, 'BACKUP');
    assert.equal(s2.masterAddress, LB_ADDR['lb1'], 'lb2 hears lb1 at the address from nodes.lb1');
    assert.ok(s2.counters.advertsReceived >= 5, `lb2 received lb1's unicast adverts (${s2.counters.advertsReceived})`);
    assert.deepEqual(await seed.vipHolders(), ['lb1']);
    const ok = records.filter((r) => r.ok).length;
    assert.ok(ok >= 20, `clients served through the VIP (${ok} of ${records.length})`);
    console.log(`# pair file: lb1 MASTER, lb2 BACKUP (master ${s2.masterAddress}, ${s2.counters.advertsReceived} adverts heard); ${ok}/${records.length} requests served`);
  } finally {
    await seed.reset();
  }
});
