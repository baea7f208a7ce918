// Notify hooks run as real processes: order, no overlap, keepalived's arguments, timeout kill.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HookRunner } from '../../../src/vip/exec-hooks.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { NotifyConfig } from '../../../src/config/types.ts';

let dir: string;
let script: string;
let log: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'halb-hooks-'));
  log = join(dir, 'log');
  script = join(dir, 'hook.sh');
  // Records start/end with its arguments; fails if another hook is running (lock file).
  await writeFile(
    script,
    `#!/bin/sh
lock="${dir}/lock"
if [ -e "$lock" ]; then echo "OVERLAP $*" >> "${log}"; fi
touch "$lock"
echo "start $*" >> "${log}"
sleep "\${HOOK_SLEEP:-0.05}"
echo "end $*" >> "${log}"
rm -f "$lock"
echo "out $1"
exit "\${HOOK_EXIT:-0}"
`,
  );
  await chmod(script, 0o755);
});
after(() => rm(dir, { recursive: true, force: true }));

function runner(notify: Partial<NotifyConfig>, env: NodeJS.ProcessEnv = {}): HookRunner {
  return new HookRunner({
    instance: 'VI_1',
    notify: { timeout: 5_000, ...notify },
    log: silentLogger(),
    env: { PATH: process.env.PATH, ...env },
    killGraceMs: 200,
  });
}

/** Gone, or a zombie waiting for whoever reaps orphans here (PID 1 in a container may not). */
async function deadOrZombie(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat === '' || / Z /.test(stat.slice(stat.lastIndexOf(')')))) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

async function lines(): Promise<string[]> {
  const t = await readFile(log, 'utf8').catch(() => '');
  await writeFile(log, '');
  return t.split('\n').filter(Boolean);
}

describe('HookRunner', () => {
  it('passes keepalived arguments: none for notify_<state>, INSTANCE name STATE priority for notify', async () => {
    const r = runner({ master: `${script} "from master"`, any: script });
    const res = await r.transition('MASTER', 200);
    assert.deepEqual(res.map((x) => x.argv.slice(1)), [['from master'], ['INSTANCE', 'VI_1', 'MASTER', '200']]);
    assert.deepEqual(res.map((x) => x.exitCode), [0, 0]);
    assert.equal(res[0]!.output, 'out from master\n');
    assert.deepEqual(await lines(), ['start from master', 'end from master', 'start INSTANCE VI_1 MASTER 200', 'end INSTANCE VI_1 MASTER 200']);
  });

  it('runs queued hooks one at a time, in order', async () => {
    const r = runner({ master: `${script} m`, backup: `${script} b`, fault: `${script} f`, stop: `${script} s`, any: script });
    const all = await Promise.all([r.transition('BACKUP', 100), r.transition('MASTER', 200), r.transition('FAULT', 0), r.transition('BACKUP', 100), r.transition('STOP', 100)]);
    assert.equal(all.flat().length, 10);
    const got = await lines();
    assert.ok(!got.some((l) => l.startsWith('OVERLAP')), got.join('\n'));
    assert.deepEqual(
      got.filter((l) => l.startsWith('start')),
      ['b', 'INSTANCE VI_1 BACKUP 100', 'm', 'INSTANCE VI_1 MASTER 200', 'f', 'INSTANCE VI_1 FAULT 0', 'b', 'INSTANCE VI_1 BACKUP 100', 's', 'INSTANCE VI_1 STOP 100'].map((a) => `start ${a}`),
    );
    assert.equal(r.queued, 0);
  });

  it('kills a hook that outlives its timeout, including what it started, and the queue moves on', async () => {
    const pidFile = join(dir, 'child.pid');
    const r = runner({ master: `sh -c "sleep 30 & echo $! > ${pidFile}; wait"`, backup: `${script} after`, timeout: 300 });
    const slow = r.run('master', 'MASTER', 1);
    const next = r.run('backup', 'BACKUP', 1);
    const res = (await slow)!;
    assert.equal(res.timedOut, true);
    assert.equal(res.exitCode, null);
    assert.ok(res.signal === 'SIGTERM' || res.signal === 'SIGKILL');
    const childPid = Number(await readFile(pidFile, 'utf8'));
    assert.equal(await deadOrZombie(childPid), true, 'the grandchild was killed too');
    assert.equal((await next)!.exitCode, 0);
    await lines();
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const r = runner({ fault: `sh -c "trap '' TERM; sleep 10"`, timeout: 100 });
    const res = (await r.run('fault', 'FAULT', 1))!;
    assert.equal(res.timedOut, true);
    assert.equal(res.signal, 'SIGKILL');
    assert.ok(res.durationMs < 5000);
  });

  it('reports exit codes, bounded output, and hooks that cannot start', async () => {
    const r = runner({ master: script, backup: '/nonexistent/hook.sh', fault: `sh -c "yes x | head -c 100000"`, stop: `/x "unterminated` }, { HOOK_EXIT: '3', HOOK_SLEEP: '0' });
    assert.equal((await r.run('master', 'MASTER', 1))!.exitCode, 3);
    const missing = (await r.run('backup', 'BACKUP', 1))!;
    assert.match(missing.error ?? '', /ENOENT/);
    const big = (await r.run('fault', 'FAULT', 1))!;
    assert.equal(big.output.length, 4096);
    assert.equal(big.truncated, true);
    const bad = (await r.run('stop', 'STOP', 1))!;
    assert.match(bad.error ?? '', /unterminated/);
    assert.equal(await r.run('any', 'STOP', 1), undefined);
    await lines();
  });
});

describe('a hook that starts a daemon', () => {
  it('finishes when the script exits, although the daemon keeps its output pipes open', async () => {
    const daemonScript = join(dir, 'starts-daemon.sh');
    const pidFile = join(dir, 'daemon.pid');
    await writeFile(daemonScript, `#!/bin/sh\nsleep 20 &\necho $! > "${pidFile}"\necho started\nexit 0\n`);
    await chmod(daemonScript, 0o755);
    const r = runner({ master: daemonScript });
    const t0 = Date.now();
    const result = await r.run('master', 'MASTER', 100);
    const took = Date.now() - t0;
    const daemon = Number((await readFile(pidFile, 'utf8')).trim());
    try {
      assert.equal(result?.exitCode, 0);
      assert.equal(result?.timedOut, false);
      assert.match(result?.output ?? '', /started/);
      assert.ok(took < 3000, `the hook queue waited ${took} ms for the daemon`);
      // keepalived leaves what a notify script started running: it is not a timeout to clean up
      const stat = await readFile(`/proc/${daemon}/stat`, 'utf8').catch(() => '');
      assert.ok(stat !== '' && !/ Z /.test(stat.slice(stat.lastIndexOf(')'))), 'the daemon still runs');
    } finally {
      try {
        process.kill(daemon, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
