// The ECMP flow hand-off rules: what goes to the peers, what is dropped, and the counters read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowForwardRuleset, flowForwardTableName, parseForwardCounters } from '../../../src/bgp/flow-forward-rules.ts';

test('strays go to every peer with TTL 2 (arriving with 1) and are dropped here; copies are never copied again', () => {
  const script = flowForwardRuleset({ table: 'halb_ecmp', family: 'ip', vips: ['203.0.113.10'], peers: [{ address: '10.0.0.12', device: 'eth0' }, { address: '10.0.0.13', device: 'eth1' }] });
  const lines = script.split('\n').map((l) => l.trim());
  // Replaces an earlier table (a killed run's) in the same transaction.
  assert.deepEqual(lines.slice(0, 3), ['table ip halb_ecmp {}', 'delete table ip halb_ecmp', 'table ip halb_ecmp {']);
  assert.ok(lines.includes('set vips { type ipv4_addr; elements = { 203.0.113.10 }; }'));
  const copy = lines.findIndex((l) => l.includes('ip ttl 1 '));
  const pass = lines.findIndex((l) => l.includes('ip ttl set 2'));
  assert.ok(copy >= 0 && pass > copy, 'the copy rule comes first, so a copy never reaches the dup rule');
  assert.equal(lines[copy], 'ip daddr @vips ct state new,invalid tcp flags & syn == 0 ip ttl 1 counter name "copies_dropped" drop');
  assert.equal(lines[pass], 'ip daddr @vips ct state new,invalid tcp flags & syn == 0 counter name "handed_on" ip ttl set 2 dup to 10.0.0.12 device "eth0" dup to 10.0.0.13 device "eth1" drop');
});

test('IPv6 uses the hop limit; with no peer reachable only the copy rule is there', () => {
  const v6 = flowForwardRuleset({ table: flowForwardTableName('ip6'), family: 'ip6', vips: ['2001:db8::10'], peers: [{ address: '2001:db8::12', device: 'eth0' }] });
  assert.match(v6, /table ip6 halb_ecmp6 \{/);
  assert.match(v6, /ip6 daddr @vips ct state new,invalid tcp flags & syn == 0 ip6 hoplimit 1 counter name "copies_dropped" drop/);
  assert.match(v6, /ip6 hoplimit set 2 dup to 2001:db8::12 device "eth0" drop/);
  const alone = flowForwardRuleset({ table: 'halb_ecmp', family: 'ip', vips: ['203.0.113.10'], peers: [] });
  assert.doesNotMatch(alone, /dup to/);
  assert.match(alone, /copies_dropped/);
});

test('the counters are read from nft -j; anything else reads as unknown', () => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { counter: { family: 'ip', name: 'handed_on', table: 'halb_ecmp', handle: 2, packets: 41, bytes: 2460 } },
      { counter: { family: 'ip', name: 'copies_dropped', table: 'halb_ecmp', handle: 3, packets: 7, bytes: 420 } },
    ],
  });
  assert.deepEqual(parseForwardCounters(json), { handedOn: 41, copiesDropped: 7 });
  assert.equal(parseForwardCounters(''), undefined);
  assert.equal(parseForwardCounters('{"nftables": []}'), undefined);
});
