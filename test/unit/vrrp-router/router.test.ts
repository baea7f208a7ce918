// VrrpRouter with a fake transport and a hand-driven clock: what is decoded, what is dropped
// (and under which counter), what is sent when, and in which order actions run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpRouter } from '../../../src/vrrp/router.ts';
import type { StateChange } from '../../../src/vrrp/router.ts';
import { decodeAdvert, encodeAdvert, passwordAuthData } from '../../../src/vrrp/packet.ts';
import type { VrrpAdvert } from '../../../src/vrrp/packet.ts';
import { masterDownInterval, skewTime } from '../../../src/vrrp/state-machine.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { VrrpInstanceConfig } from '../../../src/config/types.ts';
import { FakeClock, FakeTransport, instanceConfig } from './fake-world.ts';

function setup(patch: Partial<VrrpInstanceConfig> = {}, local = '10.0.0.1', destinations?: string[]) {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock, local, destinations);
  const config = instanceConfig(patch);
  const router = new VrrpRouter({ config, transport, log: silentLogger(), timers: clock });
  const states: StateChange[] = [];
  router.on('state', (c) => states.push(c));
  return { clock, transport, router, states, config };
}

function decodeSent(s: { payload: Buffer; dst: string }, src = '10.0.0.1'): VrrpAdvert {
  const r = decodeAdvert(s.payload, { src, dst: s.dst, family: 4 });
  assert.ok(r.ok, `our own advert decodes: ${r.ok ? '' : r.detail}`);
  return r.advert;
}

test('starts as Backup, sends nothing, becomes Master after Master_Down_Interval and advertises every interval', () => {
  const { clock, transport, router, states } = setup();
  router.start();
  assert.equal(router.state, 'backup');
  assert.deepEqual(states.map((s) => [s.from, s.to, s.action]), [['initialize', 'backup', 'become-backup']]);
  const down = masterDownInterval(3, 100, 1000);
  clock.advance(down - 1);
  assert.equal(transport.sent.length, 0, 'a backup sends nothing');
  clock.advance(1);
  assert.equal(router.state, 'master');
  assert.equal(transport.sent.length, 1);
  const adv = decodeSent(transport.sent[0]!);
  assert.equal(adv.vrid, 51);
  assert.equal(adv.priority, 100);
  assert.equal(adv.advertIntMs, 1000);
  assert.deepEqual(adv.addresses, ['10.0.0.100']);
  assert.equal(adv.checksumForm, 'pseudo-header');
  clock.advance(3000);
  assert.equal(transport.sent.length, 4);
  const gaps = transport.sent.slice(1).map((s, i) => s.at - transport.sent[i]!.at);
  assert.deepEqual(gaps, [1000, 1000, 1000]);
  assert.equal(router.status().counters.advertsSent, 4);
  assert.equal(router.status().counters.becameMaster, 1);
});

test('a higher-priority master keeps us Backup; its silence makes us Master', () => {
  const { clock, transport, router } = setup();
  router.start();
  for (let i = 0; i < 10; i++) {
    transport.advert('10.0.0.2', { priority: 150 });
    clock.advance(1000);
  }
  assert.equal(router.state, 'backup');
  assert.equal(router.status().masterAddress, '10.0.0.2');
  assert.equal(router.status().counters.advertsReceived, 10);
  assert.equal(transport.sent.length, 0);
  clock.advance(masterDownInterval(3, 100, 1000));
  assert.equal(router.state, 'master');
  assert.deepEqual(router.status().counters.transitions, [
    { to: 'backup', reason: 'start', count: 1 },
    { to: 'master', reason: 'master-down', count: 1 },
  ]);
});

test('priority 0 from the master: Backup takes over after Skew_Time', () => {
  const { clock, transport, router } = setup();
  router.start();
  transport.advert('10.0.0.2', { priority: 150 });
  clock.advance(500);
  transport.advert('10.0.0.2', { priority: 0 });
  const skew = skewTime(3, 100, 1000);
  clock.advance(skew - 1);
  assert.equal(router.state, 'backup');
  clock.advance(1);
  assert.equal(router.state, 'master');
  assert.equal(router.status().counters.priorityZeroReceived, 1);
});

