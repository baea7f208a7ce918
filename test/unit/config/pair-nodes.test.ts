// nodes: one file for the pair. The merge (overrides, derived unicast, error places) and each
// consistency rule of `halb validate` across the nodes' views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfigText, parsePairText } from '../../../src/config/load.ts';
import { formatConfigError } from '../../../src/config/errors.ts';

const PAIR = readFileSync(new URL('../../../examples/halb-pair.yaml', import.meta.url), 'utf8');

/** The example with text replaced (each replacement must apply, so a test cannot pass vacuously). */
function edit(...subs: [string, string][]): string {
  let s = PAIR;
  for (const [a, b] of subs) {
    assert.ok(s.includes(a), `example lacks ${a}`);
    s = s.replace(a, b);
  }
  return s;
}

function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, needle);
  return i + 1;
}

function pairErrors(text: string): string[] {
  const r = parsePairText(text, 'pair.yaml');
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors.map(formatConfigError);
}

test('each node view merges its overrides and derives unicast from the other node', () => {
  const lb1 = parseConfigText(PAIR, 'pair.yaml', { node: 'lb1' });
  const lb2 = parseConfigText(PAIR, 'pair.yaml', { node: 'lb2' });
  assert.ok(lb1.ok && lb2.ok);
  const i1 = lb1.config.vrrp?.instances[0];
  const i2 = lb2.config.vrrp?.instances[0];
  assert.deepEqual([i1?.state, i1?.priority, i1?.unicast], ['MASTER', 101, { source: '192.168.10.101', peers: ['192.168.10.102'] }]);
  assert.deepEqual([i2?.state, i2?.priority, i2?.unicast], ['BACKUP', 100, { source: '192.168.10.102', peers: ['192.168.10.101'] }]);
  assert.equal(lb1.config.node, 'lb1');
  assert.equal(lb1.config.global.admin?.listen?.port, 9100);
  assert.equal(lb2.config.global.admin?.listen?.port, 9101);
  // Shared settings stay as written.
  assert.equal(i2?.virtualRouterId, 51);
  assert.equal(i2?.track.backends['webservers']?.weight, -50);
});

test('the node is picked by host name, short host name or hostname: entry', () => {
  const short = parseConfigText(PAIR, 'p', { hostname: 'lb2.example.net' });
  assert.ok(short.ok);
  assert.equal(short.config.node, 'lb2');
  const alias = parseConfigText(edit(['  lb1:\n    address', '  lb1:\n    hostname: [edge-a]\n    address']), 'p', { hostname: 'edge-a' });
  assert.ok(alias.ok);
  assert.equal(alias.config.node, 'lb1');
  const none = parseConfigText(PAIR, 'p', { hostname: 'web9' });
  assert.ok(!none.ok);
  assert.match(formatConfigError(none.errors[0]!), new RegExp(`^p:${PAIR.split('\n').indexOf('nodes:') + 1}:1 nodes: no entry in nodes matches this host's name "web9"; pass --node NAME \\(defined: lb1, lb2\\)`));
  const bad = parseConfigText(PAIR, 'p', { node: 'lb3' });
  assert.ok(!bad.ok);
  assert.match(bad.errors[0]!.message, /--node lb3: no such entry in nodes \(defined: lb1, lb2\)/);
  const noNodes = parseConfigText('backends: { b: { servers: [] } }\n', 'p', { node: 'lb1' });
  assert.ok(!noNodes.ok);
  assert.match(noNodes.errors[0]!.message, /no nodes: section/);
});

test('an invalid override is reported at the override, with the node path', () => {
  const text = edit(['LB_VIP: { state: BACKUP, priority: 100 }', 'LB_VIP: { state: BACKUP, priority: 300 }']);
  const r = parseConfigText(text, 'pair.yaml', { node: 'lb2' });
  assert.ok(!r.ok);
  const line = lineOf(text, 'priority: 300');
  assert.ok(
    r.errors.some((e) => e.line === line && e.path === 'nodes.lb2.vrrp.LB_VIP.priority' && /1\.\.255/.test(e.message)),
    r.errors.map(formatConfigError).join('\n'),
  );
  const unknown = pairErrors(edit(['LB_VIP: { state: BACKUP', 'LB_VIPP: { state: BACKUP']));
  assert.ok(unknown.some((e) => /nodes\.lb2\.vrrp\.LB_VIPP: .*unknown vrrp instance "LB_VIPP", did you mean "LB_VIP"\?/.test(e)), unknown.join('\n'));
  const key = pairErrors(edit(['    address: 192.168.10.102', '    adress: 192.168.10.102']));
  assert.ok(key.some((e) => e.startsWith(`pair.yaml:${lineOf(PAIR, '192.168.10.102')}:5 nodes.lb2.adress: unknown key "adress", did you mean "address"?`)), key.join('\n'));
});

test('the example validates for every node with no warnings', () => {
  const r = parsePairText(PAIR, 'pair.yaml');
  assert.ok(r.ok, r.ok ? '' : r.errors.map(formatConfigError).join('\n'));
  assert.deepEqual(r.configs.map((c) => c.node), ['lb1', 'lb2']);
  assert.deepEqual(r.warnings, []);
});

