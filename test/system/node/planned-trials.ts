// Planned moves of the VIP with the client running: SIGTERM of the master, `halb handover`,
// and a returning higher-priority node preempting. Each returns what the client saw.

import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { eventually, type VrrpNode } from '../vrrp/vrrp-node-client.ts';
import { before, after } from 'node:test';
import { SeedLab, switchover, type Switchover } from './seed-lab.ts';
import { ResultsTable } from './results-table.ts';

export interface PlannedTrial extends Switchover {
  /** Action -> first request served via the new master. */
  servedMs?: number;
  /** Failed requests: start relative to the action (ms), and why. */
  failures: { at: number; err?: string; by?: string }[];
}

/** lb1 (101) master and serving, lb2 (100) backup: start whichever is missing and wait. */
export async function lb1Serving(seed: SeedLab, advertInt: string, advertMs: number, lb2?: VrrpNode): Promise<{ lb1: VrrpNode; lb2: VrrpNode }> {
  lb2 ??= await seed.startLb('lb2', { priority: 100, advertInt });
  const lb1 = await seed.startLb('lb1', { priority: 101, advertInt, state: 'MASTER' });
  await lb1.waitState('master', 2 * masterDownInterval(3, 101, advertMs) + 3000, 0);
  await eventually(async () => (await seed.vipHolders()).join() === 'lb1', 3000, 'VIP on lb1 only');
  await eventually(() => lb2.state === 'backup', 3000, 'lb2 backup');
  return { lb1, lb2 };
}

/** Run the client across `action`, which moves the VIP from `from` to `to`. */
export async function across(seed: SeedLab, from: string, to: string, action: () => Promise<unknown>, waitMs: number): Promise<PlannedTrial> {
  const client = seed.startClient({ durationMs: 30_000 });
  await client.servedBy(from, 10, 5000);
  const t0 = Date.now();
  await action();
  await client.servedBy(to, 10, waitMs);
  const records = await client.stop();
  const failures = records.filter((r) => !r.ok).map((r) => ({ at: r.t - t0, err: r.err, by: r.by }));
  const s: PlannedTrial = { ...switchover(records, from, to), failures };
  if (s.firstTo !== undefined) s.servedMs = s.firstTo - t0;
  return s;
}

/** What a planned-move test file shares: its advert interval, its seed lab, its results table. */
export interface PlannedSuite {
  /** HALB_TEST_ADVERT, else the file's default ("100ms", "1s"). */
  advert: string;
  advertMs: number;
  /** The lab (created before the file's tests, destroyed after). */
  seed(): SeedLab;
  /** Prints one scenario's trials and adds them to the table printed at the end. */
  report(scenario: string, trials: PlannedTrial[], keepalived?: string): void;
}

export function plannedSuite(defaultAdvert: string, tableTitle: string): PlannedSuite {
  const advert = process.env.HALB_TEST_ADVERT ?? defaultAdvert;
  const advertMs = advert.endsWith('ms') ? Number(advert.slice(0, -2)) : Number(advert.slice(0, -1)) * 1000;
  const table = new ResultsTable();
  let lab: SeedLab | undefined;
  before(async () => {
    lab = await SeedLab.create();
  });
  after(async () => {
    table.print(tableTitle);
    await lab?.destroy();
  });
  return {
    advert,
    advertMs,
    seed: () => lab!,
    report(scenario, trials, keepalived) {
      console.log(`# ${scenario} at advert ${advert}: ${JSON.stringify(trials.map((t) => ({ failed: t.failed, gap: t.gap, servedMs: t.servedMs, lastFrom: (t.lastFrom ?? 0) - (t.firstTo ?? 0), failures: t.failures })))}`);
      table.add({ scenario, advert, gapsMs: trials.map((t) => t.gap ?? NaN), servedMs: trials.map((t) => t.servedMs ?? NaN), failed: trials.map((t) => t.failed), ...(keepalived ? { keepalived } : {}) });
    },
  };
}