test('drops are counted per reason and never reach the election', () => {
  const { clock, transport, router } = setup({}, '10.0.0.1');
  router.start();
  const good = encodeAdvert({ version: 3, vrid: 51, priority: 200, advertIntMs: 1000, addresses: ['10.0.0.100'] }, { src: '10.0.0.2', dst: '224.0.0.18', family: 4 });
  transport.advert('10.0.0.2', { priority: 200, vrid: 52 });
  transport.advert('10.0.0.2', { priority: 200, version: 2 });
  transport.advert('10.0.0.2', { priority: 200, addresses: ['10.0.0.101'] });
  transport.advert('10.0.0.2', { priority: 200, addresses: ['10.0.0.100', '10.0.0.101'] });
  transport.advert('10.0.0.2', { priority: 200 }, { ttl: 64 });
  transport.advert('10.0.0.1', { priority: 200 });
  const corrupt = Buffer.from(good);
  corrupt[2] = 201; // priority changed after the checksum
  transport.deliver({ payload: corrupt, src: '10.0.0.2' });
  transport.deliver({ payload: good.subarray(0, 5), src: '10.0.0.2' });
  transport.deliver({ payload: Buffer.from([0x51, 51, 200, 1, 0, 100, 0, 0, 10, 0, 0, 100]), src: '10.0.0.2' });
  transport.drops.ttl = 2;
  const s = router.status();
  assert.deepEqual(s.counters.drops, {
    'unknown-vrid': 1,
    'version-mismatch': 1,
    'address-mismatch': 2,
    'bad-ttl': 1,
    'own-advert': 1,
    'bad-checksum': 1,
    'too-short': 1,
    'bad-version': 1,
    'wire-ttl': 2,
  });
  assert.equal(s.counters.dropped, 11);
  assert.equal(s.counters.advertsReceived, 0);
  // None of the priority-200 packets counted: we still take over on schedule.
  clock.advance(masterDownInterval(3, 100, 1000));
  assert.equal(router.state, 'master');
});

test('VRRPv2 with PASS: auth type, password and interval are checked; our adverts carry the password', () => {
  const { clock, transport, router } = setup({ version: 2, authentication: { type: 'PASS', password: 'secret' } });
  router.start();
  const pass = passwordAuthData('secret');
  transport.advert('10.0.0.2', { version: 2, priority: 200, authType: 0 });
  transport.advert('10.0.0.2', { version: 2, priority: 200, authType: 1, authData: passwordAuthData('wrong') });
  transport.advert('10.0.0.2', { version: 2, priority: 200, authType: 1, authData: pass, advertIntMs: 2000 });
  transport.advert('10.0.0.2', { version: 2, priority: 200, authType: 1, authData: pass });
  assert.deepEqual(router.status().counters.drops, { 'auth-mismatch': 1, 'bad-password': 1, 'interval-mismatch': 1 });
  assert.equal(router.status().counters.advertsReceived, 1);
  assert.equal(router.status().masterAddress, '10.0.0.2');
  clock.advance(masterDownInterval(2, 100, 1000));
  assert.equal(router.state, 'master');
  const adv = decodeSent(transport.sent[0]!);
  assert.equal(adv.version, 2);
  assert.equal(adv.authType, 1);
  assert.deepEqual(adv.authData, pass);
});

