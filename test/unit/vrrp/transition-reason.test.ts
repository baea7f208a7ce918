// The transition label (halb_vrrp_transitions_total{reason}) agrees with the timeline's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transitionCause, transitionReason } from '../../../src/vrrp/transition-reason.ts';
import type { StateChange } from '../../../src/vrrp/router.ts';

const cases: [StateChange, string, RegExp][] = [
  [{ from: 'backup', to: 'master', action: 'become-master', priority: 100, handoffFrom: '10.0.0.2' }, 'takeover', /took over from 10.0.0.2/],
  [{ from: 'initialize', to: 'master', action: 'become-master', priority: 255 }, 'address-owner', /address owner/],
  [{ from: 'backup', to: 'master', action: 'become-master', priority: 100 }, 'master-down', /Master_Down_Interval/],
  [{ from: 'initialize', to: 'backup', action: 'become-backup', priority: 100 }, 'start', /start as backup/],
  [{ from: 'master', to: 'backup', action: 'become-backup', priority: 100, master: '10.0.0.2' }, 'heard-master', /heard master 10.0.0.2/],
  [{ from: 'master', to: 'backup', action: 'become-backup', priority: 100 }, 'stepped-down', /stepped down/],
  [{ from: 'backup', to: 'fault', action: 'enter-fault', priority: 100 }, 'fault', /fault: backend web/],
  [{ from: 'master', to: 'initialize', action: 'stop', priority: 100 }, 'stop', /stopped/],
  [{ from: 'master', to: 'backup', action: 'keep-serving', priority: 0 }, 'handover', /handing over/],
];

test('each kind of state change has its own label and its own words', () => {
  for (const [change, label, words] of cases) {
    assert.equal(transitionCause(change), label, JSON.stringify(change));
    assert.match(transitionReason('VI', change, ['backend web']), words);
  }
  assert.equal(new Set(cases.map((c) => c[1])).size, cases.length);
});
