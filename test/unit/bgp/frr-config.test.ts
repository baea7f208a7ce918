// The FRR configuration halb writes for its BGP speaker, checked by FRR's own parser
// (vtysh --dryrun) where FRR is installed (CI installs it: scripts/provision.sh --apt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../../src/config/load.ts';
import { announceCommands, renderFrrConfig, withdrawCommands } from '../../../src/bgp/frr-config.ts';
import { missingFrrPrograms, missingNft, VTYSH } from '../../../src/bgp/frr-binaries.ts';

const text = `frontends:
  web: { bind: ["[::]:80"], default_backend: pool }
backends:
  pool: { servers: [{ name: w1, address: 10.1.0.1:80 }] }
bgp:
  asn: 65001
  router_id: 10.0.0.1
  neighbors:
    - { address: 10.0.0.254, asn: 65000, bfd: true, hold_time: 9s }
    - { address: 10.0.0.253, asn: 65000 }
  bfd: { receive_interval: 200ms, transmit_interval: 250ms, detect_multiplier: 4 }
  announce:
    - { prefix: 203.0.113.10/32, med: 10, local_pref: 200, communities: ["65000:100", "65000:200"] }
    - { prefix: "2001:db8::10/128" }
`;

function config() {
  const r = parseConfigText(text, 'halb.yaml');
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.config.bgp!;
}

test('bgpd and bfdd config: neighbors with timers, password and BFD profile; nothing announced; per-prefix route-maps', () => {
  const conf = renderFrrConfig(config(), 'lb1', new Map([['10.0.0.254', 's3cret']]));
  const lines = conf.split('\n');
  for (const l of [
    'router bgp 65001',
    ' bgp router-id 10.0.0.1',
    ' no bgp network import-check',
    ' neighbor 10.0.0.254 remote-as 65000',
    ' neighbor 10.0.0.254 timers 3 9',
    ' neighbor 10.0.0.254 password s3cret',
    ' neighbor 10.0.0.254 bfd profile halb',
    '  detect-multiplier 4',
    '  receive-interval 200',
    '  transmit-interval 250',
    ' address-family ipv6 unicast',
    'route-map halb-0 permit 10',
    ' set metric 10',
    ' set local-preference 200',
    ' set community 65000:100 65000:200',
  ]) {
    assert.ok(lines.includes(l), `missing ${JSON.stringify(l)} in\n${conf}`);
  }
  assert.ok(!lines.includes(' neighbor 10.0.0.253 password s3cret'));
  assert.ok(!lines.includes(' neighbor 10.0.0.253 bfd profile halb'));
  assert.doesNotMatch(conf, /^\s*network /m, 'nothing is announced by the static config');
  const b = config();
  assert.deepEqual(announceCommands(b, b.announce[0]!), ['configure terminal', 'router bgp 65001', 'address-family ipv4 unicast', 'network 203.0.113.10/32 route-map halb-0']);
  assert.deepEqual(withdrawCommands(b, b.announce[1]!), ['configure terminal', 'router bgp 65001', 'address-family ipv6 unicast', 'no network 2001:db8::10/128']);
});

test('missing FRR programs are named', () => {
  const b = config();
  assert.deepEqual(missingFrrPrograms(b, (p) => !p.endsWith('bfdd')), ['/usr/lib/frr/bfdd (bfdd)']);
  assert.deepEqual(missingFrrPrograms({ ...b, neighbors: b.neighbors.map((n) => ({ ...n, bfd: false })) }, (p) => !p.endsWith('bfdd')), []);
});

test('bgp.peers needs nft on PATH; without peers it is not looked for', () => {
  const b = { ...config(), peers: ['10.0.0.12'] };
  assert.equal(missingNft(b, '/bin:/usr/sbin', (p) => p === '/usr/sbin/nft'), undefined);
  assert.match(missingNft(b, '/bin:/usr/bin', (p) => p === '/usr/sbin/nft') ?? '', /bgp\.peers needs nftables: nft not found on PATH; install it \(apt-get install nftables\)/);
  assert.equal(missingNft({ ...b, peers: [] }, '', () => false), undefined);
});

const noFrr = existsSync(VTYSH) || process.env.CI === 'true' ? false : 'FRR not installed (apt-get install frr)';

test('FRR parses the config halb writes (vtysh --dryrun), and refuses a broken one', { skip: noFrr }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'halb-frr-'));
  try {
    const file = join(dir, 'frr.conf');
    writeFileSync(file, renderFrrConfig(config(), 'lb1', new Map([['10.0.0.254', 's3cret']])));
    const ok = spawnSync(VTYSH, ['--dryrun', '-f', file], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    writeFileSync(file, renderFrrConfig(config(), 'lb1').replace('timers 3 9', 'timers three 9'));
    const bad = spawnSync(VTYSH, ['--dryrun', '-f', file], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0, 'the check can fail');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