test('unicast: a sender that is not a peer is dropped; each peer gets its own v3 checksum', () => {
  const { clock, transport, router } = setup({ unicast: { peers: ['10.0.0.2', '10.0.0.3'] } }, '10.0.0.1', ['10.0.0.2', '10.0.0.3']);
  router.start();
  transport.advert('10.0.0.9', { priority: 200 }, { dst: '10.0.0.1' });
  assert.deepEqual(router.status().counters.drops, { 'not-a-peer': 1 });
  clock.advance(masterDownInterval(3, 100, 1000));
  assert.equal(router.state, 'master');
  assert.deepEqual(transport.sent.map((s) => s.dst), ['10.0.0.2', '10.0.0.3']);
  for (const s of transport.sent) assert.equal(decodeSent(s).checksumForm, 'pseudo-header');
  assert.notEqual(transport.sent[0]!.payload.readUInt16BE(6), transport.sent[1]!.payload.readUInt16BE(6));
});

test('a peer that checksums VRRPv3 without the pseudo-header gets our adverts in that form', () => {
  const { clock, transport, router } = setup({ priority: 200 });
  router.start();
  clock.advance(masterDownInterval(3, 200, 1000));
  assert.equal(router.state, 'master');
  assert.equal(decodeSent(transport.sent.at(-1)!).checksumForm, 'pseudo-header');
  transport.advert('10.0.0.2', { priority: 100, checksumForm: 'message-only' });
  assert.equal(router.status().checksumForm, 'message-only');
  clock.advance(1000);
  assert.equal(decodeSent(transport.sent.at(-1)!).checksumForm, 'message-only');
});

test('becoming Master runs actions in order: state change, advert, GARP', () => {
  const { clock, transport, router } = setup();
  const order: string[] = [];
  router.on('state', (c) => order.push(`state:${c.to}`));
  router.on('garp', () => order.push(`garp after ${transport.sent.length} adverts`));
  router.start();
  clock.advance(masterDownInterval(3, 100, 1000));
  assert.deepEqual(order, ['state:backup', 'state:master', 'garp after 1 adverts']);
});

test('tracker priority changes: a master re-advertises at once; a better backup then preempts', () => {
  const { clock, transport, router } = setup({ priority: 150 });
  router.start();
  clock.advance(masterDownInterval(3, 150, 1000));
  assert.equal(router.state, 'master');
  const before = transport.sent.length;
  clock.advance(200);
  router.setPriority(100);
  assert.equal(transport.sent.length, before + 1);
  assert.equal(decodeSent(transport.sent.at(-1)!).priority, 100);
  assert.equal(router.status().priority, 100);
  assert.equal(router.status().configuredPriority, 150);
  // The peer (120) now outranks us: it preempts and we yield on its first advert.
  transport.advert('10.0.0.2', { priority: 120 });
  assert.equal(router.state, 'backup');
  assert.equal(router.status().masterAddress, '10.0.0.2');
});

test('tracker fault: a master sends priority 0 and enters FAULT; recovery starts again as Backup', () => {
  const { clock, transport, router, states } = setup();
  router.start();
  clock.advance(masterDownInterval(3, 100, 1000));
  router.setFault(true);
  assert.equal(router.state, 'fault');
  assert.equal(decodeSent(transport.sent.at(-1)!).priority, 0);
  const n = transport.sent.length;
  clock.advance(10_000);
  assert.equal(transport.sent.length, n, 'FAULT is silent');
  assert.equal(clock.pending.size, 0, 'no timer armed in FAULT');
  router.setFault(false);
  assert.equal(router.state, 'backup');
  assert.deepEqual(states.map((s) => s.action), ['become-backup', 'become-master', 'enter-fault', 'become-backup']);
});

test('a lower-priority master is answered at once and reported (split brain healing)', () => {
  const { clock, transport, router } = setup({ priority: 150 });
  const seen: unknown[] = [];
  let garps = 0;
  router.on('lower-priority', (x) => seen.push(x));
  router.on('garp', () => garps++);
  router.start();
  clock.advance(masterDownInterval(3, 150, 1000));
  const n = transport.sent.length;
  transport.advert('10.0.0.2', { priority: 100 });
  assert.equal(router.state, 'master');
  assert.equal(transport.sent.length, n + 1);
  assert.deepEqual(seen, [{ from: '10.0.0.2', priority: 100 }]);
  assert.equal(garps, 2);
});

