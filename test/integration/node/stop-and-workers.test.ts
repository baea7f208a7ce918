// Issue 3: SIGTERM under load fails no in-flight request; with workers, health is decided once
// and every worker stops sending to a dead server within one check interval.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHalb, freePort, type HalbProcess } from '../../helpers/halb-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-stop-'));
const started: HalbProcess[] = [];
const servers: http.Server[] = [];
after(() => {
  for (const h of started) h.kill('SIGKILL');
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

async function slowBackend(name: string, delayMs: number): Promise<number> {
  const s = http.createServer((req, res) => {
    req.resume();
    setTimeout(() => res.end(name), delayMs);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

function get(port: number, agent: http.Agent | false = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** A node with 2 workers, once both listen. */
async function startTwoWorkers(file: string): Promise<HalbProcess> {
  const halb = startHalb(['run', '-c', file]);
  started.push(halb);
  await halb.waitFor((l) => l.msg === 'halb node started');
  // each worker logs through its own pipe: its 'listening' line may come after the master's
  const workerPids = new Set<unknown>();
  await halb.waitFor((l) => {
    if (l.msg === 'listening') workerPids.add(l.pid);
    return workerPids.size === 2;
  }, 5000);
  return halb;
}

function config(listen: number, ports: number[], workers: number, extra = ''): string {
  return `global:
  workers: ${workers}
  grace: 5s
frontends:
  web: { bind: ["127.0.0.1:${listen}"], mode: http, default_backend: pool }
backends:
  pool:
    balance: roundrobin
${extra}    servers:
${ports.map((p, i) => `      - { name: s${i + 1}, address: 127.0.0.1:${p} }`).join('\n')}
`;
}

for (const workers of [1, 2]) {
  test(`SIGTERM with ${workers} worker(s): every in-flight request completes, then exit 0`, { timeout: 30_000 }, async () => {
    const ports = [await slowBackend('a', 700), await slowBackend('b', 700)];
    const listen = await freePort();
    const file = join(dir, `stop-${workers}.yaml`);
    writeFileSync(file, config(listen, ports, workers));
    const halb = startHalb(['run', '-c', file]);
    started.push(halb);
    await halb.waitFor((l) => l.msg === 'halb node started');

    const inflight = Array.from({ length: 20 }, () => get(listen).then((r) => r, (e: Error) => ({ status: -1, body: e.message })));
    await new Promise((r) => setTimeout(r, 200));
    halb.kill('SIGTERM');
    const results = await Promise.all(inflight);
    const failed = results.filter((r) => r.status !== 200);
    assert.deepEqual(failed, [], `${failed.length} of 20 in-flight requests failed`);
    const { code } = await halb.exited;
    assert.equal(code, 0);
    await assert.rejects(get(listen), /ECONNREFUSED/);
  });
}

test('2 workers share health: a dead server is avoided by every worker within one check interval', { timeout: 40_000 }, async () => {
  const live = await slowBackend('live', 0);
  const doomed = http.createServer((req, res) => {
    req.resume();
    res.end('doomed');
  });
  await new Promise<void>((r) => doomed.listen(0, '127.0.0.1', r));
  const doomedPort = (doomed.address() as { port: number }).port;
  const listen = await freePort();
  const file = join(dir, 'workers-health.yaml');
  writeFileSync(file, config(listen, [live, doomedPort], 2, '    health: { tcp: true, interval: 500ms, rise: 2, fall: 2 }\n'));
  const halb = await startTwoWorkers(file);

  doomed.closeAllConnections();
  await new Promise<void>((r) => doomed.close(() => r()));
  // fall (2) x interval (0.5 s) plus one interval for the news to reach the workers
  await halb.waitFor((l) => l.server === 's2' && l.up === false, 5000);
  await new Promise((r) => setTimeout(r, 500));
  const mark = halb.lines.length;
  for (let i = 0; i < 60; i++) assert.equal((await get(listen)).body, 'live');
  await new Promise((r) => setTimeout(r, 300));
  const access = halb.lines.slice(mark).filter((l) => l.type === 'access');
  const pidsServing = new Set(access.map((l) => l.pid));
  assert.equal(pidsServing.size, 2, 'both workers served requests');
  const tried = access.filter((l) => l.server === 's2' || (l.retries as number) > 0);
  assert.deepEqual(tried, [], 'no worker tried the dead server after the check interval');
  halb.kill('SIGTERM');
  await halb.exited;
});

test('2 workers take new connections in turn, not by a hash of the addresses', { timeout: 30_000, skip: process.getuid?.() !== 0 && 'loading eBPF needs root' }, async () => {
  const port = await slowBackend('only', 0);
  const listen = await freePort();
  const file = join(dir, 'workers-spread.yaml');
  writeFileSync(file, config(listen, [port], 2));
  const halb = await startTwoWorkers(file);
  const mark = halb.lines.length;
  // a new connection per request (no agent): the kernel's hash would split 40 unevenly most times
  for (let i = 0; i < 40; i++) assert.equal((await get(listen)).body, 'only');
  await new Promise((r) => setTimeout(r, 300));
  const perWorker = new Map<unknown, number>();
  for (const l of halb.lines.slice(mark)) if (l.type === 'access') perWorker.set(l.pid, (perWorker.get(l.pid) ?? 0) + 1);
  assert.deepEqual([...perWorker.values()], [20, 20]);
  assert.equal(
    halb.lines.find((l) => typeof l.msg === 'string' && l.msg.includes("kernel's hash")),
    undefined,
  );
  halb.kill('SIGTERM');
  await halb.exited;
});
