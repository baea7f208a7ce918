// A new master's announcements, on real links: GARP (IPv4) and unsolicited NA (IPv6) sent in
// namespace a are captured in namespace b byte for byte and move b's neighbour entry to a's
// MAC; VIPs and routes are added and removed idempotently through iproute2.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Lab } from '../../helpers/netns.ts';
import { Agent } from './agent-client.ts';
import { LinuxAddresses } from '../../../src/vip/linux-address.ts';
import { buildGarpFrame } from '../../../src/vip/garp.ts';
import { buildNeighbourAdvert } from '../../../src/vip/neighbour-advert.ts';

const A_MAC = '02:77:00:00:00:11';
const B_MAC = '02:77:00:00:00:12';
const OLD_MAC = '02:77:00:00:00:99';

let lab: Lab;
let a: Agent;
let dir = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'halb-announce-'));
  lab = await Lab.create();
  await lab.host('a', { addresses: ['10.77.0.11/24', 'fd77::11/64'], mac: A_MAC });
  await lab.host('b', { addresses: ['10.77.0.12/24', 'fd77::12/64'], mac: B_MAC });
  a = await Agent.start(lab, 'a');
});

after(async () => {
  await lab?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** tcpdump in b for the first frame matching `filter`; resolves once it listens. */
async function capture(file: string, filter: string): Promise<ChildProcess> {
  const td = lab.spawn('b', 'tcpdump', ['-i', 'eth0', '-n', '-U', '-Z', 'root', '-c', '1', '-w', file, filter]);
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    td.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    td.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
  return td;
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching frame captured within ${ms} ms`)), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The first frame of a classic pcap file. */
function firstFrame(file: string): Buffer {
  const pcap = readFileSync(file);
  assert.ok(pcap.length > 40, 'capture holds a frame');
  const inclLen = pcap.readUInt32LE(24 + 8);
  return pcap.subarray(40, 40 + inclLen);
}

async function neighbourMac(address: string): Promise<string | undefined> {
  const r = await lab.exec('b', 'ip', ['-j', 'neigh', 'show', address, 'dev', 'eth0']);
  const entries = JSON.parse(r.stdout || '[]') as { lladdr?: string }[];
  return entries[0]?.lladdr;
}

async function eventually(what: string, fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what} did not happen within ${ms} ms`);
}

function onesComplementSum(buf: Buffer, sum = 0): number {
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

test('GARP from a: keepalived-identical frame on the wire, b re-points its ARP entry', async () => {
  const vip = { address: '10.77.0.100', family: 4 as const, prefix: 24 };
  await lab.exec('b', 'ip', ['neigh', 'replace', vip.address, 'lladdr', OLD_MAC, 'dev', 'eth0', 'nud', 'stale']);
  assert.equal(await neighbourMac(vip.address), OLD_MAC);
  const file = join(dir, 'garp.pcap');
  const td = await capture(file, `arp and ether src ${A_MAC}`);

  const addrs = new LinuxAddresses({ netns: lab.netns('a') });
  assert.equal(await addrs.add(vip, 'eth0'), 'added');
  assert.deepEqual(await a.request({ op: 'announce', address: vip.address, iface: 'eth0', repeat: 3, intervalMs: 20 }), { sent: 3 });

  await waitExit(td, 5000);
  assert.equal(firstFrame(file).toString('hex'), buildGarpFrame(A_MAC, vip.address).toString('hex'));
  await eventually('b learning the VIP at a\'s MAC', async () => (await neighbourMac(vip.address)) === A_MAC);
});

test('unsolicited NA from a: hop limit 255, source = VIP, valid kernel checksum, b re-points its entry', async () => {
  const vip = { address: 'fd77::100', family: 6 as const, prefix: 64 };
  await lab.exec('b', 'ip', ['-6', 'neigh', 'replace', vip.address, 'lladdr', OLD_MAC, 'dev', 'eth0', 'nud', 'stale']);
  assert.equal(await neighbourMac(vip.address), OLD_MAC);
  const file = join(dir, 'na.pcap');
  const td = await capture(file, `icmp6 and ip6[40] == 136 and ether src ${A_MAC}`);

  const addrs = new LinuxAddresses({ netns: lab.netns('a') });
  assert.equal(await addrs.add(vip, 'eth0'), 'added');
  assert.deepEqual(await a.request({ op: 'announce', address: vip.address, iface: 'eth0', repeat: 2, intervalMs: 20 }), { sent: 2 });

  await waitExit(td, 5000);
  const frame = firstFrame(file);
  assert.equal(frame.subarray(0, 6).toString('hex'), '333300000001', 'Ethernet dst for ff02::1');
  assert.equal(frame.readUInt16BE(12), 0x86dd);
  const ip6 = frame.subarray(14, 54);
  const icmp = frame.subarray(54);
  assert.equal(ip6[6], 58, 'next header ICMPv6');
  assert.equal(ip6[7], 255, 'hop limit');
  assert.equal(ip6.subarray(8, 24).toString('hex'), 'fd770000000000000000000000000100', 'source is the VIP');
  assert.equal(ip6.subarray(24, 40).toString('hex'), 'ff020000000000000000000000000001');
  const expected = buildNeighbourAdvert(vip.address, A_MAC);
  assert.equal(icmp.length, expected.length);
  assert.equal(Buffer.concat([icmp.subarray(0, 2), icmp.subarray(4)]).toString('hex'), Buffer.concat([expected.subarray(0, 2), expected.subarray(4)]).toString('hex'));
  // Pseudo-header (src, dst, length, next header) + message sums to 0xffff when the checksum is right.
  const pseudo = Buffer.alloc(40);
  ip6.copy(pseudo, 0, 8, 40);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  assert.notEqual(icmp.readUInt16BE(2), 0, 'kernel filled the checksum');
  assert.equal(onesComplementSum(icmp, onesComplementSum(pseudo)), 0xffff, 'ICMPv6 checksum valid');
  await eventually('b learning the IPv6 VIP at a\'s MAC', async () => (await neighbourMac(vip.address)) === A_MAC);
});

test('announce rejects a missing interface', async () => {
  await assert.rejects(a.request({ op: 'announce', address: '10.77.0.100', iface: 'nope0', repeat: 1, intervalMs: 0 }), /interface "nope0" not found/);
});

test('VIPs and routes in a namespace: idempotent add/remove, list, stale cleanup', async () => {
  const addrs = new LinuxAddresses({ netns: lab.netns('a') });
  const v4 = { address: '10.77.0.150', family: 4 as const, prefix: 32 };
  const v6 = { address: 'fd77::150', family: 6 as const, prefix: 128, device: 'eth0' };
  assert.equal(await addrs.add(v4, 'eth0'), 'added');
  assert.equal(await addrs.add(v4, 'eth0'), 'present');
  assert.equal(await addrs.add(v6, 'lo'), 'added'); // the VIP's own device wins
  assert.equal(await addrs.has(v4, 'eth0'), true);
  const listed = await addrs.list('eth0');
  const six = listed.find((x) => x.address === 'fd77::150');
  assert.ok(six, 'IPv6 VIP listed');
  assert.ok(six.flags.includes('nodad'), 'IPv6 VIP added without DAD');
  assert.equal(listed.find((x) => x.address === '10.77.0.150')?.prefix, 32);

  assert.equal(await addrs.remove(v4, 'eth0'), 'removed');
  assert.equal(await addrs.remove(v4, 'eth0'), 'absent');
  assert.equal(await addrs.has(v4, 'eth0'), false);

  // A leftover from a crashed run (the copy halb makes: same prefix, halb's label) is removed at
  // startup; the same address with another prefix and no label is the host's own and stays.
  await lab.exec('a', 'ip', ['addr', 'add', '10.77.0.151/32', 'dev', 'eth0', 'label', 'eth0:halb']);
  await lab.exec('a', 'ip', ['addr', 'add', '10.77.0.152/24', 'dev', 'eth0']);
  const removed = await addrs.removeStale([{ address: '10.77.0.151', family: 4, prefix: 32 }, v6, { address: '10.77.0.152', family: 4, prefix: 32 }], 'eth0');
  assert.deepEqual(removed.map((r) => r.address), ['10.77.0.151', 'fd77::150']);
  const left = await addrs.list('eth0');
  assert.equal(left.some((x) => x.address === '10.77.0.151' || x.address === 'fd77::150'), false);
  assert.ok(left.some((x) => x.address === '10.77.0.152' && x.prefix === 24), 'a host address equal to a VIP survives');
  await lab.exec('a', 'ip', ['addr', 'del', '10.77.0.152/24', 'dev', 'eth0']);

  const route = { to: '10.77.9.0/24', via: '10.77.0.12' };
  assert.equal(await addrs.addRoute(route), 'added');
  assert.equal(await addrs.addRoute(route), 'present');
  assert.match((await lab.exec('a', 'ip', ['route', 'show', '10.77.9.0/24'])).stdout, /via 10\.77\.0\.12 dev eth0/);
  assert.equal(await addrs.removeRoute(route), 'removed');
  assert.equal(await addrs.removeRoute(route), 'absent');
  const route6 = { to: 'fd77:9::/64', device: 'eth0' };
  assert.equal(await addrs.addRoute(route6), 'added');
  assert.equal(await addrs.removeRoute(route6), 'removed');
});
