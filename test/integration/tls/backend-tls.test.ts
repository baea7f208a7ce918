// Backends over TLS (backend `tls:`) through a real `halb run` on loopback, to node https servers
// with certificates made by openssl at test time: requests served over TLS with SNI, a server
// whose certificate does not verify is failed over like a refused connect (the reason logged),
// and health checks (TLS handshake, HTTP over TLS) see what traffic sees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, HALB_MAIN, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-btls-'));
let ca: TestCa;
let otherCa: TestCa;
let halb: HalbProcess | undefined;
const servers: https.Server[] = [];
let port = 0;

interface Seen {
  server: string;
  sni: string | false | null;
  path: string;
  agent: string;
  /** The TLS session was resumed (an abbreviated handshake). */
  resumed: boolean;
}
const seen: Seen[] = [];
/** TLS connections each server accepted. */
const tlsConnections = new Map<string, number>();

async function httpsServer(name: string, pemFile: string, close = false): Promise<number> {
  const pem = readFileSync(pemFile, 'utf8');
  const s = https.createServer({ cert: pem, key: pem }, (req, res) => {
    const socket = req.socket as TLSSocket;
    seen.push({ server: name, sni: socket.servername, path: req.url ?? '', agent: String(req.headers['user-agent']), resumed: socket.isSessionReused() });
    // every answer ends its connection: each request to this server is a new TLS connection
    if (close) res.setHeader('connection', 'close');
    req.resume();
    req.on('end', () => res.end(`hello from ${name}`));
  });
  s.on('secureConnection', () => tlsConnections.set(name, (tlsConnections.get(name) ?? 0) + 1));
  // a WebSocket-shaped upgrade: 101, then the tunnel echoes, with the TLS session's SNI in the head
  s.on('upgrade', (req: http.IncomingMessage, socket: TLSSocket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Sni: ${String(socket.servername)}\r\nSec-WebSocket-Accept: x\r\n\r\n`);
    socket.pipe(socket);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

before(async () => {
  ca = makeCa(join(dir, 'ca'));
  otherCa = makeCa(join(dir, 'other-ca'));
  const good = makeLeaf(ca, 'srv', { names: ['srv.test'] });
  const wrongName = makeLeaf(ca, 'elsewhere', { names: ['elsewhere.test'] });
  const [goodPort, wrongNamePort, checkedPort, closingPort] = [
    await httpsServer('good', good),
    await httpsServer('wrong-name', wrongName),
    await httpsServer('checked', good),
    await httpsServer('closing', good, true),
  ];
  port = await freePort();
  const file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, `global: { workers: 1, log: { access: false, level: debug } }
frontends:
  web:
    bind: ["127.0.0.1:${port}"]
    mode: http
    rules:
      - { path_prefix: /failover, backend: failover }
      - { path_prefix: /wrongca, backend: wrongca }
      - { path_prefix: /checked, backend: checked }
      - { path_prefix: /closing, backend: closing }
    default_backend: good
backends:
  good:
    tls: { ca_file: ${ca.caFile}, sni: srv.test }
    servers: [ { name: g, address: "127.0.0.1:${goodPort}" } ]
  failover:
    tls: { ca_file: ${ca.caFile}, sni: srv.test }
    retries: 1
    servers:
      - { name: bad, address: "127.0.0.1:${wrongNamePort}" }
      - { name: ok, address: "127.0.0.1:${goodPort}" }
  wrongca:
    tls: { ca_file: ${otherCa.caFile}, sni: srv.test }
    health: { interval: 200ms, rise: 1, fall: 1 }
    servers: [ { name: w, address: "127.0.0.1:${goodPort}" } ]
  checked:
    tls: { ca_file: ${ca.caFile}, sni: srv.test }
    health: { http: { path: /health }, interval: 200ms, rise: 1, fall: 1 }
    servers: [ { name: c, address: "127.0.0.1:${checkedPort}" } ]
  closing:
    tls: { ca_file: ${ca.caFile}, sni: srv.test }
    servers: [ { name: z, address: "127.0.0.1:${closingPort}" } ]
`);
});

after(async () => {
  halb?.kill('SIGKILL');
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

test('a request goes to the server over TLS, with the configured SNI, and the pooled connection is reused', async () => {
  const before = seen.length;
  const handshakes = tlsConnections.get('good') ?? 0;
  for (let i = 0; i < 3; i++) assert.deepEqual(await get('/x'), { status: 200, body: 'hello from good' });
  assert.equal((tlsConnections.get('good') ?? 0) - handshakes, 1, 'one TLS connection for three requests');
  const mine = seen.slice(before).filter((s) => s.path === '/x');
  assert.equal(mine.length, 3);
  for (const s of mine) assert.equal(s.sni, 'srv.test');
});

test('a server whose certificate names another host is failed over, and the reason is logged', async () => {
  for (let i = 0; i < 4; i++) assert.deepEqual(await get('/failover'), { status: 200, body: 'hello from good' });
  const line = await halb!.waitFor((l) => l.msg === 'connect to server failed' && l.server === 'bad', 5000);
  assert.match(String(line.err), /srv\.test/);
  assert.ok(!seen.some((s) => s.server === 'wrong-name' && s.path === '/failover'), 'no request reached the wrong server');
});

test('a server not signed by ca_file: the TLS check marks it down with the reason, and requests get 503', async () => {
  const line = await halb!.waitFor((l) => l.backend === 'wrongca' && typeof l.msg === 'string' && l.msg.includes('DOWN') && l.ok === false, 10_000);
  assert.match(String(line.reason), /^TLS handshake failed: .*(certificate|signature)/i);
  const r = await get('/wrongca');
  assert.equal(r.status, 503);
});

test('an http check over TLS reaches the server through a verified handshake with SNI', async () => {
  const deadline = Date.now() + 10_000;
  while (!seen.some((s) => s.server === 'checked' && s.path === '/health') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const check = seen.find((s) => s.server === 'checked' && s.path === '/health');
  assert.ok(check, 'the https server saw the health check');
  assert.equal(check.agent, 'halb-health-check');
  assert.equal(check.sni, 'srv.test');
  assert.deepEqual(await get('/checked'), { status: 200, body: 'hello from checked' });
  assert.ok(!halb!.lines.some((l) => l.backend === 'checked' && l.ok === false), 'no check of the good server failed');
});

test('a new connection to a server resumes its last TLS session', async () => {
  for (let i = 0; i < 4; i++) assert.deepEqual(await get('/closing'), { status: 200, body: 'hello from closing' });
  assert.equal(tlsConnections.get('closing'), 4, 'one connection per request');
  assert.deepEqual(seen.filter((s) => s.server === 'closing').map((s) => s.resumed), [false, true, true, true]);
});

test('an upgrade to a TLS server becomes a tunnel over TLS', async () => {
  const c = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => c.once('connect', resolve).once('error', reject));
  c.write('GET /chat HTTP/1.1\r\nHost: srv.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const head = await readUntil(c, (t) => t.includes('\r\n\r\n'));
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /x-sni: srv\.test/i);
  c.write('ping through tls');
  assert.equal(await readUntil(c, (t) => t.includes('ping through tls')), 'ping through tls');
  c.destroy();
});

function readUntil(s: net.Socket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (!done(text)) return;
      s.off('data', onData);
      resolve(text);
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

test('validate: an unreadable ca_file is refused with file:line', async () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    `frontends:
  web: { bind: ["127.0.0.1:1"], mode: http, default_backend: app }
backends:
  app:
    tls:
      ca_file: ${join(dir, 'missing.pem')}
    servers: [ { name: a, address: "127.0.0.1:2" } ]
`,
  );
  const r = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile(process.execPath, [HALB_MAIN, 'validate', '-c', file], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, out: stdout + stderr }),
    ),
  );
  assert.notEqual(r.code, 0);
  assert.match(r.out, new RegExp(`bad\\.yaml:6:\\d+.*ca_file .*missing\\.pem: cannot read: ENOENT`));
});
