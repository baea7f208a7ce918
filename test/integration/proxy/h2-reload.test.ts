// A reload that takes an HTTP/2 frontend's listener away (its binds moved) sends GOAWAY
// (NO_ERROR) to the HTTP/2 connections it served; a stream open on one finishes, and the new
// listener serves HTTP/2. A reload that keeps the binds leaves HTTP/2 connections alone, as it
// does HTTP/1.1 keep-alive ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, type HalbProcess } from '../../helpers/halb-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-h2-reload-'));
let halb: HalbProcess | undefined;
let backend: http.Server;
let bport = 0;
let file = '';

function configText(port: number, maxStreams: number): string {
  return `global: { workers: 1, log: { access: false } }
frontends:
  web:
    bind: ["127.0.0.1:${port}"]
    mode: http
    default_backend: app
    h2c: true
    h2: { max_concurrent_streams: ${maxStreams} }
backends:
  app: { servers: [ { name: a, address: "127.0.0.1:${bport}" } ] }
`;
}

before(async () => {
  backend = http.createServer((req, res) => setTimeout(() => res.end(`ok ${req.url}\n`), req.url === '/slow' ? 700 : 0));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  bport = (backend.address() as { port: number }).port;
  file = join(dir, 'halb.yaml');
});

after(() => {
  halb?.kill('SIGKILL');
  backend?.closeAllConnections();
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path });
    let status = 0;
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: string) => (body += d));
    req.on('end', () => resolve({ status, body }));
    req.on('error', reject);
  });
}

test('reload: kept binds keep the HTTP/2 connection (new limits for new ones); moved binds send it GOAWAY NO_ERROR, its open stream finishes, the new listener serves', async () => {
  const [portA, portB] = [await freePort(), await freePort()];
  halb = await runHalbWith(file, configText(portA, 100));
  const session = http2.connect(`http://127.0.0.1:${portA}`);
  session.on('error', () => undefined);
  let goawayCode: number | undefined;
  session.on('goaway', (code: number) => (goawayCode = code));
  assert.equal((await get(session, '/one')).status, 200);

  // the same bind, another limit: applied in place
  writeFileSync(file, configText(portA, 50));
  halb.child.kill('SIGHUP');
  await halb.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('(generation 1)'));
  assert.equal((await get(session, '/two')).status, 200, 'the connection kept serving');
  assert.equal(goawayCode, undefined, 'no GOAWAY for a reload in place');
  const fresh = http2.connect(`http://127.0.0.1:${portA}`);
  fresh.on('error', () => undefined);
  const settings = await new Promise<http2.Settings>((resolve) => fresh.once('remoteSettings', resolve));
  assert.equal(settings.maxConcurrentStreams, 50, 'a new connection gets the new limit');
  fresh.close();

  // the bind moves: the old listener's connections are told to go away
  const slow = get(session, '/slow');
  await new Promise((r) => setTimeout(r, 150));
  writeFileSync(file, configText(portB, 50));
  halb.child.kill('SIGHUP');
  await halb.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('(generation 2)'));
  const deadline = Date.now() + 3000;
  while (goawayCode === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(goawayCode, http2.constants.NGHTTP2_NO_ERROR);
  assert.deepEqual(await slow, { status: 200, body: 'ok /slow\n' }, 'the open stream finished');
  session.destroy();
  const moved = http2.connect(`http://127.0.0.1:${portB}`);
  moved.on('error', () => undefined);
  try {
    assert.equal((await get(moved, '/three')).status, 200);
  } finally {
    moved.close();
  }
});