test('different VRIDs or VIPs across nodes', () => {
  const vrid = edit(['LB_VIP: { state: BACKUP, priority: 100 }', 'LB_VIP: { state: BACKUP, priority: 100, virtual_router_id: 52 }']);
  const e1 = pairErrors(vrid);
  assert.ok(e1.some((e) => e.startsWith(`pair.yaml:${lineOf(vrid, 'virtual_router_id: 52')}:`) && /virtual_router_id 52 on lb2 differs from 51 on lb1/.test(e)), e1.join('\n'));
  const vip = edit(['LB_VIP: { state: BACKUP, priority: 100 }', 'LB_VIP: { state: BACKUP, priority: 100, virtual_ipaddress: ["172.16.0.201/24 dev enp0s9"] }']);
  const e2 = pairErrors(vip);
  assert.ok(e2.some((e) => /nodes\.lb2\.vrrp\.LB_VIP\.virtual_ipaddress: virtual addresses on lb2 \(172\.16\.0\.201\/24\) differ from lb1's \(172\.16\.0\.200\/24\)/.test(e)), e2.join('\n'));
  // A different interface name per node is fine: only the addresses must agree.
  const dev = edit(['LB_VIP: { state: BACKUP, priority: 100 }', 'LB_VIP: { state: BACKUP, priority: 100, interface: eth1, virtual_ipaddress: ["172.16.0.200/24 dev eth1"] }']);
  assert.ok(parsePairText(dev, 'p').ok);
});

test('unicast peers must match each other\'s sources', () => {
  const text = edit(['      unicast: {}', '      unicast: { peers: [192.168.10.109] }']);
  const errs = pairErrors(text);
  assert.ok(errs.some((e) => /unicast\.peers: lb1's peers \(192\.168\.10\.109\) do not include lb2's unicast source 192\.168\.10\.102/.test(e)), errs.join('\n'));
  const own = pairErrors(edit(['LB_VIP: { state: MASTER, priority: 101 }', 'LB_VIP: { state: MASTER, priority: 101, unicast: { peers: [192.168.10.101, 192.168.10.102] } }']));
  assert.ok(own.some((e) => /lb1 lists its own source 192\.168\.10\.101 as a peer/.test(e)), own.join('\n'));
  const noAddr = pairErrors(edit(['    address: 192.168.10.102\n', '']));
  // lb1 then has no peer to derive: its own view is refused before the pair is compared.
  assert.ok(noAddr.some((e) => /vrrp\.instances\.LB_VIP\.unicast: \(node lb1\) unicast needs at least one address in peers/.test(e)), noAddr.join('\n'));
  const mixed = pairErrors(edit(['      unicast: {}', '      # multicast'], ['LB_VIP: { state: MASTER, priority: 101 }', 'LB_VIP: { state: MASTER, priority: 101, unicast: {} }']));
  assert.ok(mixed.some((e) => /lb2 uses multicast but lb1 uses unicast: they would never hear each other/.test(e)), mixed.join('\n'));
  const stranger = parsePairText(edit(['LB_VIP: { state: MASTER, priority: 101 }', 'LB_VIP: { state: MASTER, priority: 101, unicast: { peers: [192.168.10.102, 192.168.10.77] } }']), 'p');
  assert.ok(stranger.ok);
  assert.ok(stranger.warnings.some((w) => /peer 192\.168\.10\.77 of lb1 is not the unicast source of any node/.test(w.message)));
});

test('exactly one MASTER, with the highest priority, and no ties', () => {
  const none = pairErrors(edit(['state: MASTER', 'state: BACKUP']));
  assert.ok(none.some((e) => /vrrp\.instances\.LB_VIP: no node is state: MASTER for LB_VIP \(nodes: lb1 101, lb2 100\)/.test(e)), none.join('\n'));
  const two = edit(['state: BACKUP', 'state: MASTER']);
  const e2 = pairErrors(two);
  assert.ok(e2.some((e) => e.startsWith(`pair.yaml:${lineOf(two, 'priority: 100')}:`) && /nodes\.lb2\.vrrp\.LB_VIP\.state: lb2 and lb1 are both state: MASTER/.test(e)), e2.join('\n'));
  const low = pairErrors(edit(['priority: 100 }', 'priority: 150 }']));
  assert.ok(low.some((e) => /nodes\.lb1\.vrrp\.LB_VIP\.priority: MASTER lb1 has priority 101 but lb2 has 150: lb2 would win/.test(e)), low.join('\n'));
  const tie = pairErrors(edit(['priority: 100 }', 'priority: 101 }']));
  assert.ok(tie.some((e) => /nodes\.lb2\.vrrp\.LB_VIP\.priority: priority 101 on lb2 equals lb1's/.test(e)), tie.join('\n'));
});

test('track weights that invert or cannot move the intended order warn', () => {
  const weak = parsePairText(edit(['weight: -50', 'weight: -10'], ['priority: 100 }', 'priority: 50 }']), 'p');
  assert.ok(weak.ok);
  assert.ok(weak.warnings.some((w) => w.path.endsWith('track.backends.webservers') && /when backend webservers fails, MASTER lb1 drops to 91, still above the best backup \(50\)/.test(w.message)), JSON.stringify(weak.warnings));
  const plus = parsePairText(
    edit(['LB_VIP: { state: BACKUP, priority: 100 }', 'LB_VIP: { state: BACKUP, priority: 100, track: { backends: { webservers: { weight: 5 } } } }']),
    'p',
  );
  assert.ok(plus.ok);
  assert.ok(plus.warnings.some((w) => /with every tracker healthy lb2 reaches priority 105, not below MASTER lb1's 101/.test(w.message)), JSON.stringify(plus.warnings));
});

test('a file without nodes: validates as one view, as before', () => {
  const r = parsePairText(readFileSync(new URL('../../../examples/halb.yaml', import.meta.url), 'utf8'), 'halb.yaml');
  assert.ok(r.ok);
  assert.equal(r.configs.length, 1);
  assert.equal(r.configs[0]?.node, undefined);
});
