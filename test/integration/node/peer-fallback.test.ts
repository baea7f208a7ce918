// Issue 12 point 2 on loopback: two real `halb run` processes, each the other's peer
// (peer_fallback_address). A node whose own pool is down forwards to the peer, marked; the peer
// never forwards a marked request, so with both pools down a request gets one hop and a 503.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHalb, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { refusedPort } from '../../helpers/refused-port.ts';

let refusedAt = 0;

const dir = mkdtempSync(join(tmpdir(), 'halb-peerfwd-'));
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

interface Web {
  port: number;
  marks: (string | undefined)[];
}

async function web(): Promise<Web> {
  const w: Web = { port: 0, marks: [] };
  const s = http.createServer((req, res) => {
    const m = req.headers['x-halb-peer'];
    w.marks.push(typeof m === 'string' ? m : undefined);
    res.end('ok');
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  w.port = (s.address() as { port: number }).port;
  return w;
}

// `up: false` disables the one server: the pool has no usable server, with no timing involved.
// `refused`: the server stays up (no health check) but its port refuses every connect.
function config(own: string, peer: string, port: number, w: Web, up: boolean | 'refused'): string {
  const server = up === 'refused' ? `127.0.0.1:${refusedAt}` : `127.0.0.1:${w.port}, disabled: ${!up}`;
  return `global:
  workers: 1
  log: { access: true }
frontends:
  web:
    bind: ["${own}:${port}"]
    mode: http
    default_backend: pool
backends:
  pool:
    peer_fallback: true
    peer_fallback_address: ${peer}
    servers:
      - { name: s1, address: ${server} }
`;
}

async function pair(upA: boolean | 'refused', upB: boolean, tag: string): Promise<{ a: HalbProcess; b: HalbProcess; port: number; wa: Web; wb: Web }> {
  const port = await freePort('127.0.0.2');
  const [wa, wb] = [await web(), await web()];
  const fa = join(dir, `${tag}-a.yaml`);
  const fb = join(dir, `${tag}-b.yaml`);
  writeFileSync(fa, config('127.0.0.2', '127.0.0.3', port, wa, upA));
  writeFileSync(fb, config('127.0.0.3', '127.0.0.2', port, wb, upB));
  const a = startHalb(['run', '-c', fa]);
  const b = startHalb(['run', '-c', fb]);
  started.push(a, b);
  await Promise.all([a.waitFor((l) => l.msg === 'halb node started'), b.waitFor((l) => l.msg === 'halb node started')]);
  return { a, b, port, wa, wb };
}

function get(host: string, port: number, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

const accessLines = (h: HalbProcess): number => h.lines.filter((l) => l.type === 'access').length;

async function settle(h: HalbProcess[], n: number[]): Promise<void> {
  // access lines are written when each exchange ends; wait for the counts we expect (or more)
  for (let i = 0; i < 50 && h.some((x, k) => accessLines(x) < n[k]!); i++) await new Promise((r) => setTimeout(r, 20));
}

test('both pools down: 503 after one hop, each node sees the request once (no loop)', { timeout: 30_000 }, async () => {
  const { a, b, port, wa, wb } = await pair(false, false, 'down');
  for (let i = 0; i < 5; i++) assert.equal(await get('127.0.0.2', port), 503);
  await settle([a, b], [5, 5]);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(accessLines(a), 5, 'node A: one access line per client request');
  assert.equal(accessLines(b), 5, 'node B: each forwarded request once, none sent back');
  assert.equal(wa.marks.length + wb.marks.length, 0);
  a.kill('SIGKILL');
  b.kill('SIGKILL');
});

test('own pool down, peer up: 200 through the peer, with the mark at the web server', { timeout: 30_000 }, async () => {
  const { a, b, port, wa, wb } = await pair(false, true, 'half');
  for (let i = 0; i < 5; i++) assert.equal(await get('127.0.0.2', port), 200);
  assert.equal(wa.marks.length, 0);
  assert.equal(wb.marks.length, 5);
  for (const m of wb.marks) assert.ok(m !== undefined && m.length > 0, 'forwarded request carries X-Halb-Peer');
  // B's own clients go straight to its server, unmarked
  assert.equal(await get('127.0.0.3', port), 200);
  assert.equal(wb.marks.at(-1), undefined);
  a.kill('SIGKILL');
  b.kill('SIGKILL');
});

test('a request that already carries the mark is never forwarded: 503 from the node with no server', { timeout: 30_000 }, async () => {
  const { a, b, port, wb } = await pair(false, true, 'marked');
  assert.equal(await get('127.0.0.2', port, { 'x-halb-peer': 'someone' }), 503);
  assert.equal(wb.marks.length, 0);
  a.kill('SIGKILL');
  b.kill('SIGKILL');
});

test('own server up by health but refusing: after the retries the request goes to the peer', { timeout: 30_000 }, async () => {
  refusedAt = await refusedPort();
  const { a, b, port, wb } = await pair('refused', true, 'refused');
  for (let i = 0; i < 3; i++) assert.equal(await get('127.0.0.2', port), 200);
  assert.equal(wb.marks.length, 3);
  a.kill('SIGKILL');
  b.kill('SIGKILL');
});