test('handover: priority 0 adverts while serving, Backup when the new master is heard', () => {
  const { clock, transport, router, states } = setup({ priority: 150 });
  router.start();
  clock.advance(masterDownInterval(3, 150, 1000));
  router.handover();
  assert.equal(router.state, 'master-handing-over');
  assert.equal(decodeSent(transport.sent.at(-1)!).priority, 0);
  clock.advance(1000);
  assert.equal(decodeSent(transport.sent.at(-1)!).priority, 0, 'repeated each interval');
  transport.advert('10.0.0.2', { priority: 100 });
  assert.equal(router.state, 'backup');
  assert.deepEqual(states.slice(-2).map((s) => s.action), ['keep-serving', 'become-backup']);
  // Yielded: our higher priority does not take it back.
  for (let i = 0; i < 5; i++) {
    clock.advance(1000);
    transport.advert('10.0.0.2', { priority: 100 });
  }
  assert.equal(router.state, 'backup');
});

test('shutdown as master: priority 0, STOP; close() leaves no timer and closes the transport', () => {
  const { clock, transport, router, states } = setup();
  router.start();
  clock.advance(masterDownInterval(3, 100, 1000));
  router.shutdown();
  assert.equal(decodeSent(transport.sent.at(-1)!).priority, 0);
  assert.equal(states.at(-1)!.action, 'stop');
  assert.equal(router.status().counters.priorityZeroSent, 1);
  router.close();
  assert.equal(clock.pending.size, 0);
  assert.equal(transport.closed, true);
  transport.advert('10.0.0.2', { priority: 200 });
  assert.equal(router.status().counters.advertsReceived, 0, 'nothing processed after close');
});

test('a listener calling back into the router does not interleave steps', () => {
  const { clock, transport, router } = setup();
  const seen: string[] = [];
  router.on('state', (c) => {
    seen.push(`${c.action}@${transport.sent.length}`);
    if (c.action === 'become-master') router.setPriority(90);
  });
  router.start();
  clock.advance(masterDownInterval(3, 100, 1000));
  // become-master's own advert (prio 100) goes out before the priority change's (prio 90).
  assert.deepEqual(transport.sent.map((s) => decodeSent(s).priority), [100, 90]);
  assert.deepEqual(seen, ['become-backup@0', 'become-master@0']);
});

test('send failures are counted, not thrown', () => {
  const { clock, transport, router } = setup();
  transport.failSends = true;
  router.start();
  clock.advance(masterDownInterval(3, 100, 1000) + 2000);
  assert.equal(router.state, 'master');
  assert.equal(router.status().counters.sendErrors, 3);
  assert.equal(router.status().counters.advertsSent, 0);
});

test('hostile bytes never throw and are all counted', () => {
  const { router, transport } = setup();
  router.start();
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 2000; i++) {
    const len = Math.floor(rnd() * 40);
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = Math.floor(rnd() * 256);
    if (len > 0 && rnd() < 0.5) b[0] = 0x31;
    transport.deliver({ payload: b, src: rnd() < 0.5 ? '10.0.0.2' : 'garbage' });
  }
  const c = router.status().counters;
  assert.equal(c.dropped + c.advertsReceived, 2000);
});

test('a master yielding to a better master advertises once more, so the winner re-announces', () => {
  const { clock, transport, router } = setup();
  router.start();
  clock.advance(masterDownInterval(3, 100, 1000));
  const n = transport.sent.length;
  transport.advert('10.0.0.2', { priority: 150 });
  assert.equal(router.state, 'backup');
  assert.equal(transport.sent.length, n + 1);
  assert.equal(decodeSent(transport.sent.at(-1)!).priority, 100);
  clock.advance(2000);
  transport.advert('10.0.0.2', { priority: 150 });
  assert.equal(transport.sent.length, n + 1, 'and nothing more as Backup');
});

