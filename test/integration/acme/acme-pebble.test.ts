// ACME against a real CA: Debian's pebble, started here, validating through halb's own
// frontends on loopback. A certificate is obtained via HTTP-01 (the token answered by halb's
// workers), served without a restart, renewed before it expires, and a CA that is down is
// retried with backoff until it is back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHalb, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';
import { startPebble, type Pebble } from '../../helpers/pebble.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-acme-'));
let ca: TestCa;
let fallback = '';
let backend: http.Server;
let backendPort = 0;
const running: { halb: HalbProcess[]; pebble: Pebble[] } = { halb: [], pebble: [] };

before(async () => {
  ca = makeCa(dir);
  fallback = makeLeaf(ca, 'fallback', { names: ['fallback.test'] });
  backend = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(`backend saw ${req.url}`));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as { port: number }).port;
});

after(async () => {
  for (const h of running.halb) h.kill('SIGKILL');
  await Promise.all(running.pebble.map((p) => p.stop()));
  backend?.closeAllConnections();
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

function configText(o: { plain: number; site: number; directory: string; storage: string; domain: string; workers: number; challenge?: string }): string {
  return `global: { workers: ${o.workers}, log: { access: false } }
frontends:
  plain:
    bind: ["127.0.0.1:${o.plain}"]
    default_backend: app
  site:
    bind: ["127.0.0.1:${o.site}"]
    default_backend: app
    tls:
      acme:
        email: ops@example.com
        directory: "${o.directory}"
        domains: [${o.domain}]
        http_port: ${o.plain}
        challenge: ${o.challenge ?? 'http-01'}
        ca_file: ${ca.caFile}
        storage: ${o.storage}
        fallback_crt: ${fallback}
        retry_min: 500ms
        retry_max: 2s
backends:
  app: { servers: [ { name: a, address: "127.0.0.1:${backendPort}" } ] }
`;
}

interface Served {
  fingerprint: string;
  serial: string;
  names: string;
  authorized: boolean;
  authorizationError: string | undefined;
}

/** One handshake for `servername`, verified against `ca` (pebble's root). */
function served(port: number, servername: string, rootCa: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca: rootCa, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const c = s.getPeerX509Certificate();
      if (c === undefined) return reject(new Error('no certificate'));
      resolve({ fingerprint: c.fingerprint256, serial: c.serialNumber, names: c.subjectAltName ?? '', authorized: s.authorized, authorizationError: s.authorizationError?.toString() });
      s.end();
    });
    s.on('error', reject);
  });
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

const obtained = (l: Record<string, unknown>) => l.msg === 'acme: certificate obtained';

test('HTTP-01 through halb: obtained, served by every worker without a restart, renewed before expiry', async () => {
  const [plain, site] = [await freePort(), await freePort()];
  // 30 s certificates: renewal falls due after a third of that (renew_before 30d > lifetime)
  const pebble = await startPebble(ca, dir, { httpPort: plain, tlsPort: site, validitySeconds: 30 });
  running.pebble.push(pebble);
  const storage = join(dir, 'store-1');
  const file = join(dir, 'halb-1.yaml');
  writeFileSync(file, configText({ plain, site, directory: pebble.directory, storage, domain: 'www.acme.test', workers: 2 }));
  const halb = startHalb(['run', '-c', file]);
  running.halb.push(halb);
  await halb.waitFor((l) => l.msg === 'halb node started', 30_000);
  const first = await halb.waitFor(obtained, 60_000);
  const root = await pebble.root();

  // the CA's request came to the plain frontend, was answered there and reached no server
  const answered = halb.lines.filter((l) => l.msg === 'ACME http-01 challenge answered' && l.status === 200);
  assert.ok(answered.length >= 1, 'halb answered the http-01 challenge itself');
  assert.deepEqual(await get(plain, '/.well-known/acme-challenge/unknown-token'), { status: 404, body: 'no such ACME challenge token\n' });
  assert.equal((await get(plain, '/other')).body, 'backend saw /other');

  // both workers serve the obtained certificate (each handshake lands on either)
  for (let i = 0; i < 6; i++) {
    const s = await served(site, 'www.acme.test', root);
    assert.equal(s.fingerprint, first.fingerprint256, `handshake ${i}: the obtained certificate`);
    assert.equal(s.authorized, true, `handshake ${i}: verifies against pebble's root: ${s.authorizationError}`);
    assert.equal(s.names, 'DNS:www.acme.test');
  }
  const certFile = join(storage, 'www.acme.test.pem');
  assert.equal(statSync(certFile).mode & 0o777, 0o600);
  assert.equal(statSync(storage).mode & 0o777, 0o700);
  const accountKeys = (await import('node:fs')).readdirSync(storage).filter((n) => n.startsWith('account-'));
  assert.equal(accountKeys.length, 1);
  assert.equal(statSync(join(storage, accountKeys[0] as string)).mode & 0o777, 0o600);

  // renewal: a second order before the first certificate expires, then served in its place
  const second = await halb.waitFor((l) => obtained(l) && l.serial !== first.serial, 60_000);
  assert.ok(Date.parse(String(second.time)) < Date.parse(String(first.notAfter)), `renewed at ${String(second.time)}, before the first expired (${String(first.notAfter)})`);
  const renewedAt = halb.lines.indexOf(second);
  assert.ok(renewedAt > halb.lines.indexOf(first));
  const orderReason = halb.lines.filter((l) => l.msg === 'acme: ordering a certificate').map((l) => String(l.reason));
  assert.match(orderReason[0] ?? '', /no certificate held/);
  assert.match(orderReason[1] ?? '', /^renewal due /, 'the second order is the planned renewal, not a retry');
  for (let i = 0; i < 4; i++) assert.equal((await served(site, 'www.acme.test', root)).fingerprint, second.fingerprint256);

  halb.kill('SIGKILL');
  await halb.exited;
  await pebble.stop();
});

