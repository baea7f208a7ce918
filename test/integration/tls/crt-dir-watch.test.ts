// A watched crt_dir through a real `halb run` with two workers: certificates added, replaced and
// removed there are served without a reload; a broken file is refused with file:line in the log
// while the set before it keeps serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, makeMismatched, type TestCa } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-crtdir-'));
const certs = join(dir, 'certs');
let ca: TestCa;
let halb: HalbProcess | undefined;
let backend: http.Server;
let port = 0;
const pem = {} as Record<'a' | 'a2' | 'b' | 'bad', string>;

before(async () => {
  ca = makeCa(dir);
  pem.a = makeLeaf(ca, 'a', { names: ['a.test'] });
  pem.a2 = makeLeaf(ca, 'a2', { names: ['a.test'] });
  pem.b = makeLeaf(ca, 'b', { names: ['b.test'] });
  pem.bad = makeMismatched(ca, 'bad', ['c.test']);
  mkdirSync(certs);
  copyFileSync(pem.a, join(certs, 'a.pem'));
  backend = http.createServer((_req, res) => res.end('hello'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  port = await freePort();
  const file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, `global: { workers: 2, log: { access: false } }
frontends:
  web:
    bind: ["127.0.0.1:${port}"]
    mode: http
    default_backend: app
    tls: { crt_dir: ${certs} }
backends:
  app: { servers: [ { name: a, address: "127.0.0.1:${(backend.address() as { port: number }).port}" } ] }
`);
});

after(() => {
  halb?.kill('SIGKILL');
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The certificate a handshake for `servername` is answered with: subject and fingerprint. */
function served(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca: ca.ca, checkServerIdentity: () => undefined }, () => {
      const c = s.getPeerX509Certificate();
      resolve(`${c?.subject ?? ''} ${c?.fingerprint256 ?? ''}`);
      s.end();
    });
    s.on('error', reject);
  });
}

/** Waits until 8 handshakes in a row (so both workers) satisfy `ok`. */
async function until(servername: string, ok: (got: string) => boolean): Promise<string> {
  let streak = 0;
  let last = '';
  for (let n = 0; n < 400 && streak < 8; n++) {
    last = await served(servername);
    streak = ok(last) ? streak + 1 : 0;
    if (streak === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(streak, 8, `last served for ${servername}: ${last}`);
  return last;
}

test('crt_dir: a file added is served without a reload, by every worker', async () => {
  assert.match(await served('b.test'), /^CN=a\.test /, 'b.test has no certificate yet: the default answers');
  // written elsewhere and renamed in, as deploy tools do
  copyFileSync(pem.b, join(dir, 'b.tmp'));
  renameSync(join(dir, 'b.tmp'), join(certs, 'b.pem'));
  await until('b.test', (g) => g.startsWith('CN=b.test '));
});

test('crt_dir: a broken file is refused with file:line, the set before it keeps serving; fixed, it serves', async () => {
  const h = halb!;
  const mark = h.lines.length;
  copyFileSync(pem.bad, join(certs, 'c.pem'));
  const refused = await h.waitFor((l) => h.lines.indexOf(l) >= mark && typeof l.msg === 'string' && l.msg.startsWith('crt_dir changed but a certificate cannot serve'), 15_000);
  assert.match(JSON.stringify(refused.errors), /halb\.yaml:7:\d+ frontends\.web\.tls\.crt_dir: [^"]*c\.pem: the private key does not match the certificate/);
  await until('b.test', (g) => g.startsWith('CN=b.test '));
  unlinkSync(join(certs, 'c.pem'));
  await h.waitFor((l) => h.lines.indexOf(l) >= mark && l.msg === 'crt_dir changed: new handshakes get the new certificates', 15_000);
  await until('b.test', (g) => g.startsWith('CN=b.test '));
});

test('crt_dir: a file replaced serves the new certificate; a file removed is no longer served', async () => {
  const before = await served('a.test');
  copyFileSync(pem.a2, join(certs, 'a.pem'));
  const after = await until('a.test', (g) => g.startsWith('CN=a.test ') && g !== before);
  assert.notEqual(after, before);
  unlinkSync(join(certs, 'b.pem'));
  await until('b.test', (g) => g === after);
});
