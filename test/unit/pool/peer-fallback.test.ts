import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePeerFallback, peerAddress, peerTarget, type PeerDecisionInput } from '../../../src/pool/peer-fallback.ts';

const base: PeerDecisionInput = { usableServers: 0, enabled: true, peerUp: true, marked: false };

test('peer fallback: own servers (normal or backup) always win, whatever the peer and the mark', () => {
  for (const enabled of [true, false])
    for (const peerUp of [true, false])
      for (const marked of [true, false])
        assert.equal(choosePeerFallback({ usableServers: 1, enabled, peerUp, marked }), 'server');
});

test('peer fallback: no own server, fallback on, peer up, unmarked: forward to the peer', () => {
  assert.equal(choosePeerFallback(base), 'peer');
});

test('peer fallback: a marked request is never forwarded again (no loop between two nodes)', () => {
  assert.equal(choosePeerFallback({ ...base, marked: true }), 'refuse');
});

test('peer fallback: off, or the peer down, means 503 as before', () => {
  assert.equal(choosePeerFallback({ ...base, enabled: false }), 'refuse');
  assert.equal(choosePeerFallback({ ...base, peerUp: false }), 'refuse');
});

test('peer fallback: two nodes both down pass a request at most once', () => {
  // node A forwards (unmarked), node B sees the mark and refuses: one hop, then 503
  let marked = false;
  let hops = 0;
  for (let i = 0; i < 10; i++) {
    const c = choosePeerFallback({ ...base, marked });
    if (c !== 'peer') break;
    hops++;
    marked = true;
  }
  assert.equal(hops, 1);
});

test('peer address: explicit wins, else the one unicast peer, else a clear message', () => {
  assert.deepEqual(peerAddress('10.0.0.9', { unicast: { peers: ['10.0.0.2'] } }), { ok: true, address: '10.0.0.9' });
  assert.deepEqual(peerAddress(undefined, { unicast: { peers: ['10.0.0.2'] } }), { ok: true, address: '10.0.0.2' });
  const many = peerAddress(undefined, { unicast: { peers: ['10.0.0.2', '10.0.0.3'] } });
  assert.equal(many.ok, false);
  assert.match((many as { message: string }).message, /several unicast peers.*peer_fallback_address/);
  const mc = peerAddress(undefined, { unicast: undefined });
  assert.equal(mc.ok, false);
  assert.match((mc as { message: string }).message, /multicast.*peer_fallback_address/);
  assert.equal(peerAddress(undefined, undefined).ok, false);
});

const bind = (host: string, port: number) => ({ host, port, acceptProxy: false });

test('peer target: the peer real address on the port of the first bind that is not a VIP', () => {
  assert.deepEqual(peerTarget([bind('0.0.0.0', 80)], '10.0.0.2', ['192.0.2.10']), { ok: true, host: '10.0.0.2', port: 80 });
  assert.deepEqual(peerTarget([bind('::', 8080)], 'fd00::2', []), { ok: true, host: 'fd00::2', port: 8080 });
  // the node's own address: the peer binds its own on the same port
  assert.deepEqual(peerTarget([bind('192.0.2.10', 80), bind('10.0.0.1', 81)], '10.0.0.2', ['192.0.2.10']), {
    ok: true,
    host: '10.0.0.2',
    port: 81,
  });
});

test('peer target: a frontend bound to the VIP only is refused with a message naming bind and peer', () => {
  const r = peerTarget([bind('192.0.2.10', 80)], '10.0.0.2', ['192.0.2.10']);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /VIP only \(192\.0\.2\.10:80\).*10\.0\.0\.2.*bind 0\.0\.0\.0/);
});
