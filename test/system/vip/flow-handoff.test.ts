// FlowHandoff against the real nft in namespaces this test owns: the rule goes in with the
// VIP set entries timing out in the kernel, the table goes when the window ends or on end(),
// a leftover table from a crashed run is removed, IPv6 works alike, and without nft the
// handoff reports false and warns once. On the wire: a connection open on the peer keeps
// working through us while the peer holds the VIP (IPv4, and IPv6 to its link-local address),
// and once the peer has dropped it (and forwards packets) nothing bounces between the two.
// Two holders (the old master and a second backup that took over with us and yielded): each
// gets a copy, the owner answers, the other's guard drops its copy instead of a reset.
// (Full nodes end to end: system/node/preempt-handover.)

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { Lab } from '../../helpers/netns.ts';
import { FlowHandoff, handoffTableName } from '../../../src/vip/flow-handoff.ts';
import { createLogger, silentLogger } from '../../../src/log/logger.ts';

let lab: Lab;
before(async () => {
  lab = await Lab.create();
  await lab.host('lb', { addresses: ['10.78.0.11/24', 'fd78::11/64'], mac: LB_MAC });
  await lab.host('peer', { addresses: ['10.78.0.12/24'], sysctls: { 'net.ipv4.ip_forward': 1 } });
  await lab.host('cl', { addresses: ['10.78.0.50/24'] });
  await lab.host('peer2', { addresses: ['10.78.0.13/24'], mac: PEER2_MAC });
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

const LB_MAC = '02:78:00:00:00:11';
const PEER2_MAC = '02:78:00:00:00:13';
const VIP = '10.78.0.100';

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
  assert.match(listed, /ip daddr @vips ct state (new,invalid|invalid,new) tcp flags ! syn counter packets 0 bytes 0 ip ttl set 2 dup to 10\.78\.0\.12 device "eth0" drop/);
  assert.match(listed, /10\.78\.0\.100 timeout 600ms/);
  await sleep(900);
  assert.deepEqual(await tables(), [], 'the table is gone after the window');
  assert.equal(h.lastHandedOn, 0, 'read from the rule counter before the table went');
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

  // A window ending as the next begins (master, backup, master again): the new rule stays.
  assert.equal(await h.begin('10.78.0.12', 60_000), true);
  const ending = h.end();
  assert.equal(await h.begin('10.78.0.14', 60_000), true);
  await ending;
  assert.match((await lab.exec('lb', 'nft', ['list', 'table', 'ip', h.table])).stdout, /dup to 10\.78\.0\.14/);
  await h.end();

  // A crashed run's table: the next start removes it.
  assert.equal(await h.begin('10.78.0.12', 60_000), true);
  const next = new FlowHandoff({ instance: 'VI_2', vips: ['10.78.0.100'], iface: 'eth0', log: silentLogger(), netns: lab.netns('lb') });
  await next.removeStale();
  assert.deepEqual(await tables(), ['halb_guard_VI_2'], 'only the guard, in from start to stop');
  await next.close();
  assert.deepEqual(await tables(), []);
  await h.end();
});

