// VrrpTransport on real links: two (three) namespaces on a bridge, adverts sent by the
// transport in one arrive in the other with TTL/hop limit 255 and the right addresses,
// multicast and unicast, IPv4 and IPv6; the transport's wire checks drop what they should.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../helpers/netns.ts';
import { Agent } from './agent-client.ts';
import type { AgentEvent } from './agent-client.ts';

// keepalived's VRRPv3 advert for VRID 51, prio 101, 10.77.0.100 (vector vrrp_v3).
const V3_PAYLOAD = '31336501000a74290a4d0064';
const V3_PAYLOAD_6 = '31336501000a0000fd770000000000000000000000000100';

let lab: Lab;
let a: Agent;
let b: Agent;
let c: Agent;
let bIfindex = 0;
let aLinkLocal = '';

interface Stats {
  drops: Record<string, number>;
  counters: Record<string, number>;
}

before(async () => {
  lab = await Lab.create();
  await lab.host('a', { addresses: ['10.77.0.11/24', 'fd77::11/64'] });
  await lab.host('b', { addresses: ['10.77.0.12/24', 'fd77::12/64'] });
  await lab.host('c', { addresses: ['10.77.0.13/24', 'fd77::13/64'] });
  [a, b, c] = await Promise.all([Agent.start(lab, 'a'), Agent.start(lab, 'b'), Agent.start(lab, 'c')]);
  bIfindex = (await b.request<{ index: number }>({ op: 'info', iface: 'eth0' })).index;
  const aInfo = await a.request<{ ipv6: string[] }>({ op: 'info', iface: 'eth0' });
  aLinkLocal = aInfo.ipv6.find((x) => x.startsWith('fe80:')) ?? '';
  assert.ok(aLinkLocal, 'a has a link-local address');
});

after(async () => {
  await lab?.destroy();
});

const packetFor = (id: string, payload: string) => (e: AgentEvent) => e.ev === 'packet' && e.id === id && e.payload === payload;

test('IPv4 multicast: advert arrives with TTL 255 from the primary address; no loopback to the sender', async () => {
  const ra = await a.request<{ localAddress: string }>({ op: 'open', id: 'm4', opts: { family: 4, interface: 'eth0', multicast: true } });
  await b.request({ op: 'open', id: 'm4', opts: { family: 4, interface: 'eth0', multicast: true } });
  assert.equal(ra.localAddress, '10.77.0.11');
  assert.deepEqual(await a.request({ op: 'send', id: 'm4', hex: V3_PAYLOAD }), { sent: 1 });
  const got = await b.waitFor(packetFor('m4', V3_PAYLOAD));
  assert.equal(got.src, '10.77.0.11');
  assert.equal(got.dst, '224.0.0.18');
  assert.equal(got.ttl, 255);
  assert.equal(got.ifindex, bIfindex);
  // b answers; a must see b's packet but never its own.
  await b.request({ op: 'send', id: 'm4', hex: V3_PAYLOAD });
  await a.waitFor(packetFor('m4', V3_PAYLOAD));
  const sa = await a.request<Stats>({ op: 'stats', id: 'm4' });
  assert.equal(sa.counters.received, 1);
  assert.equal(sa.counters.sent, 1);
  await a.request({ op: 'close', id: 'm4' });
  await b.request({ op: 'close', id: 'm4' });
});

test('IPv6 multicast: advert to ff02::12 from the link-local address with hop limit 255', async () => {
  const ra = await a.request<{ localAddress: string }>({ op: 'open', id: 'm6', opts: { family: 6, interface: 'eth0', multicast: true } });
  await b.request({ op: 'open', id: 'm6', opts: { family: 6, interface: 'eth0', multicast: true } });
  assert.equal(ra.localAddress, aLinkLocal);
  await a.request({ op: 'send', id: 'm6', hex: V3_PAYLOAD_6 });
  const got = await b.waitFor(packetFor('m6', V3_PAYLOAD_6));
  assert.equal(got.src, aLinkLocal);
  assert.equal(got.dst, 'ff02::12');
  assert.equal(got.ttl, 255);
  assert.equal(got.ifindex, bIfindex);
  await a.request({ op: 'close', id: 'm6' });
  await b.request({ op: 'close', id: 'm6' });
});

