// `halb lab` end to end, as a user runs it: start, fail master, heal, handover, stop; the
// timeline it prints; no namespace left. Then a lab killed with -9 (namespaces and processes
// left behind) is cleaned up by the next start.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HALB_MAIN, freePort } from '../../helpers/halb-process.ts';

const NAME = `lab${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'halb-lab-test-'));
const CONTROL = join(dir, 'control.sock');
const children = new Set<ChildProcess>();

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${NAME}-`));
}

after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const ns of namespaces()) {
    for (const pid of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
    execFileSync('ip', ['netns', 'del', ns]);
  }
  rmSync(dir, { recursive: true, force: true });
});

interface RunningLab {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

async function startLab(ports: [number, number]): Promise<RunningLab> {
  const child = spawn(process.execPath, [HALB_MAIN, 'lab', '--name', NAME, '--control', CONTROL, '--ports', ports.join(','), '--max-seconds', '150'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const end = Date.now() + 40_000;
  while (!out.includes('lab ready')) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`lab not ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, out: () => out, exited };
}

function lab(...args: string[]): string {
  return execFileSync(process.execPath, [HALB_MAIN, 'lab', ...args, '--control', CONTROL], { encoding: 'utf8', timeout: 15_000 });
}

/** Polls `halb lab timeline` until the row of `event` shows the VIP moved to `to`. */
async function movedTo(event: RegExp, to: string, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const row = lab('timeline').split('\n').filter((l) => event.test(l)).at(-1) ?? '';
    if (row.includes(`-> ${to} |`)) return row;
    if (Date.now() > end) throw new Error(`no move to ${to} after ${event}: ${row}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('halb lab: fail master, heal, handover, stop: the timeline shows each move, and nothing is left', async () => {
  const ports: [number, number] = [await freePort(), await freePort()];
  const l = await startLab(ports);
  assert.match(l.out(), new RegExp(`dashboards: lb1 http://127.0.0.1:${ports[0]}/dashboard  lb2 http://127.0.0.1:${ports[1]}/dashboard`));
  for (const p of ports) {
    const res = await fetch(`http://127.0.0.1:${p}/dashboard`);
    assert.equal(res.status, 200, 'each node\'s dashboard is served on its loopback port');
  }
  assert.ok(namespaces().length >= 7, 'lb1, lb2, web1-3, client and the bridge');

  assert.match(lab('fail', 'master'), /fail master: kill -9 of halb on lb1/);
  const killRow = await movedTo(/fail master/, 'lb2', 10_000);
  assert.match(lab('heal'), /heal: lb1 restarted/);
  await movedTo(/\| heal/, 'lb1', 20_000);
  // A preemption is a planned move too: lb2 keeps answering for a second while clients follow.
  await new Promise((r) => setTimeout(r, 2500));
  assert.match(lab('handover'), /handover from lb1/);
  const handoverRow = await movedTo(/handover/, 'lb2', 10_000);
  await new Promise((r) => setTimeout(r, 1500));
  assert.match(lab('stop'), /stopping/);
  assert.equal(await l.exited, 0);
  const out = l.out();
  console.log(out.slice(out.indexOf('timeline:')));
  assert.match(out, /\| fail master: kill -9 of halb on lb1 \| lb1 -> lb2 \| \d+ ms \|/);
  const failedOf = (row: string): number => Number(row.split('|')[6]!.trim().split(' ')[0]);
  assert.ok(failedOf(killRow) < 40, `kill -9: a bounded number of failed requests (${killRow})`);
  const finalHandover = out.split('\n').find((x) => x.includes('| handover from lb1 |'))!;
  assert.equal(failedOf(finalHandover), 0, `a planned handover fails no request: ${handoverRow}`);
  assert.match(out, /lab removed: no namespace left/);
  assert.deepEqual(namespaces(), []);
});

test('a lab killed with -9 leaves namespaces and processes; the next start removes them', async () => {
  const ports: [number, number] = [await freePort(), await freePort()];
  const first = await startLab(ports);
  first.child.kill('SIGKILL');
  await first.exited;
  const left = namespaces();
  assert.ok(left.length >= 7, 'the killed lab left its namespaces');
  const orphans = left.flatMap((ns) => execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean));
  assert.ok(orphans.length > 0, 'and processes inside them (halb nodes, web servers, client)');

  const second = await startLab(ports);
  assert.match(second.out(), new RegExp(`removed ${left.length} namespaces \\(and their processes\\) that an earlier lab left behind`));
  for (const pid of orphans) assert.throws(() => process.kill(Number(pid), 0), `orphan ${pid} was killed`);
  second.child.kill('SIGINT');
  assert.equal(await second.exited, 0);
  assert.match(second.out(), /timeline:/);
  assert.deepEqual(namespaces(), []);
});