test('CA down: fallback served, orders retried with growing backoff, obtained once the CA is back', async () => {
  const [plain, site] = [await freePort(), await freePort()];
  const ports = { acme: await freePort(), management: await freePort(), dns: await freePort() };
  const storage = join(dir, 'store-2');
  const file = join(dir, 'halb-2.yaml');
  writeFileSync(file, configText({ plain, site, directory: `https://localhost:${ports.acme}/dir`, storage, domain: 'down.acme.test', workers: 1 }));
  const halb = startHalb(['run', '-c', file]);
  running.halb.push(halb);
  await halb.waitFor((l) => l.msg === 'halb node started', 30_000);
  await halb.waitFor((l) => l.msg === 'acme: no certificate held yet: serving the fallback certificate');
  const failed = (n: number) => (l: Record<string, unknown>) => l.msg === 'acme: order failed; retrying with backoff' && l.failures === n;
  const third = await halb.waitFor(failed(3), 30_000);
  assert.match(String(third.err), /^cannot reach the CA directory https:\/\/localhost:\d+\/dir: ECONNREFUSED$/);
  const s = await served(site, 'down.acme.test', ca.ca);
  assert.equal(s.names, 'DNS:fallback.test', 'the fallback certificate serves while none is obtained');
  assert.equal(s.authorizationError, 'ERR_TLS_CERT_ALTNAME_INVALID', 'a stand-in: valid, but not for the name');

  const pebble = await startPebble(ca, dir, { httpPort: plain, tlsPort: site, ports });
  running.pebble.push(pebble);
  const got = await halb.waitFor(obtained, 60_000);
  const root = await pebble.root();
  const now = await served(site, 'down.acme.test', root);
  assert.equal(now.fingerprint, got.fingerprint256);
  assert.equal(now.authorized, true, String(now.authorizationError));
  // each failure was logged with the count, and the retries stopped when the order went through
  const failures = halb.lines.filter((l) => l.msg === 'acme: order failed; retrying with backoff').map((l) => l.failures);
  assert.deepEqual(failures, failures.map((_, i) => i + 1));
  assert.ok(failures.length >= 3);
  halb.kill('SIGKILL');
  await pebble.stop();
});

test('TLS-ALPN-01: the TLS frontend answers acme-tls/1 with the challenge certificate in every worker', async () => {
  const [plain, site] = [await freePort(), await freePort()];
  const pebble = await startPebble(ca, dir, { httpPort: plain, tlsPort: site });
  running.pebble.push(pebble);
  const file = join(dir, 'halb-3.yaml');
  writeFileSync(file, configText({ plain, site, directory: pebble.directory, storage: join(dir, 'store-3'), domain: 'alpn.acme.test', workers: 2, challenge: 'tls-alpn-01' }));
  const halb = startHalb(['run', '-c', file]);
  running.halb.push(halb);
  const got = await halb.waitFor(obtained, 60_000);
  assert.ok(halb.lines.some((l) => l.msg === 'ACME tls-alpn-01 challenge answered' && l.servername === 'alpn.acme.test'), 'validated through halb\'s TLS frontend');
  assert.ok(!halb.lines.some((l) => l.msg === 'ACME http-01 challenge answered'), 'not over http-01');
  const root = await pebble.root();
  const s = await served(site, 'alpn.acme.test', root);
  assert.equal(s.fingerprint, got.fingerprint256);
  assert.equal(s.authorized, true, String(s.authorizationError));
  // with no validation under way, an acme-tls/1 handshake is refused, and ordinary clients are served
  await assert.rejects(
    new Promise((resolve, reject) => {
      const t = tls.connect({ host: '127.0.0.1', port: site, servername: 'alpn.acme.test', ALPNProtocols: ['acme-tls/1'], rejectUnauthorized: false }, () => resolve(t.alpnProtocol));
      t.on('error', reject);
    }),
  );
  assert.equal((await served(site, 'alpn.acme.test', root)).fingerprint, got.fingerprint256);
  halb.kill('SIGKILL');
  await pebble.stop();
});