test('hmac-sha256: signed adverts are accepted; unsigned, forged, replayed and other-key ones are dropped by reason', () => {
  const key = { id: 1, secret: Buffer.from('0123456789abcdef0123456789abcdef') };
  const auth = { type: 'hmac-sha256' as const, keyFile: '/unused', keyId: 1 };
  const clock = new FakeClock();
  const transport = new FakeTransport(clock, '10.0.0.1');
  const router = new VrrpRouter({ config: instanceConfig({ authentication: auth }), transport, log: silentLogger(), timers: clock, hmacKey: key, hmacEpoch: 500 });
  router.start();
  // The master, another halb with the key: its adverts are what the attacker replays.
  const peerClock = new FakeClock();
  const peerTransport = new FakeTransport(peerClock, '10.0.0.2');
  const peer = new VrrpRouter({ config: instanceConfig({ authentication: auth, priority: 200, state: 'MASTER' }), transport: peerTransport, log: silentLogger(), timers: peerClock, hmacKey: key, hmacEpoch: 700 });
  peer.start();
  peerClock.advance(10_000);
  assert.equal(peer.state, 'master');
  assert.ok(peerTransport.sent.length >= 5);
  const signed = peerTransport.sent.map((s) => s.payload);
  for (const p of signed.slice(0, 3)) transport.deliver({ payload: p, src: '10.0.0.2' });
  assert.equal(router.status().counters.advertsReceived, 3);
  assert.equal(router.status().masterAddress, '10.0.0.2');
  // Replays: an old advert, the newest again.
  transport.deliver({ payload: signed[0]!, src: '10.0.0.2' });
  transport.deliver({ payload: signed[2]!, src: '10.0.0.2' });
  // Unsigned (a keepalived or a halb without the key), at a higher priority.
  transport.advert('10.0.0.3', { priority: 250 });
  // Forged: the priority raised and the checksum fixed, the MAC left as it was.
  const forged = Buffer.from(signed[3]!);
  forged[2] = 254;
  const plain = encodeAdvert({ version: 3, vrid: 51, priority: 254, advertIntMs: 1000, addresses: ['10.0.0.100'] }, { src: '10.0.0.2', dst: '224.0.0.18', family: 4 });
  plain.copy(forged, 0);
  transport.deliver({ payload: forged, src: '10.0.0.2' });
  // Another key id; a trailer cut short.
  const otherKey = Buffer.from(signed[3]!);
  otherKey[otherKey.length - 25] = 2;
  transport.deliver({ payload: otherKey, src: '10.0.0.2' });
  transport.deliver({ payload: signed[3]!.subarray(0, signed[3]!.length - 1), src: '10.0.0.2' });
  const c = router.status().counters;
  assert.deepEqual(c.drops, { 'auth-replayed': 2, 'auth-unsigned': 1, 'auth-forged': 1, 'auth-unknown-key': 1, 'auth-malformed': 1 });
  assert.equal(c.advertsReceived, 3, 'none of them reached the election');
  assert.equal(router.status().masterPriority, 200);
  // The next genuine advert is still accepted, and our own adverts are signed.
  transport.deliver({ payload: signed[3]!, src: '10.0.0.2' });
  assert.equal(router.status().counters.advertsReceived, 4);
  clock.advance(20_000);
  assert.equal(router.state, 'master');
  const ours = transport.sent[0]!.payload;
  assert.equal(ours.length, 12 + 28);
  assert.equal(ours.readUInt32BE(12 + 4), 500, 'our epoch');
  assert.equal(ours.readUInt32BE(12 + 8), 0, 'first counter');
  assert.equal(transport.sent[1]!.payload.readUInt32BE(12 + 8), 1);
});

test('hmac-sha256 without a key is a programming error, not a silent unsigned router', () => {
  const clock = new FakeClock();
  assert.throws(
    () => new VrrpRouter({ config: instanceConfig({ authentication: { type: 'hmac-sha256', keyFile: 'k', keyId: 1 } }), transport: new FakeTransport(clock), log: silentLogger(), timers: clock }),
    /needs its key/,
  );
});

