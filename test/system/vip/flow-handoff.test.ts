// FlowHandoff against the real nft in a namespace this test owns: the rule goes in with the
// VIP set entries timing out in the kernel, the table goes when the window ends or on end(),
// a leftover table from a crashed run is removed, IPv6 works alike, and without nft the
// handoff reports false and warns once. (Forwarding end to end: system/node/preempt-handover.)

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Lab } from '../../helpers/netns.ts';
import { FlowHandoff, handoffTableName } from '../../../src/vip/flow-handoff.ts';
import { createLogger, silentLogger } from '../../../src/log/logger.ts';

let lab: Lab;
before(async () => {
  lab = await Lab.create();
  await lab.host('lb', { addresses: ['10.78.0.11/24', 'fd78::11/64'] });
});
after(async () => lab?.destroy());

interface NftObject {
  table?: { name: string };
  set?: { name: string; elem?: unknown[] };
  rule?: { expr: unknown[] };
}

async function ruleset(): Promise<NftObject[]> {
  const r = await lab.exec('lb', 'nft', ['-j', 'list', 'ruleset']);
  return (JSON.parse(r.stdout) as { nftables: NftObject[] }).nftables;
}

const tables = async () => (await ruleset()).flatMap((o) => (o.table ? [o.table.name] : []));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('begin puts the rule in with timed-out VIP entries; the window end removes the table', async () => {
  const h = new FlowHandoff({ instance: 'VI-1', vips: ['10.78.0.100', '10.78.0.101'], iface: 'eth0', log: silentLogger(), netns: lab.netns('lb') });
  assert.equal(h.table, 'halb_handoff_VI_1');
  assert.equal(await h.begin('10.78.0.12', 600), true);
  const objs = await ruleset();
  const set = objs.find((o) => o.set?.name === 'vips')!.set!;
  assert.equal(set.elem?.length, 2);
  const rule = JSON.stringify(objs.find((o) => o.rule)!.rule!.expr);
  assert.match(rule, /"dup":\{"addr":"10\.78\.0\.12","dev":"eth0"\}/);
  assert.match(rule, /"drop"/);
  const listed = (await lab.exec('lb', 'nft', ['list', 'table', 'ip', h.table])).stdout;
  assert.match(listed, /ip daddr @vips ct state (new,invalid|invalid,new) tcp flags ! syn dup to 10\.78\.0\.12 device "eth0" drop/);
  assert.match(listed, /10\.78\.0\.100 timeout 600ms/);
  await sleep(900);
  assert.deepEqual(await tables(), [], 'the table is gone after the window');
  await h.end();
});

test('end() removes the rule at once; begin again replaces it; removeStale clears a leftover', async () => {
  const h = new FlowHandoff({ instance: 'VI_2', vips: ['10.78.0.100'], iface: 'eth0', log: silentLogger(), netns: lab.netns('lb') });
  assert.equal(await h.begin('10.78.0.12', 60_000), true);
  assert.equal(await h.begin('10.78.0.13', 60_000), true);
  const listed = (await lab.exec('lb', 'nft', ['list', 'table', 'ip', h.table])).stdout;
  assert.match(listed, /dup to 10\.78\.0\.13/);
  assert.doesNotMatch(listed, /10\.78\.0\.12/);
  await h.end();
  assert.deepEqual(await tables(), []);
  await h.end();

  // A crashed run's table: the next start removes it.
  assert.equal(await h.begin('10.78.0.12', 60_000), true);
  const next = new FlowHandoff({ instance: 'VI_2', vips: ['10.78.0.100'], iface: 'eth0', log: silentLogger(), netns: lab.netns('lb') });
  await next.removeStale();
  assert.deepEqual(await tables(), []);
  await h.end();
});

test('IPv6: an ip6 table, dup to the peer link-local address on the interface', async () => {
  const h = new FlowHandoff({ instance: 'VI_6', vips: ['fd78::100'], iface: 'eth0', log: silentLogger(), netns: lab.netns('lb') });
  assert.equal(await h.begin('fe80::12', 60_000), true);
  const listed = (await lab.exec('lb', 'nft', ['list', 'table', 'ip6', h.table])).stdout;
  assert.match(listed, /ip6 daddr @vips .* dup to fe80::12 device "eth0" drop/);
  assert.equal(await h.begin('10.78.0.12', 60_000), false, 'a peer of the other family is refused');
  await h.end();
  assert.deepEqual(await tables(), []);
});

test('without nft: begin reports false and warns once; the table name is a valid nft identifier', async () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
  const h = new FlowHandoff({ instance: 'VI_1', vips: ['10.78.0.100'], iface: 'eth0', log, nftPath: '/nonexistent/nft' });
  assert.equal(await h.begin('10.78.0.12', 500), false);
  assert.equal(await h.begin('10.78.0.12', 500), false);
  await h.removeStale();
  const warnings = lines.filter((l) => l.includes('nft not found'));
  assert.equal(warnings.length, 1, lines.join(''));
  assert.equal(handoffTableName('web-front.v4 x'), 'halb_handoff_web_front_v4_x');
});
