// kill -9 of the master lb1 while the client runs, repeated: how long until lb2 serves, what the
// client saw. Shared by the advert 1 s and 0.1 s test files (each file stays well under 60 s).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { eventually, median } from '../vrrp/vrrp-node-client.ts';
import { SeedLab, switchover } from './seed-lab.ts';
import { ResultsTable } from './results-table.ts';

export interface KillTrial {
  /** kill -> lb2 logged MASTER. */
  takeoverMs: number;
  /** kill -> start of the first request served via lb2. */
  servedMs: number;
  /** First success via lb2 - last success via lb1 (request start times). */
  gapMs: number;
  failed: number;
}

export async function killTrials(seed: SeedLab, advertInt: string, advertMs: number, trials: number): Promise<KillTrial[]> {
  const out: KillTrial[] = [];
  const lb2 = await seed.startLb('lb2', { priority: 100, advertInt });
  for (let i = 0; i < trials; i++) {
    const since = lb2.events.length;
    const lb1 = await seed.startLb('lb1', { priority: 101, advertInt, state: 'MASTER' });
    await lb1.waitState('master', 2 * masterDownInterval(3, 101, advertMs) + 3000, 0);
    if (lb2.state === 'master') await lb2.waitState('backup', 2 * advertMs + 2000, since);
    await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3000, 'VIP on lb1 only');
    const client = seed.startClient({ durationMs: 20_000 });
    await client.servedBy('lb1', 10, 5000);
    // Kill at a random phase of the advert cycle.
    await new Promise((r) => setTimeout(r, advertMs + Math.random() * advertMs));
    const mark = lb2.events.length;
    const t0 = Date.now();
    await lb1.kill9();
    const e = await lb2.waitState('master', 2 * masterDownInterval(3, 100, advertMs) + 2000, mark);
    await client.servedBy('lb2', 10, 5000);
    const s = switchover(await client.stop(), 'lb1', 'lb2');
    assert.ok(s.firstTo !== undefined && s.gap !== undefined, 'served via lb1 then lb2');
    out.push({ takeoverMs: e.t - t0, servedMs: s.firstTo - t0, gapMs: s.gap, failed: s.failed });
    // HALB_KILL_DEBUG=1: lb2's log lines around the takeover, in ms after the kill.
    if (process.env.HALB_KILL_DEBUG) {
      for (const line of [...lb1.stderr.split('\n').map((l) => `lb1 ${l}`), ...lb2.stderr.split('\n').map((l) => `lb2 ${l}`)]) {
        const m = /"time":"([^"]+)".*"msg":"([^"]*)"/.exec(line);
        const at = m ? Date.parse(m[1]!) : NaN;
        if (at >= t0 - 50 && at <= s.firstTo + 50) console.log(`#   ${line.slice(0, 3)} +${at - t0} ms ${m![2]}`);
      }
    }
  }
  await seed.reset();
  return out;
}

/**
 * One test file's whole suite: its own seed lab, 3 kill trials at `advertInt`, the median time
 * until lb2 serves within `boundMs` and every trial within twice that, the median count of failed
 * requests within `maxFailed` when given, and the results table.
 */
export function killFailoverSuite(advertInt: string, advertMs: number, boundMs: number, boundText: string, maxFailed?: number): void {
  let seed: SeedLab;
  const table = new ResultsTable();
  before(async () => {
    seed = await SeedLab.create();
  });
  after(async () => {
    table.print('kill -9 failover, full halb nodes');
    await seed?.destroy();
  });
  test(`kill -9 of lb1 at advert ${advertInt}: lb2 serves within ${boundText}`, async () => {
    try {
      const trials = await killTrials(seed, advertInt, advertMs, 3);
      console.log(`# kill -9 at advert ${advertInt}: ${JSON.stringify(trials)}; Master_Down_Interval ${masterDownInterval(3, 100, advertMs).toFixed(0)} ms`);
      table.add({
        scenario: 'kill -9 lb1: lb1 -> lb2',
        advert: advertInt,
        gapsMs: trials.map((t) => t.gapMs),
        servedMs: trials.map((t) => t.servedMs),
        failed: trials.map((t) => t.failed),
        keepalived: 'same bound (Master_Down_Interval)',
      });
      const served = median(trials.map((t) => t.servedMs));
      assert.ok(served <= boundMs, `median kill -> lb2 serves ${served} ms <= ${boundMs.toFixed(0)} ms`);
      for (const t of trials) assert.ok(t.servedMs <= 2 * boundMs, `kill -> lb2 serves ${t.servedMs} ms <= 2 x ${boundMs.toFixed(0)} ms`);
      if (maxFailed !== undefined) {
        const failed = median(trials.map((t) => t.failed));
        assert.ok(failed <= maxFailed, `median failed requests ${failed} <= ${maxFailed}`);
      }
    } finally {
      await seed.reset();
    }
  });
}
