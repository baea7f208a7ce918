// The pure peer table behind the dashboard's pair view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerTable } from '../../../src/vrrp/peer-table.ts';
import { transitionReason } from '../../../src/vrrp/transition-reason.ts';

test('PeerTable: latest advert per peer, sorted by address, state inferred from priority and silence', () => {
  const t = new PeerTable();
  t.observe('10.0.0.3', 90, 1000, 0);
  t.observe('10.0.0.2', 150, 1000, 100);
  t.observe('10.0.0.2', 0, 1000, 1100);
  const v = t.view(1200);
  assert.deepEqual(v.map((p) => [p.address, p.priority, p.adverts, p.lastAdvertAgoMs, p.state]), [
    ['10.0.0.2', 0, 2, 100, 'stepping-down'],
    ['10.0.0.3', 90, 1, 1200, 'master'],
  ]);
  // 3.5 intervals without an advert: silent (its own interval counts, not ours).
  assert.equal(t.view(3500).find((p) => p.address === '10.0.0.3')!.state, 'master');
  assert.equal(t.view(3501).find((p) => p.address === '10.0.0.3')!.state, 'silent');
  t.observe('10.0.0.3', 90, 100, 4000);
  assert.equal(t.view(4351).find((p) => p.address === '10.0.0.3')!.state, 'silent');
});

test('PeerTable is bounded: a new peer past the limit replaces the one heard least recently', () => {
  const t = new PeerTable(2);
  t.observe('10.0.0.1', 100, 1000, 0);
  t.observe('10.0.0.2', 100, 1000, 10);
  t.observe('10.0.0.1', 100, 1000, 20);
  t.observe('10.0.0.3', 100, 1000, 30);
  assert.deepEqual(t.view(30).map((p) => p.address), ['10.0.0.1', '10.0.0.3']);
});

test('transitionReason names why an instance moved', () => {
  const base = { priority: 100 } as const;
  assert.equal(transitionReason('VI', { ...base, from: 'backup', to: 'master', action: 'become-master' }, []), 'VI: backup -> master (priority 100): no advert from a master within Master_Down_Interval');
  assert.equal(transitionReason('VI', { ...base, from: 'backup', to: 'master', action: 'become-master', handoffFrom: '10.0.0.2' }, []), 'VI: backup -> master (priority 100): took over from 10.0.0.2');
  assert.equal(transitionReason('VI', { ...base, from: 'master', to: 'backup', action: 'become-backup', master: '10.0.0.2' }, []), 'VI: master -> backup (priority 100): heard master 10.0.0.2');
  assert.equal(transitionReason('VI', { ...base, from: 'initialize', to: 'backup', action: 'become-backup' }, []), 'VI: initialize -> backup (priority 100): start as backup');
  assert.equal(transitionReason('VI', { ...base, from: 'master', to: 'fault', action: 'enter-fault' }, ['interface eth0']), 'VI: master -> fault (priority 100): fault: interface eth0');
  assert.equal(transitionReason('VI', { ...base, from: 'master', to: 'master-handing-over', action: 'keep-serving' }, []), 'VI: master -> master-handing-over (priority 100): handing over, serving until the new master is heard');
});