test('IPv4 unicast: reaches the peer; a non-peer sender is dropped and counted', async () => {
  await a.request({ op: 'open', id: 'u4', opts: { family: 4, interface: 'eth0', multicast: false, unicastPeers: ['10.77.0.12'] } });
  await b.request({ op: 'open', id: 'u4', opts: { family: 4, interface: 'eth0', multicast: false, unicastPeers: ['10.77.0.11'] } });
  await c.request({ op: 'open', id: 'u4', opts: { family: 4, interface: 'eth0', multicast: false, unicastPeers: ['10.77.0.12'] } });
  await c.request({ op: 'send', id: 'u4', hex: '0000' + V3_PAYLOAD });
  await a.request({ op: 'send', id: 'u4', hex: V3_PAYLOAD });
  const got = await b.waitFor(packetFor('u4', V3_PAYLOAD));
  assert.equal(got.src, '10.77.0.11');
  assert.equal(got.dst, '10.77.0.12');
  assert.equal(got.ttl, 255);
  // c's packet was sent before a's on the same link; by now b has read it.
  const sb = await b.request<Stats>({ op: 'stats', id: 'u4' });
  assert.equal(sb.drops.peer, 1);
  assert.equal(sb.counters.received, 1);
  assert.equal(b.events.filter((e) => e.id === 'u4').length, 1);
  for (const x of [a, b, c]) await x.request({ op: 'close', id: 'u4' });
});

test('IPv6 unicast from a configured global source address', async () => {
  await a.request({ op: 'open', id: 'u6', opts: { family: 6, interface: 'eth0', multicast: false, sourceAddress: 'fd77::11', unicastPeers: ['fd77::12'] } });
  await b.request({ op: 'open', id: 'u6', opts: { family: 6, interface: 'eth0', multicast: false, sourceAddress: 'fd77::12', unicastPeers: ['fd77:0:0::11'] } });
  await a.request({ op: 'send', id: 'u6', hex: V3_PAYLOAD_6 });
  const got = await b.waitFor(packetFor('u6', V3_PAYLOAD_6));
  assert.equal(got.src, 'fd77::11');
  assert.equal(got.dst, 'fd77::12');
  assert.equal(got.ttl, 255);
  await a.request({ op: 'close', id: 'u6' });
  await b.request({ op: 'close', id: 'u6' });
});

test('a VRRP packet whose TTL is not 255 is dropped and counted (IPv4 and IPv6)', async () => {
  await b.request({ op: 'open', id: 't4', opts: { family: 4, interface: 'eth0', multicast: true } });
  await b.request({ op: 'open', id: 't6', opts: { family: 6, interface: 'eth0', multicast: true } });
  await c.request({ op: 'rawsend', family: 4, iface: 'eth0', dst: '224.0.0.18', hex: 'aa' + V3_PAYLOAD, hops: 64 });
  await c.request({ op: 'rawsend', family: 6, iface: 'eth0', dst: 'ff02::12', hex: 'aa' + V3_PAYLOAD_6, hops: 1 });
  // Then a good one on each; once they are in, the bad ones were processed before them.
  await c.request({ op: 'rawsend', family: 4, iface: 'eth0', dst: '224.0.0.18', hex: 'bb' + V3_PAYLOAD, hops: 255 });
  await c.request({ op: 'rawsend', family: 6, iface: 'eth0', dst: 'ff02::12', hex: 'bb' + V3_PAYLOAD_6, hops: 255 });
  await b.waitFor(packetFor('t4', 'bb' + V3_PAYLOAD));
  await b.waitFor(packetFor('t6', 'bb' + V3_PAYLOAD_6));
  const s4 = await b.request<Stats>({ op: 'stats', id: 't4' });
  const s6 = await b.request<Stats>({ op: 'stats', id: 't6' });
  assert.equal(s4.drops.ttl, 1);
  assert.equal(s6.drops.ttl, 1);
  assert.equal(b.events.some((e) => e.payload === 'aa' + V3_PAYLOAD || e.payload === 'aa' + V3_PAYLOAD_6), false);
  await b.request({ op: 'close', id: 't4' });
  await b.request({ op: 'close', id: 't6' });
});

test('open fails clearly: missing interface, unicast without peers, wrong-family peer', async () => {
  await assert.rejects(b.request({ op: 'open', id: 'x', opts: { family: 4, interface: 'nope0', multicast: true } }), /interface "nope0" not found/);
  await assert.rejects(b.request({ op: 'open', id: 'x', opts: { family: 4, interface: 'eth0', multicast: false } }), /unicast needs at least one peer/);
  await assert.rejects(b.request({ op: 'open', id: 'x', opts: { family: 4, interface: 'eth0', multicast: false, unicastPeers: ['fd77::1'] } }), /not an IPv4 address/);
});