test('IPv6: an ip6 table, dup to the peer link-local address on the interface', async () => {
  const h = new FlowHandoff({ instance: 'VI_6', vips: ['fd78::100'], iface: 'eth0', log: silentLogger(), netns: lab.netns('lb') });
  assert.equal(await h.begin('fe80::12', 60_000), true);
  const listed = (await lab.exec('lb', 'nft', ['list', 'table', 'ip6', h.table])).stdout;
  assert.match(listed, /ip6 daddr @vips .* ip6 hoplimit set 2 dup to fe80::12 device "eth0" drop/);
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

// An echo server on the peer's VIP, and a client connection to it that sends a line on demand.
const echo = (vip: string) => `require('net').createServer((s) => s.pipe(s)).listen(7000, '${vip}', () => console.log('up'))`;
const client = (vip: string) => `const s = require('net').connect(7000, '${vip}', () => console.log('connected'));
s.on('data', (d) => process.stdout.write(d)); s.on('error', (e) => console.log('error ' + e.code));
require('readline').createInterface({ input: process.stdin }).on('line', (l) => s.write(l + '\\n'));`;

function lines(child: ChildProcess): { next(what: string, ms?: number): Promise<string> } {
  const got: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => got.push(l));
  return {
    async next(what, ms = 3000) {
      const end = Date.now() + ms;
      while (got.length === 0) {
        if (Date.now() > end) throw new Error(`no line (${what}) within ${ms} ms`);
        await sleep(20);
      }
      return got.shift()!;
    },
  };
}

// Send N bare ACK segments of a connection that exists nowhere: python3 raw socket, IP header ours.
const STRAY_SEGMENTS = `
import socket, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(n):
    tcp = struct.pack('!HHIIBBHHH', 40000 + i, 7000, 1000, 2000, 5 << 4, 0x10, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), i, 0x4000, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    s.sendto(ip + tcp, (dst, 0))
`;

/** An echo server on the peer's VIP (already added there) and one client connection to it, echo checked. */
async function connectionToPeer(vip: string, host = 'peer') {
  const server = lab.spawn(host, process.execPath, ['-e', echo(vip)]);
  assert.equal(await lines(server).next('echo server up'), 'up');
  const cl = lab.spawn('cl', process.execPath, ['-e', client(vip)]);
  const out = lines(cl);
  assert.equal(await out.next('connected'), 'connected');
  const roundTrip = (text: string, what: string): Promise<string> => {
    cl.stdin!.write(`${text}\n`);
    return out.next(what);
  };
  assert.equal(await roundTrip('one', 'echo via the peer'), 'one');
  return { server, cl, roundTrip };
}

/** The VIP is added here after the rule, and the client's entry for it now points at us. */
async function vipToLb(vip: string): Promise<void> {
  const v6 = vip.includes(':');
  await lab.exec('lb', 'ip', [v6 ? '-6' : '-4', 'addr', 'add', `${vip}/${v6 ? 64 : 24}`, 'dev', 'eth0', ...(v6 ? ['nodad'] : [])]);
  await lab.exec('cl', 'ip', [v6 ? '-6' : '-4', 'neigh', 'replace', vip, 'lladdr', LB_MAC, 'dev', 'eth0']);
}

async function ruleCounter(table: string): Promise<number> {
  const listed = (await lab.exec('lb', 'nft', ['list', 'table', 'ip', table])).stdout;
  return Number(/counter packets (\d+)/.exec(listed)?.[1] ?? NaN);
}

test('on the wire: a connection open on the peer is served through us; once the peer drops the VIP, nothing bounces between us', async () => {
  await lab.exec('peer', 'ip', ['addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
  const { server, cl, roundTrip } = await connectionToPeer(VIP);

  // We take over: rule first, then the VIP.
  const h = new FlowHandoff({ instance: 'VI_W', vips: [VIP], iface: 'eth0', log: silentLogger(), netns: lab.netns('lb') });
  assert.equal(await h.begin('10.78.0.12', 60_000), true);
  await vipToLb(VIP);
  assert.equal(await roundTrip('two', 'echo through the handoff'), 'two', 'the open connection still reaches the peer');
  const handedOn = await ruleCounter(h.table);
  assert.ok(handedOn >= 1, `segments sent on to the peer: ${handedOn}`);

  // The peer drops the VIP and forwards packets. A segment of a connection nobody has reaches
  // us, goes to the peer, and the peer routes it back to the VIP's new owner, us: the copy has
  // TTL 1 so that happens once, not about 30 times per segment (TTL 64, one off per pass).
  await lab.exec('peer', 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
  const before = await ruleCounter(h.table);
  await lab.exec('cl', 'python3', ['-c', STRAY_SEGMENTS, '10.78.0.50', VIP, '3']);
  await sleep(300);
  const afterDrop = (await ruleCounter(h.table)) - before;
  assert.equal(afterDrop, 3, `3 stray segments, each seen once (${afterDrop})`);
  console.log(`# handed on while the peer held the VIP: ${handedOn}; 3 stray segments after it dropped it were seen ${afterDrop} times`);
  await h.end();
  assert.equal(h.lastHandedOn, handedOn + afterDrop, 'the window reports every segment it sent on');
  cl.kill('SIGKILL');
  server.kill('SIGKILL');
  await lab.exec('lb', 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
});

test('on the wire, IPv6: the copy goes to the peer link-local address and the open connection still works', async () => {
  const VIP6 = 'fd78::100';
  await lab.exec('peer', 'ip', ['-6', 'addr', 'add', 'fd78::12/64', 'dev', 'eth0', 'nodad']);
  await lab.exec('cl', 'ip', ['-6', 'addr', 'add', 'fd78::50/64', 'dev', 'eth0', 'nodad']);
  await lab.exec('peer', 'ip', ['-6', 'addr', 'add', `${VIP6}/64`, 'dev', 'eth0', 'nodad']);
  const links = JSON.parse((await lab.exec('peer', 'ip', ['-j', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout) as { addr_info?: { local: string; scope: string }[] }[];
  const linkLocal = links.flatMap((l) => l.addr_info ?? []).find((a) => a.scope === 'link')!.local;
  const { server, cl, roundTrip } = await connectionToPeer(VIP6);

  const h = new FlowHandoff({ instance: 'VI_W6', vips: [VIP6], iface: 'eth0', log: silentLogger(), netns: lab.netns('lb') });
  assert.equal(await h.begin(linkLocal, 60_000), true);
  await vipToLb(VIP6);
  assert.equal(await roundTrip('two', 'echo through the handoff'), 'two', 'the open connection still reaches the peer');
  await h.end();
  assert.ok((h.lastHandedOn ?? 0) >= 1, `segments sent on: ${h.lastHandedOn}`);
  cl.kill('SIGKILL');
  server.kill('SIGKILL');
});

test('on the wire, two holders: a connection open on the second holder is served through us; the old master, whose guard is in, drops its copy instead of resetting it', async () => {
  // A VIP of its own: segments of earlier tests' connections (a killed client's FIN retransmitted)
  // must not reach these guards.
  const VIP2 = '10.78.0.102';
  const guards = ['peer', 'peer2'].map((n) => new FlowHandoff({ instance: 'VI_G', vips: [VIP2], iface: 'eth0', log: silentLogger(), netns: lab.netns(n) }));
  // Both holders started halb: their guards are in before any connection.
  for (const g of guards) await g.removeStale();
  await lab.exec('peer', 'ip', ['addr', 'add', `${VIP2}/24`, 'dev', 'eth0']);
  await lab.exec('peer2', 'ip', ['addr', 'add', `${VIP2}/24`, 'dev', 'eth0']);
  await lab.exec('cl', 'ip', ['neigh', 'replace', VIP2, 'lladdr', PEER2_MAC, 'dev', 'eth0']);
  const { server, cl, roundTrip } = await connectionToPeer(VIP2, 'peer2');

  // We took over from the old master (peer), then heard peer2 (it took over with us).
  const h = new FlowHandoff({ instance: 'VI_W2', vips: [VIP2], iface: 'eth0', log: silentLogger(), netns: lab.netns('lb') });
  assert.equal(await h.begin('10.78.0.12', 60_000), true);
  assert.equal(await h.include('10.78.0.13', 60_000), true);
  await vipToLb(VIP2);
  assert.equal(await roundTrip('two', 'echo through the handoff'), 'two', 'the connection open on peer2 still works');
  assert.equal(await roundTrip('three', 'echo again'), 'three', 'not reset by the old master');
  const dropped = async (n: string): Promise<number> => Number(/counter packets (\d+)/.exec((await lab.exec(n, 'nft', ['list', 'table', 'ip', guards[0]!.guardTable])).stdout)?.[1] ?? NaN);
  const atOld = await dropped('peer');
  const atOwner = await dropped('peer2');
  assert.ok(atOld >= 2, `the old master's guard dropped the copies it does not own: ${atOld}`);
  assert.equal(atOwner, 0, `the owner keeps its copies:`);
  console.log(`# two holders: copies dropped by the old master's guard ${atOld}, by the owner's 0; the connection on the second holder kept working`);
  await h.end();
  for (const g of guards) await g.close();
  for (const n of ['peer', 'peer2']) assert.deepEqual((await lab.exec(n, 'nft', ['list', 'tables'])).stdout.trim(), '', `${n}: the guard is gone after close`);
  cl.kill('SIGKILL');
  server.kill('SIGKILL');
  for (const n of ['lb', 'peer', 'peer2']) await lab.exec(n, 'ip', ['addr', 'del', `${VIP2}/24`, 'dev', 'eth0']);
});