test('status().peers: each peer as its accepted adverts show it; dropped adverts add no peer; silence and priority 0 read so', () => {
  const { clock, transport, router } = setup();
  router.start();
  assert.deepEqual(router.status().peers, []);
  transport.advert('10.0.0.2', { priority: 150 });
  transport.advert('10.0.0.9', { priority: 200, vrid: 52 }); // not ours: dropped, not a peer
  clock.advance(400);
  assert.deepEqual(router.status().peers, [{ address: '10.0.0.2', priority: 150, lastAdvertAgoMs: 400, advertIntervalMs: 1000, adverts: 1, state: 'master' }]);
  transport.advert('10.0.0.2', { priority: 0 });
  assert.equal(router.status().peers[0]!.state, 'stepping-down');
  assert.equal(router.status().peers[0]!.adverts, 2);
  // We take over after Skew_Time and hear nothing more: the peer reads silent.
  clock.advance(4000);
  assert.equal(router.state, 'master');
  assert.equal(router.status().peers[0]!.state, 'silent');
  assert.equal(router.status().peers[0]!.lastAdvertAgoMs, 4000);
});

test("last word: a master's priority-0 round per destination, ready to send if the process dies; none as backup or with HMAC", () => {
  const { clock, transport, router } = setup({}, '10.0.0.1', ['10.0.0.2', '10.0.0.3']);
  router.start();
  assert.equal(router.lastWord(), undefined, 'a backup has nothing to say');
  clock.advance(masterDownInterval(3, 100, 1000));
  assert.equal(router.state, 'master');
  const sentBefore = transport.sent.length;
  const w = router.lastWord()!;
  assert.equal(transport.sent.length, sentBefore, 'preparing it sends nothing');
  assert.equal(w.src, '10.0.0.1');
  assert.deepEqual(w.packets.map(([, dst]) => dst), ['10.0.0.2', '10.0.0.3']);
  for (const [payload, dst] of w.packets) {
    const adv = decodeSent({ payload, dst });
    assert.equal(adv.priority, 0);
    assert.deepEqual(adv.addresses, ['10.0.0.100']);
  }
  router.shutdown();
  assert.equal(router.lastWord(), undefined, 'stopped: it said it itself');
  router.close();

  const key = { id: 1, secret: Buffer.from('0123456789abcdef0123456789abcdef') };
  const hmacClock = new FakeClock();
  const hmac = new VrrpRouter({ config: instanceConfig({ authentication: { type: 'hmac-sha256', keyFile: '/unused', keyId: 1 }, state: 'MASTER', priority: 200 }), transport: new FakeTransport(hmacClock, '10.0.0.1'), log: silentLogger(), timers: hmacClock, hmacKey: key });
  hmac.start();
  hmacClock.advance(5000);
  assert.equal(hmac.state, 'master');
  assert.equal(hmac.lastWord(), undefined, 'a signed round would be stale at the next advert');
  hmac.shutdown();
  hmac.close();
});

test('following: a backup reports each master it starts to follow, once, and again after being master', () => {
  const { clock, transport, router } = setup();
  const followed: string[] = [];
  router.on('following', (m) => followed.push(m));
  router.start();
  transport.advert('10.0.0.2', { priority: 200 });
  clock.advance(1000);
  transport.advert('10.0.0.2', { priority: 200 });
  assert.deepEqual(followed, ['10.0.0.2'], 'the same master again is no news');
  transport.advert('10.0.0.3', { priority: 250 });
  assert.deepEqual(followed, ['10.0.0.2', '10.0.0.3']);
  // Silence: we become master, then a better master makes us backup behind it again.
  clock.advance(masterDownInterval(3, 100, 1000));
  assert.equal(router.state, 'master');
  transport.advert('10.0.0.3', { priority: 250 });
  assert.equal(router.state, 'backup');
  assert.deepEqual(followed, ['10.0.0.2', '10.0.0.3', '10.0.0.3']);
  router.close();
});
