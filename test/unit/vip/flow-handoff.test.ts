// The handoff's nft script as text, and the process handling around nft with stand-in binaries
// (no nft, no network): an nft that exits without reading its input must not crash halb.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowHandoff, guardRuleset, handoffRuleset } from '../../../src/vip/flow-handoff.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('the ruleset: replace-or-create, timed VIP set, the rule after conntrack, TTL 2 copy to the peer', () => {
  const text = handoffRuleset({ table: 'halb_handoff_VI_1', family: 'ip', vips: ['10.0.0.100', '10.0.0.101'], peers: ['10.0.0.12'], iface: 'eth0', windowMs: 799.6 });
  assert.equal(
    text,
    [
      'table ip halb_handoff_VI_1 {}',
      'delete table ip halb_handoff_VI_1',
      'table ip halb_handoff_VI_1 {',
      '  set vips { type ipv4_addr; flags timeout; elements = { 10.0.0.100 timeout 800ms, 10.0.0.101 timeout 800ms }; }',
      '  chain prerouting {',
      '    type filter hook prerouting priority mangle; policy accept;',
      '    ip daddr @vips ct state new,invalid tcp flags & syn == 0 counter ip ttl set 2 dup to 10.0.0.12 device "eth0" drop',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const v6 = handoffRuleset({ table: 't', family: 'ip6', vips: ['fd00::100'], peers: ['fe80::12'], iface: 'eth0', windowMs: 500 });
  assert.match(v6, /type ipv6_addr/);
  assert.match(v6, /ip6 daddr @vips .* ip6 hoplimit set 2 dup to fe80::12 device "eth0" drop/);
  const two = handoffRuleset({ table: 't', family: 'ip', vips: ['10.0.0.100'], peers: ['10.0.0.11', '10.0.0.13'], iface: 'eth0', windowMs: 500 });
  assert.match(two, /ip ttl set 2 dup to 10\.0\.0\.11 device "eth0" dup to 10\.0\.0\.13 device "eth0" drop/, 'one copy to each holder');
});

test('the guard: copies (TTL 1 on arrival) of connections this node does not know are dropped, before the handoff chain', () => {
  const text = guardRuleset({ table: 'halb_guard_VI_1', family: 'ip', vips: ['10.0.0.100', '10.0.0.101'] });
  assert.match(text, /^table ip halb_guard_VI_1 \{\}\ndelete table ip halb_guard_VI_1\n/);
  assert.match(text, /priority -151;/);
  assert.match(text, /ip daddr \{ 10\.0\.0\.100, 10\.0\.0\.101 \} ip ttl 1 ct state new,invalid tcp flags & syn == 0 counter drop/);
  assert.match(guardRuleset({ table: 'g', family: 'ip6', vips: ['fd00::100'] }), /ip6 daddr \{ fd00::100 \} ip6 hoplimit 1 ct state/);
});

test('an nft that exits without reading a large script: no EPIPE crash, its status decides', async () => {
  // Over a pipe buffer of script, so the write is still going when the process is gone.
  const vips = Array.from({ length: 6000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`);
  const ok = new FlowHandoff({ instance: 'VI_1', vips, iface: 'eth0', log: silentLogger(), nftPath: '/bin/true' });
  assert.equal(await ok.begin('10.0.0.12', 1000), true);
  await ok.end();
  assert.equal(ok.lastHandedOn, Number.NaN, 'no counter in /bin/true output');
  const failing = new FlowHandoff({ instance: 'VI_1', vips, iface: 'eth0', log: silentLogger(), nftPath: '/bin/false' });
  assert.equal(await failing.begin('10.0.0.12', 1000), false);
});

test('armed for the followed master: the rule goes in without a window, a takeover from that master runs no nft, another master gets its own rule', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halb-handoff-'));
  try {
    const scripts = join(dir, 'scripts');
    const nft = join(dir, 'nft');
    // A stand-in nft that keeps every script it is given.
    writeFileSync(nft, `#!/bin/sh\necho "nft $*" >> ${scripts}\ncat >> ${scripts}\necho '#---' >> ${scripts}\n`);
    chmodSync(nft, 0o755);
    const runs = (): string[] => readFileSync(scripts, 'utf8').split('#---\n').filter(Boolean);
    const h = new FlowHandoff({ instance: 'VI_1', vips: ['10.0.0.100'], iface: 'eth0', log: silentLogger(), nftPath: nft });
    assert.equal(await h.arm('10.0.0.12'), true);
    assert.equal(await h.arm('10.0.0.12'), true, 'armed again for the same master: nothing to do');
    assert.equal(runs().length, 1);
    assert.match(runs()[0]!, /elements = \{ 10\.0\.0\.100 \}/, 'no timeout: armed until a takeover or a stop');
    assert.equal(await h.begin('10.0.0.12', 800), true);
    assert.equal(runs().length, 1, 'the takeover from the armed master ran no nft');
    await h.end();
    assert.equal(runs().length, 3, 'the window end lists the counter, then removes the table');
    assert.match(runs()[2]!, /delete table ip halb_handoff_VI_1/);
    assert.equal(await h.arm('10.0.0.12'), true);
    assert.equal(await h.begin('10.0.0.13', 800), true);
    assert.equal(runs().length, 5);
    assert.match(runs()[4]!, /10\.0\.0\.100 timeout 800ms.*dup to 10\.0\.0\.13/s, 'another master: its own timed rule');
    // Another holder heard during the window: one rule handing on to both.
    assert.equal(await h.include('10.0.0.14', 800), true);
    assert.equal(runs().length, 6);
    assert.match(runs()[5]!, /dup to 10\.0\.0\.13 device "eth0" dup to 10\.0\.0\.14 device "eth0" drop/);
    assert.equal(await h.include('10.0.0.14', 800), true);
    assert.equal(runs().length, 6, 'included already: no nft');
    await h.end();
    // No window in progress: the holder gets a window of its own.
    assert.equal(await h.include('10.0.0.15', 500), true);
    assert.match(runs().at(-1)!, /timeout 500ms.*dup to 10\.0\.0\.15 device "eth0" drop/s);
    await h.end();
    // Start: the leftover table goes and the guard goes in; stop: the guard goes.
    const before = runs().length;
    await h.removeStale();
    assert.match(runs()[before + 1]!, /table ip halb_guard_VI_1 \{\n {2}chain prerouting/);
    await h.close();
    assert.match(runs().at(-1)!, /delete table ip halb_guard_VI_1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
