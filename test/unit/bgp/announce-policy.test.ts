// When a VIP is announced: only while its frontends listen and its backends have a server up;
// never while stopping on purpose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announceChanges, decideAnnounce } from '../../../src/bgp/announce-policy.ts';
import type { BgpAnnounceConfig } from '../../../src/config/types.ts';

const vip = (address: string, trackFrontends = ['web'], trackBackends = ['pool']): BgpAnnounceConfig => ({ address, prefixLength: 32, family: 4, communities: [], trackFrontends, trackBackends });
const signals = (listening: string[], usable: string[], stopping = false) => ({ listening: new Set(listening), usable: new Set(usable), stopping });

test('announced while serving; withdrawn with the reason when a frontend, a backend or the node goes', () => {
  assert.deepEqual(decideAnnounce(vip('203.0.113.10'), signals(['web'], ['pool'])), { announce: true, reason: 'serving: web -> pool' });
  assert.deepEqual(decideAnnounce(vip('203.0.113.10'), signals([], ['pool'])), { announce: false, reason: 'frontend web not listening' });
  assert.deepEqual(decideAnnounce(vip('203.0.113.10'), signals(['web'], [])), { announce: false, reason: 'backend pool has no server up' });
  assert.deepEqual(decideAnnounce(vip('203.0.113.10'), signals(['web'], ['pool'], true)), { announce: false, reason: 'planned stop: withdrawn, draining' });
  assert.deepEqual(decideAnnounce(vip('203.0.113.10', [], []), signals(['web'], ['pool'])), { announce: false, reason: 'no frontend serves this address' });
  assert.deepEqual(decideAnnounce(vip('203.0.113.10', ['web'], []), signals(['web'], [])), { announce: true, reason: 'serving: web' });
});

test('changes: only what differs from what the daemon announces now', () => {
  const a = vip('203.0.113.10');
  const b = vip('203.0.113.11', ['web'], ['other']);
  const c = announceChanges([a, b], new Set(['203.0.113.11']), signals(['web'], ['pool']));
  assert.deepEqual(c.announce.map((p) => p.address), ['203.0.113.10']);
  assert.deepEqual(c.withdraw.map((p) => p.address), ['203.0.113.11']);
  assert.equal(c.reasons.get('203.0.113.11'), 'backend other has no server up');
  const steady = announceChanges([a], new Set(['203.0.113.10']), signals(['web'], ['pool']));
  assert.deepEqual([steady.announce.length, steady.withdraw.length], [0, 0]);
});
