import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTimeline, formatTimeline, type ClientRecord } from '../../../src/lab/timeline.ts';

const ok = (t: number, by: string): ClientRecord => ({ t, ok: true, by });
const fail = (t: number, err: string): ClientRecord => ({ t, ok: false, err });

test('a kill: the VIP moves to the node serving at the end of the window, failures counted until the next event', () => {
  const records = [ok(100, 'lb1'), ok(150, 'lb1'), fail(1000, 'ECONNREFUSED'), fail(1050, 'ECONNREFUSED'), ok(1300, 'lb2'), ok(1350, 'lb2'), ok(2100, 'lb2')];
  const rows = buildTimeline(0, [{ t: 50, what: 'up' }, { t: 990, what: 'fail master' }, { t: 2000, what: 'heal' }], records);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[1], { at: 990, what: 'fail master', from: 'lb1', to: 'lb2', movedAfterMs: 310, requests: 4, failed: 2, errors: { ECONNREFUSED: 2 } });
  assert.equal(rows[2]!.to, undefined, 'heal did not move the VIP');
  assert.equal(rows[2]!.from, 'lb2');
  assert.match(formatTimeline(rows), /\| 1\.0 \| fail master \| lb1 -> lb2 \| 310 ms \| 4 \| 2 \(ECONNREFUSED 2\) \|/);
});

test('a brief answer from the old node after the move does not hide it; out-of-order records are sorted', () => {
  const records = [ok(1400, 'lb2'), ok(100, 'lb1'), ok(1100, 'lb2'), ok(1200, 'lb1'), ok(1500, 'lb2')];
  const [row] = buildTimeline(0, [{ t: 1000, what: 'handover' }], records);
  assert.equal(row!.from, 'lb1');
  assert.equal(row!.to, 'lb2');
  assert.equal(row!.movedAfterMs, 100);
  assert.equal(row!.failed, 0);
});
