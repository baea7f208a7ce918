// The bgp: section: what it normalises to, and each refusal with its file:line and reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.ts';

const BASE = [
  'frontends:',
  '  web: { bind: ["0.0.0.0:80"], default_backend: pool }',
  '  api: { bind: ["198.51.100.7:8080"], default_backend: apis }',
  'backends:',
  '  pool: { servers: [{ name: w1, address: 10.1.0.1:80 }] }',
  '  apis: { servers: [{ name: a1, address: 10.1.0.2:80 }] }',
];

function bgp(...lines: string[]): string {
  return [...BASE, 'bgp:', '  asn: 65001', '  router_id: 10.0.0.1', ...lines, ''].join('\n');
}

const NEIGHBOR = ['  neighbors:', '    - { address: 10.0.0.254, asn: 65000 }'];
const ANNOUNCE = ['  announce:', '    - { prefix: 203.0.113.10/32 }'];

function errors(text: string): string[] {
  const r = parseConfigText(text, 'halb.yaml');
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? [] : r.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`);
}

test('a bgp section normalises with defaults; track follows the frontends that bind the prefix', () => {
  const r = parseConfigText(bgp(...NEIGHBOR, '    - { address: 10.0.0.253, asn: 4200000000, bfd: true, hold_time: 3s, password_file: /etc/halb/bgp.pw }', '  announce:', '    - { prefix: 203.0.113.10/32, med: 10, local_pref: 200, communities: ["65000:100"] }', '    - { prefix: 198.51.100.7, track: { backends: [pool] } }'), 'halb.yaml');
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const b = r.config.bgp!;
  assert.equal(b.asn, 65001);
  assert.equal(b.daemon, 'frr');
  assert.equal(b.frrDir, '/usr/lib/frr');
  assert.deepEqual(b.neighbors[0], { address: '10.0.0.254', asn: 65000, bfd: false, holdTimeSeconds: 9, keepaliveSeconds: 3 });
  assert.deepEqual(b.neighbors[1], { address: '10.0.0.253', asn: 4200000000, bfd: true, holdTimeSeconds: 3, keepaliveSeconds: 1, passwordFile: '/etc/halb/bgp.pw' });
  assert.deepEqual(b.bfd, { detectMultiplier: 3, receiveIntervalMs: 300, transmitIntervalMs: 300 });
  assert.equal(b.drainMs, 5000);
  assert.deepEqual(b.peers, []);
  // 0.0.0.0:80 (web) serves 203.0.113.10; 198.51.100.7 is bound by api and by web's wildcard.
  assert.deepEqual(b.announce[0], { address: '203.0.113.10', prefixLength: 32, family: 4, communities: ['65000:100'], med: 10, localPref: 200, trackFrontends: ['web'], trackBackends: ['pool'] });
  assert.deepEqual([b.announce[1]!.trackFrontends, b.announce[1]!.trackBackends], [['web', 'api'], ['pool']]);
});

test('bgp refusals name the place and the reason', () => {
  assert.deepEqual(errors(bgp(...NEIGHBOR, ...ANNOUNCE).replace('asn: 65001', 'asn: 0')), ['8:8 bgp.asn: an ASN is 1..4294967295, got 0']);
  assert.deepEqual(errors(bgp(...NEIGHBOR)), ['8:3 bgp.announce: missing required key "announce"']);
  assert.match(errors(bgp(...NEIGHBOR, ...ANNOUNCE).replace('asn: 65001', 'asn: 4294967296'))[0]!, /^8:8 bgp\.asn: an ASN is 1\.\.4294967295, got 4294967296$/);
  assert.match(errors(bgp(...NEIGHBOR, ...ANNOUNCE).replace('asn: 65001', 'asn: 23456'))[0]!, /^8:8 bgp\.asn: ASN 23456 is AS_TRANS/);
  assert.match(errors(bgp(...NEIGHBOR, ...ANNOUNCE).replace('router_id: 10.0.0.1', 'router_id: lb1'))[0]!, /^9:14 bgp\.router_id: router_id is an IPv4 address, got "lb1"$/);
  assert.match(errors(bgp(...NEIGHBOR, ...ANNOUNCE).replace('router_id: 10.0.0.1', 'router_id: 0.0.0.0'))[0]!, /bgp\.router_id: router_id 0\.0\.0\.0 is not a valid BGP identifier/);
  assert.match(errors(bgp('  neighbors:', '    - { address: 10.0.0.254, asn: 65000, hold_time: 2s }', ...ANNOUNCE))[0]!, /^11:\d+ bgp\.neighbors\[0\]\.hold_time: hold_time is 0 \(no keepalives\) or whole seconds 3s\.\.65535s/);
  assert.match(errors(bgp('  neighbors:', '    - { address: 10.0.0.254, asn: 65000, hold_time: 9s, keepalive: 4s }', ...ANNOUNCE))[0]!, /bgp\.neighbors\[0\]\.keepalive: keepalive is whole seconds, at least 1s and at most a third of hold_time \(9s\)/);
  assert.match(errors(bgp('  neighbors:', '    - { address: 10.0.0.254, asn: 65000 }', '    - { address: 10.0.0.254, asn: 65002 }', ...ANNOUNCE))[0]!, /^12:\d+ bgp\.neighbors\[1\]\.address: neighbor 10\.0\.0\.254 twice/);
  assert.match(errors(bgp('  neighbors:', '    - { address: 10.0.0.254, asn: 65000, bfd: true }', '  bfd: { receive_interval: 5ms }', ...ANNOUNCE))[0]!, /bgp\.bfd\.receive_interval: receive_interval is 10ms\.\.60s/);
  assert.match(errors(bgp(...NEIGHBOR, '  bfd: { detect_multiplier: 3 }', ...ANNOUNCE))[0]!, /bgp\.bfd: bfd timers are set but no neighbor has bfd: true/);
  assert.match(errors(bgp(...NEIGHBOR, '  announce:', '    - { prefix: 192.0.2.0/24 }'))[0]!, /bgp\.announce\[0\]\.prefix: announce a host route: "<ipv4>\/32" or "<ipv6>\/128", got "192\.0\.2\.0\/24"/);
  assert.match(errors(bgp(...NEIGHBOR, '  announce:', '    - { prefix: "2001:db8::10/128" }'))[0]!, /bgp\.announce\[0\]\.prefix: no frontend binds 2001:db8::10 \(or 0\.0\.0\.0 \/ ::\)/);
  assert.match(errors(bgp(...NEIGHBOR, '  announce:', '    - { prefix: 203.0.113.10/32, track: { backends: [pol] } }'))[0]!, /bgp\.announce\[0\]\.track\.backends\[0\]: unknown backend "pol"/);
  assert.match(errors(bgp(...NEIGHBOR, '  announce:', '    - { prefix: 203.0.113.10/32, communities: ["65000:70000"] }'))[0]!, /a community is "<0-65535>:<0-65535>", got "65000:70000"/);
  assert.match(errors(bgp(...NEIGHBOR, ...ANNOUNCE, '  daemon: bird'))[0]!, /bgp\.daemon: daemon must be frr, got "bird"/);
  assert.deepEqual(errors(bgp(...NEIGHBOR, ...ANNOUNCE, '  peers: [10.0.0.2, 10.0.0.3, 10.0.0.2]')), ['14:31 bgp.peers[2]: peer 10.0.0.2 twice (first at peers[0])']);
  assert.deepEqual(errors(bgp(...NEIGHBOR, ...ANNOUNCE, '  peers: [10.0.0.254]')), ['14:11 bgp.peers[0]: 10.0.0.254 is a neighbor (a router): peers are the other halb nodes announcing the same prefixes']);
  assert.match(errors(bgp(...NEIGHBOR, ...ANNOUNCE, '  peers: [lb2]'))[0]!, /^14:11 bgp\.peers\[0\]: /);
});

test('bgp.peers: the same list on every node, this node included', () => {
  const r = parseConfigText(bgp(...NEIGHBOR, ...ANNOUNCE, '  peers: [10.0.0.1, 10.0.0.2, "2001:db8::2"]'), 'halb.yaml');
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.deepEqual(r.config.bgp!.peers, ['10.0.0.1', '10.0.0.2', '2001:db8::2']);
});

test('nodes: gives each node its own router id from one file', () => {
  const text = bgp(...NEIGHBOR, ...ANNOUNCE) + ['nodes:', '  lb1: { bgp: { router_id: 10.0.0.1 } }', '  lb2: { bgp: { router_id: 10.0.0.2 } }', ''].join('\n');
  const lb2 = parseConfigText(text, 'halb.yaml', { node: 'lb2' });
  assert.ok(lb2.ok, JSON.stringify(!lb2.ok && lb2.errors));
  assert.equal(lb2.config.bgp!.routerId, '10.0.0.2');
  const bad = parseConfigText(text.replace('router_id: 10.0.0.2', 'router_id: nope'), 'halb.yaml', { node: 'lb2' });
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? `${bad.errors[0]!.line} ${bad.errors[0]!.path}` : '', /^\d+ nodes\.lb2\.bgp\.router_id$/);
});
